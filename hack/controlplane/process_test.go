package controlplane

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func sleepProcess(t *testing.T) process {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	dir := t.TempDir()
	return process{name: "sleeper", binary: sleep,
		pidFile: filepath.Join(dir, "run", "sleeper.pid"), logFile: filepath.Join(dir, "logs", "sleeper.log")}
}

func TestProcessStartStop(t *testing.T) {
	p := sleepProcess(t)
	if err := p.start([]string{"60"}, nil); err != nil {
		t.Fatal(err)
	}
	if !p.running() {
		t.Fatalf("process not running after start; log:\n%s", p.logTail(5))
	}
	pid := p.pid()
	if err := p.stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if p.running() {
		t.Errorf("pid %d still runs after stop", pid)
	}
	if _, err := os.Stat(p.pidFile); !os.IsNotExist(err) {
		t.Errorf("the PID file survived stop: %v", err)
	}
	if log, _ := os.ReadFile(p.logFile); !strings.Contains(string(log), "==== ") {
		t.Errorf("the log lacks the start header: %q", log)
	}
}

func TestProcessNeverSignalsAPIDRunningAnotherBinary(t *testing.T) {
	p := sleepProcess(t)
	// A PID file left behind whose PID now belongs to someone else.
	other := exec.Command(p.binary, "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Process.Kill(); _ = other.Wait() }()
	_ = os.MkdirAll(filepath.Dir(p.pidFile), 0o755)
	p.binary = "/nonexistent/etcd-v0" // we recorded a different binary
	if err := os.WriteFile(p.pidFile, []byte(strconv.Itoa(other.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	if p.running() {
		t.Fatal("running() claims a process that runs another binary")
	}
	if err := p.stop(time.Second); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(p.pidFile, []byte(strconv.Itoa(other.Process.Pid)), 0o644) // stop removed it
	if owner := (process{binary: other.Path, pidFile: p.pidFile}); !owner.running() {
		t.Errorf("stop killed pid %d, which was not ours", other.Process.Pid)
	}
}

func TestExitedErrorShowsTheEndOfTheLog(t *testing.T) {
	p := sleepProcess(t)
	if err := p.start([]string{"--no-such-flag"}, nil); err != nil {
		t.Fatal(err)
	}
	if !p.waitGone(5 * time.Second) {
		t.Fatal("sleep --no-such-flag kept running")
	}
	msg := p.exitedError().Error()
	if !strings.Contains(msg, "sleeper exited") || !strings.Contains(msg, "no-such-flag") {
		t.Errorf("error does not show the log tail:\n%s", msg)
	}
}

func TestProcessIsNotOursWhenThePIDWasRecycled(t *testing.T) {
	p := sleepProcess(t)
	if err := p.start([]string{"60"}, nil); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.stop(time.Second) }()
	pid, started := p.record()
	if started == "" || started != startTime(pid) {
		t.Fatalf("PID file records start time %q, /proc says %q", started, startTime(pid))
	}
	// Same PID and binary, but another start time: a different process.
	if err := os.WriteFile(p.pidFile, []byte(fmt.Sprintf("%d 1\n", pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	if p.running() {
		t.Error("running() accepted a process whose start time differs from the record")
	}
	_ = os.WriteFile(p.pidFile, []byte(fmt.Sprintf("%d %s\n", pid, started)), 0o644)
}
