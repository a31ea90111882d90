package offline

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kubevela/workflow/api/v1alpha1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ---- terraform-apply and helm-apply, run offline with the step harness ----

func infraWorld(t testing.TB) *stepWorld {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, infraExample))
	if err != nil {
		t.Fatal(err)
	}
	w := newStepWorld(t, string(data))
	for _, gvk := range []schema.GroupVersionKind{gvkConfiguration, gvkHelmRelease, gvkHelmRepository} {
		w.Client.Scheme().AddKnownTypeWithName(gvk, &unstructured.Unstructured{})
		w.Client.Scheme().AddKnownTypeWithName(gvk.GroupVersion().WithKind(gvk.Kind+"List"), &unstructured.UnstructuredList{})
	}
	return w
}

// infraStep sets the properties of the workflow step named step.
func infraStep(w *stepWorld, step, properties string) {
	for i := range w.App.Spec.Workflow.Steps {
		if w.App.Spec.Workflow.Steps[i].Name == step {
			w.App.Spec.Workflow.Steps[i].Properties.Raw = []byte(properties)
			return
		}
	}
	w.t.Fatalf("no step %s", step)
}

// infraComponent sets the properties of the component named name.
func infraComponent(w *stepWorld, name, properties string) {
	for i := range w.App.Spec.Components {
		if w.App.Spec.Components[i].Name == name {
			w.App.Spec.Components[i].Properties.Raw = []byte(properties)
			return
		}
	}
	w.t.Fatalf("no component %s", name)
}

// ---- terraform-apply ----

const tfBucketWaiting = "Configuration s3-bucket: Waiting for terraform-controller to pick up the Configuration (is the terraform addon enabled?)"

// tfBucketStarted is the first reconcile of create-s3-bucket: the component
// is applied without a health wait and the step waits for terraform-controller.
func tfBucketStarted(t testing.TB) *stepWorld {
	t.Helper()
	w := infraWorld(t)
	stepWant(t, w.Run("create-s3-bucket"), v1alpha1.WorkflowStepPhaseRunning, tfBucketWaiting)
	w.wantApplied("s3-bucket")
	return w
}

// tfApply is a Configuration status: apply.state, apply.message and the
// generation terraform-controller has seen.
func tfApply(observed int64, state, message string) map[string]interface{} {
	apply := map[string]interface{}{"state": state}
	if message != "" {
		apply["message"] = message
	}
	status := map[string]interface{}{"apply": apply}
	if observed > 0 {
		status["observedGeneration"] = observed
	}
	return status
}

// tfBucket: after the first reconcile terraform-controller reports status;
// the step shows phase and message (and applies the component again
// without a health wait).
func tfBucket(status map[string]interface{}, phase v1alpha1.WorkflowStepPhase, message string) func(t testing.TB) {
	return func(t testing.TB) {
		wantApplyAndWait(t, tfBucketStarted(t), gvkConfiguration, "ml-infra", "s3-bucket", "create-s3-bucket", status, phase, message)
	}
}

// tfFailure: terraform-controller reports a failure state; the step fails at once.
func tfFailure(state string) stepCase {
	msg := "terraform-controller says " + state
	return stepCase{"fails at once on " + state, tfBucket(tfApply(1, state, msg), v1alpha1.WorkflowStepPhaseFailed,
		"Configuration s3-bucket: Failed ("+state+"): "+msg)}
}

