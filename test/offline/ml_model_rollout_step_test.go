package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubevela/workflow/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ml-platform/ml-platform/pkg/render"
	"github.com/ml-platform/ml-platform/pkg/render/stepworld"
)

// ---- the ml-model-rollout step ----

// rolloutApp rolls the canary of serving out in three stages of 60 s with
// a grace period of 60 s for Prometheus (%s: its address).
const rolloutApp = `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: pipeline
  namespace: ml
spec:
  components:
    - name: serving
      type: tfserving
      properties:
        predictors:
          - name: stable
            modelVersion: mymodel-v1
            trafficPercentage: 100
          - name: canary
            modelVersion: mymodel-v2
            trafficPercentage: 0
  workflow:
    steps:
      - name: rollout
        type: ml-model-rollout
        properties:
          component: serving
          canary: canary
          stable: stable
          interval: 60s
          prometheus:
            address: %s
            gracePeriod: 60s
          checks:
            minRequests: 10
            custom:
              - name: queue
                query: max(queue_size{ {{selector}} })
                threshold: 5
`

// fakePrometheus answers instant queries like Prometheus' HTTP API: the
// rollout's request count, error ratio and latency queries (told apart by
// how they start) and the custom check with the values a case sets; down
// makes it drop every connection, refuse makes it answer 400.
type fakePrometheus struct {
	mu                              sync.Mutex
	requests, ratio, latency, queue string // "" = an empty vector
	down, refuse                    bool
	queries                         []string
	srv                             *httptest.Server
}

