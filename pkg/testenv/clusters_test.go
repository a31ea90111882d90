package testenv

import (
	"context"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	clustergatewayv1alpha1 "github.com/oam-dev/cluster-gateway/pkg/apis/cluster/v1alpha1"
	velamulticluster "github.com/oam-dev/kubevela/pkg/multicluster"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func TestClustersDefaultsToOneAndReadsItsVariable(t *testing.T) {
	t.Setenv(EnvClusters, "")
	e := &Environment{}
	e.setDefaults()
	if e.Clusters != 1 || e.multiCluster() {
		t.Errorf("Clusters = %d by default, want 1 and no managed clusters", e.Clusters)
	}
	t.Setenv(EnvClusters, "3")
	e = &Environment{}
	e.setDefaults()
	if e.Clusters != 3 || !e.multiCluster() {
		t.Errorf("Clusters = %d with $%s=3, want 3", e.Clusters, EnvClusters)
	}
	if err := e.checkClusters(); err != nil {
		t.Errorf("3 clusters refused: %v", err)
	}
	t.Setenv(EnvClusters, "2")
	e = &Environment{}
	e.setDefaults()
	want := "$ML_PLATFORM_CLUSTERS: unsupported number of clusters 2 (1: the hub only; 3: the hub and the managed clusters dev and prod)"
	if err := e.checkClusters(); err == nil || err.Error() != want {
		t.Errorf("2 clusters: error %v, want %q", err, want)
	}
}

// The single-cluster stack keeps its components and flags: no managed
// cluster, no aggregation flags on the apiserver, vela-core without the
// gateway, no cluster-gateway binary needed.
func TestOneClusterRunsNoMultiClusterPiece(t *testing.T) {
	e := &Environment{StateDir: "/state", BinDir: "/cache/bin", BasePort: 16000, Clusters: 1}
	e.setDefaults()
	expectNamesInOrder(t, "Components", Components, e.activeComponents())
	_, apiserver := e.command(mustComponent(KubeAPIServer))
	for _, arg := range apiserver {
		if strings.HasPrefix(arg, "--requestheader-") || strings.HasPrefix(arg, "--proxy-client-") {
			t.Errorf("single-cluster apiserver has aggregation flag %s", arg)
		}
	}
	_, vela := e.command(mustComponent(VelaCore))
	if !containsString(vela, "--enable-cluster-gateway=false") || hasPrefix(vela, "--cluster-gateway-url") {
		t.Errorf("single-cluster vela-core args:\n%s", strings.Join(vela, "\n"))
	}
}

func TestMultiClusterComponentCommands(t *testing.T) {
	t.Setenv(EnvKubeVela, "")
	e := &Environment{StateDir: "/state", BinDir: "/cache/bin", BasePort: 16000, Clusters: 3}
	e.setDefaults()
	for _, tc := range []struct {
		name       string
		wantBinary string
		wantArgs   []string
		wantHealth string
	}{
		{KubeAPIServer, "/cache/bin/kube-apiserver-" + KubernetesVersion, []string{
			"--secure-port=16443", "--requestheader-client-ca-file=/state/pki/front-proxy-ca.crt",
			"--requestheader-allowed-names=front-proxy-client", "--proxy-client-cert-file=/state/pki/front-proxy-client.crt",
			"--proxy-client-key-file=/state/pki/front-proxy-client.key",
		}, "https://127.0.0.1:16443/readyz"},
		{"kube-apiserver-dev", "/cache/bin/kube-apiserver-" + KubernetesVersion, []string{
			"--secure-port=16543", "--etcd-servers=http://127.0.0.1:16379", "--etcd-prefix=/ml-platform-clusters/dev",
			"--token-auth-file=/state/pki/tokens.csv", "--tls-cert-file=/state/pki/apiserver.crt",
		}, "https://127.0.0.1:16543/readyz"},
		{"kube-apiserver-prod", "/cache/bin/kube-apiserver-" + KubernetesVersion, []string{
			"--secure-port=16643", "--etcd-prefix=/ml-platform-clusters/prod",
		}, "https://127.0.0.1:16643/readyz"},
		{"kube-controller-manager-prod", "/cache/bin/kube-controller-manager-" + KubernetesVersion, []string{
			"--kubeconfig=/state/kubeconfig-prod", "--secure-port=16457", "--cert-dir=/state/kube-controller-manager-prod",
		}, "https://127.0.0.1:16457/healthz"},
		{"kube-scheduler-dev", "/cache/bin/kube-scheduler-" + KubernetesVersion, []string{
			"--kubeconfig=/state/kubeconfig-dev", "--secure-port=16359", "--cert-dir=/state/kube-scheduler-dev",
		}, "https://127.0.0.1:16359/healthz"},
		{"kwok-dev", "/cache/bin/kwok-" + KwokVersion, []string{
			"--kubeconfig=/state/kubeconfig-dev", "--server-address=127.0.0.1:16347", "--config=/state/kwok-stages.yaml",
		}, "http://127.0.0.1:16347/healthz"},
		{ClusterGateway, "/cache/bin/cluster-gateway-" + ClusterGatewayVersion, []string{
			"--secure-port=16094", "--bind-address=127.0.0.1", "--secret-namespace=vela-system",
			"--kubeconfig=/state/kubeconfig", "--authentication-kubeconfig=/state/kubeconfig",
			"--authorization-kubeconfig=/state/kubeconfig",
		}, "https://127.0.0.1:16094/readyz"},
		{VelaCore, "/cache/bin/vela-core-" + DefaultKubeVelaRelease, []string{
			"--enable-cluster-gateway=true", "--cluster-gateway-url=https://127.0.0.1:16094",
		}, "http://127.0.0.1:16081/readyz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustComponent(tc.name)
			binary, args := e.command(c)
			if binary != tc.wantBinary {
				t.Errorf("binary = %s, want %s", binary, tc.wantBinary)
			}
			for _, want := range tc.wantArgs {
				if !containsString(args, want) {
					t.Errorf("args lack %s:\n%s", want, strings.Join(args, "\n"))
				}
			}
			if containsString(args, "--enable-cluster-gateway=false") {
				t.Errorf("multi-cluster args keep --enable-cluster-gateway=false")
			}
			if got := c.healthURL(e); got != tc.wantHealth {
				t.Errorf("health URL = %s, want %s", got, tc.wantHealth)
			}
		})
	}
}

