package offline

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kubevela/workflow/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ml-platform/ml-platform/pkg/render/stepworld"
)

// The ml-model-checkpoint step, situation by situation.
var checkpointStepCases = []stepCase{
	{"creates the build pod and waits for it", func(t testing.TB) {
		w := ckBuild(t)
		pod := w.Get(stepworld.GVKPod, "ml", ckPod)
		if got := pod.GetLabels()["ml-platform.oam.dev/build"]; got != "true" {
			t.Errorf("build pod label ml-platform.oam.dev/build = %q, want \"true\"", got)
		}
		if got := pod.GetLabels()["ml-platform.oam.dev/model-version"]; got != "mymodel-v2" {
			t.Errorf("build pod label ml-platform.oam.dev/model-version = %q", got)
		}
		if got := pod.GetAnnotations()["ml-platform.oam.dev/step-session"]; got != "session-1" {
			t.Errorf("build pod step-session annotation = %q, want session-1", got)
		}
		spec := pod.Object["spec"].(map[string]interface{})
		if spec["restartPolicy"] != "Never" {
			t.Errorf("restartPolicy = %v, want Never", spec["restartPolicy"])
		}
		builder := container(t, spec, "builder")
		if builder["image"] != "gcr.io/kaniko-project/executor:v1.23.2" {
			t.Errorf("builder image = %v", builder["image"])
		}
		args := fmt.Sprint(builder["args"])
		stepMustContain(t, "builder args", args, "--destination="+ckImage, "--digest-file=/dev/termination-log", "--context=dir:///workspace", "--dockerfile=/workspace/Dockerfile")
		if strings.Contains(args, "--insecure") {
			t.Errorf("builder args %s: --insecure without insecure: true", args)
		}
		if builder["terminationMessagePolicy"] != "FallbackToLogsOnError" {
			t.Errorf("builder terminationMessagePolicy = %v", builder["terminationMessagePolicy"])
		}
		prepare := container(t, spec, "prepare")
		if prepare["image"] != "busybox:1.36" {
			t.Errorf("prepare image = %v, want busybox:1.36", prepare["image"])
		}
		script := fmt.Sprint(prepare["command"])
		stepMustContain(t, "prepare script", script, "src=/mnt/models/mymodel/1", "saved_model.pb", "cp -R \"$src\" /workspace/models/mymodel/1", "FROM %s\\nCOPY models/ /models/\\n' 'busybox:1.36'")
		vols := fmt.Sprint(spec["volumes"])
		stepMustContain(t, "build pod volumes", vols, "claimName:my-tfjob-models", "readOnly:true")
		if strings.Contains(vols, "secret") {
			t.Errorf("build pod mounts a secret without registrySecret: %s", vols)
		}
		if w.Exists(stepworld.GVKConfigMap, "ml", "model-version-mymodel-v2") {
			t.Fatal("the record is written before the build succeeded")
		}
		// the next reconcile finds the pod and does not replace it
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseRunning, ckBuilding+"Pending")
	}},
	{"waits while the build pod runs", func(t testing.TB) {
		w := ckBuild(t)
		ckBuildPodStatus(w, "Running", []interface{}{ckContainer("prepare", ckTerminated(0, "Completed", ""))},
			[]interface{}{ckContainer("builder", map[string]interface{}{"running": map[string]interface{}{}})})
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseRunning, ckBuilding+"Running")
	}},
	{"waits while a container is being created", func(t testing.TB) {
		w := ckBuild(t)
		ckBuildPodStatus(w, "Pending", []interface{}{ckContainer("prepare", ckWaiting("PodInitializing", ""))},
			[]interface{}{ckContainer("builder", ckWaiting("ContainerCreating", ""))})
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseRunning, ckBuilding+"Pending")
	}},
	{"records the version once the image is pushed", func(t testing.TB) {
		w := ckBuild(t)
		// kaniko pushed the image and wrote the digest to its termination log
		ckBuildPodStatus(w, "Succeeded", nil, []interface{}{map[string]interface{}{
			"name": "builder",
			"state": map[string]interface{}{"terminated": map[string]interface{}{
				"exitCode": int64(0), "reason": "Completed", "message": testDigest + "\n", "finishedAt": "2026-11-28T14:00:00Z",
			}},
		}})
		r := w.Run("save-model")
		stepWant(t, r, v1alpha1.WorkflowStepPhaseSucceeded, "")
		if got := r.Field(t, "image"); got != ckImage {
			t.Errorf("step field image = %q, want %s", got, ckImage)
		}
		rec := w.Get(stepworld.GVKConfigMap, "ml", "model-version-mymodel-v2")
		if got := rec.GetLabels()["ml-platform.oam.dev/model-version"]; got != "mymodel-v2" {
			t.Errorf("record label ml-platform.oam.dev/model-version = %q", got)
		}
		if got := rec.GetLabels()["ml-platform.oam.dev/model"]; got != "mymodel" {
			t.Errorf("record label ml-platform.oam.dev/model = %q", got)
		}
		assertEqual(t, "record data", rec.Object["data"], map[string]interface{}{
			"modelName":   "mymodel-v2",
			"model":       "mymodel",
			"version":     "1",
			"image":       ckImage,
			"digest":      testDigest,
			"trainingJob": "my-tfjob-v1",
			"appRevision": "pipeline-v1",
			"createdAt":   "2026-11-28T14:00:00Z",
		})
		// run again (a workflow restart): the record is there, nothing is rebuilt
		w.Session = "session-2"
		w.Client.Delete(context.Background(), w.Get(stepworld.GVKPod, "ml", ckPod))
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseSucceeded, "")
		if w.Exists(stepworld.GVKPod, "ml", ckPod) {
			t.Error("a recorded version was built again")
		}
		assertEqual(t, "record data after a restart", w.Get(stepworld.GVKConfigMap, "ml", "model-version-mymodel-v2").Object["data"].(map[string]interface{})["digest"], testDigest)
	}},
	{"a termination message that is not a digest is not recorded as one", func(t testing.TB) {
		w := ckBuild(t)
		ckBuildPodStatus(w, "Succeeded", nil, []interface{}{ckContainer("builder", ckTerminated(0, "Completed", "pushed\n"))})
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseSucceeded, "")
		assertEqual(t, "record digest", w.Get(stepworld.GVKConfigMap, "ml", "model-version-mymodel-v2").Object["data"].(map[string]interface{})["digest"], "")
	}},
	{"fails with the builder's message", ckBuildPodFails(map[string]interface{}{
		"initContainerStatuses": []interface{}{ckContainer("prepare", ckTerminated(0, "Completed", ""))},
		"containerStatuses": []interface{}{ckContainer("builder", ckTerminated(1, "Error",
			"error checking push permissions -- make sure you entered the correct tag name: UNAUTHORIZED\n"))},
	}, "building model image "+ckImage+" failed in pod "+ckPod+": container builder exited with code 1 (Error): error checking push permissions -- make sure you entered the correct tag name: UNAUTHORIZED")},
	{"fails with the preparation's message when there is no SavedModel", ckBuildPodFails(map[string]interface{}{
		"initContainerStatuses": []interface{}{ckContainer("prepare", ckTerminated(1, "Error",
			"no SavedModel at /mnt/models/mymodel/1 (saved_model.pb is missing) in PVC my-tfjob-models: the training code must write its SavedModel to $MODEL_DIR"))},
	}, "building model image "+ckImage+" failed in pod "+ckPod+": container prepare exited with code 1 (Error): no SavedModel at /mnt/models/mymodel/1 (saved_model.pb is missing) in PVC my-tfjob-models: the training code must write its SavedModel to $MODEL_DIR")},
	{"fails with the exit code alone when a container says nothing", ckBuildPodFails(map[string]interface{}{
		"containerStatuses": []interface{}{ckContainer("builder", map[string]interface{}{"terminated": map[string]interface{}{"exitCode": int64(137)}})},
	}, "building model image "+ckImage+" failed in pod "+ckPod+": container builder exited with code 137")},
	{"fails with the pod's message when no container failed", ckBuildPodFails(map[string]interface{}{
		"message": "Pod was evicted: the node was low on resource: ephemeral-storage.",
	}, "building model image "+ckImage+" failed in pod "+ckPod+": Pod was evicted: the node was low on resource: ephemeral-storage.")},
	{"fails when the pod failed without a word", ckBuildPodFails(map[string]interface{}{},
		"building model image "+ckImage+" failed in pod "+ckPod+": the pod failed")},
	{"fails at once when the builder image cannot be pulled (ImagePullBackOff)", ckCannotStart(false, "builder", "ImagePullBackOff", "Back-off pulling image \"gcr.io/kaniko-project/executor:v1.23.2\"",
		"building model image "+ckImage+": pod "+ckPod+" container builder cannot start, ImagePullBackOff: Back-off pulling image \"gcr.io/kaniko-project/executor:v1.23.2\"")},
	{"fails at once on ErrImagePull", ckCannotStart(false, "builder", "ErrImagePull", "",
		"building model image "+ckImage+": pod "+ckPod+" container builder cannot start, ErrImagePull")},
	{"fails at once on InvalidImageName of the base image", ckCannotStart(true, "prepare", "InvalidImageName", "couldn't parse image name \"busybox::1\"",
		"building model image "+ckImage+": pod "+ckPod+" container prepare cannot start, InvalidImageName: couldn't parse image name \"busybox::1\"")},
	{"fails at once on CreateContainerConfigError", ckCannotStart(false, "builder", "CreateContainerConfigError", "secret \"regcred\" not found",
		"building model image "+ckImage+": pod "+ckPod+" container builder cannot start, CreateContainerConfigError: secret \"regcred\" not found")},
	{"the same run keeps a failed build failed", func(t testing.TB) {
		w := ckBuild(t)
		ckBuildPodStatus(w, "Failed", nil, []interface{}{ckContainer("builder", ckTerminated(1, "Error", "denied"))})
		failed := "building model image " + ckImage + " failed in pod " + ckPod + ": container builder exited with code 1 (Error): denied"
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseFailed, failed)
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseFailed, failed)
		if !w.Exists(stepworld.GVKPod, "ml", ckPod) {
			t.Error("the failed pod was removed within the run that saw it fail")
		}
	}},
	{"a new run removes the failed build pod and builds again", func(t testing.TB) {
		w := ckBuild(t)
		ckBuildPodStatus(w, "Failed", nil, []interface{}{ckContainer("builder", ckTerminated(1, "Error", "denied"))})
		stepWantPhase(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseFailed)
		// A new run of the workflow (a new step session).
		w.Session = "session-2"
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseRunning, "removing the earlier build pod "+ckPod+" before building "+ckImage)
		if w.Exists(stepworld.GVKPod, "ml", ckPod) {
			t.Fatal("the failed build pod of the earlier run was not removed")
		}
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseRunning, ckBuilding+"Pending")
		pod := w.Get(stepworld.GVKPod, "ml", ckPod)
		if got := pod.GetAnnotations()["ml-platform.oam.dev/step-session"]; got != "session-2" {
			t.Errorf("rebuilt pod step-session annotation = %q, want session-2", got)
		}
	}},
	{"a new run keeps a build pod that is still running", func(t testing.TB) {
		w := ckBuild(t)
		ckBuildPodStatus(w, "Running", nil, nil)
		w.Session = "session-2"
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseRunning, ckBuilding+"Running")
	}},
	{"removes a build pod of another training job first", func(t testing.TB) {
		other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: ckPod, Namespace: "ml", Annotations: map[string]string{
			"ml-platform.oam.dev/training-job": "my-tfjob-v0", "ml-platform.oam.dev/image": ckImage, "ml-platform.oam.dev/step-session": "session-1"}}}
		w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"), other)
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseRunning, "removing the earlier build pod "+ckPod+" before building "+ckImage)
		if w.Exists(stepworld.GVKPod, "ml", ckPod) {
			t.Fatal("the build pod of another training job was kept")
		}
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseRunning, ckBuilding+"Pending")
		assertEqual(t, "rebuilt pod's training job", w.Get(stepworld.GVKPod, "ml", ckPod).GetAnnotations()["ml-platform.oam.dev/training-job"], "my-tfjob-v1")
	}},
	{"refuses a namespace that enforces restricted Pod Security, before any build pod", func(t testing.TB) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ml", Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}}}
		w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"), ns)
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseFailed,
			"namespace ml enforces the restricted Pod Security Standard, and the model image is built by kaniko, which runs as root: checkpoint in a namespace that allows baseline pods")
		if w.Exists(stepworld.GVKPod, "ml", ckPod) {
			t.Error("a build pod was created in a namespace that refuses it")
		}
	}},
	{"builds in a namespace that enforces baseline", func(t testing.TB) {
		ckBuild(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ml", Labels: map[string]string{"pod-security.kubernetes.io/enforce": "baseline"}}})
	}},
	{"fails without a TFJob of this revision", ckNoJob("",
		"no succeeded training job for component my-tfjob in app revision pipeline-v1: no TFJob found; run the ml-model-training step before ml-model-checkpoint")},
	{"fails while the TFJob runs", ckNoJob("",
		"no succeeded training job for component my-tfjob in app revision pipeline-v1: TFJob my-tfjob-v1: Running: 0/3 workers active", stepTrainedJob("Running"))},
	{"fails on a failed TFJob", ckNoJob("",
		"no succeeded training job for component my-tfjob in app revision pipeline-v1: TFJob my-tfjob-v1: Failed", stepTrainedJob("Failed"))},
	{"fails on a TFJob without status", ckNoJob("",
		"no succeeded training job for component my-tfjob in app revision pipeline-v1: Waiting for the training operator to pick up TFJob my-tfjob-v1", func() client.Object {
			j := stepTrainedJob("Succeeded")
			delete(j.Object, "status")
			return j
		}())},
	{"fails on a False Succeeded condition", ckNoJob("",
		"no succeeded training job for component my-tfjob in app revision pipeline-v1: TFJob my-tfjob-v1: Created, waiting for pods", func() client.Object {
			j := stepTrainedJob("Succeeded")
			j.Object["status"].(map[string]interface{})["conditions"].([]interface{})[1].(map[string]interface{})["status"] = "False"
			return j
		}())},
	{"a job of an older revision does not count", ckNoJob("pipeline-v2",
		"no succeeded training job for component my-tfjob in app revision pipeline-v2: no TFJob found; run the ml-model-training step before ml-model-checkpoint", stepTrainedJob("Succeeded"))},
	{"refuses to overwrite a version trained by another job", func(t testing.TB) {
		w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"),
			ckRecord("model-version-mymodel-v2", "my-tfjob-v0", nil, map[string]string{"image": ckImage}))
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseFailed,
			"model version mymodel-v2 already exists (image "+ckImage+", trained by my-tfjob-v0); model versions are immutable: give this model a new modelVersion.modelName")
		if w.Exists(stepworld.GVKPod, "ml", ckPod) {
			t.Error("a build pod was created for an existing version")
		}
	}},
	{"refuses a record it cannot attribute", func(t testing.TB) {
		w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "model-version-mymodel-v2", Namespace: "ml"}})
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseFailed,
			"model version mymodel-v2 already exists (image unknown, trained by an unknown job); model versions are immutable: give this model a new modelVersion.modelName")
	}},
	{"keeps a version this job recorded and the application's earlier versions", func(t testing.TB) {
		older := ckRecord("model-version-mymodel-v1", "my-tfjob-v0", map[string]string{"app.oam.dev/name": "pipeline", "app.oam.dev/namespace": "ml", "oam.dev/render-hash": "1"},
			map[string]string{"image": "myrepo/mymodel:mymodel-v1", "model": "mymodel"})
		foreign := ckRecord("model-version-other-v1", "x-v1", map[string]string{"app.oam.dev/name": "other", "app.oam.dev/namespace": "ml"}, map[string]string{"image": "o:v1", "model": "o"})
		done := ckRecord("model-version-mymodel-v2", "my-tfjob-v1", nil, map[string]string{"image": ckImage, "model": "mymodel", "digest": testDigest,
			"createdAt": "2026-11-28T14:00:00Z", "version": "1", "appRevision": "pipeline-v1"})
		w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"), older, foreign, done)
		var reapplied []string
		w.Client = &stepRecordingClient{Client: w.Client, updated: &reapplied}
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseSucceeded, "")
		if w.Exists(stepworld.GVKPod, "ml", ckPod) {
			t.Error("a recorded version was built again")
		}
		if !stepHas(reapplied, "model-version-mymodel-v1") {
			t.Errorf("the earlier record model-version-mymodel-v1 was not applied again (applied: %v)", reapplied)
		}
		if stepHas(reapplied, "model-version-other-v1") {
			t.Error("the record of another application was applied")
		}
		assertEqual(t, "re-applied earlier record's labels", w.Get(stepworld.GVKConfigMap, "ml", "model-version-mymodel-v1").GetLabels()["ml-platform.oam.dev/model-version"], "mymodel-v1")
		rec := w.Get(stepworld.GVKConfigMap, "ml", "model-version-mymodel-v2")
		assertEqual(t, "re-recorded data", rec.Object["data"], map[string]interface{}{
			"modelName": "mymodel-v2", "model": "mymodel", "version": "1", "image": ckImage, "digest": testDigest,
			"trainingJob": "my-tfjob-v1", "appRevision": "pipeline-v1", "createdAt": "2026-11-28T14:00:00Z",
		})
	}},
	{"fails when the registry secret is missing", func(t testing.TB) {
		w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"))
		stepWant(t, w.Run("save-model-with-secret"), v1alpha1.WorkflowStepPhaseFailed,
			"registry secret regcred not found in namespace ml: create a kubernetes.io/dockerconfigjson Secret (kubectl create secret docker-registry)")
	}},
	{"fails when the registry secret is not a docker config", func(t testing.TB) {
		opaque := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "regcred", Namespace: "ml"}, Type: corev1.SecretTypeOpaque}
		w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"), opaque)
		stepWant(t, w.Run("save-model-with-secret"), v1alpha1.WorkflowStepPhaseFailed,
			"registry secret regcred has type Opaque, want kubernetes.io/dockerconfigjson: credentials are taken only from a docker-registry Secret")
	}},
	{"mounts the registry secret and pushes insecurely when asked", func(t testing.TB) {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "regcred", Namespace: "ml"}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{".dockerconfigjson": []byte(`{"auths":{}}`)}}
		w := newStepWorld(t, checkpointApp, stepTrainedJob("Succeeded"), secret)
		stepWant(t, w.Run("save-model-with-secret"), v1alpha1.WorkflowStepPhaseRunning,
			"building model image registry.example.com:5000/team/mymodel:mymodel-v3 from my-tfjob-v1 (/models/mymodel/1): pod pipeline-build-mymodel-v3 is Pending")
		pod := w.Get(stepworld.GVKPod, "ml", "pipeline-build-mymodel-v3")
		if got := pod.GetLabels(); got["team"] != "ml" || got["ml-platform.oam.dev/build"] != "true" {
			t.Errorf("build pod labels %v: want buildPodLabels added without overriding ml-platform.oam.dev/build", got)
		}
		spec := pod.Object["spec"].(map[string]interface{})
		builder := container(t, spec, "builder")
		stepMustContain(t, "builder args", fmt.Sprint(builder["args"]), "--destination=registry.example.com:5000/team/mymodel:mymodel-v3", "--insecure", "--skip-tls-verify")
		stepMustContain(t, "builder mounts", fmt.Sprint(builder["volumeMounts"]), "mountPath:/kaniko/.docker")
		stepMustContain(t, "build pod volumes", fmt.Sprint(spec["volumes"]), "secretName:regcred", "key:.dockerconfigjson", "path:config.json")
	}},
	{"fails for a component of another type", ckComponentProblem(ckApp(ckWeb, ckWrongComponents), "wrong-component",
		`component "web" is of type webservice: ml-model-checkpoint needs the name of one of its tfjob components`)},
	{"fails for an unknown component", ckComponentProblem(ckApp(ckWeb, ckWrongComponents), "missing-component",
		`component "nope" is not in this application: ml-model-checkpoint needs the name of one of its tfjob components`)},
	{"the default component is the only tfjob, next to other components", func(t testing.TB) {
		w := newStepWorld(t, ckApp(ckWeb, ""), stepTrainedJob("Succeeded"))
		stepWant(t, w.Run("save-model"), v1alpha1.WorkflowStepPhaseRunning, ckBuilding+"Pending")
	}},
	{"fails without a tfjob component", ckComponentProblem(strings.Replace(checkpointApp, "type: tfjob", "type: webservice", 1), "save-model",
		"component is not set and this application has no tfjob component: ml-model-checkpoint needs the name of one of its tfjob components")},
	{"fails with several tfjob components and no component set", ckComponentProblem(ckApp(`    - name: other-tfjob
      type: tfjob
      properties:
        modelVersion: {modelName: other}
        tfReplicaSpecs:
          Worker:
            template: {spec: {containers: [{name: tensorflow, image: "tf:1"}]}}
`, ""), "save-model", "component is not set and this application has several tfjob components (my-tfjob, other-tfjob): set it to one of them")},
}

func TestCheckpointStep(t *testing.T) { runStepCases(t, checkpointStepCases) }

// stepRecordingClient notes the names of objects updated.
type stepRecordingClient struct {
	client.Client
	updated *[]string
}

func (c *stepRecordingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	*c.updated = append(*c.updated, obj.GetName())
	return c.Client.Update(ctx, obj, opts...)
}

func stepHas(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
