package render

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Messages in the user's words. CUE says what failed in its own terms (a
// regular expression, a bound, a conflict with a rule's "ok"); inWords says
// what is wrong and what is allowed, at the user's path, and never echoes a
// value given where a credential or a Secret's name belongs.
//
// The one idiom for a rule that spans fields (docs/design.md, "Rules"):
//
//	_rule: "ok" & [if <broken> {"<what is wrong and what to do>"}, "ok"][0]
//
// CUE reports a broken rule as `<path>._rule: conflicting values "ok" and
// "<message>"`; inWords reports "<message>" at <path>.

// Formats names every pattern a definition's parameter uses, in words, keyed
// by the pattern. A pattern that is missing here is a test failure
// (TestEveryParameterPatternHasWords), so no message shows a regular
// expression.
var Formats = map[string]string{
	`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`:                        "a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit",
	`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`:                       "a Kubernetes object name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
	`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`:                   "a DNS label of at most 63 characters: lower-case letters, digits and '-', starting and ending with a letter or digit",
	`^[a-z]([-a-z0-9]*[a-z0-9])?$`:                           "lower-case letters, digits and '-', starting with a letter and ending with a letter or digit",
	`^([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}$`:               "an IPv4 CIDR block such as 10.0.0.0/16",
	`^[a-z]{2,}-[a-z0-9-]+$`:                                 "a region ID such as cn-hangzhou or us-west-1",
	`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`:                      "3 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit",
	`^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$`:                     "3 to 63 lower-case letters, digits, '-' and '_', starting and ending with a letter or digit",
	`^[^_]*$`:                                                "a name without '_'",
	`^[0-9]+(s|m|h)$`:                                        "a duration in whole seconds, minutes or hours, such as 30s, 10m or 1h",
	`^[0-9]+(ms|s|m|h)$`:                                     "a duration such as 500ms, 30s, 10m or 1h",
	`^vsw-[a-z0-9]+$`:                                        "a vSwitch ID such as vsw-bp1abc",
	`^vpc-[a-z0-9]+$`:                                        "a VPC ID such as vpc-bp1abc",
	`^np[a-z0-9]+$`:                                          "a node pool ID such as np1a2b3c",
	`^v?[0-9]+\.[0-9]+(\.[0-9]+(-aliyun(edge)?\.[0-9]+)?)?$`: "a Kubernetes version such as 1.30, 1.30.1 or 1.30.1-aliyun.1",
	`^ecs\.[a-z0-9-]+\.[a-z0-9]+$`:                           "an ECS instance type such as ecs.g7.xlarge",
	`^(ecs\.[a-z0-9-]+\.[a-z0-9]+|[0-9.]+-[0-9.]+Gi)$`:       "an ECS instance type such as ecs.gn6i-c4g1.xlarge, or CPU-memory such as 2-4Gi",
	`^[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$`:             "letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
	`^[^/]+$`:                      "a name without '/'",
	`^[^,=]*$`:                     "a value without ',' or '='",
	`^[A-Za-z0-9_.-]{1,128}$`:      "1 to 128 letters, digits, '_', '.' and '-'",
	`^[A-Za-z0-9][-A-Za-z0-9_.]*$`: "letters, digits, '-', '_' and '.', starting with a letter or digit",
	`^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$`:     "letters, digits, '_', '.' and '-', starting and ending with a letter or digit",
	`^[A-Za-z0-9\p{Han}][-A-Za-z0-9_\p{Han}]{0,62}$`: "1 to 63 letters, digits, Chinese characters, '-' and '_', not starting with '-' or '_'",
	`^[1-9][0-9]*(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$`:  "a storage size such as 10Gi or 500Mi",
	`^[0-9]+(\.[0-9]+)?$`:                            "a decimal number such as 0.5 or 12",
	`^/[^*?]*[^/*?]$`:                                "an absolute folder path such as /var/log/app, without wildcards or a trailing '/'",
	`^/[^ ]*$`:                                       "an absolute URL path such as /metrics",
	`^(https?|oci)://[^ ]+$`:                         "a URL starting with https://, http:// or oci://",
	`^https?://[^ /?#]+(/[^ ?#]*)?$`:                 "a URL starting with http:// or https://, such as http://prometheus.monitoring:9090",
	imageRepoPattern:                                 "an image repository in lower case without a tag, such as registry.example.com/team/model: the step adds the modelName as the tag",
	imageRefPattern:                                  "an image reference such as registry.example.com/team/model:v1 (a lower-case repository, an optional tag and digest)",
}

const (
	imageRepoPattern = `^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`
	imageRefPattern  = `^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`
)

