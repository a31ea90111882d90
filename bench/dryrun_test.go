package bench

import (
	"context"
	"testing"
	"time"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// controllerRender is KubeVela's own component rendering (the dry-run
// code path of the application controller) over the renderer's
// definitions, without the offline renderer's property validation, which
// vela-core does not do: render.Renderer.DryRun. Workflow steps are not run
// by either.
type controllerRender struct{ r *render.Renderer }

func newControllerRender(b *testing.B, f *fixture) *controllerRender {
	b.Helper()
	return &controllerRender{r: f.r}
}

func (c *controllerRender) render(b *testing.B, app *v1beta1.Application) {
	if _, err := c.r.DryRun(context.Background(), app); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkControllerRenderRatio is BenchmarkRenderRatio without the
// offline renderer's validation of properties and workflow steps: the cost
// per emitted object that vela-core pays to render the components on every
// reconcile, ours over the built-in webservice's. "without-traits" drops
// the pipeline's arms-metrics and arms-logging traits (and the ConfigMap
// arms-metrics emits) to show what they cost.
func BenchmarkControllerRenderRatio(b *testing.B) {
	f := setUp(b)
	c := newControllerRender(b, f)
	noTraits := withoutTraits(f.pipeline)
	for _, v := range []struct {
		name string
		app  *v1beta1.Application
	}{{"pipeline", f.pipeline}, {"without-traits", noTraits}} {
		app := v.app.DeepCopy()
		if app.Namespace == "" {
			app.Namespace = "default"
		}
		res, err := f.r.Render(context.Background(), app)
		if err != nil {
			b.Fatal(err)
		}
		objects := len(res.Objects)
		b.Run(v.name, func(b *testing.B) {
			var ours, theirs time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				c.render(b, app)
				t1 := time.Now()
				c.render(b, f.webservices)
				ours += t1.Sub(t0)
				theirs += time.Since(t1)
			}
			perOurs := float64(ours.Nanoseconds()) / float64(b.N) / float64(objects)
			perTheirs := float64(theirs.Nanoseconds()) / float64(b.N) / float64(f.webserviceObjects)
			b.ReportMetric(float64(objects), "objects")
			b.ReportMetric(perOurs, "ours-ns/object")
			b.ReportMetric(perTheirs, "webservice-ns/object")
			b.ReportMetric(perOurs/perTheirs, "ratio")
		})
	}
}

// BenchmarkControllerRender is each side of BenchmarkControllerRenderRatio
// on its own, so that allocs/op splits into ours and the webservice
// baseline's (the ratio benchmark's allocs/op is their sum).
func BenchmarkControllerRender(b *testing.B) {
	f := setUp(b)
	c := newControllerRender(b, f)
	noTraits := withoutTraits(f.pipeline)
	for _, v := range []struct {
		name string
		app  *v1beta1.Application
	}{{"pipeline", f.pipeline}, {"without-traits", noTraits}, {"webservice", f.webservices}} {
		app := v.app.DeepCopy()
		if app.Namespace == "" {
			app.Namespace = "default"
		}
		b.Run(v.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				c.render(b, app)
			}
		})
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
