// Package offline tests the addon's definitions and examples without a
// cluster: each definition compiles with KubeVela's own loader, every example
// renders through KubeVela's dry-run code, and every bad Application in the
// corpus is rejected with an error that names the field.
package offline

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/klog/v2"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// repoRoot is the addon's root folder, relative to this package.
const repoRoot = "../.."

func TestMain(m *testing.M) {
	klog.SetLogger(logr.Discard())
	os.Exit(m.Run())
}

// definitionsDir is the folder of the definitions the renderer and the
// step world use: definitions/, or $ML_PLATFORM_DEFINITIONS (e.g. a copy
// with one change, to see which tests notice it).
func definitionsDir() string {
	if dir := os.Getenv("ML_PLATFORM_DEFINITIONS"); dir != "" {
		return dir
	}
	return filepath.Join(repoRoot, "definitions")
}

// addonRenderer returns one Renderer over the addon's definitions, built once.
func addonRenderer(t testing.TB) *render.Renderer {
	t.Helper()
	r, err := render.Shared(definitionsDir())
	if err != nil {
		t.Fatalf("failed to load the addon's definitions: %v", err)
	}
	return r
}

// renderFile renders an Application file (a path relative to the repo root)
// and fails the test on any error.
func renderFile(t testing.TB, path string) *render.Result {
	t.Helper()
	app, warnings, err := render.ReadApplication(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warnings {
		t.Logf("%s: warning: %s", path, w)
	}
	res, err := addonRenderer(t).Render(context.Background(), app)
	if err != nil {
		t.Fatalf("%s does not render:\n%v", path, err)
	}
	return res
}

// renderYAML renders an Application given as YAML text.
func renderYAML(t testing.TB, doc string) (*render.Result, error) {
	t.Helper()
	app, _, err := render.ParseApplication([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return addonRenderer(t).Render(context.Background(), app)
}

// mustFind returns the rendered object of a kind and name or fails the test.
func mustFind(t testing.TB, res *render.Result, kind, name string) *unstructured.Unstructured {
	t.Helper()
	o := res.Find(kind, name)
	if o == nil {
		var have []string
		for _, x := range res.Objects {
			have = append(have, x.GetKind()+"/"+x.GetName())
		}
		t.Fatalf("no %s %q rendered; rendered: %v", kind, name, have)
	}
	return o
}

// field reads a nested field of an object, failing the test when absent.
// Path elements are map keys; use fieldOf for list indexes.
func field(t testing.TB, obj *unstructured.Unstructured, path ...string) interface{} {
	t.Helper()
	v, found, err := unstructured.NestedFieldNoCopy(obj.Object, path...)
	if err != nil || !found {
		t.Fatalf("%s %s has no field %v (err: %v)", obj.GetKind(), obj.GetName(), path, err)
	}
	return v
}

// container returns the named container of a pod template spec map.
func container(t testing.TB, podSpec map[string]interface{}, name string) map[string]interface{} {
	t.Helper()
	for _, key := range []string{"containers", "initContainers"} {
		list, _ := podSpec[key].([]interface{})
		for _, c := range list {
			if m, ok := c.(map[string]interface{}); ok && m["name"] == name {
				return m
			}
		}
	}
	t.Fatalf("no container %q in pod spec", name)
	return nil
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

func assertEqual(t testing.TB, what string, got, want interface{}) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got: %#v\nwant: %#v", what, got, want)
	}
}
