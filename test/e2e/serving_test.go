package e2e

import (
	"encoding/json"

	oamv1alpha1 "github.com/kubevela/pkg/apis/oam/v1alpha1"
	workflowv1alpha1 "github.com/kubevela/workflow/api/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"

	"github.com/ml-platform/ml-platform/pkg/render"
)

const servingExample = "examples/serving/app.yaml"

// componentMessage returns the status message KubeVela reports for a component.
func componentMessage(ctx SpecContext, namespace, app, comp string) string {
	for _, s := range getApp(ctx, namespace, app).Status.Services {
		if s.Name == comp {
			return s.Message
		}
	}
	return ""
}

// stepWith returns a workflow step of a type with properties.
func stepWith(name, typ string, props map[string]interface{}) oamv1alpha1.WorkflowStep {
	raw, err := json.Marshal(props)
	Expect(err).NotTo(HaveOccurred())
	return oamv1alpha1.WorkflowStep{WorkflowStepBase: oamv1alpha1.WorkflowStepBase{
		Name: name, Type: typ, Properties: &runtime.RawExtension{Raw: raw}}}
}

var _ = Describe("Serving with tfserving and ml-model-serving", Label("serving"), func() {
	It("brings the serving example up in dev behind a 90/10 route", func(ctx SpecContext) {
		ns := newNamespace(ctx, "serving", nil)
		app := upExample(ctx, servingExample, ns)
		dev := ns + "-dev"

		waitForStep(ctx, ns, app, "serve-in-dev", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		stable := readyDeployment(ctx, dev, "mnist-stable")
		canary := readyDeployment(ctx, dev, "mnist-canary")
		Expect(stable.Spec.Replicas).NotTo(BeNil())
		Expect(*stable.Spec.Replicas).To(BeEquivalentTo(2))
		Expect(initImages(stable.Spec.Template)).To(Equal([]string{"ghcr.io/ml-platform/models/mnist:mnist-v1"}))
		Expect(initImages(canary.Spec.Template)).To(Equal([]string{"ghcr.io/ml-platform/models/mnist:mnist-v2"}))
		Expect(stable.Spec.Template.Spec.Containers[0].Name).To(Equal("tensorflow"))
		Expect(stable.Spec.Template.Spec.Containers[0].Args).To(ContainElements("--model_name=mnist", "--model_base_path=/models/mnist", "--enable_batching"))

		By("the env's namespace was created for the application")
		nsObj := &corev1.Namespace{}
		Expect(cluster.client.Get(ctx, types.NamespacedName{Name: dev}, nsObj)).To(Succeed())
		Expect(nsObj.Labels).To(HaveKeyWithValue("ml-platform.oam.dev/env", "dev"))

		By("one stable Service and a weighted HTTPRoute in front of the predictors")
		svc := &corev1.Service{}
		Expect(cluster.client.Get(ctx, types.NamespacedName{Namespace: dev, Name: "mnist"}, svc)).To(Succeed())
		Expect(svc.Spec.Selector).To(Equal(map[string]string{"ml-platform.oam.dev/serving": "mnist"}))
		route, err := getObject(ctx, "gateway.networking.k8s.io/v1", "HTTPRoute", dev, "mnist")
		Expect(err).NotTo(HaveOccurred())
		Expect(render.RouteWeights(route)).To(Equal(map[string]int64{"mnist-stable": 90, "mnist-canary": 10}))
		parents, _, _ := unstructured.NestedSlice(route.Object, "spec", "parentRefs")
		Expect(parents).To(HaveLen(1))
		_, err = getObject(ctx, "v1", "ConfigMap", dev, "mnist-stable-batching")
		Expect(err).NotTo(HaveOccurred(), "the batching parameters of the stable predictor")

		By("the component's status lists every predictor")
		Eventually(func() string { return componentMessage(ctx, ns, app, "mnist") }, objectTimeout, poll).
			Should(Equal("stable: 2/2 ready, 90% traffic; canary: 1/1 ready, 10% traffic"))
		waitForAppPhase(ctx, ns, app, "running")
	})

	It("fails the serving step for a model version without a record, before deploying anything", func(ctx SpecContext) {
		ns := newNamespace(ctx, "serving-unknown", nil)
		app := readExample(servingExample)
		comp := component(app, "mnist")
		props := properties(comp)
		for _, p := range props["predictors"].([]interface{}) {
			m := p.(map[string]interface{})
			delete(m, "modelImage")
			delete(m, "modelName")
			m["modelVersion"] = "mnist-v9"
		}
		setProperties(comp, props)
		name := upApplication(ctx, app, ns)

		step := waitForStep(ctx, ns, name, "serve-in-dev", workflowv1alpha1.WorkflowStepPhaseFailed)
		Expect(step.Message).To(Equal("model version mnist-v9 not found; run ml-model-checkpoint first"))
		expectFailedAtOnce(expectWorkflowFailed(ctx, ns, name, "serve-in-dev"), "serve-in-dev")
		Expect(listObjects(ctx, "apps/v1", "Deployment", ns+"-dev", nil)).To(BeEmpty())
	})
})

// checkpointApp is an application with a tfjob component and one
// ml-model-checkpoint step. The TFJob that the component's training would have
// run is created by trainedJob, so these specs exercise the checkpoint alone
// (the pipeline spec runs it after real training).
func checkpointApp(name string, props map[string]interface{}) *v1beta1.Application {
	app := readExample(trainingExample)
	app.Name = name
	app.Spec.Workflow.Steps = []oamv1alpha1.WorkflowStep{stepWith("save-model", "ml-model-checkpoint", props)}
	return app
}

// trainedJob creates the TFJob of revision <app>-v1 of component mnist, as
// ml-model-training leaves it, plus its model store claim, and waits until
// the training operator reports it Succeeded.
func trainedJob(ctx SpecContext, namespace, app string) {
	createModelStoreVolume(ctx, namespace, "mnist-models")
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "mnist-models"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	Expect(cluster.client.Create(ctx, pvc)).To(Succeed())
	job := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "kubeflow.org/v1",
		"kind":       "TFJob",
		"metadata": map[string]interface{}{
			"name": "mnist-v1", "namespace": namespace,
			"labels": map[string]interface{}{
				"app.oam.dev/name": app, "app.oam.dev/namespace": namespace,
				"app.oam.dev/component": "mnist", "app.oam.dev/appRevision": app + "-v1",
			},
		},
		"spec": map[string]interface{}{"tfReplicaSpecs": map[string]interface{}{"Worker": map[string]interface{}{
			"replicas":      int64(1),
			"restartPolicy": "Never",
			"template": map[string]interface{}{"spec": map[string]interface{}{
				"containers": []interface{}{map[string]interface{}{
					"name": "tensorflow", "image": "tensorflow/tensorflow:2.15.0",
					"env": []interface{}{
						map[string]interface{}{"name": "MODEL_NAME", "value": "mnist"},
						map[string]interface{}{"name": "MODEL_VERSION", "value": "1"},
						map[string]interface{}{"name": "MODEL_DIR", "value": "/mnt/models/mnist/1"},
					},
					"volumeMounts": []interface{}{map[string]interface{}{"name": "model-store", "mountPath": "/mnt/models"}},
				}},
				"volumes": []interface{}{map[string]interface{}{"name": "model-store", "persistentVolumeClaim": map[string]interface{}{"claimName": "mnist-models"}}},
			}},
		}}},
	}}
	Expect(cluster.client.Create(ctx, job)).To(Succeed())
	Eventually(func(g Gomega) {
		got, err := getObject(ctx, "kubeflow.org/v1", "TFJob", namespace, "mnist-v1")
		g.Expect(err).NotTo(HaveOccurred())
		status, _ := tfjobCondition(*got, "Succeeded")
		g.Expect(status).To(Equal("True"))
	}, stepTimeout, poll).Should(Succeed())
}

