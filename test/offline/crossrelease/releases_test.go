package crossrelease

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ml-platform/ml-platform/pkg/stage"
	"github.com/ml-platform/ml-platform/pkg/testenv/vela"
)

// repoRoot is the addon's root folder, relative to this package.
const repoRoot = "../../.."

// releases are the KubeVela releases the addon supports, oldest first; the
// newest one present is the baseline the others are compared with.
var releases = vela.Releases

// requireEnv=1 makes a test fail, not skip, when fewer than two release
// CLIs are built (with two or more, a missing one is still skipped).
const requireEnv = "ML_PLATFORM_REQUIRE_RELEASES"

// cliTimeout bounds one CLI call (each takes 1-3 s).
const cliTimeout = 2 * time.Minute

// cliPath is where `make clis` puts a release's vela CLI.
func cliPath(release string) string { return vela.BuiltBinary(release) }

func required() bool { return os.Getenv(requireEnv) == "1" }

// presentReleases returns the releases whose CLI is built, and a one-line
// note per missing one.
func presentReleases() (present []string, missing []string) {
	for _, r := range releases {
		if fi, err := os.Stat(cliPath(r)); err == nil && !fi.IsDir() {
			present = append(present, r)
		} else {
			missing = append(missing, fmt.Sprintf("vela %s: no CLI at %s (make clis builds it)", r, cliPath(r)))
		}
	}
	return present, missing
}

// checkReleases logs the missing releases and, when fewer than two are
// built, fails the test if ML_PLATFORM_REQUIRE_RELEASES=1 and returns false
// otherwise. It returns the releases present.
func checkReleases(t *testing.T) []string {
	t.Helper()
	present, missing := presentReleases()
	for _, m := range missing {
		t.Log("skipped " + m)
	}
	if len(present) < 2 && required() {
		t.Fatalf("%d of %d KubeVela release CLIs built (%v); %s=1 requires two or more", len(present), len(releases), present, requireEnv)
	}
	return present
}

// skipMissing skips the current (per-release) test when the release's CLI is
// not built.
func skipMissing(t *testing.T, release string) {
	t.Helper()
	if _, err := os.Stat(cliPath(release)); err != nil {
		t.Skipf("vela %s: no CLI at %s (make clis builds it)", release, cliPath(release))
	}
}

// snapshot is the addon staged once per test binary, so that every release
// renders the same definitions even while they are being edited.
var snapshot struct {
	once sync.Once
	dir  string // .../ml-platform
	err  error
}

var tmpRoot string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "crossrelease-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tmpRoot = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// stagedAddon returns the folder of the staged addon snapshot.
func stagedAddon(t testing.TB) string {
	t.Helper()
	snapshot.once.Do(func() {
		snapshot.dir = filepath.Join(tmpRoot, "snapshot", stage.AddonName)
		snapshot.err = stage.Stage(repoRoot, snapshot.dir)
	})
	if snapshot.err != nil {
		t.Fatalf("failed to stage the addon: %v", snapshot.err)
	}
	return snapshot.dir
}

// cliResult is the outcome of one CLI call.
type cliResult struct {
	stdout, stderr string
	err            error
	took           time.Duration
}

func (r cliResult) String() string {
	return fmt.Sprintf("%v\n--- stderr:\n%s\n--- stdout:\n%s", r.err, tail(r.stderr, 4000), tail(r.stdout, 4000))
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// runCLI runs a release's vela CLI in dir with an empty HOME and a
// kubeconfig of no reachable cluster (vela.RunOffline): nothing of the
// machine's own configuration takes part.
func runCLI(t testing.TB, release, dir string, args ...string) cliResult {
	t.Helper()
	home, err := os.MkdirTemp(tmpRoot, "home-")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	res := vela.RunOffline(ctx, cliPath(release), home, dir, args...)
	if ctx.Err() != nil {
		res.Err = fmt.Errorf("timed out after %v: %w", cliTimeout, res.Err)
	}
	return cliResult{stdout: res.Stdout, stderr: res.Stderr, err: res.Err, took: res.Took}
}

// `vela addon package` of the staged addon succeeds on every release and
// writes the chart archive named after the addon's version.
func TestAddonPackagesOnEveryRelease(t *testing.T) {
	checkReleases(t)
	staged := stagedAddon(t)
	version := metadataVersion(t, filepath.Join(staged, "metadata.yaml"))
	for _, release := range releases {
		release := release
		t.Run(release, func(t *testing.T) {
			skipMissing(t, release)
			t.Parallel()
			// package writes Chart.yaml into the addon folder and the archive
			// into the working folder: each release gets its own copy.
			work, err := os.MkdirTemp(tmpRoot, "package-"+release+"-")
			if err != nil {
				t.Fatal(err)
			}
			addonDir := filepath.Join(work, stage.AddonName)
			if err := stage.CopyTree(staged, addonDir); err != nil {
				t.Fatal(err)
			}
			res := runCLI(t, release, work, "addon", "package", stage.AddonName)
			if res.err != nil {
				t.Fatalf("vela %s addon package failed: %s", release, res)
			}
			archive := filepath.Join(work, fmt.Sprintf("%s-%s.tgz", stage.AddonName, version))
			fi, err := os.Stat(archive)
			if err != nil {
				t.Fatalf("vela %s addon package wrote no %s: %v\n%s", release, filepath.Base(archive), err, res)
			}
			t.Logf("vela %s addon package: %s, %d bytes, %.1fs", release, filepath.Base(archive), fi.Size(), res.took.Seconds())
		})
	}
}

// metadataVersion reads `version:` of metadata.yaml.
func metadataVersion(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "version:"); ok {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	t.Fatalf("%s has no version", path)
	return ""
}

// `vela def vet` of every staged definition succeeds on every release: each
// release's own CUE parses and checks them all, workflow steps included,
// which dry-run does not render.
func TestDefinitionsVetOnEveryRelease(t *testing.T) {
	checkReleases(t)
	staged := stagedAddon(t)
	files, err := filepath.Glob(filepath.Join(staged, "definitions", "*.cue"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no definitions staged")
	}
	for _, release := range releases {
		release := release
		t.Run(release, func(t *testing.T) {
			skipMissing(t, release)
			t.Parallel()
			res := runCLI(t, release, staged, append([]string{"def", "vet"}, files...)...)
			if res.err != nil {
				t.Fatalf("vela %s def vet failed: %s", release, res)
			}
			ok := strings.Count(res.stdout, "succeed")
			if ok != len(files) {
				t.Fatalf("vela %s def vet reported %d successes for %d files:\n%s", release, ok, len(files), res)
			}
			t.Logf("vela %s def vet: %d definitions in %.1fs", release, len(files), res.took.Seconds())
		})
	}
}
