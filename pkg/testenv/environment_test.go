package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/pointer"
	"sigs.k8s.io/yaml"
)

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestEnvironment starts the whole control plane from the built binaries, so
// it takes ~30 s; it runs on its own ports and state folder, next to a
// cluster started by `cmd/cluster up`.
func TestEnvironment(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole control plane; skipped with -short")
	}
	env := &Environment{StateDir: filepath.Join(t.TempDir(), "state"), BasePort: 26000, Out: testWriter{t}}
	if missing := env.MissingBinaries(); len(missing) > 0 {
		t.Skipf("binaries %v are not built in %s; run hack/tools/build.sh", missing, env.BinDir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	cfg, err := env.Start(ctx)
	pids := map[string]int{}
	for _, name := range Components {
		pids[name] = env.process(name).pid()
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)

	t.Run("a Deployment becomes ready on the fake node", func(t *testing.T) {
		createDeployment(ctx, t, cs, "web")
		waitForDeploymentReady(ctx, t, cs, "web")
	})

	t.Run("a KubeVela Application runs", func(t *testing.T) {
		createApplication(ctx, t, dyn, "app")
		waitForApplicationRunning(ctx, t, dyn, "app")
	})

	t.Run("a second Start reuses the running processes", func(t *testing.T) {
		if _, err := env.Start(ctx); err != nil {
			t.Fatal(err)
		}
		for _, name := range Components {
			if pid := env.process(name).pid(); pid != pids[name] {
				t.Errorf("%s pid changed from %d to %d", name, pids[name], pid)
			}
		}
	})

	t.Run("a TFJob succeeds, and fails when its pods are labelled simulate=fail", func(t *testing.T) {
		// Only here: on a real test cluster the ml-platform addon installs this CRD.
		files, err := CRDsFromModule("github.com/kubeflow/training-operator", TrainingOperatorVersion,
			"manifests/base/crds/kubeflow.org_tfjobs.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := InstallCRDs(ctx, cfg, files...); err != nil {
			t.Fatal(err)
		}
		createTFJob(ctx, t, dyn, "mnist", nil)
		createTFJob(ctx, t, dyn, "broken", map[string]string{LabelSimulate: SimulateFail})
		waitForTFJobCondition(ctx, t, dyn, "mnist", "Succeeded")
		waitForTFJobCondition(ctx, t, dyn, "broken", "Failed")
	})

	t.Run("the extra CRDs install", func(t *testing.T) {
		if err := InstallExtras(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a build pod completes", func(t *testing.T) {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "build", Namespace: "default", Labels: map[string]string{LabelBuild: "true"}},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "kaniko", Image: "kaniko:test"}}},
		}
		if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		poll(ctx, t, "pod build Succeeded", func() (bool, error) {
			p, err := cs.CoreV1().Pods("default").Get(ctx, "build", metav1.GetOptions{})
			return err == nil && p.Status.Phase == corev1.PodSucceeded, err
		})
	})

	for _, name := range []string{VelaCore, KubeAPIServer} {
		t.Run("restart "+name, func(t *testing.T) {
			if err := env.Restart(ctx, name); err != nil {
				t.Fatal(err)
			}
			if pid := env.process(name).pid(); pid == pids[name] {
				t.Errorf("%s still has pid %d after the restart", name, pid)
			}
			for _, s := range env.Status(ctx) {
				if !s.Healthy {
					t.Errorf("%s is not healthy after restarting %s: %v", s.Name, name, s.Err)
				}
			}
			createDeployment(ctx, t, cs, "after-"+name)
			waitForDeploymentReady(ctx, t, cs, "after-"+name)
			createApplication(ctx, t, dyn, "app-after-"+name)
			waitForApplicationRunning(ctx, t, dyn, "app-after-"+name)
		})
	}

	t.Run("Stop leaves no process alive", func(t *testing.T) {
		running := map[string]process{}
		for _, name := range Components {
			running[name] = env.process(name) // with the PIDs after the restarts
		}
		if err := env.Stop(); err != nil {
			t.Fatal(err)
		}
		for name, p := range running {
			if p.running() {
				t.Errorf("%s (pid %d) still runs", name, p.pid())
			}
		}
		for name, pid := range pids {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
				cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				if strings.HasPrefix(string(cmdline), env.BinDir) {
					t.Errorf("the first %s (pid %d) still runs", name, pid)
				}
			}
		}
	})
}

