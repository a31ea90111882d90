package offline

import (
	"context"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// testdataDefs holds test doubles (fake-tfjob, fake-tfserving) and a test
// trait for the podtemplate helper; they are rendered together with the
// addon's definitions.
const testdataDefs = "offline/testdata/definitions"

var withTestdata struct {
	once     sync.Once
	renderer *render.Renderer
	err      error
}

// testdataRenderer renders with the addon's definitions plus the test doubles.
func testdataRenderer(t testing.TB) *render.Renderer {
	t.Helper()
	withTestdata.once.Do(func() {
		defs, err := render.LoadDefinitionDir(filepath.Join(repoRoot, "definitions"))
		if err != nil {
			withTestdata.err = err
			return
		}
		fakes, err := render.LoadDefinitionDir(filepath.Join(repoRoot, testdataDefs))
		if err != nil {
			withTestdata.err = err
			return
		}
		withTestdata.renderer, withTestdata.err = render.New(append(defs, fakes...))
	})
	if withTestdata.err != nil {
		t.Fatalf("failed to load definitions: %v", withTestdata.err)
	}
	return withTestdata.renderer
}

// renderWithFakes renders an Application (YAML text) with the test doubles.
func renderWithFakes(t testing.TB, doc string) *render.Result {
	t.Helper()
	app, err := render.ParseApplication([]byte(doc))
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

// namedList turns a list of {name: ...} maps into name -> map, failing on
// duplicates.
func namedList(t testing.TB, list interface{}) map[string]map[string]interface{} {
	t.Helper()
	out := map[string]map[string]interface{}{}
	items, _ := list.([]interface{})
	for _, it := range items {
		m, ok := it.(map[string]interface{})
		if !ok {
			t.Fatalf("list item is not an object: %v", it)
		}
		name, _ := m["name"].(string)
		if _, dup := out[name]; dup {
			t.Fatalf("duplicate name %q in %v", name, list)
		}
		out[name] = m
	}
	return out
}

func names(list interface{}) []string {
	var out []string
	items, _ := list.([]interface{})
	for _, it := range items {
		if m, ok := it.(map[string]interface{}); ok {
			n, _ := m["name"].(string)
			out = append(out, n)
		}
	}
	return out
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

func assertEqual(t testing.TB, what string, got, want interface{}) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got: %#v\nwant: %#v", what, got, want)
	}
}

const podPatchApp = `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: podpatch
spec:
  components:
    - name: web
      type: webservice
      properties:
        image: nginx:1.25
        env:
          - name: EXISTING
            value: "yes"
        volumeMounts:
          emptyDir:
            - name: cache
              mountPath: /cache
      traits:
        - type: sidecar
          properties:
            name: logger
            image: busybox
        - type: mlp-test-podpatch
          properties: {}
    - name: train
      type: fake-tfjob
      properties: {}
      traits:
        - type: mlp-test-podpatch
          properties:
            target: model
    - name: serve
      type: fake-tfserving
      properties: {}
      traits:
        - type: mlp-test-podpatch
          properties:
            target: model
    - name: cron
      type: cron-task
      properties:
        image: busybox
        schedule: "*/5 * * * *"
        cmd: ["date"]
      traits:
        - type: mlp-test-podpatch
          properties: {}
`

// The podtemplate helper lands one patch in every pod template and keeps
// what was there: the patch keys survive the helper's construction.
func TestPodTemplateHelperOnWebserviceKeepsContainersAndEnv(t *testing.T) {
	res := renderWithFakes(t, podPatchApp)
	tpl := podTemplates(t, mustFind(t, res, "Deployment", "web"))["spec.template"]
	assertEqual(t, "annotations", podAnnotations(tpl)["test.ml-platform.oam.dev/patched"], "true")
	spec := podSpecOf(t, tpl)
	assertEqual(t, "containers", names(spec["containers"]), []string{"web", "logger"})
	assertEqual(t, "volumes", names(spec["volumes"]), []string{"cache", "test-scratch"})
	web := container(t, spec, "web")
	assertEqual(t, "web env", envOf(t, web), map[string]string{"EXISTING": "yes", "MLP_TEST": "1"})
	assertEqual(t, "web mounts", names(web["volumeMounts"]), []string{"cache", "test-scratch"})
	assertEqual(t, "web image", web["image"], "nginx:1.25")
	logger := container(t, spec, "logger")
	assertEqual(t, "logger env (target all)", envOf(t, logger), map[string]string{"MLP_TEST": "1"})
	assertEqual(t, "logger image", logger["image"], "busybox")
}

func TestPodTemplateHelperOnEveryTFJobRole(t *testing.T) {
	res := renderWithFakes(t, podPatchApp)
	tpls := podTemplates(t, mustFind(t, res, "TFJob", "train"))
	if len(tpls) != 3 {
		t.Fatalf("want 3 roles, got %d", len(tpls))
	}
	for role, tpl := range tpls {
		assertEqual(t, role+" annotations", podAnnotations(tpl)["test.ml-platform.oam.dev/patched"], "true")
		assertEqual(t, role+" labels kept", podLabels(tpl)["ml-platform.oam.dev/model"], "mymodel")
		spec := podSpecOf(t, tpl)
		assertEqual(t, role+" containers", names(spec["containers"]), []string{"tensorflow", "sidecar"})
		assertEqual(t, role+" volumes", names(spec["volumes"]), []string{"models", "test-scratch"})
		tf := container(t, spec, "tensorflow")
		assertEqual(t, role+" env", envOf(t, tf), map[string]string{"MODEL_NAME": "mymodel", "MLP_TEST": "1"})
		assertEqual(t, role+" args", strings_(tf["args"]), []string{"--role=" + role, "--test-flag"})
		assertEqual(t, role+" mounts", names(tf["volumeMounts"]), []string{"models", "test-scratch"})
		// target: model leaves the other containers alone
		side := container(t, spec, "sidecar")
		if _, ok := side["env"]; ok {
			t.Errorf("%s: sidecar was patched: %v", role, side)
		}
	}
}

func TestPodTemplateHelperOnEveryPredictorDeployment(t *testing.T) {
	res := renderWithFakes(t, podPatchApp)
	svc := mustFind(t, res, "Service", "serve")
	if _, ok, _ := unstructured.NestedMap(svc.Object, "spec", "template"); ok {
		t.Errorf("the main Service got a pod template: %v", svc.Object)
	}
	for _, p := range []string{"a", "b"} {
		tpl := podTemplates(t, mustFind(t, res, "Deployment", "serve-"+p))["spec.template"]
		assertEqual(t, p+" annotations", podAnnotations(tpl)["test.ml-platform.oam.dev/patched"], "true")
		spec := podSpecOf(t, tpl)
		assertEqual(t, p+" containers", names(spec["containers"]), []string{"tensorflow"})
		tf := container(t, spec, "tensorflow")
		assertEqual(t, p+" env", envOf(t, tf), map[string]string{"PREDICTOR": p, "MLP_TEST": "1"})
		assertEqual(t, p+" args", strings_(tf["args"]), []string{"--port=8500", "--rest_api_port=8501", "--model_name=" + p, "--test-flag"})
		assertEqual(t, p+" ports kept", names(tf["ports"]), []string{"grpc", "http"})
	}
}

func TestPodTemplateHelperOnCronJob(t *testing.T) {
	res := renderWithFakes(t, podPatchApp)
	tpl := podTemplates(t, mustFind(t, res, "CronJob", "cron"))["spec.jobTemplate.spec.template"]
	spec := podSpecOf(t, tpl)
	c := container(t, spec, "cron")
	assertEqual(t, "cron command kept", strings_(c["command"]), []string{"date"})
	assertEqual(t, "cron env", envOf(t, c), map[string]string{"MLP_TEST": "1"})
	assertEqual(t, "cron volumes", names(spec["volumes"]), []string{"test-scratch"})
}
