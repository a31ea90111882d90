package offline

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ml-platform/ml-platform/pkg/docgen"
	"github.com/ml-platform/ml-platform/pkg/render"
)

// The README's definitions reference is generated from the CUE; this fails
// when a definition changed and `go run ./hack/gendocs` was not run.
func TestReadmeReferenceIsGenerated(t *testing.T) {
	defs, err := render.LoadDefinitionDir(filepath.Join(repoRoot, "definitions"))
	if err != nil {
		t.Fatal(err)
	}
	param, err := os.ReadFile(filepath.Join(repoRoot, "parameter.cue"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := docgen.Reference(string(param), defs)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := docgen.Splice(string(readme), ref)
	if err != nil {
		t.Fatal(err)
	}
	if want != string(readme) {
		t.Fatal("README.md's definitions reference is stale: run `go run ./hack/gendocs`")
	}
}
