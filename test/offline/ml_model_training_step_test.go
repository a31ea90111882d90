package offline

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubevela/workflow/api/v1alpha1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ml-platform/ml-platform/pkg/render/stepworld"
)

// trainingStepApp trains my-tfjob (with a labels trait) in its own namespace;
// the other steps train without a dataset, in another namespace, a job
// without workers, and point ml-model-training at the wrong components.
const trainingStepApp = `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: trainer
  namespace: team-a
spec:
  components:
    - name: my-tfjob
      type: tfjob
      properties:
        modelVersion: {modelName: m, imageRepo: myrepo/m}
        tfReplicaSpecs:
          PS:
            replicas: 1
            template: {spec: {containers: [{name: tensorflow, image: tf:1}]}}
          Worker:
            replicas: 3
            template: {spec: {containers: [{name: tensorflow, image: tf:1}]}}
      traits:
        - type: labels
          properties: {a: b}
    - name: chief
      type: tfjob
      properties:
        modelVersion: {modelName: c}
        tfReplicaSpecs:
          Chief:
            template: {spec: {containers: [{name: tensorflow, image: tf:1}]}}
          Evaluator:
            replicas: 1
            template: {spec: {containers: [{name: tensorflow, image: tf:1}]}}
    - name: web
      type: webservice
      properties: {image: nginx}
  workflow:
    steps:
      - name: train
        type: ml-model-training
        properties:
          component: my-tfjob
          dataset: {s3: {bucket: b, secretRef: {name: creds}}}
      - name: train-plain
        type: ml-model-training
        properties: {component: my-tfjob}
      - name: train-elsewhere
        type: ml-model-training
        properties: {component: my-tfjob, namespace: team-b}
      - name: train-chief
        type: ml-model-training
        properties: {component: chief}
      - name: train-web
        type: ml-model-training
        properties: {component: web}
      - name: train-nope
        type: ml-model-training
        properties: {component: nope}
`

const trJob = "my-tfjob-v1"

// trStarted is the first reconcile of a step of trainingStepApp: the
// component is applied without a health wait and the step waits for the
// training operator.
func trStarted(t testing.TB, step, job string) *stepWorld {
	t.Helper()
	w := newStepWorld(t, trainingStepApp)
	stepWant(t, w.Run(step), v1alpha1.WorkflowStepPhaseRunning, "Waiting for the training operator to pick up TFJob "+job)
	return w
}

// trReconciled: the train step once started, then reconciled again after the
// training operator set the TFJob's status. The step shows the phase and
// message, applying the component without waiting for health, and
// once more, waiting for health, only when the job succeeded.
func trReconciled(status map[string]interface{}, phase v1alpha1.WorkflowStepPhase, message string) func(t testing.TB) {
	return func(t testing.TB) {
		w := trStarted(t, "train", trJob)
		w.wantApplied("my-tfjob")
		w.SetStatus(stepworld.GVKTFJob, "team-a", trJob, status)
		stepWant(t, w.Run("train"), phase, message)
		if phase == v1alpha1.WorkflowStepPhaseSucceeded {
			w.wantApplied("my-tfjob", "my-tfjob, waiting for health (healthy: true)")
		} else {
			w.wantApplied("my-tfjob")
		}
	}
}

func trConditions(conds ...map[string]interface{}) map[string]interface{} {
	list := make([]interface{}, 0, len(conds))
	for _, c := range conds {
		list = append(list, c)
	}
	return map[string]interface{}{"conditions": list}
}

