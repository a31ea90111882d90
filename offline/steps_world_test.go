package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"strings"
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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/common"
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

// dispatch applies objects as KubeVela's dispatcher does (the KubeHandlers
// of #Apply).
func (w *stepWorld) dispatch(ctx context.Context, _ client.Client, cluster, owner string, objs ...*unstructured.Unstructured) error {
	return w.applyObjects(ctx, cluster, owner, objs...)
}

// applyObjects creates or replaces objects, as KubeVela's dispatcher does,
// which also labels each object with a hash of what it applied
// (oam.dev/render-hash); the workflow fills the labelled object back into the
// step, so a step must not copy that label from an object it re-applies.
func (w *stepWorld) applyObjects(ctx context.Context, _ string, _ string, objs ...*unstructured.Unstructured) error {
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			o.SetNamespace("") // cluster-scoped, as the API server treats it
		}
		applied, jsonErr := json.Marshal(o.Object)
		if jsonErr != nil {
			return jsonErr
		}
		labels := o.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels["oam.dev/render-hash"] = fmt.Sprintf("%016x", fnv64(applied))
		o.SetLabels(labels)
		existing := &unstructured.Unstructured{}
		existing.SetGroupVersionKind(o.GroupVersionKind())
		err := w.cli.Get(ctx, client.ObjectKeyFromObject(o), existing)
		switch {
		case apierrors.IsNotFound(err):
			o.SetGeneration(1)
			if err := w.cli.Create(ctx, o); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			o.SetResourceVersion(existing.GetResourceVersion())
			// The API server counts changes of what is not metadata or
			// status in metadata.generation (the fake client does not):
			// compare what the fake client stored (both normalised by it).
			gen := existing.GetGeneration()
			if gen == 0 {
				gen = 1
			}
			o.SetGeneration(gen)
			if status, ok := existing.Object["status"]; ok {
				if _, has := o.Object["status"]; !has {
					o.Object["status"] = status
				}
			}
			if err := w.cli.Update(ctx, o); err != nil {
				return err
			}
			stored := &unstructured.Unstructured{}
			stored.SetGroupVersionKind(o.GroupVersionKind())
			if err := w.cli.Get(ctx, client.ObjectKeyFromObject(o), stored); err != nil {
				return err
			}
			if sameSpec(existing.Object, stored.Object) {
				continue
			}
			stored.SetGeneration(gen + 1)
			o = stored
			if err := w.cli.Update(ctx, o); err != nil {
				return err
			}
		}
	}
	return nil
}

// sameSpec reports whether two objects agree on everything but metadata and
// status.
func sameSpec(a, b map[string]interface{}) bool {
	strip := func(o map[string]interface{}) string {
		c := map[string]interface{}{}
		for k, v := range o {
			if k != "metadata" && k != "status" {
				c[k] = v
			}
		}
		data, _ := json.Marshal(c)
		return string(data)
	}
	return strip(a) == strip(b)
}

func (w *stepWorld) deleteObject(ctx context.Context, _ client.Client, _ string, _ string, o *unstructured.Unstructured) error {
	return w.cli.Delete(ctx, o)
}

// renderComponent renders one component of the app with the addon's
// definitions (which also validates the properties the step built), with
// the namespace the step chose as context.namespace, as vela-core's
// ComponentRender does; the objects are placed in that namespace. It returns
// the workload and the other objects (auxiliary outputs and trait objects).
func (w *stepWorld) renderComponent(_ context.Context, comp common.ApplicationComponent, patcher *cue.Value, _ string, overrideNamespace string) (*unstructured.Unstructured, []*unstructured.Unstructured, error) {
	if patcher != nil && patcher.IsConcrete() {
		if b, err := patcher.MarshalJSON(); err == nil && string(b) != "{}" {
			w.t.Fatalf("component %s: the step world does not apply #ApplyComponent patches (patch: %s)", comp.Name, b)
		}
	}
	ns := w.app.Namespace
	if overrideNamespace != "" {
		ns = overrideNamespace
	}
	app := &v1beta1.Application{
		TypeMeta:   metav1.TypeMeta{APIVersion: "core.oam.dev/v1beta1", Kind: "Application"},
		ObjectMeta: metav1.ObjectMeta{Name: w.app.Name, Namespace: ns},
		Spec:       v1beta1.ApplicationSpec{Components: []common.ApplicationComponent{comp}},
	}
	res, err := w.defs.Render(context.Background(), app)
	if err != nil {
		return nil, nil, err
	}
	var workload *unstructured.Unstructured
	var others []*unstructured.Unstructured
	for _, o := range res.Objects {
		obj := o.Unstructured.DeepCopy()
		if overrideNamespace != "" {
			obj.SetNamespace(overrideNamespace)
		}
		if o.Source == "workload" {
			workload = obj
		} else {
			others = append(others, obj)
		}
	}
	return workload, others, nil
}

