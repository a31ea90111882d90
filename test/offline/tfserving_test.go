package offline

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
		t.Run(p.name, func(t *testing.T) {
			full := comp + "-" + p.name
			d := mustFind(t, res, "Deployment", full)
			// With autoScale the HPA owns the replica count: the Deployment sets none.
			if _, ok, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "replicas"); ok {
				t.Errorf("Deployment %s sets spec.replicas although autoScale is set", full)
			}
			selector := map[string]interface{}{"ml-platform.oam.dev/serving": comp, "ml-platform.oam.dev/predictor": p.name}
			assertEqual(t, full+" selector", field(t, d, "spec", "selector", "matchLabels"), selector)
			labels := field(t, d, "spec", "template", "metadata", "labels").(map[string]interface{})
			assertEqual(t, full+" pod label model-version", labels["ml-platform.oam.dev/model-version"], p.version)
			assertEqual(t, full+" pod label serving", labels["ml-platform.oam.dev/serving"], comp)

			spec := servingPodSpec(t, d)
			tf := container(t, spec, "tensorflow")
			assertEqual(t, full+" image", tf["image"], p.image)
			assertEqual(t, full+" command", servingStrings(tf["command"]), []string{"/usr/bin/tensorflow_model_server"})
			args := servingStrings(tf["args"])
			if len(args) < 6 {
				t.Fatalf("%s args = %q", full, args)
			}
			assertEqual(t, full+" args", args[:6], []string{
				"--port=8500",
				"--rest_api_port=8501",
				"--model_name=model",
				"--model_base_path=/models/model",
				"--enable_batching",
				"--batching_parameters_file=/etc/tfserving/batching/batching_parameters.txt",
			})
			// the arms-metrics trait of the spec appends its flag to the same list
			assertEqual(t, full+" args patched by arms-metrics", args[6:], []string{"--monitoring_config_file=/etc/tfserving-monitoring/monitoring_config.txt"})
			assertEqual(t, full+" ports", tf["ports"], []interface{}{
				map[string]interface{}{"name": "grpc", "containerPort": int64(8500), "protocol": "TCP"},
				map[string]interface{}{"name": "http", "containerPort": int64(8501), "protocol": "TCP"},
			})
			assertEqual(t, full+" readiness probe", tf["readinessProbe"].(map[string]interface{})["httpGet"],
				map[string]interface{}{"path": "/v1/models/model", "port": int64(8501)})
			assertEqual(t, full+" batching mount", tf["volumeMounts"].([]interface{})[1],
				map[string]interface{}{"name": "batching", "mountPath": "/etc/tfserving/batching", "readOnly": true})
			assertEqual(t, full+" batching volume", spec["volumes"].([]interface{})[1],
				map[string]interface{}{"name": "batching", "configMap": map[string]interface{}{"name": full + "-batching"}})
			if _, ok := field(t, d, "spec", "template", "metadata", "annotations").(map[string]interface{})["ml-platform.oam.dev/batching-config"]; !ok {
				t.Errorf("%s: no batching-config annotation to roll the pods when the file changes", full)
			}

			hpa := mustFind(t, res, "HorizontalPodAutoscaler", full)
			assertEqual(t, full+" HPA apiVersion", hpa.GetAPIVersion(), "autoscaling/v2")
			assertEqual(t, full+" HPA target", field(t, hpa, "spec", "scaleTargetRef"),
				map[string]interface{}{"apiVersion": "apps/v1", "kind": "Deployment", "name": full})
			assertEqual(t, full+" HPA minReplicas", field(t, hpa, "spec", "minReplicas"), int64(1))
			assertEqual(t, full+" HPA maxReplicas", field(t, hpa, "spec", "maxReplicas"), int64(10))
			assertEqual(t, full+" HPA metrics", field(t, hpa, "spec", "metrics"), []interface{}{map[string]interface{}{
				"type": "Resource",
				"resource": map[string]interface{}{"name": "cpu", "target": map[string]interface{}{
					"type": "Utilization", "averageUtilization": int64(80)}},
			}})

			cm := mustFind(t, res, "ConfigMap", full+"-batching")
			assertEqual(t, full+" batching file", field(t, cm, "data", "batching_parameters.txt"), fmt.Sprintf(
				"max_batch_size { value: %d }\nbatch_timeout_micros { value: 1000 }\nmax_enqueued_batches { value: 100 }\nnum_batch_threads { value: 4 }\n", p.batch))

			svc := mustFind(t, res, "Service", full)
			assertEqual(t, full+" Service selector", field(t, svc, "spec", "selector"), selector)
		})
	}

	t.Run("the stable Service is the main output", func(t *testing.T) {
		stable := mustFind(t, res, "Service", comp)
		assertEqual(t, "stable Service selector", field(t, stable, "spec", "selector"), map[string]interface{}{"ml-platform.oam.dev/serving": comp})
		assertEqual(t, "stable Service ports", field(t, stable, "spec", "ports"), []interface{}{
			map[string]interface{}{"name": "grpc", "port": int64(8500), "targetPort": int64(8500), "protocol": "TCP"},
			map[string]interface{}{"name": "http", "port": int64(8501), "targetPort": int64(8501), "protocol": "TCP"},
		})
		var main []string
		for _, o := range res.Objects {
			if o.Component == comp && o.Source == "workload" {
				main = append(main, o.GetKind()+"/"+o.GetName())
			}
		}
		assertEqual(t, "main output", main, []string{"Service/" + comp})
	})

	t.Run("one HTTPRoute splits 90/10", func(t *testing.T) {
		route := mustFind(t, res, "HTTPRoute", comp)
		assertEqual(t, "route apiVersion", route.GetAPIVersion(), "gateway.networking.k8s.io/v1")
		assertEqual(t, "route parentRefs (GAMMA: the stable Service)", field(t, route, "spec", "parentRefs"), []interface{}{
			map[string]interface{}{"group": "", "kind": "Service", "name": comp, "port": int64(8501)},
		})
		assertEqual(t, "route backends", field(t, route, "spec", "rules"), []interface{}{map[string]interface{}{
			"backendRefs": []interface{}{
				map[string]interface{}{"group": "", "kind": "Service", "name": comp + "-model-a-predictor", "port": int64(8501), "weight": int64(90)},
				map[string]interface{}{"group": "", "kind": "Service", "name": comp + "-model-b-predictor", "port": int64(8501), "weight": int64(10)},
			},
		}})
		if n := len(res.ByKind("VirtualService")); n != 0 {
			t.Errorf("%d VirtualServices rendered with the default router", n)
		}
	})
}

