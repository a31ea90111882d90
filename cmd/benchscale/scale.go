package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"

	"github.com/ml-platform/ml-platform/pkg/render"
	"github.com/ml-platform/ml-platform/pkg/testenv"
)

// Namespaces: the apps live in appNamespace; the serving step deploys into
// <appNamespace>-dev. Both exist before the apps are created.
const (
	appNamespace = "bench"
	devNamespace = appNamespace + "-dev"
)

// scaleResult is one run: N apps of one kind on a fresh control plane.
type scaleResult struct {
	Kind          string
	N             int
	ObjectsPerApp string
	Date          string
	LoadBefore    string // /proc/loadavg when the apps were created
	LoadAfter     string // ... when all were running
	Quiet         bool   // the quiet gate passed before the measurement
	LowLoad       bool   // the -max-load gate passed before the stack started
	// seconds from the first create
	CreatedAfter    float64 // all N create calls returned
	AllRunningAfter float64 // vela-core's gauge showed N more running
	LastEndAfter    float64 // the last workflow endTime (1 s resolution)
	AppP50, AppP90  float64 // per app: creationTimestamp -> workflow endTime
	VelaCPU         float64 // vela-core utime+stime, CPU-s
	APIServerCPU    float64
	StackCPU        float64 // all components
	CPUByComponent  map[string]float64
	VelaPeakRSSMiB  float64 // VmHWM at the end (peak since vela-core started)
	VelaRSSMiB      float64 // VmRSS at the end
	APIRequests     float64 // apiserver_request_total delta, all clients
	VelaRequests    float64 // vela-core's rest_client_requests_total delta
	VelaReconciles  float64 // application reconciles
	// The apiserver's largest request classes in the window, by count and
	// by time spent serving them (apiserver_request_duration_seconds_sum).
	TopRequests       []string
	TopRequestSeconds []string
}

// theAppsOfOneKind builds the N apps of a run: copies of the serving
// example, or their webservice twins.
func theAppsOfOneKind(kind, example string, n int) (apps []*v1beta1.Application, objects string, pods int, err error) {
	base, _, err := render.ReadApplication(example)
	if err != nil {
		return nil, "", 0, err
	}
	r, err := render.NewFromDir("definitions")
	if err != nil {
		return nil, "", 0, err
	}
	for i := 1; i <= n; i++ {
		app, err := copyTheServingApp(base, i, appNamespace)
		if err != nil {
			return nil, "", 0, err
		}
		if kind == "webservice" || i == 1 {
			res, err := r.Render(context.Background(), app)
			if err != nil {
				return nil, "", 0, fmt.Errorf("failed to render %s: %w", app.Name, err)
			}
			if kind == "webservice" {
				if app, err = aWebserviceTwinOf(res, i, appNamespace); err != nil {
					return nil, "", 0, err
				}
				if res, err = renderTheTwin(context.Background(), r, app); err != nil {
					return nil, "", 0, fmt.Errorf("failed to render %s: %w", app.Name, err)
				}
			}
			if i == 1 {
				objects, pods = countKinds(res), n*replicasOf(res)
			}
		}
		apps = append(apps, app)
	}
	return apps, objects, pods, nil
}

