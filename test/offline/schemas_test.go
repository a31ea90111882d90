package offline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ml-platform/ml-platform/pkg/defcheck"
	"github.com/ml-platform/ml-platform/pkg/render"
)

// uiType is how VelaUX names a definition kind in ui-schema file names.
var uiType = map[string]string{
	render.KindComponent: "component", render.KindTrait: "trait",
	render.KindWorkflowStep: "workflowstep", render.KindPolicy: "policy",
}

// Every schemas/ file is named <type>-uischema-<definition> after a
// definition of ours (or is the addon's enable form), and every jsonKey in it
// exists in that definition's parameter; every user-facing definition has a form.
func TestSchemas(t *testing.T) {
	defs, err := render.LoadDefinitionDir(filepath.Join(repoRoot, "definitions"))
	if err != nil {
		t.Fatal(err)
	}
	byFile := map[string]*render.Definition{}
	for _, d := range defs {
		byFile[uiType[d.Kind]+"-uischema-"+d.Name+".yaml"] = d
	}
	files, err := os.ReadDir(filepath.Join(repoRoot, "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range files {
		name := f.Name()
		have[name] = true
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(repoRoot, "schemas", name))
			if err != nil {
				t.Fatal(err)
			}
			params, err := defcheck.ParseUISchema(data)
			if err != nil {
				t.Fatal(err)
			}
			var openAPI []byte
			if name == "addon-uischema-ml-platform.yaml" {
				openAPI, err = addonParameterSchema()
			} else {
				def := byFile[name]
				if def == nil {
					t.Fatalf("%s names no definition: name it <component|trait|workflowstep|policy>-uischema-<definition>.yaml", name)
				}
				openAPI, err = defcheck.OpenAPISchema(def)
			}
			if err != nil {
				t.Fatal(err)
			}
			unknown, err := defcheck.UnknownUIKeys(params, openAPI)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range unknown {
				t.Errorf("%s: jsonKey %q is not a parameter of the definition", name, k)
			}
		})
	}
	for file, d := range byFile {
		if d.Object.GetLabels()["custom.definition.oam.dev/ui-hidden"] == "true" {
			continue
		}
		if !have[file] {
			t.Errorf("user-facing definition %s has no form: add schemas/%s", d.Name, file)
		}
	}
}

// addonParameterSchema converts parameter.cue to OpenAPI the way the addon's
// enable form is built.
func addonParameterSchema() ([]byte, error) {
	src, err := os.ReadFile(filepath.Join(repoRoot, "parameter.cue"))
	if err != nil {
		return nil, err
	}
	return defcheck.OpenAPISchema(&render.Definition{Name: "ml-platform addon", Template: strings.TrimSpace(string(src))})
}
