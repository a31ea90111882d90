package e2e

import (
	workflowv1alpha1 "github.com/kubevela/workflow/api/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ml-platform/ml-platform/pkg/render"
	"github.com/ml-platform/ml-platform/pkg/testenv/fixtures"
)

const pipelineExample = "examples/pipeline/app.yaml"

// readyDeployment waits until a Deployment has all its replicas ready and returns it.
func readyDeployment(ctx SpecContext, namespace, name string) *appsv1.Deployment {
	return readyDeploymentIn(ctx, cluster.client, namespace, name)
}

// readyDeploymentIn is readyDeployment in the cluster of c.
func readyDeploymentIn(ctx SpecContext, c client.Client, namespace, name string) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	Eventually(func(g Gomega) {
		g.Expect(c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, d)).To(Succeed())
		g.Expect(d.Status.ReadyReplicas).To(BeNumerically(">=", 1), "deployment %s/%s not ready", namespace, name)
		if d.Spec.Replicas != nil {
			g.Expect(d.Status.ReadyReplicas).To(Equal(*d.Spec.Replicas))
		}
	}, stepTimeout, poll).Should(Succeed())
	return d
}

// record reads a model-version record.
func record(ctx SpecContext, namespace, modelName string) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{}
	Expect(cluster.client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: "model-version-" + modelName}, cm)).
		To(Succeed(), "no model-version record for %s", modelName)
	return cm
}

// newPipelineNamespace makes a namespace for a pipeline example: the
// volume for the model store of its tfjob my-tfjob, and the record of
// mymodel-v1, which an earlier run would have checkpointed and which its
// prod predictors serve.
func newPipelineNamespace(ctx SpecContext, prefix string) string {
	ns := newNamespace(ctx, prefix, nil)
	createModelStoreVolume(ctx, ns, "my-tfjob-models")
	By("an earlier run checkpointed mymodel-v1 (on the hub), which the prod predictors still serve")
	Expect(cluster.client.Create(ctx, fixtures.ModelVersionRecord(ns, "mymodel-v1", "mymodel", "1", "myrepo/mymodel:mymodel-v1"))).To(Succeed())
	return ns
}

// initImages lists the images of a pod template's init containers.
func initImages(spec corev1.PodTemplateSpec) []string {
	var images []string
	for _, c := range spec.Spec.InitContainers {
		images = append(images, c.Image)
	}
	return images
}

var _ = Describe("The spec's ML pipeline", Label("pipeline"), Ordered, func() {
	var ns, app string

	BeforeAll(func(ctx SpecContext) {
		ns = newPipelineNamespace(ctx, "pipeline")
		app = upExample(ctx, pipelineExample, ns)
	})

	It("trains, then waits for the model to be evaluated", func(ctx SpecContext) {
		waitForStep(ctx, ns, app, "train-model", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		jobs := tfjobsOf(ctx, ns, app, "my-tfjob")
		Expect(jobs).To(HaveLen(1))
		status, _ := tfjobCondition(jobs[0], "Succeeded")
		Expect(status).To(Equal("True"))
		waitForSuspendAt(ctx, ns, app, "evaluate-model")
	})

	It("checkpoints the model as a versioned image and records it", func(ctx SpecContext) {
		resume(ctx, ns, app)
		waitForStep(ctx, ns, app, "save-model", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		rec := record(ctx, ns, "mymodel-v2")
		Expect(rec.Labels).To(HaveKeyWithValue("ml-platform.oam.dev/model-version", "mymodel-v2"))
		Expect(rec.Data).To(HaveKeyWithValue("image", "myrepo/mymodel:mymodel-v2"))
		Expect(rec.Data["trainingJob"]).To(Equal(tfjobsOf(ctx, ns, app, "my-tfjob")[0].GetName()))
		builds := &corev1.PodList{}
		Expect(cluster.client.List(ctx, builds, clientInNamespace(ns), clientLabels(map[string]string{"ml-platform.oam.dev/build": "true"}))).To(Succeed())
		Expect(builds.Items).To(HaveLen(1))
		Expect(builds.Items[0].Status.Phase).To(Equal(corev1.PodSucceeded))
	})

	It("serves the recorded image in dev, then waits for the serving to be evaluated", func(ctx SpecContext) {
		waitForStep(ctx, ns, app, "serve-model-in-dev", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		d := readyDeployment(ctx, ns+"-dev", "my-tfserving-dev-model-predictor")
		Expect(initImages(d.Spec.Template)).To(ContainElement("myrepo/mymodel:mymodel-v2"),
			"the dev predictor should load the image recorded for mymodel-v2")
		waitForSuspendAt(ctx, ns, app, "evaluate-serving")
		By("nothing is in prod before the gate is passed")
		Expect(listObjects(ctx, "apps/v1", "Deployment", ns+"-prod", nil)).To(BeEmpty())
	})

	It("serves both model versions in prod, 90/10", func(ctx SpecContext) {
		resume(ctx, ns, app)
		waitForStep(ctx, ns, app, "serve-model-in-prod", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		a := readyDeployment(ctx, ns+"-prod", "my-tfserving-prod-model-a-predictor")
		b := readyDeployment(ctx, ns+"-prod", "my-tfserving-prod-model-b-predictor")
		Expect(initImages(a.Spec.Template)).To(ContainElement("myrepo/mymodel:mymodel-v1"))
		Expect(initImages(b.Spec.Template)).To(ContainElement("myrepo/mymodel:mymodel-v2"))
		route, err := getObject(ctx, "gateway.networking.k8s.io/v1", "HTTPRoute", ns+"-prod", "my-tfserving-prod")
		Expect(err).NotTo(HaveOccurred())
		Expect(render.RouteWeights(route)).To(Equal(map[string]int64{
			"my-tfserving-prod-model-a-predictor": 90,
			"my-tfserving-prod-model-b-predictor": 10,
		}))
		By("arms-metrics and arms-logging reached the prod pods")
		pods := &corev1.PodList{}
		Expect(cluster.client.List(ctx, pods, clientInNamespace(ns+"-prod"))).To(Succeed())
		Expect(pods.Items).NotTo(BeEmpty())
		for _, p := range pods.Items {
			Expect(p.Annotations).To(HaveKeyWithValue("prometheus.io/scrape", "true"), p.Name)
			var envNames []string
			for _, e := range p.Spec.Containers[0].Env {
				envNames = append(envNames, e.Name)
			}
			Expect(envNames).To(ContainElement(HavePrefix("aliyun_logs_")), p.Name)
		}
		waitForAppPhase(ctx, ns, app, "running")
	})
})
