package controlplane

// Versions of the binaries. The go.mod files under hack/tools pin the same
// versions (TestVersionsMatchToolModules keeps both in sync); build.sh names
// each binary <name>-<version> after them.
const (
	KubernetesVersion       = "v1.30.14"
	EtcdVersion             = "v3.5.35"
	KwokVersion             = "v0.7.0"
	KubeVelaVersion         = "v1.9.13"
	TrainingOperatorVersion = "v1.8.1"
)
