package offline

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ml-platform/ml-platform/pkg/render"
)

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
