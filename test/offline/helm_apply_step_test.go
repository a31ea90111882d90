package offline

import (
	"testing"

	"github.com/kubevela/workflow/api/v1alpha1"
)

// ---- helm-apply ----

const hrWaiting = "HelmRelease kubeflow: Waiting for fluxcd's helm-controller to pick up the HelmRelease (is the fluxcd addon enabled?)"

// hrStarted is the first reconcile of deploy-kubeflow (with the kubeflow
// component's properties when given).
func hrStarted(t testing.TB, properties string) *stepWorld {
	t.Helper()
	w := infraWorld(t)
	if properties != "" {
		infraComponent(w, "kubeflow", properties)
	}
	stepWant(t, w.Run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseRunning, hrWaiting)
	w.wantApplied("kubeflow")
	return w
}

// hrStatus is a HelmRelease status: the Ready condition, failure counts.
func hrStatus(ready, reason, message string, more map[string]interface{}) map[string]interface{} {
	c := map[string]interface{}{"type": "Ready", "status": ready, "reason": reason}
	if message != "" {
		c["message"] = message
	}
	s := map[string]interface{}{"observedGeneration": int64(1), "conditions": []interface{}{cond("Reconciling", "True", "Progressing", "x"), c}}
	for k, v := range more {
		s[k] = v
	}
	return s
}

// hrRelease: after the first reconcile helm-controller reports status; the
// step shows phase and message.
func hrRelease(properties string, status map[string]interface{}, phase v1alpha1.WorkflowStepPhase, message string) func(t testing.TB) {
	return func(t testing.TB) {
		wantApplyAndWait(t, hrStarted(t, properties), gvkHelmRelease, "ml-infra", "kubeflow", "deploy-kubeflow", status, phase, message)
	}
}

const hrRetries = `{"repo":"https://cowboysysop.github.io/charts","chart":"training-operator","retries":2}`

// hrTerminal: a reason fluxcd does not retry; the step fails at once.
func hrTerminal(reason string) stepCase {
	msg := "helm-controller says " + reason
	return stepCase{"fails at once on " + reason, hrRelease(hrRetries, hrStatus("False", reason, msg, nil), v1alpha1.WorkflowStepPhaseFailed,
		"HelmRelease kubeflow: Failed ("+reason+"): "+msg)}
}

