package offline

import (
	"strings"
	"testing"

	"github.com/kubevela/workflow/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ml-platform/ml-platform/pkg/render/stepworld"
)

// ---- ml-model-checkpoint ----

const checkpointApp = `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: pipeline
  namespace: ml
spec:
  components:
` + specTFJobComponent + `  workflow:
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

const (
	ckImage = "myrepo/mymodel:mymodel-v2"
	ckPod   = "pipeline-build-mymodel-v2"
	// what the step says while the build pod is Pending
	ckBuilding = "building model image " + ckImage + " from my-tfjob-v1 (/models/mymodel/1): pod " + ckPod + " is "
)

// ckBuild is the first reconcile of save-model with a succeeded training job:
// the build pod is created and the step waits for it.
func ckBuild(t testing.TB, objs ...client.Object) *stepWorld {
	t.Helper()
	w := newStepWorld(t, checkpointApp, append([]client.Object{stepTrainedJob("Succeeded")}, objs...)...)
	stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseRunning, ckBuilding+"Pending")
	w.wantApplied()
	return w
}

// ckContainer is a container status in the given state.
func ckContainer(name string, state map[string]interface{}) map[string]interface{} {
	return map[string]interface{}{"name": name, "state": state}
}

func ckTerminated(code int64, reason, message string) map[string]interface{} {
	t := map[string]interface{}{"exitCode": code, "reason": reason}
	if message != "" {
		t["message"] = message
	}
	return map[string]interface{}{"terminated": t}
}

func ckWaiting(reason, message string) map[string]interface{} {
	wt := map[string]interface{}{"reason": reason}
	if message != "" {
		wt["message"] = message
	}
	return map[string]interface{}{"waiting": wt}
}

// ckBuildPodStatus sets the build pod's status: its phase, its init
// containers' and containers' statuses.
func ckBuildPodStatus(w *stepWorld, phase string, init, containers []interface{}) {
	w.t.Helper()
	status := map[string]interface{}{"phase": phase}
	if init != nil {
		status["initContainerStatuses"] = init
	}
	if containers != nil {
		status["containerStatuses"] = containers
	}
	w.SetStatus(stepworld.GVKPod, "ml", ckPod, status)
}

// ckBuildPodFails: the build pod failed; the step fails with message.
func ckBuildPodFails(status map[string]interface{}, message string) func(t testing.TB) {
	return func(t testing.TB) {
		w := ckBuild(t)
		status["phase"] = "Failed"
		w.SetStatus(stepworld.GVKPod, "ml", ckPod, status)
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseFailed, message)
		if w.Exists(stepworld.GVKConfigMap, "ml", "model-version-mymodel-v2") {
			t.Error("a failed build wrote a record")
		}
	}
}

// ckCannotStart: a container of the build pod waits for a reason that
// does not pass: the step fails at once, before the pod fails.
func ckCannotStart(init bool, container, reason, message, want string) func(t testing.TB) {
	return func(t testing.TB) {
		w := ckBuild(t)
		statuses := []interface{}{ckContainer(container, ckWaiting(reason, message))}
		if init {
			ckBuildPodStatus(w, "Pending", statuses, nil)
		} else {
			ckBuildPodStatus(w, "Pending", []interface{}{ckContainer("prepare", ckTerminated(0, "Completed", ""))}, statuses)
		}
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseFailed, want)
	}
}

// ckNoJob: save-model finds no succeeded training job of this revision.
func ckNoJob(revision string, message string, objs ...client.Object) func(t testing.TB) {
	return func(t testing.TB) {
		w := newStepWorld(t, checkpointApp, objs...)
		if revision != "" {
			w.Revision = revision
		}
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseFailed, message)
		if w.Exists(stepworld.GVKPod, "ml", ckPod) {
			t.Error("a build pod was created without a succeeded training job")
		}
	}
}

// ckComponentProblem: an app whose components do not name one tfjob.
func ckComponentProblem(app, step, message string) func(t testing.TB) {
	return func(t testing.TB) {
		w := newStepWorld(t, app, stepTrainedJob("Succeeded"))
		stepWant(t, w.Run(step), v1alpha1.WorkflowStepPhaseFailed, message)
		if w.Exists(stepworld.GVKPod, "ml", ckPod) {
			t.Error("a build pod was created")
		}
	}
}

// ckApp is checkpointApp with more components and steps.
func ckApp(components, steps string) string {
	app := strings.Replace(checkpointApp, "  workflow:", components+"  workflow:", 1)
	return app + steps
}

const ckWrongComponents = `
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

const ckWeb = `    - name: web
      type: webservice
      properties:
        image: nginx
`

func ckRecord(name, trainingJob string, labels map[string]string, data map[string]string) *corev1.ConfigMap {
	l := map[string]string{"ml-platform.oam.dev/model-version": strings.TrimPrefix(name, "model-version-")}
	for k, v := range labels {
		l[k] = v
	}
	d := map[string]string{"trainingJob": trainingJob}
	for k, v := range data {
		d[k] = v
	}
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ml", Labels: l}, Data: d}
}
