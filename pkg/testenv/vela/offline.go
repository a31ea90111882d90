package vela

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// UnreachableKubeconfig names a cluster at https://127.0.0.1:1, where nothing
// listens: v1.11.0's `dry-run --offline` exits 1 without a word when no
// kubeconfig is set, and with this one it renders (after logging that it
// cannot load cuex packages from the cluster, a refused connection).
const UnreachableKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: none
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: none
  user: {token: none}
contexts:
- name: none
  context: {cluster: none, user: none}
current-context: none
`

// OfflineResult is what one offline CLI call printed and how it ended.
type OfflineResult struct {
	Stdout, Stderr string
	// Err is the exit error, nil when the CLI exited 0; it wraps the
	// context's error when the context ended first.
	Err  error
	Took time.Duration
}

// Output is what the call printed, stdout then stderr.
func (r OfflineResult) Output() string { return r.Stdout + r.Stderr }

// RunOffline runs a vela CLI (bin) in dir with nothing of the machine's own
// configuration: HOME is home (an empty folder of the caller's, where the CLI
// may write ~/.vela), KUBECONFIG the file home/kubeconfig naming
// UnreachableKubeconfig's cluster, and of the caller's environment only PATH,
// TMPDIR and LANG.
func RunOffline(ctx context.Context, bin, home, dir string, args ...string) OfflineResult {
	kubeconfig := filepath.Join(home, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(UnreachableKubeconfig), 0o600); err != nil {
		return OfflineResult{Err: fmt.Errorf("failed to write the kubeconfig of no cluster: %w", err)}
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	// A child the CLI started may hold its output open after it is killed.
	cmd.WaitDelay = time.Second
	cmd.Env = []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "KUBECONFIG=" + kubeconfig}
	for _, k := range []string{"PATH", "TMPDIR", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w: %v", ctx.Err(), err)
	}
	return OfflineResult{Stdout: out.String(), Stderr: errb.String(), Err: err, Took: time.Since(start)}
}

// DryRunArgs are the arguments that render the Application file app with
// the definitions in defs as vela-core would, without a cluster: `dry-run
// --offline -d defs -f app [more...]`.
func DryRunArgs(defs, app string, more ...string) []string {
	return append([]string{"dry-run", "--offline", "-d", defs, "-f", app}, more...)
}

// DryRunOffline runs `vela DryRunArgs(defs, app, more...)` with RunOffline.
func DryRunOffline(ctx context.Context, bin, home, dir, defs, app string, more ...string) OfflineResult {
	return RunOffline(ctx, bin, home, dir, DryRunArgs(defs, app, more...)...)
}
