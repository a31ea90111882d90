package bench

import (
	"context"
	"testing"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// controllerRender is KubeVela's own component rendering (the dry-run
// code path of the application controller) over the renderer's
// definitions, without the offline renderer's property validation, which
// vela-core does not do: render.Renderer.DryRun. Workflow steps are not run
// by either.
type controllerRender struct{ r *render.Renderer }

func newControllerRender(tb testing.TB, f *fixture) *controllerRender {
	tb.Helper()
	return &controllerRender{r: f.r}
}

func (c *controllerRender) render(tb testing.TB, app *v1beta1.Application) {
	if _, err := c.r.DryRun(context.Background(), app); err != nil {
		tb.Fatal(err)
	}
}

// controllerSides are the sides of vela-core's code path: the pipeline,
// the pipeline without its traits (arms-metrics and arms-logging, and the
// ConfigMap arms-metrics emits) to show what they cost, and the webservice
// baseline.
func (f *fixture) controllerSides(tb testing.TB) []side {
	c := newControllerRender(tb, f)
	var sides []side
	for _, v := range []struct {
		name string
		app  *v1beta1.Application
	}{{"pipeline", f.pipeline}, {"pipeline-without-traits", withoutTraits(f.pipeline)}, {"webservice", f.webservices}} {
		app := v.app.DeepCopy()
		if app.Namespace == "" {
			app.Namespace = "default"
		}
		res, err := f.r.Render(context.Background(), app)
		if err != nil {
			tb.Fatal(err)
		}
		sides = append(sides, side{v.name, len(res.Objects), func(tb testing.TB) { c.render(tb, app) }})
	}
	return sides
}

// BenchmarkControllerRender is BenchmarkRender without the offline
// renderer's validation of properties and workflow steps: what vela-core
// pays to render the components on every reconcile, each side alone.
func BenchmarkControllerRender(b *testing.B) {
	f := setUp(b)
	for _, s := range f.controllerSides(b) {
		b.Run(s.name, func(b *testing.B) { benchSide(b, s) })
	}
}

// withoutTraits returns a copy of app whose components have no traits.
func withoutTraits(app *v1beta1.Application) *v1beta1.Application {
	out := app.DeepCopy()
	for i := range out.Spec.Components {
		out.Spec.Components[i].Traits = nil
	}
	return out
}