// The helm-apply step, situation by situation.
var helmStepCases = []stepCase{
	{"applies the component and waits for helm-controller", func(t testing.TB) {
		w := hrStarted(t, "")
		assertEqual(t, "repository applied", w.Exists(gvkHelmRepository, "ml-infra", "kubeflow-repo"), true)
	}},
	{"waits with helm-controller's progress", hrRelease("", hrStatus("Unknown", "Progressing", "Reconciliation in progress", nil),
		v1alpha1.WorkflowStepPhaseRunning, "HelmRelease kubeflow: Progressing: Reconciliation in progress")},
	{"shows the reason when the condition has no message", hrRelease("", hrStatus("False", "ArtifactFailed", "", nil),
		v1alpha1.WorkflowStepPhaseRunning, "HelmRelease kubeflow: ArtifactFailed: ArtifactFailed")},
	{"succeeds once the release is Ready", hrRelease("", hrStatus("True", "ReconciliationSucceeded", "Release reconciliation succeeded", nil),
		v1alpha1.WorkflowStepPhaseSucceeded, "")},
	{"fails at once when the install failed and no retries are left", hrRelease("", hrStatus("False", "InstallFailed", "Helm install failed: unable to build kubernetes objects from release manifest",
		map[string]interface{}{"installFailures": int64(1)}),
		v1alpha1.WorkflowStepPhaseFailed, "HelmRelease kubeflow: Failed (InstallFailed): Helm install failed: unable to build kubernetes objects from release manifest")},
	{"fails at once when the upgrade failed and no retries are left", hrRelease("", hrStatus("False", "UpgradeFailed", "Helm upgrade failed: timed out",
		map[string]interface{}{"upgradeFailures": int64(1)}),
		v1alpha1.WorkflowStepPhaseFailed, "HelmRelease kubeflow: Failed (UpgradeFailed): Helm upgrade failed: timed out")},
	{"keeps waiting while install retries remain, fails when they are spent", func(t testing.TB) {
		w := hrStarted(t, hrRetries)
		w.SetStatus(gvkHelmRelease, "ml-infra", "kubeflow", hrStatus("False", "InstallFailed", "Helm install failed: timed out", map[string]interface{}{"installFailures": int64(2)}))
		stepWant(t, w.Run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseRunning, "HelmRelease kubeflow: InstallFailed: Helm install failed: timed out")
		w.SetStatus(gvkHelmRelease, "ml-infra", "kubeflow", hrStatus("False", "InstallFailed", "Helm install failed: timed out", map[string]interface{}{"installFailures": int64(3)}))
		stepWant(t, w.Run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseFailed, "HelmRelease kubeflow: Failed (InstallFailed): Helm install failed: timed out")
	}},
	{"keeps waiting while upgrade retries remain", hrRelease(hrRetries, hrStatus("False", "UpgradeFailed", "Helm upgrade failed: timed out", map[string]interface{}{"upgradeFailures": int64(2)}),
		v1alpha1.WorkflowStepPhaseRunning, "HelmRelease kubeflow: UpgradeFailed: Helm upgrade failed: timed out")},
	hrTerminal("InitFailed"),
	hrTerminal("TestFailed"),
	hrTerminal("RollbackFailed"),
	hrTerminal("UninstallFailed"),
	{"waits when Ready is about an older generation", func(t testing.TB) {
		w := hrStarted(t, "")
		w.SetStatus(gvkHelmRelease, "ml-infra", "kubeflow", hrStatus("True", "ReconciliationSucceeded", "Release reconciliation succeeded", nil))
		// the application changes the chart's version: this apply is generation 2
		infraComponent(w, "kubeflow", `{"repo":"https://cowboysysop.github.io/charts","chart":"training-operator","version":"1.1.5","namespace":"kubeflow-system","createNamespace":true,"kubeConfigSecret":{"name":"prod-cluster-kubeconfig"}}`)
		stepWant(t, w.Run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseRunning, "HelmRelease kubeflow: ReconciliationSucceeded: Release reconciliation succeeded")
	}},
	{"a failure of an older generation does not fail the step", func(t testing.TB) {
		w := hrStarted(t, "")
		w.SetStatus(gvkHelmRelease, "ml-infra", "kubeflow", hrStatus("False", "InitFailed", "chart not found", nil))
		infraComponent(w, "kubeflow", `{"repo":"https://cowboysysop.github.io/charts","chart":"training-operator","version":"1.1.5","namespace":"kubeflow-system","createNamespace":true,"kubeConfigSecret":{"name":"prod-cluster-kubeconfig"}}`)
		stepWant(t, w.Run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseRunning, "HelmRelease kubeflow: InitFailed: chart not found")
	}},
	{"fails for an unknown component", func(t testing.TB) {
		w := infraWorld(t)
		infraStep(w, "deploy-kubeflow", `{"component":"kubeflw"}`)
		stepWant(t, w.Run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseFailed,
			`component "kubeflw" is not in this application: helm-apply needs the name of one of its helm-chart components`)
		w.wantApplied()
	}},
	{"fails for a component of another type, before applying it", func(t testing.TB) {
		w := infraWorld(t)
		infraStep(w, "deploy-kubeflow", `{"component":"s3-bucket"}`)
		stepWant(t, w.Run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseFailed,
			`component "s3-bucket" is of type s3-bucket: helm-apply needs the name of one of its helm-chart components`)
		w.wantApplied()
	}},
	{"follows the namespace parameter", func(t testing.TB) {
		w := infraWorld(t)
		infraStep(w, "deploy-kubeflow", `{"component":"kubeflow","namespace":"flux-apps"}`)
		stepWant(t, w.Run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseRunning, hrWaiting)
		w.wantApplied("kubeflow in flux-apps")
		w.SetStatus(gvkHelmRelease, "flux-apps", "kubeflow", hrStatus("True", "ReconciliationSucceeded", "ok", nil))
		stepWant(t, w.Run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseSucceeded, "")
	}},
}

func TestHelmApplyStep(t *testing.T) { runStepCases(t, helmStepCases) }
