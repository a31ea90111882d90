package e2e

import (
	"context"
	"time"

	workflowv1alpha1 "github.com/kubevela/workflow/api/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// Issues 7 and 8: the observability and placement traits land on real pods,
// and the infrastructure steps follow the Configuration and HelmRelease
// statuses that terraform-controller and fluxcd would write (neither runs
// here: the suite installs only their CRDs, and the specs play the
// controllers by writing the statuses).

const (
	traitsServingExample  = "examples/traits/serving-observability.yaml"
	traitsTrainingExample = "examples/traits/training-gpu.yaml"
	infraExample          = "examples/infra/app.yaml"
)

// setStatus writes an object's status through the status subresource, as its
// controller would.
func setStatus(ctx SpecContext, apiVersion, kind, namespace, name string, status map[string]interface{}) {
	By("setting the status of " + kind + " " + name)
	Eventually(func(g Gomega) {
		o, err := getObject(ctx, apiVersion, kind, namespace, name)
		g.Expect(err).NotTo(HaveOccurred())
		o.Object["status"] = status
		g.Expect(cluster.client.Status().Update(ctx, o)).To(Succeed())
	}, objectTimeout, poll).Should(Succeed())
}

func objectKey(namespace, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: namespace, Name: name}
}

// listPods lists the pods of a namespace with labels.
func listPods(ctx context.Context, namespace string, labels map[string]string) []corev1.Pod {
	pods := &corev1.PodList{}
	Expect(cluster.client.List(ctx, pods, clientInNamespace(namespace), clientLabels(labels))).To(Succeed())
	return pods.Items
}

// nestedString reads a string field, "" when absent.
func nestedString(o *unstructured.Unstructured, path ...string) string {
	s, _, _ := unstructured.NestedString(o.Object, path...)
	return s
}

func envMap(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		m[e.Name] = e.Value
	}
	return m
}

func tensorflowContainer(spec corev1.PodSpec) corev1.Container {
	for _, c := range spec.Containers {
		if c.Name == "tensorflow" {
			return c
		}
	}
	Fail("no tensorflow container")
	return corev1.Container{}
}

