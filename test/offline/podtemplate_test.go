package offline

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const podPatchApp = `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: podpatch
spec:
  components:
    - name: web
      type: webservice
      properties:
        image: nginx:1.25
        env:
          - name: EXISTING
            value: "yes"
        volumeMounts:
          emptyDir:
            - name: cache
              mountPath: /cache
      traits:
        - type: sidecar
          properties:
            name: logger
            image: busybox
        - type: mlp-test-podpatch
          properties: {}
    - name: train
      type: fake-tfjob
      properties: {}
      traits:
        - type: mlp-test-podpatch
          properties:
            target: model
    - name: serve
      type: fake-tfserving
      properties: {}
      traits:
        - type: mlp-test-podpatch
          properties:
            target: model
    - name: cron
      type: cron-task
      properties:
        image: busybox
        schedule: "*/5 * * * *"
        cmd: ["date"]
      traits:
        - type: mlp-test-podpatch
          properties: {}
`

// The podtemplate helper lands one patch in every pod template and keeps
// what was there: the patch keys survive the helper's construction.
func TestPodTemplateHelperOnWebserviceKeepsContainersAndEnv(t *testing.T) {
	res := renderWithFakes(t, podPatchApp)
	tpl := podTemplates(t, mustFind(t, res, "Deployment", "web"))["spec.template"]
	assertEqual(t, "annotations", podAnnotations(tpl)["test.ml-platform.oam.dev/patched"], "true")
	spec := podSpecOf(t, tpl)
	assertEqual(t, "containers", names(spec["containers"]), []string{"web", "logger"})
	assertEqual(t, "volumes", names(spec["volumes"]), []string{"cache", "test-scratch"})
	web := container(t, spec, "web")
	assertEqual(t, "web env", envOf(t, web), map[string]string{"EXISTING": "yes", "MLP_TEST": "1"})
	assertEqual(t, "web mounts", names(web["volumeMounts"]), []string{"cache", "test-scratch"})
	assertEqual(t, "web image", web["image"], "nginx:1.25")
	logger := container(t, spec, "logger")
	assertEqual(t, "logger env (target all)", envOf(t, logger), map[string]string{"MLP_TEST": "1"})
	assertEqual(t, "logger image", logger["image"], "busybox")
}

func TestPodTemplateHelperOnEveryTFJobRole(t *testing.T) {
	res := renderWithFakes(t, podPatchApp)
	tpls := podTemplates(t, mustFind(t, res, "TFJob", "train"))
	if len(tpls) != 3 {
		t.Fatalf("want 3 roles, got %d", len(tpls))
	}
	for role, tpl := range tpls {
		assertEqual(t, role+" annotations", podAnnotations(tpl)["test.ml-platform.oam.dev/patched"], "true")
		assertEqual(t, role+" labels kept", podLabels(tpl)["ml-platform.oam.dev/model"], "mymodel")
		spec := podSpecOf(t, tpl)
		assertEqual(t, role+" containers", names(spec["containers"]), []string{"tensorflow", "sidecar"})
		assertEqual(t, role+" volumes", names(spec["volumes"]), []string{"models", "test-scratch"})
		tf := container(t, spec, "tensorflow")
		assertEqual(t, role+" env", envOf(t, tf), map[string]string{"MODEL_NAME": "mymodel", "MLP_TEST": "1"})
		assertEqual(t, role+" args", strings_(tf["args"]), []string{"--role=" + role, "--test-flag"})
		assertEqual(t, role+" mounts", names(tf["volumeMounts"]), []string{"models", "test-scratch"})
		// target: model leaves the other containers alone
		side := container(t, spec, "sidecar")
		if _, ok := side["env"]; ok {
			t.Errorf("%s: sidecar was patched: %v", role, side)
		}
	}
}

func TestPodTemplateHelperOnEveryPredictorDeployment(t *testing.T) {
	res := renderWithFakes(t, podPatchApp)
	svc := mustFind(t, res, "Service", "serve")
	if _, ok, _ := unstructured.NestedMap(svc.Object, "spec", "template"); ok {
		t.Errorf("the main Service got a pod template: %v", svc.Object)
	}
	for _, p := range []string{"a", "b"} {
		tpl := podTemplates(t, mustFind(t, res, "Deployment", "serve-"+p))["spec.template"]
		assertEqual(t, p+" annotations", podAnnotations(tpl)["test.ml-platform.oam.dev/patched"], "true")
		spec := podSpecOf(t, tpl)
		assertEqual(t, p+" containers", names(spec["containers"]), []string{"tensorflow"})
		tf := container(t, spec, "tensorflow")
		assertEqual(t, p+" env", envOf(t, tf), map[string]string{"PREDICTOR": p, "MLP_TEST": "1"})
		assertEqual(t, p+" args", strings_(tf["args"]), []string{"--port=8500", "--rest_api_port=8501", "--model_name=" + p, "--test-flag"})
		assertEqual(t, p+" ports kept", names(tf["ports"]), []string{"grpc", "http"})
	}
}

func TestPodTemplateHelperOnCronJob(t *testing.T) {
	res := renderWithFakes(t, podPatchApp)
	tpl := podTemplates(t, mustFind(t, res, "CronJob", "cron"))["spec.jobTemplate.spec.template"]
	spec := podSpecOf(t, tpl)
	c := container(t, spec, "cron")
	assertEqual(t, "cron command kept", strings_(c["command"]), []string{"date"})
	assertEqual(t, "cron env", envOf(t, c), map[string]string{"MLP_TEST": "1"})
	assertEqual(t, "cron volumes", names(spec["volumes"]), []string{"test-scratch"})
}
