// Package testenv runs a real KubeVela control plane as local processes,
// without Docker or a kubelet, for the ml-platform addon's tests.
//
// The stack is etcd, kube-apiserver, kube-controller-manager and kube-scheduler
// (Kubernetes v1.37.2), kwok v0.7.0 faking one large node with GPUs,
// vela-core of one supported KubeVela release (v1.9.13, v1.10.9 or v1.11.0;
// default v1.11.0, run with the flags and environment of that release's Helm
// chart) and a webhook-free Kubeflow training operator v1.9.4. All of them
// listen on 127.0.0.1 only. The binaries are built from the Go module proxy
// by hack/tools/build.sh.
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
package testenv
