package offline

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kubevela/workflow/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// ---- the tfserving component ----

// servingPodSpec returns the pod spec of a predictor Deployment.
func servingPodSpec(t testing.TB, d *unstructured.Unstructured) map[string]interface{} {
	t.Helper()
	spec, ok := field(t, d, "spec", "template", "spec").(map[string]interface{})
	if !ok {
		t.Fatalf("Deployment %s has no pod spec", d.GetName())
	}
	return spec
}

func servingEqual(t testing.TB, what string, got, want interface{}) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func servingStrings(v interface{}) []string {
	var out []string
	list, _ := v.([]interface{})
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// The spec's my-tfserving-prod: two predictors, 90/10, autoscaled 1..10,
// batching 32 and 64, TF Serving 1.11 images.
func TestServingProdComponentOfTheSpec(t *testing.T) {
	res := renderFile(t, "examples/pipeline/app.yaml")
	const comp = "my-tfserving-prod"

	for _, p := range []struct {
		name, version, image string
		batch                int
	}{
		{"model-a-predictor", "mymodel-v1", "tensorflow/serving:1.11.0", 32},
		{"model-b-predictor", "mymodel-v2", "tensorflow/serving:1.11.1", 64},
	} {
		full := comp + "-" + p.name
		d := mustFind(t, res, "Deployment", full)
		// With autoScale the HPA owns the replica count: the Deployment sets none.
		if _, ok, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "replicas"); ok {
			t.Errorf("Deployment %s sets spec.replicas although autoScale is set", full)
		}
		selector := map[string]interface{}{"ml-platform.oam.dev/serving": comp, "ml-platform.oam.dev/predictor": p.name}
		servingEqual(t, full+" selector", field(t, d, "spec", "selector", "matchLabels"), selector)
		labels := field(t, d, "spec", "template", "metadata", "labels").(map[string]interface{})
		servingEqual(t, full+" pod label model-version", labels["ml-platform.oam.dev/model-version"], p.version)
		servingEqual(t, full+" pod label serving", labels["ml-platform.oam.dev/serving"], comp)

		spec := servingPodSpec(t, d)
		tf := container(t, spec, "tensorflow")
		servingEqual(t, full+" image", tf["image"], p.image)
		servingEqual(t, full+" command", servingStrings(tf["command"]), []string{"/usr/bin/tensorflow_model_server"})
		args := servingStrings(tf["args"])
		if len(args) < 6 {
			t.Fatalf("%s args = %q", full, args)
		}
		servingEqual(t, full+" args", args[:6], []string{
			"--port=8500",
			"--rest_api_port=8501",
			"--model_name=model",
			"--model_base_path=/models/model",
			"--enable_batching",
			"--batching_parameters_file=/etc/tfserving/batching/batching_parameters.txt",
		})
		// the arms-metrics trait of the spec appends its flag to the same list
		servingEqual(t, full+" args patched by arms-metrics", args[6:], []string{"--monitoring_config_file=/etc/tfserving-monitoring/monitoring_config.txt"})
		servingEqual(t, full+" ports", tf["ports"], []interface{}{
			map[string]interface{}{"name": "grpc", "containerPort": int64(8500), "protocol": "TCP"},
			map[string]interface{}{"name": "http", "containerPort": int64(8501), "protocol": "TCP"},
		})
		servingEqual(t, full+" readiness probe", tf["readinessProbe"].(map[string]interface{})["httpGet"],
			map[string]interface{}{"path": "/v1/models/model", "port": int64(8501)})
		servingEqual(t, full+" batching mount", tf["volumeMounts"].([]interface{})[1],
			map[string]interface{}{"name": "batching", "mountPath": "/etc/tfserving/batching", "readOnly": true})
		servingEqual(t, full+" batching volume", spec["volumes"].([]interface{})[1],
			map[string]interface{}{"name": "batching", "configMap": map[string]interface{}{"name": full + "-batching"}})
		if _, ok := field(t, d, "spec", "template", "metadata", "annotations").(map[string]interface{})["ml-platform.oam.dev/batching-config"]; !ok {
			t.Errorf("%s: no batching-config annotation to roll the pods when the file changes", full)
		}

		hpa := mustFind(t, res, "HorizontalPodAutoscaler", full)
		servingEqual(t, full+" HPA apiVersion", hpa.GetAPIVersion(), "autoscaling/v2")
		servingEqual(t, full+" HPA target", field(t, hpa, "spec", "scaleTargetRef"),
			map[string]interface{}{"apiVersion": "apps/v1", "kind": "Deployment", "name": full})
		servingEqual(t, full+" HPA minReplicas", field(t, hpa, "spec", "minReplicas"), int64(1))
		servingEqual(t, full+" HPA maxReplicas", field(t, hpa, "spec", "maxReplicas"), int64(10))
		servingEqual(t, full+" HPA metrics", field(t, hpa, "spec", "metrics"), []interface{}{map[string]interface{}{
			"type": "Resource",
			"resource": map[string]interface{}{"name": "cpu", "target": map[string]interface{}{
				"type": "Utilization", "averageUtilization": int64(80)}},
		}})

		cm := mustFind(t, res, "ConfigMap", full+"-batching")
		servingEqual(t, full+" batching file", field(t, cm, "data", "batching_parameters.txt"), fmt.Sprintf(
			"max_batch_size { value: %d }\nbatch_timeout_micros { value: 1000 }\nmax_enqueued_batches { value: 100 }\nnum_batch_threads { value: 4 }\n", p.batch))

		svc := mustFind(t, res, "Service", full)
		servingEqual(t, full+" Service selector", field(t, svc, "spec", "selector"), selector)
	}

	stable := mustFind(t, res, "Service", comp)
	servingEqual(t, "stable Service selector", field(t, stable, "spec", "selector"), map[string]interface{}{"ml-platform.oam.dev/serving": comp})
	servingEqual(t, "stable Service ports", field(t, stable, "spec", "ports"), []interface{}{
		map[string]interface{}{"name": "grpc", "port": int64(8500), "targetPort": int64(8500), "protocol": "TCP"},
		map[string]interface{}{"name": "http", "port": int64(8501), "targetPort": int64(8501), "protocol": "TCP"},
	})
	var main []string
	for _, o := range res.Objects {
		if o.Component == comp && o.Source == "workload" {
			main = append(main, o.GetKind()+"/"+o.GetName())
		}
	}
	servingEqual(t, "main output", main, []string{"Service/" + comp})

	route := mustFind(t, res, "HTTPRoute", comp)
	servingEqual(t, "route apiVersion", route.GetAPIVersion(), "gateway.networking.k8s.io/v1")
	servingEqual(t, "route parentRefs (GAMMA: the stable Service)", field(t, route, "spec", "parentRefs"), []interface{}{
		map[string]interface{}{"group": "", "kind": "Service", "name": comp, "port": int64(8501)},
	})
	servingEqual(t, "route backends", field(t, route, "spec", "rules"), []interface{}{map[string]interface{}{
		"backendRefs": []interface{}{
			map[string]interface{}{"group": "", "kind": "Service", "name": comp + "-model-a-predictor", "port": int64(8501), "weight": int64(90)},
			map[string]interface{}{"group": "", "kind": "Service", "name": comp + "-model-b-predictor", "port": int64(8501), "weight": int64(10)},
		},
	}})
	if n := len(res.ByKind("VirtualService")); n != 0 {
		t.Errorf("%d VirtualServices rendered with the default router", n)
	}
}

