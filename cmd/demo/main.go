// Command demo runs the spec's ML pipeline end to end: it enables the addon,
// applies examples/pipeline/app.yaml, prints each workflow step as it starts
// and finishes, resumes the two evaluation gates (asking first, unless --yes),
// and ends with `vela status` and the key objects.
//
// It runs on $KUBECONFIG when set, else on the embedded control plane of
// pkg/testenv (started if needed and left running: `make down` stops it).
//
// --canary good|bad runs examples/rollout/app.yaml instead, whose prod step
// is a canary rollout checked in Prometheus (see canary.go): a healthy canary
// is promoted, a failing one rolled back.
//
// On the embedded control plane with the managed clusters dev and prod
// (ML_PLATFORM_CLUSTERS=3, make demo CLUSTERS=3) it runs
// examples/multicluster/app.yaml: training on the hub, serving in dev and prod.
//
//	go run ./cmd/demo [--yes] [--namespace ml-demo] [--app examples/pipeline/app.yaml]
//	go run ./cmd/demo --canary bad [--prometheus URL] [--rollout-interval 20s]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"
	"github.com/oam-dev/kubevela/pkg/utils/common"

	"github.com/ml-platform/ml-platform/pkg/render"
	"github.com/ml-platform/ml-platform/pkg/testenv"
	"github.com/ml-platform/ml-platform/pkg/testenv/addon"
	"github.com/ml-platform/ml-platform/pkg/testenv/appflow"
	"github.com/ml-platform/ml-platform/pkg/testenv/fixtures"
	"github.com/ml-platform/ml-platform/pkg/testenv/vela"
)

type options struct {
	yes             bool
	namespace       string
	appFile         string
	timeout         time.Duration
	canary          string
	prometheus      string
	rolloutInterval time.Duration
}

const (
	pipelineExample     = "examples/pipeline/app.yaml"
	rolloutExample      = "examples/rollout/app.yaml"
	multiclusterExample = "examples/multicluster/app.yaml"
)