var _ = Describe("Observability and placement traits", Label("traits"), func() {
	It("turn on TF Serving metrics, SLS logging and ECI burst on every predictor pod", func(ctx SpecContext) {
		ns := newNamespace(ctx, "traits", nil)
		app := upExample(ctx, traitsServingExample, ns)
		waitForAppPhase(ctx, ns, app, "running")

		By("the PodMonitor and the TF Serving monitoring config exist")
		pm, err := getObject(ctx, "monitoring.coreos.com/v1", "PodMonitor", ns, "my-tfserving-prod")
		Expect(err).NotTo(HaveOccurred())
		endpoints, _, _ := unstructured.NestedSlice(pm.Object, "spec", "podMetricsEndpoints")
		Expect(endpoints).To(ConsistOf(HaveKeyWithValue("path", "/monitoring/prometheus/metrics")))
		Expect(pm.GetLabels()).To(HaveKeyWithValue("release", "prometheus"))
		cm := &corev1.ConfigMap{}
		Expect(cluster.client.Get(ctx, objectKey(ns, "my-tfserving-prod-tfserving-monitoring"), cm)).To(Succeed())
		Expect(cm.Data["monitoring_config.txt"]).To(ContainSubstring(`path: "/monitoring/prometheus/metrics"`))

		By("every predictor pod carries the annotations, env, flag and toleration")
		for _, p := range []string{"model-a-predictor", "model-b-predictor"} {
			pods := listPods(ctx, ns, map[string]string{"ml-platform.oam.dev/predictor": p})
			Expect(pods).To(HaveLen(3), p)
			for _, pod := range pods {
				Expect(pod.Annotations).To(HaveKeyWithValue("prometheus.io/scrape", "true"), pod.Name)
				Expect(pod.Annotations).To(HaveKeyWithValue("prometheus.io/port", "8501"), pod.Name)
				Expect(pod.Annotations).To(HaveKeyWithValue("k8s.aliyun.com/eci-use-specs", "ecs.c7.xlarge,4-8Gi"), pod.Name)
				Expect(pod.Labels).To(HaveKeyWithValue("ml-platform.oam.dev/metrics", "my-tfserving-prod"), pod.Name)
				tf := tensorflowContainer(pod.Spec)
				Expect(tf.Args).To(ContainElement("--monitoring_config_file=/etc/tfserving-monitoring/monitoring_config.txt"), pod.Name)
				Expect(envMap(tf)).To(HaveKeyWithValue("aliyun_logs_tfserving-prod", "stdout"), pod.Name)
				Expect(envMap(tf)).To(HaveKeyWithValue("aliyun_logs_tfserving-prod_ttl", "30"), pod.Name)
				Expect(pod.Spec.Tolerations).To(ContainElement(corev1.Toleration{
					Key: "virtual-kubelet.io/provider", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule,
				}), pod.Name)
			}
		}
	})

	It("give every TFJob role its GPU share and log env", func(ctx SpecContext) {
		ns := newNamespace(ctx, "traits-gpu", nil)
		createModelStoreVolume(ctx, ns, "mnist-models")
		app := upExample(ctx, traitsTrainingExample, ns)
		Eventually(func() []unstructured.Unstructured {
			return tfjobsOf(ctx, ns, app, "mnist")
		}, objectTimeout, poll).Should(HaveLen(1))
		job := tfjobsOf(ctx, ns, app, "mnist")[0]
		containers, _, _ := unstructured.NestedSlice(job.Object, "spec", "tfReplicaSpecs", "Worker", "template", "spec", "containers")
		Expect(containers).To(ContainElement(And(
			HaveKeyWithValue("name", "tensorflow"),
			HaveKeyWithValue("resources", HaveKeyWithValue("limits", And(
				HaveKeyWithValue("aliyun.com/gpu-mem", Or(BeEquivalentTo(8), Equal("8"))),
				HaveKeyWithValue("cpu", "4"),
			))),
			HaveKeyWithValue("env", ContainElement(And(HaveKeyWithValue("name", "aliyun_logs_mnist-training"), HaveKeyWithValue("value", "stdout")))),
		)))
	})
})