func TestServingDevComponentOfTheSpecGetsAllTraffic(t *testing.T) {
	res := renderFile(t, "examples/pipeline/app.yaml")
	const comp = "my-tfserving-dev"
	d := mustFind(t, res, "Deployment", comp+"-model-predictor")
	servingEqual(t, "replicas", field(t, d, "spec", "replicas"), int64(1))
	tf := container(t, servingPodSpec(t, d), "tensorflow")
	servingEqual(t, "image", tf["image"], "tensorflow/serving:1.11.1")
	if n := len(res.ByKind("HorizontalPodAutoscaler")); n != 2 {
		t.Errorf("%d HPAs in the pipeline, want the 2 of my-tfserving-prod", n)
	}
	if res.Find("ConfigMap", comp+"-model-predictor-batching") != nil {
		t.Error("a batching ConfigMap without batching")
	}
	route := mustFind(t, res, "HTTPRoute", comp)
	servingEqual(t, "route backends", field(t, route, "spec", "rules"), []interface{}{map[string]interface{}{
		"backendRefs": []interface{}{
			map[string]interface{}{"group": "", "kind": "Service", "name": comp + "-model-predictor", "port": int64(8501), "weight": int64(100)},
		},
	}})
}

// A predictor with modelImage copies the model out of the image.
func TestServingExampleLoadsTheModelFromAnImage(t *testing.T) {
	res := renderFile(t, "examples/serving/app.yaml")
	const comp = "mnist"
	for _, p := range []struct{ name, image string }{
		{"stable", "ghcr.io/ml-platform/models/mnist:mnist-v1"},
		{"canary", "ghcr.io/ml-platform/models/mnist:mnist-v2"},
	} {
		d := mustFind(t, res, "Deployment", comp+"-"+p.name)
		spec := servingPodSpec(t, d)
		loader := container(t, spec, "model-loader")
		servingEqual(t, p.name+" loader image", loader["image"], p.image)
		servingEqual(t, p.name+" loader mounts", loader["volumeMounts"], []interface{}{
			map[string]interface{}{"name": "models", "mountPath": "/mnt/models"},
		})
		script := strings.Join(servingStrings(loader["command"]), " ")
		if !strings.Contains(script, "cp -R /models/. /mnt/models/") || !strings.Contains(script, "[ ! -d /models/mnist ]") {
			t.Errorf("%s loader command %q does not check /models/mnist and copy /models/. into the emptyDir", p.name, script)
		}
		tf := container(t, spec, "tensorflow")
		args := servingStrings(tf["args"])
		servingEqual(t, p.name+" model args", args[2:4], []string{"--model_name=mnist", "--model_base_path=/models/mnist"})
		servingEqual(t, p.name+" model mount", tf["volumeMounts"].([]interface{})[1],
			map[string]interface{}{"name": "models", "mountPath": "/models", "readOnly": true})
		servingEqual(t, p.name+" models volume", spec["volumes"].([]interface{})[1],
			map[string]interface{}{"name": "models", "emptyDir": map[string]interface{}{}})
		servingEqual(t, p.name+" default image", tf["image"], "tensorflow/serving:2.18.0")
	}
	route := mustFind(t, res, "HTTPRoute", comp)
	servingEqual(t, "route parentRefs", field(t, route, "spec", "parentRefs"), []interface{}{
		map[string]interface{}{"name": "ml-gateway", "namespace": "gateway-system", "sectionName": "http"},
	})
	servingEqual(t, "route hostnames", field(t, route, "spec", "hostnames"), []interface{}{"mnist.example.com"})
	var weights []interface{}
	for _, b := range field(t, route, "spec", "rules").([]interface{})[0].(map[string]interface{})["backendRefs"].([]interface{}) {
		weights = append(weights, b.(map[string]interface{})["weight"])
	}
	servingEqual(t, "route weights", weights, []interface{}{int64(90), int64(10)})
}