func TestServingDevComponentOfTheSpecGetsAllTraffic(t *testing.T) {
	res := renderFile(t, "examples/pipeline/app.yaml")
	const comp = "my-tfserving-dev"
	d := mustFind(t, res, "Deployment", comp+"-model-predictor")
	assertEqual(t, "replicas", field(t, d, "spec", "replicas"), int64(1))
	tf := container(t, servingPodSpec(t, d), "tensorflow")
	assertEqual(t, "image", tf["image"], "tensorflow/serving:1.11.1")
	if n := len(res.ByKind("HorizontalPodAutoscaler")); n != 2 {
		t.Errorf("%d HPAs in the pipeline, want the 2 of my-tfserving-prod", n)
	}
	if res.Find("ConfigMap", comp+"-model-predictor-batching") != nil {
		t.Error("a batching ConfigMap without batching")
	}
	route := mustFind(t, res, "HTTPRoute", comp)
	assertEqual(t, "route backends", field(t, route, "spec", "rules"), []interface{}{map[string]interface{}{
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
		assertEqual(t, p.name+" loader image", loader["image"], p.image)
		assertEqual(t, p.name+" loader mounts", loader["volumeMounts"], []interface{}{
			map[string]interface{}{"name": "models", "mountPath": "/mnt/models"},
		})
		script := strings.Join(servingStrings(loader["command"]), " ")
		if !strings.Contains(script, "cp -R /models/. /mnt/models/") || !strings.Contains(script, "[ ! -d /models/mnist ]") {
			t.Errorf("%s loader command %q does not check /models/mnist and copy /models/. into the emptyDir", p.name, script)
		}
		tf := container(t, spec, "tensorflow")
		args := servingStrings(tf["args"])
		assertEqual(t, p.name+" model args", args[2:4], []string{"--model_name=mnist", "--model_base_path=/models/mnist"})
		assertEqual(t, p.name+" model mount", tf["volumeMounts"].([]interface{})[1],
			map[string]interface{}{"name": "models", "mountPath": "/models", "readOnly": true})
		assertEqual(t, p.name+" models volume", spec["volumes"].([]interface{})[1],
			map[string]interface{}{"name": "models", "emptyDir": map[string]interface{}{}})
		assertEqual(t, p.name+" default image", tf["image"], "tensorflow/serving:2.18.0")
	}
	route := mustFind(t, res, "HTTPRoute", comp)
	assertEqual(t, "route parentRefs", field(t, route, "spec", "parentRefs"), []interface{}{
		map[string]interface{}{"name": "ml-gateway", "namespace": "gateway-system", "sectionName": "http"},
	})
	assertEqual(t, "route hostnames", field(t, route, "spec", "hostnames"), []interface{}{"mnist.example.com"})
	var weights []interface{}
	for _, b := range field(t, route, "spec", "rules").([]interface{})[0].(map[string]interface{})["backendRefs"].([]interface{}) {
		weights = append(weights, b.(map[string]interface{})["weight"])
	}
	assertEqual(t, "route weights", weights, []interface{}{int64(90), int64(10)})
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
	assertEqual(t, "apiVersion", vs.GetAPIVersion(), "networking.istio.io/v1beta1")
	assertEqual(t, "hosts", field(t, vs, "spec", "hosts"), []interface{}{"srv", "srv.example.com"})
	assertEqual(t, "gateways", field(t, vs, "spec", "gateways"), []interface{}{"istio-system/public", "mesh"})
	route := func(port int64) []interface{} {
		return []interface{}{
			map[string]interface{}{"destination": map[string]interface{}{"host": "srv-a", "port": map[string]interface{}{"number": port}}, "weight": int64(70)},
			map[string]interface{}{"destination": map[string]interface{}{"host": "srv-b", "port": map[string]interface{}{"number": port}}, "weight": int64(30)},
		}
	}
	assertEqual(t, "http routes", field(t, vs, "spec", "http"), []interface{}{
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
	assertEqual(t, "replicas 0", field(t, mustFind(t, res, "Deployment", "srv-a"), "spec", "replicas"), int64(0))
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
	assertEqual(t, "minReplicas", field(t, hpa, "spec", "minReplicas"), int64(3))
	assertEqual(t, "maxReplicas", field(t, hpa, "spec", "maxReplicas"), int64(6))
	assertEqual(t, "target", field(t, hpa, "spec", "metrics").([]interface{})[0].(map[string]interface{})["resource"].(map[string]interface{})["target"].(map[string]interface{})["averageUtilization"], int64(60))
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
