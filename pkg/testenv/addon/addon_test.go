package addon

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ml-platform/ml-platform/pkg/stage"
	"github.com/ml-platform/ml-platform/pkg/testenv/vela"
)

// fakeVela is a vela CLI that logs HOME and its arguments, one call a
// line, and for `addon package DIR` writes ml-platform-0.1.0.tgz of DIR
// into its working folder, as vela does.
const fakeVela = `#!/bin/sh
echo "HOME=$HOME $*" >> "$FAKE_VELA_LOG"
if [ "$1 $2" = "addon package" ]; then
	tar -czf ml-platform-0.1.0.tgz -C "$(dirname "$3")" "$(basename "$3")"
fi
if [ "$1 $2" = "addon enable" ]; then
	echo "Addon ml-platform enabled successfully."
fi
`

// setUp writes an addon repo (with a Go file that must not be staged) and
// the fake vela, and returns the repo, the CLI and the call log's path.
func setUp(t *testing.T) (repo string, cli *vela.CLI, log string) {
	t.Helper()
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("the fake vela needs tar: ", err)
	}
	repo = t.TempDir()
	for name, content := range map[string]string{
		"metadata.yaml":       "name: ml-platform\nversion: 0.1.0\n",
		"template.cue":        "output: {}\n",
		"definitions/job.cue": "job: {}\n",
		"main.go":             "package main\n",
	} {
		path := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(t.TempDir(), "vela")
	if err := os.WriteFile(bin, []byte(fakeVela), 0o755); err != nil {
		t.Fatal(err)
	}
	log = filepath.Join(t.TempDir(), "calls")
	t.Setenv("FAKE_VELA_LOG", log)
	return repo, &vela.CLI{Bin: bin}, log
}

func calls(t *testing.T, log string) []string {
	t.Helper()
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func expectAddonFiles(t *testing.T, dir string) {
	t.Helper()
	if filepath.Base(dir) != stage.AddonName {
		t.Errorf("enabled folder %s is not named %s", dir, stage.AddonName)
	}
	for _, f := range []string{"metadata.yaml", "template.cue", "definitions/job.cue"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("enabled folder lacks %s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "main.go")); err == nil {
		t.Errorf("enabled folder holds main.go, which is not the addon's")
	}
}

func TestEnableStagesTheAddonAndEnablesItWithItsParameters(t *testing.T) {
	repo, cli, log := setUp(t)
	work := t.TempDir()
	var logged []string
	res, err := Enable(context.Background(), Options{
		CLI: cli, RepoRoot: repo, Params: []string{"installTrainingOperator=false"}, WorkDir: work,
		Logf: func(format string, args ...interface{}) { logged = append(logged, format) },
	})
	if err != nil {
		t.Fatal(err)
	}
	expectAddonFiles(t, res.Dir)
	want := "HOME=" + work + " addon enable " + res.Dir + " -y installTrainingOperator=false"
	if got := calls(t, log); len(got) != 1 || got[0] != want {
		t.Errorf("vela calls = %q, want [%q]", got, want)
	}
	if res.Archive != "" {
		t.Errorf("Archive = %q without FromArchive", res.Archive)
	}
	if !strings.Contains(res.Output, "enabled successfully") {
		t.Errorf("Output = %q, want vela's output", res.Output)
	}
	if len(logged) != 1 {
		t.Errorf("Logf told of %d commands, want 1", len(logged))
	}
}

func TestEnableFromArchiveEnablesTheUnpackedArchive(t *testing.T) {
	repo, cli, log := setUp(t)
	cli.Home = t.TempDir()
	res, err := Enable(context.Background(), Options{CLI: cli, RepoRoot: repo, FromArchive: true, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(res.Archive) != "ml-platform-0.1.0.tgz" {
		t.Errorf("Archive = %q, want the packaged ml-platform-0.1.0.tgz", res.Archive)
	}
	expectAddonFiles(t, res.Dir)
	got := calls(t, log)
	if len(got) != 2 || !strings.HasPrefix(got[0], "HOME="+cli.Home+" addon package ") {
		t.Fatalf("vela calls = %q, want addon package, then addon enable, with the CLI's own HOME", got)
	}
	staged := strings.TrimPrefix(got[0], "HOME="+cli.Home+" addon package ")
	if staged == res.Dir {
		t.Errorf("enabled the staged folder %s, not the unpacked archive", staged)
	}
	if want := "HOME=" + cli.Home + " addon enable " + res.Dir + " -y"; got[1] != want {
		t.Errorf("second vela call = %q, want %q", got[1], want)
	}
}

func TestEnableWithoutWorkDirLeavesNothingBehind(t *testing.T) {
	repo, cli, log := setUp(t)
	res, err := Enable(context.Background(), Options{CLI: cli, RepoRoot: repo, FromArchive: true})
	if err != nil {
		t.Fatal(err)
	}
	home := strings.TrimPrefix(strings.Fields(calls(t, log)[0])[0], "HOME=")
	for _, p := range []string{res.Dir, res.Archive, home} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there after Enable (stat: %v)", p, err)
		}
	}
	if !strings.HasPrefix(res.Dir, home) {
		t.Errorf("vela's HOME %s is not the work folder of %s", home, res.Dir)
	}
}

func TestEnableReportsAFailingVela(t *testing.T) {
	repo, _, _ := setUp(t)
	_, err := Enable(context.Background(), Options{CLI: &vela.CLI{Bin: "false"}, RepoRoot: repo})
	if err == nil || !strings.Contains(err.Error(), "vela addon enable") {
		t.Fatalf("err = %v, want vela addon enable's failure", err)
	}
}

func TestUntarKeepsEveryEntryInsideTheFolder(t *testing.T) {
	archive := filepath.Join(t.TempDir(), "a.tgz")
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, name := range []string{"ml-platform/metadata.yaml", "../../escaped.yaml"} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 2, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte("x\n")); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []interface{ Close() error }{tw, gz, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := untar(archive, dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"ml-platform/metadata.yaml", "escaped.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s not unpacked inside the folder: %v", p, err)
		}
	}
}
