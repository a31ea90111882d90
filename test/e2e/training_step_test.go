package e2e

import (
	"strings"

	workflowv1alpha1 "github.com/kubevela/workflow/api/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	"github.com/ml-platform/ml-platform/pkg/render"
	"github.com/ml-platform/ml-platform/pkg/testenv/appflow"
)

// stepOnlyApp is an Application whose one ml-model-training step names a
// component that is missing or not a tfjob.
const stepOnlyApp = `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: train-wrong-component
spec:
  components:
    - name: web
      type: webservice
      properties:
        image: nginx:1.25
  workflow:
    steps:
      - name: train-model
        type: ml-model-training
        properties:
          component: COMPONENT
`

var _ = Describe("The ml-model-training step and the tfjob component", Label("training"), func() {
	It("trains in a namespace that enforces the restricted Pod Security Standard, and reports the run in the component status", func(ctx SpecContext) {
		ns := newNamespace(ctx, "training-restricted", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
		expectPodSecurityEnforced(ctx, ns)
		prepareTraining(ctx, ns, "mnist")
		app := upExample(ctx, trainingExample, ns)

		waitForStep(ctx, ns, app, "train-model", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		pods := &corev1.PodList{}
		Expect(cluster.client.List(ctx, pods, clientInNamespace(ns), clientLabels(map[string]string{"ml-platform.oam.dev/model": "mnist"}))).To(Succeed())
		Expect(pods.Items).NotTo(BeEmpty(), "the restricted namespace admitted no training pod")
		jobs := tfjobsOf(ctx, ns, app, "mnist")
		Expect(jobs).To(HaveLen(1))
		expectAllReplicasRan(jobs[0], map[string]int64{"PS": 2, "Worker": 3})

		By("the component status says the job succeeded")
		Eventually(func(g Gomega) {
			a, err := appflow.Get(ctx, cluster.client, ns, app)
			g.Expect(err).NotTo(HaveOccurred())
			found := false
			for _, s := range a.Status.Services {
				if s.Name == "mnist" {
					found = true
					g.Expect(s.Healthy).To(BeTrue(), "tfjob health is a Succeeded condition")
					g.Expect(s.Message).To(HavePrefix("Succeeded"))
				}
			}
			g.Expect(found).To(BeTrue(), "no status for component mnist")
		}, objectTimeout, poll).Should(Succeed())
	})

	for _, c := range []struct{ component, message string }{
		{"nope", `component "nope" is not in this application`},
		{"web", `component "web" is of type webservice: ml-model-training needs the name of one of its tfjob components`},
	} {
		c := c
		It("fails at once when the step names "+c.component, func(ctx SpecContext) {
			ns := newNamespace(ctx, "training-"+c.component, nil)
			app, _, err := render.ParseApplication([]byte(strings.Replace(stepOnlyApp, "COMPONENT", c.component, 1)))
			Expect(err).NotTo(HaveOccurred())
			name := upApplication(ctx, app, ns)
			step := waitForStep(ctx, ns, name, "train-model", workflowv1alpha1.WorkflowStepPhaseFailed)
			Expect(step.Message).To(ContainSubstring(c.message))
			expectFailedAtOnce(expectWorkflowFailed(ctx, ns, name, "train-model"), "train-model")
			Expect(listObjects(ctx, "kubeflow.org/v1", "TFJob", ns, nil)).To(BeEmpty(), "the failed step applied a TFJob")
		})
	}
})
