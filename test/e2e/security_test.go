package e2e

import (
	workflowv1alpha1 "github.com/kubevela/workflow/api/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var _ = Describe("Pod security", Label("security"), func() {
	It("serves the serving example in a namespace that enforces the restricted Pod Security Standard", func(ctx SpecContext) {
		ns := newNamespace(ctx, "serving-restricted", nil)
		dev := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name:   ns + "-dev",
			Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"},
		}}
		By("the dev environment's namespace exists already and enforces restricted")
		Expect(cluster.client.Create(ctx, dev)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) {
			if !*skipCleanup {
				Expect(client.IgnoreNotFound(cluster.client.Delete(ctx, dev))).To(Succeed())
			}
		})
		expectPodSecurityEnforced(ctx, dev.Name)
		app := upExample(ctx, servingExample, ns)

		waitForStep(ctx, ns, app, "serve-in-dev", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		for _, name := range []string{"mnist-stable", "mnist-canary"} {
			readyDeployment(ctx, dev.Name, name)
		}
		By("the apiserver admitted every predictor pod, model loader included")
		pods := &corev1.PodList{}
		Expect(cluster.client.List(ctx, pods, clientInNamespace(dev.Name))).To(Succeed())
		Expect(pods.Items).To(HaveLen(3), "2 stable + 1 canary")
		for _, p := range pods.Items {
			Expect(p.Spec.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()), p.Name)
			Expect(p.Spec.InitContainers).To(ContainElement(HaveField("Name", "model-loader")), p.Name)
		}
		Expect(cluster.client.Get(ctx, client.ObjectKeyFromObject(dev), dev)).To(Succeed())
		Expect(dev.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"),
			"the serving step must never weaken the namespace's policy")
	})

	It("refuses, in words and before any build pod, to checkpoint in a namespace that enforces restricted", func(ctx SpecContext) {
		ns := newNamespace(ctx, "checkpoint-restricted", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
		expectPodSecurityEnforced(ctx, ns)
		createModelStoreVolume(ctx, ns, "my-tfjob-models")
		app := upExample(ctx, pipelineExample, ns)
		By("training runs there: the tfjob's pods are restricted-compliant")
		waitForStep(ctx, ns, app, "train-model", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		waitForSuspendAt(ctx, ns, app, "evaluate-model")
		resume(ctx, ns, app)
		step := waitForStep(ctx, ns, app, "save-model", workflowv1alpha1.WorkflowStepPhaseFailed)
		Expect(step.Message).To(Equal("namespace " + ns + " enforces the restricted Pod Security Standard, and the model image is built by kaniko, which runs as root: checkpoint in a namespace that allows baseline pods"))
		expectFailedAtOnce(expectWorkflowFailed(ctx, ns, app, "save-model", "serve-model-in-dev", "evaluate-serving", "serve-model-in-prod"), "save-model")
		Expect(listObjects(ctx, "v1", "Pod", ns, map[string]string{"ml-platform.oam.dev/build": "true"})).To(BeEmpty(), "a build pod was created")
	})
})
