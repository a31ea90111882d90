// Command training-operator runs the Kubeflow TFJob and PyTorchJob reconcilers
// of github.com/kubeflow/training-operator v1.9.4 outside a cluster, for the
// local control plane in pkg/testenv.
//
// It differs from upstream's cmd/training-operator.v1 in three ways:
//   - no webhooks and no certificate rotation (they need a kubelet to mount
//     the serving certificates, and the local control plane has no kubelet);
//   - metrics and health probes listen on 127.0.0.1 by default;
//   - it starts before the job CRDs exist: the ml-platform addon installs the
//     TFJob CRD after the control plane is up. Each reconciler is registered
//     only once discovery serves its resource, so the process is healthy at
//     once and begins reconciling when the CRD appears.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	"github.com/kubeflow/training-operator/pkg/config"
	"github.com/kubeflow/training-operator/pkg/controller.v1/common"
	pytorchcontroller "github.com/kubeflow/training-operator/pkg/controller.v1/pytorch"
	tensorflowcontroller "github.com/kubeflow/training-operator/pkg/controller.v1/tensorflow"
)

// job is one kind of Kubeflow job this operator can reconcile.
type job struct {
	plural string
	setup  func(mgr manager.Manager, threads int) error
}

var jobs = map[string]job{
	"tfjob": {plural: kubeflowv1.TFJobPlural, setup: func(mgr manager.Manager, threads int) error {
		return tensorflowcontroller.NewReconciler(mgr, common.GenNonGangSchedulerSetupFunc()).SetupWithManager(mgr, threads)
	}},
	"pytorchjob": {plural: kubeflowv1.PyTorchJobPlural, setup: func(mgr manager.Manager, threads int) error {
		return pytorchcontroller.NewReconciler(mgr, common.GenNonGangSchedulerSetupFunc()).SetupWithManager(mgr, threads)
	}},
}

func main() {
	var (
		metricsAddr  = flag.String("metrics-bind-address", "127.0.0.1:18081", "The address the metrics endpoint binds to.")
		probeAddr    = flag.String("health-probe-bind-address", "127.0.0.1:18082", "The address the /healthz and /readyz endpoints bind to.")
		schemes      = flag.String("enable-scheme", "tfjob,pytorchjob", "Comma-separated job kinds to reconcile (tfjob, pytorchjob).")
		threads      = flag.Int("controller-threads", 1, "Number of worker threads per reconciler.")
		pollInterval = flag.Duration("crd-poll-interval", time.Second, "How often to look for a job CRD that is not served yet.")
	)
	opts := zap.Options{Development: true}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")

	if err := run(*metricsAddr, *probeAddr, strings.Split(*schemes, ","), *threads, *pollInterval); err != nil {
		log.Error(err, "training-operator stopped")
		os.Exit(1)
	}
}

func run(metricsAddr, probeAddr string, schemes []string, threads int, pollInterval time.Duration) error {
	config.Config.PyTorchInitContainerImage = config.PyTorchInitContainerImageDefault
	config.Config.PyTorchInitContainerTemplateFile = config.PyTorchInitContainerTemplateFileDefault
	config.Config.PyTorchInitContainerMaxTries = config.PyTorchInitContainerMaxTriesDefault

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(kubeflowv1.AddToScheme(scheme))

	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("failed to load the kubeconfig: %w", err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress: probeAddr,
	})
	if err != nil {
		return fmt.Errorf("failed to create the manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("failed to add the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("failed to add the ready check: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create a discovery client: %w", err)
	}

	ctx := ctrl.SetupSignalHandler()
	errs := make(chan error, len(schemes)+1)
	for _, name := range schemes {
		j, ok := jobs[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			return fmt.Errorf("unknown scheme %q (known: tfjob, pytorchjob)", name)
		}
		go func() {
			if err := registerWhenServed(ctx, mgr, dc, j, threads, pollInterval); err != nil {
				errs <- err
			}
		}()
	}
	go func() { errs <- mgr.Start(ctx) }()
	return <-errs
}

// registerWhenServed waits until discovery serves kubeflow.org/v1 <plural>,
// then adds the job's reconciler to the (possibly already running) manager.
func registerWhenServed(ctx context.Context, mgr manager.Manager, dc discovery.DiscoveryInterface, j job, threads int, interval time.Duration) error {
	log := ctrl.Log.WithName("setup").WithValues("resource", j.plural+"."+kubeflowv1.GroupVersion.Group)
	log.Info("waiting for the CRD to be served")
	err := wait.PollUntilContextCancel(ctx, interval, true, func(context.Context) (bool, error) {
		return served(dc, j.plural), nil
	})
	if err != nil {
		return nil // the process is shutting down
	}
	if err := j.setup(mgr, threads); err != nil {
		return fmt.Errorf("failed to set up the %s reconciler: %w", j.plural, err)
	}
	log.Info("reconciler registered")
	return nil
}

// served reports whether discovery lists plural in kubeflow.org/v1.
func served(dc discovery.DiscoveryInterface, plural string) bool {
	list, err := dc.ServerResourcesForGroupVersion(kubeflowv1.GroupVersion.String())
	if err != nil {
		return false
	}
	for _, r := range list.APIResources {
		if r.Name == plural {
			return true
		}
	}
	return false
}
