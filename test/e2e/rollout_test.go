package e2e

import (
	"context"
	"fmt"
	"time"

	oamv1alpha1 "github.com/kubevela/pkg/apis/oam/v1alpha1"
	workflowv1alpha1 "github.com/kubevela/workflow/api/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/common"
	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"

	"github.com/ml-platform/ml-platform/pkg/render"
	"github.com/ml-platform/ml-platform/pkg/testenv"
	"github.com/ml-platform/ml-platform/pkg/testenv/fixtures"
	"github.com/ml-platform/ml-platform/pkg/testenv/promwrite"
)

// The rollout specs run a tfserving component whose canary's traffic is
// written into the control plane's Prometheus through remote write (there is
// no TF Serving traffic on fake nodes): a healthy canary, an erroring one, a
// slow one. Each stage holds rolloutInterval.
const rolloutInterval = 15 * time.Second

const rolloutExample = "examples/rollout/app.yaml"

// rolloutApp is an application with the predictors stable (mymodel-v1, all
// the traffic) and canary (mymodel-v2, none) and one ml-model-rollout step.
func rolloutApp(name string, props map[string]interface{}) *v1beta1.Application {
	comp := common.ApplicationComponent{Name: "serving", Type: "tfserving"}
	setProperties(&comp, map[string]interface{}{
		"predictors": []interface{}{
			map[string]interface{}{"name": "stable", "modelVersion": "mymodel-v1", "trafficPercentage": 100},
			map[string]interface{}{"name": "canary", "modelVersion": "mymodel-v2", "trafficPercentage": 0},
		},
	})
	step := map[string]interface{}{
		"component": "serving", "canary": "canary", "stable": "stable",
		"interval":   fmt.Sprintf("%ds", int(rolloutInterval.Seconds())),
		"prometheus": map[string]interface{}{"address": cluster.env.PrometheusURL(), "gracePeriod": "30s"},
		"checks":     map[string]interface{}{"minRequests": 20},
	}
	for k, v := range props {
		step[k] = v
	}
	app := &v1beta1.Application{
		TypeMeta:   metav1.TypeMeta{APIVersion: "core.oam.dev/v1beta1", Kind: "Application"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1beta1.ApplicationSpec{
			Components: []common.ApplicationComponent{comp},
			Workflow:   &v1beta1.Workflow{Steps: []oamv1alpha1.WorkflowStep{stepWith("rollout", "ml-model-rollout", step)}},
		},
	}
	return app
}

// rolloutNamespace is a namespace with both versions' records and its prod
// namespace, where the component serves.
func rolloutNamespace(ctx SpecContext, prefix string) (ns, prod string) {
	ns = newNamespace(ctx, prefix, nil)
	prod = ns + "-prod"
	Expect(cluster.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: prod}})).To(Succeed())
	DeferCleanup(func(ctx context.Context) {
		_ = cluster.client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: prod}})
	})
	for _, v := range []string{"mymodel-v1", "mymodel-v2"} {
		Expect(cluster.client.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "model-version-" + v, Labels: map[string]string{"ml-platform.oam.dev/model-version": v}},
			Data:       map[string]string{"modelName": v, "model": "mymodel", "image": "registry.example.com/mymodel:" + v},
		})).To(Succeed())
	}
	return ns, prod
}

// startCanaryTraffic writes what the canary's pod serves into Prometheus
// every 5 s until the spec ends.
func startCanaryTraffic(ctx SpecContext, prod, canary string, rps, errorRatio float64, latency time.Duration) *promwrite.Feed {
	f := &promwrite.Feed{
		URL:     cluster.env.PrometheusURL(),
		OnError: func(err error) { GinkgoWriter.Printf("canary traffic: %v\n", err) },
		Traffic: promwrite.Traffic{
			// the labels a PodMonitor gives a pod of the canary's Deployment
			// <canary> (<canary>-<rs>-<pod>)
			Labels: map[string]string{"namespace": prod, "pod": canary + "-7d9f8c6b5-x2x7q"},
			Model:  "mymodel", RequestsPerSecond: rps, ErrorRatio: errorRatio, Latency: latency,
		},
	}
	f.Start()
	DeferCleanup(f.Stop)
	return f
}

// canaryWeight is the canary's weight in the HTTPRoute (-1 without a route).
func canaryWeight(ctx context.Context, prod string) int64 {
	route, err := getObject(ctx, "gateway.networking.k8s.io/v1", "HTTPRoute", prod, "serving")
	if err != nil {
		return -1
	}
	w := render.RouteWeights(route)
	if w["serving-canary"]+w["serving-stable"] != 100 {
		return -100
	}
	return w["serving-canary"]
}

func rolloutRecord(ctx context.Context, ns, app string) map[string]string {
	cm := &corev1.ConfigMap{}
	if err := cluster.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "ml-rollout-" + app + "-serving"}, cm); err != nil {
		return nil
	}
	return cm.Data
}

