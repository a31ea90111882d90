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
	"time"

	oamv1alpha1 "github.com/kubevela/pkg/apis/oam/v1alpha1"
	workflowv1alpha1 "github.com/kubevela/workflow/api/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"

	"github.com/ml-platform/ml-platform/hack/controlplane"
	"github.com/ml-platform/ml-platform/pkg/appflow"
	"github.com/ml-platform/ml-platform/pkg/fixtures"
	"github.com/ml-platform/ml-platform/pkg/stage"
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

// stepOf returns a workflow step's status, failing when it has not started.
func stepOf(ctx SpecContext, namespace, app, step string) workflowv1alpha1.WorkflowStepStatus {
	a := getApp(ctx, namespace, app)
	s := appflow.Step(a, step)
	Expect(s).NotTo(BeNil(), describeSteps(a))
	return *s
}

// objectKinds are the kinds an app's objects are counted by.
var objectKinds = []struct{ apiVersion, kind string }{
	{"kubeflow.org/v1", "TFJob"},
	{"v1", "PersistentVolumeClaim"},
	{"apps/v1", "Deployment"},
	{"v1", "Service"},
	{"v1", "ConfigMap"},
	{"gateway.networking.k8s.io/v1", "HTTPRoute"},
}

// appObjects maps "Kind namespace/name" to UID for every object of the
// counted kinds that an app labelled in the namespaces: a duplicate shows up
// as an extra key, a re-created object as a changed UID.
func appObjects(ctx SpecContext, app string, namespaces ...string) map[string]types.UID {
	m := map[string]types.UID{}
	for _, ns := range namespaces {
		for _, k := range objectKinds {
			for _, o := range listObjects(ctx, k.apiVersion, k.kind, ns, map[string]string{"app.oam.dev/name": app}) {
				m[fmt.Sprintf("%s %s/%s", k.kind, ns, o.GetName())] = o.GetUID()
			}
		}
	}
	return m
}

// countByKind sums appObjects by kind, for messages.
func countByKind(objs map[string]types.UID) string {
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

// expectAppStays checks, over the consistently window, that an app is
// running with the same workflow run and exactly the same objects.
func expectAppStays(ctx SpecContext, namespace, app string, run map[string]string, objs map[string]types.UID, namespaces ...string) {
	By(fmt.Sprintf("%s keeps running, with the same workflow run and objects (%s)", app, countByKind(objs)))
	Consistently(func(g Gomega) {
		a, err := appflow.Get(ctx, cluster.client, namespace, app)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(string(a.Status.Phase)).To(Equal("running"), describeSteps(a))
		g.Expect(workflowRun(ctx, namespace, app)).To(Equal(run), "the workflow ran again")
		g.Expect(appObjects(ctx, app, namespaces...)).To(Equal(objs), "objects were duplicated, re-created or lost")
	}, consistently, poll).Should(Succeed())
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

// expectAddonAt checks `vela addon status` and the tfjob definition's description.
func expectAddonAt(ctx SpecContext, version, description string) {
	out, err := cluster.vela.Run(ctx, "addon", "status", addonName)
	Expect(err).NotTo(HaveOccurred())
	GinkgoWriter.Println(out)
	Expect(out).To(ContainSubstring(addonName+": enabled ("+version+")"), "vela addon status shows another version")
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

		ready := restartComponent(ctx, controlplane.VelaCore)
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
		restartComponent(ctx, controlplane.VelaCore)
		Consistently(func(g Gomega) {
			a, err := appflow.Get(ctx, cluster.client, ns, name)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(appflow.SuspendedAt(a)).To(Equal("evaluate-model"), describeSteps(a))
			g.Expect(appflow.Step(a, "evaluate-model").FirstExecuteTime.Time).To(BeTemporally("==", gate.FirstExecuteTime.Time))
		}, consistently, poll).Should(Succeed())
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

		restartComponent(ctx, controlplane.TrainingOperator)
		By("the restarted operator adopts the job's pods instead of creating new ones")
		Consistently(func(g Gomega) {
			g.Expect(podUIDs(jobPods(ctx, ns, job.GetName()), "")).To(Equal(podUIDs(pods, "")))
		}, consistently, poll).Should(Succeed())
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
			trainingObjs, servingObjs := appObjects(ctx, training, ns), appObjects(ctx, serving, ns+"-dev")
			Expect(countByKind(trainingObjs)).To(Equal("PersistentVolumeClaim=1 TFJob=1"))
			Expect(trainingObjs).To(HaveKey("TFJob " + ns + "/mnist-v1"))
			Expect(servingObjs).To(HaveKey("Deployment " + ns + "-dev/mnist-stable"))
			Expect(servingObjs).To(HaveKey("Deployment " + ns + "-dev/mnist-canary"))
			trainingRun, servingRun := workflowRun(ctx, ns, training), workflowRun(ctx, ns, serving)

			restartComponent(ctx, controlplane.KubeAPIServer)
			By("every component is healthy again")
			Eventually(func(g Gomega) {
				for _, s := range cluster.env.Status(ctx) {
					g.Expect(s.Healthy).To(BeTrue(), "%s: %v", s.Name, s.Err)
				}
			}, objectTimeout, poll).Should(Succeed())
			waitForAppPhase(ctx, ns, training, "running")
			waitForAppPhase(ctx, ns, serving, "running")
			expectAppStays(ctx, ns, training, trainingRun, trainingObjs, ns)
			expectAppStays(ctx, ns, serving, servingRun, servingObjs, ns+"-dev")
		})

		It("refuses to disable the addon while apps use it, and upgrades it without touching their objects", func(ctx SpecContext) {
			By("a model version recorded by an earlier run")
			Expect(cluster.client.Create(ctx, fixtures.ModelVersionRecord(ns, "mnist-v1", "mnist", "1", "myhub/mnist:mnist-v1"))).To(Succeed())
			rec := record(ctx, ns, "mnist-v1")
			trainingObjs, servingObjs := appObjects(ctx, training, ns), appObjects(ctx, serving, ns+"-dev")
			trainingRun, servingRun := workflowRun(ctx, ns, training), workflowRun(ctx, ns, serving)
			crd := crdUID(ctx)
			expectSurvived := func() {
				expectAppStays(ctx, ns, training, trainingRun, trainingObjs, ns)
				expectAppStays(ctx, ns, serving, servingRun, servingObjs, ns+"-dev")
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

			By("while mnist-v2 trains, the finished mnist-v1 is not edited")
			Consistently(func(g Gomega) {
				got, err := getObject(ctx, "kubeflow.org/v1", "TFJob", ns, "mnist-v1")
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(got.GetUID()).To(Equal(v1.GetUID()))
				g.Expect(got.GetGeneration()).To(Equal(v1.GetGeneration()), "mnist-v1 was edited")
				g.Expect(got.Object["spec"]).To(Equal(v1.Object["spec"]), "mnist-v1 was edited")
			}, consistently, poll).Should(Succeed())

			releaseTraining(ctx, ns)
			waitForStep(ctx, ns, training, "train-model", workflowv1alpha1.WorkflowStepPhaseSucceeded)
			waitForAppPhase(ctx, ns, training, "running")
			got, err := getObject(ctx, "kubeflow.org/v1", "TFJob", ns, "mnist-v2")
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
