package testenv

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"
)

// Names of the components, as accepted by Restart.
const (
	Etcd                  = "etcd"
	KubeAPIServer         = "kube-apiserver"
	KubeControllerManager = "kube-controller-manager"
	KubeScheduler         = "kube-scheduler"
	Kwok                  = "kwok"
	VelaCore              = "vela-core"
	TrainingOperator      = "training-operator"
	Prometheus            = "prometheus"
)

// Components lists every component in start order.
//
// Prometheus comes first: it needs nothing else, so Start launches it before
// etcd and only waits for it at the end (it is ready in about a second, so
// it adds no time to a start), and Stop stops it last.
var Components = []string{Prometheus, Etcd, KubeAPIServer, KubeControllerManager, KubeScheduler, Kwok, TrainingOperator, VelaCore}

// Port offsets from Environment.BasePort. With the default base 16000 the
// apiserver listens on 127.0.0.1:16443.
const (
	etcdClientPortOffset       = 379
	etcdPeerPortOffset         = 380
	apiServerPortOffset        = 443
	controllerManagerPortOff   = 257
	schedulerPortOffset        = 259
	kwokPortOffset             = 247
	velaMetricsPortOffset      = 80
	velaHealthPortOffset       = 81
	operatorMetricsPortOffset  = 82
	operatorHealthPortOffset   = 83
	prometheusPortOffset       = 90
	serviceClusterIPRange      = "10.96.0.0/16"
	serviceAccountIssuer       = "https://kubernetes.default.svc.cluster.local"
	fakeNodeAnnotationSelector = "kwok.x-k8s.io/node=fake"
)

// component describes how to run and probe one process.
type component struct {
	name string
	// binary is the binary's name, <binary>-<version>, when it is not name
	// (the managed clusters' kube-apiserver-dev runs kube-apiserver).
	binary string
	// version returns the version in the binary's name, <name>-<version>.
	version func(e *Environment) string
	// args returns the command line flags.
	args func(e *Environment) []string
	// env returns extra environment variables.
	env func(e *Environment) []string
	// healthURL is polled until it answers 200 OK.
	healthURL func(e *Environment) string
	// portOffsets are the ports it listens on, as offsets from BasePort.
	portOffsets []int
	// maxStopGrace caps Environment.StopGracePeriod for this component.
	maxStopGrace time.Duration
}

func componentByName(name string) (component, error) {
	for _, list := range [][]component{components, multiClusterComponents} {
		for _, c := range list {
			if c.name == name {
				return c, nil
			}
		}
	}
	return component{}, fmt.Errorf("unknown component %q (known: %v %v)", name, Components, MultiClusterComponents)
}

// binaryName is the binary c runs, without its version.
func (c component) binaryName() string {
	if c.binary != "" {
		return c.binary
	}
	return c.name
}

