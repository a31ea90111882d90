package offline

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// versionedPaths are the addon files whose change must bump metadata.yaml's
// version (the catalog's rule): what changes the installed addon.
var versionedPaths = []string{"definitions", "resources", "schemas", "template.cue", "template.yaml", "parameter.cue", "NOTES.cue"}

var semver = regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// metadata.yaml's version is SemVer, and it changed in the last commit that
// changed addon files (or later); an uncommitted addon change needs an
// uncommitted bump.
func TestVersionBump(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "metadata.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Name != "ml-platform" || !semver.MatchString(meta.Version) {
		t.Fatalf("metadata.yaml: name %q version %q: want name ml-platform and a SemVer version", meta.Name, meta.Version)
	}
	if _, err := git("rev-parse", "HEAD"); err != nil {
		t.Skip("not a git checkout with history: ", err)
	}
	bumped, err := git("log", "-1", "--format=%H", "-G", "^version:", "--", "metadata.yaml")
	if err != nil || bumped == "" {
		t.Skip("metadata.yaml has no committed version yet")
	}
	changed, err := git(append([]string{"diff", "--name-only", bumped, "HEAD", "--"}, versionedPaths...)...)
	if err != nil {
		t.Fatal(err)
	}
	if changed != "" {
		t.Errorf("addon files changed after version %s was set (commit %.12s), bump metadata.yaml's version:\n%s", meta.Version, bumped, changed)
	}
	dirty, err := git(append([]string{"status", "--porcelain", "--"}, versionedPaths...)...)
	if err != nil {
		t.Fatal(err)
	}
	headMeta, _ := git("show", "HEAD:metadata.yaml")
	if dirty != "" && strings.Contains(headMeta, "version: "+meta.Version) {
		t.Errorf("uncommitted addon changes need a version bump in metadata.yaml (still %s):\n%s", meta.Version, dirty)
	}
}

func git(args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}
