package e2e

import (
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// schemaType is how vela-core and VelaUX name a definition kind in ConfigMap names.
var schemaType = map[string]string{
	render.KindComponent: "component", render.KindTrait: "trait",
	render.KindWorkflowStep: "workflowstep", render.KindPolicy: "policy",
}

var _ = Describe("Enabling the addon", Label("addon"), func() {
	It("installs the TFJob CRD itself, and it is served", func(ctx SpecContext) {
		Eventually(func(g Gomega) {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			g.Expect(cluster.client.Get(ctx, types.NamespacedName{Name: "tfjobs.kubeflow.org"}, crd)).To(Succeed())
			g.Expect(crd.Labels).To(HaveKeyWithValue("app.oam.dev/name", "addon-"+addonName), "the CRD is not the addon's")
			established := false
			for _, c := range crd.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					established = true
				}
			}
			g.Expect(established).To(BeTrue(), "the TFJob CRD is not established")
		}, objectTimeout, poll).Should(Succeed())
	})

	It("registers every definition, and vela-core writes its OpenAPI schema for VelaUX", func(ctx SpecContext) {
		defs, err := render.LoadDefinitionDir(filepath.Join(repoRoot, "definitions"))
		Expect(err).NotTo(HaveOccurred())
		Expect(defs).NotTo(BeEmpty())
		for _, d := range defs {
			By("definition " + d.Kind + " " + d.Name)
			Eventually(func(g Gomega) {
				obj, err := getObject(ctx, "core.oam.dev/v1beta1", d.Object.GetKind(), "vela-system", d.Name)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(obj.GetOwnerReferences()).To(ContainElement(HaveField("Name", "addon-"+addonName)))
				cm := &corev1.ConfigMap{}
				name := schemaType[d.Kind] + "-schema-" + d.Name
				g.Expect(cluster.client.Get(ctx, types.NamespacedName{Namespace: "vela-system", Name: name}, cm)).
					To(Succeed(), "vela-core wrote no OpenAPI schema ConfigMap "+name+": VelaUX would show no form")
				g.Expect(cm.Data).To(HaveKey("openapi-v3-json-schema"))
			}, objectTimeout, poll).Should(Succeed())
		}
	})

	It("creates one ui-schema ConfigMap per schemas/ file", func(ctx SpecContext) {
		files, err := os.ReadDir(filepath.Join(repoRoot, "schemas"))
		Expect(err).NotTo(HaveOccurred())
		for _, f := range files {
			name := strings.SplitN(f.Name(), ".", 2)[0]
			cm := &corev1.ConfigMap{}
			Expect(cluster.client.Get(ctx, types.NamespacedName{Namespace: "vela-system", Name: name}, cm)).
				To(Succeed(), "no ConfigMap vela-system/"+name+" for schemas/"+f.Name())
			Expect(cm.Data).To(HaveKey("ui-schema"))
		}
	})

	It("runs the addon application", func(ctx SpecContext) {
		Eventually(func(g Gomega) {
			app := &v1beta1.Application{}
			g.Expect(cluster.client.Get(ctx, types.NamespacedName{Namespace: "vela-system", Name: "addon-" + addonName}, app)).To(Succeed())
			g.Expect(string(app.Status.Phase)).To(Equal("running"), describeSteps(app))
		}, stepTimeout, poll).Should(Succeed())
	})
})
