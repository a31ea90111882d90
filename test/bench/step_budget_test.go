package bench

import (
	"testing"
)

// Allocation budget of the ml-model-serving step (BenchmarkServingStep's
// work: the serving example's step through KubeVela's workflow engine, three
// reconciles of one fresh app).
//
// The step's allocation count is deterministic to within a few dozen in
// millions (KubeVela v1.11.0, kubevela/workflow v0.7.2, CUE v0.14.1: four
// runs of testing.AllocsPerRun varied by 0.001 %), unlike its time on a
// shared machine, so the budget is allocations. It is 1.3× the count
// measured when it was set: loose enough for small changes to the step,
// tight enough that undoing the step's 0.2.0 gain (+36 %; docs/performance.md,
// "The serving step through the workflow engine") fails `make test`.
//
// To update, after a change that moves the cost on purpose (a KubeVela or
// workflow bump, a step that must do more): run
//
//	go test -count=1 -run TestServingStepBudget -v ./test/bench/
//
// set servingStepMeasured to the allocations it logs and servingStepBudget
// to 1.3× that, re-measure BenchmarkServingStep for docs/performance.md and
// say why in the commit.
const (
	// 2026-12-07, KubeVela v1.11.0, definitions at 30933e1
	// (test/bench/results/20261207-0559-render-bench-per-side.txt).
	servingStepMeasured = 2_262_450
	servingStepBudget   = 2_941_000
)

// TestServingStepBudget fails when one app's serving step allocates more
// than servingStepBudget.
func TestServingStepBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	appYAML := servingExample(t)
	stepDefinitions(t) // built once per test binary, not counted
	// Not parallel: AllocsPerRun counts every goroutine's allocations.
	got := testing.AllocsPerRun(2, func() { serveOneApp(t, appYAML) })
	t.Logf("serving step: %.0f allocations per app, 3 reconciles (measured when the budget was set: %d; budget %d)", got, servingStepMeasured, servingStepBudget)
	if got > servingStepBudget {
		t.Errorf("the serving step allocates %.0f per app (3 reconciles), over its budget of %d (%.2f× the %d "+
			"measured when it was set): a regression, or a deliberate change that must update the budget and "+
			"docs/performance.md (see servingStepBudget)", got, servingStepBudget, got/servingStepMeasured, servingStepMeasured)
	}
}
