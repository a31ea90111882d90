package defcheck

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// RuleCopiedHelper: logic shared between definitions lives once, in a helper
// of cue, and reaches a definition only through cueinline's markers.
var RuleCopiedHelper = Rule{"copied-helper",
	"this line is the %s helper's (cue/%s): put the helper between `// ml-platform:inline %s begin` and `end` markers (go run ./cmd/cueinline) instead of writing it out"}

// MinSignatureLength is how long a helper line must be (without its
// indentation, runs of blanks counted as one) to count as the helper's own:
// shorter lines (`}`, `_ready: *0 | int`, `cluster: parameter.cluster`) are
// common CUE and HCL.
const MinSignatureLength = 40

// normalize trims a line and collapses its runs of blanks (alignment).
func normalize(l string) string {
	return strings.Join(strings.Fields(l), " ")
}

var inlineMarkerRE = regexp.MustCompile(`^[ \t]*// ml-platform:inline ([a-z0-9-]+|terraform/[a-z0-9-]+\.tf) (begin|end)[ \t]*$`)

// HelperSignatures are the lines of each helper's text that only the helper
// writes: not a comment, not a marker, at least MinSignatureLength
// characters, and in no other helper. helpers maps a helper's name (as in
// its markers) to its canonical text; the regions of other helpers that a
// helper carries are theirs.
func HelperSignatures(helpers map[string]string) map[string][]string {
	owners := map[string]map[string]bool{}
	for name, text := range helpers {
		for _, l := range outsideRegions(text) {
			l = normalize(l)
			if len(l) < MinSignatureLength || strings.HasPrefix(l, "//") || strings.HasPrefix(l, "#") {
				continue
			}
			if owners[l] == nil {
				owners[l] = map[string]bool{}
			}
			owners[l][name] = true
		}
	}
	sigs := map[string][]string{}
	for l, names := range owners {
		if len(names) == 1 {
			for n := range names {
				sigs[n] = append(sigs[n], l)
			}
		}
	}
	for n := range sigs {
		sort.Strings(sigs[n])
	}
	return sigs
}

// CopiedHelperProblems lists the lines of a definition file that, outside
// every inlined region, repeat a signature line of a helper (see
// HelperSignatures): "<file>:<line>: copied-helper: <why>".
func CopiedHelperProblems(file string, src []byte, helpers map[string]string) []string {
	owner := map[string]string{}
	for name, lines := range HelperSignatures(helpers) {
		for _, l := range lines {
			owner[l] = name
		}
	}
	var problems []string
	for _, l := range outsideRegionsNumbered(string(src)) {
		if name, ok := owner[normalize(l.text)]; ok {
			helperFile := name + ".cue"
			if strings.HasPrefix(name, "terraform/") {
				helperFile = name
			}
			why := fmt.Sprintf(RuleCopiedHelper.Why, name, helperFile, name)
			problems = append(problems, fmt.Sprintf("%s:%d: %s: %s", file, l.n, RuleCopiedHelper.Name, why))
		}
	}
	return problems
}

type numberedLine struct {
	n    int
	text string
}

func outsideRegions(text string) []string {
	var out []string
	for _, l := range outsideRegionsNumbered(text) {
		out = append(out, l.text)
	}
	return out
}

// OwnLines returns the lines of a helper's or a definition's text that are
// its own: neither an inline marker nor inside an inlined region.
func OwnLines(text string) []string {
	var out []string
	for _, l := range outsideRegionsNumbered(text) {
		out = append(out, l.text)
	}
	return out
}

// outsideRegionsNumbered lists the lines of text (1-based) that are neither
// an inline marker nor inside an inlined region.
func outsideRegionsNumbered(text string) []numberedLine {
	var out []numberedLine
	region := "" // the helper whose region the line is in
	for i, line := range strings.Split(text, "\n") {
		if m := inlineMarkerRE.FindStringSubmatch(line); m != nil {
			switch {
			case region == "" && m[2] == "begin":
				region = m[1]
			case region == m[1] && m[2] == "end":
				region = ""
			}
			continue
		}
		if region == "" {
			out = append(out, numberedLine{i + 1, line})
		}
	}
	return out
}
