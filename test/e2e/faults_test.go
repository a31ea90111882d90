package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	oamv1alpha1 "github.com/kubevela/pkg/apis/oam/v1alpha1"
	workflowv1alpha1 "github.com/kubevela/workflow/api/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"

	"github.com/ml-platform/ml-platform/pkg/stage"
	"github.com/ml-platform/ml-platform/pkg/testenv"
	"github.com/ml-platform/ml-platform/pkg/testenv/appflow"
	"github.com/ml-platform/ml-platform/pkg/testenv/fixtures"
)

// The fault specs hold a training run at a known point instead of racing the
// fake nodes, which complete TFJob pods ~3 s after they start. Suspending the
// TFJob (runPolicy.suspend) cannot be the hold: ml-model-training re-applies
// the component each time the waiting step is re-executed, so KubeVela puts
// back suspend: true over a patch of the TFJob (seen: the patched job ran, and
// the step's next execution set suspend: true again). Instead every replica
// gets a nodeSelector that no node matches, so the operator creates the pods
// and they stay Pending, unscheduled; labelling the nodes releases them.

// skipUnlessEmbedded skips a spec that restarts control-plane processes,
// which only the embedded control plane lets the suite do.
func skipUnlessEmbedded() {
	if cluster.env == nil {
		Skip("restarts control-plane components: runs only on the embedded control plane (E2E_CLUSTER=embedded), not on a " + cluster.kind + " cluster")
	}
}

// restartComponent injects a fault: it restarts one control-plane process,
// waits until it is ready again and returns when it was.
func restartComponent(ctx SpecContext, name string) time.Time {
	By("restarting " + name)
	began := time.Now()
	Expect(cluster.env.Restart(ctx, name)).To(Succeed())
	ready := time.Now()
	AddReportEntry("fault injected", fmt.Sprintf("restart %s (ready again in %s)", name, ready.Sub(began).Round(time.Millisecond)))
	return ready
}

// holdLabel is the node label that releases a held training run of a namespace.
func holdLabel(namespace string) string { return "release.e2e.ml-platform.oam.dev/" + namespace }

// heldTraining returns the training example with every replica pinned to
// nodes labelled holdLabel(namespace): its pods are created but not scheduled
// until releaseTraining.
func heldTraining(namespace string) *v1beta1.Application {
	app := readExample(trainingExample)
	comp := component(app, "mnist")
	props := properties(comp)
	for _, rs := range props["tfReplicaSpecs"].(map[string]interface{}) {
		spec := rs.(map[string]interface{})["template"].(map[string]interface{})["spec"].(map[string]interface{})
		spec["nodeSelector"] = map[string]interface{}{holdLabel(namespace): "true"}
	}
	setProperties(comp, props)
	DeferCleanup(func(ctx SpecContext) { labelNodes(ctx, holdLabel(namespace), nil) })
	return app
}

// releaseTraining lets the held pods of a namespace's training run schedule.
func releaseTraining(ctx SpecContext, namespace string) {
	By("releasing the held training pods")
	v := "true"
	labelNodes(ctx, holdLabel(namespace), &v)
}

