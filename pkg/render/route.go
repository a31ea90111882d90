package render

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// RouteWeights returns the weight of each backend of an HTTPRoute (by its
// backendRefs' names) or an Istio VirtualService (by its destinations'
// hosts, the first weight a host has): the traffic each predictor Service
// of a tfserving component gets. A backend without a weight counts 1 in an
// HTTPRoute, as the Gateway API says, and 0 in a VirtualService.
func RouteWeights(route *unstructured.Unstructured) map[string]int64 {
	weights := map[string]int64{}
	rules, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
	for _, r := range rules {
		refs, _, _ := unstructured.NestedSlice(asMap(r), "backendRefs")
		for _, b := range refs {
			weights[fmt.Sprint(asMap(b)["name"])] = weightOf(asMap(b)["weight"], 1)
		}
	}
	http, _, _ := unstructured.NestedSlice(route.Object, "spec", "http")
	for _, h := range http {
		dests, _, _ := unstructured.NestedSlice(asMap(h), "route")
		for _, d := range dests {
			host, _, _ := unstructured.NestedString(asMap(d), "destination", "host")
			if _, seen := weights[host]; !seen {
				weights[host] = weightOf(asMap(d)["weight"], 0)
			}
		}
	}
	return weights
}

func asMap(v interface{}) map[string]interface{} {
	m, _ := v.(map[string]interface{})
	return m
}

func weightOf(v interface{}, missing int64) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	case int:
		return int64(n)
	}
	return missing
}
