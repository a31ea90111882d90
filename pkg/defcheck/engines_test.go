package defcheck

import (
	"strings"
	"testing"
)

// Each rule fires on the pattern it names and stays quiet on the idiom the
// definitions use instead.
func TestPortabilityRules(t *testing.T) {
	cases := []struct {
		name, src string
		rule      *Rule // nil: no finding
	}{
		{"list plus list", "x: [1] + [2]", &RuleListArithmetic},
		{"list plus reference", "a: [1]\nx: a + [2]", &RuleListArithmetic},
		{"list times n", "x: [0] * 3", &RuleListArithmetic},
		{"list.Concat", "import \"list\"\nx: list.Concat([[1], [2]])", nil},
		{"numbers add", "a: 1\nx: a + 2", nil},
		{"error label", "x: {error: \"boom\"}", &RuleErrorLabel},
		{"quoted error label", "x: {\"error\": \"boom\"}", nil},
		{"required field", "x: {name!: string}", &RuleRequiredField},
		{"optional field", "x: {name?: string}", nil},
		{"and then index", "l: [...]\nx: len(l) > 0 && l[0] == 1", &RuleAndIndex},
		{"and then selector on index", "l: [...]\nx: len(l) > 0 && l[0].a == \"b\"", &RuleAndIndex},
		{"and then bottom check", "m: {}\nx: m.a != _|_ && m[\"b\"] != _|_", nil},
		{"and then guarded list", "l: [...]\nx: len(l) > 0 && [if len(l) > 0 {l[0]}, 0][0] == 1", nil},
		{"and then comprehension", "l: [...]\nx: true && len([for i in l if l[i] != _|_ {i}]) == 0", nil},
		{"op.#List without value", "import \"vela/op\"\nx: op.#List & {resource: {apiVersion: \"v1\", kind: \"Pod\"}, filter: {}}", &RuleListValue},
		{"op.#List without filter", "import \"vela/op\"\nx: op.#List & {resource: {apiVersion: \"v1\", kind: \"Pod\"}, value: resource}", &RuleListValue},
		{"op.#List with value and filter", "import \"vela/op\"\nx: op.#List & {resource: {apiVersion: \"v1\", kind: \"Pod\"}, value: resource, filter: {}}", nil},
		{"disjunction without default", "x: {} | {...}", &RuleDisjunctionDefault},
		{"disjunction with default", "x: *{} | {...}", nil},
		{"default in a longer chain", "x: \"a\" | *\"b\" | \"c\"", nil},
		{"enumeration in parameter", "parameter: {env: \"dev\" | \"prod\"}", nil},
		{"enumeration in a type", "#Env: \"dev\" | \"prod\"\nparameter: env: #Env", nil},
		{"after parameter", "parameter: {env: \"dev\" | \"prod\"}\nx: 1 | 2", &RuleDisjunctionDefault},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := PortabilityProblems("t.cue", []byte(c.src))
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
