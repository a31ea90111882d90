package bench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kubevela/workflow/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ml-platform/ml-platform/pkg/render"
	"github.com/ml-platform/ml-platform/pkg/render/stepworld"
)

// BenchmarkServingStep runs the ml-model-serving step of the serving example
// through KubeVela's workflow engine the way vela-core reconciles it when
// nothing else is slow: a first reconcile that creates the predictors, one
// while their pods start (not ready), one after they are available. Each
// iteration is one fresh app; the component render inside the step's apply
// is included, as in vela-core (here with the offline renderer's property
// checks, a constant share). The step runs in pkg/render/stepworld, the
// harness of test/offline's step tables. TestServingStepBudget guards its
// allocations.
//
//	go test -run '^$' -bench ServingStep -benchmem ./test/bench/
func BenchmarkServingStep(b *testing.B) {
	appYAML := servingExample(b)
	stepDefinitions(b) // built once per test binary, not per reconcile
	timeLoop(b, func() { serveOneApp(b, appYAML) })
}

// stepsDir is the addon's definitions, which the step world runs.
var stepsDir = filepath.Join("..", "..", "definitions")

// stepDefinitions returns one Renderer over the addon's definitions, built
// once per test binary (as vela-core's informer holds them).
func stepDefinitions(tb testing.TB) *render.Renderer {
	tb.Helper()
	r, err := render.Shared(stepsDir)
	if err != nil {
		tb.Fatalf("failed to load the addon's definitions: %v", err)
	}
	return r
}

// servingExample is examples/serving/app.yaml.
func servingExample(tb testing.TB) string {
	tb.Helper()
	appYAML, err := os.ReadFile(filepath.Join("..", "..", "examples", "serving", "app.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	return string(appYAML)
}

// serveOneApp is one iteration of BenchmarkServingStep: the serving step of
// a fresh app, reconciled three times until it succeeds.
func serveOneApp(tb testing.TB, appYAML string) {
	w := stepworld.New(tb, stepDefinitions(tb), stepsDir, appYAML, aServingPod("stable", 0), aServingPod("stable", 1), aServingPod("canary", 0))
	for round, want := range []v1alpha1.WorkflowStepPhase{v1alpha1.WorkflowStepPhaseRunning, v1alpha1.WorkflowStepPhaseRunning} {
		if r := w.Run("serve-in-dev"); r.Status.Phase != want {
			tb.Fatalf("reconcile %d: %s %s", round+1, r.Status.Phase, r.Status.Message)
		}
	}
	// The Deployment controller has caught up with the latest spec: every
	// replica of it is available.
	for _, d := range []struct {
		name     string
		replicas int64
	}{{"mnist-stable", 2}, {"mnist-canary", 1}} {
		status := readyDeployment(d.replicas)
		if g := w.Get(stepworld.GVKDeployment, "default-dev", d.name).GetGeneration(); g > 0 {
			status["observedGeneration"] = g
		}
		w.SetStatus(stepworld.GVKDeployment, "default-dev", d.name, status)
	}
	if r := w.Run("serve-in-dev"); r.Status.Phase != v1alpha1.WorkflowStepPhaseSucceeded {
		tb.Fatalf("last reconcile: %s %s", r.Status.Phase, r.Status.Message)
	}
}

// aServingPod is a predictor pod of the serving example's component, running
// and not yet ready, with the spec and status fields a real pod carries.
func aServingPod(predictor string, i int) client.Object {
	images := map[string]string{
		"stable": "ghcr.io/ml-platform/models/mnist:mnist-v1",
		"canary": "ghcr.io/ml-platform/models/mnist:mnist-v2",
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      "mnist-" + predictor + "-7d9f8c6b5-" + string(rune('a'+i)),
			Namespace: "default-dev",
			Labels: map[string]string{
				"ml-platform.oam.dev/serving":   "mnist",
				"ml-platform.oam.dev/predictor": predictor,
				"app.oam.dev/component":         "mnist",
			},
		},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "model-loader", Image: images[predictor]}},
			Containers:     []corev1.Container{{Name: "tensorflow", Image: "tensorflow/serving:2.14.1"}},
		},
		Status: corev1.PodStatus{
			Phase:                 corev1.PodRunning,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "model-loader", Ready: true, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}}}},
			ContainerStatuses:     []corev1.ContainerStatus{{Name: "tensorflow", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}},
		},
	}
}

// readyDeployment is a Deployment status with every replica available
// (test/offline's fixture of the same name).
func readyDeployment(replicas int64) map[string]interface{} {
	return map[string]interface{}{
		"observedGeneration": int64(1), "replicas": replicas, "readyReplicas": replicas,
		"updatedReplicas": replicas, "availableReplicas": replicas,
	}
}
