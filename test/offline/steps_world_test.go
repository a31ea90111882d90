package offline

import (
	"context"
	"hash/fnv"
	"path/filepath"
	"sync"
	"testing"

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

// The workflow steps are executed offline the way vela-core v1.11 executes
// them: kubevela/workflow's task runner compiles the step template with a
// CueX compiler holding KubeVela's provider packages, whose legacy `vela/op`
// package has the real provider functions (kube, builtin, util, oam,
// multicluster, ...) over a fake client. What the application controller
// supplies to them is supplied here: the Application and its Appfile
// (#Load, #LoadPolicies, #GetPlacementsFromTopologyPolicies), the dispatcher
// (#Apply, #Delete) and the ComponentApply/ComponentRender callbacks of
// #ApplyComponent, which render the component with the addon's definitions,
// write its objects to the fake client and evaluate its health the way
// vela-core does. Each run is one reconcile of the step; tests change object
// statuses between runs the way controllers and kubelets would.

var gvkTFJob = schema.GroupVersionKind{Group: "kubeflow.org", Version: "v1", Kind: "TFJob"}

// appliedComponent is one op.#ApplyComponent call.
type appliedComponent struct {
	Name, Namespace, Cluster string
	Properties               map[string]interface{}
	// WaitHealthy is the call's waitHealthy; Healthy what the component's
	// healthPolicy said about the live objects right after the apply.
	WaitHealthy, Healthy bool
}

// stepWorld is an application, its revision and a fake cluster.
type stepWorld struct {
	t        testing.TB
	cli      client.Client
	app      *v1beta1.Application
	revision string
	session  string
	applied  []appliedComponent
	// waitHealthy is the waitHealthy of the #ApplyComponent being run.
	waitHealthy bool
	// defs are the definitions the world runs (the addon's, or a mutant's
	// copy: see definitionsTB), from the folder defsDir.
	defs    *render.Renderer
	defsDir string
}

// definitionsTB is a testing.TB that runs the steps against other
// definitions than the addon's (the mutation test's copies).
type definitionsTB interface {
	stepDefinitions() (*render.Renderer, string)
}

func newStepWorld(t testing.TB, appYAML string, objs ...client.Object) *stepWorld {
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
	scheme.AddKnownTypeWithName(gvkTFJob, &unstructured.Unstructured{})
	scheme.AddKnownTypeWithName(gvkTFJob.GroupVersion().WithKind("TFJobList"), &unstructured.UnstructuredList{})
	defs, dir := addonRenderer(t), definitionsDir()
	if d, ok := t.(definitionsTB); ok {
		defs, dir = d.stepDefinitions()
	}
	return &stepWorld{
		t:        t,
		defs:     defs,
		defsDir:  dir,
		cli:      clusterScopedClient{fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()},
		app:      app,
		revision: app.Name + "-v1",
		session:  "session-1",
	}
}

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
func (w *stepWorld) addonDefinition(kind, name string) *render.Definition {
	def := w.defs.Catalog().Get(kind, name)
	if def == nil || filepath.Dir(def.File) != filepath.Clean(w.defsDir) {
		return nil
	}
	return def
}

// stepWorldKey holds the world a step runs in, for the provider wrapper.
type stepWorldKey struct{}

// recordWaitHealthy wraps the legacy `vela/op` component-apply provider to
// note the call's waitHealthy (which its ComponentApply callback is not
// given) before calling it.
type recordWaitHealthy struct{ cuexruntime.ProviderFn }

func (p recordWaitHealthy) Call(ctx context.Context, v cue.Value) (cue.Value, error) {
	if w, ok := ctx.Value(stepWorldKey{}).(*stepWorld); ok {
		wait, err := v.LookupPath(cue.ParsePath("waitHealthy")).Bool()
		w.waitHealthy = err != nil || wait
	}
	return p.ProviderFn.Call(ctx, v)
}

var stepCompilerOnce struct {
	sync.Once
	compiler *cuex.Compiler
	err      error
}

// stepCompiler is vela-core v1.11's workflow compiler
// (pkg/workflow/providers/compiler.go: the same packages, providers and
// templates) with component-apply wrapped by recordWaitHealthy.
func stepCompiler(t testing.TB) *cuex.Compiler {
	t.Helper()
	stepCompilerOnce.Do(func() {
		legacyProviders := legacy.GetLegacyProviders()
		legacyProviders["component-apply"] = recordWaitHealthy{legacyProviders["component-apply"]}
		op, err := cuexruntime.NewInternalPackage(providers.LegacyProviderName, legacy.GetLegacyTemplate(), legacyProviders)
		if err != nil {
			stepCompilerOnce.err = err
			return
		}
		// Every other package as vela-core has it.
		pkgs := []cuexruntime.Package{op}
		for _, p := range providers.DefaultCompiler.Get().GetPackages() {
			if p.GetName() != providers.LegacyProviderName {
				pkgs = append(pkgs, p)
			}
		}
		stepCompilerOnce.compiler = cuex.NewCompilerWithInternalPackages(pkgs...)
	})
	if stepCompilerOnce.err != nil {
		t.Fatal(stepCompilerOnce.err)
	}
	return stepCompilerOnce.compiler
}

// stepResult is what one reconcile of a step left behind.
type stepResult struct {
	Status v1alpha1.StepStatus
	Value  cue.Value
}

// field returns a top-level field of the step's final value as a string.
func (r stepResult) field(t testing.TB, name string) string {
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

// run reconciles the workflow step named stepName once.
func (w *stepWorld) run(stepName string) stepResult {
	w.t.Helper()
	var step *oamv1alpha1.WorkflowStep
	for i := range w.app.Spec.Workflow.Steps {
		if w.app.Spec.Workflow.Steps[i].Name == stepName {
			step = &w.app.Spec.Workflow.Steps[i]
		}
	}
	if step == nil {
		w.t.Fatalf("no workflow step %q", stepName)
	}
	def := w.addonDefinition(render.KindWorkflowStep, step.Type)
	if def == nil {
		w.t.Fatalf("no workflow step definition %q in definitions/", step.Type)
	}
	// vela-core's step template loader (pkg/workflow/template) passes the
	// template through KubeVela's CUE compatibility rewrites.
	templ, _ := upgrade.EnsureCueVersionCompatibility(def.Template, step.Type, upgrade.WorkflowStepKind, upgrade.TemplateAreaMain)

	ctx := context.WithValue(context.Background(), stepWorldKey{}, w)
	pCtx := velaprocess.NewContext(velaprocess.ContextData{
		Namespace:       w.app.Namespace,
		AppName:         w.app.Name,
		CompName:        w.app.Name,
		AppRevisionName: w.revision,
		Ctx:             ctx,
	})
	// What the application controller (GenerateApplicationSteps) hands to
	// the providers.
	ctx = oamprovidertypes.WithRuntimeParams(ctx, oamprovidertypes.RuntimeParams{
		ComponentApply:  w.applyComponent,
		ComponentRender: w.renderComponent,
		App:             w.app,
		AppLabels:       map[string]string{oam.LabelAppName: w.app.Name, oam.LabelAppNamespace: w.app.Namespace},
		Appfile: &appfile.Appfile{
			Name:       w.app.Name,
			Namespace:  w.app.Namespace,
			Components: w.app.Spec.Components,
			Policies:   w.app.Spec.Policies,
		},
		KubeHandlers: &providertypes.KubeHandlers{Apply: w.dispatch, Delete: w.deleteObject},
		KubeClient:   w.cli,
	})
	// The workflow context keeps its variables in a ConfigMap written with
	// the process-wide client.
	singleton.KubeClient.Set(w.cli)

	loader := custom.NewTaskLoader(func(context.Context, string) (string, error) { return templ, nil }, 0, pCtx, stepCompiler(w.t))
	gen, err := loader.GetTaskGenerator(ctx, step.Type)
	if err != nil {
		w.t.Fatal(err)
	}
	runner, err := gen(*step, &wftypes.TaskGeneratorOptions{ID: w.session})
	if err != nil {
		w.t.Fatal(err)
	}
	wfCtx, err := wfContext.NewContext(ctx, w.app.Namespace, w.app.Name, nil)
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
	return stepResult{Status: status, Value: final}
}
