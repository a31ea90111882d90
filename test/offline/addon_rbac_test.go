package offline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ml-platform/ml-platform/pkg/crdgen"
)

// operatorRBACSources are the files of the training operator module whose
// kubebuilder RBAC markers state what the operator with --enable-scheme=tfjob
// calls: the TFJob reconciler and the webhook certificate rotator.
var operatorRBACSources = []string{
	"pkg/controller.v1/tensorflow/tfjob_controller.go",
	"pkg/cert/cert.go",
}

// operatorRBACDropped are the permissions of those markers the addon does not
// grant, with the reason (resources/training-operator/rbac.cue).
var operatorRBACDropped = map[string]string{
	"kubeflow.org/tfjobs/create": "the operator never creates TFJobs; KubeVela does",
	"/events/delete":             "the operator only records events",
}

var rbacMarker = regexp.MustCompile(`\+kubebuilder:rbac:groups=("[^"]*"|[^,]*),resources=([^,]*),verbs=([^\s,]*)`)

// The addon's Roles grant every permission the operator release it installs
// (crdgen.Version, read from the module cache) declares for the TFJob
// reconciler and the certificate rotator, but the documented drops (a grant
// limited to the operator's own object by resourceNames counts): a new
// release that needs more fails here, not in a cluster.
func TestAddonRBACCoversOperatorMarkers(t *testing.T) {
	dir, err := crdgen.ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	comps := addonComponents(t, renderAddon(t, nil))
	granted := map[string]bool{}
	for _, kind := range []string{"ClusterRole", "Role"} {
		obj, _ := findObject(t, comps, kind, "ml-platform-training-operator")
		if obj == nil {
			t.Fatalf("no %s ml-platform-training-operator", kind)
		}
		b, _ := json.Marshal(obj.Object["rules"])
		var rules []struct {
			APIGroups []string `json:"apiGroups"`
			Resources []string `json:"resources"`
			Verbs     []string `json:"verbs"`
		}
		if err := json.Unmarshal(b, &rules); err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					for _, v := range r.Verbs {
						granted[g+"/"+res+"/"+v] = true
					}
				}
			}
		}
	}
	markers := 0
	for _, f := range operatorRBACSources {
		src, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range rbacMarker.FindAllStringSubmatch(string(src), -1) {
			markers++
			group := strings.Trim(m[1], `"`)
			for _, res := range strings.Split(m[2], ";") {
				for _, verb := range strings.Split(m[3], ";") {
					key := group + "/" + res + "/" + verb
					if granted[key] || operatorRBACDropped[key] != "" {
						continue
					}
					t.Errorf("%s@%s %s needs %s (group %q), which the addon's Roles do not grant", crdgen.Module, crdgen.Version, f, res+" "+verb, group)
				}
			}
		}
	}
	if markers < 10 {
		t.Fatalf("found %d RBAC markers in %v of %s@%s; the files moved?", markers, operatorRBACSources, crdgen.Module, crdgen.Version)
	}
	for key, why := range operatorRBACDropped {
		if granted[key] {
			t.Errorf("%s is granted although the addon drops it (%s)", key, why)
		}
	}
}
