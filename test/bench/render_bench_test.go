// Package bench measures what the addon's definitions cost to render,
// against KubeVela's built-in webservice emitting the same workload objects.
//
// Each side is measured alone: BenchmarkRender and BenchmarkControllerRender
// have one sub-benchmark per side ("pipeline", "webservice", ...), each
// starting from a collected heap, so that allocs/op, B/op and ns/op are that
// side's and no side pays for the garbage of the other. The ratio (ours over
// the baseline, per emitted object) is derived from the separate sides, never
// timed in one operation that renders both: TestRenderRatio prints it.
//
//	make bench   (go test -run '^$' -bench . -benchmem ./test/bench/)
//	go test -run '^$' -bench 'Render$' -benchmem -count 5 ./test/bench/
//	BENCH_RATIO=3 go test -run TestRenderRatio -v -timeout 30m ./test/bench/
package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
	"sigs.k8s.io/yaml"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"

	"github.com/ml-platform/ml-platform/pkg/render"
)

const pipelineExample = "../../examples/pipeline/app.yaml"

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

func setUp(tb testing.TB) *fixture {
	tb.Helper()
	if _, err := os.Stat(pipelineExample); err != nil {
		tb.Skip("no pipeline example yet: ", err)
	}
	r, err := render.NewFromDir(filepath.Join("..", "..", "definitions"))
	if err != nil {
		tb.Fatal(err)
	}
	pipeline, err := readApplication(pipelineExample)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := r.Render(context.Background(), pipeline)
	if err != nil {
		tb.Fatal(err)
	}
	baseline := WebserviceBaseline(res)
	bres, err := r.Render(context.Background(), baseline)
	if err != nil {
		tb.Fatal(err)
	}
	return &fixture{r: r, pipeline: pipeline, webservices: baseline,
		pipelineObjects: len(res.Objects), webserviceObjects: len(bres.Objects)}
}

// readApplication decodes an Application file strictly.
func readApplication(path string) (*v1beta1.Application, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	app := &v1beta1.Application{}
	if err := yaml.UnmarshalStrict(data, app); err != nil {
		return nil, fmt.Errorf("%s: not a valid Application: %w", path, err)
	}
	return app, nil
}

// side is one thing rendered on its own: the pipeline, the webservice
// baseline, or a variant of either.
type side struct {
	name    string
	objects int
	render  func(testing.TB)
}

// benchSide is the body of one side's sub-benchmark: the heap is collected
// with the timer stopped, so the side pays only for its own garbage, and
// allocations are reported per render and per emitted object.
// timeLoop times b.N runs of body alone: what came before (fixtures, a
// garbage collection) is outside the timer, allocations are reported.
func timeLoop(b *testing.B, body func()) {
	b.StopTimer()
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	b.StartTimer()
	for i := 0; i < b.N; i++ {
		body()
	}
	b.StopTimer()
}

func benchSide(b *testing.B, s side) {
	timeLoop(b, func() { s.render(b) })
	b.ReportMetric(float64(s.objects), "objects")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(s.objects), "ns/object")
}

// offlineSides are the offline renderer's sides (pkg/render: property
// validation of every component, trait and workflow step, then KubeVela's
// dry-run).
func (f *fixture) offlineSides() []side {
	renderApp := func(app *v1beta1.Application) func(testing.TB) {
		return func(tb testing.TB) {
			if _, err := f.r.Render(context.Background(), app); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return []side{
		{"pipeline", f.pipelineObjects, renderApp(f.pipeline)},
		{"webservice", f.webserviceObjects, renderApp(f.webservices)},
	}
}

// BenchmarkRender renders, each side alone, the spec's pipeline Application
// (examples/pipeline/app.yaml) and the built-in webservice components
// emitting as many Deployments, Services and HPAs (WebserviceBaseline), with
// the offline renderer.
func BenchmarkRender(b *testing.B) {
	f := setUp(b)
	for _, s := range f.offlineSides() {
		b.Run(s.name, func(b *testing.B) { benchSide(b, s) })
	}
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
