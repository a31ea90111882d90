package offline

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ml-platform/ml-platform/pkg/render"
)

const (
	specVerbatimExample = "examples/pipeline/spec-verbatim.yaml"
	pipelineAppExample  = "examples/pipeline/app.yaml"
)

// The spec's pipeline Application, word for word, renders: its traits'
// names, which KubeVela's API does not have, are one warning each, and what
// is left is examples/pipeline/app.yaml's Application.
func TestSpecVerbatimPipelineRendersWithOneWarningPerDroppedKey(t *testing.T) {
	app, warnings, err := render.ReadApplication(filepath.Join(repoRoot, specVerbatimExample))
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "warnings", warnings, []string{
		"spec.components[1].traits[0].name: ignored by KubeVela (a trait has only a type and properties)",
		"spec.components[1].traits[1].name: ignored by KubeVela (a trait has only a type and properties)",
	})
	res := renderFile(t, specVerbatimExample)
	if len(res.Objects) == 0 {
		t.Fatal("rendered no objects")
	}
	example, exampleWarnings, err := render.ReadApplication(filepath.Join(repoRoot, pipelineAppExample))
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "warnings of "+pipelineAppExample, len(exampleWarnings), 0)
	got, _ := json.Marshal(app.Spec)
	want, _ := json.Marshal(example.Spec)
	var g, w interface{}
	_ = json.Unmarshal(got, &g)
	_ = json.Unmarshal(want, &w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("the spec's Application differs from %s:\n%s\nwant\n%s", pipelineAppExample, got, want)
	}
}
