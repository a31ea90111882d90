package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oam-dev/kubevela/pkg/utils/common"

	"github.com/ml-platform/ml-platform/pkg/testenv"
	"github.com/ml-platform/ml-platform/pkg/testenv/addon"
	"github.com/ml-platform/ml-platform/pkg/testenv/vela"
)

// stack is one embedded control plane with the addon enabled.
type stack struct {
	env    *testenv.Environment
	cfg    *rest.Config
	client client.Client
	kube   kubernetes.Interface
}

// newEnvironment is the benchmark's own control plane: its own state folder
// and ports, and kube-controller-manager and kube-scheduler client QPS
// raised as in the KubeVela baseline (shared/research/perf-baseline.md).
func newEnvironment(stateDir string, basePort int, velaArgs ...string) *testenv.Environment {
	qps := []string{"--kube-api-qps=1000", "--kube-api-burst=2000"}
	return &testenv.Environment{
		StateDir:     stateDir,
		BasePort:     basePort,
		Out:          os.Stderr,
		StartTimeout: 8 * time.Minute,
		ExtraArgs: map[string][]string{
			testenv.KubeControllerManager: qps,
			testenv.KubeScheduler:         qps,
			testenv.VelaCore:              velaArgs,
		},
	}
}

// startAFreshStack stops whatever an earlier run left in the state folder,
// wipes it, starts the control plane, enables the staged addon (without
// the in-cluster training operator: it runs as a local process), installs
// the Gateway API CRDs and creates the namespaces the apps use.
func startAFreshStack(ctx context.Context, env *testenv.Environment, namespaces ...string) (*stack, error) {
	_ = env.Stop()
	if err := env.Wipe(); err != nil {
		return nil, err
	}
	cfg, err := env.Start(ctx)
	if err != nil {
		return nil, err
	}
	// The benchmark's own client must not be what limits creation.
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 1000, 2000
	s := &stack{env: env, cfg: cfg}
	if s.client, err = client.New(cfg, client.Options{Scheme: common.Scheme}); err != nil {
		return s, err
	}
	if s.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return s, err
	}
	if _, err := addon.Enable(ctx, addon.Options{
		CLI:    &vela.CLI{Bin: env.VelaCLI(), Kubeconfig: env.Kubeconfig()},
		Params: []string{"installTrainingOperator=false"},
	}); err != nil {
		return s, err
	}
	if err := testenv.InstallExtras(ctx, cfg, testenv.GatewayAPI); err != nil {
		return s, err
	}
	for _, ns := range namespaces {
		err := s.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return s, fmt.Errorf("failed to create namespace %s: %w", ns, err)
		}
	}
	return s, nil
}

// profilingPort is vela-core's pprof address with -vela-cpuprofile, as an
// offset from the base port (pkg/testenv uses offsets up to 443).
const profilingPortOffset = 90

// profileVelaCore saves a CPU profile of vela-core taken over d.
func profileVelaCore(ctx context.Context, env *testenv.Environment, d time.Duration, path string) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", env.BasePort+profilingPortOffset, int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("failed to profile vela-core: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("failed to profile vela-core: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// pidOf reads a component's PID file (run/<component>.pid: "<pid> <start time>").
func pidOf(env *testenv.Environment, component string) (int, error) {
	data, err := os.ReadFile(filepath.Join(env.StateDir, "run", component+".pid"))
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 0, fmt.Errorf("empty PID file of %s", component)
	}
	return strconv.Atoi(fields[0])
}

// waitUntilTheStackIsQuiet waits, as the baseline did, until vela-core used
// less than 0.05 CPU-s and kube-apiserver less than 0.3 CPU-s over 5 s
// (vela-core reconciles the built-in definitions and the addon after
// start). It gives up after limit and says so.
func waitUntilTheStackIsQuiet(ctx context.Context, s *stack, limit time.Duration) (quiet bool, waited time.Duration) {
	began := time.Now()
	prev := cpuSecondsOfEveryComponent(s.env)
	for time.Since(began) < limit {
		select {
		case <-ctx.Done():
			return false, time.Since(began)
		case <-time.After(5 * time.Second):
		}
		now := cpuSecondsOfEveryComponent(s.env)
		vela := now[testenv.VelaCore] - prev[testenv.VelaCore]
		api := now[testenv.KubeAPIServer] - prev[testenv.KubeAPIServer]
		prev = now
		if vela < 0.05 && api < 0.3 {
			return true, time.Since(began)
		}
		fmt.Fprintf(os.Stderr, "  waiting for quiet: last 5 s vela-core %.2f CPU-s, kube-apiserver %.2f CPU-s\n", vela, api)
	}
	return false, time.Since(began)
}

// podsPerFakeNode is what pkg/testenv's kwok node holds (status.capacity.pods).
const podsPerFakeNode = 1000

// addFakeNodesFor adds copies of the kwok node (kwok-node-1, ...) until
// the nodes hold the pods with a tenth to spare, and waits until kwok has
// made them Ready. Each gets its own /22 pod CIDR.
func addFakeNodesFor(ctx context.Context, s *stack, pods int) error {
	first, err := s.kube.CoreV1().Nodes().Get(ctx, testenv.FakeNodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	for i := 1; i*podsPerFakeNode < pods+pods/10; i++ {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name:        fmt.Sprintf("kwok-node-%d", i),
			Labels:      map[string]string{},
			Annotations: first.Annotations,
		}}
		for k, v := range first.Labels {
			node.Labels[k] = v
		}
		node.Labels["kubernetes.io/hostname"] = node.Name
		cidr := fmt.Sprintf("10.244.%d.0/22", 4*i)
		node.Spec = corev1.NodeSpec{PodCIDR: cidr, PodCIDRs: []string{cidr}}
		node.Status = corev1.NodeStatus{Capacity: first.Status.Capacity, Allocatable: first.Status.Allocatable}
		if _, err := s.kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("failed to add fake node %s: %w", node.Name, err)
		}
		say("added fake node %s for %d pods", node.Name, pods)
		ready := func() (bool, error) {
			n, err := s.kube.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		}
		if err := pollUntil(ctx, 500*time.Millisecond, 2*time.Minute, ready); err != nil {
			return fmt.Errorf("fake node %s never became Ready: %w", node.Name, err)
		}
	}
	return nil
}
