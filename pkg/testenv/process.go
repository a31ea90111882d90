package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A process is one component binary, tracked through a PID file so that a
// later invocation can find and stop it. The file records the PID, the
// process start time and the binary; only a process with both, running the
// recorded binary, counts as ours, so a recycled PID (pid_max is often 32768)
// is never signalled. The binary is recorded rather than derived from the
// caller's configuration: a `down` run with another $VELA (or after a version
// bump) must still find the vela-core an earlier `up` started.
type process struct {
	name string
	// binary is the one the current configuration runs; a process started
	// with another one (see runningBinary) still counts as ours.
	binary  string
	pidFile string
	logFile string
}

func (e *Environment) process(name string) process {
	binary, _ := e.command(mustComponent(name))
	return process{
		name:    name,
		binary:  binary,
		pidFile: e.path(filepath.Join("run", name+".pid")),
		logFile: e.path(filepath.Join("logs", name+".log")),
	}
}

func mustComponent(name string) component {
	c, err := componentByName(name)
	if err != nil {
		panic(err)
	}
	return c
}

// start launches the binary in its own process group (so a Ctrl-C in the
// terminal that ran `cmd/cluster up` does not reach it), appends its output
// to the log file and records its PID.
func (p process) start(args, env []string) error {
	for _, dir := range []string{filepath.Dir(p.pidFile), filepath.Dir(p.logFile)} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("failed to create %s: %w", dir, err)
		}
	}
	log, err := os.OpenFile(p.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("failed to open the log of %s: %w", p.name, err)
	}
	defer log.Close() // the child keeps its own descriptor
	fmt.Fprintf(log, "==== %s starting %s %s\n", time.Now().Format(time.RFC3339), p.binary, strings.Join(args, " "))

	cmd := exec.Command(p.binary, args...)
	cmd.Env = append(inheritedEnv(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("failed to start %s: %w", p.name, err)
	}
	go func() { _ = cmd.Wait() }() // reap it if it exits while we still run
	pid := cmd.Process.Pid
	if err := p.writeRecord(pid, p.binary); err != nil {
		_ = cmd.Process.Kill()
		return err
	}
	return nil
}

// writeRecord writes the PID file that record reads: "<pid> <start time> <binary>".
func (p process) writeRecord(pid int, binary string) error {
	if err := os.WriteFile(p.pidFile, []byte(fmt.Sprintf("%d %s %s\n", pid, startTime(pid), binary)), 0o644); err != nil {
		return fmt.Errorf("failed to write the PID file of %s: %w", p.name, err)
	}
	return nil
}

// pid returns the recorded PID, or 0 when there is none.
func (p process) pid() int {
	pid, _, _ := p.record()
	return pid
}

// record returns the PID, start time and binary in the PID file. A file
// written before binaries were recorded holds "<pid> <start time>" (or just
// the PID): its binary is taken to be p.binary.
func (p process) record() (pid int, started, binary string) {
	data, err := os.ReadFile(p.pidFile)
	if err != nil {
		return 0, "", ""
	}
	fields := strings.SplitN(strings.TrimSpace(string(data)), " ", 3)
	pid, _ = strconv.Atoi(fields[0])
	binary = p.binary
	if len(fields) > 1 {
		started = fields[1]
	}
	if len(fields) > 2 && fields[2] != "" {
		binary = fields[2]
	}
	return pid, started, binary
}

// runningBinary returns the binary the recorded process runs (which may
// differ from p.binary), or "" when no process of ours runs.
func (p process) runningBinary() string {
	pid, started, binary := p.record()
	if pid <= 0 || (started != "" && startTime(pid) != started) {
		return ""
	}
	// Right after exec the kernel may not have set up the new command line
	// yet (it reads as empty): look again a few times before deciding.
	for attempt := 0; ; attempt++ {
		if !alive(pid) {
			return ""
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			return ""
		}
		if len(cmdline) > 0 || attempt == 10 {
			if argv0, _, _ := bytes.Cut(cmdline, []byte{0}); string(argv0) == binary {
				return binary
			}
			return ""
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// running reports whether the recorded PID is alive and still runs the
// recorded binary.
func (p process) running() bool { return p.runningBinary() != "" }

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	fields := statFields(pid)
	return len(fields) > 0 && fields[0] != "Z"
}

// residentBytes returns the resident memory of pid (VmRSS), or 0.
func residentBytes(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kib << 10
		}
	}
	return 0
}

