package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	workflowv1alpha1 "github.com/kubevela/workflow/api/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"
	"github.com/oam-dev/kubevela/pkg/utils/common"

	"github.com/ml-platform/ml-platform/pkg/render"
	"github.com/ml-platform/ml-platform/pkg/testenv"
	"github.com/ml-platform/ml-platform/pkg/testenv/addon"
	"github.com/ml-platform/ml-platform/pkg/testenv/appflow"
)

// skipUnlessClusters skips a spec that needs the managed clusters dev and
// prod of the embedded control plane (ML_PLATFORM_CLUSTERS=3, make e2e CLUSTERS=3).
func skipUnlessClusters() {
	if cluster.env == nil || cluster.env.Clusters != 3 {
		Skip("needs the managed clusters dev and prod: runs only on the embedded control plane with ML_PLATFORM_CLUSTERS=3 (make e2e CLUSTERS=3)")
	}
}

// managedConfig is the admin config of a managed cluster of the embedded
// control plane.
func managedConfig(env *testenv.Environment, name string) *rest.Config {
	cfg, err := clientcmd.BuildConfigFromFlags("", env.ManagedKubeconfig(name))
	Expect(err).NotTo(HaveOccurred())
	return cfg
}

// managedClient is a client of a managed cluster of the embedded control plane.
func managedClient(name string) client.Client {
	cli, err := client.New(managedConfig(cluster.env, name), client.Options{Scheme: common.Scheme})
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

	It("waits, naming it, while the env's policy names a cluster that is not joined, and serves there once it is", func(ctx SpecContext) {
		ns := newNamespace(ctx, "mc-unjoined", nil)
		app := readExample(servingExample)
		comp := component(app, "mnist")
		props := properties(comp)
		props["traffic"] = map[string]interface{}{"router": "none"}
		setProperties(comp, props)
		raw, err := json.Marshal(map[string]interface{}{"clusters": []string{"edge"}})
		Expect(err).NotTo(HaveOccurred())
		app.Spec.Policies = []v1beta1.AppPolicy{{Name: "prod", Type: "topology", Properties: &runtime.RawExtension{Raw: raw}}}
		app.Spec.Workflow.Steps = append(app.Spec.Workflow.Steps[:0],
			stepWith("serve-in-prod", "ml-model-serving", map[string]interface{}{"component": "mnist", "env": "prod"}))
		name := upApplication(ctx, app, ns)
		Eventually(func(g Gomega) {
			a := getApp(ctx, ns, name)
			s := appflow.Step(a, "serve-in-prod")
			g.Expect(s).NotTo(BeNil(), describeSteps(a))
			g.Expect(s.Phase).To(Equal(workflowv1alpha1.WorkflowStepPhaseRunning), describeSteps(a))
			g.Expect(s.Message).To(Equal("cluster edge of topology policy prod is not joined to KubeVela (vela cluster list does not show it): waiting until it is joined"))
		}, stepTimeout, poll).Should(Succeed())

		By("joining cluster edge: the cluster Secret of prod's apiserver, named edge, as vela cluster join writes it")
		prodSecret := &corev1.Secret{}
		Expect(cluster.client.Get(ctx, types.NamespacedName{Namespace: "vela-system", Name: "prod"}, prodSecret)).To(Succeed())
		edge := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "vela-system", Name: "edge", Labels: prodSecret.Labels}, Type: prodSecret.Type, Data: prodSecret.Data}
		Expect(cluster.client.Create(ctx, edge)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) {
			deleteApps(ctx, ns) // garbage-collected through edge before it goes
			Expect(client.IgnoreNotFound(cluster.client.Delete(ctx, edge))).To(Succeed())
		})
		waitForStep(ctx, ns, name, "serve-in-prod", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		readyDeploymentIn(ctx, managedClient("prod"), ns+"-prod", "mnist-stable")
	})

	It("installs the training operator where the addon's clusters parameter says, and removes it when turned off", func(ctx SpecContext) {
		var params []string
		for _, p := range cluster.addonArgs {
			if p != "installTrainingOperator=false" {
				params = append(params, p)
			}
		}
		params = append(params, "installTrainingOperator=true")
		// (a cleanup may not make temporary folders: both are made now)
		enable := func(ctx context.Context, params []string, workDir string) {
			_, err := addon.Enable(ctx, addon.Options{CLI: cluster.vela, RepoRoot: repoRoot, Params: params, FromArchive: true, WorkDir: workDir})
			Expect(err).NotTo(HaveOccurred())
		}
		withOperator, restore := GinkgoT().TempDir(), GinkgoT().TempDir()
		operator := types.NamespacedName{Namespace: "kubeflow", Name: "training-operator"}
		By("vela addon enable with " + strings.Join(params, " "))
		enable(ctx, params, withOperator)
		DeferCleanup(func(ctx SpecContext) {
			By("vela addon enable with the suite's " + strings.Join(cluster.addonArgs, " ") + ": the operator is removed again")
			enable(ctx, cluster.addonArgs, restore)
			Eventually(func() bool {
				return apierrors.IsNotFound(managedClient("dev").Get(ctx, operator, &appsv1.Deployment{}))
			}, objectTimeout, poll).Should(BeTrue(), "cluster dev keeps the training operator")
		})
		Eventually(func() error {
			return managedClient("dev").Get(ctx, operator, &appsv1.Deployment{})
		}, objectTimeout, poll).Should(Succeed(), "cluster dev has no training operator")
		err := managedClient("prod").Get(ctx, operator, &appsv1.Deployment{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "cluster prod has the training operator (or another error: %v)", err)
	})

	It("finds the addon's TFJob CRD where its clusters parameter puts it: the hub and dev, not prod", func(ctx SpecContext) {
		for _, c := range []struct {
			where string
			cli   client.Client
			has   bool
		}{{"the hub", cluster.client, true}, {"cluster dev", managedClient("dev"), true}, {"cluster prod", managedClient("prod"), false}} {
			err := c.cli.Get(ctx, types.NamespacedName{Name: "tfjobs.kubeflow.org"}, &apiextensionsv1.CustomResourceDefinition{})
			if c.has {
				Expect(err).NotTo(HaveOccurred(), "%s has no TFJob CRD", c.where)
			} else {
				Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%s has the TFJob CRD (or another error: %v)", c.where, err)
			}
		}
	})
})

