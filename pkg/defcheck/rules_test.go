package defcheck

import (
	"strings"
	"testing"
)

// Each rule fires on the pattern it names and stays quiet on the idiom the
// definitions use instead.
func TestContractRules(t *testing.T) {
	cases := []struct {
		name, src string
		rule      *Rule // nil: no finding
	}{
		{"open parameter", "template: {\n\tparameter: {a: string}\n}", &RuleOpenParameter},
		{"closed parameter", "template: {\n\tparameter: #Parameter\n\t#Parameter: {a: string}\n}", nil},
		{"parameter outside a template", "parameter: {a: string}", nil},
		{"message and false", `x: {_r: "a is required" & false}`, &RuleRuleIdiom},
		{"interpolated message and false", "a: 1\nx: {_r: \"a is \\(a)\" & false}", &RuleRuleIdiom},
		{"ok overridden elsewhere", "x: {r: \"ok\"\n\tif true {r: \"broken\"}}", &RuleRuleIdiom},
		{"messages gathered for an output", "n: 0\nx: {_errs: [\n\tif n == 0 {\"n is required\"},\n\tif n > 9 {\"n is \\(n)\"},\n]}", &RuleRuleIdiom},
		{"the idiom", `x: {_r: "ok" & [if true {"broken"}, "ok"][0]}`, nil},
		{"a list the rule reads", "l: [1]\nx: {_long: [for e in l if e > 0 {\"e\"}]}", nil},
		{"a list of names", "s: 1\nx: {_sources: [if s != _|_ {\"s3\"}, if s == 1 {\"oss\"}]}", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ContractProblems("t.cue", []byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			if c.rule == nil {
				if len(got) > 0 {
					t.Errorf("want no finding, got %q", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], ": "+c.rule.Name+": ") {
				t.Errorf("want one %s finding, got %q", c.rule.Name, got)
			}
		})
	}
}
