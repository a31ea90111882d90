package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ml-platform/ml-platform/pkg/testenv/vela"
)

// Environment variables that override the defaults of Environment fields.
const (
	EnvStateDir     = "ML_PLATFORM_STATE"
	EnvCacheDir     = "ML_PLATFORM_CACHE"
	EnvBasePort     = "ML_PLATFORM_BASE_PORT"
	EnvStartTimeout = "ML_PLATFORM_START_TIMEOUT"
)

// Environment is a local KubeVela control plane made of processes. The zero
// value is ready to use; every field has a default.
type Environment struct {
	// StateDir holds the PKI, the kubeconfig, etcd's data, the logs
	// (logs/<component>.log) and the PID files (run/<component>.pid).
	// Default: $ML_PLATFORM_STATE, else $ML_PLATFORM_CACHE/state, else
	// $HOME/.cache/ml-platform/state.
	StateDir string

	// KubeVela is the KubeVela release to run, one of KubeVelaReleases: it
	// picks the vela-core and vela CLI binaries, the chart the CRDs, built-in
	// definitions and vela-core's flags come from, and the image tag of the
	// vela-core placeholder Deployment. Default: $VELA, else
	// DefaultKubeVelaRelease. Start fails on an unsupported release.
	KubeVela string

	// BinDir holds the binaries built by hack/tools/build.sh, named
	// <component>-<version>. Default: $ML_PLATFORM_CACHE/bin, else
	// $HOME/.cache/ml-platform/bin.
	BinDir string

	// BasePort is added to fixed offsets to give every listener its port on
	// 127.0.0.1 (the apiserver gets BasePort+443). Give two environments that
	// run at the same time different base ports.
	// Default: $ML_PLATFORM_BASE_PORT, else 16000.
	BasePort int

	// StartTimeout bounds Start and Restart.
	// Default: $ML_PLATFORM_START_TIMEOUT (a Go duration), else 3m.
	StartTimeout time.Duration

	// StopGracePeriod is how long a process may take to exit after SIGTERM
	// before it gets SIGKILL. Default: 10s. etcd and kube-apiserver get at
	// most 2s: they would wait for their clients' watches to end.
	StopGracePeriod time.Duration

	// Out receives one progress line per phase. Default: io.Discard.
	Out io.Writer

	// Clusters is the number of Kubernetes clusters: 1, the hub only, or 3,
	// the hub and the managed clusters dev and prod joined to KubeVela
	// through cluster-gateway (ManagedClusters; see clusters.go).
	// Default: $ML_PLATFORM_CLUSTERS, else 1. Start fails on another number.
	Clusters int

	// ExtraArgs appends command line flags to a component, keyed by component
	// name, e.g. {VelaCore: {"--kube-api-qps=500"}}.
	ExtraArgs map[string][]string

	began time.Time
}

func (e *Environment) setDefaults() {
	home, _ := os.UserHomeDir()
	cache := filepath.Join(home, ".cache", "ml-platform")
	if dir := os.Getenv(EnvCacheDir); dir != "" {
		cache = dir
	}
	if e.StateDir == "" {
		e.StateDir = filepath.Join(cache, "state")
		if dir := os.Getenv(EnvStateDir); dir != "" {
			e.StateDir = dir
		}
	}
	if e.BinDir == "" {
		e.BinDir = filepath.Join(cache, "bin")
	}
	if e.KubeVela == "" {
		e.KubeVela = DefaultKubeVelaRelease
		if release := os.Getenv(EnvKubeVela); release != "" {
			e.KubeVela = release
		}
	}
	if e.BasePort == 0 {
		e.BasePort = 16000
		if port, err := strconv.Atoi(os.Getenv(EnvBasePort)); err == nil && port > 0 {
			e.BasePort = port
		}
	}
	if e.StartTimeout == 0 {
		e.StartTimeout = 3 * time.Minute
		if d, err := time.ParseDuration(os.Getenv(EnvStartTimeout)); err == nil && d > 0 {
			e.StartTimeout = d
		}
	}
	if e.Clusters == 0 {
		e.Clusters = 1
		if n, err := strconv.Atoi(os.Getenv(EnvClusters)); err == nil && n != 0 {
			e.Clusters = n
		}
	}
	if e.StopGracePeriod == 0 {
		e.StopGracePeriod = 10 * time.Second
	}
	if e.Out == nil {
		e.Out = io.Discard
	}
}

// Kubeconfig returns the path of the admin kubeconfig.
func (e *Environment) Kubeconfig() string {
	e.setDefaults()
	return e.path(kubeconfigFile)
}

// KubeVelaRelease returns the release the environment runs (see the
// KubeVela field), or an error naming the supported releases.
func (e *Environment) KubeVelaRelease() (string, error) {
	e.setDefaults()
	if err := vela.CheckRelease(e.KubeVela); err != nil {
		if e.KubeVela == os.Getenv(EnvKubeVela) {
			return "", fmt.Errorf("$%s: %w", EnvKubeVela, err)
		}
		return "", err
	}
	return e.KubeVela, nil
}

