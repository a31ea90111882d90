package crossrelease

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// difference is one field (or one whole object) on which two releases'
// renderings of an Application disagree.
type difference struct {
	release, baseline string
	object            string // kind/namespace/name
	path              string // field path; "" when the whole object is on one side only
	got, want         interface{}
	gotSet, wantSet   bool // false when the field (or object) is absent on that side
}

func (d difference) String() string {
	if d.path == "" && d.gotSet != d.wantSet {
		by := d.release
		if d.wantSet {
			by = d.baseline
		}
		return fmt.Sprintf("%s: rendered by %s only", d.object, by)
	}
	where := d.object
	if d.path != "" {
		where += " " + d.path
	}
	return fmt.Sprintf("%s: %s %s, %s %s", where, d.release, show(d.got, d.gotSet), d.baseline, show(d.want, d.wantSet))
}

func show(v interface{}, set bool) string {
	if !set {
		return "(absent)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return tail(string(b), 300)
}

// diffObjects compares release's objects with baseline's, matched by key.
func diffObjects(release string, got []object, baseline string, want []object) []difference {
	g, w := map[string]map[string]interface{}{}, map[string]map[string]interface{}{}
	keys := map[string]bool{}
	for _, o := range got {
		g[o.key] = o.obj
		keys[o.key] = true
	}
	for _, o := range want {
		w[o.key] = o.obj
		keys[o.key] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var out []difference
	for _, k := range sorted {
		base := difference{release: release, baseline: baseline, object: k}
		gv, gok := g[k]
		wv, wok := w[k]
		if !gok || !wok {
			d := base
			d.got, d.gotSet, d.want, d.wantSet = summary(gv), gok, summary(wv), wok
			out = append(out, d)
			continue
		}
		diffValues(base, "", gv, wv, &out)
	}
	return out
}

// summary stands for a whole object in a message.
func summary(o map[string]interface{}) interface{} {
	if o == nil {
		return nil
	}
	return "rendered"
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

func childPath(path, key string) string {
	if !plainKey.MatchString(key) {
		return fmt.Sprintf("%s[%q]", path, key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func diffValues(base difference, path string, got, want interface{}, out *[]difference) {
	gm, gIsMap := got.(map[string]interface{})
	wm, wIsMap := want.(map[string]interface{})
	if gIsMap && wIsMap {
		keys := map[string]bool{}
		for k := range gm {
			keys[k] = true
		}
		for k := range wm {
			keys[k] = true
		}
		var sorted []string
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			gv, gok := gm[k]
			wv, wok := wm[k]
			p := childPath(path, k)
			if !gok || !wok {
				d := base
				d.path, d.got, d.gotSet, d.want, d.wantSet = p, gv, gok, wv, wok
				*out = append(*out, d)
				continue
			}
			diffValues(base, p, gv, wv, out)
		}
		return
	}
	gl, gIsList := got.([]interface{})
	wl, wIsList := want.([]interface{})
	if gIsList && wIsList {
		n := len(gl)
		if len(wl) > n {
			n = len(wl)
		}
		for i := 0; i < n; i++ {
			p := fmt.Sprintf("%s[%d]", path, i)
			if i >= len(gl) || i >= len(wl) {
				d := base
				d.path = p
				if i < len(gl) {
					d.got, d.gotSet = gl[i], true
				}
				if i < len(wl) {
					d.want, d.wantSet = wl[i], true
				}
				*out = append(*out, d)
				continue
			}
			diffValues(base, p, gl[i], wl[i], out)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		d := base
		d.path, d.got, d.gotSet, d.want, d.wantSet = path, got, true, want, true
		*out = append(*out, d)
	}
}

// allowedDifference is a difference between releases that is the release's
// own doing, not the addon's. Every field must match for it to apply.
type allowedDifference struct {
	Name   string
	Reason string
	// Release is the release that differs from the baseline ("" any).
	Release string
	// App is the Application's path below the repo root ("" any).
	App string
	// Object matches kind/namespace/name; Path matches the field path.
	Object, Path *regexp.Regexp
	// Values, when set, must accept the two values (release's, baseline's).
	Values func(got, want interface{}) bool
}

// allowedDifferences lists, by name and reason, every difference between
// releases that the test accepts. Anything else fails it.
var allowedDifferences = []allowedDifference{
	{
		Name: "trait-restart-hash annotations (v1.11.0)",
		Reason: "v1.11.0 stamps app.oam.dev/trait-restart-hash-<trait> with a hash of the trait's outputs onto " +
			"the pod template of a workload that has spec.template, for every trait with podDisruptive: true " +
			"(arms-logging, arms-metrics, ...), so that changing the trait rolls the pods (kubevela " +
			"pkg/appfile propagatePodDisruptiveHash); v1.9.13 and v1.10.9 do not. The release's engine, not our templates.",
		Path:   regexp.MustCompile(`^spec\.template\.metadata\.annotations(\["app\.oam\.dev/trait-restart-hash-[^"]+"\])?$`),
		Values: absentOrOnlyKeys(restartHashPrefix),
	},
}

const restartHashPrefix = "app.oam.dev/trait-restart-hash-"

// absentOrOnlyKeys accepts a field that the other release does not render
// and that the baseline renders as a string (one annotation, whose key the
// rule's Path checks) or as a map whose keys all start with prefix.
func absentOrOnlyKeys(prefix string) func(got, want interface{}) bool {
	return func(got, want interface{}) bool {
		if got != nil {
			return false
		}
		switch w := want.(type) {
		case string:
			return true
		case map[string]interface{}:
			for k := range w {
				if !strings.HasPrefix(k, prefix) {
					return false
				}
			}
			return len(w) > 0
		}
		return false
	}
}

// allowed returns the allowed difference that covers d, or nil.
func allowed(app string, d difference) *allowedDifference {
	for i := range allowedDifferences {
		a := &allowedDifferences[i]
		if a.Release != "" && a.Release != d.release {
			continue
		}
		if a.App != "" && a.App != app {
			continue
		}
		if a.Object != nil && !a.Object.MatchString(d.object) {
			continue
		}
		if a.Path != nil && !a.Path.MatchString(d.path) {
			continue
		}
		if a.Values != nil && !a.Values(d.got, d.want) {
			continue
		}
		return a
	}
	return nil
}

// The diff names the object and the field path, matches objects by key
// whatever their order, and an allowed difference covers only what it names.
func TestDiffNamesObjectAndPath(t *testing.T) {
	parse := func(s string) []object {
		objs, err := parseObjects(s)
		if err != nil {
			t.Fatal(err)
		}
		return objs
	}
	a := parse(`---
# Application(x) -- Component(c)
---

apiVersion: v1
kind: Service
metadata:
  name: s
  namespace: ns
  labels: {"app.oam.dev/name": x}
spec:
  ports: [{port: 80}, {port: 81}]
---
kind: ConfigMap
metadata: {name: c, namespace: ns}
data: {k: v}
`)
	b := parse(`kind: ConfigMap
metadata: {name: c, namespace: ns}
data: {k: v}
---
apiVersion: v1
kind: Service
metadata:
  name: s
  namespace: ns
  labels: {"app.oam.dev/name": z}
spec:
  ports: [{port: 8080}]
---
kind: Secret
metadata: {name: only-b}
`)
	var got []string
	for _, d := range diffObjects("old", a, "new", b) {
		got = append(got, d.String())
	}
	want := []string{
		`Secret//only-b: rendered by new only`,
		`Service/ns/s metadata.labels["app.oam.dev/name"]: old "x", new "z"`,
		`Service/ns/s spec.ports[0].port: old 80, new 8080`,
		`Service/ns/s spec.ports[1]: old {"port":81}, new (absent)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("diff:\n got: %q\nwant: %q", got, want)
	}
	saved := allowedDifferences
	defer func() { allowedDifferences = saved }()
	allowedDifferences = []allowedDifference{{
		Name: "test", Release: "old", App: "app.yaml",
		Object: regexp.MustCompile(`^Service/`), Path: regexp.MustCompile(`^metadata\.labels`),
	}}
	for _, d := range diffObjects("old", a, "new", b) {
		isLabel := strings.HasPrefix(d.path, "metadata.labels")
		if (allowed("app.yaml", d) != nil) != isLabel {
			t.Errorf("allowed(%s) = %v", d, allowed("app.yaml", d) != nil)
		}
		if allowed("other.yaml", d) != nil {
			t.Errorf("allowed for another app: %s", d)
		}
	}
}
