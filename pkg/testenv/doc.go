// Package testenv runs a real KubeVela control plane as local processes,
// without Docker or a kubelet, for the ml-platform addon's tests.
//
// The stack is etcd, kube-apiserver, kube-controller-manager and kube-scheduler
// (Kubernetes v1.37.2), kwok v0.7.0 faking one large node with GPUs,
// vela-core of one supported KubeVela release (v1.9.13, v1.10.9 or v1.11.0;
// default v1.11.0, run with the flags and environment of that release's Helm
// chart), a webhook-free Kubeflow training operator v1.9.4 and a Prometheus
// 3.16 (module v0.316.0) with its remote-write receiver on, which tests feed
// through package promwrite (PrometheusURL). All of them listen on 127.0.0.1
// only. The binaries are built from the Go module proxy
// by hack/tools/build.sh.
//
// With Clusters = 3 ($ML_PLATFORM_CLUSTERS=3) two more Kubernetes control
// planes, the managed clusters dev and prod (an apiserver on its own prefix
// of the hub's etcd, a controller-manager, a scheduler and a kwok node
// each), run next to the hub, joined to KubeVela through cluster-gateway
// v1.9.0-alpha.2 with the Secret `vela cluster join` writes; vela-core then
// runs with --enable-cluster-gateway (clusters.go, join.go).
//
// Use it like controller-runtime's envtest:
//
//	env := &testenv.Environment{Out: os.Stderr}
//	cfg, err := env.Start(ctx)
//	...
//	defer env.Stop()
//
// Every process writes a PID file and a log under StateDir, so a later
// invocation (cmd/cluster down) can stop exactly the processes a Start
// launched, and a second Start reuses the processes that still run. The PID
// file names the binary the process runs, so a control plane started with one
// KubeVela release is stopped by a `down` that would pick another, and a
// Start replaces a component that runs another version than it would start
// (vela-core of another release, or binaries from before a version bump).
//
// There is no kubelet: kwok fakes pod status (see kwok-stages.yaml). Pods of
// Deployments run forever; pods owned by a Job, TFJob or PyTorchJob, and pods
// labelled ml-platform.oam.dev/build=true, succeed (exit 0, the Kubeflow and
// build ones after ~3 s); a pod labelled ml-platform.oam.dev/simulate=fail
// fails instead (exit 1, message "simulated failure"). Logs, exec,
// port-forward, probes and Service traffic do not exist.
//
// The TFJob CRD is not installed: the ml-platform addon installs it, and the
// training operator starts reconciling once discovery serves it. Other CRDs a
// test cluster needs come from Go modules: see Extras and InstallCRDs.
//
// Environment variables (each overrides the default of one Environment field):
//
//	VELA                       KubeVela      default v1.11.0 (one of KubeVelaReleases)
//	ML_PLATFORM_CACHE          the cache folder, default $HOME/.cache/ml-platform
//	                           (BinDir is its bin/, StateDir defaults to its state/)
//	ML_PLATFORM_STATE          StateDir      default $ML_PLATFORM_CACHE/state
//	ML_PLATFORM_BASE_PORT      BasePort      default 16000
//	ML_PLATFORM_START_TIMEOUT  StartTimeout  default 3m (a Go duration)
//	ML_PLATFORM_CLUSTERS       Clusters      default 1 (1 or 3)
package testenv