// VelaCLI returns the path of the vela CLI of the chosen KubeVela release,
// which hack/tools/build.sh builds next to the control plane binaries.
func (e *Environment) VelaCLI() string {
	e.setDefaults()
	return filepath.Join(e.BinDir, "vela-"+e.KubeVela)
}

// MissingBinaries lists the binaries that BinDir lacks.
func (e *Environment) MissingBinaries() []string {
	e.setDefaults()
	var missing []string
	for _, c := range e.activeComponents() {
		if binary, _ := e.command(c); !isExecutable(binary) {
			missing = append(missing, filepath.Base(binary))
		}
	}
	if !isExecutable(e.VelaCLI()) {
		missing = append(missing, filepath.Base(e.VelaCLI()))
	}
	return missing
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}

// Stop stops every component whose PID file names a live process of ours,
// in reverse start order, and returns all failures together. It also stops
// strays: processes of BinDir's binaries that listen on this environment's
// ports but that no PID file records (a `down` before PID files named the
// binary could lose track of a vela-core of another release that way).
func (e *Environment) Stop() error {
	e.setDefaults()
	var errs []error
	// The managed clusters and cluster-gateway first: their apiservers use
	// the hub's etcd. They are stopped whatever Clusters says, so a `down`
	// without ML_PLATFORM_CLUSTERS=3 stops an `up` with it.
	all := append(append([]string{}, Components...), MultiClusterComponents...)
	for i := len(all) - 1; i >= 0; i-- {
		name := all[i]
		if err := e.stop(name); err != nil {
			errs = append(errs, err)
		}
		for _, pid := range e.strays(name) {
			e.logf("stopping a stray %s (pid %d) that no PID file recorded", name, pid)
			if err := e.adopt(name, pid); err != nil {
				errs = append(errs, err)
			} else if err := e.stop(name); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Restart stops one component (see Components) and starts it again, waiting
// until it is ready; after etcd it also waits for the apiserver.
func (e *Environment) Restart(ctx context.Context, name string) error {
	e.setDefaults()
	e.began = time.Now()
	if _, err := componentByName(name); err != nil {
		return err
	}
	if _, err := e.KubeVelaRelease(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, e.StartTimeout)
	defer cancel()
	if err := e.stop(name); err != nil {
		return fmt.Errorf("failed to restart %s: %w", name, err)
	}
	e.logf("%s stopped", name)
	if err := e.launch(name); err != nil {
		return err
	}
	if err := e.waitReady(ctx, name); err != nil {
		return err
	}
	e.logf("%s ready", name)
	if name == Etcd {
		if err := e.waitReady(ctx, KubeAPIServer); err != nil {
			return err
		}
		e.logf("%s ready", KubeAPIServer)
	}
	e.logf("%s restarted", name)
	return nil
}

// Wipe deletes StateDir. It refuses while a component still runs.
func (e *Environment) Wipe() error {
	e.setDefaults()
	for _, name := range append(append([]string{}, Components...), MultiClusterComponents...) {
		if p := e.process(name); p.running() {
			return fmt.Errorf("failed to wipe %s: %s still runs (pid %d)", e.StateDir, name, p.pid())
		}
	}
	if err := os.RemoveAll(e.StateDir); err != nil {
		return fmt.Errorf("failed to wipe %s: %w", e.StateDir, err)
	}
	return nil
}

// ComponentStatus is what Status reports about one component.
type ComponentStatus struct {
	Name    string
	PID     int    // 0 when no process of ours runs
	Binary  string // the binary it runs (its name carries the version)
	Healthy bool   // the health endpoint answered 200 OK
	Err     error  // why it is not healthy
	RSS     int64  // resident memory in bytes
	LogFile string
}

// Status reports the process and health of every component.
func (e *Environment) Status(ctx context.Context) []ComponentStatus {
	e.setDefaults()
	var out []ComponentStatus
	for _, c := range e.activeComponents() {
		name := c.name
		p := e.process(name)
		s := ComponentStatus{Name: name, LogFile: p.logFile}
		if p.running() {
			s.PID = p.pid()
			s.Binary = p.runningBinary()
			s.RSS = residentBytes(s.PID)
			s.Err = probe(ctx, mustComponent(name).healthURL(e))
			s.Healthy = s.Err == nil
		} else {
			s.Err = errors.New("not running")
		}
		out = append(out, s)
	}
	return out
}

func (e *Environment) logf(format string, args ...interface{}) {
	if e.began.IsZero() { // Stop and Wipe do not set it
		e.began = time.Now()
	}
	fmt.Fprintf(e.Out, "[%5.1fs] %s\n", time.Since(e.began).Seconds(), fmt.Sprintf(format, args...))
}
