package offline

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/kubevela/workflow/api/v1alpha1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// The spec's training component, exactly as ml-platform-design.md writes it.
const trSpecApp = `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: ml-demo
  namespace: team-a
spec:
  components:
    - name: my-tfjob
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
  workflow:
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

// trNamed returns the list entries of a container or pod spec (env, volumes,
// volumeMounts, ...) by their name.
func trNamed(t *testing.T, obj map[string]interface{}, key string) map[string]map[string]interface{} {
	t.Helper()
	out := map[string]map[string]interface{}{}
	list, _ := obj[key].([]interface{})
	for _, e := range list {
		m, ok := e.(map[string]interface{})
		if !ok {
			t.Fatalf("%s entry %v is not an object", key, e)
		}
		name, _ := m["name"].(string)
		if _, dup := out[name]; dup {
			t.Errorf("%s has %q twice", key, name)
		}
		out[name] = m
	}
	return out
}

func trNames(list []interface{}) []string {
	var out []string
	for _, e := range list {
		if m, ok := e.(map[string]interface{}); ok {
			out = append(out, m["name"].(string))
		}
	}
	return out
}

func trEnv(t *testing.T, c map[string]interface{}) map[string]interface{} {
	t.Helper()
	out := map[string]interface{}{}
	for name, e := range trNamed(t, c, "env") {
		if v, ok := e["value"]; ok {
			out[name] = v
		} else {
			out[name] = e["valueFrom"]
		}
	}
	return out
}

func trEqual(t testing.TB, what string, got, want interface{}) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

// trCheckReplica asserts what every replica of a tfjob gets: the model
// label, the MODEL_* env and the model store on the tensorflow container, and
// the hardened security defaults on the pod and every container.
func trCheckReplica(t *testing.T, job *unstructured.Unstructured, role, model, run, claim string) {
	t.Helper()
	trEqual(t, role+" pod label model", field(t, job, "spec", "tfReplicaSpecs", role, "template", "metadata", "labels", "ml-platform.oam.dev/model"), model)
	pod := trPodSpec(t, job, role)
	tf := container(t, pod, "tensorflow")
	env := trEnv(t, tf)
	trEqual(t, role+" MODEL_NAME", env["MODEL_NAME"], model)
	trEqual(t, role+" MODEL_VERSION", env["MODEL_VERSION"], run)
	trEqual(t, role+" MODEL_DIR", env["MODEL_DIR"], "/mnt/models/"+model+"/"+run)
	trEqual(t, role+" MODEL_BASE_DIR", env["MODEL_BASE_DIR"], "/mnt/models/"+model)
	mounts := trNamed(t, tf, "volumeMounts")
	trEqual(t, role+" model-store mount", mounts["model-store"], map[string]interface{}{"name": "model-store", "mountPath": "/mnt/models"})
	vols := trNamed(t, pod, "volumes")
	trEqual(t, role+" model-store volume", vols["model-store"], map[string]interface{}{
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
// spec's image in a container trNamed tensorflow, plus the model store PVC.
func TestTrainingSpecTFJobRendersExactly(t *testing.T) {
	res := trRender(t, trSpecApp)
	if len(res.Objects) != 2 {
		t.Errorf("rendered %d objects, want the TFJob and the PVC", len(res.Objects))
	}
	job := mustFind(t, res, "TFJob", "my-tfjob-v1")
	trEqual(t, "apiVersion", job.GetAPIVersion(), "kubeflow.org/v1")
	trEqual(t, "namespace", job.GetNamespace(), "team-a")
	trEqual(t, "job label model", job.GetLabels()["ml-platform.oam.dev/model"], "mymodel")
	trEqual(t, "roles", trRoles(t, job), []string{"Worker"})
	trEqual(t, "Worker replicas", field(t, job, "spec", "tfReplicaSpecs", "Worker", "replicas"), int64(3))
	trEqual(t, "Worker restartPolicy", field(t, job, "spec", "tfReplicaSpecs", "Worker", "restartPolicy"), "Never")
	trEqual(t, "runPolicy", field(t, job, "spec", "runPolicy"), map[string]interface{}{"cleanPodPolicy": "Running"})
	if _, found, _ := unstructured.NestedFieldNoCopy(job.Object, "spec", "successPolicy"); found {
		t.Error("successPolicy is set although the spec leaves it out")
	}
	pod := trPodSpec(t, job, "Worker")
	containers, _ := pod["containers"].([]interface{})
	trEqual(t, "Worker containers", trNames(containers), []string{"tensorflow"})
	tf := container(t, pod, "tensorflow")
	trEqual(t, "tensorflow image", tf["image"], "tf-mnist-estimator-api:v0.1")
	trEqual(t, "tensorflow env", trNames(tf["env"].([]interface{})), []string{"MODEL_NAME", "MODEL_VERSION", "MODEL_DIR", "MODEL_BASE_DIR"})
	if _, found := pod["initContainers"]; found {
		t.Error("the component alone adds init containers; only the dataset trait does")
	}
	trCheckReplica(t, job, "Worker", "mymodel", "1", "my-tfjob-models")
	trEqual(t, "pod securityContext", pod["securityContext"], map[string]interface{}{"runAsNonRoot": true, "runAsUser": int64(1000), "runAsGroup": int64(1000), "fsGroup": int64(1000),
		"seccompProfile": map[string]interface{}{"type": "RuntimeDefault"}})

	pvc := mustFind(t, res, "PersistentVolumeClaim", "my-tfjob-models")
	trEqual(t, "PVC labels model", pvc.GetLabels()["ml-platform.oam.dev/model"], "mymodel")
	trEqual(t, "PVC spec", field(t, pvc, "spec"), map[string]interface{}{
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
	// An existing claim: no PVC is emitted.
	if pvcs := res.ByKind("PersistentVolumeClaim"); len(pvcs) != 0 {
		t.Errorf("rendered %d PVCs although modelStore.claimName trNames an existing claim", len(pvcs))
	}
	job := mustFind(t, res, "TFJob", "dist-v1")
	trEqual(t, "roles", trRoles(t, job), []string{"PS", "Worker"})
	trEqual(t, "PS replicas", field(t, job, "spec", "tfReplicaSpecs", "PS", "replicas"), int64(2))
	trEqual(t, "Worker replicas", field(t, job, "spec", "tfReplicaSpecs", "Worker", "replicas"), int64(4))
	trEqual(t, "Worker restartPolicy", field(t, job, "spec", "tfReplicaSpecs", "Worker", "restartPolicy"), "ExitCode")
	trEqual(t, "successPolicy", field(t, job, "spec", "successPolicy"), "AllWorkers")
	trEqual(t, "runPolicy", field(t, job, "spec", "runPolicy"), map[string]interface{}{
		"cleanPodPolicy": "All", "backoffLimit": int64(2), "activeDeadlineSeconds": int64(600),
	})
	trCheckReplica(t, job, "PS", "dist-model", "1", "shared-models")

	// The user's pod template is kept and merged, not replaced.
	trEqual(t, "Worker pod labels", field(t, job, "spec", "tfReplicaSpecs", "Worker", "template", "metadata", "labels"),
		map[string]interface{}{"team": "vision", "ml-platform.oam.dev/model": "dist-model"})
	trEqual(t, "Worker pod annotations", field(t, job, "spec", "tfReplicaSpecs", "Worker", "template", "metadata", "annotations"),
		map[string]interface{}{"note": "keep"})
	pod := trPodSpec(t, job, "Worker")
	trEqual(t, "nodeSelector", pod["nodeSelector"], map[string]interface{}{"gpu": "true"})
	trEqual(t, "pod securityContext", pod["securityContext"], map[string]interface{}{"runAsNonRoot": true, "runAsUser": int64(2000), "runAsGroup": int64(1000), "fsGroup": int64(1000),
		"seccompProfile": map[string]interface{}{"type": "RuntimeDefault"}})
	trEqual(t, "Worker volumes", trNames(pod["volumes"].([]interface{})), []string{"cache", "model-store"})
	tf := container(t, pod, "tensorflow")
	env := trEnv(t, tf)
	trEqual(t, "user MODEL_DIR wins", env["MODEL_DIR"], "/custom")
	trEqual(t, "user env kept", env["EPOCHS"], "5")
	trEqual(t, "tensorflow mounts", trNames(tf["volumeMounts"].([]interface{})), []string{"cache", "model-store"})
	trEqual(t, "tensorflow capabilities", field(t, &unstructured.Unstructured{Object: tf}, "securityContext", "capabilities"),
		map[string]interface{}{"add": []interface{}{"NET_BIND_SERVICE"}, "drop": []interface{}{"ALL"}})
	side := container(t, pod, "sidecar")
	if _, found := side["env"]; found {
		t.Error("the sidecar got env; only the tensorflow container gets MODEL_*")
	}
	trCheckRestricted(t, "Worker", side)
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
	trEqual(t, "roles", trRoles(t, job), []string{"Chief", "Evaluator", "Worker"})
	trEqual(t, "Chief replicas (default)", field(t, job, "spec", "tfReplicaSpecs", "Chief", "replicas"), int64(1))
	trEqual(t, "Evaluator restartPolicy (default)", field(t, job, "spec", "tfReplicaSpecs", "Evaluator", "restartPolicy"), "Never")
	trEqual(t, "Worker restartPolicy", field(t, job, "spec", "tfReplicaSpecs", "Worker", "restartPolicy"), "OnFailure")
	for _, role := range []string{"Chief", "Worker", "Evaluator"} {
		trCheckReplica(t, job, role, "m", "1", "chief-models")
	}
	pvc := mustFind(t, res, "PersistentVolumeClaim", "chief-models")
	trEqual(t, "PVC spec", field(t, pvc, "spec"), map[string]interface{}{
		"accessModes":      []interface{}{"ReadWriteOnce"},
		"storageClassName": "nfs",
		"resources":        map[string]interface{}{"requests": map[string]interface{}{"storage": "50Gi"}},
	})
}

// trDatasetApp is a PS+Worker tfjob with the ml-dataset trait attached, as the
// ml-model-training step attaches it.
func trDatasetApp(dataset string) string {
	return `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: ds}
