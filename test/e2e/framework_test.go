package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	workflowv1alpha1 "github.com/kubevela/workflow/api/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/common"
	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"

	"github.com/ml-platform/ml-platform/pkg/stage"
	"github.com/ml-platform/ml-platform/pkg/testenv/addon"
	"github.com/ml-platform/ml-platform/pkg/testenv/appflow"
	"github.com/ml-platform/ml-platform/pkg/testenv/fixtures"
)

// repoRoot is the addon's root folder, relative to this package.
const repoRoot = "../.."

// addonName is the name `vela addon enable` gives the staged folder.
const addonName = stage.AddonName

// enableAddon stages the addon files into a folder named ml-platform, packs
// them with `vela addon package` (what a registry serves), and enables the
// unpacked archive with the vela CLI, as a platform engineer would.
func enableAddon(ctx context.Context) {
	res, err := addon.Enable(ctx, addon.Options{
		CLI: cluster.vela, RepoRoot: repoRoot, Params: cluster.addonArgs,
		FromArchive: true, WorkDir: GinkgoT().TempDir(),
		Logf: func(format string, args ...interface{}) { By(fmt.Sprintf(format, args...)) },
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(filepath.Base(res.Archive)).To(MatchRegexp(`^ml-platform-\d+\.\d+\.\d+.*\.tgz$`))
	GinkgoWriter.Println(res.Output)
	Expect(res.Output).To(ContainSubstring("enabled successfully"))
	Expect(res.Output).To(ContainSubstring("vela workflow resume"), "NOTES.cue did not render its next steps")
}

// disableAddonKeepsCRDs disables the addon (forced: the suite's apps may
// still use its definitions) and checks that the CRDs it installed survive.
// The end state: the addon's application and its resource trackers are gone
// (KubeVela has finished garbage-collecting what it tracked), and each CRD
// is the same object as before, Established, with no deletion timestamp: a
// CRD being deleted still answers a Get, so existing is not enough.
func disableAddonKeepsCRDs(ctx context.Context) {
	addonLabels := client.MatchingLabels{"app.oam.dev/name": "addon-" + addonName}
	crds := &apiextensionsv1.CustomResourceDefinitionList{}
	Expect(cluster.client.List(ctx, crds, addonLabels)).To(Succeed())
	before := map[string]types.UID{}
	for _, c := range crds.Items {
		before[c.Name] = c.UID
	}
	Expect(before).To(HaveKey("tfjobs.kubeflow.org"), "the addon installed no TFJob CRD")

	By("vela addon disable " + addonName)
	_, err := cluster.vela.DisableAddon(ctx, addonName, true)
	Expect(err).NotTo(HaveOccurred())
	Eventually(func(g Gomega) {
		app := &v1beta1.Application{}
		err := cluster.client.Get(ctx, types.NamespacedName{Namespace: "vela-system", Name: "addon-" + addonName}, app)
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the addon application is still there")
		rts := &v1beta1.ResourceTrackerList{}
		g.Expect(cluster.client.List(ctx, rts, client.MatchingLabels{
			"app.oam.dev/name": "addon-" + addonName, "app.oam.dev/namespace": "vela-system"})).To(Succeed())
		g.Expect(rts.Items).To(BeEmpty(), "KubeVela has not finished garbage-collecting the addon's resources")
	}, stepTimeout, poll).Should(Succeed())
	for name, uid := range before {
		By("the CRD " + name + " is still served")
		crd := &apiextensionsv1.CustomResourceDefinition{}
		Expect(cluster.client.Get(ctx, types.NamespacedName{Name: name}, crd)).To(Succeed(), "disabling the addon deleted the CRD "+name)
		Expect(crd.UID).To(Equal(uid), "the CRD %s was re-created", name)
		Expect(crd.DeletionTimestamp).To(BeNil(), "the CRD %s is being deleted", name)
		Expect(crdCondition(crd, apiextensionsv1.Established)).To(Equal(apiextensionsv1.ConditionTrue), "the CRD %s is not Established", name)
		Expect(crdCondition(crd, apiextensionsv1.Terminating)).NotTo(Equal(apiextensionsv1.ConditionTrue), "the CRD %s is terminating", name)
	}
	By("TFJobs can still be listed")
	jobs := &unstructured.UnstructuredList{}
	jobs.SetAPIVersion("kubeflow.org/v1")
	jobs.SetKind("TFJobList")
	Expect(cluster.client.List(ctx, jobs)).To(Succeed())
}

// crdCondition returns the status of a CRD condition, or "".
func crdCondition(crd *apiextensionsv1.CustomResourceDefinition, typ apiextensionsv1.CustomResourceDefinitionConditionType) apiextensionsv1.ConditionStatus {
	for _, c := range crd.Status.Conditions {
		if c.Type == typ {
			return c.Status
		}
	}
	return ""
}

// newNamespace creates a namespace <prefix>-<random> for one spec and
// registers its cleanup: dump its objects if the spec failed, then delete it.
func newNamespace(ctx context.Context, prefix string, labels map[string]string) string {
	name := prefix + "-" + utilrand.String(5)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	Expect(cluster.client.Create(ctx, ns)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) {
		if CurrentSpecReport().Failed() {
			dumpNamespace(ctx, name)
		}
		if *skipCleanup {
			return
		}
		deleteApps(ctx, name)
		Expect(client.IgnoreNotFound(cluster.client.Delete(ctx, ns))).To(Succeed())
	})
	return name
}

// deleteApps deletes the namespace's Applications and waits until they are
// gone, so that KubeVela's garbage collection runs before the namespace goes.
func deleteApps(ctx context.Context, namespace string) {
	apps := &v1beta1.ApplicationList{}
	Expect(cluster.client.List(ctx, apps, client.InNamespace(namespace))).To(Succeed())
	for i := range apps.Items {
		Expect(client.IgnoreNotFound(cluster.client.Delete(ctx, &apps.Items[i]))).To(Succeed())
	}
	Eventually(func(g Gomega) {
		g.Expect(cluster.client.List(ctx, apps, client.InNamespace(namespace))).To(Succeed())
		g.Expect(apps.Items).To(BeEmpty())
	}, stepTimeout, poll).Should(Succeed())
}

// dumpNamespace writes the Applications, pods and events of a namespace to
// the artifacts folder and the spec's output.
func dumpNamespace(ctx context.Context, namespace string) {
	dir := *artifacts
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "ml-platform-e2e-artifacts")
	}
	_ = os.MkdirAll(dir, 0o755)
	for _, list := range []client.ObjectList{&v1beta1.ApplicationList{}, &corev1.PodList{}, &corev1.EventList{}} {
		if err := cluster.client.List(ctx, list, client.InNamespace(namespace)); err != nil {
			continue
		}
		out, _ := yaml.Marshal(list)
		file := filepath.Join(dir, fmt.Sprintf("%s-%T.yaml", namespace, list))
		_ = os.WriteFile(file, out, 0o644)
		GinkgoWriter.Printf("e2e: dumped %s\n", file)
	}
	apps := &v1beta1.ApplicationList{}
	if cluster.client.List(ctx, apps, client.InNamespace(namespace)) == nil {
		for _, a := range apps.Items {
			out, _ := yaml.Marshal(a.Status)
			GinkgoWriter.Printf("e2e: application %s status:\n%s\n", a.Name, out)
		}
	}
}

