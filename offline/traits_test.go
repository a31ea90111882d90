package offline

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// testdataDefs holds test doubles (fake-tfjob, fake-tfserving) and a test
// trait for the podtemplate helper; they are rendered together with the
// addon's definitions.
const testdataDefs = "offline/testdata/definitions"

var withTestdata struct {
	once     sync.Once
	renderer *render.Renderer
	err      error
}

// testdataRenderer renders with the addon's definitions plus the test doubles.
func testdataRenderer(t testing.TB) *render.Renderer {
	t.Helper()
	withTestdata.once.Do(func() {
		defs, err := render.LoadDefinitionDir(filepath.Join(repoRoot, "definitions"))
		if err != nil {
			withTestdata.err = err
			return
		}
		fakes, err := render.LoadDefinitionDir(filepath.Join(repoRoot, testdataDefs))
		if err != nil {
			withTestdata.err = err
			return
		}
		withTestdata.renderer, withTestdata.err = render.New(append(defs, fakes...))
	})
	if withTestdata.err != nil {
		t.Fatalf("failed to load definitions: %v", withTestdata.err)
	}
	return withTestdata.renderer
}

// renderWithFakes renders an Application (YAML text) with the test doubles.
func renderWithFakes(t testing.TB, doc string) *render.Result {
	t.Helper()
	app, _, err := render.ParseApplication([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	res, err := testdataRenderer(t).Render(context.Background(), app)
	if err != nil {
		t.Fatalf("does not render:\n%v", err)
	}
	return res
}

// podTemplates returns every pod template of a workload keyed by where it is:
// "spec.template", "spec.jobTemplate.spec.template" or "<role>" for a TFJob.
func podTemplates(t testing.TB, obj *unstructured.Unstructured) map[string]map[string]interface{} {
	t.Helper()
	out := map[string]map[string]interface{}{}
	if tpl, ok, _ := unstructured.NestedMap(obj.Object, "spec", "template"); ok {
		out["spec.template"] = tpl
	}
	if tpl, ok, _ := unstructured.NestedMap(obj.Object, "spec", "jobTemplate", "spec", "template"); ok {
		out["spec.jobTemplate.spec.template"] = tpl
	}
	roles, _, _ := unstructured.NestedMap(obj.Object, "spec", "tfReplicaSpecs")
	for role := range roles {
		tpl, ok, _ := unstructured.NestedMap(obj.Object, "spec", "tfReplicaSpecs", role, "template")
		if ok {
			out[role] = tpl
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s %s has no pod template", obj.GetKind(), obj.GetName())
	}
	return out
}

func podSpecOf(t testing.TB, tpl map[string]interface{}) map[string]interface{} {
	t.Helper()
	spec, ok := tpl["spec"].(map[string]interface{})
	if !ok {
		t.Fatalf("pod template has no spec: %v", tpl)
	}
	return spec
}

func podAnnotations(tpl map[string]interface{}) map[string]interface{} {
	m, _, _ := unstructured.NestedMap(tpl, "metadata", "annotations")
	return m
}

func podLabels(tpl map[string]interface{}) map[string]interface{} {
	m, _, _ := unstructured.NestedMap(tpl, "metadata", "labels")
	return m
}

// namedList turns a list of {name: ...} maps into name -> map, failing on
// duplicates.
func namedList(t testing.TB, list interface{}) map[string]map[string]interface{} {
	t.Helper()
	out := map[string]map[string]interface{}{}
	items, _ := list.([]interface{})
	for _, it := range items {
		m, ok := it.(map[string]interface{})
		if !ok {
			t.Fatalf("list item is not an object: %v", it)
		}
		name, _ := m["name"].(string)
		if _, dup := out[name]; dup {
			t.Fatalf("duplicate name %q in %v", name, list)
		}
		out[name] = m
	}
	return out
}

func names(list interface{}) []string {
	var out []string
	items, _ := list.([]interface{})
	for _, it := range items {
		if m, ok := it.(map[string]interface{}); ok {
			n, _ := m["name"].(string)
			out = append(out, n)
		}
	}
	return out
}

func envOf(t testing.TB, c map[string]interface{}) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, e := range namedList(t, c["env"]) {
		v, _ := e["value"].(string)
		out[name] = v
	}
	return out
}

func strings_(list interface{}) []string {
	var out []string
	items, _ := list.([]interface{})
	for _, it := range items {
		s, _ := it.(string)
		out = append(out, s)
	}
	return out
}

func assertEqual(t testing.TB, what string, got, want interface{}) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got: %#v\nwant: %#v", what, got, want)
	}
}

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

