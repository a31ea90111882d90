package offline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubevela/workflow/api/v1alpha1"
	batchv1 "k8s.io/api/batch/v1"
	"sigs.k8s.io/yaml"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// A misspelled step property fails the step with the property's name, and
// nothing is applied: on KubeVela 1.10+ the engine would otherwise run the
// providers before the parameter's error fails the step (the
// validproperties helper, cue/validproperties.cue).
func TestStepWithAMisspelledPropertyAppliesNothing(t *testing.T) {
	infra, err := os.ReadFile(filepath.Join(repoRoot, "examples/infra/app.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ stepType, app string }{
		{"ml-model-training", trainingStepApp},
		{"ml-model-checkpoint", checkpointApp},
		{"ml-model-serving", servingApp},
		{"terraform-apply", string(infra)},
		{"helm-apply", string(infra)},
	} {
		t.Run(c.stepType, func(t *testing.T) {
			app, _, err := render.ParseApplication([]byte(c.app))
			if err != nil {
				t.Fatal(err)
			}
			step := ""
			for i := range app.Spec.Workflow.Steps {
				s := &app.Spec.Workflow.Steps[i]
				if s.Type != c.stepType || step != "" {
					continue
				}
				props := map[string]interface{}{}
				if s.Properties != nil && len(s.Properties.Raw) > 0 {
					if err := json.Unmarshal(s.Properties.Raw, &props); err != nil {
						t.Fatal(err)
					}
				}
				props["mlpTypo"] = true
				s.Properties.Raw, _ = json.Marshal(props)
				s.Properties.Object = nil
				step = s.Name
			}
			if step == "" {
				t.Fatalf("the app has no %s step", c.stepType)
			}
			data, err := yaml.Marshal(app)
			if err != nil {
				t.Fatal(err)
			}
			w := newStepWorld(t, string(data))
			r := w.Run(step)
			if r.Status.Phase != v1alpha1.WorkflowStepPhaseFailed || !strings.Contains(r.Status.Message, "mlpTypo") {
				t.Errorf("step %s: want failed with a message naming mlpTypo, got %s: %q", step, r.Status.Phase, r.Status.Message)
			}
			w.wantApplied()
			jobs := &batchv1.JobList{}
			if err := w.Client.List(context.Background(), jobs); err != nil {
				t.Fatal(err)
			}
			if len(jobs.Items) > 0 {
				t.Errorf("step %s created the Job %s", step, jobs.Items[0].Name)
			}
		})
	}
}

// A credential put where a Secret's name belongs, or inline where the step
// takes a Secret reference, fails the step without being printed: the step
// message is what `vela status` shows and what lands in CI logs.
func TestStepMessagesNeverPrintCredentials(t *testing.T) {
	const secret = "s3cr3tPassw0rd"
	for _, c := range []struct{ name, app, step, from, to string }{
		{"registrySecret as a string", checkpointApp, "save-model-with-secret",
			"registrySecret: regcred", `registrySecret: '{"auths":{"r":{"auth":"` + secret + `"}}}'`},
		{"registrySecret as an object", checkpointApp, "save-model-with-secret",
			"registrySecret: regcred", "registrySecret: {username: bot, password: " + secret + "}"},
		{"inline S3 secret key", trainingStepApp, "train",
			"dataset: {s3: {bucket: b, secretRef: {name: creds}}}", "dataset: {s3: {bucket: b, secretAccessKey: " + secret + "}}"},
		{"inline OSS password", trainingStepApp, "train",
			"dataset: {s3: {bucket: b, secretRef: {name: creds}}}", "dataset: {oss: {bucket: b, password: " + secret + "}}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(c.app, c.from) {
				t.Fatalf("the test app no longer has %q", c.from)
			}
			w := newStepWorld(t, strings.Replace(c.app, c.from, c.to, 1))
			r := w.Run(c.step)
			if r.Status.Phase != v1alpha1.WorkflowStepPhaseFailed {
				t.Fatalf("want the step failed, got %s: %q", r.Status.Phase, r.Status.Message)
			}
			if strings.Contains(r.Status.Message, secret) {
				t.Errorf("the step message prints the credential: %q", r.Status.Message)
			}
			w.wantApplied()
		})
	}
}
