package testenv

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Managed clusters. With Environment.Clusters = 3 the control plane has,
// next to the hub, two more Kubernetes control planes named dev and prod
// (ManagedClusters), each a kube-apiserver on its own prefix of the hub's
// etcd, a kube-controller-manager, a kube-scheduler and a kwok fake node,
// joined to KubeVela through KubeVela's cluster-gateway the way `vela cluster
// join` joins a cluster: an Opaque Secret named after the cluster in
// vela-system (clusterSecret). vela-core then runs with
// --enable-cluster-gateway and --cluster-gateway-url, and the hub's
// kube-apiserver serves cluster-gateway's API group through an APIService, as
// the vela-core chart with multicluster.enabled sets it up (docs/design.md,
// "Managed clusters"). With Clusters = 1 (the default) none of this runs and
// the hub's components have the flags they always had.

// EnvClusters overrides the default of Environment.Clusters.
const EnvClusters = "ML_PLATFORM_CLUSTERS"

// ClusterGateway is the component name of KubeVela's cluster-gateway.
const ClusterGateway = "cluster-gateway"

// ManagedClusters are the clusters joined to the hub when Clusters is 3.
var ManagedClusters = []string{"dev", "prod"}

// Port offsets of the multi-cluster components. A managed cluster's
// component listens on the hub component's offset plus the cluster's shift;
// everything stays below BasePort+1000, so environments 1000 ports apart do
// not collide.
const (
	clusterGatewayPortOffset = 94
	devPortShift             = 100
	prodPortShift            = 200
)

// managedClusterPorts gives each managed cluster its port shift.
var managedClusterPorts = map[string]int{"dev": devPortShift, "prod": prodPortShift}

// managedKinds are the hub components each managed cluster runs its own of.
var managedKinds = []string{KubeAPIServer, KubeControllerManager, KubeScheduler, Kwok}

// managedComponentName is the component name of kind in cluster, e.g.
// kube-apiserver-dev.
func managedComponentName(kind, cluster string) string { return kind + "-" + cluster }

// MultiClusterComponents lists, in start order, the components that run only
// when Clusters is 3: each managed cluster's apiserver, controller-manager,
// scheduler and kwok, then cluster-gateway.
var MultiClusterComponents = func() []string {
	var names []string
	for _, kind := range managedKinds {
		for _, cluster := range ManagedClusters {
			names = append(names, managedComponentName(kind, cluster))
		}
	}
	return append(names, ClusterGateway)
}()

var multiClusterComponents = func() []component {
	var out []component
	for _, kind := range managedKinds {
		for _, cluster := range ManagedClusters {
			out = append(out, managedComponent(kind, cluster))
		}
	}
	return append(out, component{
		name: ClusterGateway, version: fixed(ClusterGatewayVersion),
		args: func(e *Environment) []string {
			// The chart's flags (charts/vela-core/templates/cluster-gateway),
			// then what a process outside a pod needs: a loopback address, a
			// self-signed serving certificate (the chart's APIService skips
			// TLS verification too) and the hub's kubeconfig for its Secret
			// informer and its delegated authentication and authorization.
			return []string{
				"--secure-port=" + e.port(clusterGatewayPortOffset),
				"--secret-namespace=" + velaSystem,
				"--feature-gates=APIPriorityAndFairness=false,ClientIdentityPenetration=false",
				"--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
				"--bind-address=127.0.0.1",
				"--cert-dir=" + e.path(ClusterGateway),
				"--kubeconfig=" + e.Kubeconfig(),
				"--authentication-kubeconfig=" + e.Kubeconfig(),
				"--authorization-kubeconfig=" + e.Kubeconfig(),
			}
		},
		env:         func(e *Environment) []string { return []string{"KUBECONFIG=" + e.Kubeconfig()} },
		healthURL:   func(e *Environment) string { return e.url("https", clusterGatewayPortOffset) + "/readyz" },
		portOffsets: []int{clusterGatewayPortOffset},
	})
}()

// managedComponent is the hub's component kind for a managed cluster: the
// same binary and flags, with the cluster's ports, kubeconfig and folders,
// and for the apiserver its own etcd prefix.
func managedComponent(kind, cluster string) component {
	hub := hubComponent(kind)
	shift := managedClusterPorts[cluster]
	c := hub
	c.name, c.binary = managedComponentName(kind, cluster), kind
	c.args = func(e *Environment) []string {
		args := e.managedArgs(hub.args(e), cluster, shift)
		if kind == KubeAPIServer {
			args = append(args, "--etcd-prefix="+managedEtcdPrefix(cluster))
		}
		return args
	}
	c.healthURL = func(e *Environment) string {
		return e.managedArgs([]string{hub.healthURL(e)}, cluster, shift)[0]
	}
	c.portOffsets = nil
	for _, offset := range hub.portOffsets {
		c.portOffsets = append(c.portOffsets, offset+shift)
	}
	return c
}

// hubComponent is the hub's component named kind.
func hubComponent(kind string) component {
	for _, c := range components {
		if c.name == kind {
			return c
		}
	}
	panic("no hub component " + kind)
}