// startTime returns the start time of pid in clock ticks since boot, or "".
func startTime(pid int) string {
	if fields := statFields(pid); len(fields) > 19 {
		return fields[19]
	}
	return ""
}

// statFields returns /proc/<pid>/stat from the state on (field 3 onwards):
// "pid (comm) S ppid ...", where comm may contain spaces.
func statFields(pid int) []string {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(stat[i+1:]))
}

// stop sends SIGTERM to the recorded process, then SIGKILL after grace, and
// removes the PID file. Stopping a process that does not run is not an error.
func (p process) stop(grace time.Duration) error {
	defer os.Remove(p.pidFile)
	if !p.running() {
		return nil
	}
	pid := p.pid()
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("failed to stop %s (pid %d): %w", p.name, pid, err)
	}
	if p.waitGone(grace) {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("failed to kill %s (pid %d): %w", p.name, pid, err)
	}
	if !p.waitGone(5 * time.Second) {
		return fmt.Errorf("failed to stop %s: pid %d still runs after SIGKILL", p.name, pid)
	}
	return nil
}

func (p process) waitGone(timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !p.running() {
			return true
		}
	}
	return !p.running()
}

// logTail returns the last n lines of the process log, indented, for error messages.
func (p process) logTail(n int) string {
	f, err := os.Open(p.logFile)
	if err != nil {
		return "    (no log: " + err.Error() + ")"
	}
	defer f.Close()
	const window = 16 << 10
	if info, err := f.Stat(); err == nil && info.Size() > window {
		_, _ = f.Seek(-window, io.SeekEnd)
	}
	data, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// exitedError describes a process that died, with the end of its log.
func (p process) exitedError() error {
	return fmt.Errorf("%s exited; last lines of %s:\n%s", p.name, p.logFile, p.logTail(20))
}

// strays returns the PIDs of processes that run a binary of component name
// from BinDir with one of the component's listen ports of this environment
// on their command line, other than the one its PID file records.
func (e *Environment) strays(name string) []int {
	c := mustComponent(name)
	recorded, _, _ := e.process(name).record()
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil || pid == recorded || pid == os.Getpid() || !alive(pid) {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if filepath.Dir(args[0]) != e.BinDir || !strings.HasPrefix(filepath.Base(args[0]), c.binaryName()+"-v") {
			continue
		}
		if listensOnOneOf(args[1:], e, c.portOffsets) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func listensOnOneOf(args []string, e *Environment, offsets []int) bool {
	for _, arg := range args {
		for _, offset := range offsets {
			port := e.port(offset)
			if strings.Contains(arg, "127.0.0.1:"+port) || strings.HasSuffix(arg, "-port="+port) {
				return true
			}
		}
	}
	return false
}

// adopt records pid in the PID file of component name, so that stop can
// stop it like a process Start launched.
func (e *Environment) adopt(name string, pid int) error {
	p := e.process(name)
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return fmt.Errorf("failed to read the command line of pid %d: %w", pid, err)
	}
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	if err := os.MkdirAll(filepath.Dir(p.pidFile), 0o755); err != nil {
		return fmt.Errorf("failed to create %s: %w", filepath.Dir(p.pidFile), err)
	}
	return p.writeRecord(pid, string(argv0))
}

// inheritedEnv is this process's environment without CUE_EXPERIMENT: the
// offline renderer sets it for itself (pkg/render/cueenv, vela-core v1.11's
// value), and a component gets only what its own configuration says (for
// vela-core, its release's chart), not what the caller evaluates CUE with.
func inheritedEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CUE_EXPERIMENT=") {
			env = append(env, kv)
		}
	}
	return env
}
