package offline

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ml-platform/ml-platform/pkg/defcheck"
	"github.com/ml-platform/ml-platform/pkg/render"
)

// Every definition file parses with KubeVela's loader (what `vela def vet`
// and `vela addon enable` do), is named after its definition, describes
// itself, documents every parameter, compiles and validates, and converts to
// the OpenAPI schema VelaUX builds its form from.
func TestDefinitions(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "definitions", "*.cue"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no definitions yet")
	}
	for _, f := range files {
		f := f
		t.Run(filepath.Base(f), func(t *testing.T) {
			def, err := render.LoadDefinitionFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.TrimSuffix(filepath.Base(f), ".cue"); def.Name != want {
				t.Errorf("file %s defines %q: name the file after its definition", filepath.Base(f), def.Name)
			}
			if strings.TrimSpace(def.Description) == "" {
				t.Errorf("%s has no description", def.Name)
			}
			if err := defcheck.Compile(def); err != nil {
				t.Error(err)
			}
			missing, err := defcheck.UndocumentedFields(def)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range missing {
				t.Errorf("%s: field %s has no `// +usage=` comment", def.Name, m)
			}
			if _, err := defcheck.OpenAPISchema(def); err != nil {
				t.Error(err)
			}
			if def.Kind == render.KindWorkflowStep {
				hidden, err := defcheck.StepHiddenFields(def)
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range hidden {
					t.Errorf("%s: hidden field %s at the top of the step (or of an op.#Steps block) makes the step fail at run time "+
						"in vela 1.9 (\"invalid path: hidden label not allowed\"): use a regular field name", def.Name, h)
				}
			}
		})
	}
}