// The ml-model-training step run through KubeVela's workflow engine, one
// reconcile per run, with the TFJob's status set between runs as the
// training operator would, situation by situation.
var trainingStepCases = []stepCase{
	{"fails for an unknown component", func(t testing.TB) {
		w := newStepWorld(t, trainingStepApp)
		stepWant(t, w.Run("train-nope"), v1alpha1.WorkflowStepPhaseFailed,
			`component "nope" is not in this application: ml-model-training needs the name of one of its tfjob components`)
		w.wantApplied()
	}},
	{"fails for a component of another type", func(t testing.TB) {
		w := newStepWorld(t, trainingStepApp)
		stepWant(t, w.Run("train-web"), v1alpha1.WorkflowStepPhaseFailed,
			`component "web" is of type webservice: ml-model-training needs the name of one of its tfjob components`)
		w.wantApplied()
		if w.Exists(stepworld.GVKDeployment, "team-a", "web") {
			t.Error("the step applied the webservice")
		}
	}},
	{"applies the component with the dataset trait, without a health wait", func(t testing.TB) {
		w := trStarted(t, "train", trJob)
		w.wantApplied("my-tfjob")
		tf := w.Get(stepworld.GVKTFJob, "team-a", trJob)
		if tf.GetLabels()["a"] != "b" {
			t.Errorf("TFJob labels = %v: the component's own labels trait is lost", tf.GetLabels())
		}
		for _, role := range []string{"PS", "Worker"} {
			pod, _, _ := unstructured.NestedMap(tf.Object, "spec", "tfReplicaSpecs", role, "template", "spec")
			stepMustContain(t, role+" init containers", fmt.Sprint(pod["initContainers"]), "name:dataset-loader", ":s3:b")
			stepMustContain(t, role+" containers", fmt.Sprint(pod["containers"]), "DATASET_DIR")
		}
		// the next reconcile applies again, still without waiting
		stepWant(t, w.Run("train"), v1alpha1.WorkflowStepPhaseRunning, "Waiting for the training operator to pick up TFJob "+trJob)
		w.wantApplied("my-tfjob")
	}},
	{"no dataset, no loader", func(t testing.TB) {
		w := trStarted(t, "train-plain", trJob)
		w.wantApplied("my-tfjob")
		worker, _, _ := unstructured.NestedMap(w.Get(stepworld.GVKTFJob, "team-a", trJob).Object, "spec", "tfReplicaSpecs", "Worker", "template", "spec")
		if strings.Contains(fmt.Sprint(worker["initContainers"]), "dataset") {
			t.Errorf("a dataset loader without a dataset: %v", worker["initContainers"])
		}
		assertEqual(t, "labels trait kept", w.Get(stepworld.GVKTFJob, "team-a", trJob).GetLabels()["a"], "b")
	}},
	{"waits while the job is created", trReconciled(trConditions(trCond("Created", "True", "TFJob my-tfjob-v1 is created.")),
		v1alpha1.WorkflowStepPhaseRunning, "TFJob "+trJob+": Created, waiting for pods")},
	{"waits with the workers' progress while the job runs", trReconciled(map[string]interface{}{
		"conditions":      []interface{}{trCond("Created", "True", ""), trCond("Running", "True", "")},
		"replicaStatuses": map[string]interface{}{"Worker": map[string]interface{}{"active": int64(2)}, "PS": map[string]interface{}{"active": int64(1)}},
	}, v1alpha1.WorkflowStepPhaseRunning, "TFJob "+trJob+": Running: 2/3 workers active")},
	{"counts every replica of a job without workers", func(t testing.TB) {
		w := trStarted(t, "train-chief", "chief-v1")
		w.wantApplied("chief")
		w.SetStatus(stepworld.GVKTFJob, "team-a", "chief-v1", map[string]interface{}{
			"conditions":      []interface{}{trCond("Running", "True", "")},
			"replicaStatuses": map[string]interface{}{"Chief": map[string]interface{}{"active": int64(1)}},
		})
		stepWant(t, w.Run("train-chief"), v1alpha1.WorkflowStepPhaseRunning, "TFJob chief-v1: Running: 1/2 replicas active")
	}},
	{"waits while the job restarts", trReconciled(trConditions(trCond("Created", "True", ""), trCond("Running", "False", ""), trCond("Restarting", "True", "worker 1 restarted")),
		v1alpha1.WorkflowStepPhaseRunning, "TFJob "+trJob+": Restarting: worker 1 restarted")},
	{"waits while the job is suspended", trReconciled(trConditions(trCond("Created", "True", ""), trCond("Suspended", "True", "suspended by the user")),
		v1alpha1.WorkflowStepPhaseRunning, "TFJob "+trJob+": Suspended")},
	{"fails at once with the job's message", trReconciled(trConditions(trCond("Running", "False", ""),
		trCond("Failed", "True", "TFJob team-a/"+trJob+" has failed because 1 Worker replica(s) failed.")),
		v1alpha1.WorkflowStepPhaseFailed, "TFJob "+trJob+": Failed: TFJob team-a/"+trJob+" has failed because 1 Worker replica(s) failed.")},
	{"fails with the condition's reason when it has no message", trReconciled(trConditions(trCond("Failed", "True", "")),
		v1alpha1.WorkflowStepPhaseFailed, "TFJob "+trJob+": Failed: TFJobFailed")},
	{"a False Failed condition is no failure", trReconciled(trConditions(trCond("Created", "True", ""), trCond("Failed", "False", "")),
		v1alpha1.WorkflowStepPhaseRunning, "TFJob "+trJob+": Created, waiting for pods")},
	{"succeeds with a final health-waiting apply", trReconciled(trConditions(trCond("Running", "False", ""), trCond("Succeeded", "True", "")),
		v1alpha1.WorkflowStepPhaseSucceeded, "")},
	{"a False Succeeded condition is no success", trReconciled(trConditions(trCond("Created", "True", ""), trCond("Succeeded", "False", "")),
		v1alpha1.WorkflowStepPhaseRunning, "TFJob "+trJob+": Created, waiting for pods")},
	{"trains in the namespace it is given", func(t testing.TB) {
		w := trStarted(t, "train-elsewhere", trJob)
		w.wantApplied("my-tfjob in team-b")
		if w.Exists(stepworld.GVKTFJob, "team-a", trJob) {
			t.Error("the TFJob went to the application's namespace")
		}
		w.SetStatus(stepworld.GVKTFJob, "team-b", trJob, trConditions(trCond("Created", "True", "")))
		stepWant(t, w.Run("train-elsewhere"), v1alpha1.WorkflowStepPhaseRunning, "TFJob "+trJob+": Created, waiting for pods")
		w.wantApplied("my-tfjob in team-b")
		w.SetStatus(stepworld.GVKTFJob, "team-b", trJob, trConditions(trCond("Succeeded", "True", "")))
		stepWant(t, w.Run("train-elsewhere"), v1alpha1.WorkflowStepPhaseSucceeded, "")
		w.wantApplied("my-tfjob in team-b", "my-tfjob in team-b, waiting for health (healthy: true)")
	}},
}

func TestTrainingStep(t *testing.T) { runStepCases(t, trainingStepCases) }