var components = []component{
	{
		name: Prometheus, version: fixed(PrometheusVersion),
		args: func(e *Environment) []string {
			return []string{
				"--config.file=" + e.path(prometheusConfigFile),
				"--storage.tsdb.path=" + e.path("prometheus"),
				"--storage.tsdb.retention.time=1d",
				"--web.listen-address=127.0.0.1:" + e.port(prometheusPortOffset),
				// Tests write the series of a canary through remote write
				// (pkg/testenv/promwrite): there is nothing to scrape.
				"--web.enable-remote-write-receiver",
				"--log.level=warn",
			}
		},
		healthURL:   func(e *Environment) string { return e.url("http", prometheusPortOffset) + "/-/ready" },
		portOffsets: []int{prometheusPortOffset},
		// Its TSDB head is test data; a quick stop loses nothing that matters.
		maxStopGrace: 2 * time.Second,
	},
	{
		name: Etcd, version: fixed(EtcdVersion),
		args: func(e *Environment) []string {
			client, peer := e.url("http", etcdClientPortOffset), e.url("http", etcdPeerPortOffset)
			return []string{
				"--name=default",
				"--data-dir=" + e.path("etcd"),
				"--listen-client-urls=" + client,
				"--advertise-client-urls=" + client,
				"--listen-peer-urls=" + peer,
				"--initial-advertise-peer-urls=" + peer,
				"--initial-cluster=default=" + peer,
				"--quota-backend-bytes=4294967296",
				// Test data: losing the last writes on a host crash is fine.
				"--unsafe-no-fsync",
			}
		},
		healthURL:   func(e *Environment) string { return e.url("http", etcdClientPortOffset) + "/health" },
		portOffsets: []int{etcdClientPortOffset, etcdPeerPortOffset},
		// On SIGTERM it waits for the apiserver's watch streams to end. Its
		// write-ahead log makes a kill safe.
		maxStopGrace: 2 * time.Second,
	},
	{
		name: KubeAPIServer, version: fixed(KubernetesVersion),
		args: func(e *Environment) []string {
			return append([]string{
				"--etcd-servers=" + e.url("http", etcdClientPortOffset),
				"--bind-address=127.0.0.1",
				"--advertise-address=127.0.0.1",
				"--secure-port=" + e.port(apiServerPortOffset),
				"--tls-cert-file=" + e.path(apiServerCertFile),
				"--tls-private-key-file=" + e.path(apiServerKeyFile),
				"--client-ca-file=" + e.path(caCertFile),
				"--token-auth-file=" + e.path(tokenFile),
				"--service-account-key-file=" + e.path(serviceAccountPublicKeyFile),
				"--service-account-signing-key-file=" + e.path(serviceAccountKeyFile),
				"--service-account-issuer=" + serviceAccountIssuer,
				"--service-cluster-ip-range=" + serviceClusterIPRange,
				"--authorization-mode=RBAC",
				"--allow-privileged=true",
				// The default reconciler would write 127.0.0.1 into the
				// `kubernetes` Endpoints, which validation rejects.
				"--endpoint-reconciler-type=none",
				"--profiling=false",
			}, e.aggregationArgs()...)
		},
		healthURL:   func(e *Environment) string { return e.url("https", apiServerPortOffset) + "/readyz" },
		portOffsets: []int{apiServerPortOffset},
		// On SIGTERM it waits for open watches, which its clients hold for
		// minutes; its state is in etcd, so a quick kill loses nothing.
		maxStopGrace: 2 * time.Second,
	},
	{
		name: KubeControllerManager, version: fixed(KubernetesVersion),
		args: func(e *Environment) []string {
			return []string{
				"--kubeconfig=" + e.Kubeconfig(),
				"--bind-address=127.0.0.1",
				"--secure-port=" + e.port(controllerManagerPortOff),
				"--cert-dir=" + e.path(KubeControllerManager),
				"--leader-elect=false",
				"--service-account-private-key-file=" + e.path(serviceAccountKeyFile),
				"--root-ca-file=" + e.path(caCertFile),
				"--use-service-account-credentials=false",
				// Pod CIDRs are not needed without a kubelet. Kubernetes 1.37
				// removed the cloud-provider controllers (service-lb,
				// node-route, cloud-node-lifecycle): naming one here now
				// fails "not in the list of known controllers".
				"--controllers=*,-node-ipam-controller",
				"--cluster-signing-cert-file=" + e.path(caCertFile),
				"--cluster-signing-key-file=" + e.path(caKeyFile),
				// The default 20 QPS per controller makes bulk tests crawl.
				"--kube-api-qps=1000",
				"--kube-api-burst=2000",
			}
		},
		healthURL:   func(e *Environment) string { return e.url("https", controllerManagerPortOff) + "/healthz" },
		portOffsets: []int{controllerManagerPortOff},
	},
	{
		name: KubeScheduler, version: fixed(KubernetesVersion),
		args: func(e *Environment) []string {
			return []string{
				"--kubeconfig=" + e.Kubeconfig(),
				"--bind-address=127.0.0.1",
				"--secure-port=" + e.port(schedulerPortOffset),
				"--cert-dir=" + e.path(KubeScheduler),
				"--leader-elect=false",
				"--kube-api-qps=1000",
				"--kube-api-burst=2000",
			}
		},
		healthURL:   func(e *Environment) string { return e.url("https", schedulerPortOffset) + "/healthz" },
		portOffsets: []int{schedulerPortOffset},
	},
	{
		name: Kwok, version: fixed(KwokVersion),
		args: func(e *Environment) []string {
			return []string{
				"--kubeconfig=" + e.Kubeconfig(),
				"--config=" + e.path(kwokStagesFile),
				"--manage-all-nodes=false",
				"--manage-nodes-with-annotation-selector=" + fakeNodeAnnotationSelector,
				"--node-ip=127.0.0.1",
				"--node-lease-duration-seconds=40",
				"--server-address=127.0.0.1:" + e.port(kwokPortOffset),
			}
		},
		healthURL:   func(e *Environment) string { return e.url("http", kwokPortOffset) + "/healthz" },
		portOffsets: []int{kwokPortOffset},
	},
	{
		name: TrainingOperator, version: fixed(TrainingOperatorVersion),
		args: func(e *Environment) []string {
			return []string{
				"--metrics-bind-address=127.0.0.1:" + e.port(operatorMetricsPortOffset),
				"--health-probe-bind-address=127.0.0.1:" + e.port(operatorHealthPortOffset),
				"--enable-scheme=tfjob,pytorchjob",
			}
		},
		env:         func(e *Environment) []string { return []string{"KUBECONFIG=" + e.Kubeconfig()} },
		healthURL:   func(e *Environment) string { return e.url("http", operatorHealthPortOffset) + "/readyz" },
		portOffsets: []int{operatorMetricsPortOffset, operatorHealthPortOffset},
	},
	{
		name: VelaCore, version: func(e *Environment) string { return e.KubeVela },
		args: func(e *Environment) []string {
			// Local-only settings first, then the release's chart defaults
			// (velacore.go; TestVelaCoreRunsWithItsChartDefaults).
			return append([]string{
				"--metrics-addr=127.0.0.1:" + e.port(velaMetricsPortOffset),
				"--health-addr=127.0.0.1:" + e.port(velaHealthPortOffset),
				"--use-webhook=false",
				"--enable-leader-election=false",
			}, concat(e.clusterGatewayArgs(), velaCoreChartArgs[e.KubeVela])...)
		},
		env: func(e *Environment) []string {
			return append([]string{"KUBECONFIG=" + e.Kubeconfig()}, velaCoreChartEnv[e.KubeVela]...)
		},
		healthURL:   func(e *Environment) string { return e.url("http", velaHealthPortOffset) + "/readyz" },
		portOffsets: []int{velaMetricsPortOffset, velaHealthPortOffset},
	},
}

