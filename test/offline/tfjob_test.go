package offline

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// specTFJobComponent is the spec's tfjob component my-tfjob, an entry of an
// Application's components.
const specTFJobComponent = `    - name: my-tfjob
      type: tfjob
      properties:
        modelVersion:
          modelName: mymodel
          imageRepo: myhub/mymodel
        tfReplicaSpecs:
          Worker:
            replicas: 3
            template:
              spec:
                containers:
                  - name: tensorflow
                    image: tf-mnist-estimator-api:v0.1
`

// The spec's training component, exactly as ml-platform-design.md writes it.
const trSpecApp = `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: ml-demo
  namespace: team-a
spec:
  components:
` + specTFJobComponent + `  workflow:
    steps:
      - name: train-model
        type: ml-model-training
        properties:
          component: my-tfjob
          dataset:
            s3:
              bucket: bucket-url
`

func trRender(t *testing.T, doc string) *render.Result {
	t.Helper()
	res, err := renderYAML(t, doc)
	if err != nil {
		t.Fatalf("does not render:\n%v", err)
	}
	return res
}

// trPodSpec returns spec.tfReplicaSpecs.<role>.template.spec of a TFJob.
func trPodSpec(t *testing.T, job *unstructured.Unstructured, role string) map[string]interface{} {
	t.Helper()
	spec, ok := field(t, job, "spec", "tfReplicaSpecs", role, "template", "spec").(map[string]interface{})
	if !ok {
		t.Fatalf("TFJob %s: tfReplicaSpecs.%s.template.spec is not an object", job.GetName(), role)
	}
	return spec
}