// applyComponent is vela-core v1.11's ComponentApply with
// MultiStageComponentApply (on by default): it renders the component,
// dispatches its objects, evaluates the component's health on the live
// objects and, only when healthy, returns the live objects, which the legacy
// #ApplyComponent provider fills into output and
// outputs.<trait.oam.dev/resource>. While the component is unhealthy it
// returns no objects (vela-core's dispatch stage stops there), so output is
// not filled, whatever waitHealthy says. The addon's traits have no dispatch
// stage of their own and no healthPolicy; a trait that has a stage fails the
// test, as the world dispatches every object in one stage.
func (w *stepWorld) applyComponent(ctx context.Context, comp common.ApplicationComponent, patcher *cue.Value, clusterName string, overrideNamespace string) (*unstructured.Unstructured, []*unstructured.Unstructured, bool, error) {
	workload, others, err := w.renderComponent(ctx, comp, patcher, clusterName, overrideNamespace)
	if err != nil {
		return nil, nil, false, err
	}
	var props map[string]interface{}
	if comp.Properties != nil {
		if err := json.Unmarshal(comp.Properties.Raw, &props); err != nil {
			return nil, nil, false, err
		}
	}
	var liveWorkload *unstructured.Unstructured
	var liveOthers []*unstructured.Unstructured
	liveOutputs := map[string]interface{}{}
	if workload != nil {
		if err := w.applyObjects(ctx, clusterName, "", workload); err != nil {
			return nil, nil, false, err
		}
		liveWorkload = w.get(workload.GroupVersionKind(), workload.GetNamespace(), workload.GetName())
	}
	for _, o := range others {
		if typ := o.GetLabels()[oam.TraitTypeLabel]; typ != "" {
			if def := w.defs.Catalog().Get(render.KindTrait, typ); def != nil {
				if stage, _, _ := unstructured.NestedString(def.Object.Object, "spec", "stage"); stage != "" {
					w.t.Fatalf("trait %s has dispatch stage %s, which the step world does not stage", typ, stage)
				}
			}
		}
		if err := w.applyObjects(ctx, clusterName, "", o); err != nil {
			return nil, nil, false, err
		}
		live := w.get(o.GroupVersionKind(), o.GetNamespace(), o.GetName())
		liveOthers = append(liveOthers, live)
		if name := live.GetLabels()[oam.TraitResource]; name != "" {
			liveOutputs[name] = live.Object
		}
	}
	output := map[string]interface{}{}
	if liveWorkload != nil {
		output = liveWorkload.Object
	}
	healthy := w.componentHealthy(comp, map[string]interface{}{"output": output, "outputs": liveOutputs}, props)
	w.applied = append(w.applied, appliedComponent{Name: comp.Name, Namespace: overrideNamespace, Cluster: clusterName, Properties: props,
		WaitHealthy: w.waitHealthy, Healthy: healthy})
	if !healthy {
		return nil, nil, false, nil
	}
	return liveWorkload, liveOthers, true, nil
}

// componentHealthy evaluates the component definition's status (healthPolicy)
// the way the application controller does.
func (w *stepWorld) componentHealthy(comp common.ApplicationComponent, templateContext map[string]interface{}, props map[string]interface{}) bool {
	w.t.Helper()
	def := w.defs.Catalog().Get(render.KindComponent, comp.Type)
	if def == nil {
		w.t.Fatalf("no component definition %q", comp.Type)
	}
	status, err := def.Status(templateContext, props)
	if err != nil {
		w.t.Fatalf("status of %s: %v", comp.Type, err)
	}
	return status.Healthy
}

