package render

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestRouteWeights(t *testing.T) {
	for _, c := range []struct {
		name  string
		route map[string]interface{}
		want  map[string]int64
	}{
		{"an HTTPRoute, one backend without a weight", map[string]interface{}{"spec": map[string]interface{}{"rules": []interface{}{
			map[string]interface{}{"backendRefs": []interface{}{
				map[string]interface{}{"name": "m-stable", "weight": int64(90)},
				map[string]interface{}{"name": "m-canary", "weight": float64(10)},
				map[string]interface{}{"name": "m-other"},
			}},
		}}}, map[string]int64{"m-stable": 90, "m-canary": 10, "m-other": 1}},
		{"a VirtualService, a host's first weight", map[string]interface{}{"spec": map[string]interface{}{"http": []interface{}{
			map[string]interface{}{"route": []interface{}{
				map[string]interface{}{"destination": map[string]interface{}{"host": "m-stable"}, "weight": int64(0)},
				map[string]interface{}{"destination": map[string]interface{}{"host": "m-canary"}, "weight": int64(100)},
			}},
			map[string]interface{}{"route": []interface{}{
				map[string]interface{}{"destination": map[string]interface{}{"host": "m-stable"}, "weight": int64(50)},
			}},
		}}}, map[string]int64{"m-stable": 0, "m-canary": 100}},
		{"no rules", map[string]interface{}{}, map[string]int64{}},
	} {
		if got := RouteWeights(&unstructured.Unstructured{Object: c.route}); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
