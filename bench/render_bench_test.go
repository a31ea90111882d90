// Package bench measures what the addon's definitions cost to render,
// against KubeVela's built-in webservice emitting the same workload objects.
//
//	make bench   (go test -run '^$' -bench . -benchmem ./bench/)
package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"

	"github.com/ml-platform/ml-platform/pkg/render"
)

const pipelineExample = "../examples/pipeline/app.yaml"

func TestMain(m *testing.M) {
	klog.SetLogger(logr.Discard())
	os.Exit(m.Run())
}

type fixture struct {
	r                     *render.Renderer
	pipeline, webservices *v1beta1.Application
	pipelineObjects       int
	webserviceObjects     int
}

func setUp(b *testing.B) *fixture {
	b.Helper()
	if _, err := os.Stat(pipelineExample); err != nil {
		b.Skip("no pipeline example yet: ", err)
	}
	r, err := render.NewFromDir(filepath.Join("..", "definitions"))
	if err != nil {
		b.Fatal(err)
	}
	pipeline, err := render.ReadApplication(pipelineExample)
	if err != nil {
		b.Fatal(err)
	}
	res, err := r.Render(context.Background(), pipeline)
	if err != nil {
		b.Fatal(err)
	}
	baseline := WebserviceBaseline(res)
	bres, err := r.Render(context.Background(), baseline)
	if err != nil {
		b.Fatal(err)
	}
	return &fixture{r: r, pipeline: pipeline, webservices: baseline,
		pipelineObjects: len(res.Objects), webserviceObjects: len(bres.Objects)}
}

// BenchmarkRenderPipeline renders the spec's pipeline Application.
func BenchmarkRenderPipeline(b *testing.B) {
	f := setUp(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.r.Render(context.Background(), f.pipeline); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(f.pipelineObjects), "ns/object")
	b.ReportMetric(float64(f.pipelineObjects), "objects")
}

// BenchmarkRenderWebserviceBaseline renders built-in webservice components
// emitting as many Deployments, Services and HPAs as the pipeline does.
func BenchmarkRenderWebserviceBaseline(b *testing.B) {
	f := setUp(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.r.Render(context.Background(), f.webservices); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(f.webserviceObjects), "ns/object")
	b.ReportMetric(float64(f.webserviceObjects), "objects")
}

// BenchmarkRenderRatio renders both in turn and reports the cost per
// emitted object of ours over the baseline's (goal: <= 1.0).
func BenchmarkRenderRatio(b *testing.B) {
	f := setUp(b)
	var ours, theirs time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := f.r.Render(context.Background(), f.pipeline); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := f.r.Render(context.Background(), f.webservices); err != nil {
			b.Fatal(err)
		}
		ours += t1.Sub(t0)
		theirs += time.Since(t1)
	}
	perOurs := float64(ours.Nanoseconds()) / float64(b.N) / float64(f.pipelineObjects)
	perTheirs := float64(theirs.Nanoseconds()) / float64(b.N) / float64(f.webserviceObjects)
	b.ReportMetric(perOurs, "ours-ns/object")
	b.ReportMetric(perTheirs, "webservice-ns/object")
	b.ReportMetric(perOurs/perTheirs, "ratio")
}

// WebserviceBaseline builds an Application of built-in webservice components
// with as many Deployments, Services and HPAs as a rendered app has.
func WebserviceBaseline(res *render.Result) *v1beta1.Application {
	deploys, services, hpas := len(res.ByKind("Deployment")), len(res.ByKind("Service")), len(res.ByKind("HorizontalPodAutoscaler"))
	app := &v1beta1.Application{}
	app.APIVersion, app.Kind = "core.oam.dev/v1beta1", "Application"
	app.Name, app.Namespace = "webservice-baseline", "default"
	// One webservice per Deployment, exposing a Service while the rendered
	// app has more; the per-object ratio accounts for any difference left.
	for i := 0; i < deploys; i++ {
		props := `{"image":"nginx:1.25","ports":[{"port":8501,"expose":` + fmt.Sprint(i < services) + `}]}`
		c := componentJSON(fmt.Sprintf("web-%d", i), props)
		if i < hpas {
			c.Traits = append(c.Traits, traitJSON("hpa", `{"min":1,"max":10,"cpu":{"type":"Utilization","value":80}}`))
		}
		app.Spec.Components = append(app.Spec.Components, c)
	}
	return app
}