// Pods pass the "restricted" Pod Security Standard by default, and a key the
// template sets replaces just that default.
func TestServingPodsAreHardened(t *testing.T) {
	res, err := renderYAML(t, `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: sec}
spec:
  components:
    - name: srv
      type: tfserving
      properties:
        predictors:
          - name: default
            modelImage: myrepo/mymodel:v1
            trafficPercentage: 50
            template:
              spec:
                containers:
                  - name: logger
                    image: busybox
                initContainers:
                  - name: warmup
                    image: busybox
          - name: custom
            modelBasePath: s3://bucket/models/model
            trafficPercentage: 50
            template:
              metadata:
                labels: {team: a}
                annotations: {note: x}
              spec:
                serviceAccountName: s3-reader
                securityContext: {runAsUser: 2000}
                containers:
                  - name: tensorflow
                    image: tensorflow/serving:2.18.0-gpu
                    args: ["--file_system_poll_wait_seconds=0"]
                    env: [{name: AWS_REGION, value: eu-west-1}]
                    resources: {limits: {nvidia.com/gpu: 1}}
                    securityContext: {readOnlyRootFilesystem: false}
`)
	if err != nil {
		t.Fatal(err)
	}
	wantPod := map[string]interface{}{
		"runAsNonRoot": true, "runAsUser": int64(1000), "runAsGroup": int64(1000), "fsGroup": int64(1000),
		"seccompProfile": map[string]interface{}{"type": "RuntimeDefault"},
	}
	wantModel := map[string]interface{}{
		"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true,
		"capabilities":   map[string]interface{}{"drop": []interface{}{"ALL"}},
		"seccompProfile": map[string]interface{}{"type": "RuntimeDefault"},
	}
	wantSidecar := map[string]interface{}{
		"allowPrivilegeEscalation": false, "runAsNonRoot": true,
		"capabilities":   map[string]interface{}{"drop": []interface{}{"ALL"}},
		"seccompProfile": map[string]interface{}{"type": "RuntimeDefault"},
	}
	spec := servingPodSpec(t, mustFind(t, res, "Deployment", "srv-default"))
	servingEqual(t, "pod securityContext", spec["securityContext"], wantPod)
	for name, want := range map[string]interface{}{"tensorflow": wantModel, "model-loader": wantModel, "logger": wantSidecar, "warmup": wantSidecar} {
		servingEqual(t, name+" securityContext", container(t, spec, name)["securityContext"], want)
	}
	servingEqual(t, "tmp mount", container(t, spec, "tensorflow")["volumeMounts"].([]interface{})[0],
		map[string]interface{}{"name": "tmp", "mountPath": "/tmp"})
	servingEqual(t, "init containers (loader first)", len(spec["initContainers"].([]interface{})), 2)
	servingEqual(t, "default resources", container(t, spec, "tensorflow")["resources"],
		map[string]interface{}{"requests": map[string]interface{}{"cpu": "500m", "memory": "512Mi"}})

	d := mustFind(t, res, "Deployment", "srv-custom")
	spec = servingPodSpec(t, d)
	servingEqual(t, "overridden runAsUser", spec["securityContext"].(map[string]interface{})["runAsUser"], int64(2000))
	servingEqual(t, "kept runAsNonRoot", spec["securityContext"].(map[string]interface{})["runAsNonRoot"], true)
	servingEqual(t, "serviceAccountName kept", spec["serviceAccountName"], "s3-reader")
	tf := container(t, spec, "tensorflow")
	servingEqual(t, "overridden readOnlyRootFilesystem", tf["securityContext"].(map[string]interface{})["readOnlyRootFilesystem"], false)
	servingEqual(t, "kept drop ALL", tf["securityContext"].(map[string]interface{})["capabilities"], map[string]interface{}{"drop": []interface{}{"ALL"}})
	servingEqual(t, "image", tf["image"], "tensorflow/serving:2.18.0-gpu")
	servingEqual(t, "args (user args last)", servingStrings(tf["args"]), []string{
		"--port=8500", "--rest_api_port=8501", "--model_name=model", "--model_base_path=s3://bucket/models/model", "--file_system_poll_wait_seconds=0",
	})
	servingEqual(t, "env kept", tf["env"], []interface{}{map[string]interface{}{"name": "AWS_REGION", "value": "eu-west-1"}})
	servingEqual(t, "resources kept", tf["resources"], map[string]interface{}{"limits": map[string]interface{}{"nvidia.com/gpu": int64(1)}})
	if _, ok := spec["initContainers"]; ok {
		t.Error("modelBasePath predictor has an init container")
	}
	labels := field(t, d, "spec", "template", "metadata", "labels").(map[string]interface{})
	servingEqual(t, "user pod label", labels["team"], "a")
	servingEqual(t, "predictor pod label", labels["ml-platform.oam.dev/predictor"], "custom")
	servingEqual(t, "user pod annotation", field(t, d, "spec", "template", "metadata", "annotations"), map[string]interface{}{"note": "x"})
}

func TestServingIstioRouter(t *testing.T) {
	res, err := renderYAML(t, `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: mesh}
spec:
  components:
    - name: srv
      type: tfserving
      properties:
        traffic:
          router: istio
          gateways: [istio-system/public]
          hostnames: [srv.example.com]
        predictors:
          - {name: a, modelImage: r/m:v1, trafficPercentage: 70}
          - {name: b, modelImage: r/m:v2, trafficPercentage: 30}
`)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.ByKind("HTTPRoute")); n != 0 {
		t.Errorf("%d HTTPRoutes with the istio router", n)
	}
	vs := mustFind(t, res, "VirtualService", "srv")
	servingEqual(t, "apiVersion", vs.GetAPIVersion(), "networking.istio.io/v1beta1")
	servingEqual(t, "hosts", field(t, vs, "spec", "hosts"), []interface{}{"srv", "srv.example.com"})
	servingEqual(t, "gateways", field(t, vs, "spec", "gateways"), []interface{}{"istio-system/public", "mesh"})
	route := func(port int64) []interface{} {
		return []interface{}{
			map[string]interface{}{"destination": map[string]interface{}{"host": "srv-a", "port": map[string]interface{}{"number": port}}, "weight": int64(70)},
			map[string]interface{}{"destination": map[string]interface{}{"host": "srv-b", "port": map[string]interface{}{"number": port}}, "weight": int64(30)},
		}
	}
	servingEqual(t, "http routes", field(t, vs, "spec", "http"), []interface{}{
		map[string]interface{}{"name": "grpc", "match": []interface{}{map[string]interface{}{"port": int64(8500), "gateways": []interface{}{"mesh"}}}, "route": route(8500)},
		map[string]interface{}{"name": "http", "match": []interface{}{map[string]interface{}{"port": int64(8501), "gateways": []interface{}{"mesh"}}}, "route": route(8501)},
		map[string]interface{}{"name": "gateways", "match": []interface{}{map[string]interface{}{"gateways": []interface{}{"istio-system/public"}}}, "route": route(8501)},
	})

	res, err = renderYAML(t, `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: plain}
spec:
  components:
    - name: srv
      type: tfserving
      properties:
        traffic: {router: none}
        predictors:
          - {name: a, modelImage: r/m:v1, replicas: 0}
`)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.ByKind("HTTPRoute")) + len(res.ByKind("VirtualService")); n != 0 {
		t.Errorf("router none rendered %d routes", n)
	}
	servingEqual(t, "replicas 0", field(t, mustFind(t, res, "Deployment", "srv-a"), "spec", "replicas"), int64(0))
}

