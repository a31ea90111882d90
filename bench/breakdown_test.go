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
