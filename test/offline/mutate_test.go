package offline

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// Mutation testing: each mutant is one single-point textual change to a
// definition (mutants_test.go lists them). TestMutants applies each to a
// temporary copy of definitions/ (never to the real files), loads the copy
// in this process and runs the step tables of that definition against it
// (stepSuites): at least one situation must fail, i.e. the mutant must be
// "killed". A mutant that survives names a test that is missing.
//
//	make mutate    (ML_PLATFORM_MUTATE=1 go test -count=1 -run TestMutants ./test/offline/)
//
// ML_PLATFORM_MUTATE=1 runs every mutant; -run 'TestMutants/ml-model-serving'
// one definition's. ML_PLATFORM_DEFINITIONS points the whole offline suite
// (and this test) at another copy of the definitions.

// stepSuites are the tables that can notice a change to a definition file:
// the step's own table, and for a component the tables of the steps that
// apply it (its health decides their final apply).
var stepSuites = map[string]func() []stepCase{
	"ml-model-training.cue":   func() []stepCase { return trainingStepCases },
	"tfjob.cue":               func() []stepCase { return trainingStepCases },
	"ml-dataset.cue":          func() []stepCase { return trainingStepCases },
	"ml-model-checkpoint.cue": func() []stepCase { return checkpointStepCases },
	"ml-model-serving.cue":    func() []stepCase { return append(append([]stepCase{}, servingStepCases...), servingClustersCases...) },
	"ml-model-rollout.cue":    func() []stepCase { return rolloutStepCases },
	"tfserving.cue":           func() []stepCase { return servingStepCases },
	"terraform-apply.cue":     func() []stepCase { return terraformStepCases },
	"helm-apply.cue":          func() []stepCase { return helmStepCases },
}

// mutant is one single-point change: in file, old (found exactly once)
// becomes new; breaks says what a user would lose.
type mutant struct {
	file, old, new, breaks string
}

func (m mutant) name() string {
	return strings.TrimSuffix(m.file, ".cue") + "/" + m.breaks
}