// labelNodes sets (or, with nil, removes) a label on every node.
func labelNodes(ctx SpecContext, key string, value *string) {
	v := "null"
	if value != nil {
		v = strconv.Quote(*value)
	}
	patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"metadata":{"labels":{%q:%s}}}`, key, v)))
	nodes := &corev1.NodeList{}
	Expect(cluster.client.List(ctx, nodes)).To(Succeed())
	for i := range nodes.Items {
		Expect(client.IgnoreNotFound(cluster.client.Patch(ctx, &nodes.Items[i], patch))).To(Succeed())
	}
}

// jobPods lists the pods of a TFJob.
func jobPods(ctx SpecContext, namespace, job string) []corev1.Pod {
	pods := &corev1.PodList{}
	Expect(cluster.client.List(ctx, pods, clientInNamespace(namespace),
		clientLabels(map[string]string{"training.kubeflow.org/job-name": job}))).To(Succeed())
	return pods.Items
}

// waitForHeldTFJob waits until a TFJob exists with all its replicas' pods
// created and unscheduled, and returns the job and its pods.
func waitForHeldTFJob(ctx SpecContext, namespace, name string, replicas int) (*unstructured.Unstructured, []corev1.Pod) {
	By(fmt.Sprintf("waiting for TFJob %s to hold %d unscheduled pods", name, replicas))
	var job *unstructured.Unstructured
	var pods []corev1.Pod
	Eventually(func(g Gomega) {
		var err error
		job, err = getObject(ctx, "kubeflow.org/v1", "TFJob", namespace, name)
		g.Expect(err).NotTo(HaveOccurred())
		pods = jobPods(ctx, namespace, name)
		g.Expect(pods).To(HaveLen(replicas))
		for _, p := range pods {
			g.Expect(p.Spec.NodeName).To(BeEmpty(), "pod %s was scheduled: the hold did not hold", p.Name)
		}
	}, stepTimeout, poll).Should(Succeed())
	return job, pods
}

// podUIDs maps pod names to UIDs, optionally only of one replica type.
func podUIDs(pods []corev1.Pod, replicaType string) map[string]types.UID {
	m := map[string]types.UID{}
	for _, p := range pods {
		if replicaType == "" || p.Labels["training.kubeflow.org/replica-type"] == replicaType {
			m[p.Name] = p.UID
		}
	}
	return m
}

// jobPodOf returns a TFJob's pod of a replica type ("ps", "worker") and index.
func jobPodOf(pods []corev1.Pod, replicaType, index string) corev1.Pod {
	for _, p := range pods {
		if p.Labels["training.kubeflow.org/replica-type"] == replicaType && p.Labels["training.kubeflow.org/replica-index"] == index {
			return p
		}
	}
	Fail(fmt.Sprintf("no %s pod %s among %d pods", replicaType, index, len(pods)))
	return corev1.Pod{}
}

// stepOf returns a workflow step's status, failing when it has not started.
func stepOf(ctx SpecContext, namespace, app, step string) workflowv1alpha1.WorkflowStepStatus {
	a := getApp(ctx, namespace, app)
	s := appflow.Step(a, step)
	Expect(s).NotTo(BeNil(), describeSteps(a))
	return *s
}

// objectState is what a snapshot keeps of one object: a re-created object
// has another UID, an edited one (spec, not status) another generation.
type objectState struct {
	UID        types.UID
	Generation int64
}

func (o objectState) String() string { return fmt.Sprintf("uid %s generation %d", o.UID, o.Generation) }

// appSnapshot maps "Kind.group namespace/name" to UID and generation for
// every object an app owns, of every kind the apiserver serves: the
// Application itself, the objects KubeVela labelled app.oam.dev/name=<app> in
// the namespaces (and cluster-wide, with app.oam.dev/namespace=<namespace>:
// its resource trackers), and everything whose owner references lead to one
// of those (ApplicationRevisions, the workflow context, ReplicaSets, Pods,
// EndpointSlices, a TFJob's pods and services, HPAs and PDBs when the app has
// any). A duplicate shows up as an extra key, a re-created object as another
// UID, an edited one as another generation (EndpointSlices: UID only, see
// below). Every object the app's resource trackers record must be in it.
func appSnapshot(ctx SpecContext, namespace, app string, namespaces ...string) map[string]objectState {
	dyn, err := dynamic.NewForConfig(cluster.config)
	Expect(err).NotTo(HaveOccurred())
	lists := listableResources()

	type object struct {
		key    string
		state  objectState
		labels map[string]string
		owners []types.UID
	}
	var objects []object
	add := func(u unstructured.Unstructured, kind, group string) {
		key := kind
		if group != "" {
			key += "." + group
		}
		if u.GetNamespace() != "" {
			key += " " + u.GetNamespace() + "/" + u.GetName()
		} else {
			key += " " + u.GetName()
		}
		o := object{key: key, state: objectState{UID: u.GetUID(), Generation: u.GetGeneration()}, labels: u.GetLabels()}
		if kind == "EndpointSlice" {
			// kube-controller-manager rewrites a Service's slices from the
			// pods (seen: each slice of the finished TFJob's services one
			// generation up some seconds after an apiserver restart, pods
			// and services unchanged): compared by UID only; the pods and
			// services they are made from are compared by generation too.
			o.state.Generation = 0
		}
		for _, r := range u.GetOwnerReferences() {
			o.owners = append(o.owners, r.UID)
		}
		objects = append(objects, o)
	}
	appLabels := labels.SelectorFromSet(labels.Set{"app.oam.dev/name": app, "app.oam.dev/namespace": namespace}).String()
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		Expect(err).NotTo(HaveOccurred())
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || r.Name == "events" {
				continue // subresources; events belong to no one
			}
			res := dyn.Resource(gv.WithResource(r.Name))
			if !r.Namespaced {
				got, err := res.List(ctx, metav1.ListOptions{LabelSelector: appLabels})
				Expect(err).NotTo(HaveOccurred(), "listing %s", r.Name)
				for _, u := range got.Items {
					add(u, r.Kind, gv.Group)
				}
				continue
			}
			for _, ns := range namespaces {
				got, err := res.Namespace(ns).List(ctx, metav1.ListOptions{})
				Expect(err).NotTo(HaveOccurred(), "listing %s in %s", r.Name, ns)
				for _, u := range got.Items {
					add(u, r.Kind, gv.Group)
				}
			}
		}
	}

	owned := map[types.UID]bool{}
	for _, o := range objects {
		if o.labels["app.oam.dev/name"] == app && (o.labels["app.oam.dev/namespace"] == "" || o.labels["app.oam.dev/namespace"] == namespace) ||
			o.key == "Application.core.oam.dev "+namespace+"/"+app {
			owned[o.state.UID] = true
		}
	}
	for grew := true; grew; {
		grew = false
		for _, o := range objects {
			if owned[o.state.UID] {
				continue
			}
			for _, uid := range o.owners {
				if owned[uid] {
					owned[o.state.UID], grew = true, true
					break
				}
			}
		}
	}
	snap := map[string]objectState{}
	for _, o := range objects {
		if owned[o.state.UID] {
			snap[o.key] = o.state
		}
	}

	rts := &v1beta1.ResourceTrackerList{}
	Expect(cluster.client.List(ctx, rts, client.MatchingLabels{"app.oam.dev/name": app, "app.oam.dev/namespace": namespace})).To(Succeed())
	Expect(rts.Items).NotTo(BeEmpty(), "%s has no resource tracker", app)
	for _, rt := range rts.Items {
		for _, m := range rt.Spec.ManagedResources {
			if m.Deleted {
				continue
			}
			gv, err := schema.ParseGroupVersion(m.APIVersion)
			Expect(err).NotTo(HaveOccurred())
			key := m.Kind
			if gv.Group != "" {
				key += "." + gv.Group
			}
			if m.Namespace != "" {
				key += " " + m.Namespace + "/" + m.Name
			} else {
				key += " " + m.Name
			}
			Expect(snap).To(HaveKey(key), "resource tracker %s records %s, the snapshot lacks it", rt.Name, key)
		}
	}
	return snap
}

// settledSnapshot takes an app's snapshot once two in a row agree, so that a
// comparison later does not catch what was still settling (a finished
// TFJob's cleaned-up pods, a Deployment's last ReplicaSet update).
func settledSnapshot(ctx SpecContext, namespace, app string, namespaces ...string) map[string]objectState {
	var snap map[string]objectState
	Eventually(func(g Gomega) {
		before := appSnapshot(ctx, namespace, app, namespaces...)
		snap = appSnapshot(ctx, namespace, app, namespaces...)
		g.Expect(snapshotDiff(before, snap)).To(BeEmpty(), "the objects of %s are still changing", app)
	}, objectTimeout, poll).Should(Succeed())
	return snap
}

var (
	discovered     []*metav1.APIResourceList
	discoveredOnce sync.Once
)

// listableResources asks discovery once for every resource that can be
// listed (the suite installs no CRD after the addon is enabled).
func listableResources() []*metav1.APIResourceList {
	discoveredOnce.Do(func() {
		disc, err := discovery.NewDiscoveryClientForConfig(cluster.config)
		Expect(err).NotTo(HaveOccurred())
		lists, err := disc.ServerPreferredResources()
		if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
			Expect(err).NotTo(HaveOccurred())
		}
		discovered = discovery.FilteredBy(discovery.SupportsAllVerbs{Verbs: []string{"list"}}, lists)
	})
	return discovered
}

// snapshotDiff lists what differs between two snapshots, for messages.
func snapshotDiff(before, after map[string]objectState) []string {
	var diff []string
	for k, b := range before {
		a, ok := after[k]
		switch {
		case !ok:
			diff = append(diff, "gone: "+k+" ("+b.String()+")")
		case a != b:
			diff = append(diff, "changed: "+k+" ("+b.String()+" -> "+a.String()+")")
		}
	}
	for k, a := range after {
		if _, ok := before[k]; !ok {
			diff = append(diff, "new: "+k+" ("+a.String()+")")
		}
	}
	sort.Strings(diff)
	return diff
}

// countByKind counts a snapshot's objects by kind, for messages.
func countByKind(objs map[string]objectState) string {
	counts := map[string]int{}
	for k := range objs {
		counts[strings.SplitN(k, " ", 2)[0]]++
	}
	var parts []string
	for k, n := range counts {
		parts = append(parts, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// hasKind reports whether a snapshot holds an object of a kind ("Pod",
// "Deployment.apps").
func hasKind(objs map[string]objectState, kind string) bool {
	for k := range objs {
		if strings.HasPrefix(k, kind+" ") {
			return true
		}
	}
	return false
}

// workflowRun identifies one execution of an app's workflow: the revision
// it runs, when it started, and when each step first ran.
func workflowRun(ctx SpecContext, namespace, app string) map[string]string {
	a := getApp(ctx, namespace, app)
	Expect(a.Status.Workflow).NotTo(BeNil())
	run := map[string]string{
		"appRevision": a.Status.Workflow.AppRevision,
		"startTime":   a.Status.Workflow.StartTime.UTC().Format(time.RFC3339),
	}
	for _, s := range a.Status.Workflow.Steps {
		run["step "+s.Name] = s.FirstExecuteTime.UTC().Format(time.RFC3339)
	}
	return run
}

// crdUID reads the TFJob CRD's UID.
func crdUID(ctx SpecContext) types.UID {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	Expect(cluster.client.Get(ctx, types.NamespacedName{Name: "tfjobs.kubeflow.org"}, crd)).To(Succeed())
	return crd.UID
}

// expectAppUnchanged checks that an app is running with the same workflow
// run (the revision, its start and every step's first execution: no re-run)
// and exactly the same objects, by UID and generation, of every kind.
func expectAppUnchanged(ctx SpecContext, namespace, app string, run map[string]string, objs map[string]objectState, namespaces ...string) {
	By(fmt.Sprintf("%s is running, with the same workflow run and objects (%s)", app, countByKind(objs)))
	a := getApp(ctx, namespace, app)
	Expect(string(a.Status.Phase)).To(Equal("running"), describeSteps(a))
	Expect(workflowRun(ctx, namespace, app)).To(Equal(run), "the workflow ran again")
	Expect(snapshotDiff(objs, appSnapshot(ctx, namespace, app, namespaces...))).To(BeEmpty(),
		"objects were duplicated, re-created, edited or lost")
}

// addonVersionRE finds the version line of metadata.yaml.
var addonVersionRE = regexp.MustCompile(`(?m)^version:\s*(\S+)\s*$`)

// addonVersion reads the version of a staged (or the repo's) addon.
func addonVersion(dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, "metadata.yaml"))
	Expect(err).NotTo(HaveOccurred())
	m := addonVersionRE.FindSubmatch(data)
	Expect(m).NotTo(BeNil(), "no version in %s/metadata.yaml", dir)
	return string(m[1])
}

// upgradedVersion is a version above v: the next patch, pre-release upgrade.1
// (0.1.0-alpha.1 -> 0.1.1-upgrade.1), which sorts above v whatever v's
// pre-release is.
func upgradedVersion(v string) string {
	core := strings.SplitN(strings.SplitN(v, "+", 2)[0], "-", 2)[0]
	parts := strings.Split(core, ".")
	Expect(parts).To(HaveLen(3), "version %s is not MAJOR.MINOR.PATCH", v)
	patch, err := strconv.Atoi(parts[2])
	Expect(err).NotTo(HaveOccurred())
	return fmt.Sprintf("%s.%s.%d-upgrade.1", parts[0], parts[1], patch+1)
}

// stageUpgrade stages the addon with a bumped version and a changed tfjob
// description, and returns the folder, the version and the description.
func stageUpgrade() (dir, version, description string) {
	dir = filepath.Join(GinkgoT().TempDir(), addonName)
	Expect(stage.Stage(repoRoot, dir)).To(Succeed())
	version = upgradedVersion(addonVersion(dir))
	meta := filepath.Join(dir, "metadata.yaml")
	data, err := os.ReadFile(meta)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(meta, addonVersionRE.ReplaceAll(data, []byte("version: "+version)), 0o644)).To(Succeed())

	def := filepath.Join(dir, "definitions", "tfjob.cue")
	data, err = os.ReadFile(def)
	Expect(err).NotTo(HaveOccurred())
	descRE := regexp.MustCompile(`(?m)^(\s*description:\s*)"([^"]*)"`)
	m := descRE.FindSubmatch(data)
	Expect(m).NotTo(BeNil(), "no description in definitions/tfjob.cue")
	description = string(m[2]) + " (upgraded to " + version + ")"
	data = bytes.Replace(data, m[0], []byte(string(m[1])+strconv.Quote(description)), 1)
	Expect(os.WriteFile(def, data, 0o644)).To(Succeed())
	return dir, version, description
}

