package controlplane

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
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

// VelaCLI returns the path of the vela CLI that hack/tools/build.sh builds
// next to the control plane binaries.
func (e *Environment) VelaCLI() string {
	e.setDefaults()
	return filepath.Join(e.BinDir, "vela-"+KubeVelaVersion)
}

// MissingBinaries lists the binaries that BinDir lacks.
func (e *Environment) MissingBinaries() []string {
	e.setDefaults()
	var missing []string
	for _, c := range components {
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

// Start brings the control plane up and returns an admin configuration once
// vela-core is ready and the fake node is Ready. Components that already run
// (from an earlier Start) are reused. If Start fails, it stops the processes
// it launched itself.
func (e *Environment) Start(ctx context.Context) (cfg *rest.Config, err error) {
	e.setDefaults()
	e.began = time.Now()
	ctx, cancel := context.WithTimeout(ctx, e.StartTimeout)
	defer cancel()

	if missing := e.MissingBinaries(); len(missing) > 0 {
		return nil, fmt.Errorf("failed to find %v in %s (run hack/tools/build.sh)", missing, e.BinDir)
	}
	if err := e.ensurePKI(); err != nil {
		return nil, err
	}
	if err := e.writeKwokStages(); err != nil {
		return nil, err
	}
	e.logf("certificates and kubeconfig ready")

	s := &startup{env: e}
	defer func() {
		if err != nil {
			s.rollBack()
		}
	}()
	if err := s.run(ctx, Etcd); err != nil {
		return nil, err
	}
	if err := s.run(ctx, KubeAPIServer); err != nil {
		return nil, err
	}
	if cfg, err = e.RESTConfig(); err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create a client: %w", err)
	}
	if err := createFakeNode(ctx, cs); err != nil {
		return nil, err
	}
	if err := s.run(ctx, KubeControllerManager, KubeScheduler, Kwok, TrainingOperator); err != nil {
		return nil, err
	}
	if err := e.startKubeVela(ctx, cfg, s); err != nil {
		return nil, err
	}
	if err := e.waitForCluster(ctx, cs); err != nil {
		return nil, err
	}
	e.logf("control plane ready; KUBECONFIG=%s", e.Kubeconfig())
	return cfg, nil
}

// startKubeVela installs KubeVela's CRDs and starts vela-core, applying the
// built-in definitions while it boots. A control plane whose processes all
// ran already is only checked.
func (e *Environment) startKubeVela(ctx context.Context, cfg *rest.Config, s *startup) error {
	fresh := len(s.launched) > 0
	if fresh {
		if err := installKubeVelaCRDs(ctx, cfg); err != nil {
			return err
		}
		e.logf("KubeVela CRDs served")
	}
	launched, err := s.launch(VelaCore)
	if err != nil {
		return err
	}
	if fresh || launched {
		n, err := applyKubeVelaSystem(ctx, cfg)
		if err != nil {
			return err
		}
		e.logf("%d built-in definitions, velaql views, addon registry and vela-core placeholder applied", n)
	}
	return s.wait(ctx, VelaCore)
}

// startup remembers which processes one Start launched, to roll them back.
type startup struct {
	env      *Environment
	launched []string
}

// run launches the components that do not run yet and waits until all are ready.
func (s *startup) run(ctx context.Context, names ...string) error {
	for _, name := range names {
		if _, err := s.launch(name); err != nil {
			return err
		}
	}
	return s.wait(ctx, names...)
}

// launch starts the component unless a process of ours runs it already.
func (s *startup) launch(name string) (bool, error) {
	if p := s.env.process(name); p.running() {
		s.env.logf("%s already running (pid %d)", name, p.pid())
		return false, nil
	}
	if err := s.env.launch(name); err != nil {
		return false, err
	}
	s.launched = append(s.launched, name)
	return true, nil
}

func (s *startup) wait(ctx context.Context, names ...string) error {
	for _, name := range names {
		if err := s.env.waitReady(ctx, name); err != nil {
			return err
		}
	}
	s.env.logf("%s ready", strings.Join(names, ", "))
	return nil
}

func (s *startup) rollBack() {
	for i := len(s.launched) - 1; i >= 0; i-- {
		_ = s.env.stop(s.launched[i])
	}
	if len(s.launched) > 0 {
		s.env.logf("start failed: stopped the %d processes it launched", len(s.launched))
	}
}

// waitForCluster is the readiness gate: the fake node is Ready and the
// default ServiceAccount exists, so pods can be created and scheduled.
func (e *Environment) waitForCluster(ctx context.Context, cs kubernetes.Interface) error {
	var last error
	err := wait.PollImmediateUntilWithContext(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		ready, err := nodeReady(ctx, cs)
		if err != nil || !ready {
			last = fmt.Errorf("node %s is not Ready (%v)", FakeNodeName, err)
			return false, nil
		}
		if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
			last = fmt.Errorf("no default ServiceAccount yet (%v)", err)
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("failed to see the cluster ready: %v: %w", last, err)
	}
	e.logf("node %s Ready, default ServiceAccount present", FakeNodeName)
	return nil
}

// Stop stops every component whose PID file names a live process of ours,
// in reverse start order, and returns all failures together.
func (e *Environment) Stop() error {
	e.setDefaults()
	var errs []error
	for i := len(Components) - 1; i >= 0; i-- {
		if err := e.stop(Components[i]); err != nil {
			errs = append(errs, err)
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
	for _, name := range Components {
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
	PID     int   // 0 when no process of ours runs
	Healthy bool  // the health endpoint answered 200 OK
	Err     error // why it is not healthy
	RSS     int64 // resident memory in bytes
	LogFile string
}

// Status reports the process and health of every component.
func (e *Environment) Status(ctx context.Context) []ComponentStatus {
	e.setDefaults()
	var out []ComponentStatus
	for _, name := range Components {
		p := e.process(name)
		s := ComponentStatus{Name: name, LogFile: p.logFile}
		if p.running() {
			s.PID = p.pid()
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

// stop stops one component, allowing it its grace period.
func (e *Environment) stop(name string) error {
	grace := e.StopGracePeriod
	if limit := mustComponent(name).maxStopGrace; limit > 0 && grace > limit {
		grace = limit
	}
	return e.process(name).stop(grace)
}

func (e *Environment) launch(name string) error {
	c := mustComponent(name)
	if err := e.checkPortsFree(c); err != nil {
		return err
	}
	binary, args := e.command(c)
	var env []string
	if c.env != nil {
		env = c.env(e)
	}
	if err := os.MkdirAll(e.StateDir, 0o755); err != nil {
		return fmt.Errorf("failed to create %s: %w", e.StateDir, err)
	}
	p := e.process(name)
	if err := p.start(args, env); err != nil {
		return err
	}
	e.logf("%s started (pid %d, log %s)", filepath.Base(binary), p.pid(), p.logFile)
	return nil
}

// waitReady polls the component's health endpoint; a process that exits
// meanwhile fails at once, with the end of its log.
func (e *Environment) waitReady(ctx context.Context, name string) error {
	p, url := e.process(name), mustComponent(name).healthURL(e)
	var last error
	err := wait.PollImmediateUntilWithContext(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		if !p.running() {
			return false, p.exitedError()
		}
		last = probe(ctx, url)
		// Checked again: a process that failed to bind may still be exiting.
		return last == nil && p.running(), nil
	})
	if err != nil && p.running() {
		return fmt.Errorf("failed to see %s ready at %s (last probe: %v): %w; last lines of %s:\n%s",
			name, url, last, err, p.logFile, p.logTail(20))
	}
	return err
}

// probeClient checks loopback health endpoints. kube-controller-manager and
// kube-scheduler serve them with self-signed certificates, hence no
// verification; nothing but a status code is read.
var probeClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // loopback health probe
}

func probe(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d: %s", url, resp.StatusCode, body)
	}
	return nil
}

func (e *Environment) logf(format string, args ...interface{}) {
	fmt.Fprintf(e.Out, "[%5.1fs] %s\n", time.Since(e.began).Seconds(), fmt.Sprintf(format, args...))
}
