package render_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ml-platform/ml-platform/pkg/render"
)

const decodeApp = `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: x
spec:
  components:
    - name: a
      type: webservice
      properties:
        image: nginx
        anyKey: kept
    - name: b
      type: webservice
      properties: {image: nginx}
      traits:
        - name: scaler
          type: scaler
          properties: {replicas: 2}
        - type: labels
  workflow:
    steps:
      - name: s
        type: suspend
`

// A trait's name is dropped by KubeVela's API: accepted, with a warning
// naming its path, and left out of the Application.
func TestParseApplicationWarnsAboutKeysKubeVelaIgnores(t *testing.T) {
	app, warnings, err := render.ParseApplication([]byte(decodeApp))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"spec.components[1].traits[0].name: ignored by KubeVela (a trait has only a type and properties)"}
	if !reflect.DeepEqual(warnings, want) {
		t.Errorf("warnings = %q, want %q", warnings, want)
	}
	if got := app.Spec.Components[1].Traits[0].Type; got != "scaler" {
		t.Errorf("trait type = %q", got)
	}
	if !strings.Contains(string(app.Spec.Components[0].Properties.Raw), `"anyKey":"kept"`) {
		t.Errorf("properties lost a key: %s", app.Spec.Components[0].Properties.Raw)
	}
}

// Every other decoding problem is an error naming its path; all are listed.
func TestParseApplicationNamesThePathOfEveryProblem(t *testing.T) {
	cases := map[string]struct {
		from, to string
		want     []string
	}{
		"component key": {"      properties: {image: nginx}", "      propertes: {image: nginx}",
			[]string{`spec.components[1].propertes: unknown field (did you mean "properties"?)`}},
		"top-level key": {"kind: Application", "kind: Application\nstatuss: {}",
			[]string{"not a valid Application: statuss: unknown field"}},
		"spec key": {"  workflow:", "  workflows:",
			[]string{`spec.workflows: unknown field (did you mean "workflow"?)`}},
		"step key": {"        type: suspend", "        type: suspend\n        dependOn: [x]",
			[]string{`spec.workflow.steps[0].dependOn: unknown field (did you mean "dependsOn"?)`}},
		"trait key": {"        - type: labels", "        - type: labels\n          dependsOn: [a]",
			[]string{"spec.components[1].traits[1].dependsOn: unknown field"}},
		"case matters": {"  components:", "  Components:",
			[]string{`spec.Components: unknown field (did you mean "components"?)`}},
		"metadata key": {"  name: x", "  name: x\n  nmae: y",
			[]string{"metadata.nmae: unknown field"}},
		"wrong kind": {"        - type: labels", "        - labels",
			[]string{`spec.components[1].traits[1]: must be an object, got the string "labels"`}},
		"two problems": {"      type: webservice\n      properties:\n", "      typ: webservice\n      property:\n",
			[]string{"not a valid Application:\n  - ", `spec.components[0].property: unknown field`, `spec.components[0].typ: unknown field (did you mean "type"?)`}},
		"not an Application": {"kind: Application", "kind: Component",
			[]string{`not an Application: kind is "Component"`}},
		"duplicate key": {"  name: x", "  name: x\n  name: y",
			[]string{`not a valid Application`, `"name" already set`}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			bad := strings.Replace(decodeApp, c.from, c.to, 1)
			if bad == decodeApp {
				t.Fatal("case did not change the app")
			}
			_, _, err := render.ParseApplication([]byte(bad))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
