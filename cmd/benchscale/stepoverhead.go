package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	oamv1alpha1 "github.com/kubevela/pkg/apis/oam/v1alpha1"
	workflowv1alpha1 "github.com/kubevela/workflow/api/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/common"
	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"

	"github.com/ml-platform/ml-platform/pkg/render"
	"github.com/ml-platform/ml-platform/pkg/testenv"
	"github.com/ml-platform/ml-platform/pkg/testenv/appflow"
	"github.com/ml-platform/ml-platform/pkg/testenv/vela"
)

// stepOverhead is the result of step-overhead mode.
type stepOverhead struct {
	Date string
	// Resume: a copy of the serving app with a suspend step "gate" before
	// its ml-model-serving step, resumed with the vela CLI once suspended.
	Resume []resumeRound
	// Request counts over windows of equal length: the quiet stack, then
	// with one ml-model-training step waiting on a suspended TFJob.
	Idle    window
	Waiting []window
	// WaitingStep is the step's phase and message during the windows.
	WaitingStep string
}

type resumeRound struct {
	App string
	// seconds from starting `vela workflow resume`
	CLIReturned     float64 // the CLI exited (it patched the workflow)
	DeploymentFound float64 // the first predictor Deployment of the next step exists
	AppRunning      float64 // the app's phase is running
}

type window struct {
	Seconds        float64
	APIRequests    float64 // apiserver_request_total delta, all clients
	VelaRequests   float64 // vela-core's rest_client_requests_total delta
	VelaReconciles float64 // application reconciles
	VelaCPU        float64
	Load           string
}

// measureTheStepOverhead runs both step measurements on one fresh stack:
// first the request rate of a waiting step (on a quiet stack), then the
// resume latency.
func measureTheStepOverhead(ctx context.Context, o options) (*stepOverhead, error) {
	waitForALowLoad(ctx, o.maxLoad, o.loadWait)
	env := newEnvironment(o.stateDir, o.basePort)
	s, err := startAFreshStack(ctx, env, appNamespace, devNamespace)
	if !o.keep || err != nil {
		defer stopTheStack(env)
	}
	if err != nil {
		return nil, err
	}
	quiet, waited := waitUntilTheStackIsQuiet(ctx, s, 5*time.Minute)
	say("stack quiet=%v after %s; load %s", quiet, waited.Round(time.Second), loadAverage())
	res := &stepOverhead{Date: time.Now().Format(time.RFC3339)}

	// The startup's last periodic work (controller resyncs) settles first.
	time.Sleep(30 * time.Second)
	say("idle window of %s", o.waitingWindow)
	if res.Idle, err = countRequestsDuring(ctx, s, o.waitingWindow); err != nil {
		return res, err
	}
	if res.WaitingStep, err = startAStepThatWaitsOnASuspendedTFJob(ctx, s); err != nil {
		return res, err
	}
	for i := 0; i < 3; i++ {
		say("waiting-step window %d of %s", i+1, o.waitingWindow)
		w, err := countRequestsDuring(ctx, s, o.waitingWindow)
		if err != nil {
			return res, err
		}
		res.Waiting = append(res.Waiting, w)
	}

	example, _, err := render.ReadApplication(o.example)
	if err != nil {
		return res, err
	}
	cli := &vela.CLI{Bin: env.VelaCLI(), Kubeconfig: env.Kubeconfig(), Home: o.stateDir}
	for i := 1; i <= o.resumeRounds; i++ {
		round, err := resumeAGatedServingApp(ctx, s, cli, example, i)
		if err != nil {
			return res, err
		}
		say("resume %s: CLI %.2fs, Deployment %.2fs, running %.2fs", round.App, round.CLIReturned, round.DeploymentFound, round.AppRunning)
		res.Resume = append(res.Resume, round)
	}
	return res, nil
}

