package offline

import (
	"strings"
	"testing"

	"github.com/ml-platform/ml-platform/pkg/render"
)

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
		assertEqual(t, role+" initContainers", names(pod["initContainers"].([]interface{})), []string{"dataset-loader"})
		assertEqual(t, role+" loader image", loader["image"], "rclone/rclone:1.68")
		assertEqual(t, role+" loader command", loader["command"], []interface{}{"rclone"})
		args, _ := loader["args"].([]interface{})
		if len(args) < 3 || args[0] != "copy" || args[len(args)-2] != ":s3:ml-datasets/mnist" || args[len(args)-1] != "/mnt/dataset" {
			t.Errorf("%s loader args = %v, want rclone copy :s3:ml-datasets/mnist /mnt/dataset", role, args)
		}
		assertEqual(t, role+" loader env", trEnv(t, loader), map[string]interface{}{
			"RCLONE_S3_PROVIDER": "AWS",
			"RCLONE_S3_ENV_AUTH": "false",
			"RCLONE_S3_REGION":   "us-east-1",
			"RCLONE_S3_ACCESS_KEY_ID": map[string]interface{}{"secretKeyRef": map[string]interface{}{
				"name": "s3-credentials", "key": "accessKeyId"}},
			"RCLONE_S3_SECRET_ACCESS_KEY": map[string]interface{}{"secretKeyRef": map[string]interface{}{
				"name": "s3-credentials", "key": "secretAccessKey"}},
		})
		assertEqual(t, role+" loader mounts", loader["volumeMounts"], []interface{}{map[string]interface{}{"name": "dataset", "mountPath": "/mnt/dataset"}})
		if sc, _ := loader["securityContext"].(map[string]interface{}); sc["runAsNonRoot"] != true {
			t.Errorf("%s loader securityContext = %v, want runAsNonRoot", role, sc)
		}
		vols := namedList(t, pod["volumes"])
		assertEqual(t, role+" dataset volume", vols["dataset"], map[string]interface{}{"name": "dataset", "emptyDir": map[string]interface{}{}})
		tf := container(t, pod, "tensorflow")
		assertEqual(t, role+" DATASET_DIR", trEnv(t, tf)["DATASET_DIR"], "/mnt/dataset")
		assertEqual(t, role+" dataset mount", namedList(t, tf["volumeMounts"])["dataset"], map[string]interface{}{"name": "dataset", "mountPath": "/mnt/dataset"})
	}
	// The trait keeps what the Worker template had: its sidecar, volume and env.
	pod := trPodSpec(t, job, "Worker")
	assertEqual(t, "Worker containers", names(pod["containers"].([]interface{})), []string{"sidecar", "tensorflow"})
	assertEqual(t, "Worker volumes", names(pod["volumes"].([]interface{})), []string{"cache", "model-store", "dataset"})
	assertEqual(t, "Worker tensorflow env", names(container(t, pod, "tensorflow")["env"].([]interface{})),
		[]string{"MODEL_NAME", "MODEL_VERSION", "MODEL_DIR", "MODEL_BASE_DIR", "EPOCHS", "DATASET_DIR"})
	if _, found := container(t, pod, "sidecar")["env"]; found {
		t.Error("the sidecar got DATASET_DIR; only the tensorflow container does")
	}
}

func TestTrainingDatasetFromPublicOSSBucket(t *testing.T) {
	res := trRender(t, trDatasetApp(`{oss: {bucket: ml-public, path: cifar10, region: cn-beijing}, loaderImage: "registry.example.com/rclone:1.68"}`))
	job := mustFind(t, res, "TFJob", "ds-v1")
	loader := container(t, trPodSpec(t, job, "Worker"), "dataset-loader")
	assertEqual(t, "loader image", loader["image"], "registry.example.com/rclone:1.68")
	// A public bucket: no credentials at all.
	assertEqual(t, "loader env", trEnv(t, loader), map[string]interface{}{
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
		assertEqual(t, role+" dataset volume", namedList(t, pod["volumes"])["dataset"], map[string]interface{}{
			"name": "dataset", "persistentVolumeClaim": map[string]interface{}{"claimName": "training-data", "readOnly": true},
		})
		tf := container(t, pod, "tensorflow")
		assertEqual(t, role+" dataset mount", namedList(t, tf["volumeMounts"])["dataset"], map[string]interface{}{
			"name": "dataset", "mountPath": "/mnt/dataset", "readOnly": true, "subPath": "mnist",
		})
		assertEqual(t, role+" DATASET_DIR", trEnv(t, tf)["DATASET_DIR"], "/mnt/dataset")
	}
}

func TestTrainingDatasetTraitIsInternal(t *testing.T) {
	def := addonRenderer(t).Catalog().Get(render.KindTrait, "ml-dataset")
	if def == nil {
		t.Fatal("no ml-dataset trait")
	}
	assertEqual(t, "ui-hidden label", def.Object.GetLabels()["custom.definition.oam.dev/ui-hidden"], "true")
	if !strings.Contains(def.Description, "not for direct use") {
		t.Errorf("description %q does not say the trait is not for direct use", def.Description)
	}
	step := addonRenderer(t).Catalog().Get(render.KindWorkflowStep, "ml-model-training")
	if step == nil {
		t.Fatal("no ml-model-training step")
	}
	assertEqual(t, "step category", step.Object.GetAnnotations()["custom.definition.oam.dev/category"], "Machine Learning")
	assertEqual(t, "step scope", step.Object.GetLabels()["custom.definition.oam.dev/scope"], "Application")
}
