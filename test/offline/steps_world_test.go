package offline

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ml-platform/ml-platform/pkg/render"
	"github.com/ml-platform/ml-platform/pkg/render/stepworld"
)

// stepWorld is the step tables' world (pkg/render/stepworld: the steps
// executed offline as vela-core v1.11 executes them) with the test it runs
// in, for the tables' assertions (wantApplied).
type stepWorld struct {
	*stepworld.World
	t testing.TB
}

// definitionsTB is a testing.TB that runs the steps against other
// definitions than the addon's (the mutation test's copies).
type definitionsTB interface {
	stepDefinitions() (*render.Renderer, string)
}

// newStepWorld is stepworld.New with the addon's definitions, or those of
// the mutant t runs (definitionsTB).
func newStepWorld(t testing.TB, appYAML string, objs ...client.Object) *stepWorld {
	t.Helper()
	defs, dir := addonRenderer(t), definitionsDir()
	if d, ok := t.(definitionsTB); ok {
		defs, dir = d.stepDefinitions()
	}
	return &stepWorld{World: stepworld.New(t, defs, dir, appYAML, objs...), t: t}
}
