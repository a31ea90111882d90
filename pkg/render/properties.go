package render

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"
)

// Problem is one thing wrong with an Application, named precisely enough to
// fix: which component, trait or step, which property, and the rule broken.
type Problem struct {
	// Subject names the part of the Application, e.g. `component "my-tfjob" (tfjob)`.
	Subject string
	// Path is the property path below the subject, e.g. `properties.tfReplicaSpecs.Worker.replicas`.
	Path string
	// Message is the rule broken, e.g. `invalid value 0 (out of bound >=1)`.
	Message string
}

func (p Problem) String() string {
	if p.Path == "" {
		return fmt.Sprintf("%s: %s", p.Subject, p.Message)
	}
	return fmt.Sprintf("%s: %s: %s", p.Subject, p.Path, p.Message)
}

// ValidationError lists every problem found in an Application.
type ValidationError struct {
	App      string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, 0, len(e.Problems)+1)
	lines = append(lines, fmt.Sprintf("application %q is invalid:", e.App))
	for _, p := range e.Problems {
		lines = append(lines, "  - "+p.String())
	}
	return strings.Join(lines, "\n")
}

// Details returns the full text of a CUE error (every error, with its path),
// where err.Error() would show only the first and "(and N more errors)".
func Details(err error) string {
	if err == nil {
		return ""
	}
	return strings.TrimSpace(cueerrors.Details(err, nil))
}

// checkField is where the properties under check are unified with the
// definition's parameter, closed recursively through a CUE definition so that
// a property the definition does not declare is "not allowed".
const checkField = "mlpPropertiesUnderCheck"

// checkProperties checks properties against a definition's `parameter`.
// Unknown properties and values that break a constraint are always reported;
// with requireConcrete, missing required properties are reported too (used for
// workflow steps, which dry-run does not evaluate).
func checkProperties(def *Definition, subject string, props json.RawMessage, requireConcrete bool) []Problem {
	if len(props) == 0 || string(props) == "null" {
		props = json.RawMessage("{}")
	}
	v, err := CompileTemplate(def.Kind, def.Template,
		"#MlpClosedParameter: parameter",
		checkField+": #MlpClosedParameter & "+string(props))
	if err != nil {
		return []Problem{{Subject: subject, Message: "cannot evaluate the definition's parameter: " + Details(err)}}
	}
	checked := v.LookupPath(cue.ParsePath(checkField))
	holds := schemaHoldsSecret(v.LookupPath(cue.ParsePath("#MlpClosedParameter")))
	var userProps interface{}
	_ = json.Unmarshal(props, &userProps)
	var problems []Problem
	seen := map[string]bool{}
	add := func(p Problem) {
		if !seen[p.String()] {
			seen[p.String()] = true
			problems = append(problems, p)
		}
	}
	if err := checked.Err(); err != nil {
		for _, p := range problemsOf(subject, err, userProps, holds) {
			add(p)
		}
	}
	if err := checked.Validate(); err != nil {
		for _, p := range problemsOf(subject, err, userProps, holds) {
			add(p)
		}
	}
	// CUE v0.14 reports only the first error of a struct (v0.5 listed them
	// all), so every property given is also checked on its own.
	var fieldErrs []error
	fieldErrors(checked, userProps, nil, &fieldErrs)
	for _, err := range fieldErrs {
		for _, p := range problemsOf(subject, err, userProps, holds) {
			add(p)
		}
	}
	if requireConcrete && len(problems) == 0 {
		if err := checked.Validate(cue.Concrete(true)); err != nil {
			for _, p := range problemsOf(subject, err, userProps, holds) {
				if strings.Contains(p.Message, "incomplete value") {
					p.Message = "required property is missing (" + p.Message + ")"
				}
				add(p)
			}
		}
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Path < problems[j].Path })
	return problems
}

// fieldErrors validates the value at every leaf of the user's properties.
func fieldErrors(v cue.Value, props interface{}, sels []cue.Selector, out *[]error) {
	switch x := props.(type) {
	case map[string]interface{}:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fieldErrors(v, x[k], append(sels[:len(sels):len(sels)], cue.Str(k)), out)
		}
	case []interface{}:
		for i, e := range x {
			fieldErrors(v, e, append(sels[:len(sels):len(sels)], cue.Index(i)), out)
		}
	default:
		if err := v.LookupPath(cue.MakePath(sels...)).Validate(); err != nil {
			*out = append(*out, err)
		}
	}
}