// waitForCanaryWeight waits until the route gives the canary weight and
// returns when it saw it.
func waitForCanaryWeight(ctx SpecContext, prod string, weight int64, timeout time.Duration) time.Time {
	Eventually(func() int64 { return canaryWeight(ctx, prod) }, timeout, 500*time.Millisecond).Should(Equal(weight))
	return time.Now()
}

var _ = Describe("Canary rollouts with ml-model-rollout", Label("rollout"), func() {
	BeforeEach(func() { skipUnlessEmbedded() })

	It("takes a healthy canary through 10, 50 and 100 % and promotes it", func(ctx SpecContext) {
		ns, prod := rolloutNamespace(ctx, "rollout-ok")
		startCanaryTraffic(ctx, prod, "serving-canary", 5, 0, 20*time.Millisecond)
		app := upApplication(ctx, rolloutApp("canary-ok", nil), ns)

		began := waitForCanaryWeight(ctx, prod, 10, objectTimeout)
		at50 := waitForCanaryWeight(ctx, prod, 50, rolloutInterval+time.Minute)
		Expect(at50.Sub(began)).To(BeNumerically(">=", rolloutInterval-2*time.Second), "the 10 %% stage held its interval")
		waitForCanaryWeight(ctx, prod, 100, rolloutInterval+time.Minute)
		step := waitForStep(ctx, ns, app, "rollout", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		Expect(step.Message).To(Equal("canary mymodel-v2 promoted: it serves 100 % after stages 10, 50, 100 %"))
		rec := rolloutRecord(ctx, ns, app)
		Expect(rec).To(HaveKeyWithValue("phase", "promoted"))
		Expect(rec).To(HaveKeyWithValue("servingVersion", "mymodel-v2"))
		Expect(canaryWeight(ctx, prod)).To(BeEquivalentTo(100))
		AddReportEntry("rollout", fmt.Sprintf("healthy canary promoted %s after its first stage", time.Since(began).Round(time.Second)))
	})

	for _, c := range []struct {
		name, want string
		errorRatio float64
		latency    time.Duration
	}{
		{"an erroring canary", "canary mymodel-v2: error ratio 0.2 > 0.01 at 10 % traffic; rolled back: stable mymodel-v1 serves 100 %", 0.2, 20 * time.Millisecond},
		{"a slow canary", "ms > 500 ms at 10 % traffic; rolled back: stable mymodel-v1 serves 100 %", 0, 900 * time.Millisecond},
	} {
		c := c
		It("rolls "+c.name+" back within one interval, restoring the stable split", func(ctx SpecContext) {
			ns, prod := rolloutNamespace(ctx, "rollout-bad")
			app := upApplication(ctx, rolloutApp("canary-bad", nil), ns)
			waitForCanaryWeight(ctx, prod, 10, objectTimeout)
			breach := time.Now()
			startCanaryTraffic(ctx, prod, "serving-canary", 5, c.errorRatio, c.latency)
			step := waitForStep(ctx, ns, app, "rollout", workflowv1alpha1.WorkflowStepPhaseFailed)
			Expect(time.Since(breach)).To(BeNumerically("<", rolloutInterval+10*time.Second), "rolled back within one interval of the breach")
			Expect(step.Message).To(ContainSubstring(c.want))
			Expect(canaryWeight(ctx, prod)).To(BeEquivalentTo(0), "the stable split is restored")
			Expect(rolloutRecord(ctx, ns, app)).To(HaveKeyWithValue("phase", "rolledBack"))
			AddReportEntry("rollout", fmt.Sprintf("%s rolled back %s after the breach", c.name, time.Since(breach).Round(time.Second)))
		})
	}

	It("fails with a clear message after the grace period when Prometheus is down", func(ctx SpecContext) {
		ns, prod := rolloutNamespace(ctx, "rollout-noprom")
		app := upApplication(ctx, rolloutApp("canary-noprom", nil), ns)
		waitForCanaryWeight(ctx, prod, 10, objectTimeout)
		By("stopping Prometheus")
		Expect(cluster.env.StopComponent(testenv.Prometheus)).To(Succeed())
		down := time.Now()
		DeferCleanup(func(ctx context.Context) { Expect(cluster.env.Restart(ctx, testenv.Prometheus)).To(Succeed()) })
		// Until the grace period ends the step shows the engine's error of the
		// failed query (connection refused) or that it waits for Prometheus.
		Eventually(func() string {
			a := getApp(ctx, ns, app)
			if a.Status.Workflow == nil {
				return ""
			}
			for _, st := range a.Status.Workflow.Steps {
				if st.Name == "rollout" && st.Phase == workflowv1alpha1.WorkflowStepPhaseFailed {
					return st.Message
				}
			}
			return ""
		}, 2*time.Minute, poll).Should(MatchRegexp(`^canary mymodel-v2: Prometheus at http://127\.0\.0\.1:\d+ has not answered for \d+s \(grace period 30s\) at 10 % traffic; rolled back: stable mymodel-v1 serves 100 %$`))
		expectWorkflowFailed(ctx, ns, app, "rollout")
		Expect(time.Since(down)).To(BeNumerically(">=", 30*time.Second))
		Expect(time.Since(down)).To(BeNumerically("<", 2*time.Minute), "never hangs to the step timeout")
		Expect(canaryWeight(ctx, prod)).To(BeEquivalentTo(0))
		AddReportEntry("rollout", fmt.Sprintf("Prometheus down: rolled back %s after it stopped", time.Since(down).Round(time.Second)))
	})

	It("continues from its stage after vela-core restarts, without a second rollback or promotion", func(ctx SpecContext) {
		ns, prod := rolloutNamespace(ctx, "rollout-restart")
		startCanaryTraffic(ctx, prod, "serving-canary", 5, 0, 20*time.Millisecond)
		app := upApplication(ctx, rolloutApp("canary-restart", nil), ns)
		waitForCanaryWeight(ctx, prod, 50, objectTimeout+rolloutInterval)
		Expect(rolloutRecord(ctx, ns, app)).To(HaveKeyWithValue("stage", "1"))
		restartComponent(ctx, testenv.VelaCore)
		// from here on the route never goes back to 10 % or 0 %
		seen := map[int64]bool{}
		Eventually(func() workflowv1alpha1.WorkflowStepPhase {
			seen[canaryWeight(ctx, prod)] = true
			a := getApp(ctx, ns, app)
			if a.Status.Workflow == nil {
				return ""
			}
			for _, s := range a.Status.Workflow.Steps {
				if s.Name == "rollout" {
					return s.Phase
				}
			}
			return ""
		}, stepTimeout, 500*time.Millisecond).Should(Equal(workflowv1alpha1.WorkflowStepPhaseSucceeded))
		Expect(seen).NotTo(HaveKey(int64(10)), "restarted at the first stage")
		Expect(seen).NotTo(HaveKey(int64(0)), "rolled back")
		Expect(rolloutRecord(ctx, ns, app)).To(HaveKeyWithValue("phase", "promoted"))
	})
})

var _ = Describe("The rollout example: the spec's pipeline promoting by metrics", Label("rollout", "pipeline"), Ordered, func() {
	var ns, app string

	BeforeAll(func(ctx SpecContext) {
		skipUnlessEmbedded()
		ns = newPipelineNamespace(ctx, "rollout-example")
		a := readExample(rolloutExample)
		canaries, err := fixtures.PointRollouts(a, cluster.env.PrometheusURL(), rolloutInterval)
		Expect(err).NotTo(HaveOccurred())
		Expect(canaries).To(Equal([]string{"my-tfserving-prod-canary"}))
		startCanaryTraffic(ctx, ns+"-prod", canaries[0], 5, 0, 20*time.Millisecond)
		app = upApplication(ctx, a, ns)
	})

	It("waits at both gates and deploys the new version in prod with no traffic", func(ctx SpecContext) {
		waitForSuspendAt(ctx, ns, app, "evaluate-model")
		resume(ctx, ns, app)
		waitForSuspendAt(ctx, ns, app, "evaluate-serving")
		Expect(rolloutRecord(ctx, ns, app)).To(BeNil(), "the rollout started before the gate")
		resume(ctx, ns, app)
		waitForStep(ctx, ns, app, "serve-model-in-prod", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		Expect(initImages(readyDeployment(ctx, ns+"-prod", "my-tfserving-prod-canary").Spec.Template)).To(ContainElement("myrepo/mymodel:mymodel-v2"))
	})

	It("promotes mymodel-v2 through 10, 50 and 100 % and notes it in its record", func(ctx SpecContext) {
		step := waitForStep(ctx, ns, app, "roll-out-in-prod", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		Expect(step.Message).To(Equal("canary mymodel-v2 promoted: it serves 100 % after stages 10, 50, 100 %"))
		route, err := getObject(ctx, "gateway.networking.k8s.io/v1", "HTTPRoute", ns+"-prod", "my-tfserving-prod")
		Expect(err).NotTo(HaveOccurred())
		Expect(render.RouteWeights(route)).To(Equal(map[string]int64{"my-tfserving-prod-stable": 0, "my-tfserving-prod-canary": 100}))
		By("the model-version record this pipeline wrote says it serves prod, since when, and after which version")
		rec := record(ctx, ns, "mymodel-v2")
		Expect(rec.Labels).To(HaveKeyWithValue("ml-platform.oam.dev/serves-prod", "true"))
		Expect(rec.Data).To(HaveKeyWithValue("serves-prod-after", "mymodel-v1"))
		Expect(rec.Data["serves-prod-since"]).To(MatchRegexp(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`))
		Expect(record(ctx, ns, "mymodel-v1").Labels).NotTo(HaveKey("ml-platform.oam.dev/serves-prod"), "a record another application wrote is left alone")
		By("vela status shows the traffic the route gives, not the properties'")
		Eventually(func() string { return componentMessage(ctx, ns, app, "my-tfserving-prod") }, objectTimeout, poll).
			Should(Equal("stable: 3/3 ready, 0% traffic; canary: 3/3 ready, 100% traffic"))
		waitForAppPhase(ctx, ns, app, "running")
	})
})
