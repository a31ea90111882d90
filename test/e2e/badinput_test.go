package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	workflowv1alpha1 "github.com/kubevela/workflow/api/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ml-platform/ml-platform/pkg/testenv/appflow"
)

const specVerbatim = "examples/pipeline/spec-verbatim.yaml"

// The spec's own Application, as a user copies it from the design document
// (its traits have names, which KubeVela's API drops), applied with `vela up`
// as the file is, runs the whole pipeline: the dropped keys change nothing.
var _ = Describe("The spec's Application verbatim", Label("pipeline", "badinput"), Ordered, func() {
	var ns string
	const app = "ml-pipeline-spec"

	BeforeAll(func(ctx SpecContext) {
		ns = newPipelineNamespace(ctx, "verbatim")
		upFile(ctx, filepath.Join(repoRoot, specVerbatim), ns, app)
	})

	It("runs from training to prod", func(ctx SpecContext) {
		waitForStep(ctx, ns, app, "train-model", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		waitForSuspendAt(ctx, ns, app, "evaluate-model")
		resume(ctx, ns, app)
		waitForStep(ctx, ns, app, "save-model", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		waitForStep(ctx, ns, app, "serve-model-in-dev", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		waitForSuspendAt(ctx, ns, app, "evaluate-serving")
		resume(ctx, ns, app)
		waitForStep(ctx, ns, app, "serve-model-in-prod", workflowv1alpha1.WorkflowStepPhaseSucceeded)
		waitForAppPhase(ctx, ns, app, "running")
	})

	It("keeps the traits the names were on", func(ctx SpecContext) {
		a := getApp(ctx, ns, app)
		var traits []string
		for _, c := range a.Spec.Components {
			for _, t := range c.Traits {
				traits = append(traits, c.Name+"/"+t.Type)
			}
		}
		Expect(traits).NotTo(BeEmpty(), "the API server dropped the traits, not only their names")
	})

	AfterAll(func(ctx SpecContext) { deleteApps(ctx, ns) })
})

// A typo in a component's, a trait's or a step's properties, applied with
// `vela up`: vela-core refuses it with the property's path, and nothing of
// the bad component is applied.
var _ = Describe("A typo on the cluster", Label("badinput"), Ordered, func() {
	var ns string

	BeforeAll(func(ctx SpecContext) {
		ns = newNamespace(ctx, "typo", nil)
	})
	AfterAll(func(ctx SpecContext) { deleteApps(ctx, ns) })

	// appMessages gathers what `vela status` shows of an Application: its
	// conditions and its steps' messages.
	appMessages := func(ctx SpecContext, name string) string {
		a := getApp(ctx, ns, name)
		var b strings.Builder
		for _, c := range a.Status.Conditions {
			fmt.Fprintf(&b, "%s: %s\n", c.Type, c.Message)
		}
		b.WriteString(describeSteps(a))
		return b.String()
	}

	It("in a component: refused with its path, no TFJob applied", func(ctx SpecContext) {
		a := readExample("examples/training/app.yaml")
		a.Name = "component-typo"
		c := &a.Spec.Components[0]
		p := properties(c)
		p["runPolisy"] = map[string]interface{}{"backoffLimit": 1}
		setProperties(c, p)
		upApplication(ctx, a, ns)
		Eventually(func(g Gomega) {
			g.Expect(appMessages(ctx, a.Name)).To(ContainSubstring("runPolisy: field not allowed"))
		}, stepTimeout, poll).Should(Succeed())
		Consistently(func() []string { return tfjobNames(ctx, ns, a.Name) }, 10*time.Second, poll).Should(BeEmpty(), "a TFJob of the component with the typo was applied")
	})

	It("in a trait: refused with its path", func(ctx SpecContext) {
		a := readExample("examples/traits/serving-observability.yaml")
		a.Name = "trait-typo"
		for i := range a.Spec.Components {
			for j := range a.Spec.Components[i].Traits {
				t := &a.Spec.Components[i].Traits[j]
				if t.Type == "arms-metrics" {
					t.Properties.Raw = []byte(`{"prot": 9090}`)
					t.Properties.Object = nil
				}
			}
		}
		upApplication(ctx, a, ns)
		Eventually(func(g Gomega) {
			g.Expect(appMessages(ctx, a.Name)).To(ContainSubstring("prot: field not allowed"))
		}, stepTimeout, poll).Should(Succeed())
	})

	It("in a step: the step fails with the path before anything is trained", func(ctx SpecContext) {
		a := readExample("examples/training/app.yaml")
		a.Name = "step-typo"
		Expect(a.Spec.Workflow).NotTo(BeNil())
		s := &a.Spec.Workflow.Steps[0]
		s.Properties.Raw = []byte(strings.Replace(string(s.Properties.Raw), `"component"`, `"componnet":"x","component"`, 1))
		s.Properties.Object = nil
		start := time.Now()
		upApplication(ctx, a, ns)
		Eventually(func(g Gomega) {
			got, err := appflow.Get(ctx, cluster.client, ns, a.Name)
			g.Expect(err).NotTo(HaveOccurred())
			st := appflow.Step(got, s.Name)
			g.Expect(st).NotTo(BeNil(), describeSteps(got))
			g.Expect(st.Phase).To(Equal(workflowv1alpha1.WorkflowStepPhaseFailed), describeSteps(got))
			g.Expect(st.Message).To(ContainSubstring("componnet"), describeSteps(got))
		}, stepTimeout, poll).Should(Succeed())
		GinkgoWriter.Printf("e2e: the step failed %s after vela up\n", time.Since(start).Round(time.Second))
		// The validproperties check fails the step before anything is
		// applied (on KubeVela 1.10+ the engine would apply first).
		Expect(tfjobNames(ctx, ns, a.Name)).To(BeEmpty(), "the step applied the TFJob although its properties have a typo")
	})
})

// tfjobNames lists the TFJobs an Application owns.
func tfjobNames(ctx SpecContext, namespace, app string) []string {
	var names []string
	for _, j := range listObjects(ctx, "kubeflow.org/v1", "TFJob", namespace, map[string]string{"app.oam.dev/name": app}) {
		names = append(names, j.GetName())
	}
	return names
}
