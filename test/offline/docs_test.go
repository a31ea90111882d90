package offline

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ml-platform/ml-platform/pkg/docgen"
	"github.com/ml-platform/ml-platform/pkg/render"
)

// The definitions reference (docs/reference.md) is generated from the CUE;
// this fails when a definition changed and `go run ./cmd/gendocs` was not run.
func TestReadmeReferenceIsGenerated(t *testing.T) {
	param, defs := referenceInputs(t)
	want, err := docgen.Reference(param, defs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(repoRoot, docgen.File))
	if err != nil {
		t.Fatal(err)
	}
	if want != string(got) {
		t.Fatalf("%s is stale: run `go run ./cmd/gendocs`", docgen.File)
	}
}

// referenceInputs loads what the reference is generated from: parameter.cue's
// text and the definitions.
func referenceInputs(t *testing.T) (string, []*render.Definition) {
	t.Helper()
	defs, err := render.LoadDefinitionDir(filepath.Join(repoRoot, "definitions"))
	if err != nil {
		t.Fatal(err)
	}
	param, err := os.ReadFile(filepath.Join(repoRoot, "parameter.cue"))
	if err != nil {
		t.Fatal(err)
	}
	return string(param), defs
}
