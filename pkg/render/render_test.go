package render_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/klog/v2"

	"github.com/ml-platform/ml-platform/pkg/render"
)

func TestMain(m *testing.M) {
	klog.SetLogger(logr.Discard())
	os.Exit(m.Run())
}

func newRenderer(t *testing.T) *render.Renderer {
	t.Helper()
	r, err := render.NewFromDir("testdata/definitions")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRenderEmitsWorkloadAndTraitPatch(t *testing.T) {
	app, _, err := render.ReadApplication("testdata/apps/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := newRenderer(t).Render(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	job := res.Find("Job", "train")
	if job == nil {
		t.Fatalf("no Job rendered: %+v", res.Objects)
	}
	if job.GetNamespace() != "team-a" {
		t.Errorf("namespace = %q, want team-a", job.GetNamespace())
	}
	p, _, _ := unstructured.NestedInt64(job.Object, "spec", "parallelism")
	if p != 2 {
		t.Errorf("parallelism = %d, want 2", p)
	}
	team, _, _ := unstructured.NestedString(job.Object, "spec", "template", "metadata", "labels", "team")
	if team != "ml" {
		t.Errorf("trait label team = %q, want ml", team)
	}
	out, err := res.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "# component train, workload") {
		t.Errorf("YAML stream lacks the source comment:\n%s", out)
	}
}

func TestBuiltinDefinitionsAreAvailable(t *testing.T) {
	r := newRenderer(t)
	for _, name := range []string{"component/webservice", "workflow-step/suspend", "policy/topology", "trait/hpa"} {
		kind, n, _ := strings.Cut(name, "/")
		if r.Catalog().Get(kind, n) == nil {
			t.Errorf("built-in %s missing", name)
		}
	}
}

// A misspelled property is an error naming its path, not a silent default:
// in a component, in a trait and in a workflow step.
func TestMisspelledPropertiesAreRejectedWithTheirPath(t *testing.T) {
	cases := map[string]struct {
		from, to string
		want     []string
	}{
		"component":             {"replicas: 2", "replica: 2", []string{`component "train" (demo-job)`, "properties.replica", "field not allowed"}},
		"trait":                 {"team: ml", "teem: ml", []string{`component "train" trait demo-label`, "properties.teem", "field not allowed"}},
		"step":                  {"component: train", "componnent: train", []string{`workflow step "run" (demo-step)`, "properties.componnent", "field not allowed"}},
		"bound":                 {"replicas: 2", "replicas: 0", []string{"properties.replicas: must be at least 1, got 0"}},
		"enum":                  {"replicas: 2", "cleanup: remove", []string{`properties.cleanup: value "remove" is not allowed; allowed: "delete", "keep"`}},
		"step-missing-required": {"component: train", "timeout: 1m", []string{`workflow step "run"`, "properties.component", "properties.component: is required"}},
		"built-in-step":         {"type: suspend", "type: suspend\n        properties:\n          durtion: 1m", []string{`workflow step "gate" (suspend)`, "properties.durtion"}},
		"unknown-type":          {"type: demo-label", "type: demo-lable", []string{`"demo-lable" is not a known trait type`}},
	}
	src, err := os.ReadFile("testdata/apps/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := newRenderer(t)
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			bad := strings.Replace(string(src), c.from, c.to, 1)
			if bad == string(src) {
				t.Fatalf("case did not change the app")
			}
			app, _, err := render.ParseApplication([]byte(bad))
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Render(context.Background(), app)
			if err == nil {
				t.Fatalf("rendered %d objects, want an error", len(res.Objects))
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestUnknownApplicationFieldsAreRejected(t *testing.T) {
	_, _, err := render.ParseApplication([]byte("apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {name: x}\nspec:\n  componets: []\n"))
	if err == nil || !strings.Contains(err.Error(), "componets") {
		t.Fatalf("want an error naming componets, got %v", err)
	}
}

// DryRun is Render without the validation: an Application that Validate
// rejects for a misspelled workflow step property (the dry-run runs no
// steps) still renders the objects of its components.
func TestDryRunRendersWithoutValidating(t *testing.T) {
	src, err := os.ReadFile("testdata/apps/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	good, _, err := render.ParseApplication(src)
	if err != nil {
		t.Fatal(err)
	}
	bad, _, err := render.ParseApplication([]byte(strings.Replace(string(src), "component: train", "componnent: train", 1)))
	if err != nil {
		t.Fatal(err)
	}
	r := newRenderer(t)
	if err := r.Validate(bad); err == nil {
		t.Fatal("Validate accepted a misspelled step property")
	}
	want, err := r.Render(context.Background(), good)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.DryRun(context.Background(), bad)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Objects) != len(want.Objects) {
		t.Fatalf("DryRun rendered %d objects, Render %d", len(got.Objects), len(want.Objects))
	}
	for i, o := range got.Objects {
		w := want.Objects[i]
		if o.GetKind() != w.GetKind() || o.GetName() != w.GetName() || o.Source != w.Source {
			t.Errorf("object %d: %s %s (%s), want %s %s (%s)", i, o.GetKind(), o.GetName(), o.Source, w.GetKind(), w.GetName(), w.Source)
		}
	}
	noNamespace := good.DeepCopy()
	noNamespace.Namespace = ""
	res, err := r.DryRun(context.Background(), noNamespace)
	if err != nil {
		t.Fatal(err)
	}
	if job := res.Find("Job", "train"); job == nil || job.GetNamespace() != "default" {
		t.Errorf("an Application without a namespace did not render into default: %+v", job)
	}
	if noNamespace.Namespace != "" {
		t.Errorf("DryRun set the caller's Application's namespace to %q", noNamespace.Namespace)
	}
}
