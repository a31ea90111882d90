// Package defcheck checks addon definitions beyond what `vela def vet` does:
// that the template compiles and validates with KubeVela's CUE packages, that
// every parameter field is documented, and that the parameter converts to the
// OpenAPI schema vela-core stores for VelaUX forms.
package defcheck

import (
	"context"
	"fmt"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"

	"github.com/oam-dev/kubevela/pkg/schema"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// Compile compiles a definition's template the way the application
// controller does and validates it, which catches conflicts and unresolved
// references that `vela def vet` lets through.
func Compile(def *render.Definition) error {
	v, err := render.CompileTemplate(def.Kind, def.Template)
	if err != nil {
		return fmt.Errorf("%s: template does not compile: %s", def.Name, render.Details(err))
	}
	if err := v.Err(); err != nil {
		return fmt.Errorf("%s: template has errors: %s", def.Name, render.Details(err))
	}
	if err := v.Validate(); err != nil {
		return fmt.Errorf("%s: template does not validate: %s", def.Name, render.Details(err))
	}
	if !v.LookupPath(cue.ParsePath("parameter")).Exists() {
		return fmt.Errorf("%s: template has no parameter", def.Name)
	}
	return nil
}

// OpenAPISchema converts the parameter to OpenAPI v3 JSON exactly as vela-core
// does before it writes the <type>-schema-<name> ConfigMap VelaUX builds its
// form from. An error here means VelaUX shows no form at all.
func OpenAPISchema(def *render.Definition) ([]byte, error) {
	s, err := schema.ParsePropertiesToSchema(context.Background(), def.Template)
	if err != nil {
		return nil, fmt.Errorf("%s: parameter does not convert to OpenAPI: %w", def.Name, err)
	}
	return s.MarshalJSON()
}

// UndocumentedFields lists the parameter fields, and the fields of the
// #Types the parameter uses, that have no `+usage=` comment, as dotted paths.
func UndocumentedFields(def *render.Definition) ([]string, error) {
	f, err := parser.ParseFile(def.Name+".cue", def.Template, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("%s: failed to parse template: %w", def.Name, err)
	}
	types := map[string]ast.Expr{}
	var param ast.Expr
	for _, decl := range f.Decls {
		field, ok := decl.(*ast.Field)
		if !ok {
			continue
		}
		name, _, _ := ast.LabelName(field.Label)
		switch {
		case name == "parameter":
			param = field.Value
		case strings.HasPrefix(name, "#"):
			types[name] = field.Value
		}
	}
	if param == nil {
		return nil, nil
	}
	var missing []string
	walkFields(param, "parameter", &missing)
	// The #Types the parameter refers to, directly or through each other.
	done := map[string]bool{}
	queue := referencedTypes(param, types)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if done[name] {
			continue
		}
		done[name] = true
		walkFields(types[name], name, &missing)
		queue = append(queue, referencedTypes(types[name], types)...)
	}
	return missing, nil
}

// referencedTypes lists the #Types of a template that an expression names.
func referencedTypes(e ast.Expr, types map[string]ast.Expr) []string {
	var refs []string
	ast.Walk(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if _, known := types[id.Name]; known {
				refs = append(refs, id.Name)
			}
		}
		return true
	}, nil)
	return refs
}

func walkFields(expr ast.Expr, path string, missing *[]string) {
	switch x := expr.(type) {
	case *ast.StructLit:
		for _, elt := range x.Elts {
			switch e := elt.(type) {
			case *ast.Field:
				name, _, _ := ast.LabelName(e.Label)
				if name == "" || strings.HasPrefix(name, "_") {
					continue // hidden helpers and pattern constraints
				}
				if _, isPattern := e.Label.(*ast.ListLit); isPattern {
					walkFields(e.Value, path+".[]", missing)
					continue
				}
				if !hasUsage(e) {
					*missing = append(*missing, path+"."+name)
				}
				walkFields(e.Value, path+"."+name, missing)
			case *ast.Comprehension:
				walkFields(e.Value, path, missing)
			case *ast.EmbedDecl:
				walkFields(e.Expr, path, missing)
			}
		}
	case *ast.BinaryExpr:
		walkFields(x.X, path, missing)
		walkFields(x.Y, path, missing)
	case *ast.UnaryExpr:
		walkFields(x.X, path, missing)
	case *ast.ListLit:
		for _, e := range x.Elts {
			walkFields(e, path+"[]", missing)
		}
	case *ast.Ellipsis:
		if x.Type != nil {
			walkFields(x.Type, path, missing)
		}
	case *ast.CallExpr:
		for _, a := range x.Args {
			walkFields(a, path, missing)
		}
	case *ast.ParenExpr:
		walkFields(x.X, path, missing)
	}
}

func hasUsage(f *ast.Field) bool {
	for _, cg := range ast.Comments(f) {
		if strings.Contains(cg.Text(), "+usage=") {
			return true
		}
	}
	return false
}

// StepHiddenFields lists hidden fields (`_x`) at the top of a workflow
// step's template or directly inside one of its `op.#Steps` blocks. KubeVela
// 1.9's workflow engine walks those fields by path, and CUE refuses a path to
// a hidden label: the step then fails at run time with "invalid path: hidden
// label _x not allowed", although it renders and validates offline.
func StepHiddenFields(def *render.Definition) ([]string, error) {
	f, err := parser.ParseFile(def.Name+".cue", def.Template, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("%s: failed to parse template: %w", def.Name, err)
	}
	var found []string
	var walk func(decls []ast.Decl, path string)
	walk = func(decls []ast.Decl, path string) {
		for _, decl := range decls {
			switch d := decl.(type) {
			case *ast.Field:
				name, _, _ := ast.LabelName(d.Label)
				if strings.HasPrefix(name, "_") {
					found = append(found, path+name)
					continue
				}
				if s, ok := stepsBlock(d.Value); ok {
					walk(s.Elts, path+name+".")
				}
			case *ast.Comprehension:
				if s, ok := d.Value.(*ast.StructLit); ok {
					walk(s.Elts, path)
				}
			}
		}
	}
	walk(f.Decls, "")
	return dedupe(found), nil
}

// stepsBlock returns the struct literal of `op.#Steps & {...}`.
func stepsBlock(e ast.Expr) (*ast.StructLit, bool) {
	b, ok := e.(*ast.BinaryExpr)
	if !ok {
		return nil, false
	}
	sel, ok := b.X.(*ast.SelectorExpr)
	if !ok {
		return nil, false
	}
	if n, _, _ := ast.LabelName(sel.Sel); n != "#Steps" {
		return nil, false
	}
	s, ok := b.Y.(*ast.StructLit)
	return s, ok
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
