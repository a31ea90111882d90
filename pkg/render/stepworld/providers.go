package stepworld

import (
	"context"
	"encoding/json"
	"fmt"

	"cuelang.org/go/cue"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/common"
	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"
	"github.com/oam-dev/kubevela/pkg/oam"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// dispatch applies objects as KubeVela's dispatcher does (the KubeHandlers
// of #Apply).
func (w *World) dispatch(ctx context.Context, _ client.Client, cluster, owner string, objs ...*unstructured.Unstructured) error {
	return w.applyObjects(ctx, cluster, owner, objs...)
}

// applyObjects creates or replaces objects, as KubeVela's dispatcher does,
// which also labels each object with a hash of what it applied
// (oam.dev/render-hash); the workflow fills the labelled object back into the
// step, so a step must not copy that label from an object it re-applies.
func (w *World) applyObjects(ctx context.Context, _ string, _ string, objs ...*unstructured.Unstructured) error {
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
		err := w.Client.Get(ctx, client.ObjectKeyFromObject(o), existing)
		// The API server stamps the writer's managedFields entry with the
		// time of a write that changes the object.
		changed := apierrors.IsNotFound(err) || err == nil && (!sameSpec(existing.Object, o.Object) ||
			!equalStrings(existing.GetLabels(), o.GetLabels()) || !equalStrings(existing.GetAnnotations(), o.GetAnnotations()))
		switch {
		case changed:
			o.SetManagedFields([]metav1.ManagedFieldsEntry{{
				Manager: "kubevela", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: o.GetAPIVersion(),
				Time: &metav1.Time{Time: w.Now().UTC()},
			}})
		case err == nil:
			o.SetManagedFields(existing.GetManagedFields())
		}
		switch {
		case apierrors.IsNotFound(err):
			o.SetGeneration(1)
			if err := w.Client.Create(ctx, o); err != nil {
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
			if err := w.Client.Update(ctx, o); err != nil {
				return err
			}
			stored := &unstructured.Unstructured{}
			stored.SetGroupVersionKind(o.GroupVersionKind())
			if err := w.Client.Get(ctx, client.ObjectKeyFromObject(o), stored); err != nil {
				return err
			}
			if sameSpec(existing.Object, stored.Object) {
				continue
			}
			stored.SetGeneration(gen + 1)
			o = stored
			if err := w.Client.Update(ctx, o); err != nil {
				return err
			}
		}
	}
	return nil
}

func equalStrings(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
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

// Apply creates or replaces objects in the fake cluster the way the
// dispatcher of the world's steps does (see applyObjects).
func (w *World) Apply(ctx context.Context, objs ...*unstructured.Unstructured) error {
	return w.applyObjects(ctx, "", "", objs...)
}

func (w *World) deleteObject(ctx context.Context, _ client.Client, _ string, _ string, o *unstructured.Unstructured) error {
	return w.Client.Delete(ctx, o)
}

// renderComponent renders one component of the app with the world's
// definitions (which also validates the properties the step built), with
// the namespace the step chose as context.namespace, as vela-core's
// ComponentRender does; the objects are placed in that namespace. It returns
// the workload and the other objects (auxiliary outputs and trait objects).
func (w *World) renderComponent(_ context.Context, comp common.ApplicationComponent, patcher *cue.Value, _ string, overrideNamespace string) (*unstructured.Unstructured, []*unstructured.Unstructured, error) {
	if patcher != nil && patcher.IsConcrete() {
		if b, err := patcher.MarshalJSON(); err == nil && string(b) != "{}" {
			w.t.Fatalf("component %s: the step world does not apply #ApplyComponent patches (patch: %s)", comp.Name, b)
		}
	}
	ns := w.App.Namespace
	if overrideNamespace != "" {
		ns = overrideNamespace
	}
	app := &v1beta1.Application{
		TypeMeta:   metav1.TypeMeta{APIVersion: "core.oam.dev/v1beta1", Kind: "Application"},
		ObjectMeta: metav1.ObjectMeta{Name: w.App.Name, Namespace: ns},
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
func (w *World) applyComponent(ctx context.Context, comp common.ApplicationComponent, patcher *cue.Value, clusterName string, overrideNamespace string) (*unstructured.Unstructured, []*unstructured.Unstructured, bool, error) {
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
		liveWorkload = w.Get(workload.GroupVersionKind(), workload.GetNamespace(), workload.GetName())
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
		live := w.Get(o.GroupVersionKind(), o.GetNamespace(), o.GetName())
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
	w.applied = append(w.applied, AppliedComponent{Name: comp.Name, Namespace: overrideNamespace, Cluster: clusterName, Properties: props,
		WaitHealthy: w.waitHealthy, Healthy: healthy})
	if !healthy {
		return nil, nil, false, nil
	}
	return liveWorkload, liveOthers, true, nil
}

// componentHealthy evaluates the component definition's status (healthPolicy)
// the way the application controller does.
func (w *World) componentHealthy(comp common.ApplicationComponent, templateContext map[string]interface{}, props map[string]interface{}) bool {
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

// Get reads an object from the fake cluster, failing the test when absent.
func (w *World) Get(gvk schema.GroupVersionKind, namespace, name string) *unstructured.Unstructured {
	w.t.Helper()
	o := &unstructured.Unstructured{}
	o.SetGroupVersionKind(gvk)
	if err := w.Client.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: name}, o); err != nil {
		w.t.Fatalf("%s %s/%s: %v", gvk.Kind, namespace, name, err)
	}
	return o
}

// Exists reports whether an object is in the fake cluster.
func (w *World) Exists(gvk schema.GroupVersionKind, namespace, name string) bool {
	o := &unstructured.Unstructured{}
	o.SetGroupVersionKind(gvk)
	return w.Client.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: name}, o) == nil
}

// SetStatus replaces the status of an object in the fake cluster: through
// the status subresource for the types that have one (the fake client, as
// the API server, ignores status in their updates), in an update otherwise.
func (w *World) SetStatus(gvk schema.GroupVersionKind, namespace, name string, status map[string]interface{}) {
	w.t.Helper()
	o := w.Get(gvk, namespace, name)
	o.Object["status"] = status
	if err := w.Client.Status().Update(context.Background(), o); err == nil {
		return
	}
	o = w.Get(gvk, namespace, name)
	o.Object["status"] = status
	if err := w.Client.Update(context.Background(), o); err != nil {
		w.t.Fatal(err)
	}
}

// The GroupVersionKinds the steps' tests look up most.
var (
	GVKPod        = corev1.SchemeGroupVersion.WithKind("Pod")
	GVKConfigMap  = corev1.SchemeGroupVersion.WithKind("ConfigMap")
	GVKNamespace  = corev1.SchemeGroupVersion.WithKind("Namespace")
	GVKDeployment = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
)
