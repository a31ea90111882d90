package defcheck

import (
	"strings"
	"testing"
)

// The check fires on a helper's line written out in a definition, stays
// quiet inside the helper's region (nested ones included), and ignores
// short or shared lines and comments.
func TestCopiedHelperProblems(t *testing.T) {
	helpers := map[string]string{
		"outer": "// the outer helper's comment, long enough to count\nouter: [for x in list if x.ready >= x.desired {x}]\n" +
			"// ml-platform:inline inner begin\ninner: \"the inner helper's distinctive text line\"\n// ml-platform:inline inner end\n}\n",
		"inner":                 "inner: \"the inner helper's distinctive text line\"\n",
		"terraform/x-common.tf": "\"x-common.tf\": #\"\"\"\n\tavailable_resource_creation = \"VSwitch-of-the-test\"\n\t\"\"\"#\n",
	}
	sigs := HelperSignatures(helpers)
	if got := sigs["outer"]; len(got) != 1 || got[0] != "outer: [for x in list if x.ready >= x.desired {x}]" {
		t.Errorf("outer signatures: %q (the shared inner line, the comment and `}` are not the outer helper's)", got)
	}
	cases := []struct {
		name, src string
		want      []string // helper names, in order
	}{
		{"inlined", "a: {\n\t// ml-platform:inline outer begin\n\touter: [for x in list if x.ready >= x.desired {x}]\n\t// ml-platform:inline inner begin\n\tinner: \"the inner helper's distinctive text line\"\n\t// ml-platform:inline inner end\n\t// ml-platform:inline outer end\n}\n", nil},
		{"written out", "a: {\n\touter: [for x in list if x.ready >= x.desired {x}]\n}\n", []string{"outer"}},
		{"after a region", "// ml-platform:inline inner begin\n// ml-platform:inline inner end\n\t\tinner: \"the inner helper's distinctive text line\"\n", []string{"inner"}},
		{"HCL in a string", "hcl: #\"\"\"\n\t\tavailable_resource_creation = \"VSwitch-of-the-test\"\n\t\t\"\"\"#\n", []string{"terraform/x-common.tf"}},
		{"a comment", "// outer: [for x in list if x.ready >= x.desired {x}]\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := CopiedHelperProblems("d.cue", []byte(c.src), helpers)
			if len(got) != len(c.want) {
				t.Fatalf("want %d findings (%v), got %q", len(c.want), c.want, got)
			}
			for i, name := range c.want {
				if !strings.Contains(got[i], ": copied-helper: ") || !strings.Contains(got[i], "the "+name+" helper's") {
					t.Errorf("finding %d: %q, want one about %s", i, got[i], name)
				}
			}
		})
	}
}
