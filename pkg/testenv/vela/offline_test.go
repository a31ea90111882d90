package vela

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeCLI writes a shell script that prints its arguments, working folder,
// environment and kubeconfig on stdout, a line on stderr, and exits 3.
func fakeCLI(t *testing.T, body string) string {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	bin := filepath.Join(t.TempDir(), "vela")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestDryRunOfflineRunsWithNothingOfTheMachine(t *testing.T) {
	bin := fakeCLI(t, `echo "args: $*"
echo "pwd: $(pwd)"
env | sort
echo "--- kubeconfig"
cat "$KUBECONFIG"
echo "to stderr" >&2
exit 3
`)
	t.Setenv("KUBECONFIG", "/etc/the-machines-kubeconfig")
	t.Setenv("VELA_SECRET_SETTING", "x")
	home, dir := t.TempDir(), t.TempDir()
	res := DryRunOffline(context.Background(), bin, home, dir, "/defs", "/app.yaml", "-n", "ns1")
	var exit *exec.ExitError
	if !errors.As(res.Err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("Err = %v, want the exit status 3", res.Err)
	}
	for _, want := range []string{
		"args: dry-run --offline -d /defs -f /app.yaml -n ns1\n",
		"pwd: " + dir + "\n",
		"HOME=" + home + "\n",
		"KUBECONFIG=" + filepath.Join(home, "kubeconfig") + "\n",
		"--- kubeconfig\n" + UnreachableKubeconfig,
	} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
		}
	}
	if strings.Contains(res.Stdout, "VELA_SECRET_SETTING") || strings.Contains(res.Stdout, "the-machines-kubeconfig") {
		t.Errorf("the CLI saw the caller's environment:\n%s", res.Stdout)
	}
	if res.Stderr != "to stderr\n" {
		t.Errorf("Stderr = %q", res.Stderr)
	}
	if got := res.Output(); got != res.Stdout+res.Stderr {
		t.Errorf("Output() = %q", got)
	}
}

func TestRunOfflineSaysWhenTheContextEnded(t *testing.T) {
	bin := fakeCLI(t, "sleep 5\n")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res := RunOffline(ctx, bin, t.TempDir(), "", "version")
	if !errors.Is(res.Err, context.DeadlineExceeded) {
		t.Errorf("Err = %v, want one that wraps context.DeadlineExceeded", res.Err)
	}
	if res.Took > 4*time.Second {
		t.Errorf("the call took %v: the CLI was not stopped when the context ended", res.Took)
	}
}
