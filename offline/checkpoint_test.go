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
	return &stepWorld{
		t:        t,
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

// addonDefinition returns one of the addon's own definitions (not a KubeVela
// built-in) from the shared renderer's catalog, loaded once as vela-core's
// informer holds them, or nil.
func addonDefinition(t testing.TB, kind, name string) *render.Definition {
	t.Helper()
	def := addonRenderer(t).Catalog().Get(kind, name)
	if def == nil || filepath.Dir(def.File) != filepath.Join(repoRoot, "definitions") {
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
	def := addonDefinition(w.t, render.KindWorkflowStep, step.Type)
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
			if err := w.cli.Create(ctx, o); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			o.SetResourceVersion(existing.GetResourceVersion())
			if status, ok := existing.Object["status"]; ok {
				if _, has := o.Object["status"]; !has {
					o.Object["status"] = status
				}
			}
			if err := w.cli.Update(ctx, o); err != nil {
				return err
			}
		}
	}
	return nil
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
	res, err := addonRenderer(w.t).Render(context.Background(), app)
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
			if def := addonRenderer(w.t).Catalog().Get(render.KindTrait, typ); def != nil {
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
	def := addonRenderer(w.t).Catalog().Get(render.KindComponent, comp.Type)
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

// ---- ml-model-checkpoint ----

const checkpointApp = `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: pipeline
  namespace: ml
spec:
  components:
    - name: my-tfjob
      type: tfjob
      properties:
        modelVersion:
          modelName: mymodel
          imageRepo: myhub/mymodel
        tfReplicaSpecs:
          Worker:
            replicas: 3
            template:
              spec:
                containers:
                  - name: tensorflow
                    image: tf-mnist-estimator-api:v0.1
  workflow:
    steps:
      - name: save-model
        type: ml-model-checkpoint
        properties:
          modelVersion:
            modelName: mymodel-v2
            imageRepo: myrepo/mymodel
      - name: save-model-with-secret
        type: ml-model-checkpoint
        properties:
          component: my-tfjob
          registrySecret: regcred
          insecure: true
          buildPodLabels:
            team: ml
            ml-platform.oam.dev/build: "no"
          modelVersion:
            modelName: mymodel-v3
            imageRepo: registry.example.com:5000/team/mymodel
`

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// stepTrainedJob is the TFJob the tfjob component and ml-model-training leave
// behind for revision pipeline-v1, in the given condition.
func stepTrainedJob(condition string) *unstructured.Unstructured {
	j := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "kubeflow.org/v1",
		"kind":       "TFJob",
		"metadata": map[string]interface{}{
			"name":      "my-tfjob-v1",
			"namespace": "ml",
			"labels": map[string]interface{}{
				"app.oam.dev/name":        "pipeline",
				"app.oam.dev/namespace":   "ml",
				"app.oam.dev/component":   "my-tfjob",
				"app.oam.dev/appRevision": "pipeline-v1",
			},
		},
		"spec": map[string]interface{}{
			"tfReplicaSpecs": map[string]interface{}{
				"Worker": map[string]interface{}{
					"replicas": int64(3),
					"template": map[string]interface{}{
						"spec": map[string]interface{}{
							"containers": []interface{}{map[string]interface{}{
								"name":  "tensorflow",
								"image": "tf-mnist-estimator-api:v0.1",
								"env": []interface{}{
									map[string]interface{}{"name": "MODEL_NAME", "value": "mymodel"},
									map[string]interface{}{"name": "MODEL_VERSION", "value": "1"},
									map[string]interface{}{"name": "MODEL_DIR", "value": "/mnt/models/mymodel/1"},
								},
								"volumeMounts": []interface{}{map[string]interface{}{"name": "model-store", "mountPath": "/mnt/models"}},
							}},
							"volumes": []interface{}{map[string]interface{}{
								"name":                  "model-store",
								"persistentVolumeClaim": map[string]interface{}{"claimName": "my-tfjob-models"},
							}},
						},
					},
				},
			},
		},
		"status": map[string]interface{}{
			"conditions": []interface{}{
				map[string]interface{}{"type": "Created", "status": "True"},
				map[string]interface{}{"type": condition, "status": "True"},
			},
		},
	}}
	return j
}

