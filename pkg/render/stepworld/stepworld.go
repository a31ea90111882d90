// Package stepworld executes an addon's workflow steps offline the way
// vela-core v1.11 executes them: kubevela/workflow's task runner compiles the
// step template with a CueX compiler holding KubeVela's provider packages,
// whose legacy `vela/op` package has the real provider functions (kube,
// builtin, util, oam, multicluster, ...) over a fake client. What the
// application controller supplies to them is supplied here: the Application
// and its Appfile (#Load, #LoadPolicies, #GetPlacementsFromTopologyPolicies),
// the dispatcher (#Apply, #Delete) and the ComponentApply/ComponentRender
// callbacks of #ApplyComponent, which render the component with the given
// definitions (a render.Renderer), write its objects to the fake client and
// evaluate its health the way vela-core does.
//
// Each World.Run is one reconcile of the step; tests change object statuses
// between runs (World.SetStatus) the way controllers and kubelets would. Like
// controller-runtime's envtest helpers, the package takes a testing.TB and
// fails it on errors; it is the harness of test/offline's step tables, the
// mutation test and test/bench's step benchmark.
package stepworld

import (
	"context"
	"hash/fnv"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"cuelang.org/go/cue"
	oamv1alpha1 "github.com/kubevela/pkg/apis/oam/v1alpha1"
	"github.com/kubevela/pkg/cue/cuex"
	cuexruntime "github.com/kubevela/pkg/cue/cuex/runtime"
	monitorContext "github.com/kubevela/pkg/monitor/context"
	"github.com/kubevela/pkg/util/singleton"
	"github.com/kubevela/workflow/api/v1alpha1"
	wfContext "github.com/kubevela/workflow/pkg/context"
	providertypes "github.com/kubevela/workflow/pkg/providers/types"
	"github.com/kubevela/workflow/pkg/tasks/custom"
	wftypes "github.com/kubevela/workflow/pkg/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"
	"github.com/oam-dev/kubevela/pkg/appfile"
	velaprocess "github.com/oam-dev/kubevela/pkg/cue/process"
	"github.com/oam-dev/kubevela/pkg/cue/upgrade"
	"github.com/oam-dev/kubevela/pkg/oam"
	"github.com/oam-dev/kubevela/pkg/workflow/providers"
	"github.com/oam-dev/kubevela/pkg/workflow/providers/legacy"
	oamprovidertypes "github.com/oam-dev/kubevela/pkg/workflow/providers/types"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// GVKTFJob is the Kubeflow training operator's TFJob, which the world's
// fake cluster knows (as unstructured objects) besides client-go's types.
var GVKTFJob = schema.GroupVersionKind{Group: "kubeflow.org", Version: "v1", Kind: "TFJob"}

// AppliedComponent is one op.#ApplyComponent call.
type AppliedComponent struct {
	Name, Namespace, Cluster string
	Properties               map[string]interface{}
	// WaitHealthy is the call's waitHealthy; Healthy what the component's
	// healthPolicy said about the live objects right after the apply.
	WaitHealthy, Healthy bool
}

// World is an application, its revision and a fake cluster.
type World struct {
	t testing.TB
	// Client is the fake cluster (a test may wrap it, to record calls).
	Client client.Client
	// App is the application whose workflow steps Run reconciles (a test
	// may change its steps' or components' properties between runs).
	App *v1beta1.Application
	// Revision is the application revision's name (context.appRevision),
	// Session the workflow session (a new one is a new run of the workflow).
	Revision, Session string
	applied           []AppliedComponent
	// waitHealthy is the waitHealthy of the #ApplyComponent being run.
	waitHealthy bool
	// defs are the definitions the world runs (the addon's, or a mutant's
	// copy), from the folder defsDir.
	defs    *render.Renderer
	defsDir string
	// Now is the API server's clock: an apply that creates or changes an
	// object stamps its managedFields entry with it, as the API server does
	// (the fake client keeps no managedFields). Default: time.Now.
	Now func() time.Time
}

// New returns a world for the Application appYAML (in namespace "default"
// when it names none), its revision "<name>-v1", session "session-1" and a
// fake cluster holding objs. Its steps and components run with the
// definitions defs, loaded from the folder defsDir: only a definition from
// that folder counts as the world's own (a workflow step Run can reconcile),
// others are KubeVela's built-ins. A failure fails t, which the world keeps
// for its later calls.
func New(t testing.TB, defs *render.Renderer, defsDir, appYAML string, objs ...client.Object) *World {
	t.Helper()
	app, _, err := render.ParseApplication([]byte(appYAML))
	if err != nil {
		t.Fatal(err)
	}
	if app.Namespace == "" {
		app.Namespace = "default"
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	scheme.AddKnownTypeWithName(GVKTFJob, &unstructured.Unstructured{})
	scheme.AddKnownTypeWithName(GVKTFJob.GroupVersion().WithKind("TFJobList"), &unstructured.UnstructuredList{})
	return &World{
		t:        t,
		defs:     defs,
		defsDir:  defsDir,
		Client:   clusterScopedClient{fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()},
		App:      app,
		Revision: app.Name + "-v1",
		Session:  "session-1",
		Now:      time.Now,
	}
}

// Applied returns the op.#ApplyComponent calls since the world was made or
// since ForgetApplied.
func (w *World) Applied() []AppliedComponent { return w.applied }

// ForgetApplied forgets the op.#ApplyComponent calls made so far.
func (w *World) ForgetApplied() { w.applied = nil }

// clusterScopedClient ignores the namespace of a Namespace in Get, as the
// API server does for cluster-scoped objects (the fake client does not).
type clusterScopedClient struct{ client.Client }

func (c clusterScopedClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if u, ok := obj.(*unstructured.Unstructured); ok && u.GetKind() == "Namespace" {
		key.Namespace = ""
	}
	if _, ok := obj.(*corev1.Namespace); ok {
		key.Namespace = ""
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

func fnv64(b []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(b)
	return h.Sum64()
}

// addonDefinition returns one of the world's own definitions (not a KubeVela
// built-in) from its renderer's catalog, loaded once as vela-core's informer
// holds them, or nil.
func (w *World) addonDefinition(kind, name string) *render.Definition {
	def := w.defs.Catalog().Get(kind, name)
	if def == nil || filepath.Dir(def.File) != filepath.Clean(w.defsDir) {
		return nil
	}
	return def
}

// worldKey holds the world a step runs in, for the provider wrapper.
type worldKey struct{}

// recordWaitHealthy wraps the legacy `vela/op` component-apply provider to
// note the call's waitHealthy (which its ComponentApply callback is not
// given) before calling it.
type recordWaitHealthy struct{ cuexruntime.ProviderFn }

func (p recordWaitHealthy) Call(ctx context.Context, v cue.Value) (cue.Value, error) {
	if w, ok := ctx.Value(worldKey{}).(*World); ok {
		wait, err := v.LookupPath(cue.ParsePath("waitHealthy")).Bool()
		w.waitHealthy = err != nil || wait
	}
	return p.ProviderFn.Call(ctx, v)
}

var compilerOnce struct {
	sync.Once
	compiler *cuex.Compiler
	err      error
}

// Compiler is vela-core v1.11's workflow compiler
// (pkg/workflow/providers/compiler.go: the same packages, providers and
// templates) with component-apply wrapped by recordWaitHealthy.
func Compiler(t testing.TB) *cuex.Compiler {
	t.Helper()
	compilerOnce.Do(func() {
		legacyProviders := legacy.GetLegacyProviders()
		legacyProviders["component-apply"] = recordWaitHealthy{legacyProviders["component-apply"]}
		op, err := cuexruntime.NewInternalPackage(providers.LegacyProviderName, legacy.GetLegacyTemplate(), legacyProviders)
		if err != nil {
			compilerOnce.err = err
			return
		}
		// Every other package as vela-core has it.
		pkgs := []cuexruntime.Package{op}
		for _, p := range providers.DefaultCompiler.Get().GetPackages() {
			if p.GetName() != providers.LegacyProviderName {
				pkgs = append(pkgs, p)
			}
		}
		compilerOnce.compiler = cuex.NewCompilerWithInternalPackages(pkgs...)
	})
	if compilerOnce.err != nil {
		t.Fatal(compilerOnce.err)
	}
	return compilerOnce.compiler
}

// Result is what one reconcile of a step left behind.
type Result struct {
	Status v1alpha1.StepStatus
	Value  cue.Value
}

// Field returns a top-level field of the step's final value as a string.
func (r Result) Field(t testing.TB, name string) string {
	t.Helper()
	if !r.Value.Exists() {
		t.Fatalf("step left no value")
	}
	s, err := r.Value.LookupPath(cue.ParsePath(name)).String()
	if err != nil {
		t.Fatalf("step field %s: %v", name, err)
	}
	return s
}

// Run reconciles the workflow step named stepName once: one reconcile of
// the step by vela-core, through kubevela/workflow's task runner.
func (w *World) Run(stepName string) Result {
	w.t.Helper()
	var step *oamv1alpha1.WorkflowStep
	for i := range w.App.Spec.Workflow.Steps {
		if w.App.Spec.Workflow.Steps[i].Name == stepName {
			step = &w.App.Spec.Workflow.Steps[i]
		}
	}
	if step == nil {
		w.t.Fatalf("no workflow step %q", stepName)
	}
	def := w.addonDefinition(render.KindWorkflowStep, step.Type)
	if def == nil {
		w.t.Fatalf("no workflow step definition %q in %s", step.Type, w.defsDir)
	}
	// vela-core's step template loader (pkg/workflow/template) passes the
	// template through KubeVela's CUE compatibility rewrites.
	templ, _ := upgrade.EnsureCueVersionCompatibility(def.Template, step.Type, upgrade.WorkflowStepKind, upgrade.TemplateAreaMain)

	ctx := context.WithValue(context.Background(), worldKey{}, w)
	pCtx := velaprocess.NewContext(velaprocess.ContextData{
		Namespace:       w.App.Namespace,
		AppName:         w.App.Name,
		CompName:        w.App.Name,
		AppRevisionName: w.Revision,
		Ctx:             ctx,
	})
	// What the application controller (GenerateApplicationSteps) hands to
	// the providers.
	ctx = oamprovidertypes.WithRuntimeParams(ctx, oamprovidertypes.RuntimeParams{
		ComponentApply:  w.applyComponent,
		ComponentRender: w.renderComponent,
		App:             w.App,
		AppLabels:       map[string]string{oam.LabelAppName: w.App.Name, oam.LabelAppNamespace: w.App.Namespace},
		Appfile: &appfile.Appfile{
			Name:       w.App.Name,
			Namespace:  w.App.Namespace,
			Components: w.App.Spec.Components,
			Policies:   w.App.Spec.Policies,
		},
		KubeHandlers: &providertypes.KubeHandlers{Apply: w.dispatch, Delete: w.deleteObject},
		KubeClient:   w.Client,
	})
	// The workflow context keeps its variables in a ConfigMap written with
	// the process-wide client.
	singleton.KubeClient.Set(w.Client)

	loader := custom.NewTaskLoader(func(context.Context, string) (string, error) { return templ, nil }, 0, pCtx, Compiler(w.t))
	gen, err := loader.GetTaskGenerator(ctx, step.Type)
	if err != nil {
		w.t.Fatal(err)
	}
	runner, err := gen(*step, &wftypes.TaskGeneratorOptions{ID: w.Session})
	if err != nil {
		w.t.Fatal(err)
	}
	wfCtx, err := wfContext.NewContext(ctx, w.App.Namespace, w.App.Name, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	var final cue.Value
	status, _, err := runner.Run(wfCtx, &wftypes.TaskRunOptions{
		GetTracer: func(string, oamv1alpha1.WorkflowStep) monitorContext.Context {
			return monitorContext.NewTraceContext(ctx, "")
		},
		Debug: func(_ string, v cue.Value) error { final = v; return nil },
	})
	if err != nil {
		w.t.Fatalf("step %s: %v", stepName, err)
	}
	return Result{Status: status, Value: final}
}
