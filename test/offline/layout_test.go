package offline

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// layoutDoc holds the floor plan: a table under "## Layout" whose first
// column names the folders in backticks.
const layoutDoc = "docs/development.md"

// The layout table names every folder of the tree down to cmd/<command>,
// pkg/<library> and test/<suite>, and every folder it names exists.
func TestLayoutTableMatchesTheTree(t *testing.T) {
	named, err := layoutNames(filepath.Join(repoRoot, layoutDoc))
	if err != nil {
		t.Fatal(err)
	}
	if len(named) == 0 {
		t.Fatalf("%s: no table under ## Layout", layoutDoc)
	}
	for name := range named {
		if _, err := os.Stat(filepath.Join(repoRoot, name)); err != nil {
			t.Errorf("%s names `%s`, which does not exist", layoutDoc, name)
		}
	}
	for _, dir := range trackedFolders(t) {
		if !named[dir] {
			t.Errorf("%s: the layout table does not name `%s/`", layoutDoc, dir)
		}
	}
}

// hack/ holds scripts and the tool modules only: nothing outside it imports
// a package from it.
func TestNothingImportsHack(t *testing.T) {
	importPath := `"github.com/ml-platform/ml-platform/` + `hack/` // split, so that this file does not match
	out, err := exec.Command("git", "-C", repoRoot, "grep", "-l", importPath, "--", "*.go", ":!hack/").CombinedOutput()
	if err == nil {
		t.Errorf("these files import a package under hack/ (move it to pkg/):\n%s", out)
	}
}

var backticked = regexp.MustCompile("`([^`]+)`")

// layoutNames returns the paths in backticks in the first column of the
// table under "## Layout", without a trailing slash.
func layoutNames(doc string) (map[string]bool, error) {
	f, err := os.Open(doc)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names := map[string]bool{}
	in := false
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Layout"
			continue
		}
		if !in || !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[1], -1) {
			names[strings.TrimSuffix(m[1], "/")] = true
		}
	}
	return names, s.Err()
}

// trackedFolders lists the folders the table must name: every top-level
// folder of the checkout and every folder right under cmd/, pkg/ and test/.
func trackedFolders(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", repoRoot, "ls-files").Output()
	if err != nil {
		t.Skip("not a git checkout: ", err)
	}
	seen := map[string]bool{}
	var dirs []string
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(f, "/")
		if len(parts) < 2 || strings.HasPrefix(parts[0], ".") {
			continue
		}
		dir := parts[0]
		if (dir == "cmd" || dir == "pkg" || dir == "test") && len(parts) > 2 {
			dir += "/" + parts[1]
		}
		if !seen[dir] {
			seen[dir] = true
			dirs = append(dirs, dir)
		}
	}
	return dirs
}