func createDeployment(ctx context.Context, t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: pointer.Int32(2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx:alpine"}}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func waitForDeploymentReady(ctx context.Context, t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	poll(ctx, t, "deployment "+name+" ready", func() (bool, error) {
		d, err := cs.AppsV1().Deployments("default").Get(ctx, name, metav1.GetOptions{})
		return err == nil && d.Status.ReadyReplicas == 2, err
	})
}

var applications = schema.GroupVersionResource{Group: "core.oam.dev", Version: "v1beta1", Resource: "applications"}

func createApplication(ctx context.Context, t *testing.T, dyn dynamic.Interface, name string) {
	t.Helper()
	app := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "core.oam.dev/v1beta1",
		"kind":       "Application",
		"metadata":   map[string]interface{}{"name": name, "namespace": "default"},
		"spec": map[string]interface{}{"components": []interface{}{map[string]interface{}{
			"name": name, "type": "webservice",
			"properties": map[string]interface{}{"image": "nginx:alpine",
				"ports": []interface{}{map[string]interface{}{"port": int64(80), "expose": true}}},
		}}},
	}}
	if _, err := dyn.Resource(applications).Namespace("default").Create(ctx, app, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func waitForApplicationRunning(ctx context.Context, t *testing.T, dyn dynamic.Interface, name string) {
	t.Helper()
	poll(ctx, t, "application "+name+" running", func() (bool, error) {
		app, err := dyn.Resource(applications).Namespace("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		phase, _, _ := unstructured.NestedString(app.Object, "status", "status")
		return phase == "running", fmt.Errorf("status %q", phase)
	})
}

var tfJobs = schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1", Resource: "tfjobs"}

func createTFJob(ctx context.Context, t *testing.T, dyn dynamic.Interface, name string, podLabels map[string]string) {
	t.Helper()
	labels, _ := json.Marshal(podLabels) // JSON is flow-style YAML
	manifest := fmt.Sprintf(`
apiVersion: kubeflow.org/v1
kind: TFJob
metadata: {name: %s, namespace: default}
spec:
  tfReplicaSpecs:
    Worker:
      replicas: 2
      restartPolicy: Never
      template:
        metadata: {labels: %s}
        spec:
          containers:
          - name: tensorflow
            image: tensorflow/tensorflow:2.15.0
            resources: {limits: {nvidia.com/gpu: 1}}
`, name, strings.TrimSpace(string(labels)))
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &obj.Object); err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(tfJobs).Namespace("default").Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func waitForTFJobCondition(ctx context.Context, t *testing.T, dyn dynamic.Interface, name, condition string) {
	t.Helper()
	poll(ctx, t, "TFJob "+name+" "+condition, func() (bool, error) {
		job, err := dyn.Resource(tfJobs).Namespace("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		conditions, _, _ := unstructured.NestedSlice(job.Object, "status", "conditions")
		for _, c := range conditions {
			c, _ := c.(map[string]interface{})
			if c["type"] == condition && c["status"] == "True" {
				return true, nil
			}
		}
		return false, fmt.Errorf("conditions %v", conditions)
	})
}

// poll waits up to a minute for done, failing the test with the last error.
func poll(ctx context.Context, t *testing.T, what string, done func() (bool, error)) {
	t.Helper()
	began := time.Now()
	var last error
	err := wait.PollImmediateWithContext(ctx, 200*time.Millisecond, time.Minute, func(context.Context) (bool, error) {
		ok, err := done()
		last = err
		return ok, nil
	})
	if err != nil {
		t.Fatalf("failed to see %s: %v (last: %v)", what, err, last)
	}
	t.Logf("%s after %.1fs", what, time.Since(began).Seconds())
}
