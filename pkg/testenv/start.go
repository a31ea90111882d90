package testenv

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
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
	if err := e.checkClusters(); err != nil {
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
	if e.multiCluster() {
		if err := e.ensureMultiClusterPKI(); err != nil {
			return nil, err
		}
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
	if e.multiCluster() {
		if err := e.startManagedClusters(ctx, cfg, cs, s); err != nil {
			return nil, err
		}
	}
	if err := e.startKubeVela(ctx, cfg, s); err != nil {
		return nil, err
	}
	if err := e.waitForCluster(ctx, cs); err != nil {
		return nil, err
	}
	if e.multiCluster() {
		if err := e.waitForManagedClusters(ctx, cs); err != nil {
			return nil, err
		}
	}
	if err := s.wait(ctx, Prometheus); err != nil {
		return nil, err
	}
	e.logf("control plane ready; KUBECONFIG=%s", e.Kubeconfig())
	return cfg, nil
}

// startManagedClusters starts the managed clusters' control planes, each
// with its fake node, joins them to the hub and starts cluster-gateway, so
// that vela-core, started next, finds the gateway's APIService.
func (e *Environment) startManagedClusters(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, s *startup) error {
	var apiservers, controllers []string
	for _, cluster := range ManagedClusters {
		apiservers = append(apiservers, managedComponentName(KubeAPIServer, cluster))
		for _, kind := range managedKinds[1:] {
			controllers = append(controllers, managedComponentName(kind, cluster))
		}
	}
	if err := s.run(ctx, apiservers...); err != nil {
		return err
	}
	var managed []kubernetes.Interface
	for _, cluster := range ManagedClusters {
		mcfg, err := clientcmd.BuildConfigFromFlags("", e.ManagedKubeconfig(cluster))
		if err != nil {
			return fmt.Errorf("failed to load the kubeconfig of cluster %s: %w", cluster, err)
		}
		mcs, err := kubernetes.NewForConfig(mcfg)
		if err != nil {
			return fmt.Errorf("failed to create a client of cluster %s: %w", cluster, err)
		}
		if err := createFakeNode(ctx, mcs); err != nil {
			return fmt.Errorf("cluster %s: %w", cluster, err)
		}
		// `vela cluster join` creates vela-system in the cluster it joins.
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: velaSystem}}
		if _, err := mcs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("failed to create namespace %s in cluster %s: %w", velaSystem, cluster, err)
		}
		managed = append(managed, mcs)
	}
	if err := s.run(ctx, controllers...); err != nil {
		return err
	}
	if err := e.joinManagedClusters(ctx, cfg, cs); err != nil {
		return err
	}
	if err := s.run(ctx, ClusterGateway); err != nil {
		return err
	}
	for i, mcs := range managed {
		if err := e.waitForCluster(ctx, mcs); err != nil {
			return fmt.Errorf("cluster %s: %w", ManagedClusters[i], err)
		}
	}
	e.logf("clusters %v joined", ManagedClusters)
	return nil
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
		switch mismatch := s.env.clustersMismatch(name, p.pid()); {
		case running == p.binary && mismatch == "":
			s.env.logf("%s already running (pid %d)", name, p.pid())
			return false, nil
		case running == p.binary:
			s.env.logf("%s runs %s: replacing it", name, mismatch)
		default:
			s.env.logf("%s runs %s, not %s: replacing it", name, filepath.Base(running), filepath.Base(p.binary))
		}
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