func countRequestsDuring(ctx context.Context, s *stack, d time.Duration) (window, error) {
	before, err := takeASnapshot(ctx, s)
	if err != nil {
		return window{}, err
	}
	select {
	case <-ctx.Done():
		return window{}, ctx.Err()
	case <-time.After(d):
	}
	after, err := takeASnapshot(ctx, s)
	if err != nil {
		return window{}, err
	}
	return window{
		Seconds:        after.At.Sub(before.At).Seconds(),
		APIRequests:    after.APIServerRequests - before.APIServerRequests,
		VelaRequests:   after.VelaClientRequests - before.VelaClientRequests,
		VelaReconciles: after.VelaReconciles - before.VelaReconciles,
		VelaCPU:        after.CPU[testenv.VelaCore] - before.CPU[testenv.VelaCore],
		Load:           after.Load,
	}, nil
}

// startAStepThatWaitsOnASuspendedTFJob creates an app whose
// ml-model-training step applies a TFJob with runPolicy.suspend, and
// returns once the step runs and the TFJob exists: from then on the step
// only waits.
func startAStepThatWaitsOnASuspendedTFJob(ctx context.Context, s *stack) (string, error) {
	app := aTrainingAppThatWaits()
	if err := s.client.Create(ctx, app); err != nil {
		return "", err
	}
	job := &unstructured.Unstructured{}
	job.SetAPIVersion("kubeflow.org/v1")
	job.SetKind("TFJob")
	deadline := time.Now().Add(3 * time.Minute)
	for {
		got, err := appflow.Get(ctx, s.client, app.Namespace, app.Name)
		if err != nil {
			return "", err
		}
		step := appflow.Step(got, "train")
		jobErr := s.client.Get(ctx, client.ObjectKey{Namespace: appNamespace, Name: "train-v1"}, job)
		if step != nil && step.Phase == workflowv1alpha1.WorkflowStepPhaseRunning && jobErr == nil {
			// Let the first few quick retries pass before counting.
			time.Sleep(5 * time.Second)
			return fmt.Sprintf("%s: %s", step.Phase, step.Message), nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the training step is not waiting on TFJob train-v1 after 3m (step %+v, TFJob: %v)", step, jobErr)
		}
		time.Sleep(time.Second)
	}
}

// resumeAGatedServingApp creates copy i of the serving example with a
// suspend step "gate" before its first ml-model-serving step, waits until
// the workflow waits there, resumes it with the vela CLI and times the
// next step's first Deployment and the app's running phase.
func resumeAGatedServingApp(ctx context.Context, s *stack, cli *vela.CLI, example *v1beta1.Application, i int) (resumeRound, error) {
	app, err := copyTheServingApp(example, 1000+i, appNamespace)
	if err != nil {
		return resumeRound{}, err
	}
	app.Labels["bench"] = "resume"
	component := ""
	var steps []oamv1alpha1.WorkflowStep
	for _, step := range app.Spec.Workflow.Steps {
		if step.Type == "ml-model-serving" && component == "" {
			props, err := propertiesOf(step.Properties)
			if err != nil {
				return resumeRound{}, err
			}
			component, _ = props["component"].(string)
			steps = append(steps, oamv1alpha1.WorkflowStep{WorkflowStepBase: oamv1alpha1.WorkflowStepBase{Name: "gate", Type: "suspend"}})
		}
		steps = append(steps, step)
	}
	if component == "" {
		return resumeRound{}, fmt.Errorf("%s has no ml-model-serving step", example.Name)
	}
	app.Spec.Workflow.Steps = steps
	round := resumeRound{App: app.Name}
	if err := s.client.Create(ctx, app); err != nil {
		return round, err
	}
	if err := pollUntil(ctx, 250*time.Millisecond, 3*time.Minute, func() (bool, error) {
		got, err := appflow.Get(ctx, s.client, app.Namespace, app.Name)
		return err == nil && appflow.SuspendedAt(got) == "gate", nil
	}); err != nil {
		return round, fmt.Errorf("%s never waited at its gate: %w", app.Name, err)
	}
	t0 := time.Now()
	if _, err := cli.Resume(ctx, app.Name, app.Namespace); err != nil {
		return round, err
	}
	round.CLIReturned = time.Since(t0).Seconds()
	if err := pollUntil(ctx, 50*time.Millisecond, 3*time.Minute, func() (bool, error) {
		list := &appsv1.DeploymentList{}
		err := s.client.List(ctx, list, client.InNamespace(devNamespace), client.MatchingLabels{"ml-platform.oam.dev/serving": component})
		return err == nil && len(list.Items) > 0, nil
	}); err != nil {
		return round, fmt.Errorf("no Deployment of %s after the resume: %w", component, err)
	}
	round.DeploymentFound = time.Since(t0).Seconds()
	if err := pollUntil(ctx, 250*time.Millisecond, 3*time.Minute, func() (bool, error) {
		got, err := appflow.Get(ctx, s.client, app.Namespace, app.Name)
		return err == nil && got.Status.Phase == common.ApplicationRunning, nil
	}); err != nil {
		return round, fmt.Errorf("%s not running after the resume: %w", app.Name, err)
	}
	round.AppRunning = time.Since(t0).Seconds()
	return round, nil
}