// With autoScale and replicas but no minReplicas, replicas is the HPA's minimum.
func TestServingReplicasAreTheDefaultMinimumOfTheHPA(t *testing.T) {
	res, err := renderYAML(t, `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: hpa}
spec:
  components:
    - name: srv
      type: tfserving
      properties:
        predictors:
          - name: a
            modelImage: r/m:v1
            replicas: 3
            autoScale: {maxReplicas: 6, targetCPUUtilizationPercentage: 60}
`)
	if err != nil {
		t.Fatal(err)
	}
	hpa := mustFind(t, res, "HorizontalPodAutoscaler", "srv-a")
	servingEqual(t, "minReplicas", field(t, hpa, "spec", "minReplicas"), int64(3))
	servingEqual(t, "maxReplicas", field(t, hpa, "spec", "maxReplicas"), int64(6))
	servingEqual(t, "target", field(t, hpa, "spec", "metrics").([]interface{})[0].(map[string]interface{})["resource"].(map[string]interface{})["target"].(map[string]interface{})["averageUtilization"], int64(60))
}

// Cross-field rules that the corpus cannot show on their own.
func TestServingRejectsIncoherentPredictors(t *testing.T) {
	for name, c := range map[string]struct{ props, want string }{
		"no predictors":         {`{predictors: []}`, "properties.predictors: at least one predictor is required"},
		"unset share":           {`{predictors: [{name: a, modelImage: r/m:1, trafficPercentage: 100}, {name: b, modelImage: r/m:2}]}`, "properties.predictors: set trafficPercentage on every predictor when there are several (b has none)"},
		"single below 100":      {`{predictors: [{name: a, modelImage: r/m:1, trafficPercentage: 60}]}`, "trafficPercentage of all predictors must sum to 100, got 60"},
		"two model names":       {`{predictors: [{name: a, modelImage: r/m:1, modelName: mx, trafficPercentage: 50}, {name: b, modelImage: r/m:2, modelName: my, trafficPercentage: 50}]}`, "properties.predictors: every predictor must serve the same modelName so that one URL (/v1/models/<modelName>) reaches them all, got mx and my"},
		"image and path":        {`{predictors: [{name: a, modelImage: r/m:1, modelBasePath: "s3://b/m"}]}`, "properties.predictors[0]: set modelImage or modelBasePath, not both"},
		"replicas above max":    {`{predictors: [{name: a, modelImage: r/m:1, replicas: 12, autoScale: {minReplicas: 1, maxReplicas: 10}}]}`, "properties.predictors[0].replicas: with autoScale the HPA owns the replica count, and replicas (12) must lie within autoScale 1..10"},
		"parentRefs with istio": {`{traffic: {router: istio, parentRefs: [{name: gw}]}, predictors: [{name: a, modelImage: r/m:1}]}`, "properties.traffic.parentRefs: only the httproute router attaches to parentRefs"},
		"name too long":         {`{predictors: [{name: a-predictor-with-a-long-name-x, modelImage: r/m:1}]}`, "properties.predictors: <component>-<predictor> names the predictor's objects and must be at most 63 characters, a-rather-long-serving-component-name-a-predictor-with-a-long-name-x is too long"},
	} {
		comp := "srv"
		if name == "name too long" {
			comp = "a-rather-long-serving-component-name"
		}
		t.Run(name, func(t *testing.T) {
			_, err := renderYAML(t, `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: bad}
spec:
  components:
    - name: `+comp+`
      type: tfserving
      properties: `+c.props+`
`)
			if err == nil {
				t.Fatalf("rendered, want an error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error does not contain %q:\n%v", c.want, err)
			}
		})
	}
}

// ---- the ml-model-serving step ----

const servingApp = `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: pipeline
  namespace: ml
spec:
  components:
    - name: my-tfserving-dev
      type: tfserving
      properties:
        predictors:
          - name: model-predictor
            modelVersion: mymodel-v2
            template:
              spec:
                containers:
                - name: tensorflow
                  image: tensorflow/serving:1.11.1
    - name: my-tfserving-prod
      type: tfserving
      properties:
        predictors:
          - name: model-a-predictor
            modelVersion: mymodel-v1
            replicas: 2
            trafficPercentage: 90
          - name: model-b-predictor
            modelVersion: mymodel-v2
            replicas: 1
            trafficPercentage: 10
    - name: direct
      type: tfserving
      properties:
        predictors:
          - name: p
            modelBasePath: s3://bucket/models/mymodel
    - name: empty
      type: tfserving
      properties:
        predictors:
          - name: p
    - name: web
      type: webservice
      properties:
        image: nginx
  policies:
    - name: prod
      type: topology
      properties:
        namespace: ml-production
  workflow:
    steps:
      - name: serve-model-in-dev
        type: ml-model-serving
        properties:
          component: my-tfserving-dev
          env: dev
      - name: serve-model-in-prod
        type: ml-model-serving
        properties:
          component: my-tfserving-prod
          env: prod
      - name: serve-direct
        type: ml-model-serving
        properties:
          component: direct
          env: dev
          namespace: staging
      - name: serve-web
        type: ml-model-serving
        properties:
          component: web
          env: dev
      - name: serve-nope
        type: ml-model-serving
        properties:
          component: nope
          env: dev
      - name: serve-empty
        type: ml-model-serving
        properties:
          component: empty
          env: dev
`

func servingRecord(version, model, appName string) *corev1.ConfigMap {
	labels := map[string]string{"ml-platform.oam.dev/model-version": version, "ml-platform.oam.dev/model": model}
	if appName != "" { // applied by the application's ml-model-checkpoint step
		labels["app.oam.dev/name"] = appName
		labels["app.oam.dev/namespace"] = "ml"
		labels["oam.dev/render-hash"] = "45ecf16b9cb86371"
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "model-version-" + version, Namespace: "ml", Labels: labels},
		Data: map[string]string{
			"modelName": version, "model": model, "version": "1", "image": "myrepo/mymodel:" + version,
			"digest": testDigest, "trainingJob": "my-tfjob-v1", "appRevision": "pipeline-v1", "createdAt": "2026-11-28T14:00:00Z",
		},
	}
}

