// Package controlplane runs a real KubeVela control plane as local processes,
// without Docker or a kubelet, for the ml-platform addon's tests.
//
// The stack is etcd, kube-apiserver, kube-controller-manager and kube-scheduler
// (Kubernetes v1.30.14), kwok v0.7.0 faking one large node with GPUs,
// vela-core v1.9.13 and a webhook-free Kubeflow training operator v1.8.1. All
// of them listen on 127.0.0.1 only. The binaries are built from the Go module
// proxy by hack/tools/build.sh.
//
// Use it like controller-runtime's envtest:
//
//	env := &controlplane.Environment{Out: os.Stderr}
//	cfg, err := env.Start(ctx)
//	...
//	defer env.Stop()
//
// Every process writes a PID file and a log under StateDir, so a later
// invocation (hack/cluster down) can stop exactly the processes a Start
// launched, and a second Start reuses the processes that still run.
//
// Environment variables (each overrides the default of one Environment field):
//
//	ML_PLATFORM_STATE          StateDir      default $HOME/.cache/ml-platform/state
//	ML_PLATFORM_CACHE          BinDir        default $HOME/.cache/ml-platform (binaries in bin/)
//	ML_PLATFORM_BASE_PORT      BasePort      default 16000
//	ML_PLATFORM_START_TIMEOUT  StartTimeout  default 3m (a Go duration)
package controlplane
