package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
	pid, started, _ := p.record()
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

// `make up VELA=v1.10.9` then `make down` (default VELA): the configured
// binary differs from the running one, which must still be stopped.
func TestStopStopsAProcessStartedWithAnotherBinary(t *testing.T) {
	p := sleepProcess(t)
	if err := p.start([]string{"60"}, nil); err != nil {
		t.Fatal(err)
	}
	pid := p.pid()
	later := p
	later.binary = "/cache/bin/sleep-v2" // what the configuration names now
	if !later.running() || later.runningBinary() != p.binary {
		t.Fatalf("running() = %v, runningBinary() = %q; want the recorded %s", later.running(), later.runningBinary(), p.binary)
	}
	if err := later.stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("pid %d still runs after stop", pid)
	}
}

func TestRecordReadsOlderPIDFiles(t *testing.T) {
	p := sleepProcess(t)
	_ = os.MkdirAll(filepath.Dir(p.pidFile), 0o755)
	for content, want := range map[string][3]string{
		"42\n":                     {"42", "", p.binary},
		"42 1234\n":                {"42", "1234", p.binary},
		"42 1234 /bin/vela core\n": {"42", "1234", "/bin/vela core"},
	} {
		_ = os.WriteFile(p.pidFile, []byte(content), 0o644)
		pid, started, binary := p.record()
		if got := [3]string{strconv.Itoa(pid), started, binary}; got != want {
			t.Errorf("record() of %q = %v, want %v", content, got, want)
		}
	}
}

// A process of ours that no PID file records (lost by an older `down`) is
// found by its binary and port and stopped by Stop.
func TestStopStopsAStrayProcess(t *testing.T) {
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Skip("no cat binary")
	}
	e := &Environment{StateDir: t.TempDir(), BinDir: t.TempDir(), BasePort: 23000, StopGracePeriod: time.Second}
	e.setDefaults()
	stray := filepath.Join(e.BinDir, "kwok-v0.0.1") // a version the configuration does not name
	if err := os.Symlink(cat, stray); err != nil {
		t.Fatal(err)
	}
	// cat reads its open stdin forever; its arguments carry the port.
	cmd := exec.Command(stray, "-", "--", "--server-address=127.0.0.1:"+e.port(kwokPortOffset))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill() }()
	other := &Environment{StateDir: e.StateDir, BinDir: e.BinDir, BasePort: 24000}
	other.setDefaults()
	if got := other.strays(Kwok); len(got) != 0 {
		t.Errorf("an environment on other ports claims pids %v", got)
	}
	// Right after exec the command line may still read as empty.
	var got []int
	for deadline := time.Now().Add(2 * time.Second); len(got) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		got = e.strays(Kwok)
	}
	if len(got) != 1 || got[0] != cmd.Process.Pid {
		t.Fatalf("strays(kwok) = %v, want [%d]", got, cmd.Process.Pid)
	}
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	if alive(cmd.Process.Pid) {
		t.Errorf("the stray pid %d survived Stop", cmd.Process.Pid)
	}
}

// A component does not inherit the CUE setting of the process that starts it
// (pkg/render/cueenv sets v1.11's for itself): vela-core v1.9/v1.10 run with
// none, as their charts do, and v1.11 with its chart's own.
func TestComponentsDoNotInheritCUEExperiment(t *testing.T) {
	t.Setenv("CUE_EXPERIMENT", "evalv3=0,keepvalidators=0")
	t.Setenv("ML_PLATFORM_PROBE", "kept")
	env := strings.Join(inheritedEnv(), "\n")
	if strings.Contains(env, "CUE_EXPERIMENT=") {
		t.Error("the inherited environment carries CUE_EXPERIMENT")
	}
	if !strings.Contains(env, "ML_PLATFORM_PROBE=kept") {
		t.Error("the inherited environment lost an unrelated variable")
	}
}
