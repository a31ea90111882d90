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
const corpusDir = "test/offline/testdata/invalid"

func TestInvalidCorpusIsRejectedWithFieldNamedErrors(t *testing.T) {
	for _, c := range corpusCases(t) {
		t.Run(strings.TrimSuffix(c.name, ".yaml"), func(t *testing.T) {
			want := headerValues(c.data, "# error:")
			if len(want) == 0 {
				t.Fatalf("%s has no `# error:` line", c.path)
			}
			err := renderCorpusCase(t, c.data)
			if err == nil {
				t.Fatalf("%s rendered, but must be rejected with %q", c.path, want)
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error for %s does not contain %q; the error was:\n%v", c.name, w, err)
				}
			}
		})
	}
}

// corpusCase is one bad Application of the corpus.
type corpusCase struct {
	path, name string // the file, and its base name
	data       []byte
}

// corpusCases reads every case of the corpus, in file-name order.
func corpusCases(t *testing.T) []corpusCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, corpusDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no cases in %s", corpusDir)
	}
	cases := make([]corpusCase, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, corpusCase{path: f, name: filepath.Base(f), data: data})
	}
	return cases
}

// renderCorpusCase renders a case with the offline renderer and returns its
// error (nil when it rendered).
func renderCorpusCase(t *testing.T, data []byte) error {
	app, _, err := render.ParseApplication(data)
	if err == nil {
		_, err = addonRenderer(t).Render(context.Background(), app)
	}
	return err
}

// headerValues returns the values of a case's header lines (the leading
// comment lines) that start with prefix, such as "# error:".
func headerValues(data []byte, prefix string) []string {
	var out []string
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		line := s.Text()
		if !strings.HasPrefix(line, "#") {
			break
		}
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			out = append(out, strings.TrimSpace(rest))
		}
	}
	return out
}