func TestCheckpointBuildsTheModelImageAndRecordsTheVersion(t *testing.T) {
	w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"))

	r := w.run("save-model")
	stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseRunning)
	stepMustContain(t, "progress message", r.Status.Message, "building model image myrepo/mymodel:mymodel-v2 from my-tfjob-v1 (/models/mymodel/1)", "pod pipeline-build-mymodel-v2 is Pending")

	pod := w.get(gvkPod, "ml", "pipeline-build-mymodel-v2")
	if got := pod.GetLabels()["ml-platform.oam.dev/build"]; got != "true" {
		t.Errorf("build pod label ml-platform.oam.dev/build = %q, want \"true\"", got)
	}
	if got := pod.GetLabels()["ml-platform.oam.dev/model-version"]; got != "mymodel-v2" {
		t.Errorf("build pod label ml-platform.oam.dev/model-version = %q", got)
	}
	spec := pod.Object["spec"].(map[string]interface{})
	if spec["restartPolicy"] != "Never" {
		t.Errorf("restartPolicy = %v, want Never", spec["restartPolicy"])
	}
	builder := container(t, spec, "builder")
	if builder["image"] != "gcr.io/kaniko-project/executor:v1.23.2" {
		t.Errorf("builder image = %v", builder["image"])
	}
	args := fmt.Sprint(builder["args"])
	stepMustContain(t, "builder args", args, "--destination=myrepo/mymodel:mymodel-v2", "--digest-file=/dev/termination-log", "--context=dir:///workspace", "--dockerfile=/workspace/Dockerfile")
	if strings.Contains(args, "--insecure") {
		t.Errorf("builder args %s: --insecure without insecure: true", args)
	}
	if builder["terminationMessagePolicy"] != "FallbackToLogsOnError" {
		t.Errorf("builder terminationMessagePolicy = %v", builder["terminationMessagePolicy"])
	}
	prepare := container(t, spec, "prepare")
	if prepare["image"] != "busybox:1.36" {
		t.Errorf("prepare image = %v, want busybox:1.36", prepare["image"])
	}
	script := fmt.Sprint(prepare["command"])
	stepMustContain(t, "prepare script", script, "src=/mnt/models/mymodel/1", "saved_model.pb", "cp -R \"$src\" /workspace/models/mymodel/1", "FROM %s\\nCOPY models/ /models/\\n' 'busybox:1.36'")
	vols := fmt.Sprint(spec["volumes"])
	stepMustContain(t, "build pod volumes", vols, "claimName:my-tfjob-models", "readOnly:true")
	if strings.Contains(vols, "secret") {
		t.Errorf("build pod mounts a secret without registrySecret: %s", vols)
	}
	if w.exists(gvkConfigMap, "ml", "model-version-mymodel-v2") {
		t.Fatal("the record is written before the build succeeded")
	}

	// kaniko pushed the image and wrote the digest to its termination log
	w.setStatus(gvkPod, "ml", "pipeline-build-mymodel-v2", map[string]interface{}{
		"phase": "Succeeded",
		"containerStatuses": []interface{}{map[string]interface{}{
			"name": "builder",
			"state": map[string]interface{}{"terminated": map[string]interface{}{
				"exitCode": int64(0), "reason": "Completed", "message": testDigest + "\n", "finishedAt": "2026-11-28T14:00:00Z",
			}},
		}},
	})
	r = w.run("save-model")
	stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseSucceeded)
	if got := r.field(t, "image"); got != "myrepo/mymodel:mymodel-v2" {
		t.Errorf("step field image = %q, want myrepo/mymodel:mymodel-v2", got)
	}

	rec := w.get(gvkConfigMap, "ml", "model-version-mymodel-v2")
	if got := rec.GetLabels()["ml-platform.oam.dev/model-version"]; got != "mymodel-v2" {
		t.Errorf("record label ml-platform.oam.dev/model-version = %q", got)
	}
	wantData := map[string]interface{}{
		"modelName":   "mymodel-v2",
		"model":       "mymodel",
		"version":     "1",
		"image":       "myrepo/mymodel:mymodel-v2",
		"digest":      testDigest,
		"trainingJob": "my-tfjob-v1",
		"appRevision": "pipeline-v1",
		"createdAt":   "2026-11-28T14:00:00Z",
	}
	data := rec.Object["data"].(map[string]interface{})
	for k, want := range wantData {
		if data[k] != want {
			t.Errorf("record data %s = %v, want %v", k, data[k], want)
		}
	}

	// run again (a workflow restart): the record is there, nothing is rebuilt
	r = w.run("save-model")
	stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseSucceeded)
}

