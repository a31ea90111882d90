// Package docgen writes the reference of definitions and their parameters
// (docs/reference.md) from the CUE, so the docs cannot drift from the
// definitions, and lists every parameter path for the docs' path check.
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

// File is where the generated reference lives, relative to the addon root.
const File = "docs/reference.md"

// header opens the generated file.
const header = "# Definitions reference\n\n" +
	"<!-- Generated from definitions/*.cue and parameter.cue by `go run ./cmd/gendocs`: do not edit; a test fails when it is stale. -->\n\n" +
	"Every definition of the addon and every parameter, with its type, default and description.\n" +
	"The user's guide is the [README](../README.md).\n\n"

var kindTitle = map[string]string{
	render.KindComponent:    "Components",
	render.KindTrait:        "Traits",
	render.KindWorkflowStep: "Workflow steps",
	render.KindPolicy:       "Policies",
}

// Reference renders the whole of docs/reference.md: the addon's enable
// parameters (parameter.cue's text), then a summary table of every
// definition, then one parameter table per definition.
func Reference(addonParameter string, defs []*render.Definition) (string, error) {
	sort.Slice(defs, func(i, j int) bool {
		if defs[i].Kind != defs[j].Kind {
			return order(defs[i].Kind) < order(defs[j].Kind)
		}
		return defs[i].Name < defs[j].Name
	})
	var b bytes.Buffer
	b.WriteString(header)
	addonRows, err := definitionRows(addonDefinition(addonParameter))
	if err != nil {
		return "", err
	}
	b.WriteString("## Addon parameters\n\n`vela addon enable ml-platform key=value ...`\n\n")
	writeTable(&b, addonRows)
	b.WriteString("\n## Definitions\n\n")
	b.WriteString("| definition | kind | description |\n|---|---|---|\n")
	for _, d := range defs {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s |\n", d.Name, anchor(d.Name), d.Kind, cell(d.Description))
	}
	kind := ""
	for _, d := range defs {
		if d.Kind != kind {
			kind = d.Kind
			fmt.Fprintf(&b, "\n### %s\n", kindTitle[kind])
		}
		rows, err := definitionRows(d)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\n#### %s\n\n%s\n\n", d.Name, d.Description)
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

// ParameterPaths lists every parameter path of the addon's enable parameters
// and of every definition, as the reference's tables name them
// (`traffic.router`, `predictors[].weight`), each with its type there
// (`string`, `object`, `[]object`, `any`, an enum...).
func ParameterPaths(addonParameter string, defs []*render.Definition) (map[string]string, error) {
	paths := map[string]string{}
	for _, d := range append([]*render.Definition{addonDefinition(addonParameter)}, defs...) {
		rows, err := definitionRows(d)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			paths[r.name] = r.typ
		}
	}
	return paths, nil
}

// addonDefinition wraps parameter.cue's text so it converts like a definition.
func addonDefinition(parameter string) *render.Definition {
	return &render.Definition{Name: "parameter.cue", Template: parameter}
}

// definitionRows is one row per parameter path of d, in the reference's order.
func definitionRows(d *render.Definition) ([]row, error) {
	schema, err := defcheck.OpenAPISchema(d)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	rows, err := parameterRows(schema)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	return rows, nil
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