// get reads an object from the fake cluster, failing the test when absent.
func (w *stepWorld) get(gvk schema.GroupVersionKind, namespace, name string) *unstructured.Unstructured {
	w.t.Helper()
	o := &unstructured.Unstructured{}
	o.SetGroupVersionKind(gvk)
	if err := w.cli.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: name}, o); err != nil {
		w.t.Fatalf("%s %s/%s: %v", gvk.Kind, namespace, name, err)
	}
	return o
}

// exists reports whether an object is in the fake cluster.
func (w *stepWorld) exists(gvk schema.GroupVersionKind, namespace, name string) bool {
	o := &unstructured.Unstructured{}
	o.SetGroupVersionKind(gvk)
	return w.cli.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: name}, o) == nil
}

// setStatus replaces the status of an object in the fake cluster: through
// the status subresource for the types that have one (the fake client, as
// the API server, ignores status in their updates), in an update otherwise.
func (w *stepWorld) setStatus(gvk schema.GroupVersionKind, namespace, name string, status map[string]interface{}) {
	w.t.Helper()
	o := w.get(gvk, namespace, name)
	o.Object["status"] = status
	if err := w.cli.Status().Update(context.Background(), o); err == nil {
		return
	}
	o = w.get(gvk, namespace, name)
	o.Object["status"] = status
	if err := w.cli.Update(context.Background(), o); err != nil {
		w.t.Fatal(err)
	}
}

var (
	gvkPod        = corev1.SchemeGroupVersion.WithKind("Pod")
	gvkConfigMap  = corev1.SchemeGroupVersion.WithKind("ConfigMap")
	gvkNamespace  = corev1.SchemeGroupVersion.WithKind("Namespace")
	gvkDeployment = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
)

func stepMustContain(t testing.TB, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, got)
		}
	}
}

func stepWantPhase(t testing.TB, r stepResult, phase v1alpha1.WorkflowStepPhase) {
	t.Helper()
	if r.Status.Phase != phase {
		t.Fatalf("step phase is %s (reason %s, message %q), want %s", r.Status.Phase, r.Status.Reason, r.Status.Message, phase)
	}
}

// ---- tables of situations ----

// stepCase is one situation of a workflow step run through the engine: it
// builds a world, reconciles the step and asserts what a user sees (the
// step's phase, its exact message, what it applied). The same tables run in
// `go test` and against every mutant of the definitions (mutate_test.go),
// which is why a case takes a testing.TB and builds its world with
// newStepWorld(t, ...).
type stepCase struct {
	name string
	run  func(t testing.TB)
}

// runStepCases runs a table, one subtest per situation.
func runStepCases(t *testing.T, cases []stepCase) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("two cases named %q", c.name)
		}
		seen[c.name] = true
		c := c
		t.Run(c.name, func(t *testing.T) { c.run(t) })
	}
}

// stepWant asserts the step's phase and its exact message.
func stepWant(t testing.TB, r stepResult, phase v1alpha1.WorkflowStepPhase, message string) {
	t.Helper()
	stepWantPhase(t, r, phase)
	if r.Status.Message != message {
		t.Errorf("step message is\n  %q\nwant\n  %q", r.Status.Message, message)
	}
}

// text is an #ApplyComponent call as tests compare it: the component,
// the namespace it went to ("" for the application's) and whether the call
// waited for health (and found it).
func (a appliedComponent) text() string {
	s := a.Name
	if a.Namespace != "" {
		s += " in " + a.Namespace
	}
	if a.WaitHealthy {
		s += fmt.Sprintf(", waiting for health (healthy: %v)", a.Healthy)
	}
	return s
}

// wantApplied asserts the #ApplyComponent calls since the last check
// (see appliedComponent.text), and forgets them.
func (w *stepWorld) wantApplied(want ...string) {
	w.t.Helper()
	got := make([]string, 0, len(w.applied))
	for _, a := range w.applied {
		got = append(got, a.text())
	}
	if want == nil {
		want = []string{}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		w.t.Errorf("applied components:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	w.applied = nil
}
