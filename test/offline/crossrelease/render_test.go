package crossrelease

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/ml-platform/ml-platform/pkg/stage"
	"github.com/ml-platform/ml-platform/pkg/testenv/vela"
)

// testApp is one Application the releases render.
type testApp struct {
	rel      string // path below the repo root, the subtest name
	file     string // snapshot copy of the Application
	extraDef string // a folder of test doubles to render with, "" for none
	types    []string
	ns       string // the Application's metadata.namespace
}

// testdataApps and testdataDefs are the offline tests' valid Applications and
// the test doubles they use (see test/offline/trait_helpers_test.go).
const (
	testdataApps = "test/offline/testdata/apps"
	testdataDefs = "test/offline/testdata/definitions"
)

// appsToRender lists every example and every offline test Application,
// copied into the snapshot folder.
func appsToRender(t testing.TB) []testApp {
	t.Helper()
	var apps []testApp
	add := func(root, extraDef string) {
		err := filepath.WalkDir(filepath.Join(repoRoot, root), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
				return err
			}
			rel, err := filepath.Rel(repoRoot, p)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			copyPath := filepath.Join(tmpRoot, "apps", rel)
			if err := os.MkdirAll(filepath.Dir(copyPath), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(copyPath, data, 0o644); err != nil {
				return err
			}
			types, ns, err := typesUsed(data)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			apps = append(apps, testApp{rel: rel, file: copyPath, extraDef: extraDef, types: types, ns: ns})
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	add("examples", "")
	var extra string
	if _, err := os.Stat(filepath.Join(repoRoot, testdataDefs)); err == nil {
		extra = filepath.Join(tmpRoot, "testdata-definitions")
		if err := stage.CopyTree(filepath.Join(repoRoot, testdataDefs), extra); err != nil {
			t.Fatal(err)
		}
	}
	add(testdataApps, extra)
	return apps
}

// typesUsed returns the component, trait, policy and workflow step types an
// Application names, and its namespace.
func typesUsed(data []byte) ([]string, string, error) {
	type typed struct {
		Type     string  `json:"type"`
		Traits   []typed `json:"traits"`
		SubSteps []typed `json:"subSteps"`
	}
	var app struct {
		Metadata struct {
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		Spec struct {
			Components []typed `json:"components"`
			Policies   []typed `json:"policies"`
			Workflow   struct {
				Steps []typed `json:"steps"`
			} `json:"workflow"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &app); err != nil {
		return nil, "", err
	}
	seen := map[string]bool{}
	var walk func([]typed)
	walk = func(l []typed) {
		for _, x := range l {
			if x.Type != "" {
				seen[x.Type] = true
			}
			walk(x.Traits)
			walk(x.SubSteps)
		}
	}
	walk(app.Spec.Components)
	walk(app.Spec.Policies)
	walk(app.Spec.Workflow.Steps)
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, app.Metadata.Namespace, nil
}

// defName matches the top-level label of a definition file: `name: {` or
// `"name": {`.
var defName = regexp.MustCompile(`(?m)^"?([A-Za-z0-9][A-Za-z0-9._-]*)"?:\s*\{`)

// definitionNames maps each definition name in the .cue files of dir to its file.
func definitionNames(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".cue") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if m := defName.FindSubmatch(data); m != nil {
			out[string(m[1])] = p
		}
		return nil
	})
	return out, err
}

var modCache struct {
	once sync.Once
	dir  string
	err  error
}

// builtinDir is the folder of a release's built-in definitions in the Go
// module cache.
func builtinDir(release string) (string, error) {
	modCache.once.Do(func() {
		modCache.dir = os.Getenv("GOMODCACHE")
		if modCache.dir == "" {
			out, err := exec.Command("go", "env", "GOMODCACHE").Output()
			modCache.dir, modCache.err = strings.TrimSpace(string(out)), err
		}
	})
	if modCache.err != nil {
		return "", fmt.Errorf("go env GOMODCACHE: %w", modCache.err)
	}
	dir := filepath.Join(modCache.dir, "github.com", "oam-dev", "kubevela@"+release, "vela-templates", "definitions", "internal")
	if _, err := os.Stat(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// definitionsFor builds the -d folder for one release and app: the staged
// addon's definitions, the app's test doubles, and the release's own
// built-in definitions of the types the app uses that those do not define.
// It returns the folder and the built-ins it added, or why the release
// cannot render the app here.
func definitionsFor(t testing.TB, release string, app testApp) (dir string, added []string, cannot string) {
	t.Helper()
	dir, err := os.MkdirTemp(tmpRoot, "defs-"+release+"-")
	if err != nil {
		t.Fatal(err)
	}
	if err := stage.CopyTree(filepath.Join(stagedAddon(t), "definitions"), dir); err != nil {
		t.Fatal(err)
	}
	if app.extraDef != "" {
		if err := stage.CopyTree(app.extraDef, filepath.Join(dir, "testdata")); err != nil {
			t.Fatal(err)
		}
	}
	have, err := definitionNames(dir)
	if err != nil {
		t.Fatal(err)
	}
	var need []string
	for _, ty := range app.types {
		if _, ok := have[ty]; !ok {
			need = append(need, ty)
		}
	}
	if len(need) == 0 {
		return dir, nil, ""
	}
	bdir, err := builtinDir(release)
	if err != nil {
		return "", nil, fmt.Sprintf("it uses types %v that the addon does not define, and the built-in definitions of kubevela %s are not in the Go module cache (go mod download github.com/oam-dev/kubevela@%s): %v", need, release, release, err)
	}
	builtins, err := definitionNames(bdir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ty := range need {
		f, ok := builtins[ty]
		if !ok {
			continue // no definition file: built into the release's engine
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "builtin"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "builtin", ty+".cue"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		added = append(added, ty)
	}
	return dir, added, ""
}

// object is one rendered object and where it came from.
type object struct {
	key string
	obj map[string]interface{}
}

// parseObjects splits dry-run output into objects keyed by
// kind/namespace/name; a key seen twice gets "#2", "#3", ...
func parseObjects(out string) ([]object, error) {
	var objs []object
	count := map[string]int{}
	for i, doc := range splitDocuments(out) {
		var m map[string]interface{}
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			return nil, fmt.Errorf("document %d: %w\n%s", i, err, tail(doc, 2000))
		}
		if len(m) == 0 {
			continue // comments only
		}
		kind, _ := m["kind"].(string)
		md, _ := m["metadata"].(map[string]interface{})
		name, _ := md["name"].(string)
		ns, _ := md["namespace"].(string)
		key := kind + "/" + ns + "/" + name
		count[key]++
		if n := count[key]; n > 1 {
			key = fmt.Sprintf("%s#%d", key, n)
		}
		objs = append(objs, object{key: key, obj: m})
	}
	return objs, nil
}

// splitDocuments splits multi-document YAML at lines that are `---`.
func splitDocuments(s string) []string {
	var docs []string
	var cur []string
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimRight(line, " \t\r") == "---" {
			docs = append(docs, strings.Join(cur, "\n"))
			cur = nil
			continue
		}
		cur = append(cur, line)
	}
	return append(docs, strings.Join(cur, "\n"))
}

// rendered is what one release made of one app.
type rendered struct {
	objs     []object
	builtins []string
	seconds  float64
}

// Every example and offline test Application renders on every release to the
// same objects, except for the differences in allowedDifferences.
func TestRendersAgreeAcrossReleases(t *testing.T) {
	present := checkReleases(t)
	if len(present) < 2 {
		t.Skipf("%d of %d KubeVela release CLIs built (%v); the comparison needs two", len(present), len(releases), present)
	}
	stagedAddon(t)
	apps := appsToRender(t)
	if len(apps) == 0 {
		t.Fatal("no Applications to render")
	}
	for _, app := range apps {
		app := app
		t.Run(app.rel, func(t *testing.T) {
			t.Parallel()
			results := map[string]rendered{}
			for _, release := range present {
				defs, added, cannot := definitionsFor(t, release, app)
				if cannot != "" {
					t.Logf("skipped vela %s: %s", release, cannot)
					continue
				}
				var more []string
				if app.ns != "" {
					// v1.9.13's dry-run renders into the CLI's namespace
					// ("default") whatever the Application says; the
					// controller of every release, and the CLIs of v1.10.9
					// and v1.11.0, use the Application's.
					more = []string{"-n", app.ns}
				}
				res := runCLI(t, release, repoRoot, vela.DryRunArgs(defs, app.file, more...)...)
				if res.err != nil {
					t.Errorf("vela %s dry-run --offline of %s failed: %s", release, app.rel, res)
					continue
				}
				objs, err := parseObjects(res.stdout)
				if err != nil {
					t.Errorf("vela %s dry-run of %s printed unparsable YAML: %v", release, app.rel, err)
					continue
				}
				if len(objs) == 0 {
					t.Errorf("vela %s dry-run of %s rendered no objects:\n%s", release, app.rel, res)
					continue
				}
				results[release] = rendered{objs: objs, builtins: added, seconds: res.took.Seconds()}
			}
			// The baseline is the newest release that rendered the app.
			baseline := ""
			for _, release := range present {
				if _, ok := results[release]; ok {
					baseline = release
				}
			}
			if baseline == "" {
				return
			}
			base := results[baseline]
			var notes []string
			for _, release := range present {
				r, ok := results[release]
				if !ok {
					continue
				}
				notes = append(notes, fmt.Sprintf("%s %d objects in %.1fs", release, len(r.objs), r.seconds))
				if release == baseline {
					continue
				}
				diffs := diffObjects(release, r.objs, baseline, base.objs)
				var failed []string
				allowedCount := map[string]int{}
				var allowedNames []string
				for _, d := range diffs {
					if a := allowed(app.rel, d); a != nil {
						if allowedCount[a.Name] == 0 {
							allowedNames = append(allowedNames, a.Name)
							t.Logf("allowed %s, e.g. %s", a.Name, d)
						}
						allowedCount[a.Name]++
						continue
					}
					failed = append(failed, d.String())
				}
				for _, n := range allowedNames {
					notes = append(notes, fmt.Sprintf("%s: %d× %s", release, allowedCount[n], n))
				}
				if len(failed) > 0 {
					t.Errorf("%s renders differently on %s and %s (%d differences):\n  %s", app.rel, release, baseline, len(failed), strings.Join(failed, "\n  "))
				}
			}
			extra := ""
			if len(base.builtins) > 0 {
				extra = fmt.Sprintf("; each release's built-ins %v", base.builtins)
			}
			t.Logf("%s: compared %d objects across %d releases (%s)%s", app.rel, len(base.objs), len(results), strings.Join(notes, ", "), extra)
		})
	}
}