func TestMutants(t *testing.T) {
	if os.Getenv("ML_PLATFORM_MUTATE") == "" {
		t.Skip("ML_PLATFORM_MUTATE=1 runs the mutation test (make mutate)")
	}
	start := time.Now()
	src := definitionsDir()

	// Every mutant applies to the definitions as they are: its old text is
	// in its file exactly once, it changes it, and it has a suite.
	originals := map[string]string{}
	names := map[string]bool{}
	for _, m := range mutants {
		if names[m.name()] {
			t.Errorf("two mutants named %q", m.name())
		}
		names[m.name()] = true
		if _, ok := stepSuites[m.file]; !ok {
			t.Errorf("mutant %s: no step suite for %s in stepSuites", m.name(), m.file)
		}
		if _, ok := originals[m.file]; !ok {
			data, err := os.ReadFile(filepath.Join(src, m.file))
			if err != nil {
				t.Fatal(err)
			}
			originals[m.file] = string(data)
		}
		if n := strings.Count(originals[m.file], m.old); n != 1 {
			t.Errorf("mutant %s: its old text is in %s %d times, want exactly once (update the mutant to the definition):\n%s", m.name(), m.file, n, m.old)
		}
		if m.old == m.new {
			t.Errorf("mutant %s changes nothing", m.name())
		}
	}
	// The unchanged definitions compile as TestMutants compiles a mutant.
	for file := range originals {
		d, err := render.LoadDefinitionFile(filepath.Join(src, file))
		if err == nil {
			_, err = render.CompileTemplate(d.Kind, d.Template)
		}
		if err != nil {
			t.Errorf("the unchanged %s does not compile: %v", file, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// One temporary copy of the definitions; each mutant rewrites one file
	// of it and puts it back afterwards.
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(src, "*.cue"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no definitions in %s (%v)", src, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	defs, err := render.LoadDefinitionDir(dir)
	if err != nil {
		t.Fatal(err)
	}

	// The unchanged copy passes every table that a selected mutant uses (a
	// kill then means the mutant, not the copy); how long each situation
	// takes orders them for the mutants, cheapest first, so that a mutant
	// is killed as early as possible.
	baseline, err := render.New(defs)
	if err != nil {
		t.Fatal(err)
	}
	ordered := map[string][]stepCase{}
	for _, m := range mutants {
		if _, done := ordered[m.file]; done || !selected(m) {
			continue
		}
		cases := append([]stepCase(nil), stepSuites[m.file]()...)
		took := map[string]time.Duration{}
		for _, c := range cases {
			cstart := time.Now()
			if failed, why := runCaseWith(t, baseline, dir, c); failed {
				t.Fatalf("the unchanged copy of the definitions fails %s / %s: %s", m.file, c.name, why)
			}
			took[c.name] = time.Since(cstart)
		}
		sort.SliceStable(cases, func(i, j int) bool { return took[cases[i].name] < took[cases[j].name] })
		ordered[m.file] = cases
	}
	t.Logf("baseline: %s", time.Since(start).Round(time.Second))

	var killed, survived, invalid []string
	// the situations that killed earlier mutants of a file, latest first:
	// mutants of one step tend to fall to the same few situations
	killers := map[string][]string{}
	for _, m := range mutants {
		m := m
		t.Run(m.name(), func(t *testing.T) {
			mstart := time.Now()
			path := filepath.Join(dir, m.file)
			orig := originals[m.file]
			if err := os.WriteFile(path, []byte(strings.Replace(orig, m.old, m.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
					t.Fatal(err)
				}
			}()
			changed, err := render.LoadDefinitionFile(path)
			if err == nil {
				_, err = render.CompileTemplate(changed.Kind, changed.Template)
			}
			var r *render.Renderer
			if err == nil {
				r, err = render.New(replaceDefinition(defs, changed))
			}
			if err != nil {
				// KubeVela's loader and `make lint` refuse such a definition,
				// and every situation fails for it, whatever it checks: it
				// tells nothing about the tests.
				invalid = append(invalid, m.name())
				t.Errorf("INVALID: the mutant breaks the definition instead of changing what the step does (%s); change it so that it compiles:\n- %s\n+ %s", firstLine(err.Error()), m.old, m.new)
				return
			}
			why := ""
			for _, c := range killersFirst(ordered[m.file], killers[m.file]) {
				if failed, w := runCaseWith(t, r, dir, c); failed {
					why = c.name + ": " + firstLine(w)
					killers[m.file] = append([]string{c.name}, killers[m.file]...)
					break
				}
			}
			// The engine compiles each task on its own too: a let that
			// nothing uses any more inside a task fails it at run time.
			if strings.Contains(why, "unreferenced alias or let clause") {
				invalid = append(invalid, m.name())
				t.Errorf("INVALID: the mutant breaks the template instead of changing what the step does (%s); change it so that it compiles:\n- %s\n+ %s", why, m.old, m.new)
				return
			}
			if why == "" {
				survived = append(survived, m.name())
				t.Errorf("SURVIVED (%s): no situation of the %s table fails with this change in %s:\n- %s\n+ %s", time.Since(mstart).Round(time.Millisecond), strings.TrimSuffix(m.file, ".cue"), m.file, m.old, m.new)
				return
			}
			killed = append(killed, m.name())
			t.Logf("killed in %s by %s", time.Since(mstart).Round(time.Millisecond), why)
		})
	}
	sort.Strings(survived)
	ran := len(killed) + len(survived) + len(invalid)
	scope := ""
	if ran < len(mutants) {
		scope = fmt.Sprintf(" (%d of the %d mutants selected)", ran, len(mutants))
	}
	t.Logf("mutation score: %d/%d killed%s in %s", len(killed), ran, scope, time.Since(start).Round(time.Second))
	for _, s := range survived {
		t.Logf("survivor: %s", s)
	}
	for _, s := range invalid {
		t.Logf("invalid (does not compile): %s", s)
	}
}

// killersFirst orders cases: those named in killers first (in that
// order), then the others as they are.
func killersFirst(cases []stepCase, killers []string) []stepCase {
	out := make([]stepCase, 0, len(cases))
	taken := map[string]bool{}
	for _, k := range killers {
		for _, c := range cases {
			if c.name == k && !taken[k] {
				out = append(out, c)
				taken[k] = true
			}
		}
	}
	for _, c := range cases {
		if !taken[c.name] {
			out = append(out, c)
		}
	}
	return out
}

// selected reports whether -run selects the mutant (by the file part of
// its name; a pattern that says nothing about files selects every mutant).
func selected(m mutant) bool {
	f := flag.Lookup("test.run")
	if f == nil {
		return true
	}
	parts := strings.Split(f.Value.String(), "/")
	if len(parts) < 2 {
		return true
	}
	re, err := regexp.Compile(parts[1])
	if err != nil {
		return true
	}
	return re.MatchString(strings.TrimSuffix(m.file, ".cue"))
}

// firstLine is a complaint on one line, shortened.
func firstLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}

// replaceDefinition returns defs with the one of changed's kind and name
// replaced.
func replaceDefinition(defs []*render.Definition, changed *render.Definition) []*render.Definition {
	out := make([]*render.Definition, 0, len(defs))
	for _, d := range defs {
		if d.Kind == changed.Kind && d.Name == changed.Name {
			out = append(out, changed)
		} else {
			out = append(out, d)
		}
	}
	return out
}

// runCaseWith runs one situation against other definitions and reports
// whether it failed (a failed assertion, a fatal error, a panic, or no end
// within a minute) and the first complaint.
func runCaseWith(parent testing.TB, defs *render.Renderer, dir string, c stepCase) (bool, string) {
	m := &mutantT{TB: parent, defs: defs, dir: dir}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				m.fail(fmt.Sprint("panic: ", p))
			}
		}()
		c.run(m)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		return true, "no end within a minute"
	}
	for i := len(m.cleanups) - 1; i >= 0; i-- {
		m.cleanups[i]()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failed, m.first
}

// mutantT is the testing.TB a situation runs with against a mutant: it
// records failures instead of reporting them, and gives the step world the
// mutant's definitions (definitionsTB).
type mutantT struct {
	testing.TB
	defs     *render.Renderer
	dir      string
	mu       sync.Mutex
	failed   bool
	first    string
	cleanups []func()
}

func (m *mutantT) stepDefinitions() (*render.Renderer, string) { return m.defs, m.dir }

func (m *mutantT) fail(msg string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.failed {
		m.first = msg
	}
	m.failed = true
}

func (m *mutantT) Helper()                           {}
func (m *mutantT) Log(...interface{})                {}
func (m *mutantT) Logf(string, ...interface{})       {}
func (m *mutantT) Error(args ...interface{})         { m.fail(fmt.Sprint(args...)) }
func (m *mutantT) Errorf(f string, a ...interface{}) { m.fail(fmt.Sprintf(f, a...)) }
func (m *mutantT) Fail()                             { m.fail("failed") }
func (m *mutantT) FailNow()                          { m.fail("failed"); runtime.Goexit() }
func (m *mutantT) Fatal(args ...interface{})         { m.fail(fmt.Sprint(args...)); runtime.Goexit() }
func (m *mutantT) Fatalf(f string, a ...interface{}) { m.fail(fmt.Sprintf(f, a...)); runtime.Goexit() }
func (m *mutantT) Failed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failed
}
func (m *mutantT) Skip(...interface{})          { m.fail("skipped"); runtime.Goexit() }
func (m *mutantT) Skipf(string, ...interface{}) { m.fail("skipped"); runtime.Goexit() }
func (m *mutantT) SkipNow()                     { m.fail("skipped"); runtime.Goexit() }
func (m *mutantT) Cleanup(f func())             { m.cleanups = append(m.cleanups, f) }