func TestCheckpointFailsWithTheBuildersMessage(t *testing.T) {
	w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"))
	stepWantPhase(t, w.run("save-model"), v1alpha1.WorkflowStepPhaseRunning)
	w.setStatus(gvkPod, "ml", "pipeline-build-mymodel-v2", map[string]interface{}{
		"phase": "Failed",
		"initContainerStatuses": []interface{}{map[string]interface{}{
			"name":  "prepare",
			"state": map[string]interface{}{"terminated": map[string]interface{}{"exitCode": int64(0), "reason": "Completed"}},
		}},
		"containerStatuses": []interface{}{map[string]interface{}{
			"name": "builder",
			"state": map[string]interface{}{"terminated": map[string]interface{}{
				"exitCode": int64(1), "reason": "Error",
				"message": "error checking push permissions -- make sure you entered the correct tag name: UNAUTHORIZED\n",
			}},
		}},
	})
	r := w.run("save-model")
	stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseFailed)
	stepMustContain(t, "failure message", r.Status.Message,
		"building model image myrepo/mymodel:mymodel-v2 failed in pod pipeline-build-mymodel-v2: container builder exited with code 1 (Error): error checking push permissions -- make sure you entered the correct tag name: UNAUTHORIZED")
	if w.exists(gvkConfigMap, "ml", "model-version-mymodel-v2") {
		t.Error("a failed build wrote a record")
	}

	// A new run of the workflow (a new step session) removes the failed pod
	// and builds again.
	w.session = "session-2"
	r = w.run("save-model")
	stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseRunning)
	stepMustContain(t, "message", r.Status.Message, "removing the earlier build pod pipeline-build-mymodel-v2")
	if w.exists(gvkPod, "ml", "pipeline-build-mymodel-v2") {
		t.Fatal("the failed build pod of the earlier run was not removed")
	}
	r = w.run("save-model")
	stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseRunning)
	pod := w.get(gvkPod, "ml", "pipeline-build-mymodel-v2")
	if got := pod.GetAnnotations()["ml-platform.oam.dev/step-session"]; got != "session-2" {
		t.Errorf("rebuilt pod step-session annotation = %q, want session-2", got)
	}
}

func TestCheckpointFailsWhenThePreparationFindsNoSavedModel(t *testing.T) {
	w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"))
	stepWantPhase(t, w.run("save-model"), v1alpha1.WorkflowStepPhaseRunning)
	w.setStatus(gvkPod, "ml", "pipeline-build-mymodel-v2", map[string]interface{}{
		"phase": "Failed",
		"initContainerStatuses": []interface{}{map[string]interface{}{
			"name": "prepare",
			"state": map[string]interface{}{"terminated": map[string]interface{}{
				"exitCode": int64(1), "reason": "Error",
				"message": "no SavedModel at /mnt/models/mymodel/1 (saved_model.pb is missing) in PVC my-tfjob-models: the training code must write its SavedModel to $MODEL_DIR",
			}},
		}},
	})
	r := w.run("save-model")
	stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseFailed)
	stepMustContain(t, "failure message", r.Status.Message, "container prepare exited with code 1 (Error): no SavedModel at /mnt/models/mymodel/1")
}