// Every component of the 3-cluster stack listens on loopback on ports of its
// own, below BasePort+1000, and names no port of another cluster's.
func TestMultiClusterPortsAreDistinct(t *testing.T) {
	e := &Environment{StateDir: "/state", BinDir: "/bin", BasePort: 20000, Clusters: 3}
	e.setDefaults()
	owner := map[int]string{}
	for _, c := range e.activeComponents() {
		for _, offset := range c.portOffsets {
			if offset <= 0 || offset >= 1000 {
				t.Errorf("%s: port offset %d is outside 1-999", c.name, offset)
			}
			if prev, dup := owner[offset]; dup {
				t.Errorf("%s and %s share port offset %d", prev, c.name, offset)
			}
			owner[offset] = c.name
		}
	}
	for _, cluster := range ManagedClusters {
		for _, kind := range managedKinds {
			name := managedComponentName(kind, cluster)
			_, args := e.command(mustComponent(name))
			for _, arg := range args {
				for _, hubOffset := range hubPortOffsets {
					if strings.HasSuffix(arg, ":"+e.port(hubOffset)) || strings.HasSuffix(arg, "="+e.port(hubOffset)) {
						t.Errorf("%s: %s names the hub's port", name, arg)
					}
				}
				if arg == "--kubeconfig="+e.Kubeconfig() {
					t.Errorf("%s runs against the hub: %s", name, arg)
				}
			}
		}
	}
}

func TestMultiClusterComponentsAreKnownAndStoppedFirst(t *testing.T) {
	expectNamesInOrder(t, "MultiClusterComponents", MultiClusterComponents, multiClusterComponents)
	for _, name := range MultiClusterComponents {
		if _, err := componentByName(name); err != nil {
			t.Error(err)
		}
	}
	if got := MultiClusterComponents[len(MultiClusterComponents)-1]; got != ClusterGateway {
		t.Errorf("last multi-cluster component = %s, want %s (started after the clusters it serves)", got, ClusterGateway)
	}
}

