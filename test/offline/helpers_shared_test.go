package offline

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ml-platform/ml-platform/pkg/cueinline"
	"github.com/ml-platform/ml-platform/pkg/defcheck"
)

func sharedHelpers(t *testing.T) map[string]string {
	t.Helper()
	helpers, err := inline.Helpers(filepath.Join(repoRoot, "cue"))
	if err != nil {
		t.Fatal(err)
	}
	return helpers
}

// No definition writes out a line of a shared helper (cue) outside the
// helper's inlined region: the Deployment-available formula, the serving
// status and traffic weight, a TFJob's state, the pod hardening, the
// apply-and-wait of helm-apply and terraform-apply, a Configuration's state,
// the kind rule of a reference field, the dataset types and the Terraform
// files each live once.
func TestNoDefinitionCopiesAHelper(t *testing.T) {
	helpers := sharedHelpers(t)
	files, err := inline.Files(repoRoot, []string{"definitions", filepath.Join("test", "offline", "testdata", "definitions")})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("found only %d definitions", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(repoRoot, f)
		for _, p := range defcheck.CopiedHelperProblems(rel, src, helpers) {
			t.Error(p)
		}
	}
}

var markerLine = regexp.MustCompile(`(?m)^[ \t]*// ml-platform:inline (\S+) (begin|end)\n`)

// The check fires for every helper: with the markers of one of its regions
// taken out of a definition (the text written out, as a copy would be), the
// definition is reported for that helper.
func TestCopiedHelperCheckFiresForEveryHelper(t *testing.T) {
	helpers := sharedHelpers(t)
	sigs := defcheck.HelperSignatures(helpers)
	var names []string
	for name := range helpers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, must := range []string{"deployhealth", "servingstatus", "trafficweight", "tfjobstate", "hardening", "applyandwait", "tfstatus", "refkind", "datasettypes", "terraform/k8s-cluster-outputs.tf"} {
		if helpers[must] == "" {
			t.Errorf("no helper %s", must)
		}
	}
	files, err := filepath.Glob(filepath.Join(repoRoot, "definitions", "*.cue"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			if len(sigs[name]) == 0 && wrapsAnotherHelper(helpers[name]) {
				// A copy of a wrapper carries the wrapped helper's lines,
				// which the check sees (that helper's own subtest).
				t.Skipf("%s only wraps another helper's region in a few short lines", name)
			}
			if len(sigs[name]) == 0 {
				t.Fatalf("the helper has no line of at least %d characters that is its own: the check cannot see a copy of it", defcheck.MinSignatureLength)
			}
			begin := "// ml-platform:inline " + name + " begin\n"
			end := "// ml-platform:inline " + name + " end\n"
			inlined := false
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				src := string(data)
				if !strings.Contains(src, begin) {
					continue
				}
				inlined = true
				// Drop this helper's markers (every copy of them), keep the text.
				copied := markerLine.ReplaceAllStringFunc(src, func(m string) string {
					if strings.HasSuffix(m, begin) || strings.HasSuffix(m, end) {
						return ""
					}
					return m
				})
				rel, _ := filepath.Rel(repoRoot, f)
				for _, p := range defcheck.CopiedHelperProblems(rel, []byte(copied), helpers) {
					if strings.Contains(p, "the "+name+" helper's") {
						return // reported (a copy inside another helper's region is not a copy)
					}
				}
			}
			if inlined {
				t.Errorf("no definition whose %s markers are taken out is reported", name)
				return
			}
			t.Skipf("no definition inlines %s", name)
		})
	}
}

// wrapsAnotherHelper: the helper's text carries another helper's region and,
// outside it (defcheck.OwnLines), at most a dozen lines that are not comments.
func wrapsAnotherHelper(text string) bool {
	if !markerLine.MatchString(text) {
		return false
	}
	own := 0
	for _, l := range defcheck.OwnLines(text) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "//") {
			own++
		}
	}
	return own <= 12
}
