// Package docgen writes the README's reference of definitions and their
// parameters from the CUE, so the docs cannot drift from the definitions.
package docgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/ml-platform/ml-platform/pkg/defcheck"
	"github.com/ml-platform/ml-platform/pkg/render"
)

// Markers delimit the generated part of the README.
const (
	BeginMarker = "<!-- BEGIN GENERATED REFERENCE (go run ./hack/gendocs) -->"
	EndMarker   = "<!-- END GENERATED REFERENCE -->"
)

var kindTitle = map[string]string{
	render.KindComponent:    "Components",
	render.KindTrait:        "Traits",
	render.KindWorkflowStep: "Workflow steps",
	render.KindPolicy:       "Policies",
}

// Reference renders the addon's enable parameters (parameter.cue's text),
// then a summary table of every definition, then one parameter table per
// definition.
func Reference(addonParameter string, defs []*render.Definition) (string, error) {
	sort.Slice(defs, func(i, j int) bool {
		if defs[i].Kind != defs[j].Kind {
			return order(defs[i].Kind) < order(defs[j].Kind)
		}
		return defs[i].Name < defs[j].Name
	})
	var b bytes.Buffer
	addonSchema, err := defcheck.OpenAPISchema(&render.Definition{Name: "parameter.cue", Template: addonParameter})
	if err != nil {
		return "", err
	}
	addonRows, err := parameterRows(addonSchema)
	if err != nil {
		return "", err
	}
	b.WriteString("### Addon parameters\n\n`vela addon enable ml-platform key=value ...`\n\n")
	writeTable(&b, addonRows)
	b.WriteString("\n### Definitions\n\n")
	b.WriteString("| definition | kind | description |\n|---|---|---|\n")
	for _, d := range defs {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s |\n", d.Name, anchor(d.Name), d.Kind, cell(d.Description))
	}
	kind := ""
	for _, d := range defs {
		if d.Kind != kind {
			kind = d.Kind
			fmt.Fprintf(&b, "\n#### %s\n", kindTitle[kind])
		}
		schema, err := defcheck.OpenAPISchema(d)
		if err != nil {
			return "", err
		}
		rows, err := parameterRows(schema)
		if err != nil {
			return "", fmt.Errorf("%s: %w", d.Name, err)
		}
		fmt.Fprintf(&b, "\n##### %s\n\n%s\n\n", d.Name, d.Description)
		if hidden := d.Object.GetLabels()["custom.definition.oam.dev/ui-hidden"]; hidden == "true" {
			b.WriteString("_Internal: used by other definitions, hidden in VelaUX._\n\n")
		}
		writeTable(&b, rows)
	}
	return b.String(), nil
}

func writeTable(b *bytes.Buffer, rows []row) {
	b.WriteString("| parameter | type | required | default | description |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s |\n", r.name, r.typ, yesNo(r.required), r.def, cell(r.desc))
	}
}

// Splice replaces the generated part of a README with ref.
func Splice(readme, ref string) (string, error) {
	begin := strings.Index(readme, BeginMarker)
	end := strings.Index(readme, EndMarker)
	if begin < 0 || end < begin {
		return "", fmt.Errorf("README has no %q ... %q section", BeginMarker, EndMarker)
	}
	return readme[:begin+len(BeginMarker)] + "\n" + ref + readme[end:], nil
}

type row struct {
	name, typ, def, desc string
	required             bool
}

func parameterRows(openAPI []byte) ([]row, error) {
	var schema map[string]interface{}
	if err := json.Unmarshal(openAPI, &schema); err != nil {
		return nil, err
	}
	var rows []row
	walk(schema, "", &rows)
	return rows, nil
}

func walk(schema map[string]interface{}, prefix string, rows *[]row) {
	props, _ := schema["properties"].(map[string]interface{})
	required := map[string]bool{}
	if req, ok := schema["required"].([]interface{}); ok {
		for _, r := range req {
			required[fmt.Sprint(r)] = true
		}
	}
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p, _ := props[n].(map[string]interface{})
		name := prefix + n
		r := row{name: name, typ: typeOf(p), required: required[n], desc: fmt.Sprint(orEmpty(p["description"]))}
		if d, ok := p["default"]; ok {
			out, _ := json.Marshal(d)
			r.def = "`" + string(out) + "`"
		}
		*rows = append(*rows, r)
		switch {
		case p["properties"] != nil:
			walk(p, name+".", rows)
		case p["items"] != nil:
			if it, ok := p["items"].(map[string]interface{}); ok && it["properties"] != nil {
				walk(it, name+"[].", rows)
			}
		}
	}
}

func typeOf(p map[string]interface{}) string {
	t := fmt.Sprint(orEmpty(p["type"]))
	if enum, ok := p["enum"].([]interface{}); ok {
		vals := make([]string, 0, len(enum))
		for _, e := range enum {
			vals = append(vals, fmt.Sprintf("`%v`", e))
		}
		return strings.Join(vals, ", ")
	}
	if t == "array" {
		if it, ok := p["items"].(map[string]interface{}); ok {
			return "[]" + typeOf(it)
		}
	}
	if t == "" {
		return "any"
	}
	return t
}

func orEmpty(v interface{}) interface{} {
	if v == nil {
		return ""
	}
	return v
}

func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(s), "|", "\\|"), "\n", " ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

func anchor(name string) string { return strings.ToLower(name) }

func order(kind string) int {
	switch kind {
	case render.KindComponent:
		return 0
	case render.KindTrait:
		return 1
	case render.KindWorkflowStep:
		return 2
	}
	return 3
}
