package render

import (
	"encoding/json"
	"reflect"
	"testing"
)

// Kubernetes values in any pod spec of the properties are checked as the
// API server checks them, at the user's path; values that are fine, and
// objects without containers, are left alone.
func TestCheckPodSpecs(t *testing.T) {
	props := `{
	  "roles": {"Worker": {"template": {"spec": {
	    "initContainers": [{"name": "init", "resources": {"limits": {"cpu": 1}}}],
	    "containers": [
	      {"name": "tensorflow", "ports": [{"containerPort": 2222}, {"containerPort": 0}, {"containerPort": 80, "hostPort": 70000}],
	       "env": [{"name": "MODEL_DIR"}, {"name": "1=x"}],
	       "resources": {"requests": {"cpu": "two", "memory": "8Gi", "nvidia.com/gpu": 1}, "limits": {"memory": "4Gi", "cpu": "-1"}}},
	      {"name": "Side_Car"}],
	    "volumes": [{"name": "data"}, {"name": "Bad.Volume"}]}}}},
	  "notAPod": {"name": "Not_Checked", "env": [{"name": "1=x"}]}
	}`
	got := map[string]string{}
	for _, p := range checkPodSpecs("component \"c\" (t)", json.RawMessage(props)) {
		got[p.Path] = p.Message
	}
	const spec = "properties.roles.Worker.template.spec"
	dns := "must be a DNS label (at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit), got "
	want := map[string]string{
		spec + ".containers[0].ports[1].containerPort":    "must be a port number from 1 to 65535, got 0",
		spec + ".containers[0].ports[2].hostPort":         "must be a port number from 1 to 65535, got 70000",
		spec + ".containers[0].env[1].name":               `must be an environment variable name (letters, digits, '_', '-' and '.', not starting with a digit), got "1=x"`,
		spec + ".containers[0].resources.requests.cpu":    `must be a quantity such as 500m, 2 or 1Gi, got "two"`,
		spec + ".containers[0].resources.requests.memory": "must not exceed the limit 4Gi, got 8Gi",
		spec + ".containers[0].resources.limits.cpu":      "must be 0 or more, got -1",
		spec + ".containers[1].name":                      dns + `"Side_Car"`,
		spec + ".volumes[1].name":                         dns + `"Bad.Volume"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}