// measureOneScaleRun starts a fresh stack, waits until it is quiet, creates
// the apps at once and waits until vela-core counts all of them running.
func measureOneScaleRun(ctx context.Context, o options, kind string) (*scaleResult, error) {
	apps, objects, pods, err := theAppsOfOneKind(kind, o.example, o.n)
	if err != nil {
		return nil, err
	}
	lowLoad := waitForALowLoad(ctx, o.maxLoad, o.loadWait)
	say("%s: %d apps of %s each; starting a fresh control plane in %s (load %s)", kind, o.n, objects, o.stateDir, loadAverage())
	var velaArgs []string
	if o.velaProfile != "" {
		velaArgs = append(velaArgs, fmt.Sprintf("--profiling-addr=127.0.0.1:%d", o.basePort+profilingPortOffset))
	}
	env := newEnvironment(o.stateDir, o.basePort, velaArgs...)
	s, err := startAFreshStack(ctx, env, appNamespace, devNamespace)
	if !o.keep || err != nil {
		defer stopTheStack(env)
	}
	if err != nil {
		return nil, err
	}
	if err := addFakeNodesFor(ctx, s, pods); err != nil {
		return nil, err
	}
	quiet, waited := waitUntilTheStackIsQuiet(ctx, s, 5*time.Minute)
	say("%s: stack quiet=%v after %s; load %s", kind, quiet, waited.Round(time.Second), loadAverage())

	before, err := takeASnapshot(ctx, s)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := createTheApps(ctx, s.client, apps); err != nil {
		return nil, err
	}
	created := time.Since(t0)
	say("%s: %d apps created in %s", kind, o.n, created.Round(time.Millisecond))
	profiled := make(chan error, 1)
	if o.velaProfile != "" {
		path := strings.TrimSuffix(o.velaProfile, ".pprof") + "-" + kind + ".pprof"
		go func() { profiled <- profileVelaCore(ctx, env, o.profileFor, path) }()
		defer func() {
			if err := <-profiled; err != nil {
				say("%v", err)
			} else {
				say("vela-core CPU profile written to %s", path)
			}
		}()
	}
	if err := waitUntilAllAreRunning(ctx, s, before.Running+float64(o.n), o.timeout); err != nil {
		return nil, err
	}
	after, err := takeASnapshot(ctx, s)
	if err != nil {
		return nil, err
	}
	res := &scaleResult{
		Kind: kind, N: o.n, ObjectsPerApp: objects, Date: t0.Format(time.RFC3339),
		LoadBefore: before.Load, LoadAfter: after.Load, Quiet: quiet, LowLoad: lowLoad,
		CreatedAfter:      created.Seconds(),
		AllRunningAfter:   after.At.Sub(t0).Seconds(),
		VelaCPU:           after.CPU[testenv.VelaCore] - before.CPU[testenv.VelaCore],
		APIServerCPU:      after.CPU[testenv.KubeAPIServer] - before.CPU[testenv.KubeAPIServer],
		CPUByComponent:    map[string]float64{},
		VelaPeakRSSMiB:    float64(after.VelaPeakRSS) / (1 << 20),
		VelaRSSMiB:        float64(after.VelaRSS) / (1 << 20),
		APIRequests:       after.APIServerRequests - before.APIServerRequests,
		VelaRequests:      after.VelaClientRequests - before.VelaClientRequests,
		VelaReconciles:    after.VelaReconciles - before.VelaReconciles,
		TopRequests:       topDeltas(before.RequestsByClass, after.RequestsByClass, 12, "%.0f"),
		TopRequestSeconds: topDeltas(before.SecondsByClass, after.SecondsByClass, 12, "%.1f s"),
	}
	for c, v := range after.CPU {
		res.CPUByComponent[c] = v - before.CPU[c]
		res.StackCPU += v - before.CPU[c]
	}
	res.LastEndAfter, res.AppP50, res.AppP90, err = appLatencies(ctx, s.client, kind, t0)
	return res, err
}

// waitUntilAllAreRunning polls vela-core's application_phase_number gauge
// (no apiserver request) every second until `want` apps are running.
func waitUntilAllAreRunning(ctx context.Context, s *stack, want float64, timeout time.Duration) error {
	began := time.Now()
	lastSaid := began
	for {
		text, err := velaCoreMetrics(ctx, s)
		if err == nil && sumOf(text, "application_phase_number", `phase="running"`) >= want {
			return nil
		}
		if time.Since(lastSaid) >= 15*time.Second {
			lastSaid = time.Now()
			say("  %4.0fs: running %.0f of %.0f (load %s)", time.Since(began).Seconds(),
				sumOf(text, "application_phase_number", `phase="running"`), want, loadAverage())
		}
		if time.Since(began) > timeout {
			return fmt.Errorf("not all applications running after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// appLatencies reads the apps once, after the measurement: the last
// workflow end relative to t0, and the median and 90th percentile of each
// app's creation -> workflow end.
func appLatencies(ctx context.Context, c client.Client, kind string, t0 time.Time) (last, p50, p90 float64, err error) {
	list := &v1beta1.ApplicationList{}
	if err := c.List(ctx, list, client.InNamespace(appNamespace), client.MatchingLabels{"bench": kind}); err != nil {
		return 0, 0, 0, err
	}
	var each []float64
	for _, app := range list.Items {
		if app.Status.Workflow == nil || app.Status.Workflow.EndTime.IsZero() {
			continue
		}
		end := app.Status.Workflow.EndTime.Time
		each = append(each, end.Sub(app.CreationTimestamp.Time).Seconds())
		if d := end.Sub(t0).Seconds(); d > last {
			last = d
		}
	}
	if len(each) == 0 {
		return last, 0, 0, nil
	}
	sort.Float64s(each)
	return last, each[len(each)/2], each[len(each)*9/10], nil
}

func stopTheStack(env *testenv.Environment) {
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "warning: failed to stop the control plane:", err)
	}
}
