package render

import (
	"path/filepath"
	"testing"
)

func TestSharedBuildsOneRendererPerDirs(t *testing.T) {
	defs := filepath.Join("..", "..", "definitions")
	a, err := Shared(defs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Shared(defs)
	if err != nil || a != b {
		t.Errorf("a second Shared(%s) built another renderer (err %v)", defs, err)
	}
	withDoubles, err := Shared(defs, filepath.Join("..", "..", "test", "offline", "testdata", "definitions"))
	if err != nil {
		t.Fatal(err)
	}
	if withDoubles == a || len(withDoubles.Catalog().Objects()) <= len(a.Catalog().Objects()) {
		t.Errorf("the renderer with the test doubles is not its own")
	}
	if _, err := Shared(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing folder gave a renderer")
	}
}