var _ = Describe("The spec's Initializer as an Application", Label("infra"), Ordered, func() {
	var ns, app string

	BeforeAll(func(ctx SpecContext) {
		ns = newNamespace(ctx, "infra", nil)
		app = upExample(ctx, infraExample, ns)
	})

	It("applies the prod cluster's Configuration and waits for terraform-controller", func(ctx SpecContext) {
		s := waitForStep(ctx, ns, app, "create-prod-cluster", workflowv1alpha1.WorkflowStepPhaseRunning)
		Expect(s.Message).To(ContainSubstring("Configuration prod-cluster: Waiting for terraform-controller"))
		conf, err := getObject(ctx, "terraform.core.oam.dev/v1beta2", "Configuration", ns, "prod-cluster")
		Expect(err).NotTo(HaveOccurred())
		By("the CRD kept customRegion and the connection Secret (KubeVela's own step writes fields it prunes)")
		Expect(nestedString(conf, "spec", "customRegion")).To(Equal("cn-hangzhou"))
		Expect(nestedString(conf, "spec", "writeConnectionSecretToRef", "name")).To(Equal("prod-cluster-kubeconfig"))
		hcl, _, _ := unstructured.NestedString(conf.Object, "spec", "hcl")
		Expect(hcl).To(ContainSubstring(`resource "alicloud_cs_managed_kubernetes" "k8s"`))

		setStatus(ctx, "terraform.core.oam.dev/v1beta2", "Configuration", ns, "prod-cluster", map[string]interface{}{
			"observedGeneration": conf.GetGeneration(),
			"apply":              map[string]interface{}{"state": "Available", "message": "Cloud resources are deployed and ready to use"},
		})
		waitForStep(ctx, ns, app, "create-prod-cluster", workflowv1alpha1.WorkflowStepPhaseSucceeded)
	})

	It("then creates the dev cluster (not the prod one again) as ASK", func(ctx SpecContext) {
		waitForStep(ctx, ns, app, "create-dev-cluster", workflowv1alpha1.WorkflowStepPhaseRunning)
		conf, err := getObject(ctx, "terraform.core.oam.dev/v1beta2", "Configuration", ns, "dev-cluster")
		Expect(err).NotTo(HaveOccurred())
		hcl, _, _ := unstructured.NestedString(conf.Object, "spec", "hcl")
		Expect(hcl).To(ContainSubstring(`resource "alicloud_cs_serverless_kubernetes" "k8s"`))
		setStatus(ctx, "terraform.core.oam.dev/v1beta2", "Configuration", ns, "dev-cluster", map[string]interface{}{
			"observedGeneration": conf.GetGeneration(),
			"apply":              map[string]interface{}{"state": "Available"},
		})
		waitForStep(ctx, ns, app, "create-dev-cluster", workflowv1alpha1.WorkflowStepPhaseSucceeded)
	})

	It("installs Kubeflow through fluxcd and waits for the release", func(ctx SpecContext) {
		s := waitForStep(ctx, ns, app, "deploy-kubeflow", workflowv1alpha1.WorkflowStepPhaseRunning)
		Expect(s.Message).To(ContainSubstring("HelmRelease kubeflow"))
		_, err := getObject(ctx, "source.toolkit.fluxcd.io/v1beta2", "HelmRepository", ns, "kubeflow-repo")
		Expect(err).NotTo(HaveOccurred())
		hr, err := getObject(ctx, "helm.toolkit.fluxcd.io/v2beta1", "HelmRelease", ns, "kubeflow")
		Expect(err).NotTo(HaveOccurred())
		createNamespace, _, _ := unstructured.NestedBool(hr.Object, "spec", "install", "createNamespace")
		Expect(createNamespace).To(BeTrue())
		setStatus(ctx, "helm.toolkit.fluxcd.io/v2beta1", "HelmRelease", ns, "kubeflow", map[string]interface{}{
			"observedGeneration": hr.GetGeneration(),
			"conditions": []interface{}{map[string]interface{}{
				"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
				"message": "Release reconciliation succeeded", "lastTransitionTime": "2024-01-01T00:00:00Z",
			}},
		})
		waitForStep(ctx, ns, app, "deploy-kubeflow", workflowv1alpha1.WorkflowStepPhaseSucceeded)
	})

	It("fails the bucket step with terraform-controller's message on ApplyFailed", func(ctx SpecContext) {
		waitForStep(ctx, ns, app, "create-s3-bucket", workflowv1alpha1.WorkflowStepPhaseRunning)
		conf, err := getObject(ctx, "terraform.core.oam.dev/v1beta2", "Configuration", ns, "s3-bucket")
		Expect(err).NotTo(HaveOccurred())
		failed := time.Now()
		setStatus(ctx, "terraform.core.oam.dev/v1beta2", "Configuration", ns, "s3-bucket", map[string]interface{}{
			"observedGeneration": conf.GetGeneration(),
			"apply": map[string]interface{}{
				"state":   "ApplyFailed",
				"message": "Error: [ERROR] BucketAlreadyExists: The requested bucket name is not available.",
			},
		})
		s := waitForStep(ctx, ns, app, "create-s3-bucket", workflowv1alpha1.WorkflowStepPhaseFailed)
		Expect(s.Message).To(ContainSubstring("Configuration s3-bucket: Failed (ApplyFailed): Error: [ERROR] BucketAlreadyExists"))
		expectFailedWithinBackoff(expectWorkflowFailed(ctx, ns, app, "create-s3-bucket"), "create-s3-bucket", failed)
	})
})