func TestCheckpointFailsEarlyWhenTheBuilderImageCannotBePulled(t *testing.T) {
	w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"))
	stepWantPhase(t, w.run("save-model"), v1alpha1.WorkflowStepPhaseRunning)
	w.setStatus(gvkPod, "ml", "pipeline-build-mymodel-v2", map[string]interface{}{
		"phase": "Pending",
		"containerStatuses": []interface{}{map[string]interface{}{
			"name":  "builder",
			"state": map[string]interface{}{"waiting": map[string]interface{}{"reason": "ImagePullBackOff", "message": "Back-off pulling image"}},
		}},
	})
	r := w.run("save-model")
	stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseFailed)
	stepMustContain(t, "failure message", r.Status.Message, "pod pipeline-build-mymodel-v2 container builder cannot start, ImagePullBackOff: Back-off pulling image")
}

func TestCheckpointNeedsASucceededTrainingJobOfThisRevision(t *testing.T) {
	t.Run("none", func(t *testing.T) {
		w := newStepWorld(t, checkpointApp)
		r := w.run("save-model")
		stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseFailed)
		stepMustContain(t, "failure message", r.Status.Message, "no succeeded training job for component my-tfjob in app revision pipeline-v1: no TFJob found; run the ml-model-training step before ml-model-checkpoint")
	})
	t.Run("running", func(t *testing.T) {
		w := newStepWorld(t, checkpointApp, stepTrainedJob("Running"))
		r := w.run("save-model")
		stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseFailed)
		stepMustContain(t, "failure message", r.Status.Message, "no succeeded training job for component my-tfjob in app revision pipeline-v1: TFJob my-tfjob-v1 is Running")
	})
	t.Run("older revision", func(t *testing.T) {
		w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"))
		w.revision = "pipeline-v2"
		r := w.run("save-model")
		stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseFailed)
		stepMustContain(t, "failure message", r.Status.Message, "no succeeded training job for component my-tfjob in app revision pipeline-v2")
	})
}

func TestCheckpointRefusesToOverwriteAModelVersion(t *testing.T) {
	other := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "model-version-mymodel-v2", Namespace: "ml",
			Labels: map[string]string{"ml-platform.oam.dev/model-version": "mymodel-v2"}},
		Data: map[string]string{"image": "myrepo/mymodel:mymodel-v2", "trainingJob": "my-tfjob-v0"},
	}
	w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"), other)
	r := w.run("save-model")
	stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseFailed)
	stepMustContain(t, "failure message", r.Status.Message, "model version mymodel-v2 already exists (image myrepo/mymodel:mymodel-v2, trained by my-tfjob-v0); model versions are immutable")
	if w.exists(gvkPod, "ml", "pipeline-build-mymodel-v2") {
		t.Error("a build pod was created for an existing version")
	}
}

func TestCheckpointTakesRegistryCredentialsFromADockerConfigSecret(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"))
		r := w.run("save-model-with-secret")
		stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseFailed)
		stepMustContain(t, "failure message", r.Status.Message, "registry secret regcred not found in namespace ml")
	})
	t.Run("wrong type", func(t *testing.T) {
		opaque := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "regcred", Namespace: "ml"}, Type: corev1.SecretTypeOpaque}
		w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"), opaque)
		r := w.run("save-model-with-secret")
		stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseFailed)
		stepMustContain(t, "failure message", r.Status.Message, "registry secret regcred has type Opaque, want kubernetes.io/dockerconfigjson")
	})
	t.Run("mounted", func(t *testing.T) {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "regcred", Namespace: "ml"}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{".dockerconfigjson": []byte(`{"auths":{}}`)}}
		w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"), secret)
		r := w.run("save-model-with-secret")
		stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseRunning)
		pod := w.get(gvkPod, "ml", "pipeline-build-mymodel-v3")
		if got := pod.GetLabels(); got["team"] != "ml" || got["ml-platform.oam.dev/build"] != "true" {
			t.Errorf("build pod labels %v: want buildPodLabels added without overriding ml-platform.oam.dev/build", got)
		}
		spec := pod.Object["spec"].(map[string]interface{})
		builder := container(t, spec, "builder")
		stepMustContain(t, "builder args", fmt.Sprint(builder["args"]), "--destination=registry.example.com:5000/team/mymodel:mymodel-v3", "--insecure", "--skip-tls-verify")
		stepMustContain(t, "builder mounts", fmt.Sprint(builder["volumeMounts"]), "mountPath:/kaniko/.docker")
		stepMustContain(t, "build pod volumes", fmt.Sprint(spec["volumes"]), "secretName:regcred", "key:.dockerconfigjson", "path:config.json")
	})
}

