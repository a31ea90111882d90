package offline

import (
	"strings"
	"testing"

	"github.com/ml-platform/ml-platform/pkg/cueinline"
)

// Every copy of a shared CUE helper (cue/) inside a definition is
// identical to the canonical text; `go run ./cmd/cueinline` fixes a drift.
func TestInlinedHelpersMatchHackCue(t *testing.T) {
	results, err := inline.Run(repoRoot, inline.DefaultDirs, false)
	if err != nil {
		t.Fatal(err)
	}
	regions := 0
	for _, r := range results {
		regions += len(r.Regions)
		for _, d := range r.Drifted {
			t.Errorf("%s:%d: the %s copy differs from cue/%s.cue; run `go run ./cmd/cueinline`", r.File, d.Begin, d.Helper, d.Helper)
		}
	}
	if regions == 0 {
		t.Fatal("no inlined helper found: the check is not looking at the definitions")
	}
}

// The checker itself: a region that differs from the canonical text is
// reported, and rewriting it restores the canonical text, indented like the
// begin marker.
func TestInlineCheckerDetectsDrift(t *testing.T) {
	helpers := map[string]string{"h": "a: 1\n\nb: {\n\tc: 2\n}\n"}
	src := "x: {\n\t// ml-platform:inline h begin\n\ta: 1\n\t// ml-platform:inline h end\n}\n"
	res, err := inline.Process("x.cue", src, helpers)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Regions) != 1 || len(res.Drifted) != 1 {
		t.Fatalf("want 1 drifted region, got %+v", res)
	}
	want := "x: {\n\t// ml-platform:inline h begin\n\ta: 1\n\n\tb: {\n\t\tc: 2\n\t}\n\t// ml-platform:inline h end\n}\n"
	if res.Output != want {
		t.Fatalf("rewritten text:\n%s\nwant:\n%s", res.Output, want)
	}
	again, err := inline.Process("x.cue", res.Output, helpers)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Drifted) != 0 {
		t.Fatalf("rewritten text still drifts: %+v", again.Drifted)
	}
	for _, bad := range []string{
		"// ml-platform:inline h begin\n",
		"// ml-platform:inline h end\n",
		"// ml-platform:inline nope begin\n// ml-platform:inline nope end\n",
	} {
		if _, err := inline.Process("bad.cue", bad, helpers); err == nil || !strings.Contains(err.Error(), "bad.cue:") {
			t.Errorf("%q: want an error naming the file and line, got %v", bad, err)
		}
	}
}