// upExample applies an example Application into a namespace with `vela up`
// and returns the Application's name.
func upExample(ctx context.Context, file, namespace string) string {
	return upApplication(ctx, readExample(file), namespace)
}

// upApplication writes an Application to a temp file and applies it with `vela up`.
func upApplication(ctx context.Context, app *v1beta1.Application, namespace string) string {
	app.Namespace = ""
	data, err := yaml.Marshal(app)
	Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(GinkgoT().TempDir(), app.Name+".yaml")
	Expect(os.WriteFile(path, data, 0o644)).To(Succeed())
	return upFile(ctx, path, namespace, app.Name)
}

func upFile(ctx context.Context, path, namespace, name string) string {
	By(fmt.Sprintf("vela up -f %s -n %s", filepath.Base(path), namespace))
	out, err := cluster.vela.Up(ctx, path, namespace)
	Expect(err).NotTo(HaveOccurred())
	GinkgoWriter.Println(out)
	return name
}

// properties decodes a component's properties.
func properties(c *common.ApplicationComponent) map[string]interface{} {
	m := map[string]interface{}{}
	if c.Properties != nil {
		Expect(json.Unmarshal(c.Properties.Raw, &m)).To(Succeed())
	}
	return m
}

// setProperties encodes a component's properties.
func setProperties(c *common.ApplicationComponent, m map[string]interface{}) {
	raw, err := json.Marshal(m)
	Expect(err).NotTo(HaveOccurred())
	c.Properties = &runtime.RawExtension{Raw: raw}
}