spec:
  components:
    - name: ds
      type: tfjob
      properties:
        modelVersion: {modelName: m}
        tfReplicaSpecs:
          PS:
            template: {spec: {containers: [{name: tensorflow, image: "tf:1"}]}}
          Worker:
            replicas: 2
            template:
              spec:
                volumes: [{name: cache, emptyDir: {}}]
                containers:
                  - {name: sidecar, image: busybox}
                  - name: tensorflow
                    image: "tf:1"
                    env: [{name: EPOCHS, value: "5"}]
      traits:
        - type: ml-dataset
          properties: ` + dataset + `
`
}

func TestTrainingDatasetFromS3(t *testing.T) {
	res := trRender(t, trDatasetApp(`{s3: {bucket: "s3://ml-datasets", path: /mnist, region: us-east-1, secretRef: {name: s3-credentials}}}`))
	job := mustFind(t, res, "TFJob", "ds-v1")
	for _, role := range []string{"PS", "Worker"} {
		pod := trPodSpec(t, job, role)
		trCheckReplica(t, job, role, "m", "1", "ds-models")
		loader := container(t, pod, "dataset-loader")
		trEqual(t, role+" initContainers", trNames(pod["initContainers"].([]interface{})), []string{"dataset-loader"})
		trEqual(t, role+" loader image", loader["image"], "rclone/rclone:1.68")
		trEqual(t, role+" loader command", loader["command"], []interface{}{"rclone"})
		args, _ := loader["args"].([]interface{})
		if len(args) < 3 || args[0] != "copy" || args[len(args)-2] != ":s3:ml-datasets/mnist" || args[len(args)-1] != "/mnt/dataset" {
			t.Errorf("%s loader args = %v, want rclone copy :s3:ml-datasets/mnist /mnt/dataset", role, args)
		}
		trEqual(t, role+" loader env", trEnv(t, loader), map[string]interface{}{
			"RCLONE_S3_PROVIDER": "AWS",
			"RCLONE_S3_ENV_AUTH": "false",
			"RCLONE_S3_REGION":   "us-east-1",
			"RCLONE_S3_ACCESS_KEY_ID": map[string]interface{}{"secretKeyRef": map[string]interface{}{
				"name": "s3-credentials", "key": "accessKeyId"}},
			"RCLONE_S3_SECRET_ACCESS_KEY": map[string]interface{}{"secretKeyRef": map[string]interface{}{
				"name": "s3-credentials", "key": "secretAccessKey"}},
		})
		trEqual(t, role+" loader mounts", loader["volumeMounts"], []interface{}{map[string]interface{}{"name": "dataset", "mountPath": "/mnt/dataset"}})
		if sc, _ := loader["securityContext"].(map[string]interface{}); sc["runAsNonRoot"] != true {
			t.Errorf("%s loader securityContext = %v, want runAsNonRoot", role, sc)
		}
		vols := trNamed(t, pod, "volumes")
		trEqual(t, role+" dataset volume", vols["dataset"], map[string]interface{}{"name": "dataset", "emptyDir": map[string]interface{}{}})
		tf := container(t, pod, "tensorflow")
		trEqual(t, role+" DATASET_DIR", trEnv(t, tf)["DATASET_DIR"], "/mnt/dataset")
		trEqual(t, role+" dataset mount", trNamed(t, tf, "volumeMounts")["dataset"], map[string]interface{}{"name": "dataset", "mountPath": "/mnt/dataset"})
	}
	// The trait keeps what the Worker template had: its sidecar, volume and env.
	pod := trPodSpec(t, job, "Worker")
	trEqual(t, "Worker containers", trNames(pod["containers"].([]interface{})), []string{"sidecar", "tensorflow"})
	trEqual(t, "Worker volumes", trNames(pod["volumes"].([]interface{})), []string{"cache", "model-store", "dataset"})
	trEqual(t, "Worker tensorflow env", trNames(container(t, pod, "tensorflow")["env"].([]interface{})),
		[]string{"MODEL_NAME", "MODEL_VERSION", "MODEL_DIR", "MODEL_BASE_DIR", "EPOCHS", "DATASET_DIR"})
	if _, found := container(t, pod, "sidecar")["env"]; found {
		t.Error("the sidecar got DATASET_DIR; only the tensorflow container does")
	}
}

func TestTrainingDatasetFromPublicOSSBucket(t *testing.T) {
	res := trRender(t, trDatasetApp(`{oss: {bucket: ml-public, path: cifar10, region: cn-beijing}, loaderImage: "registry.example.com/rclone:1.68"}`))
	job := mustFind(t, res, "TFJob", "ds-v1")
	loader := container(t, trPodSpec(t, job, "Worker"), "dataset-loader")
	trEqual(t, "loader image", loader["image"], "registry.example.com/rclone:1.68")
	// A public bucket: no credentials at all.
	trEqual(t, "loader env", trEnv(t, loader), map[string]interface{}{
		"RCLONE_S3_PROVIDER": "Alibaba",
		"RCLONE_S3_ENV_AUTH": "false",
		"RCLONE_S3_REGION":   "cn-beijing",
		"RCLONE_S3_ENDPOINT": "oss-cn-beijing.aliyuncs.com",
	})
	args, _ := loader["args"].([]interface{})
	if args[len(args)-2] != ":s3:ml-public/cifar10" {
		t.Errorf("loader args = %v, want the source :s3:ml-public/cifar10", args)
	}
}

func TestTrainingDatasetFromPVC(t *testing.T) {
	res := trRender(t, trDatasetApp(`{pvc: {claimName: training-data, subPath: mnist}}`))
	job := mustFind(t, res, "TFJob", "ds-v1")
	for _, role := range []string{"PS", "Worker"} {
		pod := trPodSpec(t, job, role)
		if _, found := pod["initContainers"]; found {
			t.Errorf("%s has init containers; a pvc dataset is mounted, not copied", role)
		}
		trEqual(t, role+" dataset volume", trNamed(t, pod, "volumes")["dataset"], map[string]interface{}{
			"name": "dataset", "persistentVolumeClaim": map[string]interface{}{"claimName": "training-data", "readOnly": true},
		})
		tf := container(t, pod, "tensorflow")
		trEqual(t, role+" dataset mount", trNamed(t, tf, "volumeMounts")["dataset"], map[string]interface{}{
			"name": "dataset", "mountPath": "/mnt/dataset", "readOnly": true, "subPath": "mnist",
		})
		trEqual(t, role+" DATASET_DIR", trEnv(t, tf)["DATASET_DIR"], "/mnt/dataset")
	}
}

func TestTrainingDatasetTraitIsInternal(t *testing.T) {
	def := addonRenderer(t).Catalog().Get(render.KindTrait, "ml-dataset")
	if def == nil {
		t.Fatal("no ml-dataset trait")
	}
	trEqual(t, "ui-hidden label", def.Object.GetLabels()["custom.definition.oam.dev/ui-hidden"], "true")
	if !strings.Contains(def.Description, "not for direct use") {
		t.Errorf("description %q does not say the trait is not for direct use", def.Description)
	}
	step := addonRenderer(t).Catalog().Get(render.KindWorkflowStep, "ml-model-training")
	if step == nil {
		t.Fatal("no ml-model-training step")
	}
	trEqual(t, "step category", step.Object.GetAnnotations()["custom.definition.oam.dev/category"], "Machine Learning")
	trEqual(t, "step scope", step.Object.GetLabels()["custom.definition.oam.dev/scope"], "Application")
}

func TestTrainingExampleApp(t *testing.T) {
	res := renderFile(t, "examples/training/app.yaml")
	job := mustFind(t, res, "TFJob", "mnist-v1")
	trEqual(t, "roles", trRoles(t, job), []string{"PS", "Worker"})
	trEqual(t, "Worker replicas", field(t, job, "spec", "tfReplicaSpecs", "Worker", "replicas"), int64(3))
	trCheckReplica(t, job, "Worker", "mnist", "1", "mnist-models")
	trEqual(t, "PVC size", field(t, mustFind(t, res, "PersistentVolumeClaim", "mnist-models"), "spec", "resources", "requests", "storage"), "20Gi")
	steps := res.App.Spec.Workflow.Steps
	if len(steps) != 1 || steps[0].Type != "ml-model-training" {
		t.Fatalf("the example's workflow is %v, want the one ml-model-training step", steps)
	}
	if !strings.Contains(string(steps[0].Properties.Raw), `"secretRef":{"name":"s3-credentials"}`) {
		t.Errorf("the example's dataset does not read its credentials from a Secret: %s", steps[0].Properties.Raw)
	}
}

// trStatus evaluates the tfjob definition's healthPolicy and customStatus
// against a TFJob status, as the application controller does.
func trStatus(t *testing.T, spec, status map[string]interface{}) (bool, string) {
	t.Helper()
	def := addonRenderer(t).Catalog().Get(render.KindComponent, "tfjob")
	if def == nil {
		t.Fatal("no tfjob component")
	}
	output := map[string]interface{}{"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "metadata": map[string]interface{}{"name": "my-tfjob-v1"}}
	if spec != nil {
		output["spec"] = spec
	}
	if status != nil {
		output["status"] = status
	}
	ctx := map[string]interface{}{"output": output, "outputs": map[string]interface{}{}}
	res, err := def.Status(ctx, nil)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	return res.Healthy, res.Message
}

func trCond(typ, status, message string) map[string]interface{} {
	c := map[string]interface{}{"type": typ, "status": status, "reason": "TFJob" + typ}
	if message != "" {
		c["message"] = message
	}
	return c
}

func TestTrainingTFJobHealthAndStatus(t *testing.T) {
	workers3 := map[string]interface{}{"tfReplicaSpecs": map[string]interface{}{
		"PS":     map[string]interface{}{"replicas": int64(1)},
		"Worker": map[string]interface{}{"replicas": int64(3)},
	}}
	chiefOnly := map[string]interface{}{"tfReplicaSpecs": map[string]interface{}{
		"Chief":     map[string]interface{}{},
		"Evaluator": map[string]interface{}{"replicas": int64(1)},
	}}
	cases := []struct {
		name    string
		spec    map[string]interface{}
		status  map[string]interface{}
		healthy bool
		message string
	}{
		{"no status yet", workers3, nil, false, "Waiting for the training operator to pick up TFJob my-tfjob-v1"},
		{"created", workers3, map[string]interface{}{"conditions": []interface{}{trCond("Created", "True", "TFJob my-tfjob-v1 is created.")}},
			false, "Created, waiting for pods"},
		{"running", workers3, map[string]interface{}{
			"conditions":      []interface{}{trCond("Created", "True", ""), trCond("Running", "True", "")},
			"replicaStatuses": map[string]interface{}{"Worker": map[string]interface{}{"active": int64(2)}, "PS": map[string]interface{}{"active": int64(1)}},
		}, false, "Running: 2/3 workers active"},
		{"running without workers", chiefOnly, map[string]interface{}{
			"conditions":      []interface{}{trCond("Running", "True", "")},
			"replicaStatuses": map[string]interface{}{"Chief": map[string]interface{}{"active": int64(1)}},
		}, false, "Running: 1/2 replicas active"},
		{"restarting", workers3, map[string]interface{}{"conditions": []interface{}{trCond("Created", "True", ""), trCond("Running", "False", ""), trCond("Restarting", "True", "worker 1 restarted")}},
			false, "Restarting: worker 1 restarted"},
		{"succeeded", workers3, map[string]interface{}{
			"conditions":     []interface{}{trCond("Created", "True", ""), trCond("Running", "False", ""), trCond("Succeeded", "True", "TFJob my-tfjob-v1 successfully completed.")},
			"startTime":      "2026-02-28T23:58:00Z",
			"completionTime": "2026-03-01T00:02:00Z",
		}, true, "Succeeded in 4m"},
		{"succeeded after hours", workers3, map[string]interface{}{
			"conditions":     []interface{}{trCond("Succeeded", "True", "")},
			"startTime":      "2024-12-31T22:10:05Z",
			"completionTime": "2025-01-01T01:30:50Z",
		}, true, "Succeeded in 3h20m"},
		{"succeeded quickly", workers3, map[string]interface{}{
			"conditions":     []interface{}{trCond("Succeeded", "True", "")},
			"startTime":      "2026-06-01T10:00:00Z",
			"completionTime": "2026-06-01T10:00:42Z",
		}, true, "Succeeded in 42s"},
		{"succeeded without times", workers3, map[string]interface{}{"conditions": []interface{}{trCond("Succeeded", "True", "")}}, true, "Succeeded"},
		{"failed", workers3, map[string]interface{}{"conditions": []interface{}{
			trCond("Created", "True", ""), trCond("Running", "False", ""),
			trCond("Failed", "True", "TFJob team-a/my-tfjob-v1 has failed because 1 Worker replica(s) failed."),
		}}, false, "Failed: TFJob team-a/my-tfjob-v1 has failed because 1 Worker replica(s) failed."},
		{"a False Succeeded is not success", workers3, map[string]interface{}{"conditions": []interface{}{trCond("Succeeded", "False", "")}},
			false, "Created, waiting for pods"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			healthy, msg := trStatus(t, c.spec, c.status)
			if healthy != c.healthy {
				t.Errorf("healthy = %v, want %v", healthy, c.healthy)
			}
			if msg != c.message {
				t.Errorf("message = %q, want %q", msg, c.message)
			}
		})
	}
}

// trainingStepApp trains my-tfjob (with a labels trait) in its own namespace;
// the other steps train without a dataset, in another namespace, a job
// without workers, and point ml-model-training at the wrong components.
const trainingStepApp = `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: trainer
  namespace: team-a
