package offline

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ml-platform/ml-platform/pkg/docgen"
)

// The hand-written docs name properties in backticks (`traffic.router`,
// `modelStore.claimName`, `registrySecret`); each must exist in a
// definition's parameter or the addon's (parameter.cue), so the docs cannot
// tell users to set a property that does not exist.
//
// Which backticked tokens count as property paths (pathTokens):
//   - inline code only, not fenced blocks; `key=value` is checked as `key`;
//   - the token is an identifier path: segments of letters and digits, each
//     starting with a lower-case letter, joined by dots, each optionally
//     followed by [] (`predictors[].weight`);
//   - and either it has more than one segment (a dotted path) and its last
//     segment is not a file extension (`app.yaml` is a file), or it is one
//     camelCase word (`modelVersion`; a lower-case word such as `dev` or
//     `suspend` is not judged);
//   - minus nonProperty, the few words of those shapes that name something
//     else (a KubeVela field, a Go function, a workflow phase).
//
// A token is found when it is some parameter path or a dotted tail of one
// ([] ignored: the docs say `modelImage` or `autoScale.maxReplicas` of a
// predictor, `predictors[].modelImage` in full), or lies below a parameter
// whose schema is open (type any, or an object with no listed properties).
//
// docs/design.md is left out: it is the implementers' page and names
// Kubernetes and KubeVela fields (`ttlSecondsAfterFinished`, `spec.template`,
// `context.appRevisionNum`, `stepsIterator.do`) as often as parameters.
var docsWithPropertyPaths = []string{"README.md", "docs/development.md"}

// nonProperty lists backticked words shaped like property paths that are not
// parameters. Keep it short: each entry says what it is.
var nonProperty = map[string]string{
	"system.vela":        "a metadata.yaml field",
	"podDisruptive":      "a TraitDefinition field",
	"workflowFailed":     "an Application phase",
	"skipUnlessEmbedded": "an e2e helper function",
}

var (
	identPath     = regexp.MustCompile(`^[a-z][A-Za-z0-9]*(\[\])?(\.[a-z][A-Za-z0-9]*(\[\])?)*$`)
	camelCase     = regexp.MustCompile(`^[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*$`)
	inlineCode    = regexp.MustCompile("`([^`\n]+)`")
	fileExtension = map[string]bool{"cue": true, "yaml": true, "yml": true, "json": true, "go": true, "md": true, "sh": true, "tf": true, "txt": true, "mod": true}
)

func TestDocsNameOnlyExistingProperties(t *testing.T) {
	param, defs := referenceInputs(t)
	paths, err := docgen.ParameterPaths(param, defs)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range docsWithPropertyPaths {
		text, err := os.ReadFile(filepath.Join(repoRoot, doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range unknownPropertyPaths(doc, string(text), paths) {
			t.Errorf("%s: no definition has a parameter %s", p.where, p.token)
		}
	}
}

// The check fires on a made-up text: a wrong path, a wrong camelCase word and
// a wrong key of key=value are found with their lines; real paths, open
// objects, files, fenced blocks and other words are not.
func TestDocsPropertyPathCheckFires(t *testing.T) {
	paths := map[string]string{
		"traffic":             "object",
		"traffic.router":      "`httproute`, `istio`, `none`",
		"predictors":          "[]object",
		"predictors[].weight": "integer",
		"modelName":           "string",
		"labels":              "object",
		"installOperator":     "boolean",
	}
	text := "Set `traffic.router` and `predictors[].weight` (or `predictors.weight`).\n" +
		"Not `routing.mode`, nor `traffic.mode`.\n" +
		"```\nrouting.ignored: in a fenced block\n```\n" +
		"`labels.anyKey` is open; `app.yaml`, `docs/design.md`, `dev`, `v1.11.0`, `$MODEL_DIR` are not paths.\n" +
		"`modelNam` is a typo; `podDisruptive` is allowed; `installOperator=false`, `installOperatr=true`.\n"
	var got []string
	for _, p := range unknownPropertyPaths("made-up.md", text, paths) {
		got = append(got, p.where+" "+p.token)
	}
	want := []string{"made-up.md:2 routing.mode", "made-up.md:2 traffic.mode", "made-up.md:7 modelNam", "made-up.md:7 installOperatr"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("found %q, want %q", got, want)
	}
}

type docToken struct{ where, token string }

// unknownPropertyPaths lists the property-path tokens of text (a file named
// name) that no parameter path in paths accounts for.
func unknownPropertyPaths(name, text string, paths map[string]string) []docToken {
	known, open := pathSuffixes(paths)
	var unknown []docToken
	for _, t := range pathTokens(name, text) {
		p := strings.ReplaceAll(t.token, "[]", "")
		if known[p] || underOpen(p, open) {
			continue
		}
		unknown = append(unknown, t)
	}
	return unknown
}

// pathSuffixes lists every parameter path and each of its dotted tails ([]
// dropped: `predictors[].autoScale.maxReplicas` gives
// `autoScale.maxReplicas` and `maxReplicas`), and which of those are open:
// of type any or object with no listed properties.
func pathSuffixes(paths map[string]string) (known, open map[string]bool) {
	known, open = map[string]bool{}, map[string]bool{}
	for p, typ := range paths {
		p = strings.ReplaceAll(p, "[]", "")
		segments := strings.Split(p, ".")
		isOpen := typ == "any" || typ == "object" || typ == "[]object" || typ == "[]any"
		for q := range paths {
			if strings.HasPrefix(strings.ReplaceAll(q, "[]", ""), p+".") {
				isOpen = false
				break
			}
		}
		for i := range segments {
			tail := strings.Join(segments[i:], ".")
			known[tail] = true
			if isOpen {
				open[tail] = true
			}
		}
	}
	return known, open
}

func underOpen(p string, open map[string]bool) bool {
	for i := strings.LastIndex(p, "."); i > 0; i = strings.LastIndex(p[:i], ".") {
		if open[p[:i]] {
			return true
		}
	}
	return false
}

// pathTokens lists the backticked tokens of text that count as property
// paths (see the rule above), each with its file:line.
func pathTokens(name, text string) []docToken {
	var tokens []docToken
	fenced := false
	for i, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		for _, m := range inlineCode.FindAllStringSubmatch(line, -1) {
			token := m[1]
			if k, _, ok := strings.Cut(token, "="); ok {
				token = k
			}
			if isPropertyPath(token) {
				tokens = append(tokens, docToken{where: fmt.Sprintf("%s:%d", name, i+1), token: token})
			}
		}
	}
	return tokens
}

func isPropertyPath(token string) bool {
	if !identPath.MatchString(token) || nonProperty[token] != "" {
		return false
	}
	segments := strings.Split(strings.ReplaceAll(token, "[]", ""), ".")
	if len(segments) > 1 {
		return !fileExtension[segments[len(segments)-1]]
	}
	return camelCase.MatchString(token) || strings.HasSuffix(token, "[]")
}
