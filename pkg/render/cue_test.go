package render_test

import (
	"fmt"
	"os"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// The process evaluates CUE as vela-core v1.11's controller does, with
// CUE_EXPERIMENT=evalv3=0,keepvalidators=0: the package sets it before CUE
// first reads it, and CUE reads it once, so these checks are about what the
// CUE runtime actually uses, not only the variable.
func TestCUEExperimentIsInForce(t *testing.T) {
	if got := os.Getenv("CUE_EXPERIMENT"); got != render.CUEExperiment {
		t.Skipf("CUE_EXPERIMENT=%q was set by the caller", got)
	}

	// keepvalidators=0: validators that admit one value simplify to it.
	v := cuecontext.New().CompileString("x: >=1 & <=1")
	if n, err := v.LookupPath(cue.ParsePath("x")).Int64(); err != nil || n != 1 {
		t.Errorf("x: >=1 & <=1 is %v (%v), want 1: keepvalidators is not off", v.LookupPath(cue.ParsePath("x")), err)
	}

	// evalv3=0: a default disjunction whose struct refers to the field
	// itself evaluates differently in the two evaluators; the default
	// context must evaluate it as the v2 evaluator does.
	const src = "x: *45 | int & {\n\tif x < 1 {_|_ & {errorMessage: \"x must be >= 1\"}}\n}\nx: 0\n"
	eval := func(opts ...cuecontext.Option) string { return fmt.Sprint(cuecontext.New(opts...).CompileString(src)) }
	v2, v3 := eval(cuecontext.EvaluatorVersion(cuecontext.EvalV2)), eval(cuecontext.EvaluatorVersion(cuecontext.EvalV3))
	if v2 == v3 {
		t.Fatalf("the probe does not tell the evaluators apart any more (both: %s)", v2)
	}
	if got := eval(); got != v2 {
		t.Errorf("the default evaluator is not v2: got\n%s\nwant (v2)\n%s", got, v2)
	}
}