// problemsOf splits a CUE error into one Problem per field, with the path
// rewritten from the check field to `properties...`, list indexes as [i], and
// CUE's disjunction noise folded into one readable rule per field.
func problemsOf(subject string, err error, props interface{}, holds func([]string) bool) []Problem {
	type entry struct {
		segs []string
		msgs []string
		// below: some message is about a helper field below the property,
		// not about the user's value of the property itself.
		below bool
	}
	var order []string
	byPath := map[string]*entry{}
	for _, e := range cueerrors.Errors(err) {
		segs := e.Path()
		for i, p := range segs {
			if p == checkField || p == "#MlpClosedParameter" || p == "parameter" {
				segs = segs[i+1:]
				break
			}
		}
		below := len(userPath(segs)) < len(segs)
		segs = userPath(segs)
		key := propertyPath(segs)
		if byPath[key] == nil {
			byPath[key] = &entry{segs: segs}
			order = append(order, key)
		}
		byPath[key].below = byPath[key].below || below
		format, args := e.Msg()
		byPath[key].msgs = append(byPath[key].msgs, fmt.Sprintf(format, args...))
	}
	var out []Problem
	for _, key := range order {
		en := byPath[key]
		user, hasUser := valueAt(props, en.segs)
		g := given{secret: mayHoldSecret(en.segs, holds), value: user, ok: hasUser && !en.below}
		var worded, rest []string
		for _, m := range en.msgs {
			if w, ok := inWords(m, g); ok {
				if !contains(worded, w) {
					worded = append(worded, w)
				}
			} else {
				rest = append(rest, m)
			}
		}
		msgs := worded
		if len(worded) == 0 {
			msgs = foldMessages(rest, user, hasUser, g.secret)
		} else {
			// A worded rule explains the field; CUE's conflicts with the
			// other members of a disjunction would only repeat it.
			for _, m := range rest {
				if !conflictRE.MatchString(m) && !strings.Contains(m, "errors in empty disjunction") && !contains(msgs, m) {
					msgs = append(msgs, unprinted(m, user, hasUser, g.secret))
				}
			}
		}
		for _, m := range msgs {
			path, m := hoist(key, m)
			out = append(out, Problem{Subject: subject, Path: path, Message: m})
		}
	}
	return out
}

// propertyPath renders CUE path segments as properties.a.b[1].c.
func propertyPath(segs []string) string {
	var b strings.Builder
	b.WriteString("properties")
	for _, s := range segs {
		if _, err := strconv.Atoi(s); err == nil {
			b.WriteString("[" + s + "]")
			continue
		}
		b.WriteString("." + s)
	}
	return b.String()
}

