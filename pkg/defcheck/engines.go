package defcheck

import (
	"fmt"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
)

// Rule is one pattern that works on one supported KubeVela release and
// breaks on another (KubeVela 1.9: CUE v0.5 and the workflow engine of
// kubevela/workflow v0.6; 1.10: CUE v0.9 and the CueX engine; 1.11: CUE
// v0.14). docs/design.md ("Compatibility") says why each one matters.
type Rule struct {
	// Name is how a finding names the rule.
	Name string
	// Why is the fix, in one sentence.
	Why string
}

// The rules PortabilityProblems checks.
var (
	RuleListArithmetic = Rule{"list-arithmetic",
		"list + list and list * n are errors on KubeVela 1.11 (CUE v0.14): use list.Concat or list.Repeat"}
	RuleErrorLabel = Rule{"error-label",
		`an unquoted field label error clashes with CUE v0.14's error builtin on KubeVela 1.11: write "error"`}
	RuleRequiredField = Rule{"required-field",
		"required fields (name!:) do not parse on KubeVela 1.9 (CUE v0.5): use a constraint and a check with a message"}
	RuleAndIndex = Rule{"and-index",
		"&& does not short-circuit on KubeVela 1.10+: an index on its right side is evaluated even when the left side is false; guard it with if or a [if ... {x}, fallback][0] list"}
	RuleListValue = Rule{"list-value",
		"op.#List lists the kind given as value on KubeVela 1.10+ (and crashes without it or without a filter): set value: resource and a filter"}
	RuleDisjunctionDefault = Rule{"disjunction-default",
		"a disjunction outside parameter needs a default (*x | y): CUE v0.9+ leaves an ambiguous one incomplete and the step or trait fails to marshal"}
)

// PortabilityProblems parses a definition file and lists, one per line, the
// places that use a pattern one of the supported KubeVela releases rejects
// or evaluates differently: "<file>:<line>: <rule>: <why>".
func PortabilityProblems(file string, src []byte) ([]string, error) {
	f, err := parser.ParseFile(file, src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("%s: failed to parse: %w", file, err)
	}
	var problems []string
	report := func(n ast.Node, r Rule) {
		problems = append(problems, fmt.Sprintf("%s:%d: %s: %s", file, n.Pos().Line(), r.Name, r.Why))
	}
	// inParameter counts the parameter fields (and #Type definitions, the
	// parameter's own types) the walk is in: there a disjunction is an
	// enumeration that the user's input makes concrete.
	inSchema := 0
	ast.Walk(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.Field:
			name, _, _ := ast.LabelName(x.Label)
			if id, ok := x.Label.(*ast.Ident); ok && id.Name == "error" {
				report(x, RuleErrorLabel)
			}
			if x.Constraint == token.NOT {
				report(x, RuleRequiredField)
			}
			if name == "parameter" || (len(name) > 0 && name[0] == '#') {
				inSchema++
			}
		case *ast.BinaryExpr:
			switch x.Op {
			case token.ADD, token.MUL:
				if isList(x.X) || isList(x.Y) {
					report(x, RuleListArithmetic)
				}
			case token.AND:
				if lit := listCall(x); lit != nil && !(hasField(lit, "value") && hasField(lit, "filter")) {
					report(x, RuleListValue)
				}
			case token.LAND:
				if idx := unguardedIndex(x.Y); idx != nil {
					report(idx, RuleAndIndex)
				}
			case token.OR:
				if inSchema == 0 && !hasDefault(x) {
					report(x, RuleDisjunctionDefault)
				}
				// the disjuncts of one chain are checked once, here
				return false
			}
		}
		return true
	}, func(n ast.Node) {
		if x, ok := n.(*ast.Field); ok {
			name, _, _ := ast.LabelName(x.Label)
			if name == "parameter" || (len(name) > 0 && name[0] == '#') {
				inSchema--
			}
		}
	})
	return problems, nil
}

func isList(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.ListLit:
		return true
	case *ast.ParenExpr:
		return isList(x.X)
	}
	return false
}

// hasDefault reports whether a chain of | has a *default disjunct.
func hasDefault(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.BinaryExpr:
		if x.Op == token.OR {
			return hasDefault(x.X) || hasDefault(x.Y)
		}
	case *ast.UnaryExpr:
		return x.Op == token.MUL
	case *ast.ParenExpr:
		return hasDefault(x.X)
	}
	return false
}

// unguardedIndex returns an index expression that e evaluates whatever its
// value: not inside a comprehension or a list or struct literal (which guard
// their own elements), not the operand of a comparison with _|_, and not the
// [if ... {x}, fallback][0] idiom (a literal list always has the fallback).
func unguardedIndex(e ast.Expr) ast.Node {
	switch x := e.(type) {
	case *ast.IndexExpr:
		if isList(x.X) {
			return nil
		}
		return x
	case *ast.ParenExpr:
		return unguardedIndex(x.X)
	case *ast.UnaryExpr:
		return unguardedIndex(x.X)
	case *ast.SelectorExpr:
		return unguardedIndex(x.X)
	case *ast.CallExpr:
		for _, a := range x.Args {
			if n := unguardedIndex(a); n != nil {
				return n
			}
		}
	case *ast.BinaryExpr:
		if isBottom(x.X) || isBottom(x.Y) {
			return nil
		}
		if n := unguardedIndex(x.X); n != nil {
			return n
		}
		return unguardedIndex(x.Y)
	}
	return nil
}

func isBottom(e ast.Expr) bool {
	_, ok := e.(*ast.BottomLit)
	return ok
}

// listCall returns the struct of an `op.#List & {...}` call.
func listCall(x *ast.BinaryExpr) *ast.StructLit {
	sel, ok := x.X.(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	pkg, ok := sel.X.(*ast.Ident)
	if !ok || pkg.Name != "op" {
		return nil
	}
	if name, _, _ := ast.LabelName(sel.Sel); name != "#List" {
		return nil
	}
	lit, _ := x.Y.(*ast.StructLit)
	return lit
}

func hasField(lit *ast.StructLit, name string) bool {
	for _, d := range lit.Elts {
		if f, ok := d.(*ast.Field); ok {
			if n, _, _ := ast.LabelName(f.Label); n == name {
				return true
			}
		}
	}
	return false
}