func readyDeployment(replicas int64) map[string]interface{} {
	return map[string]interface{}{
		"observedGeneration": int64(1), "replicas": replicas, "readyReplicas": replicas,
		"updatedReplicas": replicas, "availableReplicas": replicas,
	}
}

const (
	svDev        = "my-tfserving-dev-model-predictor"
	svDevWaiting = "waiting for predictors to be available: my-tfserving-dev in ml-dev: model-predictor 0/1 ready"
	svDevImage   = "myrepo/mymodel:mymodel-v2@" + testDigest
)

// svDevStarted is the first reconcile of serve-model-in-dev with the
// version's record: the component is applied to ml-dev without a health
// wait and the step waits for the predictor.
func svDevStarted(t testing.TB, objs ...client.Object) *stepWorld {
	t.Helper()
	w := newStepWorld(t, servingApp, append([]client.Object{servingRecord("mymodel-v2", "mymodel", "")}, objs...)...)
	stepWant(t, w.run("serve-model-in-dev"), v1alpha1.WorkflowStepPhaseRunning, svDevWaiting)
	w.wantApplied("my-tfserving-dev in ml-dev")
	return w
}

// svPod is a pod of a predictor of my-tfserving-dev in ml-dev whose
// model-loader runs loaderImage and whose tensorflow container has the
// given state.
func svPod(name, predictor, loaderImage string, tfState map[string]interface{}) *unstructured.Unstructured {
	labels := map[string]interface{}{"ml-platform.oam.dev/serving": "my-tfserving-dev"}
	if predictor != "" {
		labels["ml-platform.oam.dev/predictor"] = predictor
	}
	return &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]interface{}{"name": name, "namespace": "ml-dev", "labels": labels},
		"spec": map[string]interface{}{
			"initContainers": []interface{}{map[string]interface{}{"name": "model-loader", "image": loaderImage}},
			"containers":     []interface{}{map[string]interface{}{"name": "tensorflow", "image": "tensorflow/serving:1.11.1"}},
		},
		"status": map[string]interface{}{
			"phase": "Pending",
			"initContainerStatuses": []interface{}{map[string]interface{}{
				"name": "model-loader", "state": map[string]interface{}{"terminated": map[string]interface{}{"exitCode": int64(0), "reason": "Completed"}}}},
			"containerStatuses": []interface{}{map[string]interface{}{"name": "tensorflow", "state": tfState}},
		},
	}}
}

// svPodWaits: after the first reconcile a pod of the dev predictor appears
// whose tensorflow container waits for reason; the step fails with message,
// or keeps waiting when message is "".
func svPodWaits(pod *unstructured.Unstructured, message string) func(t testing.TB) {
	return func(t testing.TB) {
		w := svDevStarted(t)
		if err := w.applyObjects(context.Background(), "", "", pod.DeepCopy()); err != nil {
			t.Fatal(err)
		}
		if message == "" {
			stepWant(t, w.run("serve-model-in-dev"), v1alpha1.WorkflowStepPhaseRunning, svDevWaiting)
		} else {
			stepWant(t, w.run("serve-model-in-dev"), v1alpha1.WorkflowStepPhaseFailed, message)
		}
		w.wantApplied("my-tfserving-dev in ml-dev")
	}
}

// svBadReason: a current pod of the predictor whose tensorflow container
// waits for a reason it will not get past.
func svBadReason(reason, detail string) func(t testing.TB) {
	want := "my-tfserving-dev cannot become available: predictor model-predictor in ml-dev: pod current container tensorflow " + reason
	if detail != "" {
		want += ": " + detail
	}
	return svPodWaits(svPod("current", "model-predictor", svDevImage, ckWaiting(reason, detail)), want)
}

// svDevStatus: after the first reconcile the predictor's Deployment has the
// given status; the step shows phase and message.
func svDevStatus(status map[string]interface{}, phase v1alpha1.WorkflowStepPhase, message string) func(t testing.TB) {
	return func(t testing.TB) {
		w := svDevStarted(t)
		w.setStatus(gvkDeployment, "ml-dev", svDev, status)
		stepWant(t, w.run("serve-model-in-dev"), phase, message)
		if phase == v1alpha1.WorkflowStepPhaseSucceeded {
			w.wantApplied("my-tfserving-dev in ml-dev, waiting for health (healthy: true)")
		} else {
			w.wantApplied("my-tfserving-dev in ml-dev")
		}
	}
}

// svFails: the step fails at once with message, applying nothing.
func svFails(step, message string, objs ...client.Object) func(t testing.TB) {
	return func(t testing.TB) {
		w := newStepWorld(t, servingApp, objs...)
		stepWant(t, w.run(step), v1alpha1.WorkflowStepPhaseFailed, message)
		w.wantApplied()
	}
}