func main() {
	var o options
	flag.BoolVar(&o.yes, "yes", false, "resume the evaluation gates without asking")
	flag.StringVar(&o.namespace, "namespace", "", "the namespace to run the pipeline in (default ml-demo; with --canary ml-canary-good or ml-canary-bad; with the managed clusters ml-clusters)")
	flag.StringVar(&o.appFile, "app", "", "the pipeline Application (default "+pipelineExample+"; with --canary "+rolloutExample+"; with the managed clusters "+multiclusterExample+")")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Minute, "give up after this long")
	flag.StringVar(&o.canary, "canary", "", "good or bad: run the pipeline whose prod step is a canary rollout, with a healthy or a failing canary")
	flag.StringVar(&o.prometheus, "prometheus", "", "with --canary: the Prometheus the rollout asks, with its remote-write receiver on (default: the embedded control plane's)")
	flag.DurationVar(&o.rolloutInterval, "rollout-interval", 20*time.Second, "with --canary: how long each rollout stage holds")
	flag.Parse()
	if o.canary != "" && o.canary != "good" && o.canary != "bad" {
		fmt.Fprintf(os.Stderr, "demo: --canary must be good or bad, got %q\n", o.canary)
		os.Exit(2)
	}
	clusters := os.Getenv("KUBECONFIG") == "" && os.Getenv(testenv.EnvClusters) == "3"
	if clusters && o.canary != "" {
		fmt.Fprintln(os.Stderr, "demo: --canary runs on the hub alone: unset ML_PLATFORM_CLUSTERS (CLUSTERS)")
		os.Exit(2)
	}
	if o.appFile == "" {
		switch {
		case o.canary != "":
			o.appFile = rolloutExample
		case clusters:
			o.appFile = multiclusterExample
		default:
			o.appFile = pipelineExample
		}
	}
	// each act in its own namespace: both examples name their prod component
	// my-tfserving-prod, and the rollout's checks look back at least 60 s, so
	// a good act right after a bad one would see the bad canary's last errors
	if o.namespace == "" {
		switch {
		case o.canary != "":
			o.namespace = "ml-canary-" + o.canary
		case clusters:
			o.namespace = "ml-clusters"
		default:
			o.namespace = "ml-demo"
		}
	}
	klog.SetLogger(logr.Discard())
	ctrllog.SetLogger(logr.New(ctrllog.NullLogSink{}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func say(format string, args ...interface{}) {
	fmt.Printf("==> "+format+"\n", args...)
}

func run(ctx context.Context, o options) error {
	began := time.Now()
	release, err := vela.Release()
	if err != nil {
		return err
	}
	kubeconfig, env, err := cluster(ctx)
	if err != nil {
		return err
	}
	embedded := env != nil
	if o.canary != "" && o.prometheus == "" {
		if !embedded {
			return errors.New("--canary on the cluster of KUBECONFIG needs --prometheus <URL> (PROMETHEUS=<URL>): a Prometheus with its remote-write receiver on that vela-core reaches")
		}
		o.prometheus = env.PrometheusURL()
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", kubeconfig, err)
	}
	c, err := client.New(cfg, client.Options{Scheme: common.Scheme})
	if err != nil {
		return err
	}
	bin, err := vela.FindBinary()
	if err != nil {
		return err
	}
	say("KubeVela %s: vela CLI %s (VELA=<release> picks one of %s)", release, bin, strings.Join(vela.Releases, ", "))
	home, err := os.MkdirTemp("", "ml-platform-demo-vela")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	v := &vela.CLI{Bin: bin, Kubeconfig: kubeconfig, Home: home}

	if err := testAPIs(ctx, cfg, embedded, o.canary != ""); err != nil {
		return err
	}
	managed, err := managedClusters(ctx, env)
	if err != nil {
		return err
	}
	if err := enableAddon(ctx, v, embedded); err != nil {
		return err
	}
	app, warnings, err := render.ReadApplication(o.appFile)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	if err := removePreviousRun(ctx, c, o.namespace, app.Name); err != nil {
		return err
	}
	if err := prepareNamespace(ctx, c, o.namespace, app, embedded); err != nil {
		return err
	}
	if err := seedEarlierVersion(ctx, c, o.namespace); err != nil {
		return err
	}
	if o.canary != "" {
		predictors, err := fixtures.PointRollouts(app, o.prometheus, o.rolloutInterval)
		if err != nil {
			return err
		}
		say("the rollout asks Prometheus at %s and holds each stage %s (the example says 2m)", o.prometheus, o.rolloutInterval)
		stopFeed, err := startCanaryFeed(o.prometheus, o.canary, o.namespace+"-prod", predictors)
		if err != nil {
			return err
		}
		defer stopFeed()
	}

	say("vela up -f %s -n %s", o.appFile, o.namespace)
	staged, err := writeWithoutNamespace(app)
	if err != nil {
		return err
	}
	defer os.Remove(staged)
	if _, err := v.Up(ctx, staged, o.namespace); err != nil {
		return err
	}

	say("following the workflow of %s (Ctrl-C stops following; the pipeline keeps running)", app.Name)
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	f := &appflow.Follower{
		Client: c, Namespace: o.namespace, Name: app.Name,
		OnEvent: func(e appflow.Event) { fmt.Printf("    [%s] %s\n", time.Since(began).Round(time.Second), e) },
		OnSuspend: func(step string) error {
			return gate(ctx, v, o, app.Name, step)
		},
	}
	final, err := f.Follow(ctx)
	if err != nil {
		return err
	}
	report(ctx, c, managed, v, o.namespace, final)
	if o.canary == "bad" {
		return rolledBack(final, began)
	}
	if final.Status.Phase != "running" {
		return fmt.Errorf("the pipeline ended %s", final.Status.Phase)
	}
	say("the pipeline finished in %s", time.Since(began).Round(time.Second))
	if embedded {
		say("the embedded control plane keeps running: KUBECONFIG=%s (stop it with `make down`)", kubeconfig)
	}
	return nil
}

// cluster returns $KUBECONFIG, or starts (or reuses) the embedded control
// plane and returns it too.
func cluster(ctx context.Context) (kubeconfig string, env *testenv.Environment, err error) {
	if kc := os.Getenv("KUBECONFIG"); kc != "" {
		say("using the cluster of KUBECONFIG=%s", kc)
		return kc, nil, nil
	}
	env = &testenv.Environment{Out: os.Stdout}
	if missing := env.MissingBinaries(); len(missing) > 0 {
		say("building the embedded control plane (%s); a cold build takes 20-30 minutes on 2 cores", strings.Join(missing, ", "))
		cmd := exec.CommandContext(ctx, "bash", "hack/tools/build.sh")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", nil, fmt.Errorf("failed to build the control plane: %w", err)
		}
	}
	say("starting the embedded control plane: KubeVela %s, Kubernetes %s", env.KubeVela, testenv.KubernetesVersion)
	if _, err := env.Start(ctx); err != nil {
		return "", nil, err
	}
	return env.Kubeconfig(), env, nil
}

// testAPIs makes sure the APIs the pipeline renders exist on the embedded
// control plane: the Gateway API (tfserving routes with HTTPRoute by
// default) and, for the canary act, the PodMonitor of arms-metrics.
func testAPIs(ctx context.Context, cfg *rest.Config, embedded, canary bool) error {
	if !embedded {
		return nil
	}
	if canary {
		say("installing the Gateway API and PodMonitor CRDs into the embedded control plane")
		return testenv.InstallExtras(ctx, cfg, testenv.GatewayAPI, testenv.PodMonitor)
	}
	say("installing the Gateway API CRDs into the embedded control plane")
	return testenv.InstallExtras(ctx, cfg, testenv.GatewayAPI)
}

func enableAddon(ctx context.Context, v *vela.CLI, embedded bool) error {
	var params []string
	if embedded {
		// The training operator runs as a local process there.
		params = append(params, "installTrainingOperator=false")
	}
	res, err := addon.Enable(ctx, addon.Options{CLI: v, Params: params, Logf: say})
	if err != nil {
		return err
	}
	fmt.Println(indent(res.Output))
	return nil
}

// prepareNamespace creates the namespace and, on the embedded control
// plane, volumes for the tfjob components' model stores.
func prepareNamespace(ctx context.Context, c client.Client, ns string, app *v1beta1.Application, embedded bool) error {
	err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create namespace %s: %w", ns, err)
	}
	if !embedded {
		return nil
	}
	for _, comp := range app.Spec.Components {
		if comp.Type != "tfjob" {
			continue
		}
		pv := fixtures.ModelStoreVolume(ns, comp.Name+"-models")
		if err := replaceReleasedVolume(ctx, c, pv.Name); err != nil {
			return err
		}
		say("creating volume %s for the model store %s-models (the embedded control plane has no provisioner)", pv.Name, comp.Name)
		if err := c.Create(ctx, pv); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return nil
}

// removePreviousRun deletes the Application of an earlier demo run, so that
// the workflow starts again from its first step.
func removePreviousRun(ctx context.Context, c client.Client, ns, name string) error {
	app := &v1beta1.Application{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, app); apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	say("deleting %s/%s from an earlier demo run", ns, name)
	if err := c.Delete(ctx, app); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	for {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, app); apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// seedEarlierVersion records mymodel-v1 unless a record exists. In prod the
// spec's predictors split traffic between that older version (90%) and the
// one this run trains (mymodel-v2), and the rollout example's stable
// predictor serves it: it stands for what an earlier pipeline run's
// ml-model-checkpoint step would have left.
func seedEarlierVersion(ctx context.Context, c client.Client, ns string) error {
	rec := fixtures.ModelVersionRecord(ns, "mymodel-v1", "mymodel", "1", "myrepo/mymodel:mymodel-v1")
	err := c.Create(ctx, rec)
	switch {
	case err == nil:
		say("recorded model version mymodel-v1 (image %s) as an earlier run would have: prod serves it", rec.Data["image"])
	case apierrors.IsAlreadyExists(err):
	default:
		return fmt.Errorf("failed to record mymodel-v1: %w", err)
	}
	return nil
}

// replaceReleasedVolume deletes a volume an earlier demo run left bound to a
// claim that is gone, so that it can be created again for the new claim.
func replaceReleasedVolume(ctx context.Context, c client.Client, name string) error {
	pv := &corev1.PersistentVolume{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, pv); apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	if pv.Status.Phase == corev1.VolumeBound || pv.Status.Phase == corev1.VolumeAvailable {
		return nil
	}
	say("deleting volume %s (%s) left by an earlier demo run", name, pv.Status.Phase)
	if err := c.Delete(ctx, pv); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	for {
		if err := c.Get(ctx, client.ObjectKey{Name: name}, pv); apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// gate shows where the pipeline waits and resumes it, asking unless --yes.
func gate(ctx context.Context, v *vela.CLI, o options, app, step string) error {
	say("the workflow waits at %q for a human decision", step)
	fmt.Printf("    evaluate, then resume with: vela workflow resume %s -n %s\n", app, o.namespace)
	if !o.yes {
		fmt.Print("    resume now? [Y/n] ")
		answer, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a == "n" || a == "no" {
			return errors.New("stopped at " + step + "; the workflow stays suspended")
		}
	}
	say("vela workflow resume %s", app)
	_, err := v.Resume(ctx, app, o.namespace)
	return err
}

func report(ctx context.Context, c client.Client, managed map[string]client.Client, v *vela.CLI, ns string, app *v1beta1.Application) {
	say("vela status %s -n %s", app.Name, ns)
	if out, err := v.Status(ctx, app.Name, ns); err == nil {
		fmt.Println(indent(out))
	} else {
		fmt.Println(indent(err.Error()))
	}
	for _, line := range keyObjects(ctx, c, ns) {
		fmt.Println("    " + line)
	}
	for _, name := range testenv.ManagedClusters {
		if mc := managed[name]; mc != nil {
			for _, line := range keyObjects(ctx, mc, ns) {
				fmt.Printf("    cluster %s: %s\n", name, line)
			}
		}
	}
}

// managedClusters returns clients of the embedded control plane's managed
// clusters dev and prod, when it runs them, after installing there the
// Gateway API CRDs that the served components' routes need.
func managedClusters(ctx context.Context, env *testenv.Environment) (map[string]client.Client, error) {
	if env == nil || env.Clusters != 3 {
		return nil, nil
	}
	out := map[string]client.Client{}
	for _, name := range testenv.ManagedClusters {
		cfg, err := clientcmd.BuildConfigFromFlags("", env.ManagedKubeconfig(name))
		if err != nil {
			return nil, fmt.Errorf("failed to read the kubeconfig of cluster %s: %w", name, err)
		}
		say("installing the Gateway API CRDs into cluster %s, where services land", name)
		if err := testenv.InstallExtras(ctx, cfg, testenv.GatewayAPI); err != nil {
			return nil, err
		}
		if out[name], err = client.New(cfg, client.Options{Scheme: common.Scheme}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

func writeWithoutNamespace(app *v1beta1.Application) (string, error) {
	a := app.DeepCopy()
	a.Namespace = ""
	f, err := os.CreateTemp("", "ml-platform-demo-app-*.yaml")
	if err != nil {
		return "", err
	}
	defer f.Close()
	out, err := marshalYAML(a)
	if err != nil {
		return "", err
	}
	_, err = f.Write(out)
	return f.Name(), err
}