var (
	ruleRE     = regexp.MustCompile(`^conflicting values ("(?:[^"\\]|\\.)*") and ("(?:[^"\\]|\\.)*")$`)
	patternRE  = regexp.MustCompile(`^invalid value (.+) \(out of bound =~("(?:[^"\\]|\\.)*")\)$`)
	boundRE    = regexp.MustCompile(`^invalid value (.+) \(out of bound (>=|<=|>|<)(.+)\)$`)
	runesRE    = regexp.MustCompile(`^invalid value (.+) \(does not satisfy strings\.(MinRunes|MaxRunes)\(([0-9]+)\)\)$`)
	mismatchRE = regexp.MustCompile(`(?s)^conflicting values (.+) and (.+) \(mismatched types (\w+) and (\w+)\)$`)
	// secretRE is the name of a property that is a credential, the name of
	// a Secret, or a reference (…Ref) to an object that holds credentials (a
	// Secret, a terraform Provider): a user may paste the credentials there.
	secretRE = regexp.MustCompile(`(?i:secret|password|passwd|token|credential|accesskey|privatekey|keypair|dockerconfig|kubeconfig)|Ref$`)
)

// userPath drops the segments that are no property of the user's: a rule's
// hidden field and whatever is below it.
func userPath(segs []string) []string {
	for i, s := range segs {
		if strings.HasPrefix(s, "_") || strings.HasPrefix(s, "#") {
			return segs[:i]
		}
	}
	return segs
}

// mayHoldSecret says whether a property's value may be a credential, or the
// name of a Secret that a user might fill with one by mistake: its value is
// never printed. That is a property that is, or lies under, one whose name
// says so (secretRE: a credential, a Secret, a reference to what holds
// credentials), or one whose schema declares such a property (holds, which
// may be nil: s3 and oss of a dataset hold a secretRef, and a string given
// there may be a URL with the access keys in it).
func mayHoldSecret(segs []string, holds func(segs []string) bool) bool {
	for i, s := range segs {
		if secretRE.MatchString(s) || holds != nil && holds(segs[:i+1]) {
			return true
		}
	}
	return false
}

// given is the user's value of the property a message is about.
type given struct {
	// secret: the value may hold a credential (mayHoldSecret) and is never
	// printed; its kind is said instead.
	secret bool
	// value is the user's value, if known (ok) and the message is about
	// that property itself, not a helper field below it.
	value interface{}
	ok    bool
}

// cueKind names the kind of a value decoded from JSON as CUE does: string,
// int, float, bool, struct, list, null.
func cueKind(v interface{}) string {
	switch x := v.(type) {
	case string:
		return "string"
	case float64:
		if x == float64(int64(x)) {
			return "int"
		}
		return "float"
	case bool:
		return "bool"
	case map[string]interface{}:
		return "struct"
	case []interface{}:
		return "list"
	case nil:
		return "null"
	}
	return ""
}

// kindWords names the kind of a value without its value: "a string", "an
// object".
func kindWords(v interface{}) string {
	switch cueKind(v) {
	case "string":
		return "a string"
	case "int", "float":
		return "a number"
	case "bool":
		return "a boolean"
	case "struct":
		return "an object"
	case "list":
		return "a list"
	}
	return "null"
}

// otherKind returns, of the two kinds of a type conflict, the one that is
// not the kind of the user's value (have): the kind wanted.
func otherKind(have, a, b string) (string, bool) {
	same := func(k string) bool {
		return k == have || k == "number" && (have == "int" || have == "float")
	}
	switch {
	case same(a) && !same(b):
		return b, true
	case same(b) && !same(a):
		return a, true
	}
	return "", false
}

