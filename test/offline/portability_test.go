package offline

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ml-platform/ml-platform/pkg/defcheck"
)

// TestDefinitionsPortable keeps the definitions and the shared CUE helpers
// to what KubeVela 1.9, 1.10 and 1.11 all evaluate the same way (the rules
// and their own tests are in pkg/defcheck).
func TestDefinitionsPortable(t *testing.T) {
	var files []string
	for _, glob := range []string{"definitions/*.cue", "cue/*.cue", "*.cue", "resources/*.cue"} {
		matches, err := filepath.Glob(filepath.Join(repoRoot, glob))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	if len(files) < 10 {
		t.Fatalf("found only %d CUE files", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(repoRoot, f)
		problems, err := defcheck.PortabilityProblems(rel, src)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, p := range problems {
			t.Error(p)
		}
		if filepath.Dir(rel) == "definitions" {
			problems, err = defcheck.ContractProblems(rel, src)
			if err != nil {
				t.Error(err)
				continue
			}
			for _, p := range problems {
				t.Error(p)
			}
		}
	}
}
