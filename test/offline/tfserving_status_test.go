package offline

import (
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// ---- tfserving health and status, evaluated as the application controller does ----

// servingHealth evaluates the health and status with the live Deployments of
// the predictors and, when given, the live route (output "route").
func servingHealth(t *testing.T, params map[string]interface{}, deployments map[string]map[string]interface{}, route ...map[string]interface{}) (bool, string) {
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
	if len(route) > 0 {
		outputs["route"] = route[0]
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
	assertEqual(t, "healthy with model-b 1/3", healthy, false)
	assertEqual(t, "message", msg, "model-a-predictor: 3/3 ready, 90% traffic; model-b-predictor: 1/3 ready, 10% traffic")

	healthy, _ = servingHealth(t, prod, map[string]map[string]interface{}{
		"model-a-predictor": liveDeployment(1, 3, ready(3)),
		"model-b-predictor": liveDeployment(1, 3, ready(3)),
	})
	assertEqual(t, "healthy when every predictor is available", healthy, true)

	healthy, _ = servingHealth(t, prod, map[string]map[string]interface{}{
		"model-a-predictor": liveDeployment(2, 3, ready(3)),
		"model-b-predictor": liveDeployment(1, 3, ready(3)),
	})
	assertEqual(t, "healthy on a status older than the spec", healthy, false)

	healthy, _ = servingHealth(t, prod, map[string]map[string]interface{}{
		"model-a-predictor": liveDeployment(1, 3, map[string]interface{}{"observedGeneration": int64(1), "replicas": int64(4), "readyReplicas": int64(3), "updatedReplicas": int64(3), "availableReplicas": int64(3)}),
		"model-b-predictor": liveDeployment(1, 3, ready(3)),
	})
	assertEqual(t, "healthy while an old pod is still running", healthy, false)

	healthy, msg = servingHealth(t, prod, map[string]map[string]interface{}{
		"model-a-predictor": liveDeployment(1, 3, nil),
	})
	assertEqual(t, "healthy without Deployments", healthy, false)
	assertEqual(t, "message before any status", msg, "model-a-predictor: 0/3 ready, 90% traffic; model-b-predictor: 0/1 ready, 10% traffic")

	dark := map[string]interface{}{"predictors": []interface{}{
		map[string]interface{}{"name": "a", "modelImage": "r/m:v1", "trafficPercentage": 100},
		map[string]interface{}{"name": "b", "modelImage": "r/m:v2", "trafficPercentage": 0, "replicas": 0},
	}}
	healthy, msg = servingHealth(t, dark, map[string]map[string]interface{}{
		"a": liveDeployment(1, 1, ready(1)),
		"b": liveDeployment(1, 0, map[string]interface{}{"observedGeneration": int64(1)}),
	})
	assertEqual(t, "healthy with a dark predictor scaled to zero", healthy, true)
	assertEqual(t, "dark message", msg, "a: 1/1 ready, 100% traffic; b: 0/0 ready, 0% traffic")

	unresolved := map[string]interface{}{"predictors": []interface{}{
		map[string]interface{}{"name": "model-predictor", "modelVersion": "mymodel-v2"},
	}}
	_, msg = servingHealth(t, unresolved, map[string]map[string]interface{}{"model-predictor": liveDeployment(1, 1, nil)})
	assertEqual(t, "unresolved message", msg, "model-predictor: 0/1 ready, 100% traffic (model version mymodel-v2 not resolved: deploy this component with the ml-model-serving step)")

	// Deployed by the step: KubeVela 1.11 evaluates the status with the
	// Application's properties (no modelImage), but the Deployment loads the model.
	loaded := liveDeployment(1, 1, ready(1))
	loaded["spec"].(map[string]interface{})["template"] = map[string]interface{}{"spec": map[string]interface{}{
		"initContainers": []interface{}{map[string]interface{}{"name": "model-loader", "image": "r/m:mymodel-v2"}},
	}}
	_, msg = servingHealth(t, unresolved, map[string]map[string]interface{}{"model-predictor": loaded})
	assertEqual(t, "message once the step deployed the version", msg, "model-predictor: 1/1 ready, 100% traffic")

	// After a rollout: the live route's weights, not the properties', are
	// the traffic each predictor gets (an HTTPRoute or an Istio VirtualService).
	named := func(name string) map[string]interface{} {
		d := liveDeployment(1, 3, ready(3))
		d["metadata"].(map[string]interface{})["name"] = name
		return d
	}
	rolled := map[string]map[string]interface{}{"model-a-predictor": named("srv-model-a-predictor"), "model-b-predictor": named("srv-model-b-predictor")}
	_, msg = servingHealth(t, prod, rolled, map[string]interface{}{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"spec": map[string]interface{}{"rules": []interface{}{map[string]interface{}{"backendRefs": []interface{}{
			map[string]interface{}{"name": "srv-model-a-predictor", "port": int64(8501), "weight": int64(0)},
			map[string]interface{}{"name": "srv-model-b-predictor", "port": int64(8501), "weight": int64(100)},
		}}}}})
	assertEqual(t, "message with the route's weights", msg, "model-a-predictor: 3/3 ready, 0% traffic; model-b-predictor: 3/3 ready, 100% traffic")
	_, msg = servingHealth(t, prod, rolled, map[string]interface{}{"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
		"spec": map[string]interface{}{"http": []interface{}{map[string]interface{}{"route": []interface{}{
			map[string]interface{}{"destination": map[string]interface{}{"host": "srv-model-a-predictor"}, "weight": int64(50)},
			map[string]interface{}{"destination": map[string]interface{}{"host": "srv-model-b-predictor"}, "weight": int64(50)},
		}}}}})
	assertEqual(t, "message with the virtual service's weights", msg, "model-a-predictor: 3/3 ready, 50% traffic; model-b-predictor: 3/3 ready, 50% traffic")
}