// The terraform-apply step, situation by situation.
var terraformStepCases = []stepCase{
	{"applies the component and waits for terraform-controller", func(t testing.TB) {
		w := infraWorld(t)
		stepWant(t, w.Run("create-prod-cluster"), v1alpha1.WorkflowStepPhaseRunning,
			"Configuration prod-cluster: Waiting for terraform-controller to pick up the Configuration (is the terraform addon enabled?)")
		w.wantApplied("prod-cluster")
		conf := w.Get(gvkConfiguration, "ml-infra", "prod-cluster")
		assertEqual(t, "applied customRegion", field(t, conf, "spec", "customRegion"), "cn-hangzhou")
		// the dev cluster step applies the dev cluster, not the prod one (the spec's typo)
		stepWantPhase(t, w.Run("create-dev-cluster"), v1alpha1.WorkflowStepPhaseRunning)
		w.wantApplied("dev-cluster")
		assertEqual(t, "dev cluster applied", w.Exists(gvkConfiguration, "ml-infra", "dev-cluster"), true)
	}},
	{"waits with terraform-controller's progress", tfBucket(tfApply(1, "ProvisioningAndChecking", "Cloud resources are being provisioned"),
		v1alpha1.WorkflowStepPhaseRunning, "Configuration s3-bucket: ProvisioningAndChecking: Cloud resources are being provisioned")},
	{"succeeds once the cloud resources are Available", tfBucket(tfApply(1, "Available", "Cloud resources are deployed and ready to use"),
		v1alpha1.WorkflowStepPhaseSucceeded, "")},
	{"succeeds on a status without observedGeneration", tfBucket(tfApply(0, "Available", ""),
		v1alpha1.WorkflowStepPhaseSucceeded, "")},
	{"fails at once with the Configuration's message", tfBucket(tfApply(1, "ApplyFailed", "Error: [ERROR] BucketAlreadyExists: The requested bucket name is not available."),
		v1alpha1.WorkflowStepPhaseFailed, "Configuration s3-bucket: Failed (ApplyFailed): Error: [ERROR] BucketAlreadyExists: The requested bucket name is not available.")},
	{"fails with the state alone when there is no message", tfBucket(tfApply(1, "TerraformInitError", ""),
		v1alpha1.WorkflowStepPhaseFailed, "Configuration s3-bucket: Failed (TerraformInitError)")},
	tfFailure("DestroyFailed"),
	tfFailure("ConfigurationSpecNotValid"),
	tfFailure("InvalidRegion"),
	tfFailure("InvalidGitCredentialsSecretReference"),
	tfFailure("InvalidTerraformCredentialsSecretReference"),
	tfFailure("InvalidTerraformRCConfigMapReference"),
	tfFailure("InvalidTerraformCredentialsHelperConfigMapReference"),
	{"another state is progress, not failure", tfBucket(tfApply(1, "Destroying", ""),
		v1alpha1.WorkflowStepPhaseRunning, "Configuration s3-bucket: Destroying")},
	{"waits when Available is about an older generation", func(t testing.TB) {
		w := tfBucketStarted(t)
		w.SetStatus(gvkConfiguration, "ml-infra", "s3-bucket", tfApply(1, "Available", ""))
		// the application changes the bucket: this apply is generation 2
		infraComponent(w, "s3-bucket", `{"provider":"alibaba","bucket":"ml-example","region":"cn-hangzhou","acl":"public-read"}`)
		stepWant(t, w.Run("create-s3-bucket"), v1alpha1.WorkflowStepPhaseRunning,
			"Configuration s3-bucket: Available (an older generation); waiting for terraform-controller")
	}},
	{"a failure of an older generation does not fail the step", func(t testing.TB) {
		w := tfBucketStarted(t)
		w.SetStatus(gvkConfiguration, "ml-infra", "s3-bucket", tfApply(1, "ApplyFailed", "Error: bad ACL"))
		infraComponent(w, "s3-bucket", `{"provider":"alibaba","bucket":"ml-example","region":"cn-hangzhou","acl":"public-read"}`)
		stepWant(t, w.Run("create-s3-bucket"), v1alpha1.WorkflowStepPhaseRunning,
			"Configuration s3-bucket: ApplyFailed (an older generation); waiting for terraform-controller")
	}},
	{"fails for an unknown component", func(t testing.TB) {
		w := infraWorld(t)
		infraStep(w, "create-prod-cluster", `{"component":"prd-cluster"}`)
		stepWant(t, w.Run("create-prod-cluster"), v1alpha1.WorkflowStepPhaseFailed,
			`component "prd-cluster" is not in this application: terraform-apply needs the name of one of its k8s-cluster or s3-bucket components`)
		w.wantApplied()
	}},
	{"fails for a component of another type, before applying it", func(t testing.TB) {
		w := infraWorld(t)
		infraStep(w, "create-prod-cluster", `{"component":"kubeflow"}`)
		stepWant(t, w.Run("create-prod-cluster"), v1alpha1.WorkflowStepPhaseFailed,
			`component "kubeflow" is of type helm-chart: terraform-apply needs the name of one of its k8s-cluster or s3-bucket components`)
		w.wantApplied()
	}},
	// The step finds the Configuration by KubeVela's labels in the namespace it
	// applied the component to, not from the apply's output (which KubeVela 1.11
	// leaves empty while the component is unhealthy).
	{"follows the namespace parameter", func(t testing.TB) {
		w := infraWorld(t)
		infraStep(w, "create-s3-bucket", `{"component":"s3-bucket","namespace":"ml-infra-2"}`)
		stepWant(t, w.Run("create-s3-bucket"), v1alpha1.WorkflowStepPhaseRunning, tfBucketWaiting)
		w.wantApplied("s3-bucket in ml-infra-2")
		assertEqual(t, "applied to ml-infra-2", w.Exists(gvkConfiguration, "ml-infra-2", "s3-bucket"), true)
		w.SetStatus(gvkConfiguration, "ml-infra-2", "s3-bucket", tfApply(1, "ApplyFailed", "quota"))
		stepWant(t, w.Run("create-s3-bucket"), v1alpha1.WorkflowStepPhaseFailed, "Configuration s3-bucket: Failed (ApplyFailed): quota")
	}},
}

func TestTerraformApplyStep(t *testing.T) { runStepCases(t, terraformStepCases) }
