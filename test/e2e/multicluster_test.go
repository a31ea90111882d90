package e2e

import (
	"encoding/json"

	workflowv1alpha1 "github.com/kubevela/workflow/api/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"
	"github.com/oam-dev/kubevela/pkg/utils/common"
)

// skipUnlessClusters skips a spec that needs the managed clusters dev and
// prod of the embedded control plane (ML_PLATFORM_CLUSTERS=3, make e2e CLUSTERS=3).
func skipUnlessClusters() {
	if cluster.env == nil || cluster.env.Clusters != 3 {
		Skip("needs the managed clusters dev and prod: runs only on the embedded control plane with ML_PLATFORM_CLUSTERS=3 (make e2e CLUSTERS=3)")
	}
}

// managedClient is a client of a managed cluster of the embedded control plane.
func managedClient(name string) client.Client {
	cfg, err := clientcmd.BuildConfigFromFlags("", cluster.env.ManagedKubeconfig(name))
	Expect(err).NotTo(HaveOccurred())
	cli, err := client.New(cfg, client.Options{Scheme: common.Scheme})
	Expect(err).NotTo(HaveOccurred())
	return cli
}

var _ = Describe("Serving across clusters", Label("multicluster"), func() {
	BeforeEach(skipUnlessClusters)

	It("deploys a tfserving component with env prod into the prod cluster named by the topology policy prod", func(ctx SpecContext) {
		ns := newNamespace(ctx, "mc-serving", nil)
		prodNamespace := ns + "-prod"
		app := readExample(servingExample)
		comp := component(app, "mnist")
		props := properties(comp)
		// The managed clusters have no Gateway API CRDs: the predictors
		// are reached through the stable Service only.
		props["traffic"] = map[string]interface{}{"router": "none"}
		setProperties(comp, props)
		raw, err := json.Marshal(map[string]interface{}{"clusters": []string{"prod"}, "namespace": prodNamespace})
		Expect(err).NotTo(HaveOccurred())
		app.Spec.Policies = []v1beta1.AppPolicy{{Name: "prod", Type: "topology", Properties: &runtime.RawExtension{Raw: raw}}}
		app.Spec.Workflow.Steps = append(app.Spec.Workflow.Steps[:0],
			stepWith("serve-in-prod", "ml-model-serving", map[string]interface{}{"component": "mnist", "env": "prod"}))
		name := upApplication(ctx, app, ns)

		waitForStep(ctx, ns, name, "serve-in-prod", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		prod := managedClient("prod")
		for _, predictor := range []string{"mnist-stable", "mnist-canary"} {
			By("Deployment " + predictor + " runs in cluster prod, and not on the hub")
			d := &appsv1.Deployment{}
			Eventually(func(g Gomega) {
				g.Expect(prod.Get(ctx, types.NamespacedName{Namespace: prodNamespace, Name: predictor}, d)).To(Succeed())
				g.Expect(d.Spec.Replicas).NotTo(BeNil())
				g.Expect(d.Status.ReadyReplicas).To(Equal(*d.Spec.Replicas))
			}, objectTimeout, poll).Should(Succeed())
			err := cluster.client.Get(ctx, types.NamespacedName{Namespace: prodNamespace, Name: predictor}, &appsv1.Deployment{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the hub has %s/%s: %v", prodNamespace, predictor, err)
			err = managedClient("dev").Get(ctx, types.NamespacedName{Namespace: prodNamespace, Name: predictor}, &appsv1.Deployment{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "cluster dev has %s/%s: %v", prodNamespace, predictor, err)
		}

		By("vela-core reports the component in cluster prod")
		Eventually(func(g Gomega) {
			a := getApp(ctx, ns, name)
			var clusters []string
			for _, s := range a.Status.Services {
				if s.Name == "mnist" {
					clusters = append(clusters, s.Cluster)
				}
			}
			g.Expect(clusters).To(Equal([]string{"prod"}))
		}, objectTimeout, poll).Should(Succeed())
		Eventually(func() string { return componentMessage(ctx, ns, name, "mnist") }, objectTimeout, poll).
			Should(Equal("stable: 2/2 ready, 90% traffic; canary: 1/1 ready, 10% traffic"))
		waitForAppPhase(ctx, ns, name, "running")
	})
})
