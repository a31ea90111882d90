package offline

import (
	"context"
	"testing"

	"github.com/kubevela/workflow/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ml-platform/ml-platform/pkg/render/stepworld"
)

// ---- the ml-model-serving step ----

const servingApp = `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: pipeline
  namespace: ml
spec:
  components:
    - name: my-tfserving-dev
      type: tfserving
      properties:
        predictors:
          - name: model-predictor
            modelVersion: mymodel-v2
            template:
              spec:
                containers:
                - name: tensorflow
                  image: tensorflow/serving:1.11.1
    - name: my-tfserving-prod
      type: tfserving
      properties:
        predictors:
          - name: model-a-predictor
            modelVersion: mymodel-v1
            replicas: 2
            trafficPercentage: 90
          - name: model-b-predictor
            modelVersion: mymodel-v2
            replicas: 1
            trafficPercentage: 10
    - name: direct
      type: tfserving
      properties:
        predictors:
          - name: p
            modelBasePath: s3://bucket/models/mymodel
    - name: empty
      type: tfserving
      properties:
        predictors:
          - name: p
    - name: web
      type: webservice
      properties:
        image: nginx
  policies:
    - name: prod
      type: topology
      properties:
        namespace: ml-production
  workflow:
    steps:
      - name: serve-model-in-dev
        type: ml-model-serving
        properties:
          component: my-tfserving-dev
          env: dev
      - name: serve-model-in-prod
        type: ml-model-serving
        properties:
          component: my-tfserving-prod
          env: prod
      - name: serve-direct
        type: ml-model-serving
        properties:
          component: direct
          env: dev
          namespace: staging
      - name: serve-web
        type: ml-model-serving
        properties:
          component: web
          env: dev
      - name: serve-nope
        type: ml-model-serving
        properties:
          component: nope
          env: dev
      - name: serve-empty
        type: ml-model-serving
        properties:
          component: empty
          env: dev
`

func servingRecord(version, model, appName string) *corev1.ConfigMap {
	labels := map[string]string{"ml-platform.oam.dev/model-version": version, "ml-platform.oam.dev/model": model}
	if appName != "" { // applied by the application's ml-model-checkpoint step
		labels["app.oam.dev/name"] = appName
		labels["app.oam.dev/namespace"] = "ml"
		labels["oam.dev/render-hash"] = "45ecf16b9cb86371"
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "model-version-" + version, Namespace: "ml", Labels: labels},
		Data: map[string]string{
			"modelName": version, "model": model, "version": "1", "image": "myrepo/mymodel:" + version,
			"digest": testDigest, "trainingJob": "my-tfjob-v1", "appRevision": "pipeline-v1", "createdAt": "2026-11-28T14:00:00Z",
		},
	}
}

func readyDeployment(replicas int64) map[string]interface{} {
	return map[string]interface{}{
		"observedGeneration": int64(1), "replicas": replicas, "readyReplicas": replicas,
		"updatedReplicas": replicas, "availableReplicas": replicas,
	}
}

const (
	svDev        = "my-tfserving-dev-model-predictor"
	svDevWaiting = "waiting for predictors to be available: my-tfserving-dev in ml-dev: model-predictor 0/1 ready"
	svDevImage   = "myrepo/mymodel:mymodel-v2@" + testDigest
)

// svDevStarted is the first reconcile of serve-model-in-dev with the
// version's record: the component is applied to ml-dev without a health
// wait and the step waits for the predictor.
func svDevStarted(t testing.TB, objs ...client.Object) *stepWorld {
	t.Helper()
	w := newStepWorld(t, servingApp, append([]client.Object{servingRecord("mymodel-v2", "mymodel", "")}, objs...)...)
	stepWant(t, w.Run("serve-model-in-dev"), v1alpha1.WorkflowStepPhaseRunning, svDevWaiting)
	w.wantApplied("my-tfserving-dev in ml-dev")
	return w
}