// component returns the named component of an Application.
func component(app *v1beta1.Application, name string) *common.ApplicationComponent {
	for i := range app.Spec.Components {
		if app.Spec.Components[i].Name == name {
			return &app.Spec.Components[i]
		}
	}
	Fail("no component " + name + " in application " + app.Name)
	return nil
}

// readExample reads an example Application so a spec can adapt it.
func readExample(file string) *v1beta1.Application {
	data, err := os.ReadFile(filepath.Join(repoRoot, file))
	Expect(err).NotTo(HaveOccurred())
	app := &v1beta1.Application{}
	Expect(yaml.Unmarshal(data, app)).To(Succeed())
	return app
}

// getApp reads an Application.
func getApp(ctx context.Context, namespace, name string) *v1beta1.Application {
	app, err := appflow.Get(ctx, cluster.client, namespace, name)
	Expect(err).NotTo(HaveOccurred())
	return app
}

// describeSteps says where a workflow is, for failure messages.
func describeSteps(app *v1beta1.Application) string {
	if app == nil || app.Status.Workflow == nil {
		return "no workflow status yet"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "app phase %s; steps:", app.Status.Phase)
	for _, s := range app.Status.Workflow.Steps {
		fmt.Fprintf(&b, "\n  %s (%s) %s %s: %s", s.Name, s.Type, s.Phase, s.Reason, s.Message)
	}
	return b.String()
}

// waitForStep waits until a workflow step reaches a phase, and returns its status.
func waitForStep(ctx context.Context, namespace, app, step string, phase workflowv1alpha1.WorkflowStepPhase) workflowv1alpha1.WorkflowStepStatus {
	By(fmt.Sprintf("waiting for step %s of %s to be %s", step, app, phase))
	var got workflowv1alpha1.WorkflowStepStatus
	Eventually(func(g Gomega) {
		a, err := appflow.Get(ctx, cluster.client, namespace, app)
		g.Expect(err).NotTo(HaveOccurred())
		s := appflow.Step(a, step)
		g.Expect(s).NotTo(BeNil(), describeSteps(a))
		if phase != workflowv1alpha1.WorkflowStepPhaseFailed {
			g.Expect(s.Phase).NotTo(Equal(workflowv1alpha1.WorkflowStepPhaseFailed), describeSteps(a))
		}
		g.Expect(s.Phase).To(Equal(phase), describeSteps(a))
		got = *s
	}, stepTimeout, poll).Should(Succeed())
	return got
}

// waitForSuspendAt waits until the workflow waits at a suspend step.
func waitForSuspendAt(ctx context.Context, namespace, app, step string) {
	By(fmt.Sprintf("waiting for %s to suspend at %s", app, step))
	Eventually(func(g Gomega) {
		a, err := appflow.Get(ctx, cluster.client, namespace, app)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(appflow.SuspendedAt(a)).To(Equal(step), describeSteps(a))
	}, stepTimeout, poll).Should(Succeed())
}

// resume resumes a suspended workflow with `vela workflow resume`.
func resume(ctx context.Context, namespace, app string) {
	By("vela workflow resume " + app)
	_, err := cluster.vela.Resume(ctx, app, namespace)
	Expect(err).NotTo(HaveOccurred())
}

// waitForAppPhase waits until the Application reaches a phase.
func waitForAppPhase(ctx context.Context, namespace, app, phase string) {
	By(fmt.Sprintf("waiting for %s to be %s", app, phase))
	Eventually(func(g Gomega) {
		a, err := appflow.Get(ctx, cluster.client, namespace, app)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(string(a.Status.Phase)).To(Equal(phase), describeSteps(a))
	}, stepTimeout, poll).Should(Succeed())
}

