package e2e

import (
	"time"

	oamv1alpha1 "github.com/kubevela/pkg/apis/oam/v1alpha1"
	workflowv1alpha1 "github.com/kubevela/workflow/api/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const trainingExample = "examples/training/app.yaml"

// tfjobsOf lists the TFJobs a component of an app created.
func tfjobsOf(ctx SpecContext, namespace, app, comp string) []unstructured.Unstructured {
	return listObjects(ctx, "kubeflow.org/v1", "TFJob", namespace,
		map[string]string{"app.oam.dev/name": app, "app.oam.dev/component": comp})
}

// tfjobCondition returns the status of a TFJob condition type, or "".
func tfjobCondition(job unstructured.Unstructured, typ string) (status, message string) {
	conds, _, _ := unstructured.NestedSlice(job.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]interface{})
		if m["type"] == typ {
			s, _ := m["status"].(string)
			msg, _ := m["message"].(string)
			return s, msg
		}
	}
	return "", ""
}

// tfjobConditionTime returns the lastTransitionTime of a TFJob condition.
func tfjobConditionTime(job unstructured.Unstructured, typ string) (time.Time, bool) {
	conds, _, _ := unstructured.NestedSlice(job.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]interface{})
		if m["type"] != typ {
			continue
		}
		s, _ := m["lastTransitionTime"].(string)
		t, err := time.Parse(time.RFC3339, s)
		return t, err == nil
	}
	return time.Time{}, false
}

// expectAllReplicasRan checks, from the TFJob's own status, that every
// replica was created and ran (pods of finished replicas may already be
// cleaned up by the job's cleanPodPolicy).
func expectAllReplicasRan(job unstructured.Unstructured, want map[string]int64) {
	for role, n := range want {
		st, _, _ := unstructured.NestedMap(job.Object, "status", "replicaStatuses", role)
		var seen int64
		for _, k := range []string{"active", "succeeded", "failed"} {
			if v, ok := st[k].(int64); ok {
				seen += v
			}
		}
		Expect(seen).To(Equal(n), "TFJob %s: %s replicas seen %v", job.GetName(), role, st)
	}
}

// prepareTraining creates what the training example expects to exist: the
// bucket credentials Secret and a volume for the model store claim.
func prepareTraining(ctx SpecContext, namespace, comp string) {
	createSecret(ctx, namespace, "s3-credentials", corev1.SecretTypeOpaque,
		map[string]string{"accessKeyId": "test-key-id", "secretAccessKey": "test-secret"})
	createModelStoreVolume(ctx, namespace, comp+"-models")
}

var _ = Describe("Training with ml-model-training", Label("training"), func() {
	It("runs the TFJob to Succeeded and completes the step", func(ctx SpecContext) {
		ns := newNamespace(ctx, "training", nil)
		prepareTraining(ctx, ns, "mnist")
		app := upExample(ctx, trainingExample, ns)

		waitForStep(ctx, ns, app, "train-model", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		jobs := tfjobsOf(ctx, ns, app, "mnist")
		Expect(jobs).To(HaveLen(1), "exactly one TFJob per training run")
		status, _ := tfjobCondition(jobs[0], "Succeeded")
		Expect(status).To(Equal("True"))
		expectAllReplicasRan(jobs[0], map[string]int64{"PS": 2, "Worker": 3})
		By("the dataset loader and the model store are in every replica's pod")
		pods := &corev1.PodList{}
		Expect(cluster.client.List(ctx, pods, clientInNamespace(ns), clientLabels(map[string]string{"ml-platform.oam.dev/model": "mnist"}))).To(Succeed())
		Expect(pods.Items).NotTo(BeEmpty())
		for _, p := range pods.Items {
			Expect(p.Spec.InitContainers).To(ContainElement(HaveField("Name", "dataset-loader")), p.Name)
			Expect(p.Spec.Volumes).To(ContainElement(HaveField("PersistentVolumeClaim.ClaimName", "mnist-models")), p.Name)
		}
		waitForAppPhase(ctx, ns, app, "running")
	})

	It("fails the step with the TFJob's message when training fails, and stops the workflow", func(ctx SpecContext) {
		ns := newNamespace(ctx, "training-fail", nil)
		prepareTraining(ctx, ns, "mnist")
		app := readExample(trainingExample)
		comp := component(app, "mnist")
		props := properties(comp)
		worker := props["tfReplicaSpecs"].(map[string]interface{})["Worker"].(map[string]interface{})
		worker["restartPolicy"] = "Never"
		tmpl := worker["template"].(map[string]interface{})
		tmpl["metadata"] = map[string]interface{}{"labels": map[string]interface{}{"ml-platform.oam.dev/simulate": "fail"}}
		setProperties(comp, props)
		app.Spec.Workflow.Steps = append(app.Spec.Workflow.Steps, oamv1alpha1.WorkflowStep{
			WorkflowStepBase: oamv1alpha1.WorkflowStepBase{Name: "evaluate-model", Type: "suspend"}})
		name := upApplication(ctx, app, ns)

		step := waitForStep(ctx, ns, name, "train-model", workflowv1alpha1.WorkflowStepPhaseFailed)
		Expect(step.Message).To(ContainSubstring("failed"), "the step message should carry the TFJob's failure")
		jobs := tfjobsOf(ctx, ns, name, "mnist")
		Expect(jobs).To(HaveLen(1))
		_, msg := tfjobCondition(jobs[0], "Failed")
		Expect(msg).NotTo(BeEmpty())
		Expect(step.Message).To(ContainSubstring(msg))
		By("the step failed within one backoff of the TFJob's failure")
		failedAt, ok := tfjobConditionTime(jobs[0], "Failed")
		Expect(ok).To(BeTrue(), "the Failed condition has no lastTransitionTime")
		By("the workflow stops: it ends workflowFailed, and the evaluation gate is skipped, never suspended")
		a := expectWorkflowFailed(ctx, ns, name, "train-model", "evaluate-model")
		expectFailedWithinBackoff(a, "train-model", failedAt)
		Expect(a.Status.Workflow.Suspend).To(BeFalse(), describeSteps(a))
		Expect(tfjobsOf(ctx, ns, name, "mnist")).To(HaveLen(1), "the failed training was retried with a new TFJob")
	})
})
