package bench

import (
	"testing"
)

// Allocation budgets of the pipeline example's render (examples/pipeline/app.yaml).
//
// A render's allocation count is deterministic to within a few dozen in
// hundreds of thousands (KubeVela v1.11.0, CUE v0.14.1: four runs of
// testing.AllocsPerRun varied by 0.003 %), unlike its time on a shared
// machine, so the budget is allocations. Each budget is 1.3× the count
// measured when it was set: loose enough for small changes to the
// definitions; it catches a regression the size of the move from KubeVela
// v1.9.13 to v1.11.0 (+53 %), not one the size of 0.2.0's render gain (+14 % to undo), which
// only the benchmarks show (docs/performance.md, "Budgets").
//
// To update, after a change that moves the cost on purpose (a KubeVela or CUE
// bump, a definition that must do more): run
//
//	go test -count=1 -run TestRenderBudget -v ./test/bench/
//
// set measured to the allocations it logs and budget to 1.3× that, re-measure
// docs/performance.md's render figures (each side alone: BenchmarkRender,
// BenchmarkControllerRender, TestRenderRatio) and say why in the commit.
var renderBudgets = []struct {
	name       string
	controller bool // KubeVela's dry-run alone (vela-core's path), else the offline renderer
	measured   float64
	budget     float64
}{
	// 2026-12-07, KubeVela v1.11.0, definitions at 30933e1
	// (test/bench/results/20261207-0559-render-bench-per-side.txt); at
	// 6385113 (closed #Parameter) 819 021 and 621 317.
	{name: "pipeline/offline-renderer", measured: 813_025, budget: 1_057_000},
	{name: "pipeline/controller", controller: true, measured: 618_780, budget: 804_000},
}

// TestRenderBudget fails when rendering the pipeline example allocates more
// than its budget (renderBudgets).
func TestRenderBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	f := setUp(t)
	sides := map[string]side{}
	for _, s := range f.offlineSides() {
		sides["test/offline/"+s.name] = s
	}
	for _, s := range f.controllerSides(t) {
		sides["controller/"+s.name] = s
	}
	for _, b := range renderBudgets {
		t.Run(b.name, func(t *testing.T) {
			key := "test/offline/pipeline"
			if b.controller {
				key = "controller/pipeline"
			}
			s := sides[key]
			// Not parallel: AllocsPerRun counts every goroutine's allocations.
			got := testing.AllocsPerRun(3, func() { s.render(t) })
			t.Logf("%s: %.0f allocations per render (measured when the budget was set: %.0f; budget %.0f)", b.name, got, b.measured, b.budget)
			if got > b.budget {
				t.Errorf("rendering the pipeline example (%s) allocates %.0f per render, over its budget of %.0f "+
					"(%.2f× the %.0f measured when it was set): a regression, or a deliberate change that must "+
					"update the budget and docs/performance.md (see renderBudgets)", b.name, got, b.budget, got/b.measured, b.measured)
			}
		})
	}
}