// getObject reads any object by apiVersion, kind, namespace and name.
func getObject(ctx context.Context, apiVersion, kind, namespace, name string) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	err := cluster.client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, u)
	return u, err
}

// listObjects lists objects of a kind in a namespace with labels.
func listObjects(ctx context.Context, apiVersion, kind, namespace string, labels map[string]string) []unstructured.Unstructured {
	u := &unstructured.UnstructuredList{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind + "List")
	Expect(cluster.client.List(ctx, u, client.InNamespace(namespace), client.MatchingLabels(labels))).To(Succeed())
	return u.Items
}

// createModelStoreVolume makes a PersistentVolume pre-bound to the model
// store claim of a tfjob component (test clusters have no RWX provisioner).
func createModelStoreVolume(ctx context.Context, namespace, claim string) {
	pv := fixtures.ModelStoreVolume(namespace, claim)
	Expect(cluster.client.Create(ctx, pv)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) {
		if !*skipCleanup {
			Expect(client.IgnoreNotFound(cluster.client.Delete(ctx, pv))).To(Succeed())
		}
	})
}

// createSecret creates a Secret with string data.
func createSecret(ctx context.Context, namespace, name string, typ corev1.SecretType, data map[string]string) {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Type: typ, StringData: data}
	Expect(cluster.client.Create(ctx, s)).To(Succeed())
}

func clientInNamespace(ns string) client.InNamespace { return client.InNamespace(ns) }

func clientLabels(l map[string]string) client.MatchingLabels { return client.MatchingLabels(l) }

// expectWorkflowFailed waits for the end state of a workflow that a step
// failed: the workflow is terminated and finished, the app's phase is
// workflowFailed (what vela-core v1.9.13, v1.10.9 and v1.11.0 set for
// workflow state "failed": a step failed, not a manual terminate), the step
// is Failed, and each later step was Skipped without running. Nothing runs
// after this: a terminated workflow's steps are not executed again.
func expectWorkflowFailed(ctx context.Context, namespace, app, failed string, skipped ...string) *v1beta1.Application {
	By(fmt.Sprintf("the workflow of %s ends: %s failed, the app is workflowFailed", app, failed))
	var got *v1beta1.Application
	Eventually(func(g Gomega) {
		a, err := appflow.Get(ctx, cluster.client, namespace, app)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(a.Status.Workflow).NotTo(BeNil())
		g.Expect(a.Status.Phase).To(Equal(common.ApplicationWorkflowFailed), describeSteps(a))
		g.Expect(a.Status.Workflow.Terminated).To(BeTrue(), "workflow not terminated: "+describeSteps(a))
		g.Expect(a.Status.Workflow.Finished).To(BeTrue(), "workflow not finished: "+describeSteps(a))
		g.Expect(a.Status.Workflow.EndTime.IsZero()).To(BeFalse(), "workflow has no end time: "+describeSteps(a))
		s := appflow.Step(a, failed)
		g.Expect(s).NotTo(BeNil(), describeSteps(a))
		g.Expect(s.Phase).To(Equal(workflowv1alpha1.WorkflowStepPhaseFailed), describeSteps(a))
		for _, name := range skipped {
			s := appflow.Step(a, name)
			g.Expect(s).NotTo(BeNil(), "step %s has no status: %s", name, describeSteps(a))
			g.Expect(s.Phase).To(Equal(workflowv1alpha1.WorkflowStepPhaseSkipped), describeSteps(a))
		}
		got = a
	}, stepTimeout, poll).Should(Succeed())
	return got
}

