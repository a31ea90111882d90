package inline

import (
	"cuelang.org/go/cue/format"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
)

// A Terraform helper is inlined as a CUE field whose string is exactly the
// .tf file's text (after its header), blank lines and HCL's own ${...}
// included.
func TestTerraformHelperIsInlinedAsTheSameString(t *testing.T) {
	dir := t.TempDir()
	tf := "resource \"a\" \"b\" {\n  name = \"${var.x}-y\"\n\n  tags = {}\n}\n"
	if err := os.MkdirAll(filepath.Join(dir, "terraform"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "terraform", "x.tf"), []byte("# header\n"+TerraformTextMarker+"\n"+tf), 0o644); err != nil {
		t.Fatal(err)
	}
	helpers, err := Helpers(dir)
	if err != nil {
		t.Fatal(err)
	}
	src := "files: {\n\t// ml-platform:inline terraform/x.tf begin\n\t// ml-platform:inline terraform/x.tf end\n}\n"
	res, err := Process("d.cue", src, helpers)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Drifted) != 1 {
		t.Fatalf("want the empty region to drift, got %+v", res)
	}
	v := cuecontext.New().CompileString(res.Output)
	got, err := v.LookupPath(cue.ParsePath(`files."x.tf"`)).String()
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Output)
	}
	if got != tf {
		t.Fatalf("inlined string %q, want %q\n%s", got, tf, res.Output)
	}
	again, err := Process("d.cue", res.Output, helpers)
	if err != nil || len(again.Drifted) != 0 {
		t.Fatalf("rewritten text still drifts: %v %+v", err, again)
	}
	for _, bad := range []string{"a\n", "x = \"\"\"#\"\n", "no newline"} {
		if _, err := TerraformField("x.tf", bad); (err == nil) != (bad == "a\n") {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}

// A helper may carry another helper's region: it is expanded when the
// helper is read, and a definition's copy carries the expansion.
func TestNestedHelperIsExpanded(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("// header\n"+TextMarker+"\n"+text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("inner.cue", "i: 1\n")
	write("outer.cue", "o: {\n\t// ml-platform:inline inner begin\n\t// ml-platform:inline inner end\n}\n")
	helpers, err := Helpers(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := "o: {\n\t// ml-platform:inline inner begin\n\ti: 1\n\t// ml-platform:inline inner end\n}\n"
	if helpers["outer"] != want {
		t.Fatalf("outer: %q, want %q", helpers["outer"], want)
	}
	src := "// ml-platform:inline outer begin\n// ml-platform:inline outer end\n"
	res, err := Process("d.cue", src, helpers)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Output, "\ti: 1\n") {
		t.Fatalf("nested text missing:\n%s", res.Output)
	}
	again, err := Process("d.cue", res.Output, helpers)
	if err != nil || len(again.Drifted) != 0 || len(again.Regions) != 1 {
		t.Fatalf("the nested region is not part of the outer one: %v %+v", err, again)
	}
	write("loop.cue", "// ml-platform:inline loop begin\n// ml-platform:inline loop end\n")
	if _, err := Helpers(dir); err == nil {
		t.Fatal("a helper that carries itself is not refused")
	}
}

// The CUE formatter may put a blank line into a region, depending on
// what follows its end marker: such a copy is no drift and is kept as it is;
// any other difference drifts.
func TestFormattedCopyIsNoDrift(t *testing.T) {
	helpers := map[string]string{"h": "if a {\n\tb: 1\n}\nif c {\n\td: 1\n}\n"}
	src := "x: {\n\t// ml-platform:inline h begin\n\tif a {\n\t\tb: 1\n\t}\n\tif c {\n\t\td: 1\n\t}\n\t// ml-platform:inline h end\n\te: 3\n}\n"
	formatted, err := format.Source([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if string(formatted) == src {
		t.Fatal("the formatter no longer adds a blank line before the end marker: find another case")
	}
	for _, have := range []string{src, string(formatted)} {
		res, err := Process("d.cue", have, helpers)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Drifted) != 0 || res.Output != string(formatted) {
			t.Fatalf("a copy that differs only in format drifts or is not formatted: %+v\n%s", res.Drifted, res.Output)
		}
	}
	res, err := Process("d.cue", strings.Replace(string(formatted), "b: 1", "b: 2", 1), helpers)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Drifted) != 1 || res.Output != string(formatted) {
		t.Fatalf("a changed copy does not drift or is not rewritten: %+v\n%s", res.Drifted, res.Output)
	}
}