var _ = Describe("Model versions with ml-model-checkpoint", Label("serving", "checkpoint"), func() {
	It("builds the model image from the revision's succeeded TFJob and records the version", func(ctx SpecContext) {
		ns := newNamespace(ctx, "checkpoint", nil)
		trainedJob(ctx, ns, "mnist-versions")
		name := upApplication(ctx, checkpointApp("mnist-versions", map[string]interface{}{
			"modelVersion": map[string]interface{}{"modelName": "mnist-v1", "imageRepo": "registry.example.com/team/mnist"},
		}), ns)

		waitForStep(ctx, ns, name, "save-model", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		rec := record(ctx, ns, "mnist-v1")
		Expect(rec.Labels).To(HaveKeyWithValue("ml-platform.oam.dev/model-version", "mnist-v1"))
		Expect(rec.Data).To(HaveKeyWithValue("image", "registry.example.com/team/mnist:mnist-v1"))
		Expect(rec.Data).To(HaveKeyWithValue("model", "mnist"))
		Expect(rec.Data).To(HaveKeyWithValue("version", "1"))
		Expect(rec.Data).To(HaveKeyWithValue("trainingJob", "mnist-v1"))
		Expect(rec.Data).To(HaveKeyWithValue("appRevision", name+"-v1"))
		Expect(rec.Data["createdAt"]).NotTo(BeEmpty(), "createdAt comes from the builder's finishedAt")
		pod := &corev1.Pod{}
		Expect(cluster.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name + "-build-mnist-v1"}, pod)).To(Succeed())
		Expect(pod.Labels).To(HaveKeyWithValue("ml-platform.oam.dev/build", "true"))
		Expect(pod.Spec.RestartPolicy).To(Equal(corev1.RestartPolicyNever))
		Expect(pod.Spec.Volumes).To(ContainElement(And(
			HaveField("Name", "model-store"),
			HaveField("PersistentVolumeClaim.ClaimName", "mnist-models"),
			HaveField("PersistentVolumeClaim.ReadOnly", true))))
		Expect(pod.Spec.Containers[0].Args).To(ContainElements(
			"--destination=registry.example.com/team/mnist:mnist-v1", "--digest-file=/dev/termination-log"))
	})

	It("fails the step with the builder's message when the image build fails, and records nothing", func(ctx SpecContext) {
		ns := newNamespace(ctx, "checkpoint-fail", nil)
		trainedJob(ctx, ns, "mnist-failing-build")
		name := upApplication(ctx, checkpointApp("mnist-failing-build", map[string]interface{}{
			"modelVersion": map[string]interface{}{"modelName": "mnist-v1", "imageRepo": "registry.example.com/team/mnist"},
			// the fake nodes end pods with this label Failed: exit 1, "simulated failure"
			"buildPodLabels": map[string]interface{}{"ml-platform.oam.dev/simulate": "fail"},
		}), ns)

		step := waitForStep(ctx, ns, name, "save-model", workflowv1alpha1.WorkflowStepPhaseFailed)
		Expect(step.Message).To(ContainSubstring(
			"building model image registry.example.com/team/mnist:mnist-v1 failed in pod " + name + "-build-mnist-v1: container builder exited with code 1 (Error): simulated failure"))
		By("the step failed within one backoff of the builder's exit, and the workflow ended")
		pod := &corev1.Pod{}
		Expect(cluster.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name + "-build-mnist-v1"}, pod)).To(Succeed())
		var exited metav1.Time
		for _, c := range pod.Status.ContainerStatuses {
			if c.Name == "builder" && c.State.Terminated != nil {
				exited = c.State.Terminated.FinishedAt
			}
		}
		Expect(exited.IsZero()).To(BeFalse(), "the builder container has no finishedAt")
		expectFailedWithinBackoff(expectWorkflowFailed(ctx, ns, name, "save-model"), "save-model", exited.Time)
		cm := &corev1.ConfigMap{}
		err := cluster.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "model-version-mnist-v1"}, cm)
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a failed build wrote a record")
	})
})
