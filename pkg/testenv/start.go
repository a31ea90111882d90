package testenv

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Start brings the control plane up and returns an admin configuration once
// vela-core is ready and the fake node is Ready. Components that already run
// (from an earlier Start) are reused. If Start fails, it stops the processes
// it launched itself.
func (e *Environment) Start(ctx context.Context) (cfg *rest.Config, err error) {
	e.setDefaults()
	e.began = time.Now()
	ctx, cancel := context.WithTimeout(ctx, e.StartTimeout)
	defer cancel()

	release, err := e.KubeVelaRelease()
	if err != nil {
		return nil, err
	}
	e.logf("KubeVela %s, Kubernetes %s", release, KubernetesVersion)
	if missing := e.MissingBinaries(); len(missing) > 0 {
		return nil, fmt.Errorf("failed to find %v in %s (run VELA=%s hack/tools/build.sh)", missing, e.BinDir, release)
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
	// Prometheus needs nothing else: launched first, waited for last.
	if err := e.writePrometheusConfig(); err != nil {
		return nil, err
	}
	if _, err := s.launch(Prometheus); err != nil {
		return nil, err
	}
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
	if err := s.wait(ctx, Prometheus); err != nil {
		return nil, err
	}
	e.logf("control plane ready; KUBECONFIG=%s", e.Kubeconfig())
	return cfg, nil
}

// startKubeVela installs KubeVela's CRDs and starts vela-core, applying the
// built-in definitions while it boots. A control plane whose processes all
// ran already is only checked. When vela-core of another release than
// e.KubeVela runs (left by a Start with another $VELA), the chosen release's
// CRDs and definitions are applied over the existing ones and vela-core is
// replaced.
func (e *Environment) startKubeVela(ctx context.Context, cfg *rest.Config, s *startup) error {
	p := e.process(VelaCore)
	fresh := len(s.launched) > 0 || p.runningBinary() != p.binary
	if fresh {
		if err := installKubeVelaCRDs(ctx, cfg, e.KubeVela); err != nil {
			return err
		}
		e.logf("KubeVela %s CRDs served", e.KubeVela)
	}
	launched, err := s.launch(VelaCore)
	if err != nil {
		return err
	}
	if fresh || launched {
		n, err := applyKubeVelaSystem(ctx, cfg, e.KubeVela)
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
// A process of ours that runs another binary (another version, from a Start
// with another $VELA or before a version bump) is replaced.
func (s *startup) launch(name string) (bool, error) {
	if p := s.env.process(name); p.running() {
		running := p.runningBinary()
		if running == p.binary {
			s.env.logf("%s already running (pid %d)", name, p.pid())
			return false, nil
		}
		s.env.logf("%s runs %s, not %s: replacing it", name, filepath.Base(running), filepath.Base(p.binary))
		if err := s.env.stop(name); err != nil {
			return false, err
		}
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
