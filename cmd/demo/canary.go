package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"

	"github.com/ml-platform/ml-platform/pkg/testenv/promwrite"
)

// The canary act (--canary good|bad, make demo CANARY=...): the pipeline of
// examples/rollout/app.yaml, whose roll-out-in-prod step moves traffic to
// mymodel-v2 in stages and checks it in Prometheus. On fake nodes nothing
// serves requests, so a feed writes what the canary's pod would serve into
// Prometheus through its remote-write receiver: a healthy canary, or one
// that fails 7 % of its requests.

// canaryTraffic is what the canary serves in each act.
var canaryTraffic = map[string]promwrite.Traffic{
	"good": {RequestsPerSecond: 5, Latency: 20 * time.Millisecond},
	"bad":  {RequestsPerSecond: 5, ErrorRatio: 0.07, Latency: 20 * time.Millisecond},
}

// startCanaryFeed writes the canary's traffic for each rolled out predictor
// (its pods named <component>-<predictor>-<hash>-<hash>, in <namespace>-prod).
func startCanaryFeed(prometheus, act, prodNamespace string, predictors []string) (stop func(), err error) {
	traffic, ok := canaryTraffic[act]
	if !ok {
		return nil, fmt.Errorf("unknown canary act %q (good or bad)", act)
	}
	var feeds []*promwrite.Feed
	for _, p := range predictors {
		tr := traffic
		tr.Model = "mymodel"
		// a pod name of its own per run, as a new Deployment's pod has: the
		// series of an earlier run's pod are newer than this feed's history,
		// and Prometheus refuses samples older than a series' last one
		tr.Labels = map[string]string{"namespace": prodNamespace, "pod": fmt.Sprintf("%s-%s-%s", p, randomName(10), randomName(5))}
		f := &promwrite.Feed{URL: prometheus, Traffic: tr, OnError: func(err error) { say("canary feed: %v", err) }}
		f.Start()
		feeds = append(feeds, f)
	}
	say("writing the canary's traffic into Prometheus at %s every 5 s: %.0f requests/s, %.0f %% failing, %s each",
		prometheus, traffic.RequestsPerSecond, traffic.ErrorRatio*100, traffic.Latency)
	return func() {
		for _, f := range feeds {
			f.Stop()
		}
	}, nil
}

// rolledBack says whether the bad canary's act ended as it should: the
// rollout step failed with its rollback and the workflow stopped there.
func rolledBack(app *v1beta1.Application, began time.Time) error {
	if app.Status.Workflow != nil {
		for _, s := range app.Status.Workflow.Steps {
			if s.Type == "ml-model-rollout" && s.Phase == "failed" && strings.Contains(s.Message, "; rolled back: ") {
				say("the canary was rolled back by itself: %s (the demo ran %s)", s.Message, time.Since(began).Round(time.Second))
				return nil
			}
		}
	}
	return fmt.Errorf("the bad canary was not rolled back: the application ended %s", app.Status.Phase)
}

// randomName returns n characters of the alphabet Kubernetes uses for the
// generated parts of pod names.
func randomName(n int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}