// ---------------------------------------------------------------------------
// The traits of issue 7, each on a tfserving predictor, every tfjob role and
// a webservice.

var predictors = []string{"model-a-predictor", "model-b-predictor"}

func predictorTemplate(t testing.TB, res *render.Result, comp, p string) map[string]interface{} {
	t.Helper()
	return podTemplates(t, mustFind(t, res, "Deployment", comp+"-"+p))["spec.template"]
}

func mapOf(t testing.TB, v interface{}) map[string]interface{} {
	t.Helper()
	m, ok := v.(map[string]interface{})
	if !ok {
		t.Fatalf("not an object: %#v", v)
	}
	return m
}

const metricsFlag = "--monitoring_config_file=/etc/tfserving-monitoring/monitoring_config.txt"

func TestArmsMetricsOnTFServingPredictors(t *testing.T) {
	res := renderFile(t, "examples/traits/serving-observability.yaml")
	const comp = "my-tfserving-prod"
	for _, p := range predictors {
		tpl := predictorTemplate(t, res, comp, p)
		ann := podAnnotations(tpl)
		assertEqual(t, p+" scrape", ann["prometheus.io/scrape"], "true")
		assertEqual(t, p+" port", ann["prometheus.io/port"], "8501")
		assertEqual(t, p+" path", ann["prometheus.io/path"], "/monitoring/prometheus/metrics")
		labels := podLabels(tpl)
		assertEqual(t, p+" selector label", labels["ml-platform.oam.dev/metrics"], comp)
		assertEqual(t, p+" predictor label kept", labels["ml-platform.oam.dev/predictor"], p)
		spec := podSpecOf(t, tpl)
		tf := container(t, spec, "tensorflow")
		args := strings_(tf["args"])
		if len(args) < 2 || args[len(args)-1] != metricsFlag {
			t.Errorf("%s: args must end with %s: %v", p, metricsFlag, args)
		}
		for _, want := range []string{"--port=8500", "--rest_api_port=8501", "--model_base_path=s3://ml-models/mymodel-v1"} {
			if p == "model-b-predictor" {
				want = strings.Replace(want, "v1", "v2", 1)
			}
			if !contains(args, want) {
				t.Errorf("%s: the component's arg %s was lost: %v", p, want, args)
			}
		}
		assertEqual(t, p+" command kept", strings_(tf["command"]), []string{"/usr/bin/tensorflow_model_server"})
		mounts := namedList(t, tf["volumeMounts"])
		assertEqual(t, p+" monitoring mount", mounts["tfserving-monitoring"], map[string]interface{}{
			"name": "tfserving-monitoring", "mountPath": "/etc/tfserving-monitoring", "readOnly": true,
		})
		vols := namedList(t, spec["volumes"])
		assertEqual(t, p+" monitoring volume", vols["tfserving-monitoring"], map[string]interface{}{
			"name": "tfserving-monitoring", "configMap": map[string]interface{}{"name": comp + "-tfserving-monitoring"},
		})
		if _, ok := mounts["tmp"]; !ok {
			t.Errorf("%s: the component's own mount was lost: %v", p, tf["volumeMounts"])
		}
	}
	cm := mustFind(t, res, "ConfigMap", comp+"-tfserving-monitoring")
	assertEqual(t, "monitoring config", field(t, cm, "data", "monitoring_config.txt"),
		"prometheus_config {\n  enable: true\n  path: \"/monitoring/prometheus/metrics\"\n}\n")
	pm := mustFind(t, res, "PodMonitor", comp)
	assertEqual(t, "PodMonitor apiVersion", pm.GetAPIVersion(), "monitoring.coreos.com/v1")
	assertEqual(t, "PodMonitor labels", pm.GetLabels()["release"], "prometheus")
	assertEqual(t, "PodMonitor selector", field(t, pm, "spec", "selector"), map[string]interface{}{
		"matchLabels": map[string]interface{}{"app.oam.dev/name": "serving-observability", "ml-platform.oam.dev/metrics": comp},
	})
	assertEqual(t, "PodMonitor endpoints", field(t, pm, "spec", "podMetricsEndpoints"), []interface{}{map[string]interface{}{
		"port": "http", "path": "/monitoring/prometheus/metrics", "interval": "30s", "scheme": "http",
	}})
	// The main output (the stable Service) has no pod template to patch.
	if _, ok, _ := unstructured.NestedMap(mustFind(t, res, "Service", comp).Object, "spec", "template"); ok {
		t.Error("the main Service was patched")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

const traitsOnFakesApp = `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: traits
spec:
  components:
    - name: web
      type: webservice
      properties:
        image: nginx:1.25
        ports:
          - port: 9090
            name: metrics
        cpu: "1"
        memory: 1Gi
      traits:
        - type: affinity
          properties:
            tolerations:
              - key: dedicated
                operator: Equal
                value: ml
                effect: NoSchedule
              - key: node.kubernetes.io/unreachable
                operator: Exists
                effect: NoExecute
                tolerationSeconds: 300
        - type: arms-metrics
          properties: {mode: podMonitor}
        - type: arms-logging
          properties:
            tags: {team: ml}
            files: [{dir: /var/log/app}]
        - type: gpu-sharing
          properties: {memory: 4, corePercentage: 50}
        - type: eci-burst
          properties: {resourcePolicy: true}
        - type: edge-placement
          properties: {nodePool: store-12}
    - name: train
      type: fake-tfjob
      properties:
        gpus: 1
      traits:
        - type: arms-metrics
          properties: {}
        - type: arms-logging
          properties: {logstore: training, ttl: 7, shardCount: 4, project: ml-logs}
        - type: gpu-sharing
          properties: {memory: 12}
        - type: eci-burst
          properties: {mode: always, nodeSelector: true}
        - type: edge-placement
          properties: {nodes: cloud, autonomy: false}
`

func TestArmsMetricsOnTFJobRolesAndWebservice(t *testing.T) {
	res := renderWithFakes(t, traitsOnFakesApp)
	for role, tpl := range podTemplates(t, mustFind(t, res, "TFJob", "train")) {
		assertEqual(t, role+" annotations", podAnnotations(tpl), map[string]interface{}{
			"prometheus.io/scrape": "true", "prometheus.io/port": "8080", "prometheus.io/path": "/metrics",
			"ml-platform.oam.dev/edge-placement": "cloud",
		})
		tf := container(t, podSpecOf(t, tpl), "tensorflow")
		assertEqual(t, role+" args untouched", strings_(tf["args"]), []string{"--role=" + role})
	}
	if res.Find("ConfigMap", "train-tfserving-monitoring") != nil {
		t.Error("a training job got a TF Serving monitoring config")
	}
	tpl := podTemplates(t, mustFind(t, res, "Deployment", "web"))["spec.template"]
	if _, ok := podAnnotations(tpl)["prometheus.io/scrape"]; ok {
		t.Error("mode podMonitor must not add scrape annotations")
	}
	assertEqual(t, "web selector label", podLabels(tpl)["ml-platform.oam.dev/metrics"], "web")
	pm := mustFind(t, res, "PodMonitor", "web")
	assertEqual(t, "web endpoint names the declared port", field(t, pm, "spec", "podMetricsEndpoints"), []interface{}{map[string]interface{}{
		"port": "metrics", "path": "/metrics", "interval": "30s", "scheme": "http",
	}})
}

func TestArmsLoggingEnvOnEveryContainer(t *testing.T) {
	res := renderFile(t, "examples/traits/serving-observability.yaml")
	for _, p := range predictors {
		tf := container(t, podSpecOf(t, predictorTemplate(t, res, "my-tfserving-prod", p)), "tensorflow")
		env := envOf(t, tf)
		for k, v := range map[string]string{
			"aliyun_logs_tfserving-prod":      "stdout",
			"aliyun_logs_tfserving-prod_ttl":  "30",
			"aliyun_logs_tfserving-prod_tags": "env=prod",
		} {
			assertEqual(t, p+" "+k, env[k], v)
		}
	}

	res = renderWithFakes(t, traitsOnFakesApp)
	for role, tpl := range podTemplates(t, mustFind(t, res, "TFJob", "train")) {
		spec := podSpecOf(t, tpl)
		for _, c := range []string{"tensorflow", "sidecar"} {
			env := envOf(t, container(t, spec, c))
			want := map[string]string{
				"aliyun_logs_project":          "ml-logs",
				"aliyun_logs_training":         "stdout",
				"aliyun_logs_training_project": "ml-logs",
				"aliyun_logs_training_ttl":     "7",
				"aliyun_logs_training_shard":   "4",
			}
			if c == "tensorflow" {
				want["MODEL_NAME"] = "mymodel"
			}
			assertEqual(t, role+"/"+c+" env", env, want)
		}
	}
	web := podSpecOf(t, podTemplates(t, mustFind(t, res, "Deployment", "web"))["spec.template"])
	c := container(t, web, "web")
	assertEqual(t, "web env", envOf(t, c), map[string]string{
		"aliyun_logs_web":            "stdout",
		"aliyun_logs_web_tags":       "team=ml",
		"aliyun_logs_web-files":      "/var/log/app/*.log",
		"aliyun_logs_web-files_tags": "team=ml",
	})
	assertEqual(t, "web log mount", namedList(t, c["volumeMounts"])["sls-logs-0"], map[string]interface{}{
		"name": "sls-logs-0", "mountPath": "/var/log/app",
	})
	assertEqual(t, "web log volume", namedList(t, web["volumes"])["sls-logs-0"], map[string]interface{}{
		"name": "sls-logs-0", "emptyDir": map[string]interface{}{},
	})
}

func TestArmsLoggingCRDMode(t *testing.T) {
	res := renderFile(t, "examples/traits/webservice-logs-metrics.yaml")
	tpl := podTemplates(t, mustFind(t, res, "Deployment", "model-ui"))["spec.template"]
	assertEqual(t, "selector label", podLabels(tpl)["ml-platform.oam.dev/logs"], "model-ui")
	c := container(t, podSpecOf(t, tpl), "model-ui")
	for name := range envOf(t, c) {
		if strings.HasPrefix(name, "aliyun_logs_") {
			t.Errorf("crd mode must not set env %s", name)
		}
	}
	k8s := map[string]interface{}{
		"IncludeK8sLabel":   map[string]interface{}{"ml-platform.oam.dev/logs": "model-ui"},
		"K8sNamespaceRegex": "^(ml-demo)$",
	}
	stdout := mustFind(t, res, "AliyunLogConfig", "model-ui-model-ui")
	assertEqual(t, "apiVersion", stdout.GetAPIVersion(), "log.alibabacloud.com/v1alpha1")
	assertEqual(t, "stdout spec", stdout.Object["spec"], map[string]interface{}{
		"logstore":   "model_ui",
		"shardCount": int64(2),
		"lifeCycle":  int64(90),
		"logtailConfig": map[string]interface{}{
			"configName": "model-ui-model-ui",
			"inputType":  "plugin",
			"inputDetail": map[string]interface{}{"plugin": map[string]interface{}{"inputs": []interface{}{map[string]interface{}{
				"type":   "service_docker_stdout",
				"detail": map[string]interface{}{"Stdout": true, "Stderr": true, "IncludeK8sLabel": k8s["IncludeK8sLabel"], "K8sNamespaceRegex": k8s["K8sNamespaceRegex"]},
			}}}},
		},
	})
	files := mustFind(t, res, "AliyunLogConfig", "model-ui-model-ui-files")
	assertEqual(t, "files logtail config", field(t, files, "spec", "logtailConfig"), map[string]interface{}{
		"configName": "model-ui-model-ui-files",
		"inputType":  "file",
		"inputDetail": map[string]interface{}{
			"logType": "common_reg_log", "logPath": "/var/log/app", "filePattern": "*.log", "dockerFile": true,
			"advanced": map[string]interface{}{"k8s": k8s},
		},
	})
}

func TestGPUSharing(t *testing.T) {
	res := renderFile(t, "examples/traits/training-gpu.yaml")
	tpls := podTemplates(t, mustFind(t, res, "TFJob", "mnist-v1"))
	tf := container(t, podSpecOf(t, tpls["Worker"]), "tensorflow")
	assertEqual(t, "worker limits", field(t, &unstructured.Unstructured{Object: tf}, "resources", "limits"), map[string]interface{}{
		"aliyun.com/gpu-mem": int64(8), "cpu": "4", "memory": "8Gi",
	})

	res = renderFile(t, "examples/traits/edge-serving.yaml")
	tf = container(t, podSpecOf(t, predictorTemplate(t, res, "my-tfserving-edge", "model-predictor")), "tensorflow")
	limits := mapOf(t, mapOf(t, tf["resources"])["limits"])
	assertEqual(t, "predictor whole GPU", limits["nvidia.com/gpu"], int64(1))

	res = renderWithFakes(t, traitsOnFakesApp)
	for role, tpl := range podTemplates(t, mustFind(t, res, "TFJob", "train")) {
		spec := podSpecOf(t, tpl)
		tf := container(t, spec, "tensorflow")
		// share mode replaces the component's whole GPU and its request
		assertEqual(t, role+" resources", tf["resources"], map[string]interface{}{
			"limits":   map[string]interface{}{"cpu": "2", "aliyun.com/gpu-mem": int64(12)},
			"requests": map[string]interface{}{"cpu": "1"},
		})
		if _, ok := container(t, spec, "sidecar")["resources"]; ok {
			t.Errorf("%s: the sidecar got GPUs", role)
		}
	}
	web := container(t, podSpecOf(t, podTemplates(t, mustFind(t, res, "Deployment", "web"))["spec.template"]), "web")
	assertEqual(t, "web limits", mapOf(t, web["resources"])["limits"], map[string]interface{}{
		"cpu": "1", "memory": "1Gi", "aliyun.com/gpu-mem": int64(4), "aliyun.com/gpu-core.percentage": int64(50),
	})
}

var virtualNodeToleration = map[string]interface{}{"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"}

func TestECIBurst(t *testing.T) {
	res := renderFile(t, "examples/traits/serving-observability.yaml")
	for _, p := range predictors {
		tpl := predictorTemplate(t, res, "my-tfserving-prod", p)
		ann := podAnnotations(tpl)
		assertEqual(t, p+" specs", ann["k8s.aliyun.com/eci-use-specs"], "ecs.c7.xlarge,4-8Gi")
		assertEqual(t, p+" image cache", ann["k8s.aliyun.com/eci-image-cache"], "true")
		if _, ok := podLabels(tpl)["alibabacloud.com/eci"]; ok {
			t.Errorf("%s: burst mode must not force ECI", p)
		}
		spec := podSpecOf(t, tpl)
		assertEqual(t, p+" tolerations", spec["tolerations"], []interface{}{virtualNodeToleration})
		assertEqual(t, p+" affinity", spec["affinity"], map[string]interface{}{"nodeAffinity": map[string]interface{}{
			"preferredDuringSchedulingIgnoredDuringExecution": []interface{}{map[string]interface{}{
				"weight": int64(100),
				"preference": map[string]interface{}{"matchExpressions": []interface{}{map[string]interface{}{
					"key": "type", "operator": "NotIn", "values": []interface{}{"virtual-kubelet"},
				}}},
			}},
		}})
	}
	if len(res.ByKind("ResourcePolicy")) != 0 {
		t.Error("ResourcePolicy is opt-in")
	}

	res = renderWithFakes(t, traitsOnFakesApp)
	for role, tpl := range podTemplates(t, mustFind(t, res, "TFJob", "train")) {
		assertEqual(t, role+" eci label", podLabels(tpl)["alibabacloud.com/eci"], "true")
		spec := podSpecOf(t, tpl)
		assertEqual(t, role+" node selector", spec["nodeSelector"], map[string]interface{}{
			"type": "virtual-kubelet", "alibabacloud.com/is-edge-worker": "false",
		})
		if _, ok := spec["affinity"]; ok {
			t.Errorf("%s: mode always needs no affinity", role)
		}
	}
	rp := mustFind(t, res, "ResourcePolicy", "web")
	assertEqual(t, "ResourcePolicy", rp.Object["spec"], map[string]interface{}{
		"selector": map[string]interface{}{"ml-platform.oam.dev/eci-burst": "web"},
		"strategy": "prefer",
		"units":    []interface{}{map[string]interface{}{"resource": "ecs"}, map[string]interface{}{"resource": "eci"}},
	})
	tpl := podTemplates(t, mustFind(t, res, "Deployment", "web"))["spec.template"]
	assertEqual(t, "web policy label", podLabels(tpl)["ml-platform.oam.dev/eci-burst"], "web")
}

func TestEdgePlacement(t *testing.T) {
	res := renderFile(t, "examples/traits/edge-serving.yaml")
	spec := podSpecOf(t, predictorTemplate(t, res, "my-tfserving-edge", "model-predictor"))
	assertEqual(t, "predictor node selector", spec["nodeSelector"], map[string]interface{}{
		"alibabacloud.com/is-edge-worker": "true", "apps.openyurt.io/nodepool": "store-hangzhou-12",
	})
	assertEqual(t, "predictor tolerations", spec["tolerations"], []interface{}{
		map[string]interface{}{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
		map[string]interface{}{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
		map[string]interface{}{"key": "store", "operator": "Equal", "value": "hangzhou-12", "effect": "NoSchedule"},
	})

	res = renderWithFakes(t, traitsOnFakesApp)
	for role, tpl := range podTemplates(t, mustFind(t, res, "TFJob", "train")) {
		assertEqual(t, role+" placement annotation", podAnnotations(tpl)["ml-platform.oam.dev/edge-placement"], "cloud")
		spec := podSpecOf(t, tpl)
		// eci-burst (always) ran first: its toleration is kept next to the cloud node one
		assertEqual(t, role+" tolerations", spec["tolerations"], []interface{}{
			virtualNodeToleration,
			map[string]interface{}{"key": "node-role.alibabacloud.com/addon", "operator": "Exists", "effect": "NoSchedule"},
		})
	}
	web := podSpecOf(t, podTemplates(t, mustFind(t, res, "Deployment", "web"))["spec.template"])
	// the user's toleration is kept, the 300s unreachable toleration is replaced
	// by edge autonomy's unlimited one, eci-burst's is kept
	assertEqual(t, "web tolerations", web["tolerations"], []interface{}{
		map[string]interface{}{"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"},
		virtualNodeToleration,
		map[string]interface{}{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
		map[string]interface{}{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
	})
	assertEqual(t, "web node selector", web["nodeSelector"], map[string]interface{}{
		"alibabacloud.com/is-edge-worker": "true", "apps.openyurt.io/nodepool": "store-12",
	})
}
