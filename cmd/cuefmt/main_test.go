package main

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

func TestCueFilesSkipsHiddenOutputAndTools(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"a.cue", "definitions/b.cue", "cue/c.txt", ".git/d.cue", "_output/e.cue", "hack/tools/f.cue", "hack/g.cue"} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("a: 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := cueFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i], _ = filepath.Rel(root, got[i])
	}
	sort.Strings(got)
	want := []string{"a.cue", "definitions/b.cue", "hack/g.cue"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}