func fixed(version string) func(*Environment) string {
	return func(*Environment) string { return version }
}

// command returns the binary path and the full argument list of c,
// including the caller's ExtraArgs.
func (e *Environment) command(c component) (string, []string) {
	args := append(c.args(e), e.ExtraArgs[c.name]...)
	return filepath.Join(e.BinDir, c.binaryName()+"-"+c.version(e)), args
}

func (e *Environment) port(offset int) string { return strconv.Itoa(e.BasePort + offset) }

func (e *Environment) url(scheme string, offset int) string {
	return scheme + "://127.0.0.1:" + e.port(offset)
}

func (e *Environment) path(name string) string { return filepath.Join(e.StateDir, name) }

// checkPortsFree fails when another process listens on one of c's ports: its
// health endpoint would answer for ours. It allows a process that was just
// stopped a moment to release its sockets.
func (e *Environment) checkPortsFree(c component) error {
	for _, offset := range c.portOffsets {
		address := "127.0.0.1:" + e.port(offset)
		var err error
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			var l net.Listener
			if l, err = net.Listen("tcp", address); err == nil {
				_ = l.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("failed to start %s: %s is in use by another process (another control plane with BasePort %d?): %w",
					c.name, address, e.BasePort, err)
			}
		}
	}
	return nil
}