// inWords rewrites CUE's message for the property whose value is g; ok is
// false when the message is one it does not know (it is then kept, as
// foldMessages leaves it).
func inWords(msg string, g given) (string, bool) {
	got := func(v string) string {
		if g.secret {
			return ""
		}
		return ", got " + v
	}
	if m := ruleRE.FindStringSubmatch(msg); m != nil {
		a, _ := strconv.Unquote(m[1])
		b, _ := strconv.Unquote(m[2])
		switch {
		case a == "ok":
			return b, true
		case b == "ok":
			return a, true
		}
	}
	if m := patternRE.FindStringSubmatch(msg); m != nil {
		re, err := strconv.Unquote(m[2])
		if words, known := Formats[re]; err == nil && known {
			return "must be " + words + got(m[1]), true
		}
		return "does not have the expected format" + got(m[1]), true
	}
	if m := boundRE.FindStringSubmatch(msg); m != nil {
		words := map[string]string{">=": "at least", "<=": "at most", ">": "greater than", "<": "less than"}[m[2]]
		return "must be " + words + " " + m[3] + got(m[1]), true
	}
	if m := runesRE.FindStringSubmatch(msg); m != nil {
		if m[2] == "MinRunes" && m[3] == "1" {
			return "must not be empty", true
		}
		words := map[string]string{"MinRunes": "at least", "MaxRunes": "at most"}[m[2]]
		return "must be " + words + " " + m[3] + " characters long" + got(m[1]), true
	}
	if m := mismatchRE.FindStringSubmatch(msg); m != nil {
		want, have, ok := splitMismatch(m[1]+" and "+m[2], m[3], m[4])
		if g.ok {
			// The user's value tells the sides apart where the text cannot
			// (an object given where a string belongs: a struct on each side)
			// or tells them apart wrongly (a default on one side).
			if w, found := otherKind(cueKind(g.value), m[3], m[4]); found && (!ok || w != want) {
				want, ok = w, true
				v, _ := json.Marshal(g.value)
				have = string(v)
			}
		}
		if !ok {
			return "", false
		}
		if g.secret {
			if !g.ok {
				return "must be " + typeWords(want), true
			}
			return "must be " + typeWords(want) + ", got " + kindWords(g.value), true
		}
		return "must be " + typeWords(want) + got(describe(have)), true
	}
	if strings.HasPrefix(msg, "incomplete value") {
		return "is required", true
	}
	return "", false
}

func isTypeName(s string) bool {
	switch s {
	case "int", "float", "number", "string", "bool", "bytes", "struct", "list", "null":
		return true
	}
	return false
}

func typeWords(kind string) string {
	switch kind {
	case "int":
		return "an integer"
	case "float", "number":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "struct":
		return "an object"
	case "list":
		return "a list"
	}
	return kind
}

// describe names a value as CUE printed it: the string "5", the number 5.
func describe(v string) string {
	var x interface{}
	if err := json.Unmarshal([]byte(v), &x); err != nil {
		return v
	}
	switch x.(type) {
	case string:
		return "the string " + v
	case float64:
		return "the number " + v
	case bool:
		return v
	case map[string]interface{}:
		return "an object"
	case []interface{}:
		return "a list"
	}
	return fmt.Sprint(v)
}

// renderedRuleRE is a broken rule as KubeVela's dry-run reports it, on a
// line of its own: `<path>._rule: conflicting values "ok" and "<message>"`.
var renderedRuleRE = regexp.MustCompile(`(?m)^(\s*)(?:[\w.-]*\.)?_\w+: conflicting values ("(?:[^"\\]|\\.)*") and ("(?:[^"\\]|\\.)*")$`)

// RulesInWords rewrites every broken rule in a rendering error into its
// message, so that no helper field shows.
func RulesInWords(details string) string {
	return renderedRuleRE.ReplaceAllStringFunc(details, func(line string) string {
		m := renderedRuleRE.FindStringSubmatch(line)
		a, _ := strconv.Unquote(m[2])
		b, _ := strconv.Unquote(m[3])
		switch {
		case a == "ok":
			return m[1] + b
		case b == "ok":
			return m[1] + a
		}
		return line
	})
}

// namedRE is a rule's message that starts with the property it is about,
// relative to where the rule sits: "predictors: ...", "s3.accessKeyId: ...".
var namedRE = regexp.MustCompile(`^([A-Za-z]\w*(?:\[\d+\])?(?:\.[A-Za-z]\w*(?:\[\d+\])?)*): (.+)$`)

// hoist moves the property a rule's message starts with into the path:
// (properties, "predictors: must ...") becomes (properties.predictors,
// "must ...").
func hoist(path, msg string) (string, string) {
	m := namedRE.FindStringSubmatch(msg)
	if m == nil {
		return path, msg
	}
	return path + "." + m[1], m[2]
}

// splitMismatch finds, in "A and B" of a type conflict, which side is the
// user's value and which the schema's (a type name or a struct); either may
// itself contain " and ". It returns the wanted kind and the user's value.
func splitMismatch(body, kindA, kindB string) (want, have string, ok bool) {
	schemaSide := func(v string) bool {
		return isTypeName(v) || strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}")
	}
	for i := 0; ; {
		j := strings.Index(body[i:], " and ")
		if j < 0 {
			return "", "", false
		}
		a, b := body[:i+j], body[i+j+len(" and "):]
		switch {
		case schemaSide(a) && !schemaSide(b):
			return kindA, b, true
		case schemaSide(b) && !schemaSide(a):
			return kindB, a, true
		}
		i += j + 1
	}
}