// svPod is a pod of a predictor of my-tfserving-dev in ml-dev whose
// model-loader runs loaderImage and whose tensorflow container has the
// given state.
func svPod(name, predictor, loaderImage string, tfState map[string]interface{}) *unstructured.Unstructured {
	labels := map[string]interface{}{"ml-platform.oam.dev/serving": "my-tfserving-dev"}
	if predictor != "" {
		labels["ml-platform.oam.dev/predictor"] = predictor
	}
	return &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]interface{}{"name": name, "namespace": "ml-dev", "labels": labels},
		"spec": map[string]interface{}{
			"initContainers": []interface{}{map[string]interface{}{"name": "model-loader", "image": loaderImage}},
			"containers":     []interface{}{map[string]interface{}{"name": "tensorflow", "image": "tensorflow/serving:1.11.1"}},
		},
		"status": map[string]interface{}{
			"phase": "Pending",
			"initContainerStatuses": []interface{}{map[string]interface{}{
				"name": "model-loader", "state": map[string]interface{}{"terminated": map[string]interface{}{"exitCode": int64(0), "reason": "Completed"}}}},
			"containerStatuses": []interface{}{map[string]interface{}{"name": "tensorflow", "state": tfState}},
		},
	}}
}

// svPodWaits: after the first reconcile a pod of the dev predictor appears
// whose tensorflow container waits for reason; the step fails with message,
// or keeps waiting when message is "".
func svPodWaits(pod *unstructured.Unstructured, message string) func(t testing.TB) {
	return func(t testing.TB) {
		w := svDevStarted(t)
		if err := w.Apply(context.Background(), pod.DeepCopy()); err != nil {
			t.Fatal(err)
		}
		if message == "" {
			stepWant(t, w.Run("serve-model-in-dev"), v1alpha1.WorkflowStepPhaseRunning, svDevWaiting)
		} else {
			stepWant(t, w.Run("serve-model-in-dev"), v1alpha1.WorkflowStepPhaseFailed, message)
		}
		w.wantApplied("my-tfserving-dev in ml-dev")
	}
}

// svBadReason: a current pod of the predictor whose tensorflow container
// waits for a reason it will not get past.
func svBadReason(reason, detail string) func(t testing.TB) {
	want := "my-tfserving-dev cannot become available: predictor model-predictor in ml-dev: pod current container tensorflow " + reason
	if detail != "" {
		want += ": " + detail
	}
	return svPodWaits(svPod("current", "model-predictor", svDevImage, ckWaiting(reason, detail)), want)
}

// svDevStatus: after the first reconcile the predictor's Deployment has the
// given status; the step shows phase and message.
func svDevStatus(status map[string]interface{}, phase v1alpha1.WorkflowStepPhase, message string) func(t testing.TB) {
	return func(t testing.TB) {
		w := svDevStarted(t)
		w.SetStatus(stepworld.GVKDeployment, "ml-dev", svDev, status)
		stepWant(t, w.Run("serve-model-in-dev"), phase, message)
		if phase == v1alpha1.WorkflowStepPhaseSucceeded {
			w.wantApplied("my-tfserving-dev in ml-dev, waiting for health (healthy: true)")
		} else {
			w.wantApplied("my-tfserving-dev in ml-dev")
		}
	}
}

// svFails: the step fails at once with message, applying nothing.
func svFails(step, message string, objs ...client.Object) func(t testing.TB) {
	return func(t testing.TB) {
		w := newStepWorld(t, servingApp, objs...)
		stepWant(t, w.Run(step), v1alpha1.WorkflowStepPhaseFailed, message)
		w.wantApplied()
	}
}

