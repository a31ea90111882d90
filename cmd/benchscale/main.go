// Command benchscale measures what ml-platform apps cost a KubeVela control
// plane, against KubeVela's built-in webservice apps of the same objects.
//
//	go run ./cmd/benchscale -n 100               (make bench-scale N=100)
//	go run ./cmd/benchscale -n 500 -kind serving
//	go run ./cmd/benchscale -step-overhead
//
// Scale mode: for each kind (serving, then webservice) a FRESH embedded
// control plane (pkg/testenv, own state folder and ports), the addon
// enabled and the Gateway API CRDs installed; once the stack is quiet, N
// apps are created at once and the run ends when vela-core's
// application_phase_number{phase="running"} gauge counts all of them. It
// reports the time to all running, vela-core CPU seconds and peak RSS (from
// /proc), and the apiserver's request count (apiserver_request_total), and
// for both kinds each ratio serving/webservice. The serving apps are copies
// of examples/serving/app.yaml; the webservice apps emit the same objects
// with built-in definitions (see aWebserviceTwinOf).
//
// Step-overhead mode: time from `vela workflow resume` to the next step's
// objects, and the API requests a waiting ml-model-training step makes per
// minute (see stepoverhead.go).
//
// Results are printed as Markdown tables and written as JSON under -out.
// The method follows shared/research/perf-baseline.md (light-poll variant).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

type options struct {
	n             int
	kind          string
	example       string
	stateDir      string
	basePort      int
	timeout       time.Duration
	out           string
	keep          bool
	stepOverhead  bool
	resumeRounds  int
	waitingWindow time.Duration
	velaProfile   string
	profileFor    time.Duration
	maxLoad       float64
	loadWait      time.Duration
}

func main() {
	home, _ := os.UserHomeDir()
	var o options
	flag.IntVar(&o.n, "n", 100, "number of apps of each kind")
	flag.StringVar(&o.kind, "kind", "both", "serving, webservice or both (each on its own fresh control plane)")
	flag.StringVar(&o.example, "example", "examples/serving/app.yaml", "the serving app to copy")
	flag.StringVar(&o.stateDir, "state", filepath.Join(home, ".cache", "ml-platform", "bench-state"), "state folder of the benchmark's control plane (wiped before each run)")
	flag.IntVar(&o.basePort, "base-port", 19000, "base port of the benchmark's control plane")
	flag.DurationVar(&o.timeout, "timeout", 40*time.Minute, "how long to wait for all apps to run")
	flag.StringVar(&o.out, "out", "_output/benchscale", "folder for the JSON results")
	flag.BoolVar(&o.keep, "keep", false, "leave the last control plane running")
	flag.BoolVar(&o.stepOverhead, "step-overhead", false, "measure workflow step overhead instead of scale")
	flag.IntVar(&o.resumeRounds, "resume-rounds", 5, "step-overhead: apps resumed one after another")
	flag.DurationVar(&o.waitingWindow, "window", time.Minute, "step-overhead: length of each request-counting window")
	flag.StringVar(&o.velaProfile, "vela-cpuprofile", "", "scale mode: write a CPU profile of vela-core, taken right after the apps are created, to this file (a diagnostic run: profiling costs vela-core CPU)")
	flag.DurationVar(&o.profileFor, "profile-for", 30*time.Second, "length of the -vela-cpuprofile profile")
	flag.Float64Var(&o.maxLoad, "max-load", 0, "before starting each control plane, wait until the 1-minute load average is below this (0: do not wait); the machine may be shared")
	flag.DurationVar(&o.loadWait, "load-wait", 30*time.Minute, "how long to wait for -max-load before measuring anyway")
	flag.Parse()

	klog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	stamp := time.Now().Format("20060102-150405")
	if o.stepOverhead {
		res, err := measureTheStepOverhead(ctx, o)
		if res != nil {
			printTheStepOverhead(res)
			return errors.Join(err, saveAsJSON(filepath.Join(o.out, stamp+"-step-overhead.json"), res))
		}
		return err
	}
	kinds := []string{o.kind}
	if o.kind == "both" {
		kinds = []string{"serving", "webservice"}
	}
	var results []*scaleResult
	for _, kind := range kinds {
		res, err := measureOneScaleRun(ctx, o, kind)
		if err != nil {
			return fmt.Errorf("%s run: %w", kind, err)
		}
		results = append(results, res)
		if err := saveAsJSON(filepath.Join(o.out, fmt.Sprintf("%s-n%d-%s.json", stamp, o.n, kind)), res); err != nil {
			return err
		}
	}
	printTheScaleResults(results)
	return nil
}

func say(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func saveAsJSON(path string, v interface{}) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	say("results written to %s", path)
	return os.WriteFile(path, data, 0o644)
}