func pollUntil(ctx context.Context, every, limit time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up after %s", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func printTheStepOverhead(r *stepOverhead) {
	fmt.Printf("\nworkflow step overhead (%s)\n\n", r.Date)
	fmt.Println("| resume round | CLI returned (s) | next step's Deployment exists (s) | app running (s) |")
	fmt.Println("|---|---|---|---|")
	var cliS, dep, run []float64
	for _, x := range r.Resume {
		fmt.Printf("| %s | %.2f | %.2f | %.2f |\n", x.App, x.CLIReturned, x.DeploymentFound, x.AppRunning)
		cliS, dep, run = append(cliS, x.CLIReturned), append(dep, x.DeploymentFound), append(run, x.AppRunning)
	}
	fmt.Printf("| median | %.2f | %.2f | %.2f |\n", median(cliS), median(dep), median(run))
	fmt.Printf("\nwaiting step: %s\n\n", r.WaitingStep)
	fmt.Println("| window | seconds | apiserver requests | vela-core client requests | app reconciles | vela-core CPU-s | load |")
	fmt.Println("|---|---|---|---|---|---|---|")
	row := func(name string, w window) {
		fmt.Printf("| %s | %.0f | %.0f | %.0f | %.0f | %.2f | %s |\n", name, w.Seconds, w.APIRequests, w.VelaRequests, w.VelaReconciles, w.VelaCPU, w.Load)
	}
	row("idle (quiet stack)", r.Idle)
	for i, w := range r.Waiting {
		row(fmt.Sprintf("waiting step, minute %d", i+1), w)
		perMin := 60 / w.Seconds
		fmt.Printf("| minus idle, per minute | | %.0f | %.0f | %.0f | %.2f | |\n",
			(w.APIRequests-r.Idle.APIRequests*w.Seconds/r.Idle.Seconds)*perMin,
			(w.VelaRequests-r.Idle.VelaRequests*w.Seconds/r.Idle.Seconds)*perMin,
			(w.VelaReconciles-r.Idle.VelaReconciles*w.Seconds/r.Idle.Seconds)*perMin,
			(w.VelaCPU-r.Idle.VelaCPU*w.Seconds/r.Idle.Seconds)*perMin)
	}
}

// aTrainingAppThatWaits trains with a TFJob that the operator keeps
// suspended (runPolicy.suspend), so its ml-model-training step waits.
func aTrainingAppThatWaits() *v1beta1.Application {
	app := &v1beta1.Application{}
	app.APIVersion, app.Kind = "core.oam.dev/v1beta1", "Application"
	app.Name, app.Namespace = "train-waiting", appNamespace
	app.Spec.Components = []common.ApplicationComponent{{Name: "train", Type: "tfjob", Properties: &runtime.RawExtension{Raw: []byte(`{
		"modelVersion": {"modelName": "bench", "imageRepo": "registry.example.com/bench"},
		"tfReplicaSpecs": {"Worker": {"replicas": 1, "template": {"spec": {"containers": [{"name": "tensorflow", "image": "busybox"}]}}}},
		"runPolicy": {"suspend": true}}`)}}}
	app.Spec.Workflow = &v1beta1.Workflow{Steps: []oamv1alpha1.WorkflowStep{{WorkflowStepBase: oamv1alpha1.WorkflowStepBase{
		Name: "train", Type: "ml-model-training", Properties: &runtime.RawExtension{Raw: []byte(`{"component": "train"}`)}}}}}
	return app
}
