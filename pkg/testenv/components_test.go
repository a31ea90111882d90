package testenv

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestVersionsMatchToolModules(t *testing.T) {
	for dir, want := range map[string]string{
		"kube":              "k8s.io/kubernetes " + KubernetesVersion,
		"etcd":              "go.etcd.io/etcd/server/v3 " + EtcdVersion,
		"kwok":              "sigs.k8s.io/kwok " + KwokVersion,
		"vela/v1.9.13":      "github.com/oam-dev/kubevela v1.9.13",
		"vela/v1.10.9":      "github.com/oam-dev/kubevela v1.10.9",
		"vela/v1.11.0":      "github.com/oam-dev/kubevela v1.11.0",
		"training-operator": "github.com/kubeflow/training-operator " + TrainingOperatorVersion,
		"prometheus":        "github.com/prometheus/prometheus " + PrometheusVersion,
		"cluster-gateway":   "github.com/oam-dev/cluster-gateway " + ClusterGatewayVersion,
	} {
		data, err := os.ReadFile(filepath.Join("..", "..", "hack", "tools", dir, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`(?m)^(require )?\s*` + regexp.QuoteMeta(want) + `\s*$`).Match(data) {
			t.Errorf("hack/tools/%s/go.mod does not require %s; update versions.go or the module", dir, want)
		}
	}
}

func TestComponentsListenOnLoopbackOnly(t *testing.T) {
	e := &Environment{StateDir: "/state", BinDir: "/bin", BasePort: 20000}
	e.setDefaults()
	address := regexp.MustCompile(`(?:^|[/=])([0-9.]*|\[[0-9a-f:]*\]|localhost):\d+`)
	ports := map[string]string{}
	for _, c := range components {
		_, args := e.command(c)
		for _, arg := range args {
			for _, m := range address.FindAllStringSubmatch(arg, -1) {
				if m[1] != "127.0.0.1" {
					t.Errorf("%s: %s listens on %q, not 127.0.0.1", c.name, arg, m[1])
				}
			}
			if strings.HasPrefix(arg, "--secure-port=") || strings.HasPrefix(arg, "--listen-client-urls=") {
				port := arg[strings.LastIndex(arg, ":")+1:]
				if prev, dup := ports[port]; dup {
					t.Errorf("%s and %s share port %s", prev, c.name, port)
				}
				ports[port] = c.name
			}
		}
		if !strings.HasPrefix(c.healthURL(e), "http://127.0.0.1:2") && !strings.HasPrefix(c.healthURL(e), "https://127.0.0.1:2") {
			t.Errorf("%s: health URL %s is not on loopback above the base port", c.name, c.healthURL(e))
		}
	}
}

func TestComponentCommands(t *testing.T) {
	t.Setenv(EnvKubeVela, "")
	e := &Environment{StateDir: "/state", BinDir: "/cache/bin", BasePort: 16000,
		ExtraArgs: map[string][]string{VelaCore: {"--kube-api-qps=500"}}}
	e.setDefaults()
	for _, tc := range []struct {
		name       string
		wantBinary string
		wantArgs   []string
	}{
		{Etcd, "/cache/bin/etcd-" + EtcdVersion, []string{"--data-dir=/state/etcd", "--listen-client-urls=http://127.0.0.1:16379"}},
		{KubeAPIServer, "/cache/bin/kube-apiserver-" + KubernetesVersion, []string{
			"--etcd-servers=http://127.0.0.1:16379", "--secure-port=16443", "--authorization-mode=RBAC",
			"--endpoint-reconciler-type=none", "--token-auth-file=/state/pki/tokens.csv",
			"--service-account-signing-key-file=/state/pki/sa.key",
		}},
		{KubeControllerManager, "/cache/bin/kube-controller-manager-" + KubernetesVersion, []string{
			"--kubeconfig=/state/kubeconfig", "--leader-elect=false", "--kube-api-qps=1000",
		}},
		{KubeScheduler, "/cache/bin/kube-scheduler-" + KubernetesVersion, []string{"--kubeconfig=/state/kubeconfig", "--leader-elect=false"}},
		{Kwok, "/cache/bin/kwok-" + KwokVersion, []string{"--config=/state/kwok-stages.yaml", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake"}},
		{TrainingOperator, "/cache/bin/training-operator-" + TrainingOperatorVersion, []string{"--health-probe-bind-address=127.0.0.1:16083"}},
		{Prometheus, "/cache/bin/prometheus-" + PrometheusVersion, []string{
			"--config.file=/state/prometheus.yml", "--storage.tsdb.path=/state/prometheus",
			"--web.listen-address=127.0.0.1:16090", "--web.enable-remote-write-receiver",
		}},
		{VelaCore, "/cache/bin/vela-core-" + DefaultKubeVelaRelease, []string{
			"--use-webhook=false", "--enable-leader-election=false", "--enable-cluster-gateway=false",
			"--health-addr=127.0.0.1:16081", "--kube-api-qps=500",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			binary, args := e.command(mustComponent(tc.name))
			if binary != tc.wantBinary {
				t.Errorf("binary = %s, want %s", binary, tc.wantBinary)
			}
			for _, want := range tc.wantArgs {
				if !containsString(args, want) {
					t.Errorf("args lack %s:\n%s", want, strings.Join(args, "\n"))
				}
			}
		})
	}
}

func TestControllersReadTheKubeconfigFromTheirEnvironment(t *testing.T) {
	e := &Environment{StateDir: "/state"}
	for _, name := range []string{VelaCore, TrainingOperator} {
		if env := mustComponent(name).env(e); !containsString(env, "KUBECONFIG=/state/kubeconfig") {
			t.Errorf("%s env = %v, want KUBECONFIG=/state/kubeconfig", name, env)
		}
	}
}

func TestComponentsListsEveryComponentOnce(t *testing.T) {
	expectNamesInOrder(t, "Components", Components, components)
	if _, err := componentByName("kubelet"); err == nil {
		t.Error("componentByName(kubelet) did not fail")
	}
}

// expectNamesInOrder fails unless names are the names of cs, in order.
func expectNamesInOrder(t *testing.T, list string, names []string, cs []component) {
	t.Helper()
	if got := componentNames(cs); !reflect.DeepEqual(got, names) {
		t.Errorf("%s = %v, but the components are %v", list, names, got)
	}
}

func TestTheKubeVelaReleasePicksTheBinaries(t *testing.T) {
	for _, release := range KubeVelaReleases {
		t.Setenv(EnvKubeVela, release)
		e := &Environment{BinDir: "/cache/bin"}
		if got, err := e.KubeVelaRelease(); err != nil || got != release {
			t.Errorf("VELA=%s: KubeVelaRelease() = %s, %v", release, got, err)
		}
		if binary, _ := e.command(mustComponent(VelaCore)); binary != "/cache/bin/vela-core-"+release {
			t.Errorf("VELA=%s: vela-core binary %s", release, binary)
		}
		if e.VelaCLI() != "/cache/bin/vela-"+release {
			t.Errorf("VELA=%s: VelaCLI() = %s", release, e.VelaCLI())
		}
	}
	t.Setenv(EnvKubeVela, "")
	if got, _ := (&Environment{}).KubeVelaRelease(); got != DefaultKubeVelaRelease {
		t.Errorf("KubeVelaRelease() without $VELA = %s, want %s", got, DefaultKubeVelaRelease)
	}
	if got, _ := (&Environment{KubeVela: "v1.10.9"}).KubeVelaRelease(); got != "v1.10.9" {
		t.Errorf("the KubeVela field lost to the default: %s", got)
	}
	for _, e := range []*Environment{{KubeVela: "v1.8.0"}, {}} {
		t.Setenv(EnvKubeVela, "v1.8.0")
		_, err := e.KubeVelaRelease()
		if err == nil || !strings.Contains(err.Error(), "v1.9.13, v1.10.9, v1.11.0") {
			t.Errorf("KubeVelaRelease() of v1.8.0 = %v, want an error listing the supported releases", err)
		}
		if _, err := e.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "unsupported KubeVela release") {
			t.Errorf("Start() of v1.8.0 = %v, want the unsupported release error", err)
		}
	}
}

func TestDefaultsComeFromTheEnvironment(t *testing.T) {
	t.Setenv(EnvCacheDir, "/cache")
	t.Setenv(EnvStateDir, "")
	t.Setenv(EnvBasePort, "30000")
	t.Setenv(EnvStartTimeout, "90s")
	e := &Environment{}
	e.setDefaults()
	if e.StateDir != "/cache/state" || e.BinDir != "/cache/bin" || e.BasePort != 30000 || e.StartTimeout.Seconds() != 90 {
		t.Errorf("defaults = StateDir %s, BinDir %s, BasePort %d, StartTimeout %s", e.StateDir, e.BinDir, e.BasePort, e.StartTimeout)
	}
	t.Setenv(EnvStateDir, "/elsewhere")
	e = &Environment{}
	if e.Kubeconfig() != "/elsewhere/kubeconfig" {
		t.Errorf("Kubeconfig() = %s, want /elsewhere/kubeconfig", e.Kubeconfig())
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestLaunchRefusesAPortHeldByAnotherProcess(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	e := &Environment{StateDir: t.TempDir(), BasePort: port - kwokPortOffset}
	e.setDefaults()
	err = e.checkPortsFree(mustComponent(Kwok))
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Errorf("checkPortsFree = %v, want an error about the port in use", err)
	}
}

func TestPrometheusURLFollowsTheBasePort(t *testing.T) {
	e := &Environment{BasePort: 25000}
	if got, want := e.PrometheusURL(), "http://127.0.0.1:25090"; got != want {
		t.Errorf("PrometheusURL() = %s, want %s", got, want)
	}
	if got, want := mustComponent(Prometheus).healthURL(e), "http://127.0.0.1:25090/-/ready"; got != want {
		t.Errorf("health URL = %s, want %s", got, want)
	}
	if err := e.StopComponent("kubelet"); err == nil {
		t.Error("StopComponent(kubelet) did not fail")
	}
}

func TestPrometheusConfigIsWrittenIntoTheStateDir(t *testing.T) {
	e := &Environment{StateDir: filepath.Join(t.TempDir(), "state")}
	e.setDefaults()
	if err := e.writePrometheusConfig(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(e.StateDir, "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "scrape_configs") {
		t.Errorf("the test Prometheus scrapes nothing, but its config has scrape_configs:\n%s", data)
	}
}