func trRoles(t *testing.T, job *unstructured.Unstructured) []string {
	t.Helper()
	specs, _ := field(t, job, "spec", "tfReplicaSpecs").(map[string]interface{})
	var roles []string
	for r := range specs {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}

func trEnv(t *testing.T, c map[string]interface{}) map[string]interface{} {
	t.Helper()
	out := map[string]interface{}{}
	for name, e := range namedList(t, c["env"]) {
		if v, ok := e["value"]; ok {
			out[name] = v
		} else {
			out[name] = e["valueFrom"]
		}
	}
	return out
}

// trCheckReplica asserts what every replica of a tfjob gets: the model
// label, the MODEL_* env and the model store on the tensorflow container, and
// the hardened security defaults on the pod and every container.
func trCheckReplica(t *testing.T, job *unstructured.Unstructured, role, model, run, claim string) {
	t.Helper()
	assertEqual(t, role+" pod label model", field(t, job, "spec", "tfReplicaSpecs", role, "template", "metadata", "labels", "ml-platform.oam.dev/model"), model)
	pod := trPodSpec(t, job, role)
	tf := container(t, pod, "tensorflow")
	env := trEnv(t, tf)
	assertEqual(t, role+" MODEL_NAME", env["MODEL_NAME"], model)
	assertEqual(t, role+" MODEL_VERSION", env["MODEL_VERSION"], run)
	assertEqual(t, role+" MODEL_DIR", env["MODEL_DIR"], "/mnt/models/"+model+"/"+run)
	assertEqual(t, role+" MODEL_BASE_DIR", env["MODEL_BASE_DIR"], "/mnt/models/"+model)
	mounts := namedList(t, tf["volumeMounts"])
	assertEqual(t, role+" model-store mount", mounts["model-store"], map[string]interface{}{"name": "model-store", "mountPath": "/mnt/models"})
	vols := namedList(t, pod["volumes"])
	assertEqual(t, role+" model-store volume", vols["model-store"], map[string]interface{}{
		"name": "model-store", "persistentVolumeClaim": map[string]interface{}{"claimName": claim},
	})
	sc, _ := pod["securityContext"].(map[string]interface{})
	if sc["runAsNonRoot"] != true || sc["runAsUser"] == nil || sc["runAsUser"] == int64(0) || sc["fsGroup"] == nil {
		t.Errorf("%s pod securityContext = %v, want runAsNonRoot and a non-zero runAsUser and fsGroup", role, sc)
	}
	for _, key := range []string{"containers", "initContainers"} {
		list, _ := pod[key].([]interface{})
		for _, c := range list {
			trCheckRestricted(t, role, c.(map[string]interface{}))
		}
	}
}

func trCheckRestricted(t *testing.T, role string, c map[string]interface{}) {
	t.Helper()
	sc, _ := c["securityContext"].(map[string]interface{})
	caps, _ := sc["capabilities"].(map[string]interface{})
	seccomp, _ := sc["seccompProfile"].(map[string]interface{})
	if sc["allowPrivilegeEscalation"] != false || !reflect.DeepEqual(caps["drop"], []interface{}{"ALL"}) || seccomp["type"] != "RuntimeDefault" {
		t.Errorf("%s container %s securityContext = %v, want allowPrivilegeEscalation false, drop [ALL], seccomp RuntimeDefault", role, c["name"], sc)
	}
}

// The spec's tfjob renders exactly: one TFJob my-tfjob-v1 with 3 Workers of the
// spec's image in a container named tensorflow, plus the model store PVC.
func TestTrainingSpecTFJobRendersExactly(t *testing.T) {
	res := trRender(t, trSpecApp)
	if len(res.Objects) != 2 {
		t.Errorf("rendered %d objects, want the TFJob and the PVC", len(res.Objects))
	}
	job := mustFind(t, res, "TFJob", "my-tfjob-v1")
	assertEqual(t, "apiVersion", job.GetAPIVersion(), "kubeflow.org/v1")
	assertEqual(t, "namespace", job.GetNamespace(), "team-a")
	assertEqual(t, "job label model", job.GetLabels()["ml-platform.oam.dev/model"], "mymodel")
	assertEqual(t, "roles", trRoles(t, job), []string{"Worker"})
	assertEqual(t, "Worker replicas", field(t, job, "spec", "tfReplicaSpecs", "Worker", "replicas"), int64(3))
	assertEqual(t, "Worker restartPolicy", field(t, job, "spec", "tfReplicaSpecs", "Worker", "restartPolicy"), "Never")
	assertEqual(t, "runPolicy", field(t, job, "spec", "runPolicy"), map[string]interface{}{"cleanPodPolicy": "Running"})
	if _, found, _ := unstructured.NestedFieldNoCopy(job.Object, "spec", "successPolicy"); found {
		t.Error("successPolicy is set although the spec leaves it out")
	}
	pod := trPodSpec(t, job, "Worker")
	containers, _ := pod["containers"].([]interface{})
	assertEqual(t, "Worker containers", names(containers), []string{"tensorflow"})
	tf := container(t, pod, "tensorflow")
	assertEqual(t, "tensorflow image", tf["image"], "tf-mnist-estimator-api:v0.1")
	assertEqual(t, "tensorflow env", names(tf["env"].([]interface{})), []string{"MODEL_NAME", "MODEL_VERSION", "MODEL_DIR", "MODEL_BASE_DIR"})
	if _, found := pod["initContainers"]; found {
		t.Error("the component alone adds init containers; only the dataset trait does")
	}
	trCheckReplica(t, job, "Worker", "mymodel", "1", "my-tfjob-models")
	assertEqual(t, "pod securityContext", pod["securityContext"], map[string]interface{}{"runAsNonRoot": true, "runAsUser": int64(1000), "runAsGroup": int64(1000), "fsGroup": int64(1000),
		"seccompProfile": map[string]interface{}{"type": "RuntimeDefault"}})

	pvc := mustFind(t, res, "PersistentVolumeClaim", "my-tfjob-models")
	assertEqual(t, "PVC labels model", pvc.GetLabels()["ml-platform.oam.dev/model"], "mymodel")
	assertEqual(t, "PVC spec", field(t, pvc, "spec"), map[string]interface{}{
		"accessModes": []interface{}{"ReadWriteMany"},
		"resources":   map[string]interface{}{"requests": map[string]interface{}{"storage": "10Gi"}},
	})
}

func TestTrainingPSAndWorker(t *testing.T) {
	res := trRender(t, `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: dist}
spec:
  components:
    - name: dist
      type: tfjob
      properties:
        modelVersion: {modelName: dist-model}
        successPolicy: AllWorkers
        runPolicy: {cleanPodPolicy: All, backoffLimit: 2, activeDeadlineSeconds: 600}
        modelStore: {claimName: shared-models}
        tfReplicaSpecs:
          PS:
            replicas: 2
            template:
              spec:
                containers: [{name: tensorflow, image: "tf:ps"}]
          Worker:
            replicas: 4
            restartPolicy: ExitCode
            template:
              metadata:
                labels: {team: vision}
                annotations: {note: keep}
              spec:
                nodeSelector: {gpu: "true"}
                securityContext: {runAsUser: 2000}
                volumes: [{name: cache, emptyDir: {}}]
                containers:
                  - name: tensorflow
                    image: "tf:worker"
                    env: [{name: EPOCHS, value: "5"}, {name: MODEL_DIR, value: /custom}]
                    volumeMounts: [{name: cache, mountPath: /cache}]
                    securityContext: {capabilities: {add: [NET_BIND_SERVICE]}}
                  - name: sidecar
                    image: busybox
`)
	job := mustFind(t, res, "TFJob", "dist-v1")

	t.Run("the job: replicas, policies, an existing claim", func(t *testing.T) {
		// An existing claim: no PVC is emitted.
		if pvcs := res.ByKind("PersistentVolumeClaim"); len(pvcs) != 0 {
			t.Errorf("rendered %d PVCs although modelStore.claimName names an existing claim", len(pvcs))
		}
		assertEqual(t, "roles", trRoles(t, job), []string{"PS", "Worker"})
		assertEqual(t, "PS replicas", field(t, job, "spec", "tfReplicaSpecs", "PS", "replicas"), int64(2))
		assertEqual(t, "Worker replicas", field(t, job, "spec", "tfReplicaSpecs", "Worker", "replicas"), int64(4))
		assertEqual(t, "Worker restartPolicy", field(t, job, "spec", "tfReplicaSpecs", "Worker", "restartPolicy"), "ExitCode")
		assertEqual(t, "successPolicy", field(t, job, "spec", "successPolicy"), "AllWorkers")
		assertEqual(t, "runPolicy", field(t, job, "spec", "runPolicy"), map[string]interface{}{
			"cleanPodPolicy": "All", "backoffLimit": int64(2), "activeDeadlineSeconds": int64(600),
		})
		trCheckReplica(t, job, "PS", "dist-model", "1", "shared-models")
	})

	t.Run("the user's Worker template is kept and merged, not replaced", func(t *testing.T) {
		assertEqual(t, "Worker pod labels", field(t, job, "spec", "tfReplicaSpecs", "Worker", "template", "metadata", "labels"),
			map[string]interface{}{"team": "vision", "ml-platform.oam.dev/model": "dist-model"})
		assertEqual(t, "Worker pod annotations", field(t, job, "spec", "tfReplicaSpecs", "Worker", "template", "metadata", "annotations"),
			map[string]interface{}{"note": "keep"})
		pod := trPodSpec(t, job, "Worker")
		assertEqual(t, "nodeSelector", pod["nodeSelector"], map[string]interface{}{"gpu": "true"})
		assertEqual(t, "pod securityContext", pod["securityContext"], map[string]interface{}{"runAsNonRoot": true, "runAsUser": int64(2000), "runAsGroup": int64(1000), "fsGroup": int64(1000),
			"seccompProfile": map[string]interface{}{"type": "RuntimeDefault"}})
		assertEqual(t, "Worker volumes", names(pod["volumes"].([]interface{})), []string{"cache", "model-store"})
		tf := container(t, pod, "tensorflow")
		env := trEnv(t, tf)
		assertEqual(t, "user MODEL_DIR wins", env["MODEL_DIR"], "/custom")
		assertEqual(t, "user env kept", env["EPOCHS"], "5")
		assertEqual(t, "tensorflow mounts", names(tf["volumeMounts"].([]interface{})), []string{"cache", "model-store"})
		assertEqual(t, "tensorflow capabilities", field(t, &unstructured.Unstructured{Object: tf}, "securityContext", "capabilities"),
			map[string]interface{}{"add": []interface{}{"NET_BIND_SERVICE"}, "drop": []interface{}{"ALL"}})
		side := container(t, pod, "sidecar")
		if _, found := side["env"]; found {
			t.Error("the sidecar got env; only the tensorflow container gets MODEL_*")
		}
		trCheckRestricted(t, "Worker", side)
	})
}

func TestTrainingChiefWorkerEvaluator(t *testing.T) {
	res := trRender(t, `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: chief}
spec:
  components:
    - name: chief
      type: tfjob
      properties:
        modelVersion: {modelName: m}
        modelStore: {size: 50Gi, storageClassName: nfs, accessModes: [ReadWriteOnce]}
        tfReplicaSpecs:
          Chief:
            template: {spec: {containers: [{name: tensorflow, image: "tf:1"}]}}
          Worker:
            replicas: 2
            restartPolicy: OnFailure
            template: {spec: {containers: [{name: tensorflow, image: "tf:1"}]}}
          Evaluator:
            template: {spec: {containers: [{name: tensorflow, image: "tf:eval"}]}}
`)
	job := mustFind(t, res, "TFJob", "chief-v1")
	assertEqual(t, "roles", trRoles(t, job), []string{"Chief", "Evaluator", "Worker"})
	assertEqual(t, "Chief replicas (default)", field(t, job, "spec", "tfReplicaSpecs", "Chief", "replicas"), int64(1))
	assertEqual(t, "Evaluator restartPolicy (default)", field(t, job, "spec", "tfReplicaSpecs", "Evaluator", "restartPolicy"), "Never")
	assertEqual(t, "Worker restartPolicy", field(t, job, "spec", "tfReplicaSpecs", "Worker", "restartPolicy"), "OnFailure")
	for _, role := range []string{"Chief", "Worker", "Evaluator"} {
		trCheckReplica(t, job, role, "m", "1", "chief-models")
	}
	pvc := mustFind(t, res, "PersistentVolumeClaim", "chief-models")
	assertEqual(t, "PVC spec", field(t, pvc, "spec"), map[string]interface{}{
		"accessModes":      []interface{}{"ReadWriteOnce"},
		"storageClassName": "nfs",
		"resources":        map[string]interface{}{"requests": map[string]interface{}{"storage": "50Gi"}},
	})
}

func TestTrainingExampleApp(t *testing.T) {
	res := renderFile(t, "examples/training/app.yaml")
	job := mustFind(t, res, "TFJob", "mnist-v1")
	assertEqual(t, "roles", trRoles(t, job), []string{"PS", "Worker"})
	assertEqual(t, "Worker replicas", field(t, job, "spec", "tfReplicaSpecs", "Worker", "replicas"), int64(3))
	trCheckReplica(t, job, "Worker", "mnist", "1", "mnist-models")
	assertEqual(t, "PVC size", field(t, mustFind(t, res, "PersistentVolumeClaim", "mnist-models"), "spec", "resources", "requests", "storage"), "20Gi")
	steps := res.App.Spec.Workflow.Steps
	if len(steps) != 1 || steps[0].Type != "ml-model-training" {
		t.Fatalf("the example's workflow is %v, want the one ml-model-training step", steps)
	}
	if !strings.Contains(string(steps[0].Properties.Raw), `"secretRef":{"name":"s3-credentials"}`) {
		t.Errorf("the example's dataset does not read its credentials from a Secret: %s", steps[0].Properties.Raw)
	}
}