func newFakePrometheus(t testing.TB) *fakePrometheus {
	p := &fakePrometheus{requests: "200", ratio: "0", latency: "42.5", queue: "1"}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakePrometheus) set(f func(p *fakePrometheus)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

func (p *fakePrometheus) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		panic(http.ErrAbortHandler) // the connection drops, as with a dead server
	}
	q := r.URL.Query().Get("query")
	p.queries = append(p.queries, q)
	if p.refuse {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error"}`)
		return
	}
	value := map[bool]string{}
	switch {
	case strings.HasPrefix(q, "sum(increase("):
		value[true] = p.requests
	case strings.HasPrefix(q, "(sum(increase("):
		value[true] = p.ratio
	case strings.HasPrefix(q, "histogram_quantile("):
		value[true] = p.latency
	case strings.HasPrefix(q, "max(queue_size"):
		value[true] = p.queue
	default:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"status":"error","error":"unexpected query %s"}`, q)
		return
	}
	result := []interface{}{}
	if v := value[true]; v != "" {
		result = append(result, map[string]interface{}{"metric": map[string]string{}, "value": []interface{}{1733570000.5, v}})
	}
	_ = json.NewEncoder(w).Encode(map[string]interface{}{"status": "success", "data": map[string]interface{}{"resultType": "vector", "result": result}})
}

func rolloutRecordFor(version, model string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "model-version-" + version, Namespace: "ml",
			Labels: map[string]string{"ml-platform.oam.dev/model-version": version}},
		Data: map[string]string{"modelName": version, "model": model, "image": "myrepo/mymodel:" + version},
	}
}

// rolloutWorld is the application with both model versions' records, the
// namespace ml-prod, a fake Prometheus and a clock the case moves.
type rolloutWorld struct {
	*stepWorld
	prom *fakePrometheus
	now  time.Time
}

var rolloutStart = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func newRolloutWorld(t testing.TB, objs ...client.Object) *rolloutWorld {
	t.Helper()
	prom := newFakePrometheus(t)
	objs = append([]client.Object{
		rolloutRecordFor("mymodel-v1", "mymodel"), rolloutRecordFor("mymodel-v2", "mymodel"),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ml-prod"}},
	}, objs...)
	w := &rolloutWorld{stepWorld: newStepWorld(t, fmt.Sprintf(rolloutApp, prom.srv.URL), objs...), prom: prom, now: rolloutStart}
	w.Now = func() time.Time { return w.now }
	return w
}

// at reconciles the step at the given second of the rollout.
func (w *rolloutWorld) at(second int, phase v1alpha1.WorkflowStepPhase, message string) {
	w.t.Helper()
	w.now = rolloutStart.Add(time.Duration(second) * time.Second)
	stepWant(w.t, w.Run("rollout"), phase, message)
}

// wantWeights asserts the canary's weight of every apply since the last
// check (the stable predictor must have the rest), and forgets them.
func (w *rolloutWorld) wantWeights(want ...int) {
	w.t.Helper()
	var got []int
	for _, a := range w.Applied() {
		weights := map[string]int{}
		preds, _ := a.Properties["predictors"].([]interface{})
		for _, p := range preds {
			pm := p.(map[string]interface{})
			weights[pm["name"].(string)] = toInt(pm["trafficPercentage"])
			if pm["modelImage"] != "myrepo/mymodel:"+pm["modelVersion"].(string) {
				w.t.Errorf("predictor %s applied with modelImage %v", pm["name"], pm["modelImage"])
			}
		}
		if a.Namespace != "ml-prod" {
			w.t.Errorf("applied to namespace %q, want ml-prod", a.Namespace)
		}
		if weights["canary"]+weights["stable"] != 100 {
			w.t.Errorf("applied weights %v do not sum to 100", weights)
		}
		got = append(got, weights["canary"])
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		w.t.Errorf("canary weights applied: %v, want %v", got, want)
	}
	// The route the step writes itself (from the live one) carries the last
	// decision's weights, by backend Service.
	if len(want) > 0 {
		route := w.Get(schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"}, "ml-prod", "serving")
		if route == nil {
			w.t.Fatal("no HTTPRoute serving in ml-prod")
		}
		weights := render.RouteWeights(route)
		last := int64(want[len(want)-1])
		if weights["serving-canary"] != last || weights["serving-stable"] != 100-last {
			w.t.Errorf("route weights %v, want serving-canary %d and serving-stable %d", weights, last, 100-last)
		}
	}
	w.ForgetApplied()
}

func toInt(v interface{}) int {
	switch n := v.(type) {
	case int64:
		return int(n)
	case float64:
		return int(n)
	case int:
		return n
	}
	return -1
}

// versionRecord returns the model-version record of version.
func (w *rolloutWorld) versionRecord(version string) *corev1.ConfigMap {
	w.t.Helper()
	cm := &corev1.ConfigMap{}
	if err := w.Client.Get(context.Background(), client.ObjectKey{Namespace: "ml", Name: "model-version-" + version}, cm); err != nil {
		w.t.Fatalf("record of %s: %v", version, err)
	}
	return cm
}

// record returns the rollout record's data.
func (w *rolloutWorld) record() map[string]string {
	w.t.Helper()
	cm := &corev1.ConfigMap{}
	if err := w.Client.Get(context.Background(), client.ObjectKey{Namespace: "ml", Name: "ml-rollout-pipeline-serving"}, cm); err != nil {
		w.t.Fatalf("rollout record: %v", err)
	}
	return cm.Data
}

func (w *rolloutWorld) wantRecord(key, want string) {
	w.t.Helper()
	if got := w.record()[key]; got != want {
		w.t.Errorf("record %s = %q, want %q", key, got, want)
	}
}

const (
	roRunning = v1alpha1.WorkflowStepPhaseRunning
	roFailed  = v1alpha1.WorkflowStepPhaseFailed
	roDone    = v1alpha1.WorkflowStepPhaseSucceeded
	roBack    = "; rolled back: stable mymodel-v1 serves 100 %"
)

// roHold is the message of a stage's hold; held counts in steps of a tenth
// of the interval (6 s).
func roHold(weight, stage, held, requests int) string {
	return fmt.Sprintf("canary mymodel-v2: %d %% traffic (stage %d of 3), healthy for %ds of 60s, %d requests", weight, stage, held, requests)
}

// roHealthyTo100 takes a healthy canary through the three stages; it ends
// with the canary at 100 % and the last stage's hold begun.
func roHealthyTo100(t testing.TB) *rolloutWorld {
	w := newRolloutWorld(t)
	w.at(0, roRunning, roHold(10, 1, 0, 200))
	w.wantWeights(10)
	w.wantRecord("stage", "0")
	w.at(30, roRunning, roHold(10, 1, 30, 200))
	w.wantWeights(10)
	w.at(60, roRunning, "canary mymodel-v2: stage 1 of 3 passed (10 %, 200 requests); now 50 % traffic")
	w.wantWeights(50)
	w.wantRecord("stage", "1")
	w.at(90, roRunning, roHold(50, 2, 30, 200))
	w.wantWeights(50)
	w.at(121, roRunning, "canary mymodel-v2: stage 2 of 3 passed (50 %, 200 requests); now 100 % traffic")
	w.wantWeights(100)
	return w
}

var rolloutStepCases = []stepCase{
	{"a healthy canary passes each stage and is promoted at 100 %", func(t testing.TB) {
		w := roHealthyTo100(t)
		w.at(150, roRunning, roHold(100, 3, 24, 200))
		w.wantWeights(100)
		// promoted: the final apply waits for health (the fake predictors are not ready)
		stepWantPhase(t, w.runAt(181), roRunning)
		w.wantWeights(100)
		w.wantRecord("phase", "promoted")
		w.wantRecord("servingVersion", "mymodel-v2")
		w.wantRecord("servingSince", "2026-12-07T12:03:01Z")
		w.wantRecord("message", "canary mymodel-v2 promoted: it serves 100 % after stages 10, 50, 100 %")
		if got := len(w.Applied()); got != 0 {
			t.Errorf("%d applies left unchecked", got)
		}
	}},
	{"a promotion marks the canary's record as serving prod; the records this application wrote are kept", func(t testing.TB) {
		w := newRolloutWorld(t)
		// both records written by this application's checkpoint step, v1 from
		// an earlier promotion
		own := func(version string, labels, data map[string]string) {
			cm := w.versionRecord(version)
			cm.Labels["app.oam.dev/name"], cm.Labels["app.oam.dev/namespace"] = "pipeline", "ml"
			for k, v := range labels {
				cm.Labels[k] = v
			}
			for k, v := range data {
				cm.Data[k] = v
			}
			if err := w.Client.Update(context.Background(), cm); err != nil {
				t.Fatal(err)
			}
		}
		own("mymodel-v1", map[string]string{"ml-platform.oam.dev/serves-prod": "true"},
			map[string]string{"serves-prod-since": "2026-11-01T08:00:00Z", "serves-prod-after": "mymodel-v0"})
		own("mymodel-v2", nil, nil)
		w.at(0, roRunning, roHold(10, 1, 0, 200))
		// applied again (the apply labels what it applied with its hash)
		for _, v := range []string{"mymodel-v1", "mymodel-v2"} {
			if w.versionRecord(v).Labels["oam.dev/render-hash"] == "" {
				t.Errorf("record %s was not applied again while the rollout holds", v)
			}
		}
		if w.versionRecord("mymodel-v1").Labels["ml-platform.oam.dev/serves-prod"] != "true" {
			t.Errorf("before the promotion, mymodel-v1's record lost its serves-prod label")
		}
		w.at(60, roRunning, "canary mymodel-v2: stage 1 of 3 passed (10 %, 200 requests); now 50 % traffic")
		w.at(121, roRunning, "canary mymodel-v2: stage 2 of 3 passed (50 %, 200 requests); now 100 % traffic")
		stepWantPhase(t, w.runAt(181), roRunning)
		w.wantRecord("servingAfter", "mymodel-v1")
		v2 := w.versionRecord("mymodel-v2")
		if v2.Labels["ml-platform.oam.dev/serves-prod"] != "true" {
			t.Errorf("the promoted mymodel-v2's record has no serves-prod label: %v", v2.Labels)
		}
		if d := v2.Data; d["serves-prod-since"] != "2026-12-07T12:03:01Z" || d["serves-prod-after"] != "mymodel-v1" || d["image"] != "myrepo/mymodel:mymodel-v2" {
			t.Errorf("the promoted mymodel-v2's record data: %v", d)
		}
		v1 := w.versionRecord("mymodel-v1")
		if l, ok := v1.Labels["ml-platform.oam.dev/serves-prod"]; ok {
			t.Errorf("the replaced mymodel-v1's record still serves prod (%q)", l)
		}
		if d := v1.Data; d["serves-prod-since"] != "" || d["serves-prod-after"] != "" || d["image"] != "myrepo/mymodel:mymodel-v1" {
			t.Errorf("the replaced mymodel-v1's record data: %v", d)
		}
	}},
	{"records another application wrote are left alone", func(t testing.TB) {
		w := roHealthyTo100(t)
		stepWantPhase(t, w.runAt(181), roRunning)
		w.wantRecord("servingVersion", "mymodel-v2")
		for _, v := range []string{"mymodel-v1", "mymodel-v2"} {
			if cm := w.versionRecord(v); cm.Labels["oam.dev/render-hash"] != "" || len(cm.Labels) != 1 {
				t.Errorf("record %s, written by another application, was applied: labels %v", v, cm.Labels)
			}
		}
	}},
	{"the canary's queries select its pods and the stage's window", func(t testing.TB) {
		w := newRolloutWorld(t)
		w.at(0, roRunning, roHold(10, 1, 0, 200))
		w.at(90, roRunning, "canary mymodel-v2: stage 1 of 3 passed (10 %, 200 requests); now 50 % traffic")
		sel := `namespace="ml-prod",pod=~"serving-canary-[a-z0-9]+-[a-z0-9]+"`
		want := []string{
			`sum(increase(:tensorflow:serving:request_count{` + sel + `}[60s]))`,
			`(sum(increase(:tensorflow:serving:request_count{` + sel + `,status!="OK"}[60s])) or vector(0)) / sum(increase(:tensorflow:serving:request_count{` + sel + `}[60s]))`,
			`histogram_quantile(0.99, sum by (le) (increase(:tensorflow:serving:request_latency_bucket{` + sel + `}[60s]))) / 1000`,
			`max(queue_size{ ` + sel + ` })`,
			`sum(increase(:tensorflow:serving:request_count{` + sel + `}[90s]))`,
		}
		got := w.prom.queries
		if len(got) < 5 {
			t.Fatalf("Prometheus got %d queries, want 8:\n%s", len(got), strings.Join(got, "\n"))
		}
		for i, q := range want {
			if got[i] != q {
				t.Errorf("query %d is\n  %s\nwant\n  %s", i, got[i], q)
			}
		}
	}},
	{"an erroring canary is rolled back in the same reconcile", func(t testing.TB) {
		w := newRolloutWorld(t)
		w.at(0, roRunning, roHold(10, 1, 0, 200))
		w.wantWeights(10)
		w.prom.set(func(p *fakePrometheus) { p.ratio = "0.07142857142857142" })
		w.at(10, roFailed, "canary mymodel-v2: error ratio 0.071 > 0.01 at 10 % traffic"+roBack)
		w.wantWeights(0)
		w.wantRecord("phase", "rolledBack")
		// a later reconcile (a restarted vela-core) keeps the stable split and the message
		w.prom.set(func(p *fakePrometheus) { p.ratio = "0" })
		w.at(20, roFailed, "canary mymodel-v2: error ratio 0.071 > 0.01 at 10 % traffic"+roBack)
		w.wantWeights(0)
	}},
	{"a slow canary is rolled back at the stage it is in", func(t testing.TB) {
		w := roHealthyTo100(t)
		w.prom.set(func(p *fakePrometheus) { p.latency = "612.34" })
		w.at(130, roFailed, "canary mymodel-v2: latency p99 612.34 ms > 500 ms at 100 % traffic"+roBack)
		w.wantWeights(0)
	}},
	{"a latency past the last bucket (+Inf) is a breach", func(t testing.TB) {
		w := newRolloutWorld(t)
		w.prom.set(func(p *fakePrometheus) { p.latency = "+Inf" })
		w.at(0, roFailed, "canary mymodel-v2: latency p99 +Inf ms > 500 ms at 10 % traffic"+roBack)
		w.wantWeights(0)
	}},
	{"too few requests are no evidence during the hold and a failure at its end", func(t testing.TB) {
		w := newRolloutWorld(t)
		w.prom.set(func(p *fakePrometheus) { p.requests = "3"; p.ratio = "0.5"; p.latency = "900" })
		w.at(0, roRunning, roHold(10, 1, 0, 3))
		w.wantWeights(10)
		w.at(61, roFailed, "canary mymodel-v2: 3 requests in 61s < 10 required (silence is not health) at 10 % traffic"+roBack)
		w.wantWeights(0)
	}},
	{"no requests at all is silence, not health", func(t testing.TB) {
		w := newRolloutWorld(t)
		w.prom.set(func(p *fakePrometheus) { p.requests = ""; p.ratio = ""; p.latency = "NaN" })
		w.at(0, roRunning, roHold(10, 1, 0, 0))
		w.at(60, roFailed, "canary mymodel-v2: 0 requests in 60s < 10 required (silence is not health) at 10 % traffic"+roBack)
		w.wantWeights(10, 0)
	}},
	{"a custom check above its threshold rolls back", func(t testing.TB) {
		w := newRolloutWorld(t)
		w.prom.set(func(p *fakePrometheus) { p.queue = "7" })
		w.at(0, roFailed, "canary mymodel-v2: queue 7 > 5 at 10 % traffic"+roBack)
	}},
	{"a custom check without data fails at the end of the stage", func(t testing.TB) {
		w := newRolloutWorld(t)
		w.prom.set(func(p *fakePrometheus) { p.queue = "" })
		w.at(0, roRunning, roHold(10, 1, 0, 200))
		w.at(60, roFailed, "canary mymodel-v2: queue has no data at 10 % traffic"+roBack)
	}},
	{"a query Prometheus refuses rolls back at once", func(t testing.TB) {
		w := newRolloutWorld(t)
		w.prom.set(func(p *fakePrometheus) { p.refuse = true })
		w.at(0, roFailed, `canary mymodel-v2: Prometheus refused the query of check requests (400): invalid parameter "query": 1:5: parse error at 10 % traffic`+roBack)
		w.wantWeights(0)
	}},
	{"Prometheus down: retried every quarter of the grace period, rolled back after it", func(t testing.TB) {
		w := newRolloutWorld(t)
		w.at(0, roRunning, roHold(10, 1, 0, 200))
		w.prom.set(func(p *fakePrometheus) { p.down = true })
		r := w.runAt(5)
		stepWantPhase(t, r, roFailed) // the engine's error; it retries the step
		w.wantWeights(10)
		waiting := func(s int) string {
			return fmt.Sprintf("canary mymodel-v2: Prometheus at %s has not answered for %ds; the rollout rolls back after 60s at 10 %% traffic", w.prom.srv.URL, s)
		}
		n := len(w.prom.queries)
		w.at(10, roRunning, waiting(10))
		w.wantWeights(10)
		if len(w.prom.queries) != n {
			t.Errorf("Prometheus was asked again 5 s after it failed")
		}
		stepWantPhase(t, w.runAt(16), roFailed) // retried: 15 s since the last answer
		w.at(61, roFailed, "canary mymodel-v2: Prometheus at "+w.prom.srv.URL+" has not answered for 61s (grace period 60s) at 10 % traffic"+roBack)
		w.wantWeights(0)
	}},
	{"Prometheus back within the grace period: the rollout goes on", func(t testing.TB) {
		w := newRolloutWorld(t)
		w.at(0, roRunning, roHold(10, 1, 0, 200))
		w.prom.set(func(p *fakePrometheus) { p.down = true })
		stepWantPhase(t, w.runAt(5), roFailed)
		w.prom.set(func(p *fakePrometheus) { p.down = false })
		w.at(16, roRunning, roHold(10, 1, 12, 200))
		w.at(62, roRunning, "canary mymodel-v2: stage 1 of 3 passed (10 %, 200 requests); now 50 % traffic")
	}},
	{"a restarted vela-core continues from the stage in the record", func(t testing.TB) {
		w := newRolloutWorld(t)
		w.at(0, roRunning, roHold(10, 1, 0, 200))
		w.at(60, roRunning, "canary mymodel-v2: stage 1 of 3 passed (10 %, 200 requests); now 50 % traffic")
		w.ForgetApplied()
		w.Session = "session-after-restart"
		w.at(70, roRunning, roHold(50, 2, 6, 200))
		w.wantWeights(50)
	}},
	{"a new application revision starts a new rollout", func(t testing.TB) {
		w := newRolloutWorld(t)
		w.at(0, roRunning, roHold(10, 1, 0, 200))
		w.at(60, roRunning, "canary mymodel-v2: stage 1 of 3 passed (10 %, 200 requests); now 50 % traffic")
		w.ForgetApplied()
		w.Revision = "pipeline-v2"
		w.at(70, roRunning, roHold(10, 1, 0, 200))
		w.wantWeights(10)
	}},
	{"a canary that is not a predictor fails before anything is applied", func(t testing.TB) {
		w := newRolloutWorld(t)
		w.setProperty("canary", "canry")
		w.at(0, roFailed, "canary: component serving has no predictor canry")
		w.wantWeights()
	}},
	{"a missing namespace fails before anything is applied", func(t testing.TB) {
		w := newRolloutWorld(t)
		if err := w.Client.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ml-prod"}}); err != nil {
			t.Fatal(err)
		}
		w.at(0, roFailed, "namespace ml-prod does not exist: deploy serving with ml-model-serving first (the rollout moves traffic between predictors that serve already)")
		w.wantWeights()
	}},
	{"a missing model version fails before anything is applied", func(t testing.TB) {
		w := newRolloutWorld(t)
		if err := w.Client.Delete(context.Background(), rolloutRecordFor("mymodel-v2", "mymodel")); err != nil {
			t.Fatal(err)
		}
		w.at(0, roFailed, "model version mymodel-v2 not found; run ml-model-checkpoint first")
		w.wantWeights()
	}},
}

// runAt reconciles the step at the given second and returns the result.
func (w *rolloutWorld) runAt(second int) stepworld.Result {
	w.now = rolloutStart.Add(time.Duration(second) * time.Second)
	return w.Run("rollout")
}

// setProperty sets one property of the rollout step.
func (w *rolloutWorld) setProperty(key string, value interface{}) {
	w.t.Helper()
	props := map[string]interface{}{}
	if err := json.Unmarshal(w.App.Spec.Workflow.Steps[0].Properties.Raw, &props); err != nil {
		w.t.Fatal(err)
	}
	props[key] = value
	raw, err := json.Marshal(props)
	if err != nil {
		w.t.Fatal(err)
	}
	w.App.Spec.Workflow.Steps[0].Properties.Raw = raw
}

func TestRolloutStep(t *testing.T) { runStepCases(t, rolloutStepCases) }

// The rollout example deploys mymodel-v2 in prod with no traffic and a
// PodMonitor for its metrics; its rollout step names predictors of that
// component and the series the PodMonitor's scrape labels.
func TestRolloutExample(t *testing.T) {
	res := renderFile(t, "examples/rollout/app.yaml")
	const comp = "my-tfserving-prod"
	weights := render.RouteWeights(mustFind(t, res, "HTTPRoute", comp))
	assertEqual(t, "prod route weights before the rollout", weights, map[string]int64{comp + "-stable": 100, comp + "-canary": 0})
	for _, p := range []string{"stable", "canary"} {
		mustFind(t, res, "Deployment", comp+"-"+p)
	}
	pm := mustFind(t, res, "PodMonitor", comp)
	assertEqual(t, "PodMonitor selector", field(t, pm, "spec", "selector"), map[string]interface{}{
		"matchLabels": map[string]interface{}{"app.oam.dev/name": "ml-rollout", "ml-platform.oam.dev/metrics": comp},
	})
	var names []string
	for _, s := range res.App.Spec.Workflow.Steps {
		names = append(names, s.Name+":"+s.Type)
	}
	assertEqual(t, "workflow", strings.Join(names, " "), "train-model:ml-model-training evaluate-model:suspend save-model:ml-model-checkpoint "+
		"serve-model-in-dev:ml-model-serving evaluate-serving:suspend serve-model-in-prod:ml-model-serving roll-out-in-prod:ml-model-rollout")
}
