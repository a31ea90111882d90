// Package vela runs the vela CLI against a cluster and checks its exit code.
package vela

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// CLI runs one vela binary against one cluster.
type CLI struct {
	// Bin is the vela binary.
	Bin string
	// Kubeconfig is passed as KUBECONFIG.
	Kubeconfig string
	// Home is the HOME vela writes ~/.vela into; a fresh temp dir by default
	// keeps the user's own vela settings untouched.
	Home string
}

// FindBinary returns the vela CLI of the release $VELA picks (see Release):
// $VELA_BIN when set, else the vela-<release> that hack/tools/build.sh built
// into the cache; only when $VELA is unset, else `vela` on PATH (whatever
// release that is).
func FindBinary() (string, error) {
	if b := os.Getenv(EnvBinary); b != "" {
		return b, nil
	}
	release, err := Release()
	if err != nil {
		return "", err
	}
	built := BuiltBinary(release)
	if _, err := os.Stat(built); err == nil {
		return built, nil
	}
	if os.Getenv(EnvRelease) == "" {
		if p, err := exec.LookPath("vela"); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no vela CLI %s in %s: run `VELA=%s hack/tools/build.sh vela` or set $%s", release, filepath.Dir(built), release, EnvBinary)
}

// BuiltBinary is where hack/tools/build.sh puts release's vela CLI:
// $ML_PLATFORM_CACHE/bin/vela-<release>, the cache defaulting to
// ~/.cache/ml-platform.
func BuiltBinary(release string) string {
	cache := os.Getenv("ML_PLATFORM_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "ml-platform")
	}
	return filepath.Join(cache, "bin", "vela-"+release)
}

// Run runs `vela args...` and returns its combined output. A non-zero exit
// is an error that carries the output.
func (c *CLI) Run(ctx context.Context, args ...string) (string, error) {
	return c.runIn(ctx, "", args...)
}

func (c *CLI) runIn(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, c.Bin, args...)
	cmd.Dir = dir
	env := os.Environ()
	if c.Kubeconfig != "" {
		env = append(env, "KUBECONFIG="+c.Kubeconfig)
	}
	if c.Home != "" {
		env = append(env, "HOME="+c.Home)
	}
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("vela %s failed: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// EnableAddon enables the addon staged in dir with key=value arguments.
func (c *CLI) EnableAddon(ctx context.Context, dir string, args ...string) (string, error) {
	return c.Run(ctx, append([]string{"addon", "enable", dir, "-y"}, args...)...)
}

// PackageAddon runs `vela addon package dir` in outDir and returns the path
// of the archive it writes there (<name>-<version>.tgz).
func (c *CLI) PackageAddon(ctx context.Context, dir, outDir string) (string, error) {
	before, _ := filepath.Glob(filepath.Join(outDir, "*.tgz"))
	if _, err := c.runIn(ctx, outDir, "addon", "package", dir); err != nil {
		return "", err
	}
	after, _ := filepath.Glob(filepath.Join(outDir, "*.tgz"))
	if len(after) != len(before)+1 {
		return "", fmt.Errorf("vela addon package wrote no new archive into %s", outDir)
	}
	for _, a := range after {
		if !contains(before, a) {
			return a, nil
		}
	}
	return "", fmt.Errorf("vela addon package wrote no new archive into %s", outDir)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// DisableAddon disables an addon; force also disables one still in use.
func (c *CLI) DisableAddon(ctx context.Context, name string, force bool) (string, error) {
	args := []string{"addon", "disable", name, "-y"}
	if force {
		args = append(args, "-f")
	}
	return c.Run(ctx, args...)
}

// Up applies an Application file into a namespace.
func (c *CLI) Up(ctx context.Context, file, namespace string) (string, error) {
	return c.Run(ctx, "up", "-f", file, "-n", namespace)
}

// Resume resumes a suspended workflow.
func (c *CLI) Resume(ctx context.Context, app, namespace string) (string, error) {
	return c.Run(ctx, "workflow", "resume", app, "-n", namespace)
}

// Status prints `vela status` of an Application.
func (c *CLI) Status(ctx context.Context, app, namespace string) (string, error) {
	return c.Run(ctx, "status", app, "-n", namespace)
}
