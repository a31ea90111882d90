package defcheck

import (
	"fmt"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
)

// The rules ContractProblems checks: how a definition tells a user what is
// wrong (docs/design.md, "Rules").
var (
	RuleOpenParameter = Rule{"open-parameter",
		"a template's parameter is a struct literal, which CUE leaves open and vela-core then accepts any misspelled property: write parameter: #Parameter and declare the fields in #Parameter"}
	RuleRuleIdiom = Rule{"rule-idiom",
		`a cross-field rule is written _name: "ok" & [if <broken> {"<message>"}, "ok"][0], so that the offline checks and vela-core report the message itself: no "msg" & false, no "ok" field filled elsewhere, no list of messages put into an output`}
)

// ContractProblems parses a definition file and lists, one per line, the
// places that break the rules above: "<file>:<line>: <rule>: <why>".
func ContractProblems(file string, src []byte) ([]string, error) {
	f, err := parser.ParseFile(file, src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("%s: failed to parse: %w", file, err)
	}
	var problems []string
	report := func(n ast.Node, r Rule) {
		problems = append(problems, fmt.Sprintf("%s:%d: %s: %s", file, n.Pos().Line(), r.Name, r.Why))
	}
	ast.Walk(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.Field:
			name, _, _ := ast.LabelName(x.Label)
			if name == "template" {
				if lit, ok := x.Value.(*ast.StructLit); ok {
					for _, e := range lit.Elts {
						if p, ok := e.(*ast.Field); ok {
							if pn, _, _ := ast.LabelName(p.Label); pn == "parameter" {
								if _, open := p.Value.(*ast.StructLit); open {
									report(p, RuleOpenParameter)
								}
							}
						}
					}
				}
			}
			if lit, ok := x.Value.(*ast.BasicLit); ok && lit.Kind == token.STRING && lit.Value == `"ok"` {
				report(x, RuleRuleIdiom) // an "ok" that a comprehension overrides elsewhere
			}
			if isMessageList(x.Value) {
				report(x, RuleRuleIdiom) // messages gathered to be written into an output field
			}
		case *ast.BinaryExpr:
			if x.Op == token.AND && (isBool(x.X) && isString(x.Y) || isBool(x.Y) && isString(x.X)) {
				report(x, RuleRuleIdiom)
			}
		}
		return true
	}, nil)
	return problems, nil
}

func isBool(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.BasicLit:
		return x.Kind == token.FALSE || x.Kind == token.TRUE
	case *ast.Ident:
		return x.Name == "false" || x.Name == "true"
	}
	return false
}

// isMessageList reports a list whose every element is `if <cond> {"<message>"}`:
// the messages of rules gathered to be put into an output (an object's name,
// say) instead of failing where the rule is.
func isMessageList(e ast.Expr) bool {
	l, ok := e.(*ast.ListLit)
	if !ok || len(l.Elts) == 0 {
		return false
	}
	for _, el := range l.Elts {
		c, ok := el.(*ast.Comprehension)
		if !ok || len(c.Clauses) != 1 {
			return false
		}
		if _, ok := c.Clauses[0].(*ast.IfClause); !ok {
			return false
		}
		v, ok := c.Value.(*ast.StructLit)
		if !ok || len(v.Elts) != 1 {
			return false
		}
		emb, ok := v.Elts[0].(*ast.EmbedDecl)
		if !ok || !isSentence(emb.Expr) {
			return false
		}
	}
	return true
}

// isSentence reports a string literal with words in it (a message, not a
// name such as "s3").
func isSentence(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.BasicLit:
		return x.Kind == token.STRING && strings.Contains(x.Value, " ")
	case *ast.Interpolation:
		for _, p := range x.Elts {
			if l, ok := p.(*ast.BasicLit); ok && strings.Contains(l.Value, " ") {
				return true
			}
		}
	}
	return false
}

func isString(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.BasicLit:
		return x.Kind == token.STRING
	case *ast.Interpolation:
		return true
	}
	return false
}
