package defcheck

import (
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// UIParam is one entry of a VelaUX ui-schema file.
type UIParam struct {
	JSONKey       string    `json:"jsonKey"`
	SubParameters []UIParam `json:"subParameters,omitempty"`
}

// ParseUISchema reads a ui-schema file: a YAML list of parameters.
func ParseUISchema(data []byte) ([]UIParam, error) {
	var params []UIParam
	if err := yaml.Unmarshal(data, &params); err != nil {
		return nil, fmt.Errorf("not a ui-schema (a YAML list of {jsonKey, ...}): %w", err)
	}
	return params, nil
}

// UnknownUIKeys lists the jsonKeys of a ui-schema (dotted for
// subParameters) that the OpenAPI schema of the parameter does not have:
// VelaUX silently ignores them, so the form drifts from the definition.
func UnknownUIKeys(params []UIParam, openAPI []byte) ([]string, error) {
	var schema map[string]interface{}
	if err := json.Unmarshal(openAPI, &schema); err != nil {
		return nil, fmt.Errorf("failed to read the OpenAPI schema: %w", err)
	}
	var unknown []string
	walkUI(params, schema, "", &unknown)
	return unknown, nil
}

func walkUI(params []UIParam, schema map[string]interface{}, prefix string, unknown *[]string) {
	for _, p := range params {
		sub := property(schema, p.JSONKey)
		if sub == nil {
			*unknown = append(*unknown, prefix+p.JSONKey)
			continue
		}
		if len(p.SubParameters) > 0 {
			walkUI(p.SubParameters, sub, prefix+p.JSONKey+".", unknown)
		}
	}
}

// property returns the schema of a (possibly dotted) key, looking through
// arrays into their items.
func property(schema map[string]interface{}, key string) map[string]interface{} {
	cur := schema
	for _, part := range strings.Split(key, ".") {
		cur = items(cur)
		props, _ := cur["properties"].(map[string]interface{})
		next, ok := props[part].(map[string]interface{})
		if !ok {
			return nil
		}
		cur = next
	}
	return items(cur)
}

func items(schema map[string]interface{}) map[string]interface{} {
	if it, ok := schema["items"].(map[string]interface{}); ok {
		return it
	}
	return schema
}