// expectFailedAtOnce checks that a step failed through its own op.#Fail
// (reason Action: not a timeout, not FailedAfterRetries) at its first
// execution, before any backoff: a second execution comes at least
// minStepBackoff later, so it would show a later lastExecuteTime than
// firstExecuteTime.
func expectFailedAtOnce(app *v1beta1.Application, step string) {
	s := appflow.Step(app, step)
	Expect(s).NotTo(BeNil(), describeSteps(app))
	Expect(s.Phase).To(Equal(workflowv1alpha1.WorkflowStepPhaseFailed), describeSteps(app))
	Expect(s.Reason).To(Equal("Action"), "the step did not fail through op.#Fail: "+describeSteps(app))
	Expect(s.LastExecuteTime.Time).To(BeTemporally("==", s.FirstExecuteTime.Time),
		"the step ran more than once before failing (first %s, last %s): it did not fail at once",
		s.FirstExecuteTime.UTC().Format(time.RFC3339), s.LastExecuteTime.UTC().Format(time.RFC3339))
	AddReportEntry("step "+step+" failed", fmt.Sprintf("at its only execution, %s after the workflow started",
		s.LastExecuteTime.Sub(app.Status.Workflow.StartTime.Time)))
}

// expectFailedWithinBackoff checks that a step failed through its own
// op.#Fail (reason Action) at an execution no later than one backoff after
// the change it reacts to (since): a waiting step is executed again at most
// maxWaitBackoff after its previous execution, so "fails at once" means
// within that, not within the step's timeout.
func expectFailedWithinBackoff(app *v1beta1.Application, step string, since time.Time) {
	s := appflow.Step(app, step)
	Expect(s).NotTo(BeNil(), describeSteps(app))
	Expect(s.Phase).To(Equal(workflowv1alpha1.WorkflowStepPhaseFailed), describeSteps(app))
	Expect(s.Reason).To(Equal("Action"), "the step did not fail through op.#Fail: "+describeSteps(app))
	failedAt := s.LastExecuteTime.Time
	Expect(failedAt).To(BeTemporally(">=", since.Add(-timestampGrain)), "the step failed before the change it reports")
	Expect(failedAt).To(BeTemporally("<=", since.Add(maxWaitBackoff+timestampGrain)),
		"the step failed %s after the change: more than one backoff (%s)", failedAt.Sub(since), maxWaitBackoff)
	AddReportEntry("step "+step+" failed", fmt.Sprintf("%s after the change it reports (one backoff is at most %s)",
		failedAt.Sub(since), maxWaitBackoff))
}

// expectPodSecurityEnforced shows that the real apiserver enforces the
// restricted Pod Security Standard in a namespace: a pod running as root is
// refused (server-side dry-run create: admission runs, nothing is stored),
// while the same pod made compliant is accepted. A pod of the addon's that is
// admitted there afterwards is therefore compliant, not merely unchecked.
func expectPodSecurityEnforced(ctx context.Context, namespace string) {
	By("the apiserver refuses a root pod in " + namespace + " (dry run)")
	pod := func(name string, compliant bool) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
			Spec: corev1.PodSpec{
				AutomountServiceAccountToken: ptrTo(false),
				Containers: []corev1.Container{{
					Name: "probe", Image: "busybox:1.36", Command: []string{"sleep", "3600"},
					SecurityContext: &corev1.SecurityContext{RunAsUser: ptrTo(int64(0))},
				}},
			},
		}
		if compliant {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{
				RunAsNonRoot:   ptrTo(true),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			}
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{
				RunAsUser:                ptrTo(int64(65532)),
				AllowPrivilegeEscalation: ptrTo(false),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			}
		}
		return p
	}
	// Eventually: until the namespace's default ServiceAccount exists, the
	// ServiceAccount admission plugin refuses every pod, for another reason.
	Eventually(func(g Gomega) {
		err := cluster.client.Create(ctx, pod("root-probe", false), client.DryRunAll)
		g.Expect(err).To(HaveOccurred(), "the apiserver admitted a root pod: restricted is not enforced in %s", namespace)
		g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "not refused by admission: %v", err)
		g.Expect(err.Error()).To(ContainSubstring(`violates PodSecurity "restricted:latest"`))
		g.Expect(err.Error()).To(ContainSubstring("runAsUser=0"))
		g.Expect(cluster.client.Create(ctx, pod("compliant-probe", true), client.DryRunAll)).To(Succeed(),
			"the compliant probe was refused too: the refusal is not the policy's")
	}, objectTimeout, poll).Should(Succeed())
}

func ptrTo[T any](v T) *T { return &v }
