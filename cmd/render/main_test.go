package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

func TestMain(m *testing.M) {
	klog.SetLogger(logr.Discard())
	os.Exit(m.Run())
}

// -h lists the flags render uses, not the -kubeconfig that
// controller-runtime registers globally.
func TestHelpListsOnlyRendersFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-h"}, &stdout, &stderr); code != 0 {
		t.Errorf("exit code %d", code)
	}
	help := stderr.String()
	for _, want := range []string{"-f", "-d", "usage: render"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "kubeconfig") {
		t.Errorf("help lists kubeconfig:\n%s", help)
	}
	if code := run([]string{"-kubeconfig", "x", "-f", "app.yaml"}, &stdout, &stderr); code != 2 {
		t.Errorf("-kubeconfig accepted (exit code %d)", code)
	}
}

func TestDefinitionsAreFoundFromAnyFolderOfTheRepository(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{root, filepath.Join(root, "examples", "pipeline"), filepath.Join(root, "definitions")} {
		got, err := findDefinitions(dir)
		if err != nil {
			t.Fatalf("from %s: %v", dir, err)
		}
		if want := filepath.Join(root, "definitions"); got != want {
			t.Errorf("from %s: %s, want %s", dir, got, want)
		}
	}
	// A folder named definitions is not enough: it must sit in the addon.
	outside := t.TempDir()
	if err := os.Mkdir(filepath.Join(outside, "definitions"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = findDefinitions(outside)
	if err == nil || !strings.Contains(err.Error(), "cannot find the addon's definitions") || !strings.Contains(err.Error(), "-d") {
		t.Errorf("outside the repository: %v", err)
	}
}

// Keys KubeVela ignores are warnings on stderr; the objects are printed and
// the exit code is 0. A typo is an error naming its path, exit code 1.
func TestWarningsOnlyExitZero(t *testing.T) {
	src, err := os.ReadFile("../../pkg/render/testdata/apps/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defs := "../../pkg/render/testdata/definitions"
	named := strings.Replace(string(src), "        - type: demo-label", "        - name: team\n          type: demo-label", 1)
	typo := strings.Replace(string(src), "      properties:\n        image", "      propertes:\n        image", 1)
	for _, c := range []struct {
		name, app, stderr string
		code              int
	}{
		{"trait name", named, "warning: spec.components[0].traits[0].name: ignored by KubeVela", 0},
		{"typo", typo, `error: not a valid Application: spec.components[0].propertes: unknown field`, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "app.yaml")
			if err := os.WriteFile(file, []byte(c.app), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run([]string{"-f", file, "-d", defs}, &stdout, &stderr)
			if code != c.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, c.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.stderr) {
				t.Errorf("stderr lacks %q:\n%s", c.stderr, stderr.String())
			}
			if rendered := strings.Contains(stdout.String(), "kind: Job"); rendered != (c.code == 0) {
				t.Errorf("stdout:\n%s", stdout.String())
			}
		})
	}
}
