package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oam-dev/kubevela/pkg/utils/common"

	"github.com/ml-platform/ml-platform/pkg/testenv"
	"github.com/ml-platform/ml-platform/pkg/testenv/vela"
)

// testCluster is the cluster the suite runs on. Whatever set it up registers
// its own undoing with DeferCleanup, so a failed set-up is undone too.
type testCluster struct {
	// kind is "embedded", "kind" or "existing".
	kind       string
	kubeconfig string
	config     *rest.Config
	client     client.Client
	vela       *vela.CLI
	// env is the embedded control plane, when the suite started one.
	env *testenv.Environment
	// addonArgs are the key=value arguments the addon is enabled with.
	addonArgs []string
}

var cluster *testCluster

// setUpCluster returns the cluster E2E_CLUSTER names (see the package doc),
// with the test-only CRDs installed (Gateway API, PodMonitor, terraform, flux).
func setUpCluster(ctx context.Context) *testCluster {
	mode := os.Getenv("E2E_CLUSTER")
	if mode == "" || mode == "auto" {
		mode = "embedded"
		if os.Getenv("KUBECONFIG") != "" {
			mode = "existing"
		}
	}
	var c *testCluster
	switch mode {
	case "embedded":
		c = startEmbedded(ctx)
	case "kind":
		c = createKindCluster(ctx)
	case "existing":
		Expect(os.Getenv("KUBECONFIG")).NotTo(BeEmpty(), "E2E_CLUSTER=existing needs KUBECONFIG")
		c = &testCluster{kind: "existing", kubeconfig: os.Getenv("KUBECONFIG")}
	default:
		Fail("unknown E2E_CLUSTER " + mode + " (auto, embedded, kind, existing)")
	}
	if c.config == nil {
		cfg, err := clientcmd.BuildConfigFromFlags("", c.kubeconfig)
		Expect(err).NotTo(HaveOccurred())
		c.config = cfg
	}
	c.config.QPS, c.config.Burst = 100, 200
	cli, err := client.New(c.config, client.Options{Scheme: common.Scheme})
	Expect(err).NotTo(HaveOccurred())
	c.client = cli
	bin, err := vela.FindBinary()
	Expect(err).NotTo(HaveOccurred())
	c.vela = &vela.CLI{Bin: bin, Kubeconfig: c.kubeconfig, Home: GinkgoT().TempDir()}
	By("installing the test-only CRDs: " + extraNames())
	Expect(testenv.InstallExtras(ctx, c.config)).To(Succeed())
	if c.env != nil && c.env.Clusters == 3 {
		for _, name := range testenv.ManagedClusters {
			By("installing the Gateway API and PodMonitor CRDs into cluster " + name + ", where services land")
			Expect(testenv.InstallExtras(ctx, managedConfig(c.env, name), testenv.GatewayAPI, testenv.PodMonitor)).To(Succeed())
		}
		// The addon goes where training runs (the hub) and to dev; prod
		// only serves, and the multicluster specs check that it has no
		// TFJob CRD.
		c.addonArgs = append(c.addonArgs, "--clusters={local,dev}")
	}
	release, err := vela.Release()
	Expect(err).NotTo(HaveOccurred())
	GinkgoWriter.Printf("e2e: running on the %s cluster with KubeVela %s (vela CLI %s; KUBECONFIG=%s)\n", c.kind, release, bin, c.kubeconfig)
	return c
}

func extraNames() string {
	s := ""
	for i, x := range testenv.Extras {
		if i > 0 {
			s += ", "
		}
		s += x.Name
	}
	return s
}

// startEmbedded starts a fresh control plane of local processes in its own
// state folder and ports, so it never touches a `make up` cluster.
func startEmbedded(ctx context.Context) *testCluster {
	env := &testenv.Environment{
		StateDir: filepath.Join(cacheDir(), "e2e-state"),
		BasePort: 17000,
		Out:      GinkgoWriter,
	}
	if dir := os.Getenv("ML_PLATFORM_E2E_STATE"); dir != "" {
		env.StateDir = dir
	}
	if port, err := strconv.Atoi(os.Getenv("ML_PLATFORM_E2E_BASE_PORT")); err == nil && port > 0 {
		env.BasePort = port
	}
	lockStateDir(env.StateDir)
	if missing := env.MissingBinaries(); len(missing) > 0 {
		Fail("the embedded control plane lacks " + joinNames(missing) + ": run `hack/tools/build.sh` (make e2e does)")
	}
	_ = env.Stop() // a run that was killed may have left processes behind
	Expect(env.Wipe()).To(Succeed())
	By("starting the embedded control plane: KubeVela " + env.KubeVela + ", Kubernetes " + testenv.KubernetesVersion)
	began := time.Now()
	cfg, err := env.Start(ctx)
	Expect(err).NotTo(HaveOccurred())
	// Registered now, so that a failure later in the suite's set-up still
	// stops every process; suite-level cleanups run after AfterSuite.
	DeferCleanup(func() {
		if *skipCleanup {
			GinkgoWriter.Printf("e2e: leaving the control plane running; KUBECONFIG=%s\n", env.Kubeconfig())
			return
		}
		Expect(env.Stop()).To(Succeed())
		Expect(env.Wipe()).To(Succeed())
	})
	GinkgoWriter.Printf("e2e: embedded control plane ready in %s\n", time.Since(began).Round(time.Millisecond))
	return &testCluster{
		kind:       "embedded",
		kubeconfig: env.Kubeconfig(),
		config:     cfg,
		env:        env,
		// The training operator runs as a local process here and no kubelet
		// can mount webhook certificates: the addon installs only the CRDs.
		addonArgs: []string{"installTrainingOperator=false"},
	}
}

func cacheDir() string {
	if d := os.Getenv("ML_PLATFORM_CACHE"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "ml-platform")
}

func joinNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

// lockStateDir holds an exclusive lock on the state folder for the rest of
// the run, so that a second run cannot wipe and restart this one's control
// plane under it; that run fails at once instead.
func lockStateDir(dir string) {
	Expect(os.MkdirAll(filepath.Dir(dir), 0o755)).To(Succeed())
	f, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	Expect(err).NotTo(HaveOccurred())
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		Fail("another e2e run uses " + dir + " (locked): wait for it, or give this run its own " +
			"ML_PLATFORM_E2E_STATE and ML_PLATFORM_E2E_BASE_PORT")
	}
	DeferCleanup(func() { _ = f.Close() }) // closing releases the lock
}