spec:
  components:
    - name: my-tfjob
      type: tfjob
      properties:
        modelVersion: {modelName: m, imageRepo: myrepo/m}
        tfReplicaSpecs:
          PS:
            replicas: 1
            template: {spec: {containers: [{name: tensorflow, image: tf:1}]}}
          Worker:
            replicas: 3
            template: {spec: {containers: [{name: tensorflow, image: tf:1}]}}
      traits:
        - type: labels
          properties: {a: b}
    - name: chief
      type: tfjob
      properties:
        modelVersion: {modelName: c}
        tfReplicaSpecs:
          Chief:
            template: {spec: {containers: [{name: tensorflow, image: tf:1}]}}
          Evaluator:
            replicas: 1
            template: {spec: {containers: [{name: tensorflow, image: tf:1}]}}
    - name: web
      type: webservice
      properties: {image: nginx}
  workflow:
    steps:
      - name: train
        type: ml-model-training
        properties:
          component: my-tfjob
          dataset: {s3: {bucket: b, secretRef: {name: creds}}}
      - name: train-plain
        type: ml-model-training
        properties: {component: my-tfjob}
      - name: train-elsewhere
        type: ml-model-training
        properties: {component: my-tfjob, namespace: team-b}
      - name: train-chief
        type: ml-model-training
        properties: {component: chief}
      - name: train-web
        type: ml-model-training
        properties: {component: web}
      - name: train-nope
        type: ml-model-training
        properties: {component: nope}
