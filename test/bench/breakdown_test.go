package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/common"
	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"
)

// BenchmarkRenderBreakdown splits the render cost of the pipeline and of
// its webservice baseline into the offline renderer's property validation
// (which vela-core does not do) and the whole render, per component: each
// sub-benchmark renders an Application holding that one component (and
// its traits) and no workflow. "workflow-steps" validates only the
// pipeline's workflow steps. Use it with -cpuprofile to find what
// dominates.
func BenchmarkRenderBreakdown(b *testing.B) {
	f := setUp(b)
	for _, set := range []struct {
		name string
		app  *v1beta1.Application
	}{{"pipeline", f.pipeline}, {"webservice", f.webservices}} {
		for _, c := range set.app.Spec.Components {
			single := set.app.DeepCopy()
			single.Spec.Components = []common.ApplicationComponent{c}
			single.Spec.Workflow = nil
			res, err := f.r.Render(context.Background(), single)
			if err != nil {
				b.Fatal(err)
			}
			objects := float64(len(res.Objects))
			b.Run(fmt.Sprintf("%s/%s(%s)/validate", set.name, c.Name, c.Type), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if err := f.r.Validate(single); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(objects, "objects")
			})
			b.Run(fmt.Sprintf("%s/%s(%s)/render", set.name, c.Name, c.Type), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if _, err := f.r.Render(context.Background(), single); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(objects, "objects")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/objects, "ns/object")
			})
		}
	}
	steps := f.pipeline.DeepCopy()
	steps.Spec.Components = nil
	b.Run("pipeline/workflow-steps/validate", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := f.r.Validate(steps); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTraitBreakdown renders the pipeline's two-predictor serving
// component (my-tfserving-prod) alone with each trait in turn, to measure
// what a trait adds: compare allocs/op with "none"; the built-in labels and
// annotations traits are the reference. "render" is the offline renderer
// (property validation, then KubeVela's dry-run), "controller" KubeVela's
// dry-run alone, what vela-core does on every reconcile. Allocation counts
// are exact, times depend on the machine's load:
//
//	go test -run '^$' -bench TraitBreakdown -benchtime 20x -benchmem ./test/bench/
func BenchmarkTraitBreakdown(b *testing.B) {
	f := setUp(b)
	var prod *common.ApplicationComponent
	for i, c := range f.pipeline.Spec.Components {
		if c.Name == "my-tfserving-prod" {
			prod = &f.pipeline.Spec.Components[i]
		}
	}
	if prod == nil {
		b.Skip("the pipeline has no my-tfserving-prod component")
	}
	for _, v := range []struct {
		name   string
		traits []common.ApplicationTrait
	}{
		{"none", nil},
		{"labels", []common.ApplicationTrait{traitJSON("labels", `{"team":"ml"}`)}},
		{"annotations", []common.ApplicationTrait{traitJSON("annotations", `{"team":"ml"}`)}},
		{"arms-logging", []common.ApplicationTrait{traitJSON("arms-logging", `{}`)}},
		{"arms-metrics", []common.ApplicationTrait{traitJSON("arms-metrics", `{}`)}},
		{"arms-both", prod.Traits},
	} {
		app := f.pipeline.DeepCopy()
		c := *prod.DeepCopy()
		c.Traits = v.traits
		app.Spec.Components = []common.ApplicationComponent{c}
		app.Spec.Workflow = nil
		if app.Namespace == "" {
			app.Namespace = "default"
		}
		res, err := f.r.Render(context.Background(), app)
		if err != nil {
			b.Fatal(err)
		}
		objects := float64(len(res.Objects))
		b.Run(v.name+"/render", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := f.r.Render(context.Background(), app); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(objects, "objects")
		})
		b.Run(v.name+"/controller", func(b *testing.B) {
			cr := newControllerRender(b, f)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cr.render(b, app)
			}
			b.ReportMetric(objects, "objects")
		})
	}
}