// The join Secret is what KubeVela's own `vela cluster join` code writes for
// the managed cluster's kubeconfig, and what cluster-gateway reads as a
// token cluster at the managed apiserver's endpoint.
func TestManagedClusterSecretIsWhatVelaClusterJoinWrites(t *testing.T) {
	e := &Environment{StateDir: t.TempDir(), BasePort: 16000, Clusters: 3}
	e.setDefaults()
	if err := e.ensurePKI(); err != nil {
		t.Fatal(err)
	}
	if err := e.ensureMultiClusterPKI(); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	for _, cluster := range ManagedClusters {
		t.Run(cluster, func(t *testing.T) {
			ours, err := e.managedClusterSecret(cluster)
			if err != nil {
				t.Fatal(err)
			}
			cli := fake.NewClientBuilder().WithScheme(scheme).Build()
			if _, err := velamulticluster.JoinClusterByKubeConfig(context.Background(), cli, e.ManagedKubeconfig(cluster), cluster,
				velamulticluster.JoinClusterCreateNamespaceOption("")); err != nil {
				t.Fatal(err)
			}
			joined := &corev1.Secret{}
			if err := cli.Get(context.Background(), types.NamespacedName{Namespace: velaSystem, Name: cluster}, joined); err != nil {
				t.Fatal(err)
			}
			if ours.Name != joined.Name || ours.Namespace != joined.Namespace || ours.Type != joined.Type ||
				!reflect.DeepEqual(ours.Labels, joined.Labels) || !reflect.DeepEqual(ours.Data, joined.Data) {
				t.Errorf("our Secret %s/%s type %s labels %v data %s,\nvela cluster join's %s/%s type %s labels %v data %s",
					ours.Namespace, ours.Name, ours.Type, ours.Labels, dataKeys(ours.Data),
					joined.Namespace, joined.Name, joined.Type, joined.Labels, dataKeys(joined.Data))
			}
			vc, err := clustergatewayv1alpha1.NewClusterFromSecret(ours)
			if err != nil {
				t.Fatalf("cluster-gateway rejects the Secret: %v", err)
			}
			if vc.Spec.CredentialType != clustergatewayv1alpha1.CredentialTypeServiceAccountToken {
				t.Errorf("credential type = %s, want %s", vc.Spec.CredentialType, clustergatewayv1alpha1.CredentialTypeServiceAccountToken)
			}
			if want := "https://127.0.0.1:" + strconv.Itoa(16000+apiServerPortOffset+managedClusterPorts[cluster]); string(ours.Data["endpoint"]) != want {
				t.Errorf("endpoint = %s, want %s", ours.Data["endpoint"], want)
			}
		})
	}
}

func TestClusterGatewayAPIServiceNamesItsServiceInVelaSystem(t *testing.T) {
	e := &Environment{BasePort: 16000, Clusters: 3}
	svc, apiService := e.clusterGatewayObjects()
	spec := apiService.Object["spec"].(map[string]interface{})
	ref := spec["service"].(map[string]interface{})
	// vela-core takes the cluster Secrets' namespace from this Service
	// (multicluster.Initialize): it must be vela-system.
	if ref["namespace"] != velaSystem || ref["name"] != svc.Name || svc.Namespace != velaSystem {
		t.Errorf("APIService points at %v/%v, the Service is %s/%s; want both in %s", ref["namespace"], ref["name"], svc.Namespace, svc.Name, velaSystem)
	}
	if ref["port"] != int64(16094) || svc.Spec.Ports[0].Port != 16094 {
		t.Errorf("APIService port %v, Service port %d, want cluster-gateway's 16094", ref["port"], svc.Spec.Ports[0].Port)
	}
	if apiService.GetName() != "v1alpha1.cluster.core.oam.dev" || spec["group"] != "cluster.core.oam.dev" || spec["version"] != "v1alpha1" {
		t.Errorf("APIService %s serves %v/%v", apiService.GetName(), spec["group"], spec["version"])
	}
}

// A hub apiserver or vela-core started for the other number of clusters is
// told apart by its command line; the other components never are.
func TestClustersMismatchSeesTheOtherStacksFlags(t *testing.T) {
	one := &Environment{StateDir: "/state", BinDir: "/bin", BasePort: 16000, Clusters: 1}
	three := &Environment{StateDir: "/state", BinDir: "/bin", BasePort: 16000, Clusters: 3}
	one.setDefaults()
	three.setDefaults()
	for name, marker := range clustersMarker {
		_, oneArgs := one.command(mustComponent(name))
		_, threeArgs := three.command(mustComponent(name))
		if got := clustersMismatchOf(oneArgs, marker, false); got != "" {
			t.Errorf("%s of 1 cluster seen as %q by a 1-cluster start", name, got)
		}
		if got := clustersMismatchOf(threeArgs, marker, true); got != "" {
			t.Errorf("%s of 3 clusters seen as %q by a 3-cluster start", name, got)
		}
		if got := clustersMismatchOf(oneArgs, marker, true); !strings.Contains(got, "1 cluster") {
			t.Errorf("%s of 1 cluster not replaced by a 3-cluster start (%q)", name, got)
		}
		if got := clustersMismatchOf(threeArgs, marker, false); !strings.Contains(got, "3 clusters") {
			t.Errorf("%s of 3 clusters not replaced by a 1-cluster start (%q)", name, got)
		}
	}
	if got := one.clustersMismatch(Etcd, os.Getpid()); got != "" {
		t.Errorf("etcd judged by its flags: %q", got)
	}
}

func componentNames(cs []component) []string {
	var names []string
	for _, c := range cs {
		names = append(names, c.name)
	}
	return names
}

func dataKeys(data map[string][]byte) string {
	var keys []string
	for k := range data {
		keys = append(keys, k)
	}
	return strings.Join(keys, ",")
}
