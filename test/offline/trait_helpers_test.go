package offline

import (
	"context"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// testdataDefs holds test doubles (fake-tfjob, fake-tfserving) and a test
// trait for the podtemplate helper; they are rendered together with the
// addon's definitions.
const testdataDefs = "test/offline/testdata/definitions"

// testdataRenderer renders with the addon's definitions plus the test doubles.
func testdataRenderer(t testing.TB) *render.Renderer {
	t.Helper()
	r, err := render.Shared(filepath.Join(repoRoot, "definitions"), filepath.Join(repoRoot, testdataDefs))
	if err != nil {
		t.Fatalf("failed to load definitions: %v", err)
	}
	return r
}

// renderWithFakes renders an Application (YAML text) with the test doubles.
func renderWithFakes(t testing.TB, doc string) *render.Result {
	t.Helper()
	app, _, err := render.ParseApplication([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	res, err := testdataRenderer(t).Render(context.Background(), app)
	if err != nil {
		t.Fatalf("does not render:\n%v", err)
	}
	return res
}

// podTemplates returns every pod template of a workload keyed by where it is:
// "spec.template", "spec.jobTemplate.spec.template" or "<role>" for a TFJob.
func podTemplates(t testing.TB, obj *unstructured.Unstructured) map[string]map[string]interface{} {
	t.Helper()
	out := map[string]map[string]interface{}{}
	if tpl, ok, _ := unstructured.NestedMap(obj.Object, "spec", "template"); ok {
		out["spec.template"] = tpl
	}
	if tpl, ok, _ := unstructured.NestedMap(obj.Object, "spec", "jobTemplate", "spec", "template"); ok {
		out["spec.jobTemplate.spec.template"] = tpl
	}
	roles, _, _ := unstructured.NestedMap(obj.Object, "spec", "tfReplicaSpecs")
	for role := range roles {
		tpl, ok, _ := unstructured.NestedMap(obj.Object, "spec", "tfReplicaSpecs", role, "template")
		if ok {
			out[role] = tpl
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s %s has no pod template", obj.GetKind(), obj.GetName())
	}
	return out
}

func podSpecOf(t testing.TB, tpl map[string]interface{}) map[string]interface{} {
	t.Helper()
	spec, ok := tpl["spec"].(map[string]interface{})
	if !ok {
		t.Fatalf("pod template has no spec: %v", tpl)
	}
	return spec
}

func podAnnotations(tpl map[string]interface{}) map[string]interface{} {
	m, _, _ := unstructured.NestedMap(tpl, "metadata", "annotations")
	return m
}

func podLabels(tpl map[string]interface{}) map[string]interface{} {
	m, _, _ := unstructured.NestedMap(tpl, "metadata", "labels")
	return m
}

func envOf(t testing.TB, c map[string]interface{}) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, e := range namedList(t, c["env"]) {
		v, _ := e["value"].(string)
		out[name] = v
	}
	return out
}

func strings_(list interface{}) []string {
	var out []string
	items, _ := list.([]interface{})
	for _, it := range items {
		s, _ := it.(string)
		out = append(out, s)
	}
	return out
}
