package offline

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubevela/workflow/api/v1alpha1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ml-platform/ml-platform/pkg/render/stepworld"
)

func stepMustContain(t testing.TB, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, got)
		}
	}
}

func stepWantPhase(t testing.TB, r stepworld.Result, phase v1alpha1.WorkflowStepPhase) {
	t.Helper()
	if r.Status.Phase != phase {
		t.Fatalf("step phase is %s (reason %s, message %q), want %s", r.Status.Phase, r.Status.Reason, r.Status.Message, phase)
	}
}

// ---- tables of situations ----

// stepCase is one situation of a workflow step run through the engine: it
// builds a world, reconciles the step and asserts what a user sees (the
// step's phase, its exact message, what it applied). The same tables run in
// `go test` and against every mutant of the definitions (mutate_test.go),
// which is why a case takes a testing.TB and builds its world with
// newStepWorld(t, ...).
type stepCase struct {
	name string
	run  func(t testing.TB)
}

// runStepCases runs a table, one subtest per situation.
func runStepCases(t *testing.T, cases []stepCase) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("two cases named %q", c.name)
		}
		seen[c.name] = true
		c := c
		t.Run(c.name, func(t *testing.T) { c.run(t) })
	}
}

// stepWant asserts the step's phase and its exact message.
func stepWant(t testing.TB, r stepworld.Result, phase v1alpha1.WorkflowStepPhase, message string) {
	t.Helper()
	stepWantPhase(t, r, phase)
	if r.Status.Message != message {
		t.Errorf("step message is\n  %q\nwant\n  %q", r.Status.Message, message)
	}
}

// appliedText is an #ApplyComponent call as tests compare it: the
// component, the namespace it went to ("" for the application's) and whether
// the call waited for health (and found it).
func appliedText(a stepworld.AppliedComponent) string {
	s := a.Name
	if a.Namespace != "" {
		s += " in " + a.Namespace
	}
	if a.WaitHealthy {
		s += fmt.Sprintf(", waiting for health (healthy: %v)", a.Healthy)
	}
	return s
}

// wantApplied asserts the #ApplyComponent calls since the last check
// (see appliedText), and forgets them.
func (w *stepWorld) wantApplied(want ...string) {
	w.t.Helper()
	got := make([]string, 0, len(w.Applied()))
	for _, a := range w.Applied() {
		got = append(got, appliedText(a))
	}
	if want == nil {
		want = []string{}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		w.t.Errorf("applied components:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	w.ForgetApplied()
}

// wantApplyAndWait is a reconcile of an apply-and-wait step (helm-apply,
// terraform-apply) once its component was applied: the object name (in
// namespace ns, also the component's name) gets status, the step shows phase
// and message, and it applies the component again, with a health wait only
// when it succeeds (the final apply waits for health, so the app records it).
func wantApplyAndWait(t testing.TB, w *stepWorld, gvk schema.GroupVersionKind, ns, name, step string, status map[string]interface{}, phase v1alpha1.WorkflowStepPhase, message string) {
	t.Helper()
	w.SetStatus(gvk, ns, name, status)
	stepWant(t, w.Run(step), phase, message)
	if phase == v1alpha1.WorkflowStepPhaseSucceeded {
		w.wantApplied(name, name+", waiting for health (healthy: true)")
		return
	}
	w.wantApplied(name)
}