`

const trJob = "my-tfjob-v1"

// trStarted is the first reconcile of a step of trainingStepApp: the
// component is applied without a health wait and the step waits for the
// training operator.
func trStarted(t testing.TB, step, job string) *stepWorld {
	t.Helper()
	w := newStepWorld(t, trainingStepApp)
	stepWant(t, w.run(step), v1alpha1.WorkflowStepPhaseRunning, "Waiting for the training operator to pick up TFJob "+job)
	return w
}

// trReconciled: the train step once started, then reconciled again after the
// training operator set the TFJob's status. The step shows the phase and
// message, applying the component without waiting for health, and
// once more, waiting for health, only when the job succeeded.
func trReconciled(status map[string]interface{}, phase v1alpha1.WorkflowStepPhase, message string) func(t testing.TB) {
	return func(t testing.TB) {
		w := trStarted(t, "train", trJob)
		w.wantApplied("my-tfjob")
		w.setStatus(gvkTFJob, "team-a", trJob, status)
		stepWant(t, w.run("train"), phase, message)
		if phase == v1alpha1.WorkflowStepPhaseSucceeded {
			w.wantApplied("my-tfjob", "my-tfjob, waiting for health (healthy: true)")
		} else {
			w.wantApplied("my-tfjob")
		}
	}
}

func trConditions(conds ...map[string]interface{}) map[string]interface{} {
	list := make([]interface{}, 0, len(conds))
	for _, c := range conds {
		list = append(list, c)
	}
	return map[string]interface{}{"conditions": list}
}

// The ml-model-training step run through KubeVela's workflow engine, one
// reconcile per run, with the TFJob's status set between runs as the
// training operator would, situation by situation.
var trainingStepCases = []stepCase{
	{"fails for an unknown component", func(t testing.TB) {
		w := newStepWorld(t, trainingStepApp)
		stepWant(t, w.run("train-nope"), v1alpha1.WorkflowStepPhaseFailed,
			`component "nope" is not in this application: ml-model-training needs the name of one of its tfjob components`)
		w.wantApplied()
	}},
	{"fails for a component of another type", func(t testing.TB) {
		w := newStepWorld(t, trainingStepApp)
		stepWant(t, w.run("train-web"), v1alpha1.WorkflowStepPhaseFailed,
			`component "web" is of type webservice: ml-model-training needs the name of one of its tfjob components`)
		w.wantApplied()
		if w.exists(gvkDeployment, "team-a", "web") {
			t.Error("the step applied the webservice")
		}
	}},
	{"applies the component with the dataset trait, without a health wait", func(t testing.TB) {
		w := trStarted(t, "train", trJob)
		w.wantApplied("my-tfjob")
		tf := w.get(gvkTFJob, "team-a", trJob)
		if tf.GetLabels()["a"] != "b" {
			t.Errorf("TFJob labels = %v: the component's own labels trait is lost", tf.GetLabels())
		}
		for _, role := range []string{"PS", "Worker"} {
			pod, _, _ := unstructured.NestedMap(tf.Object, "spec", "tfReplicaSpecs", role, "template", "spec")
			stepMustContain(t, role+" init containers", fmt.Sprint(pod["initContainers"]), "name:dataset-loader", ":s3:b")
			stepMustContain(t, role+" containers", fmt.Sprint(pod["containers"]), "DATASET_DIR")
		}
		// the next reconcile applies again, still without waiting
		stepWant(t, w.run("train"), v1alpha1.WorkflowStepPhaseRunning, "Waiting for the training operator to pick up TFJob "+trJob)
		w.wantApplied("my-tfjob")
	}},
	{"no dataset, no loader", func(t testing.TB) {
		w := trStarted(t, "train-plain", trJob)
		w.wantApplied("my-tfjob")
		worker, _, _ := unstructured.NestedMap(w.get(gvkTFJob, "team-a", trJob).Object, "spec", "tfReplicaSpecs", "Worker", "template", "spec")
		if strings.Contains(fmt.Sprint(worker["initContainers"]), "dataset") {
			t.Errorf("a dataset loader without a dataset: %v", worker["initContainers"])
		}
		servingEqual(t, "labels trait kept", w.get(gvkTFJob, "team-a", trJob).GetLabels()["a"], "b")
	}},
	{"waits while the job is created", trReconciled(trConditions(trCond("Created", "True", "TFJob my-tfjob-v1 is created.")),
		v1alpha1.WorkflowStepPhaseRunning, "TFJob "+trJob+": Created, waiting for pods")},
	{"waits with the workers' progress while the job runs", trReconciled(map[string]interface{}{
		"conditions":      []interface{}{trCond("Created", "True", ""), trCond("Running", "True", "")},
		"replicaStatuses": map[string]interface{}{"Worker": map[string]interface{}{"active": int64(2)}, "PS": map[string]interface{}{"active": int64(1)}},
	}, v1alpha1.WorkflowStepPhaseRunning, "TFJob "+trJob+": Running: 2/3 workers active")},
	{"counts every replica of a job without workers", func(t testing.TB) {
		w := trStarted(t, "train-chief", "chief-v1")
		w.wantApplied("chief")
		w.setStatus(gvkTFJob, "team-a", "chief-v1", map[string]interface{}{
			"conditions":      []interface{}{trCond("Running", "True", "")},
			"replicaStatuses": map[string]interface{}{"Chief": map[string]interface{}{"active": int64(1)}},
		})
		stepWant(t, w.run("train-chief"), v1alpha1.WorkflowStepPhaseRunning, "TFJob chief-v1: Running: 1/2 replicas active")
	}},
	{"waits while the job restarts", trReconciled(trConditions(trCond("Created", "True", ""), trCond("Running", "False", ""), trCond("Restarting", "True", "worker 1 restarted")),
		v1alpha1.WorkflowStepPhaseRunning, "TFJob "+trJob+": Restarting: worker 1 restarted")},
	{"waits while the job is suspended", trReconciled(trConditions(trCond("Created", "True", ""), trCond("Suspended", "True", "suspended by the user")),
		v1alpha1.WorkflowStepPhaseRunning, "TFJob "+trJob+": Suspended")},
	{"fails at once with the job's message", trReconciled(trConditions(trCond("Running", "False", ""),
		trCond("Failed", "True", "TFJob team-a/"+trJob+" has failed because 1 Worker replica(s) failed.")),
		v1alpha1.WorkflowStepPhaseFailed, "TFJob "+trJob+": Failed: TFJob team-a/"+trJob+" has failed because 1 Worker replica(s) failed.")},
	{"fails with the condition's reason when it has no message", trReconciled(trConditions(trCond("Failed", "True", "")),
		v1alpha1.WorkflowStepPhaseFailed, "TFJob "+trJob+": Failed: TFJobFailed")},
	{"a False Failed condition is no failure", trReconciled(trConditions(trCond("Created", "True", ""), trCond("Failed", "False", "")),
		v1alpha1.WorkflowStepPhaseRunning, "TFJob "+trJob+": Created, waiting for pods")},
	{"succeeds with a final health-waiting apply", trReconciled(trConditions(trCond("Running", "False", ""), trCond("Succeeded", "True", "")),
		v1alpha1.WorkflowStepPhaseSucceeded, "")},
	{"a False Succeeded condition is no success", trReconciled(trConditions(trCond("Created", "True", ""), trCond("Succeeded", "False", "")),
		v1alpha1.WorkflowStepPhaseRunning, "TFJob "+trJob+": Created, waiting for pods")},
	{"trains in the namespace it is given", func(t testing.TB) {
		w := trStarted(t, "train-elsewhere", trJob)
		w.wantApplied("my-tfjob in team-b")
		if w.exists(gvkTFJob, "team-a", trJob) {
			t.Error("the TFJob went to the application's namespace")
		}
		w.setStatus(gvkTFJob, "team-b", trJob, trConditions(trCond("Created", "True", "")))
		stepWant(t, w.run("train-elsewhere"), v1alpha1.WorkflowStepPhaseRunning, "TFJob "+trJob+": Created, waiting for pods")
		w.wantApplied("my-tfjob in team-b")
		w.setStatus(gvkTFJob, "team-b", trJob, trConditions(trCond("Succeeded", "True", "")))
		stepWant(t, w.run("train-elsewhere"), v1alpha1.WorkflowStepPhaseSucceeded, "")
		w.wantApplied("my-tfjob in team-b", "my-tfjob in team-b, waiting for health (healthy: true)")
	}},
}

func TestTrainingStep(t *testing.T) { runStepCases(t, trainingStepCases) }