func TestCheckpointKeepsTheApplicationsEarlierVersions(t *testing.T) {
	older := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "model-version-mymodel-v1", Namespace: "ml",
			Labels: map[string]string{
				"ml-platform.oam.dev/model-version": "mymodel-v1",
				"app.oam.dev/name":                  "pipeline",
				"app.oam.dev/namespace":             "ml",
			}},
		Data: map[string]string{"image": "myrepo/mymodel:mymodel-v1", "model": "mymodel", "trainingJob": "my-tfjob-v0"},
	}
	done := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "model-version-mymodel-v2", Namespace: "ml",
			Labels: map[string]string{"ml-platform.oam.dev/model-version": "mymodel-v2"}},
		Data: map[string]string{"image": "myrepo/mymodel:mymodel-v2", "model": "mymodel", "trainingJob": "my-tfjob-v1", "digest": testDigest, "createdAt": "2026-11-28T14:00:00Z", "version": "1", "appRevision": "pipeline-v1"},
	}
	w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"), older, done)
	var reapplied []string
	w.cli = &stepRecordingClient{Client: w.cli, updated: &reapplied}
	r := w.run("save-model")
	stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseSucceeded)
	if !stepHas(reapplied, "model-version-mymodel-v1") {
		t.Errorf("the earlier record model-version-mymodel-v1 was not applied again (applied: %v)", reapplied)
	}
	rec := w.get(gvkConfigMap, "ml", "model-version-mymodel-v2")
	if got := rec.Object["data"].(map[string]interface{})["digest"]; got != testDigest {
		t.Errorf("re-recording kept digest %v, want %s", got, testDigest)
	}
}

// stepRecordingClient notes the names of objects updated.
type stepRecordingClient struct {
	client.Client
	updated *[]string
}

func (c *stepRecordingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	*c.updated = append(*c.updated, obj.GetName())
	return c.Client.Update(ctx, obj, opts...)
}

func TestCheckpointFindsTheTrainingComponent(t *testing.T) {
	app := strings.Replace(checkpointApp, "  workflow:", `    - name: web
      type: webservice
      properties:
        image: nginx
  workflow:`, 1) + `
      - name: wrong-component
        type: ml-model-checkpoint
        properties:
          component: web
          modelVersion: {modelName: x, imageRepo: a/b}
      - name: missing-component
        type: ml-model-checkpoint
        properties:
          component: nope
          modelVersion: {modelName: x, imageRepo: a/b}
`
	w := newStepWorld(t, app, stepTrainedJob("Succeeded"))
	r := w.run("wrong-component")
	stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseFailed)
	stepMustContain(t, "failure message", r.Status.Message, "component web is a webservice, not a tfjob")
	r = w.run("missing-component")
	stepWantPhase(t, r, v1alpha1.WorkflowStepPhaseFailed)
	stepMustContain(t, "failure message", r.Status.Message, "component nope is not in application pipeline")
	// the default is the only tfjob component, even next to other components
	stepWantPhase(t, w.run("save-model"), v1alpha1.WorkflowStepPhaseRunning)
}

func stepHas(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
