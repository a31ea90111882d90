package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/common"
	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"
)

// ignoredKeys are the keys an Application may carry that KubeVela's API does
// not have and whose loss changes nothing the Application does. The API
// server drops every key its schema does not declare (outside properties),
// with a warning; the renderer refuses all others, because a dropped typo
// (`componets`, `propertes`, `dependOn`) silently changes the Application.
var ignoredKeys = map[reflect.Type]map[string]string{
	// The spec names its traits (`- name: metrics` / `type: arms-metrics`);
	// KubeVela identifies a trait by its type.
	reflect.TypeOf(common.ApplicationTrait{}): {"name": "a trait has only a type and properties"},
}

// ReadApplication reads an Application from a YAML file; see ParseApplication.
func ReadApplication(path string) (*v1beta1.Application, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to read application: %w", err)
	}
	return ParseApplication(data)
}

// ParseApplication decodes an Application from YAML as KubeVela's API would
// store it. A key that KubeVela drops harmlessly (a trait's name) is left out
// with a warning naming its path (`spec.components[1].traits[0].name: ignored
// by KubeVela ...`); every other key the Application does not have, and every
// value of the wrong kind, is an error naming its path
// (`spec.components[0].propertes: unknown field`). Keys are case-sensitive,
// as they are to the API server.
func ParseApplication(data []byte) (*v1beta1.Application, []string, error) {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, nil, fmt.Errorf("not a valid Application: %w", err)
	}
	var doc interface{}
	if err := json.Unmarshal(js, &doc); err != nil {
		return nil, nil, fmt.Errorf("not a valid Application: %w", err)
	}
	if _, ok := doc.(map[string]interface{}); !ok {
		return nil, nil, fmt.Errorf("not an Application: the document is %s, not a YAML object", kindOf(doc))
	}
	var d decoder
	d.walk(doc, reflect.TypeOf(v1beta1.Application{}), "")
	if len(d.errors) == 1 {
		return nil, d.warnings, fmt.Errorf("not a valid Application: %s", d.errors[0])
	}
	if len(d.errors) > 1 {
		return nil, d.warnings, fmt.Errorf("not a valid Application:\n  - %s", strings.Join(d.errors, "\n  - "))
	}
	// What is left is what KubeVela keeps: decode it strictly as a backstop.
	pruned, err := json.Marshal(doc)
	if err != nil {
		return nil, d.warnings, fmt.Errorf("not a valid Application: %w", err)
	}
	app := &v1beta1.Application{}
	dec := json.NewDecoder(bytes.NewReader(pruned))
	dec.DisallowUnknownFields()
	if err := dec.Decode(app); err != nil {
		return nil, d.warnings, fmt.Errorf("not a valid Application: %w", err)
	}
	if app.Kind != "Application" {
		return nil, d.warnings, fmt.Errorf("not an Application: kind is %q", app.Kind)
	}
	return app, d.warnings, nil
}

// decoder walks a decoded YAML document along the Go type it must fit.
type decoder struct {
	warnings, errors []string
}

var jsonUnmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

func (d *decoder) walk(v interface{}, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil || t.Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		// null is every type's zero value; RawExtension (properties),
		// metav1.Time, Quantity and the like decode themselves.
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]interface{})
		if !ok {
			d.mismatch(path, "an object", v)
			return
		}
		fields := jsonFields(t)
		for _, k := range sortedKeys(m) {
			p := join(path, k)
			if ft, ok := fields[k]; ok {
				d.walk(m[k], ft, p)
				continue
			}
			if why, ok := ignoredKeys[t][k]; ok {
				d.warnings = append(d.warnings, fmt.Sprintf("%s: ignored by KubeVela (%s)", p, why))
				delete(m, k)
				continue
			}
			d.errors = append(d.errors, p+": unknown field"+suggest(k, fields))
		}
	case reflect.Map:
		m, ok := v.(map[string]interface{})
		if !ok {
			d.mismatch(path, "an object", v)
			return
		}
		for _, k := range sortedKeys(m) {
			d.walk(m[k], t.Elem(), join(path, k))
		}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			if _, ok := v.(string); !ok {
				d.mismatch(path, "a base64 string", v)
			}
			return
		}
		l, ok := v.([]interface{})
		if !ok {
			d.mismatch(path, "a list", v)
			return
		}
		for i, e := range l {
			d.walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			d.mismatch(path, "a string", v)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			d.mismatch(path, "true or false", v)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			d.mismatch(path, "an integer", v)
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(float64); !ok {
			d.mismatch(path, "a number", v)
		}
	}
}

func (d *decoder) mismatch(path, want string, got interface{}) {
	d.errors = append(d.errors, fmt.Sprintf("%s: must be %s, got %s", path, want, kindOf(got)))
}

// kindOf names the kind of a decoded YAML value, with the value when short.
func kindOf(v interface{}) string {
	switch x := v.(type) {
	case map[string]interface{}:
		return "an object"
	case []interface{}:
		return "a list"
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("%t", x)
	case float64:
		return fmt.Sprintf("the number %v", x)
	}
	return "null"
}

// jsonFields returns a struct's JSON keys and their types, with embedded and
// `json:",inline"` structs flattened, as encoding/json decodes them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// suggest returns ` (did you mean "x"?)` for the one known key closest to a
// misspelled one, or "".
func suggest(key string, fields map[string]reflect.Type) string {
	best, bestDist := "", 3
	for k := range fields {
		dist := editDistance(strings.ToLower(key), strings.ToLower(k))
		if 2*dist > len(key) {
			continue
		}
		if dist < bestDist || (dist == bestDist && k < best) {
			best, bestDist = k, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys(m map[string]interface{}) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