const multiclusterExample = "examples/multicluster/app.yaml"

// expectNotIn asserts that a Deployment is not in the cluster of c.
func expectNotIn(ctx SpecContext, c client.Client, where, namespace, name string) {
	err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &appsv1.Deployment{})
	Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%s has %s/%s: %v", where, namespace, name, err)
}

var _ = Describe("The spec's ML pipeline across clusters", Label("multicluster"), Ordered, func() {
	var ns, app string

	BeforeAll(func(ctx SpecContext) {
		skipUnlessClusters()
		ns = newPipelineNamespace(ctx, "mc-pipeline")
		app = upExample(ctx, multiclusterExample, ns)
	})

	It("trains and checkpoints on the hub", func(ctx SpecContext) {
		waitForStep(ctx, ns, app, "train-model", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		Expect(tfjobsOf(ctx, ns, app, "my-tfjob")).To(HaveLen(1))
		waitForSuspendAt(ctx, ns, app, "evaluate-model")
		resume(ctx, ns, app)
		waitForStep(ctx, ns, app, "save-model", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		Expect(record(ctx, ns, "mymodel-v2").Data).To(HaveKeyWithValue("image", "myrepo/mymodel:mymodel-v2"))
	})

	It("serves the recorded image in cluster dev, with its route beside it", func(ctx SpecContext) {
		waitForStep(ctx, ns, app, "serve-model-in-dev", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		dev := managedClient("dev")
		d := readyDeploymentIn(ctx, dev, ns+"-dev", "my-tfserving-dev-model-predictor")
		Expect(initImages(d.Spec.Template)).To(ContainElement("myrepo/mymodel:mymodel-v2"))
		route := &unstructured.Unstructured{}
		route.SetAPIVersion("gateway.networking.k8s.io/v1")
		route.SetKind("HTTPRoute")
		Expect(dev.Get(ctx, types.NamespacedName{Namespace: ns + "-dev", Name: "my-tfserving-dev"}, route)).To(Succeed())
		expectNotIn(ctx, cluster.client, "the hub", ns+"-dev", "my-tfserving-dev-model-predictor")
		waitForSuspendAt(ctx, ns, app, "evaluate-serving")
	})

	It("waits, naming cluster prod, while prod is down, and serves there once it is back, once", func(ctx SpecContext) {
		// The whole of prod goes down: its apiserver, and with it what runs
		// against it (on a real cluster a controller-manager that loses its
		// apiserver loses its lease and is restarted; here they run without
		// leader election, so they are stopped and started with it).
		prodComponents := []string{"kwok-prod", "kube-scheduler-prod", "kube-controller-manager-prod", "kube-apiserver-prod"}
		By("stopping cluster prod: " + strings.Join(prodComponents, ", "))
		for _, name := range prodComponents {
			Expect(cluster.env.StopComponent(name)).To(Succeed())
		}
		restarted := false
		startProd := func(ctx SpecContext) {
			for i := len(prodComponents) - 1; i >= 0; i-- {
				Expect(cluster.env.Restart(ctx, prodComponents[i])).To(Succeed())
			}
			restarted = true
		}
		DeferCleanup(func(ctx SpecContext) {
			if !restarted {
				startProd(ctx)
			}
		})
		resume(ctx, ns, app)
		Eventually(func(g Gomega) {
			a := getApp(ctx, ns, app)
			s := appflow.Step(a, "serve-model-in-prod")
			g.Expect(s).NotTo(BeNil(), describeSteps(a))
			g.Expect(s.Phase).To(Equal(workflowv1alpha1.WorkflowStepPhaseRunning))
			g.Expect(s.Message).To(HavePrefix("cluster prod cannot be reached (reading namespace " + ns + "-prod: "))
			g.Expect(s.Message).To(HaveSuffix("): waiting until it answers"))
		}, stepTimeout, poll).Should(Succeed())
		By("the step keeps waiting, and the workflow does not fail, while prod is down")
		Consistently(func(g Gomega) {
			a := getApp(ctx, ns, app)
			g.Expect(string(a.Status.Phase)).To(Equal("runningWorkflow"), describeSteps(a))
			s := appflow.Step(a, "serve-model-in-prod")
			g.Expect(s).NotTo(BeNil(), describeSteps(a))
			g.Expect(s.Phase).To(Equal(workflowv1alpha1.WorkflowStepPhaseRunning), describeSteps(a))
		}, 30*time.Second, poll).Should(Succeed())

		By("starting cluster prod again")
		startProd(ctx)
		waitForStep(ctx, ns, app, "serve-model-in-prod", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		prod := managedClient("prod")
		a := readyDeploymentIn(ctx, prod, ns+"-prod", "my-tfserving-prod-model-a-predictor")
		b := readyDeploymentIn(ctx, prod, ns+"-prod", "my-tfserving-prod-model-b-predictor")
		Expect(initImages(a.Spec.Template)).To(ContainElement("myrepo/mymodel:mymodel-v1"))
		Expect(initImages(b.Spec.Template)).To(ContainElement("myrepo/mymodel:mymodel-v2"))
		By("one Deployment per predictor, each with one ReplicaSet: the apply after the outage started no second rollout")
		deployments := &appsv1.DeploymentList{}
		Expect(prod.List(ctx, deployments, client.InNamespace(ns+"-prod"))).To(Succeed())
		Expect(deployments.Items).To(HaveLen(2))
		replicaSets := &appsv1.ReplicaSetList{}
		Expect(prod.List(ctx, replicaSets, client.InNamespace(ns+"-prod"))).To(Succeed())
		Expect(replicaSets.Items).To(HaveLen(2))
		route := &unstructured.Unstructured{}
		route.SetAPIVersion("gateway.networking.k8s.io/v1")
		route.SetKind("HTTPRoute")
		Expect(prod.Get(ctx, types.NamespacedName{Namespace: ns + "-prod", Name: "my-tfserving-prod"}, route)).To(Succeed())
		Expect(render.RouteWeights(route)).To(Equal(map[string]int64{
			"my-tfserving-prod-model-a-predictor": 90,
			"my-tfserving-prod-model-b-predictor": 10,
		}))
		By("arms-metrics and arms-logging reached the prod pods")
		pods := &corev1.PodList{}
		Expect(prod.List(ctx, pods, client.InNamespace(ns+"-prod"))).To(Succeed())
		Expect(pods.Items).NotTo(BeEmpty())
		for _, p := range pods.Items {
			Expect(p.Annotations).To(HaveKeyWithValue("prometheus.io/scrape", "true"), p.Name)
		}
		expectNotIn(ctx, cluster.client, "the hub", ns+"-prod", "my-tfserving-prod-model-a-predictor")
		expectNotIn(ctx, managedClient("dev"), "cluster dev", ns+"-prod", "my-tfserving-prod-model-a-predictor")

		By("vela-core reports each service with its cluster")
		Eventually(func(g Gomega) {
			where := map[string]string{}
			for _, s := range getApp(ctx, ns, app).Status.Services {
				where[s.Name] = s.Cluster
			}
			g.Expect(where).To(HaveKeyWithValue("my-tfserving-dev", "dev"))
			g.Expect(where).To(HaveKeyWithValue("my-tfserving-prod", "prod"))
		}, objectTimeout, poll).Should(Succeed())
		waitForAppPhase(ctx, ns, app, "running")
	})

})