func svDeadline(message string) map[string]interface{} {
	c := map[string]interface{}{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
	if message != "" {
		c["message"] = message
	}
	return map[string]interface{}{"observedGeneration": int64(1), "conditions": []interface{}{c}}
}

func svPredictorImages(t testing.TB, a appliedComponent) []interface{} {
	t.Helper()
	var images []interface{}
	for _, p := range a.Properties["predictors"].([]interface{}) {
		images = append(images, p.(map[string]interface{})["modelImage"])
	}
	return images
}

// The ml-model-serving step, situation by situation.
var servingStepCases = []stepCase{
	{"resolves the model version and applies without a health wait", func(t testing.TB) {
		w := newStepWorld(t, servingApp, servingRecord("mymodel-v2", "mymodel", "pipeline"))
		stepWant(t, w.run("serve-model-in-dev"), v1alpha1.WorkflowStepPhaseRunning, svDevWaiting)
		a := w.applied[0]
		w.wantApplied("my-tfserving-dev in ml-dev")
		p := a.Properties["predictors"].([]interface{})[0].(map[string]interface{})
		servingEqual(t, "resolved modelImage (pinned by digest)", p["modelImage"], svDevImage)
		servingEqual(t, "resolved modelName", p["modelName"], "mymodel")
		servingEqual(t, "modelVersion kept", p["modelVersion"], "mymodel-v2")
		spec := servingPodSpec(t, w.get(gvkDeployment, "ml-dev", svDev))
		servingEqual(t, "loader image", container(t, spec, "model-loader")["image"], svDevImage)
		servingEqual(t, "served image", container(t, spec, "tensorflow")["image"], "tensorflow/serving:1.11.1")
		servingEqual(t, "served model", servingStrings(container(t, spec, "tensorflow")["args"])[2], "--model_name=mymodel")
		// the application's own record is applied again (its garbage collection keeps it)
		if h := w.get(gvkConfigMap, "ml", "model-version-mymodel-v2").GetLabels()["oam.dev/render-hash"]; h == "45ecf16b9cb86371" {
			t.Error("the application's record model-version-mymodel-v2 was not applied again")
		}
	}},
	{"leaves another application's record alone", func(t testing.TB) {
		w := svDevStarted(t)
		if _, ok := w.get(gvkConfigMap, "ml", "model-version-mymodel-v2").GetLabels()["oam.dev/render-hash"]; ok {
			t.Error("a record the application did not write was applied")
		}
	}},
	{"uses the image by tag when the record has no digest", func(t testing.TB) {
		rec := servingRecord("mymodel-v2", "mymodel", "")
		delete(rec.Data, "digest")
		w := newStepWorld(t, servingApp, rec)
		stepWant(t, w.run("serve-model-in-dev"), v1alpha1.WorkflowStepPhaseRunning, svDevWaiting)
		servingEqual(t, "resolved images", svPredictorImages(t, w.applied[0]), []interface{}{"myrepo/mymodel:mymodel-v2"})
	}},
	{"creates the env's namespace", func(t testing.TB) {
		w := svDevStarted(t)
		servingEqual(t, "namespace env label", w.get(gvkNamespace, "", "ml-dev").GetLabels()["ml-platform.oam.dev/env"], "dev")
	}},
	{"leaves a foreign namespace alone", func(t testing.TB) {
		w := svDevStarted(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ml-dev", Labels: map[string]string{"team": "other"}}})
		if _, ok := w.get(gvkNamespace, "", "ml-dev").GetLabels()["ml-platform.oam.dev/env"]; ok {
			t.Error("the step applied a namespace that exists and is not the application's")
		}
	}},
	{"keeps applying the namespace it created", func(t testing.TB) {
		w := svDevStarted(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ml-dev", Labels: map[string]string{
			"app.oam.dev/name": "pipeline", "app.oam.dev/namespace": "ml"}}})
		servingEqual(t, "env label of the re-applied namespace", w.get(gvkNamespace, "", "ml-dev").GetLabels()["ml-platform.oam.dev/env"], "dev")
	}},
	{"succeeds once every predictor is available, with a health-waiting apply", svDevStatus(readyDeployment(1),
		v1alpha1.WorkflowStepPhaseSucceeded, "serving my-tfserving-dev in ml-dev: model-predictor 1/1 ready")},
	{"waits while pods are not ready", svDevStatus(map[string]interface{}{"observedGeneration": int64(1), "replicas": int64(1), "updatedReplicas": int64(1)},
		v1alpha1.WorkflowStepPhaseRunning, svDevWaiting)},
	{"waits while an old pod still serves", svDevStatus(map[string]interface{}{"observedGeneration": int64(1), "replicas": int64(2), "readyReplicas": int64(2), "updatedReplicas": int64(1), "availableReplicas": int64(2)},
		v1alpha1.WorkflowStepPhaseRunning, "waiting for predictors to be available: my-tfserving-dev in ml-dev: model-predictor 2/1 ready")},
	{"waits while the ready pods are not updated", svDevStatus(map[string]interface{}{"observedGeneration": int64(1), "replicas": int64(1), "readyReplicas": int64(1), "updatedReplicas": int64(0), "availableReplicas": int64(1)},
		v1alpha1.WorkflowStepPhaseRunning, "waiting for predictors to be available: my-tfserving-dev in ml-dev: model-predictor 1/1 ready")},
	{"waits while ready pods are not available yet", svDevStatus(map[string]interface{}{"observedGeneration": int64(1), "replicas": int64(1), "readyReplicas": int64(1), "updatedReplicas": int64(1), "availableReplicas": int64(0)},
		v1alpha1.WorkflowStepPhaseRunning, "waiting for predictors to be available: my-tfserving-dev in ml-dev: model-predictor 1/1 ready")},
	{"waits while the status is older than the spec", svDevStatus(map[string]interface{}{"replicas": int64(1), "readyReplicas": int64(1), "updatedReplicas": int64(1), "availableReplicas": int64(1)},
		v1alpha1.WorkflowStepPhaseRunning, "waiting for predictors to be available: my-tfserving-dev in ml-dev: model-predictor 1/1 ready")},
	{"fails early on ErrImagePull", svBadReason("ErrImagePull", "rpc error: code = NotFound")},
	{"fails early on ImagePullBackOff", svBadReason("ImagePullBackOff", "Back-off pulling image \"tensorflow/serving:1.11.1\"")},
	{"fails early on InvalidImageName", svBadReason("InvalidImageName", "couldn't parse image name")},
	{"fails early on CrashLoopBackOff", svBadReason("CrashLoopBackOff", "back-off 5m0s restarting failed container=tensorflow")},
	{"fails early on CreateContainerConfigError", svBadReason("CreateContainerConfigError", "configmap \"x\" not found")},
	{"fails early on CreateContainerError", svBadReason("CreateContainerError", "context deadline exceeded")},
	{"fails early on RunContainerError", svBadReason("RunContainerError", "")},
	{"fails early when the model loader cannot be pulled", svPodWaits(func() *unstructured.Unstructured {
		p := svPod("current", "model-predictor", svDevImage, map[string]interface{}{"waiting": map[string]interface{}{"reason": "PodInitializing"}})
		p.Object["status"].(map[string]interface{})["initContainerStatuses"] = []interface{}{map[string]interface{}{
			"name": "model-loader", "state": ckWaiting("ImagePullBackOff", "Back-off pulling image \""+svDevImage+"\"")}}
		return p
	}(), "my-tfserving-dev cannot become available: predictor model-predictor in ml-dev: pod current container model-loader ImagePullBackOff: Back-off pulling image \""+svDevImage+"\"")},
	{"waits while a container is being created", svPodWaits(svPod("current", "model-predictor", svDevImage, ckWaiting("ContainerCreating", "")), "")},
	{"a pod of an older rollout that cannot start does not count", svPodWaits(svPod("old", "model-predictor", "myrepo/mymodel:broken", ckWaiting("ImagePullBackOff", "Back-off")), "")},
	{"a pod of another predictor does not count", svPodWaits(svPod("other", "other-predictor", svDevImage, ckWaiting("CrashLoopBackOff", "back-off")), "")},
	{"fails when the rollout exceeds its deadline", func(t testing.TB) {
		w := newStepWorld(t, servingApp)
		stepWant(t, w.run("serve-direct"), v1alpha1.WorkflowStepPhaseRunning, "waiting for predictors to be available: direct in staging: p 0/1 ready")
		a := w.applied[0]
		w.wantApplied("direct in staging")
		servingEqual(t, "modelBasePath predictor is not resolved", a.Properties["predictors"].([]interface{})[0].(map[string]interface{})["modelImage"], nil)
		w.setStatus(gvkDeployment, "staging", "direct-p", svDeadline("ReplicaSet \"direct-p-5d4\" has timed out progressing."))
		stepWant(t, w.run("serve-direct"), v1alpha1.WorkflowStepPhaseFailed, "direct cannot become available: predictor p in staging: ReplicaSet \"direct-p-5d4\" has timed out progressing.")
		w.wantApplied("direct in staging")
	}},
	{"says the deadline was exceeded when the condition has no message", func(t testing.TB) {
		w := newStepWorld(t, servingApp)
		stepWantPhase(t, w.run("serve-direct"), v1alpha1.WorkflowStepPhaseRunning)
		w.setStatus(gvkDeployment, "staging", "direct-p", svDeadline(""))
		stepWant(t, w.run("serve-direct"), v1alpha1.WorkflowStepPhaseFailed, "direct cannot become available: predictor p in staging: the rollout exceeded its progress deadline")
	}},
	{"the deadline of the previous rollout does not fail a new one", func(t testing.TB) {
		w := newStepWorld(t, servingApp)
		stepWantPhase(t, w.run("serve-direct"), v1alpha1.WorkflowStepPhaseRunning)
		w.setStatus(gvkDeployment, "staging", "direct-p", svDeadline("ReplicaSet \"direct-p-5d4\" has timed out progressing."))
		// the application changes the predictor's image: this apply starts a new rollout
		w.app.Spec.Components[2].Properties.Raw = []byte(`{"predictors":[{"name":"p","modelBasePath":"s3://bucket/models/mymodel","template":{"spec":{"containers":[{"name":"tensorflow","image":"tensorflow/serving:2.18.1"}]}}}]}`)
		stepWant(t, w.run("serve-direct"), v1alpha1.WorkflowStepPhaseRunning, "waiting for predictors to be available: direct in staging: p 0/1 ready")
	}},
	{"deploys prod into the namespace of the topology policy and waits for every predictor", func(t testing.TB) {
		w := newStepWorld(t, servingApp, servingRecord("mymodel-v1", "mymodel", ""), servingRecord("mymodel-v2", "mymodel", ""))
		stepWant(t, w.run("serve-model-in-prod"), v1alpha1.WorkflowStepPhaseRunning,
			"waiting for predictors to be available: my-tfserving-prod in ml-production: model-a-predictor 0/2 ready, model-b-predictor 0/1 ready")
		servingEqual(t, "resolved images", svPredictorImages(t, w.applied[0]), []interface{}{"myrepo/mymodel:mymodel-v1@" + testDigest, "myrepo/mymodel:mymodel-v2@" + testDigest})
		w.wantApplied("my-tfserving-prod in ml-production")
		if w.exists(gvkNamespace, "", "ml-prod") {
			t.Error("the default namespace ml-prod was created although the topology policy names ml-production")
		}
		w.setStatus(gvkDeployment, "ml-production", "my-tfserving-prod-model-a-predictor", readyDeployment(2))
		stepWant(t, w.run("serve-model-in-prod"), v1alpha1.WorkflowStepPhaseRunning,
			"waiting for predictors to be available: my-tfserving-prod in ml-production: model-a-predictor 2/2 ready, model-b-predictor 0/1 ready")
		w.wantApplied("my-tfserving-prod in ml-production")
		w.setStatus(gvkDeployment, "ml-production", "my-tfserving-prod-model-b-predictor", readyDeployment(1))
		stepWant(t, w.run("serve-model-in-prod"), v1alpha1.WorkflowStepPhaseSucceeded,
			"serving my-tfserving-prod in ml-production: model-a-predictor 2/2 ready, model-b-predictor 1/1 ready")
		w.wantApplied("my-tfserving-prod in ml-production, waiting for health (healthy: true)")
	}},
	{"fails for an unknown model version", svFails("serve-model-in-prod", "model version mymodel-v1 not found; run ml-model-checkpoint first",
		servingRecord("mymodel-v2", "mymodel", ""))},
	{"fails for a record without an image", svFails("serve-model-in-dev", "model version mymodel-v2 not found; run ml-model-checkpoint first", func() client.Object {
		rec := servingRecord("mymodel-v2", "mymodel", "")
		delete(rec.Data, "image")
		return rec
	}())},
	{"fails for a component of another type", svFails("serve-web", `component "web" is of type webservice: ml-model-serving needs the name of one of its tfserving components`)},
	{"fails for an unknown component", svFails("serve-nope", `component "nope" is not in this application: ml-model-serving needs the name of one of its tfserving components`)},
	{"fails for a predictor without a model", svFails("serve-empty", "predictor p of component empty has no modelVersion, modelImage or modelBasePath: there is no model to serve")},
}