// valueAt returns the user's value at a path of the properties, if present.
func valueAt(v interface{}, segs []string) (interface{}, bool) {
	for _, s := range segs {
		switch x := v.(type) {
		case map[string]interface{}:
			var ok bool
			if v, ok = x[s]; !ok {
				return nil, false
			}
		case []interface{}:
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

var conflictRE = regexp.MustCompile(`^conflicting values (.+) and (.+)$`)

// foldMessages turns CUE's messages for one field into the rules a user must
// follow: "N errors in empty disjunction" headers are dropped; conflicts with
// defaults or enum members are dropped when a more specific rule (a bound, a
// pattern, "field not allowed") is present, and otherwise merged into one
// "value X is not allowed; allowed: a, b" message.
//
// For a property that may hold a secret (mayHoldSecret) the user's value is
// never printed: its kind is said instead, and a CUE message that would show
// it is replaced (unprinted).
func foldMessages(msgs []string, user interface{}, hasUser, secret bool) []string {
	var specific, alternatives, kinds []string
	for _, m := range msgs {
		switch {
		case strings.Contains(m, "errors in empty disjunction"):
		case secret && hasUser && mismatchRE.MatchString(m):
			// A type conflict: the kind wanted, in words.
			k := mismatchRE.FindStringSubmatch(m)
			if want, ok := otherKind(cueKind(user), k[3], k[4]); ok && !contains(kinds, typeWords(want)) {
				kinds = append(kinds, typeWords(want))
			}
		case conflictRE.MatchString(m):
			if hasUser {
				got, _ := json.Marshal(user)
				parts := conflictRE.FindStringSubmatch(m)
				for _, side := range parts[1:] {
					if side != string(got) && !contains(alternatives, side) {
						alternatives = append(alternatives, side)
					}
				}
			} else if !contains(specific, m) {
				specific = append(specific, m)
			}
		default:
			if !contains(specific, m) {
				specific = append(specific, m)
			}
		}
	}
	if len(specific) > 0 {
		for i, m := range specific {
			specific[i] = unprinted(m, user, hasUser, secret)
		}
		return specific
	}
	if len(alternatives)+len(kinds) > 0 && secret {
		// A side of CUE's conflict may be the user's value in CUE's own
		// syntax: only kinds, type names and the definition's scalars are
		// listed.
		allowed := kinds
		for _, a := range alternatives {
			if isTypeName(a) || isScalar(a) && !showsValue(a, user) {
				allowed = append(allowed, a)
			}
		}
		if len(allowed) == 0 {
			return []string{fmt.Sprintf("%s is not allowed here (not printed: it may hold a credential)", kindWords(user))}
		}
		return []string{fmt.Sprintf("%s is not allowed here (not printed: it may hold a credential); allowed: %s", kindWords(user), strings.Join(allowed, ", "))}
	}
	if len(alternatives) > 0 {
		got, _ := json.Marshal(user)
		return []string{fmt.Sprintf("value %s is not allowed; allowed: %s", got, strings.Join(alternatives, ", "))}
	}
	for i, m := range msgs {
		msgs[i] = unprinted(m, user, hasUser, secret)
	}
	return msgs
}

// isScalar says whether a side of a CUE conflict is a string, a number, true,
// false or null.
func isScalar(v string) bool {
	var x interface{}
	if err := json.Unmarshal([]byte(v), &x); err != nil {
		return false
	}
	switch x.(type) {
	case map[string]interface{}, []interface{}:
		return false
	}
	return true
}

// showsValue says whether a message shows a string or number of the user's
// value v, as CUE or JSON prints it (a string of fewer than 3 characters only
// when quoted).
func showsValue(msg string, v interface{}) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(msg, strconv.Quote(x)) || len(x) >= 3 && strings.Contains(msg, x)
	case float64:
		return strings.Contains(msg, strconv.FormatFloat(x, 'g', -1, 64))
	case map[string]interface{}:
		for k, e := range x {
			if showsValue(msg, k) || showsValue(msg, e) {
				return true
			}
		}
	case []interface{}:
		for _, e := range x {
			if showsValue(msg, e) {
				return true
			}
		}
	}
	return false
}

// unprinted returns CUE's message m for a property that may hold a secret
// with the user's value taken out: when m shows it, a message that says only
// its kind.
func unprinted(m string, user interface{}, hasUser, secret bool) string {
	if !secret || !hasUser || !showsValue(m, user) {
		return m
	}
	return fmt.Sprintf("%s is not valid here (not printed: it may hold a credential)", kindWords(user))
}

// schemaHoldsSecret returns whether the schema (a definition's parameter)
// declares, at a property path, a property whose name says it may hold a
// secret (secretRE): s3 {bucket, secretRef, ...} of a dataset.
func schemaHoldsSecret(schema cue.Value) func([]string) bool {
	return func(segs []string) bool {
		if !schema.Exists() {
			return false
		}
		sels := make([]cue.Selector, 0, len(segs))
		for _, s := range segs {
			if _, err := strconv.Atoi(s); err == nil {
				sels = append(sels, cue.AnyIndex)
				continue
			}
			sels = append(sels, cue.Str(s).Optional())
		}
		v := schema.LookupPath(cue.MakePath(sels...))
		if !v.Exists() {
			return false
		}
		it, err := v.Fields(cue.Optional(true))
		if err != nil {
			return false
		}
		for it.Next() {
			if secretRE.MatchString(it.Selector().Unquoted()) {
				return true
			}
		}
		return false
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