// expectAddonAt waits until `vela addon status` says the addon is enabled at
// a version (`vela addon enable` can return while the addon's application is
// still rendering the new version: status "enabling"), and checks the tfjob
// definition's description.
func expectAddonAt(ctx SpecContext, version, description string) {
	Eventually(func(g Gomega) {
		out, err := cluster.vela.Run(ctx, "addon", "status", addonName)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(out).To(ContainSubstring(addonName+": enabled ("+version+")"), "vela addon status shows another version or state:\n"+out)
	}, stepTimeout, poll).Should(Succeed())
	Eventually(func(g Gomega) {
		def, err := getObject(ctx, "core.oam.dev/v1beta1", "ComponentDefinition", "vela-system", "tfjob")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(def.GetAnnotations()).To(HaveKeyWithValue("definition.oam.dev/description", description))
	}, objectTimeout, poll).Should(Succeed())
}

var _ = Describe("Faults", Label("faults"), func() {
	It("continues the workflow from the same step when vela-core restarts mid-training, and keeps the gate", func(ctx SpecContext) {
		skipUnlessEmbedded()
		ns := newNamespace(ctx, "faults-vela-core", nil)
		prepareTraining(ctx, ns, "mnist")
		app := heldTraining(ns)
		marker := map[string]interface{}{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]interface{}{"name": "mnist-run-started", "namespace": ns},
			"data":     map[string]interface{}{"run": "1"},
		}
		app.Spec.Workflow.Steps = append([]oamv1alpha1.WorkflowStep{
			stepWith("record-start", "apply-object", map[string]interface{}{"value": marker}),
		}, app.Spec.Workflow.Steps...)
		app.Spec.Workflow.Steps = append(app.Spec.Workflow.Steps, oamv1alpha1.WorkflowStep{
			WorkflowStepBase: oamv1alpha1.WorkflowStepBase{Name: "evaluate-model", Type: "suspend"}})
		name := upApplication(ctx, app, ns)

		waitForStep(ctx, ns, name, "record-start", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		waitForStep(ctx, ns, name, "train-model", workflowv1alpha1.WorkflowStepPhaseRunning)
		job, _ := waitForHeldTFJob(ctx, ns, "mnist-v1", 5)
		Expect(tfjobsOf(ctx, ns, name, "mnist")).To(HaveLen(1))
		before := stepOf(ctx, ns, name, "record-start")
		trainBefore := stepOf(ctx, ns, name, "train-model")
		cm := &corev1.ConfigMap{}
		Expect(cluster.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "mnist-run-started"}, cm)).To(Succeed())

		ready := restartComponent(ctx, testenv.VelaCore)
		By("the restarted vela-core executes train-model again, which still waits for the held TFJob")
		Eventually(func(g Gomega) {
			a, err := appflow.Get(ctx, cluster.client, ns, name)
			g.Expect(err).NotTo(HaveOccurred())
			s := appflow.Step(a, "train-model")
			g.Expect(s.Phase).To(Equal(workflowv1alpha1.WorkflowStepPhaseRunning), describeSteps(a))
			// lastExecuteTime has whole seconds: a later second than ready is the new process's.
			g.Expect(s.LastExecuteTime.Time).To(BeTemporally(">", ready), "not executed since the restart")
		}, stepTimeout, poll).Should(Succeed())
		Expect(tfjobsOf(ctx, ns, name, "mnist")).To(HaveLen(1))
		releaseTraining(ctx, ns)
		waitForStep(ctx, ns, name, "train-model", workflowv1alpha1.WorkflowStepPhaseSucceeded)

		By("the workflow went on from train-model: the earlier step did not run again")
		Expect(stepOf(ctx, ns, name, "record-start").FirstExecuteTime.Time).To(BeTemporally("==", before.FirstExecuteTime.Time))
		Expect(stepOf(ctx, ns, name, "train-model").FirstExecuteTime.Time).To(BeTemporally("==", trainBefore.FirstExecuteTime.Time))
		again := &corev1.ConfigMap{}
		Expect(cluster.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "mnist-run-started"}, again)).To(Succeed())
		Expect(again.UID).To(Equal(cm.UID))
		Expect(again.ResourceVersion).To(Equal(cm.ResourceVersion), "record-start applied its object again")
		By("exactly one TFJob for the run: no re-training")
		jobs := tfjobsOf(ctx, ns, name, "mnist")
		Expect(jobs).To(HaveLen(1))
		Expect(jobs[0].GetUID()).To(Equal(job.GetUID()))
		status, _ := tfjobCondition(jobs[0], "Succeeded")
		Expect(status).To(Equal("True"))

		By("the evaluation gate keeps its state across a second restart")
		waitForSuspendAt(ctx, ns, name, "evaluate-model")
		gate := stepOf(ctx, ns, name, "evaluate-model")
		run := workflowRun(ctx, ns, name)
		// A suspended gate is not requeued: the new process executes it once,
		// when it starts, possibly within the second it became ready. So the
		// restart begins in a later second than the gate's last execution,
		// and any execution from then on shows a later lastExecuteTime (whole
		// seconds). The old process does not execute the waiting gate again
		// by itself in the second before it stops.
		for !time.Now().Truncate(timestampGrain).After(gate.LastExecuteTime.Time) {
			time.Sleep(100 * time.Millisecond)
		}
		stopping := time.Now().Truncate(timestampGrain)
		restartComponent(ctx, testenv.VelaCore)
		By("the restarted vela-core executes the gate again, and it still waits, from its first suspension")
		Eventually(func(g Gomega) {
			a, err := appflow.Get(ctx, cluster.client, ns, name)
			g.Expect(err).NotTo(HaveOccurred())
			s := appflow.Step(a, "evaluate-model")
			g.Expect(s).NotTo(BeNil(), describeSteps(a))
			g.Expect(s.LastExecuteTime.Time).To(BeTemporally(">=", stopping), "not executed since the restart: "+describeSteps(a))
			g.Expect(appflow.SuspendedAt(a)).To(Equal("evaluate-model"), describeSteps(a))
			g.Expect(s.FirstExecuteTime.Time).To(BeTemporally("==", gate.FirstExecuteTime.Time))
		}, stepTimeout, poll).Should(Succeed())
		Expect(workflowRun(ctx, ns, name)).To(Equal(run), "the restarted vela-core ran the workflow again")
		resume(ctx, ns, name)
		waitForStep(ctx, ns, name, "evaluate-model", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		waitForAppPhase(ctx, ns, name, "running")
		Expect(tfjobsOf(ctx, ns, name, "mnist")).To(HaveLen(1), "the resumed workflow trained again")
	})

	It("completes the TFJob and the step when the training operator restarts while the job runs", func(ctx SpecContext) {
		skipUnlessEmbedded()
		ns := newNamespace(ctx, "faults-operator", nil)
		prepareTraining(ctx, ns, "mnist")
		name := upApplication(ctx, heldTraining(ns), ns)

		waitForStep(ctx, ns, name, "train-model", workflowv1alpha1.WorkflowStepPhaseRunning)
		job, pods := waitForHeldTFJob(ctx, ns, "mnist-v1", 5)
		Expect(tfjobsOf(ctx, ns, name, "mnist")).To(HaveLen(1))
		workers := podUIDs(pods, "worker")
		Expect(workers).To(HaveLen(3))

		restartComponent(ctx, testenv.TrainingOperator)
		// The end state that shows the restarted operator has reconciled this
		// job with its pods in view: it re-creates a pod deleted after the
		// restart, and that reconcile keeps the other pods instead of
		// creating new ones.
		By("deleting PS pod 0 after the restart: the restarted operator re-creates it and adopts the other pods")
		deleted := jobPodOf(pods, "ps", "0")
		Expect(cluster.client.Delete(ctx, &deleted)).To(Succeed())
		want := podUIDs(pods, "")
		delete(want, deleted.Name)
		Eventually(func(g Gomega) {
			got := podUIDs(jobPods(ctx, ns, job.GetName()), "")
			g.Expect(got).To(HaveLen(5), "pods: %v", got)
			g.Expect(got).To(HaveKey(deleted.Name), "the restarted operator has not re-created %s", deleted.Name)
			g.Expect(got[deleted.Name]).NotTo(Equal(deleted.UID))
			for pod, uid := range want {
				g.Expect(got).To(HaveKeyWithValue(pod, uid), "pod %s was created again after the restart", pod)
			}
		}, objectTimeout, poll).Should(Succeed())
		releaseTraining(ctx, ns)

		waitForStep(ctx, ns, name, "train-model", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		jobs := tfjobsOf(ctx, ns, name, "mnist")
		Expect(jobs).To(HaveLen(1))
		Expect(jobs[0].GetUID()).To(Equal(job.GetUID()))
		status, _ := tfjobCondition(jobs[0], "Succeeded")
		Expect(status).To(Equal("True"))
		expectAllReplicasRan(jobs[0], map[string]int64{"PS": 2, "Worker": 3})
		By("the workers left after the job are pods created before the restart (cleanPodPolicy may delete the rest)")
		after := podUIDs(jobPods(ctx, ns, job.GetName()), "worker")
		Expect(after).NotTo(BeEmpty())
		for pod, uid := range after {
			Expect(workers).To(HaveKeyWithValue(pod, uid), "worker %s was created again after the restart", pod)
		}
		waitForAppPhase(ctx, ns, name, "running")
	})

	Describe("with a trained model and a serving app deployed", Ordered, func() {
		var ns, training, serving string

		BeforeAll(func(ctx SpecContext) {
			ns = newNamespace(ctx, "faults-deployed", nil)
			DeferCleanup(func(ctx SpecContext) {
				if *skipCleanup {
					return
				}
				// The serving app's env namespace is not the spec's: delete it too.
				dev := &corev1.Namespace{}
				dev.Name = ns + "-dev"
				Expect(client.IgnoreNotFound(cluster.client.Delete(ctx, dev))).To(Succeed())
			})
			prepareTraining(ctx, ns, "mnist")
			training = upExample(ctx, trainingExample, ns)
			serving = upExample(ctx, servingExample, ns)
			waitForStep(ctx, ns, training, "train-model", workflowv1alpha1.WorkflowStepPhaseSucceeded)
			waitForAppPhase(ctx, ns, training, "running")
			waitForAppPhase(ctx, ns, serving, "running")
		})

		It("keeps both apps running with the same objects when the apiserver restarts", func(ctx SpecContext) {
			skipUnlessEmbedded()
			trainingObjs, servingObjs := settledSnapshot(ctx, ns, training, ns), settledSnapshot(ctx, ns, serving, ns, ns+"-dev")
			Expect(trainingObjs).To(HaveKey("TFJob.kubeflow.org " + ns + "/mnist-v1"))
			Expect(trainingObjs).To(HaveKey("PersistentVolumeClaim " + ns + "/mnist-models"))
			Expect(servingObjs).To(HaveKey("Deployment.apps " + ns + "-dev/mnist-stable"))
			Expect(servingObjs).To(HaveKey("Deployment.apps " + ns + "-dev/mnist-canary"))
			Expect(hasKind(servingObjs, "Pod")).To(BeTrue(), "the serving snapshot has no pods: %s", countByKind(servingObjs))
			Expect(hasKind(servingObjs, "ReplicaSet.apps")).To(BeTrue(), "the serving snapshot has no ReplicaSets: %s", countByKind(servingObjs))
			trainingRun, servingRun := workflowRun(ctx, ns, training), workflowRun(ctx, ns, serving)

			restartComponent(ctx, testenv.KubeAPIServer)
			By("every component is healthy again")
			Eventually(func(g Gomega) {
				for _, s := range cluster.env.Status(ctx) {
					g.Expect(s.Healthy).To(BeTrue(), "%s: %v", s.Name, s.Err)
				}
			}, objectTimeout, poll).Should(Succeed())
			waitForAppPhase(ctx, ns, training, "running")
			waitForAppPhase(ctx, ns, serving, "running")
			expectAppUnchanged(ctx, ns, training, trainingRun, trainingObjs, ns)
			expectAppUnchanged(ctx, ns, serving, servingRun, servingObjs, ns, ns+"-dev")
			// The end states above hold; this window stays because nothing
			// marks that vela-core has reconciled an app since the restart
			// (when its informers re-list, unchanged apps pass its update
			// filter as a resync and are reconciled): a finished app's status
			// is written only on change, and its events are aggregated and
			// rate-limited by client-go's spam filter, which the workflow's
			// own events have used up. A duplicate or a re-run that such a
			// reconcile made would show within the window.
			By("both apps keep the same workflow runs and objects for " + consistently.String())
			Consistently(func(g Gomega) {
				g.Expect(workflowRun(ctx, ns, training)).To(Equal(trainingRun), "the training workflow ran again")
				g.Expect(workflowRun(ctx, ns, serving)).To(Equal(servingRun), "the serving workflow ran again")
				g.Expect(snapshotDiff(trainingObjs, appSnapshot(ctx, ns, training, ns))).To(BeEmpty())
				g.Expect(snapshotDiff(servingObjs, appSnapshot(ctx, ns, serving, ns, ns+"-dev"))).To(BeEmpty())
			}, consistently, poll).Should(Succeed())
		})

		It("refuses to disable the addon while apps use it, and upgrades it without touching their objects", func(ctx SpecContext) {
			By("a model version recorded by an earlier run")
			Expect(cluster.client.Create(ctx, fixtures.ModelVersionRecord(ns, "mnist-v1", "mnist", "1", "myhub/mnist:mnist-v1"))).To(Succeed())
			rec := record(ctx, ns, "mnist-v1")
			trainingObjs, servingObjs := settledSnapshot(ctx, ns, training, ns), settledSnapshot(ctx, ns, serving, ns, ns+"-dev")
			trainingRun, servingRun := workflowRun(ctx, ns, training), workflowRun(ctx, ns, serving)
			crd := crdUID(ctx)
			// Called after an end state (the refused disable returned, or the
			// addon application ran the new version to running): vela-core
			// does not reconcile apps on a ComponentDefinition change, so their
			// objects have no later reaction to wait for.
			expectSurvived := func() {
				waitForAppPhase(ctx, "vela-system", "addon-"+addonName, "running")
				expectAppUnchanged(ctx, ns, training, trainingRun, trainingObjs, ns)
				expectAppUnchanged(ctx, ns, serving, servingRun, servingObjs, ns, ns+"-dev")
				Expect(crdUID(ctx)).To(Equal(crd), "the TFJob CRD was re-created")
				Expect(record(ctx, ns, "mnist-v1").UID).To(Equal(rec.UID), "the model-version record was re-created")
			}

			By("vela addon disable " + addonName + " (not forced)")
			out, err := cluster.vela.DisableAddon(ctx, addonName, false)
			GinkgoWriter.Println(out)
			Expect(err).To(HaveOccurred(), "disable was not refused while apps use the addon")
			Expect(err.Error()).To(ContainSubstring("this addon is being used by"))
			// vela names the first three apps, then "and other N more".
			Expect(err.Error()).To(Or(ContainSubstring(ns+"/"+training), ContainSubstring("and other")))
			addonApp := &v1beta1.Application{}
			Expect(cluster.client.Get(ctx, types.NamespacedName{Namespace: "vela-system", Name: "addon-" + addonName}, addonApp)).
				To(Succeed(), "the refused disable deleted the addon application")
			expectSurvived()

			original := addonVersion(repoRoot)
			dir, version, description := stageUpgrade()
			By(fmt.Sprintf("vela addon enable %s (upgrade %s -> %s, tfjob description changed)", dir, original, version))
			out, err = cluster.vela.EnableAddon(ctx, dir, cluster.addonArgs...)
			Expect(err).NotTo(HaveOccurred())
			GinkgoWriter.Println(out)
			Expect(out).To(ContainSubstring("enabled successfully"))
			AddReportEntry("fault injected", "addon upgrade "+original+" -> "+version)
			expectAddonAt(ctx, version, description)
			expectSurvived()

			By("back to the addon as committed")
			enableAddon(ctx)
			AddReportEntry("fault injected", "addon downgrade "+version+" -> "+original)
			expectAddonAt(ctx, original, strings.TrimSuffix(description, " (upgraded to "+version+")"))
			expectSurvived()
		})

		It("trains a new revision into a new TFJob and leaves the finished one alone", func(ctx SpecContext) {
			first := tfjobsOf(ctx, ns, training, "mnist")
			Expect(first).To(HaveLen(1))
			v1 := first[0]
			Expect(v1.GetName()).To(Equal("mnist-v1"))
			pvc := &corev1.PersistentVolumeClaim{}
			Expect(cluster.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "mnist-models"}, pvc)).To(Succeed())

			By("changing the run policy: a new application revision, its training held")
			app := heldTraining(ns)
			comp := component(app, "mnist")
			props := properties(comp)
			props["runPolicy"].(map[string]interface{})["backoffLimit"] = 4
			setProperties(comp, props)
			upApplication(ctx, app, ns)
			Eventually(func(g Gomega) {
				a := getApp(ctx, ns, training)
				g.Expect(a.Status.Workflow).NotTo(BeNil())
				g.Expect(a.Status.Workflow.AppRevision).To(Equal(training+"-v2"), describeSteps(a))
			}, stepTimeout, poll).Should(Succeed())
			v2, _ := waitForHeldTFJob(ctx, ns, "mnist-v2", 5)
			Expect(v2.GetLabels()).To(HaveKeyWithValue("app.oam.dev/appRevision", training+"-v2"))

			// The end state: train-model has run again after the execution
			// that created mnist-v2 (every execution re-applies its
			// component), so what it applies is known; mnist-v1 is not in it.
			By("once train-model has re-applied its component while mnist-v2 waits, the finished mnist-v1 is not edited")
			Eventually(func(g Gomega) {
				a := getApp(ctx, ns, training)
				s := appflow.Step(a, "train-model")
				g.Expect(s).NotTo(BeNil(), describeSteps(a))
				g.Expect(s.Phase).To(Equal(workflowv1alpha1.WorkflowStepPhaseRunning), describeSteps(a))
				g.Expect(s.LastExecuteTime.Time).To(BeTemporally(">", v2.GetCreationTimestamp().Add(minStepBackoff)),
					"train-model has not run again since it created mnist-v2: "+describeSteps(a))
			}, stepTimeout, poll).Should(Succeed())
			got, err := getObject(ctx, "kubeflow.org/v1", "TFJob", ns, "mnist-v1")
			Expect(err).NotTo(HaveOccurred())
			Expect(got.GetUID()).To(Equal(v1.GetUID()))
			Expect(got.GetGeneration()).To(Equal(v1.GetGeneration()), "mnist-v1 was edited")
			Expect(got.Object["spec"]).To(Equal(v1.Object["spec"]), "mnist-v1 was edited")
			Expect(jobPods(ctx, ns, "mnist-v2")).To(HaveLen(5), "mnist-v2's pods are still held")

			releaseTraining(ctx, ns)
			waitForStep(ctx, ns, training, "train-model", workflowv1alpha1.WorkflowStepPhaseSucceeded)
			waitForAppPhase(ctx, ns, training, "running")
			got, err = getObject(ctx, "kubeflow.org/v1", "TFJob", ns, "mnist-v2")
			Expect(err).NotTo(HaveOccurred())
			Expect(got.GetUID()).To(Equal(v2.GetUID()))
			status, _ := tfjobCondition(*got, "Succeeded")
			Expect(status).To(Equal("True"))
			limit, _, _ := unstructured.NestedInt64(got.Object, "spec", "runPolicy", "backoffLimit")
			Expect(limit).To(BeEquivalentTo(4))

			By("once the new revision's workflow finished, KubeVela garbage-collects mnist-v1 (no longer rendered); the model store stays")
			Eventually(func(g Gomega) {
				_, err := getObject(ctx, "kubeflow.org/v1", "TFJob", ns, "mnist-v1")
				g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "mnist-v1 is still there: %v", err)
			}, objectTimeout, poll).Should(Succeed())
			jobs := tfjobsOf(ctx, ns, training, "mnist")
			Expect(jobs).To(HaveLen(1))
			Expect(jobs[0].GetName()).To(Equal("mnist-v2"))
			again := &corev1.PersistentVolumeClaim{}
			Expect(cluster.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "mnist-models"}, again)).To(Succeed())
			Expect(again.UID).To(Equal(pvc.UID), "the model store was re-created")
		})
	})
})