func TestServingStep(t *testing.T) { runStepCases(t, servingStepCases) }

// ---- tfserving health and status, evaluated as the application controller does ----

func servingHealth(t *testing.T, params map[string]interface{}, deployments map[string]map[string]interface{}) (bool, string) {
	t.Helper()
	def, err := render.LoadDefinitionFile(filepath.Join(repoRoot, "definitions", "tfserving.cue"))
	if err != nil {
		t.Fatal(err)
	}
	health, _, _ := unstructured.NestedString(def.Object.Object, "spec", "status", "healthPolicy")
	custom, _, _ := unstructured.NestedString(def.Object.Object, "spec", "status", "customStatus")
	if health == "" || custom == "" {
		t.Fatal("tfserving has no healthPolicy or customStatus")
	}
	outputs := map[string]interface{}{}
	for name, d := range deployments {
		// As tfserving renders them: keyed deployment_<predictor> ('-' as '_'),
		// labelled with their predictor.
		meta, _ := d["metadata"].(map[string]interface{})
		if meta == nil {
			meta = map[string]interface{}{}
			d["metadata"] = meta
		}
		labels, _ := meta["labels"].(map[string]interface{})
		if labels == nil {
			labels = map[string]interface{}{}
			meta["labels"] = labels
		}
		labels["ml-platform.oam.dev/predictor"] = name
		outputs["deployment_"+strings.ReplaceAll(name, "-", "_")] = d
	}
	ctx := map[string]interface{}{
		"output":  map[string]interface{}{"apiVersion": "v1", "kind": "Service", "metadata": map[string]interface{}{"name": "srv"}},
		"outputs": outputs,
	}
	status, err := def.Status(ctx, params)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	return status.Healthy, status.Message
}

