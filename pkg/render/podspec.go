package render

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// checkPodSpecs checks the Kubernetes values of every pod spec in a block of
// properties, as the API server would when the rendered workload is applied:
// container and volume names, ports, environment variable names and
// resource quantities. A pod spec is any object with a list of containers
// (a tfjob replica's template.spec, a tfserving predictor's template.spec,
// ...): the definitions leave them open for any PodSpec field, so their
// parameter checks cannot see these values.
func checkPodSpecs(subject string, props json.RawMessage) []Problem {
	var v interface{}
	if err := json.Unmarshal(props, &v); err != nil {
		return nil
	}
	var problems []Problem
	walkPodSpecs(v, "properties", func(path string, spec map[string]interface{}) {
		problems = append(problems, podSpecProblems(subject, path, spec)...)
	})
	return problems
}

// walkPodSpecs calls fn for every object below v that has a list of containers.
func walkPodSpecs(v interface{}, path string, fn func(string, map[string]interface{})) {
	switch x := v.(type) {
	case map[string]interface{}:
		if _, ok := x["containers"].([]interface{}); ok {
			fn(path, x)
			return
		}
		for _, k := range sortedKeys(x) {
			walkPodSpecs(x[k], path+"."+k, fn)
		}
	case []interface{}:
		for i, e := range x {
			walkPodSpecs(e, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

func podSpecProblems(subject, path string, spec map[string]interface{}) []Problem {
	var out []Problem
	add := func(p, format string, args ...interface{}) {
		out = append(out, Problem{Subject: subject, Path: p, Message: fmt.Sprintf(format, args...)})
	}
	checkName := func(p string, v interface{}) {
		if s, ok := v.(string); ok && len(validation.IsDNS1123Label(s)) > 0 {
			add(p, "must be a DNS label (at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit), got %q", s)
		}
	}
	for _, list := range []string{"initContainers", "containers"} {
		containers, _ := spec[list].([]interface{})
		for i, c := range containers {
			c, ok := c.(map[string]interface{})
			if !ok {
				continue
			}
			cp := fmt.Sprintf("%s.%s[%d]", path, list, i)
			checkName(cp+".name", c["name"])
			ports, _ := c["ports"].([]interface{})
			for j, port := range ports {
				port, _ := port.(map[string]interface{})
				for _, key := range []string{"containerPort", "hostPort"} {
					n, isNumber := port[key].(float64)
					if isNumber && !(n >= 1 && n <= 65535 && n == float64(int(n))) && !(key == "hostPort" && n == 0) {
						add(fmt.Sprintf("%s.ports[%d].%s", cp, j, key), "must be a port number from 1 to 65535, got %v", n)
					}
				}
			}
			env, _ := c["env"].([]interface{})
			for j, e := range env {
				e, _ := e.(map[string]interface{})
				if s, ok := e["name"].(string); ok && len(validation.IsEnvVarName(s)) > 0 {
					add(fmt.Sprintf("%s.env[%d].name", cp, j), "must be an environment variable name (letters, digits, '_', '-' and '.', not starting with a digit), got %q", s)
				}
			}
			res, _ := c["resources"].(map[string]interface{})
			parsed := map[string]map[string]resource.Quantity{}
			for _, kind := range []string{"requests", "limits"} {
				m, _ := res[kind].(map[string]interface{})
				parsed[kind] = map[string]resource.Quantity{}
				for _, name := range sortedKeys(m) {
					s, ok := quantityText(m[name])
					if !ok {
						continue
					}
					q, err := resource.ParseQuantity(s)
					if err != nil {
						add(fmt.Sprintf("%s.resources.%s.%s", cp, kind, name), "must be a quantity such as 500m, 2 or 1Gi, got %q", s)
						continue
					}
					if q.Sign() < 0 {
						add(fmt.Sprintf("%s.resources.%s.%s", cp, kind, name), "must be 0 or more, got %s", s)
						continue
					}
					parsed[kind][name] = q
				}
			}
			for _, name := range sortedQuantityNames(parsed["requests"]) {
				req := parsed["requests"][name]
				if lim, ok := parsed["limits"][name]; ok && req.Cmp(lim) > 0 {
					add(fmt.Sprintf("%s.resources.requests.%s", cp, name), "must not exceed the limit %s, got %s", lim.String(), req.String())
				}
			}
		}
	}
	volumes, _ := spec["volumes"].([]interface{})
	for i, v := range volumes {
		if v, ok := v.(map[string]interface{}); ok {
			checkName(fmt.Sprintf("%s.volumes[%d].name", path, i), v["name"])
		}
	}
	return out
}

// quantityText returns a quantity given as a string or a number as text.
func quantityText(v interface{}) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

func sortedQuantityNames(m map[string]resource.Quantity) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
