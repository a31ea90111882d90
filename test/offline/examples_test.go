package offline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every Application under examples/ renders with the addon's definitions.
// Area tests (training, serving, traits, infra) assert on what they emit.
func TestEveryExampleRenders(t *testing.T) {
	var files []string
	err := filepath.WalkDir(filepath.Join(repoRoot, "examples"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no examples yet")
	}
	for _, f := range files {
		rel, _ := filepath.Rel(repoRoot, f)
		t.Run(rel, func(t *testing.T) {
			res := renderFile(t, rel)
			if len(res.Objects) == 0 && len(res.App.Spec.Components) > 0 {
				t.Fatalf("%s rendered no objects", rel)
			}
		})
	}
}