// managedEtcdPrefix is where a managed cluster's apiserver keeps its objects
// in the hub's etcd (the hub's apiserver uses the default, /registry).
func managedEtcdPrefix(cluster string) string { return "/ml-platform-clusters/" + cluster }

// hubPortOffsets are the hub's listen ports a managed cluster's components
// name: their own ports and their apiserver's. etcd's is not among them: the
// managed apiservers share the hub's etcd.
var hubPortOffsets = []int{apiServerPortOffset, controllerManagerPortOff, schedulerPortOffset, kwokPortOffset}

// managedArgs rewrites a hub component's arguments for a managed cluster:
// a hub port (as the end of an argument, ":<port>" or "=<port>", or a URL's
// port) becomes the cluster's, the hub kubeconfig the cluster's, and a
// component's own state folder (--cert-dir) the cluster's.
func (e *Environment) managedArgs(args []string, cluster string, shift int) []string {
	out := make([]string, len(args))
	for i, arg := range args {
		for _, offset := range hubPortOffsets {
			hub, managed := e.port(offset), e.port(offset+shift)
			for _, sep := range []string{":", "="} {
				if rest, ok := strings.CutSuffix(arg, sep+hub); ok {
					arg = rest + sep + managed
				}
				arg = strings.Replace(arg, sep+hub+"/", sep+managed+"/", 1)
			}
		}
		if arg == "--kubeconfig="+e.Kubeconfig() {
			arg = "--kubeconfig=" + e.ManagedKubeconfig(cluster)
		}
		if dir, ok := strings.CutPrefix(arg, "--cert-dir="); ok {
			arg = "--cert-dir=" + dir + "-" + cluster
		}
		out[i] = arg
	}
	return out
}

// ManagedKubeconfig returns the path of the admin kubeconfig of a managed
// cluster (dev or prod): the hub's CA and admin token, the cluster's apiserver.
func (e *Environment) ManagedKubeconfig(cluster string) string {
	e.setDefaults()
	return e.path(kubeconfigFile + "-" + cluster)
}

// ManagedClusterURL returns the apiserver URL of a managed cluster.
func (e *Environment) ManagedClusterURL(cluster string) string {
	e.setDefaults()
	return e.url("https", apiServerPortOffset+managedClusterPorts[cluster])
}

// multiCluster reports whether the environment runs the managed clusters.
func (e *Environment) multiCluster() bool { return e.Clusters == 3 }

// checkClusters validates Environment.Clusters.
func (e *Environment) checkClusters() error {
	switch e.Clusters {
	case 1, 3:
		return nil
	}
	where := ""
	if strconv.Itoa(e.Clusters) == os.Getenv(EnvClusters) {
		where = "$" + EnvClusters + ": "
	}
	return fmt.Errorf("%sunsupported number of clusters %d (1: the hub only; 3: the hub and the managed clusters %s)",
		where, e.Clusters, strings.Join(ManagedClusters, " and "))
}

// clusterGatewayArgs are vela-core's multi-cluster flags: the gateway off on
// one cluster, else on and reached directly (the chart's
// multicluster.clusterGateway.direct: true), its self-signed certificate
// not verified as the chart does without secureTLS.
func (e *Environment) clusterGatewayArgs() []string {
	if !e.multiCluster() {
		return []string{"--enable-cluster-gateway=false"}
	}
	return []string{
		"--enable-cluster-gateway=true",
		"--cluster-gateway-url=" + e.url("https", clusterGatewayPortOffset),
	}
}

// activeComponents are the components this environment runs, in start order.
func (e *Environment) activeComponents() []component {
	if !e.multiCluster() {
		return components
	}
	return append(append([]component{}, components...), multiClusterComponents...)
}

// clustersMarker is, for the hub components whose flags depend on Clusters,
// the flag that only the 3-cluster stack gives them.
var clustersMarker = map[string]string{
	KubeAPIServer: "--proxy-client-cert-file=",
	VelaCore:      "--enable-cluster-gateway=true",
}

// clustersMismatch says how the running process pid of component name was
// started for another number of clusters than e.Clusters ("" when it was
// not), so that a Start with ML_PLATFORM_CLUSTERS=3 after one without (or
// the reverse) replaces the hub's apiserver and vela-core.
func (e *Environment) clustersMismatch(name string, pid int) string {
	marker, ok := clustersMarker[name]
	if !ok {
		return ""
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	return clustersMismatchOf(strings.Split(string(cmdline), "\x00"), marker, e.multiCluster())
}

func clustersMismatchOf(args []string, marker string, multiCluster bool) string {
	has := hasPrefix(args, marker)
	switch {
	case has && !multiCluster:
		return "the flags of 3 clusters (" + strings.TrimSuffix(marker, "=") + ")"
	case !has && multiCluster:
		return "the flags of 1 cluster (no " + strings.TrimSuffix(marker, "=") + ")"
	}
	return ""
}

func hasPrefix(args []string, prefix string) bool {
	for _, arg := range args {
		if strings.HasPrefix(arg, prefix) {
			return true
		}
	}
	return false
}
