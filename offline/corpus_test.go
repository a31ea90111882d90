package offline

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// corpusDir holds bad Applications. Each file starts with one or more lines
//
//	# error: <text the error must contain>
//
// and the renderer must reject it with an error containing every such text.
const corpusDir = "e2e/testdata/invalid"

func TestInvalidCorpusIsRejectedWithFieldNamedErrors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, corpusDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no cases in %s", corpusDir)
	}
	for _, f := range files {
		f := f
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := expectedErrors(data)
			if len(want) == 0 {
				t.Fatalf("%s has no `# error:` line", f)
			}
			app, _, err := render.ParseApplication(data)
			if err == nil {
				_, err = addonRenderer(t).Render(context.Background(), app)
			}
			if err == nil {
				t.Fatalf("%s rendered, but must be rejected with %q", f, want)
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error for %s does not contain %q; the error was:\n%v", filepath.Base(f), w, err)
				}
			}
		})
	}
}

func expectedErrors(data []byte) []string {
	var want []string
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		line := s.Text()
		if !strings.HasPrefix(line, "#") {
			break
		}
		if rest, ok := strings.CutPrefix(line, "# error:"); ok {
			want = append(want, strings.TrimSpace(rest))
		}
	}
	return want
}
