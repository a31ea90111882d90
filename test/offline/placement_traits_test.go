package offline

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

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