func svDeadline(message string) map[string]interface{} {
	c := map[string]interface{}{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
	if message != "" {
		c["message"] = message
	}
	return map[string]interface{}{"observedGeneration": int64(1), "conditions": []interface{}{c}}
}

func svPredictorImages(t testing.TB, a stepworld.AppliedComponent) []interface{} {
	t.Helper()
	var images []interface{}
	for _, p := range a.Properties["predictors"].([]interface{}) {
		images = append(images, p.(map[string]interface{})["modelImage"])
	}
	return images
}

// The ml-model-serving step, situation by situation.
var servingStepCases = []stepCase{
	{"resolves the model version and applies without a health wait", func(t testing.TB) {
		w := newStepWorld(t, servingApp, servingRecord("mymodel-v2", "mymodel", "pipeline"))
		stepWant(t, w.Run("serve-model-in-dev"), v1alpha1.WorkflowStepPhaseRunning, svDevWaiting)
		a := w.Applied()[0]
		w.wantApplied("my-tfserving-dev in ml-dev")
		p := a.Properties["predictors"].([]interface{})[0].(map[string]interface{})
		assertEqual(t, "resolved modelImage (pinned by digest)", p["modelImage"], svDevImage)
		assertEqual(t, "resolved modelName", p["modelName"], "mymodel")
		assertEqual(t, "modelVersion kept", p["modelVersion"], "mymodel-v2")
		spec := servingPodSpec(t, w.Get(stepworld.GVKDeployment, "ml-dev", svDev))
		assertEqual(t, "loader image", container(t, spec, "model-loader")["image"], svDevImage)
		assertEqual(t, "served image", container(t, spec, "tensorflow")["image"], "tensorflow/serving:1.11.1")
		assertEqual(t, "served model", servingStrings(container(t, spec, "tensorflow")["args"])[2], "--model_name=mymodel")
		// the application's own record is applied again (its garbage collection keeps it)
		if h := w.Get(stepworld.GVKConfigMap, "ml", "model-version-mymodel-v2").GetLabels()["oam.dev/render-hash"]; h == "45ecf16b9cb86371" {
			t.Error("the application's record model-version-mymodel-v2 was not applied again")
		}
	}},
	{"leaves another application's record alone", func(t testing.TB) {
		w := svDevStarted(t)
		if _, ok := w.Get(stepworld.GVKConfigMap, "ml", "model-version-mymodel-v2").GetLabels()["oam.dev/render-hash"]; ok {
			t.Error("a record the application did not write was applied")
		}
	}},
	{"uses the image by tag when the record has no digest", func(t testing.TB) {
		rec := servingRecord("mymodel-v2", "mymodel", "")
		delete(rec.Data, "digest")
		w := newStepWorld(t, servingApp, rec)
		stepWant(t, w.Run("serve-model-in-dev"), v1alpha1.WorkflowStepPhaseRunning, svDevWaiting)
		assertEqual(t, "resolved images", svPredictorImages(t, w.Applied()[0]), []interface{}{"myrepo/mymodel:mymodel-v2"})
	}},
	{"creates the env's namespace", func(t testing.TB) {
		w := svDevStarted(t)
		assertEqual(t, "namespace env label", w.Get(stepworld.GVKNamespace, "", "ml-dev").GetLabels()["ml-platform.oam.dev/env"], "dev")
	}},
	{"leaves a foreign namespace alone", func(t testing.TB) {
		w := svDevStarted(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ml-dev", Labels: map[string]string{"team": "other"}}})
		if _, ok := w.Get(stepworld.GVKNamespace, "", "ml-dev").GetLabels()["ml-platform.oam.dev/env"]; ok {
			t.Error("the step applied a namespace that exists and is not the application's")
		}
	}},
	{"keeps applying the namespace it created", func(t testing.TB) {
		w := svDevStarted(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ml-dev", Labels: map[string]string{
			"app.oam.dev/name": "pipeline", "app.oam.dev/namespace": "ml"}}})
		assertEqual(t, "env label of the re-applied namespace", w.Get(stepworld.GVKNamespace, "", "ml-dev").GetLabels()["ml-platform.oam.dev/env"], "dev")
	}},
	{"succeeds once every predictor is available, with a health-waiting apply", svDevStatus(readyDeployment(1),
		v1alpha1.WorkflowStepPhaseSucceeded, "serving my-tfserving-dev in ml-dev: model-predictor 1/1 ready")},
	{"waits while pods are not ready", svDevStatus(map[string]interface{}{"observedGeneration": int64(1), "replicas": int64(1), "updatedReplicas": int64(1)},
		v1alpha1.WorkflowStepPhaseRunning, svDevWaiting)},
	{"waits while an old pod still serves", svDevStatus(map[string]interface{}{"observedGeneration": int64(1), "replicas": int64(2), "readyReplicas": int64(2), "updatedReplicas": int64(1), "availableReplicas": int64(2)},
		v1alpha1.WorkflowStepPhaseRunning, "waiting for predictors to be available: my-tfserving-dev in ml-dev: model-predictor 2/1 ready")},
	{"waits while the ready pods are not updated", svDevStatus(map[string]interface{}{"observedGeneration": int64(1), "replicas": int64(1), "readyReplicas": int64(1), "updatedReplicas": int64(0), "availableReplicas": int64(1)},
		v1alpha1.WorkflowStepPhaseRunning, "waiting for predictors to be available: my-tfserving-dev in ml-dev: model-predictor 1/1 ready")},
	{"waits while ready pods are not available yet", svDevStatus(map[string]interface{}{"observedGeneration": int64(1), "replicas": int64(1), "readyReplicas": int64(1), "updatedReplicas": int64(1), "availableReplicas": int64(0)},
		v1alpha1.WorkflowStepPhaseRunning, "waiting for predictors to be available: my-tfserving-dev in ml-dev: model-predictor 1/1 ready")},
	{"waits while the status is older than the spec", svDevStatus(map[string]interface{}{"replicas": int64(1), "readyReplicas": int64(1), "updatedReplicas": int64(1), "availableReplicas": int64(1)},
		v1alpha1.WorkflowStepPhaseRunning, "waiting for predictors to be available: my-tfserving-dev in ml-dev: model-predictor 1/1 ready")},
	{"fails early on ErrImagePull", svBadReason("ErrImagePull", "rpc error: code = NotFound")},
	{"fails early on ImagePullBackOff", svBadReason("ImagePullBackOff", "Back-off pulling image \"tensorflow/serving:1.11.1\"")},
	{"fails early on InvalidImageName", svBadReason("InvalidImageName", "couldn't parse image name")},
	{"fails early on CrashLoopBackOff", svBadReason("CrashLoopBackOff", "back-off 5m0s restarting failed container=tensorflow")},
	{"fails early on CreateContainerConfigError", svBadReason("CreateContainerConfigError", "configmap \"x\" not found")},
	{"fails early on CreateContainerError", svBadReason("CreateContainerError", "context deadline exceeded")},
	{"fails early on RunContainerError", svBadReason("RunContainerError", "")},
	{"fails early when the model loader cannot be pulled", svPodWaits(func() *unstructured.Unstructured {
		p := svPod("current", "model-predictor", svDevImage, map[string]interface{}{"waiting": map[string]interface{}{"reason": "PodInitializing"}})
		p.Object["status"].(map[string]interface{})["initContainerStatuses"] = []interface{}{map[string]interface{}{
			"name": "model-loader", "state": ckWaiting("ImagePullBackOff", "Back-off pulling image \""+svDevImage+"\"")}}
		return p
	}(), "my-tfserving-dev cannot become available: predictor model-predictor in ml-dev: pod current container model-loader ImagePullBackOff: Back-off pulling image \""+svDevImage+"\"")},
	{"waits while a container is being created", svPodWaits(svPod("current", "model-predictor", svDevImage, ckWaiting("ContainerCreating", "")), "")},
	{"a pod of an older rollout that cannot start does not count", svPodWaits(svPod("old", "model-predictor", "myrepo/mymodel:broken", ckWaiting("ImagePullBackOff", "Back-off")), "")},
	{"a pod of another predictor does not count", svPodWaits(svPod("other", "other-predictor", svDevImage, ckWaiting("CrashLoopBackOff", "back-off")), "")},
	{"fails when the rollout exceeds its deadline", func(t testing.TB) {
		w := newStepWorld(t, servingApp)
		stepWant(t, w.Run("serve-direct"), v1alpha1.WorkflowStepPhaseRunning, "waiting for predictors to be available: direct in staging: p 0/1 ready")
		a := w.Applied()[0]
		w.wantApplied("direct in staging")
		assertEqual(t, "modelBasePath predictor is not resolved", a.Properties["predictors"].([]interface{})[0].(map[string]interface{})["modelImage"], nil)
		w.SetStatus(stepworld.GVKDeployment, "staging", "direct-p", svDeadline("ReplicaSet \"direct-p-5d4\" has timed out progressing."))
		stepWant(t, w.Run("serve-direct"), v1alpha1.WorkflowStepPhaseFailed, "direct cannot become available: predictor p in staging: ReplicaSet \"direct-p-5d4\" has timed out progressing.")
		w.wantApplied("direct in staging")
	}},
	{"says the deadline was exceeded when the condition has no message", func(t testing.TB) {
		w := newStepWorld(t, servingApp)
		stepWantPhase(t, w.Run("serve-direct"), v1alpha1.WorkflowStepPhaseRunning)
		w.SetStatus(stepworld.GVKDeployment, "staging", "direct-p", svDeadline(""))
		stepWant(t, w.Run("serve-direct"), v1alpha1.WorkflowStepPhaseFailed, "direct cannot become available: predictor p in staging: the rollout exceeded its progress deadline")
	}},
	{"the deadline of the previous rollout does not fail a new one", func(t testing.TB) {
		w := newStepWorld(t, servingApp)
		stepWantPhase(t, w.Run("serve-direct"), v1alpha1.WorkflowStepPhaseRunning)
		w.SetStatus(stepworld.GVKDeployment, "staging", "direct-p", svDeadline("ReplicaSet \"direct-p-5d4\" has timed out progressing."))
		// the application changes the predictor's image: this apply starts a new rollout
		w.App.Spec.Components[2].Properties.Raw = []byte(`{"predictors":[{"name":"p","modelBasePath":"s3://bucket/models/mymodel","template":{"spec":{"containers":[{"name":"tensorflow","image":"tensorflow/serving:2.18.1"}]}}}]}`)
		stepWant(t, w.Run("serve-direct"), v1alpha1.WorkflowStepPhaseRunning, "waiting for predictors to be available: direct in staging: p 0/1 ready")
	}},
	{"deploys prod into the namespace of the topology policy and waits for every predictor", func(t testing.TB) {
		w := newStepWorld(t, servingApp, servingRecord("mymodel-v1", "mymodel", ""), servingRecord("mymodel-v2", "mymodel", ""))
		stepWant(t, w.Run("serve-model-in-prod"), v1alpha1.WorkflowStepPhaseRunning,
			"waiting for predictors to be available: my-tfserving-prod in ml-production: model-a-predictor 0/2 ready, model-b-predictor 0/1 ready")
		assertEqual(t, "resolved images", svPredictorImages(t, w.Applied()[0]), []interface{}{"myrepo/mymodel:mymodel-v1@" + testDigest, "myrepo/mymodel:mymodel-v2@" + testDigest})
		w.wantApplied("my-tfserving-prod in ml-production")
		if w.Exists(stepworld.GVKNamespace, "", "ml-prod") {
			t.Error("the default namespace ml-prod was created although the topology policy names ml-production")
		}
		w.SetStatus(stepworld.GVKDeployment, "ml-production", "my-tfserving-prod-model-a-predictor", readyDeployment(2))
		stepWant(t, w.Run("serve-model-in-prod"), v1alpha1.WorkflowStepPhaseRunning,
			"waiting for predictors to be available: my-tfserving-prod in ml-production: model-a-predictor 2/2 ready, model-b-predictor 0/1 ready")
		w.wantApplied("my-tfserving-prod in ml-production")
		w.SetStatus(stepworld.GVKDeployment, "ml-production", "my-tfserving-prod-model-b-predictor", readyDeployment(1))
		stepWant(t, w.Run("serve-model-in-prod"), v1alpha1.WorkflowStepPhaseSucceeded,
			"serving my-tfserving-prod in ml-production: model-a-predictor 2/2 ready, model-b-predictor 1/1 ready")
		w.wantApplied("my-tfserving-prod in ml-production, waiting for health (healthy: true)")
	}},
	{"fails for an unknown model version", svFails("serve-model-in-prod", "model version mymodel-v1 not found; run ml-model-checkpoint first",
		servingRecord("mymodel-v2", "mymodel", ""))},
	{"fails for a record without an image", svFails("serve-model-in-dev", "model version mymodel-v2 not found; run ml-model-checkpoint first", func() client.Object {
		rec := servingRecord("mymodel-v2", "mymodel", "")
		delete(rec.Data, "image")
		return rec
	}())},
	{"fails for a component of another type", svFails("serve-web", `component "web" is of type webservice: ml-model-serving needs the name of one of its tfserving components`)},
	{"fails for an unknown component", svFails("serve-nope", `component "nope" is not in this application: ml-model-serving needs the name of one of its tfserving components`)},
	{"fails for a predictor without a model", svFails("serve-empty", "predictor p of component empty has no modelVersion, modelImage or modelBasePath: there is no model to serve")},
}

func TestServingStep(t *testing.T) { runStepCases(t, servingStepCases) }