func liveDeployment(generation, replicas int64, status map[string]interface{}) map[string]interface{} {
	d := map[string]interface{}{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]interface{}{"generation": generation},
		"spec":     map[string]interface{}{"replicas": replicas},
	}
	if status != nil {
		d["status"] = status
	}
	return d
}

func TestServingHealthAndStatus(t *testing.T) {
	prod := map[string]interface{}{"predictors": []interface{}{
		map[string]interface{}{"name": "model-a-predictor", "modelImage": "r/m:v1", "trafficPercentage": 90},
		map[string]interface{}{"name": "model-b-predictor", "modelImage": "r/m:v2", "trafficPercentage": 10},
	}}
	ready := func(n int64) map[string]interface{} {
		return map[string]interface{}{"observedGeneration": int64(1), "replicas": n, "readyReplicas": n, "updatedReplicas": n, "availableReplicas": n}
	}

	healthy, msg := servingHealth(t, prod, map[string]map[string]interface{}{
		"model-a-predictor": liveDeployment(1, 3, ready(3)),
		"model-b-predictor": liveDeployment(1, 3, map[string]interface{}{"observedGeneration": int64(1), "replicas": int64(3), "readyReplicas": int64(1), "updatedReplicas": int64(3), "availableReplicas": int64(1)}),
	})
	servingEqual(t, "healthy with model-b 1/3", healthy, false)
	servingEqual(t, "message", msg, "model-a-predictor: 3/3 ready, 90% traffic; model-b-predictor: 1/3 ready, 10% traffic")

	healthy, _ = servingHealth(t, prod, map[string]map[string]interface{}{
		"model-a-predictor": liveDeployment(1, 3, ready(3)),
		"model-b-predictor": liveDeployment(1, 3, ready(3)),
	})
	servingEqual(t, "healthy when every predictor is available", healthy, true)

	healthy, _ = servingHealth(t, prod, map[string]map[string]interface{}{
		"model-a-predictor": liveDeployment(2, 3, ready(3)),
		"model-b-predictor": liveDeployment(1, 3, ready(3)),
	})
	servingEqual(t, "healthy on a status older than the spec", healthy, false)

	healthy, _ = servingHealth(t, prod, map[string]map[string]interface{}{
		"model-a-predictor": liveDeployment(1, 3, map[string]interface{}{"observedGeneration": int64(1), "replicas": int64(4), "readyReplicas": int64(3), "updatedReplicas": int64(3), "availableReplicas": int64(3)}),
		"model-b-predictor": liveDeployment(1, 3, ready(3)),
	})
	servingEqual(t, "healthy while an old pod is still running", healthy, false)

	healthy, msg = servingHealth(t, prod, map[string]map[string]interface{}{
		"model-a-predictor": liveDeployment(1, 3, nil),
	})
	servingEqual(t, "healthy without Deployments", healthy, false)
	servingEqual(t, "message before any status", msg, "model-a-predictor: 0/3 ready, 90% traffic; model-b-predictor: 0/1 ready, 10% traffic")

	dark := map[string]interface{}{"predictors": []interface{}{
		map[string]interface{}{"name": "a", "modelImage": "r/m:v1", "trafficPercentage": 100},
		map[string]interface{}{"name": "b", "modelImage": "r/m:v2", "trafficPercentage": 0, "replicas": 0},
	}}
	healthy, msg = servingHealth(t, dark, map[string]map[string]interface{}{
		"a": liveDeployment(1, 1, ready(1)),
		"b": liveDeployment(1, 0, map[string]interface{}{"observedGeneration": int64(1)}),
	})
	servingEqual(t, "healthy with a dark predictor scaled to zero", healthy, true)
	servingEqual(t, "dark message", msg, "a: 1/1 ready, 100% traffic; b: 0/0 ready, 0% traffic")

	unresolved := map[string]interface{}{"predictors": []interface{}{
		map[string]interface{}{"name": "model-predictor", "modelVersion": "mymodel-v2"},
	}}
	_, msg = servingHealth(t, unresolved, map[string]map[string]interface{}{"model-predictor": liveDeployment(1, 1, nil)})
	servingEqual(t, "unresolved message", msg, "model-predictor: 0/1 ready, 100% traffic (model version mymodel-v2 not resolved: deploy this component with the ml-model-serving step)")

	// Deployed by the step: KubeVela 1.11 evaluates the status with the
	// Application's properties (no modelImage), but the Deployment loads the model.
	loaded := liveDeployment(1, 1, ready(1))
	loaded["spec"].(map[string]interface{})["template"] = map[string]interface{}{"spec": map[string]interface{}{
		"initContainers": []interface{}{map[string]interface{}{"name": "model-loader", "image": "r/m:mymodel-v2"}},
	}}
	_, msg = servingHealth(t, unresolved, map[string]map[string]interface{}{"model-predictor": loaded})
	servingEqual(t, "message once the step deployed the version", msg, "model-predictor: 1/1 ready, 100% traffic")
}
