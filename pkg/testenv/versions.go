package testenv

import "github.com/ml-platform/ml-platform/pkg/testenv/vela"

// Versions of the binaries. The go.mod files under hack/tools pin the same
// versions (TestVersionsMatchToolModules keeps both in sync); build.sh names
// each binary <name>-<version> after them.
const (
	KubernetesVersion       = "v1.37.2"
	EtcdVersion             = "v3.5.35"
	KwokVersion             = "v0.7.0"
	TrainingOperatorVersion = "v1.9.4"
	// PrometheusVersion is the Go module version of the Prometheus server
	// (module v0.316.0 is Prometheus 3.16.0).
	PrometheusVersion = "v0.316.0"
	// ClusterGatewayVersion is the cluster-gateway server that the vela-core
	// chart of every supported release deploys
	// (multicluster.clusterGateway.image.tag); it runs only with
	// Environment.Clusters = 3.
	ClusterGatewayVersion = "v1.9.0-alpha.2"
)

// KubeVela releases the control plane can run: vela-core, the vela CLI, the
// chart's CRDs, built-in definitions and controller flags all come from the
// release Environment.KubeVela names. Each has a tool module
// hack/tools/vela/<release> (TestKubeVelaReleasesMatchToolModules).
var KubeVelaReleases = vela.Releases

// DefaultKubeVelaRelease is the release used when neither
// Environment.KubeVela nor $VELA names one.
const DefaultKubeVelaRelease = vela.DefaultRelease

// EnvKubeVela overrides the default of Environment.KubeVela.
const EnvKubeVela = vela.EnvRelease
