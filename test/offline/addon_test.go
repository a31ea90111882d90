package offline

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"
	"github.com/oam-dev/kubevela/pkg/addon"
	"github.com/oam-dev/kubevela/pkg/utils/common"

	"github.com/ml-platform/ml-platform/pkg/crdgen"
)

// addonName is the addon's name: `vela addon enable <dir>` takes it from the
// directory, so the reader below presents the repository under this name.
const addonName = "ml-platform"

// addonPaths are the repository paths that make the addon package; everything
// else (cmd/, pkg/, test/, hack/, examples/, ...) is not read by `vela addon enable`.
var addonPaths = []string{"metadata.yaml", "template.cue", "parameter.cue", "NOTES.cue", "README.md", "definitions", "resources", "schemas", "views", "config-templates"}

// addonDirItem and addonDirReader present the addon paths of the repository
// as the addon directory `ml-platform/`, the way KubeVela's (unexported) local
// reader does for `vela addon enable ./ml-platform`.
type addonDirItem struct{ path, name string }

func (i addonDirItem) GetType() string { return "file" }
func (i addonDirItem) GetPath() string { return i.path }
func (i addonDirItem) GetName() string { return i.name }

type addonDirReader struct{ dir string }

func (r addonDirReader) ListAddonMeta() (map[string]addon.SourceMeta, error) {
	meta := addon.SourceMeta{Name: addonName}
	for _, p := range addonPaths {
		err := filepath.WalkDir(filepath.Join(r.dir, p), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return nil
				}
				return err
			}
			if !d.IsDir() {
				meta.Items = append(meta.Items, addonDirItem{path: path, name: d.Name()})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return map[string]addon.SourceMeta{addonName: meta}, nil
}

func (r addonDirReader) ReadFile(path string) (string, error) {
	b, err := os.ReadFile(filepath.Join(r.dir, strings.TrimPrefix(path, addonName+"/")))
	return string(b), err
}

func (r addonDirReader) RelativePath(item addon.Item) string {
	return filepath.Join(addonName, strings.TrimPrefix(item.GetPath(), filepath.Clean(r.dir)))
}

// renderAddon reads the addon with KubeVela's reader and renders its
// Application as `vela addon enable ml-platform <args>` would.
func renderAddon(t *testing.T, args map[string]interface{}) *v1beta1.Application {
	t.Helper()
	dir, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	r := addonDirReader{dir: dir}
	metas, err := r.ListAddonMeta()
	if err != nil {
		t.Fatal(err)
	}
	meta := metas[addonName]
	ui, err := addon.GetUIDataFromReader(r, &meta, addon.UIMetaOptions)
	if err != nil {
		t.Fatalf("KubeVela cannot read the addon: %v", err)
	}
	pkg, err := addon.GetInstallPackageFromReader(r, &meta, ui)
	if err != nil {
		t.Fatalf("KubeVela cannot read the addon package: %v", err)
	}
	cli := fake.NewClientBuilder().WithScheme(common.Scheme).Build()
	app, _, err := addon.RenderApp(context.Background(), pkg, cli, args)
	if err != nil {
		t.Fatalf("the addon application does not render with %v: %v", args, err)
	}
	return app
}

type addonComponent struct {
	Name      string
	Type      string
	DependsOn []string
	Objects   []*unstructured.Unstructured
}

func addonComponents(t *testing.T, app *v1beta1.Application) map[string]addonComponent {
	t.Helper()
	out := map[string]addonComponent{}
	for _, c := range app.Spec.Components {
		ac := addonComponent{Name: c.Name, Type: c.Type, DependsOn: c.DependsOn}
		if c.Type == "k8s-objects" {
			var props struct {
				Objects []map[string]interface{} `json:"objects"`
			}
			if err := json.Unmarshal(c.Properties.Raw, &props); err != nil {
				t.Fatalf("component %s: %v", c.Name, err)
			}
			for _, o := range props.Objects {
				ac.Objects = append(ac.Objects, &unstructured.Unstructured{Object: o})
			}
		}
		out[c.Name] = ac
	}
	return out
}

func componentNames(m map[string]addonComponent) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func findObject(t *testing.T, comps map[string]addonComponent, kind, name string) (*unstructured.Unstructured, string) {
	t.Helper()
	for _, c := range comps {
		for _, o := range c.Objects {
			if o.GetKind() == kind && o.GetName() == name {
				return o, c.Name
			}
		}
	}
	return nil, ""
}

func TestAddonInstallsCRDAndOperator(t *testing.T) {
	comps := addonComponents(t, renderAddon(t, nil))
	assertEqual(t, "components", componentNames(comps), []string{
		"ml-platform-crds", "training-operator", "training-operator-namespace", "training-operator-rbac", "training-operator-webhook",
	})
	crds := comps["ml-platform-crds"]
	if len(crds.Objects) != 1 || crds.Objects[0].GetName() != "tfjobs.kubeflow.org" {
		t.Fatalf("ml-platform-crds holds %d objects, want the TFJob CRD", len(crds.Objects))
	}
	assertEqual(t, "CRD kind", crds.Objects[0].GetKind(), "CustomResourceDefinition")
	assertEqual(t, "CRD served version", field(t, crds.Objects[0], "spec", "versions").([]interface{})[0].(map[string]interface{})["name"], "v1")

	// The namespace, then the operator's pieces in it.
	ns, nsComp := findObject(t, comps, "Namespace", "kubeflow")
	if ns == nil || nsComp != "training-operator-namespace" {
		t.Fatalf("no Namespace kubeflow in training-operator-namespace")
	}
	for _, c := range []string{"training-operator-rbac", "training-operator-webhook"} {
		assertEqual(t, c+" dependsOn", comps[c].DependsOn, []string{"training-operator-namespace"})
	}
	op := comps["training-operator"]
	assertEqual(t, "operator dependsOn", op.DependsOn, []string{"ml-platform-crds", "training-operator-rbac", "training-operator-webhook"})
	for _, c := range comps {
		assertEqual(t, c.Name+" type", c.Type, "k8s-objects")
		for _, o := range c.Objects {
			if o.GetKind() == "Namespace" || o.GetKind() == "CustomResourceDefinition" || strings.HasPrefix(o.GetKind(), "Cluster") || o.GetKind() == "ValidatingWebhookConfiguration" {
				continue
			}
			assertEqual(t, o.GetKind()+" "+o.GetName()+" namespace", o.GetNamespace(), "kubeflow")
		}
	}

	dep, _ := findObject(t, comps, "Deployment", "training-operator")
	if dep == nil {
		t.Fatal("no Deployment training-operator")
	}
	pod, _ := field(t, dep, "spec", "template", "spec").(map[string]interface{})
	assertEqual(t, "service account", pod["serviceAccountName"], "training-operator")
	c := container(t, pod, "training-operator")
	assertEqual(t, "image", c["image"], "ghcr.io/kubeflow/training-v1/training-operator:v1-93c5489")
	assertEqual(t, "args", c["args"], []interface{}{"--enable-scheme=tfjob"})
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		p, _ := c[probe].(map[string]interface{})
		get, _ := p["httpGet"].(map[string]interface{})
		if get["port"] != float64(8081) && get["port"] != int64(8081) {
			t.Errorf("%s = %v, want an httpGet on 8081", probe, p)
		}
	}
	trCheckRestricted(t, "operator", c)
	assertEqual(t, "cert volume", namedList(t, pod["volumes"])["cert"]["secret"].(map[string]interface{})["secretName"], "training-operator-webhook-cert")

	secret, _ := findObject(t, comps, "Secret", "training-operator-webhook-cert")
	if secret == nil {
		t.Error("no certificate Secret training-operator-webhook-cert: the operator does not start without it")
	}
	vwc, _ := findObject(t, comps, "ValidatingWebhookConfiguration", "validator.training-operator.kubeflow.org")
	if vwc == nil {
		t.Fatal("no ValidatingWebhookConfiguration although trainingOperatorWebhooks defaults to true")
	}
	hooks, _ := field(t, vwc, "webhooks").([]interface{})
	if len(hooks) != 1 {
		t.Fatalf("%d webhooks, want the TFJob one only (the operator serves only --enable-scheme=tfjob)", len(hooks))
	}
	svc := hooks[0].(map[string]interface{})["clientConfig"].(map[string]interface{})["service"]
	assertEqual(t, "webhook service", svc, map[string]interface{}{"name": "training-operator", "namespace": "kubeflow", "path": "/validate-kubeflow-org-v1-tfjob"})
}

func TestAddonRBACIsLeastPrivilege(t *testing.T) {
	comps := addonComponents(t, renderAddon(t, map[string]interface{}{"namespace": "ml-system"}))
	role, _ := findObject(t, comps, "ClusterRole", "ml-platform-training-operator")
	if role == nil {
		t.Fatal("no ClusterRole ml-platform-training-operator")
	}
	binding, _ := findObject(t, comps, "ClusterRoleBinding", "ml-platform-training-operator")
	if binding == nil {
		t.Fatal("no ClusterRoleBinding ml-platform-training-operator")
	}
	assertEqual(t, "binding roleRef", field(t, binding, "roleRef", "name"), "ml-platform-training-operator")
	assertEqual(t, "binding subjects", field(t, binding, "subjects"), []interface{}{map[string]interface{}{
		"kind": "ServiceAccount", "name": "training-operator", "namespace": "ml-system"}})

	type rule struct {
		APIGroups     []string `json:"apiGroups"`
		Resources     []string `json:"resources"`
		ResourceNames []string `json:"resourceNames"`
		Verbs         []string `json:"verbs"`
	}
	rulesOf := func(obj *unstructured.Unstructured) []rule {
		b, _ := json.Marshal(obj.Object["rules"])
		var rs []rule
		if err := json.Unmarshal(b, &rs); err != nil {
			t.Fatal(err)
		}
		return rs
	}
	granted := map[string][]string{}
	for _, r := range rulesOf(role) {
		for _, list := range [][]string{r.APIGroups, r.Resources, r.Verbs} {
			for _, x := range list {
				if x == "*" {
					t.Errorf("ClusterRole rule %+v uses a wildcard", r)
				}
			}
		}
		for _, res := range r.Resources {
			key := res
			if len(r.ResourceNames) > 0 {
				key += "[" + strings.Join(r.ResourceNames, ",") + "]"
			}
			granted[key] = append(granted[key], r.Verbs...)
		}
	}
	for key := range granted {
		sort.Strings(granted[key])
	}
	t.Logf("ClusterRole rules: %v", granted)
	assertEqual(t, "ClusterRole grants", granted, map[string][]string{
		"tfjobs":                          {"delete", "get", "list", "patch", "update", "watch"},
		"tfjobs/status":                   {"get", "patch", "update"},
		"tfjobs/finalizers":               {"update"},
		"pods":                            {"create", "delete", "get", "list", "patch", "update", "watch"},
		"services":                        {"create", "delete", "get", "list", "watch"},
		"events":                          {"create", "get", "list", "patch", "update", "watch"},
		"podgroups":                       {"create", "delete", "get", "list", "patch", "update", "watch"},
		"validatingwebhookconfigurations": {"get", "list", "watch"},
		"validatingwebhookconfigurations[validator.training-operator.kubeflow.org]": {"update"},
	})
	if _, ok := granted["secrets"]; ok {
		t.Error("the ClusterRole grants secrets cluster-wide; the operator needs only its own namespace's")
	}
	nsRole, _ := findObject(t, comps, "Role", "ml-platform-training-operator")
	if nsRole == nil {
		t.Fatal("no Role ml-platform-training-operator for the certificate Secret")
	}
	assertEqual(t, "Role namespace", nsRole.GetNamespace(), "ml-system")
	assertEqual(t, "Role rules", rulesOf(nsRole), []rule{
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"training-operator-webhook-cert"}, Verbs: []string{"update"}},
	})
	for _, c := range comps {
		for _, o := range c.Objects {
			if strings.HasSuffix(o.GetKind(), "RoleBinding") {
				if name, _, _ := unstructured.NestedString(o.Object, "roleRef", "name"); name == "cluster-admin" || name == "admin" || name == "edit" {
					t.Errorf("%s %s binds %s", o.GetKind(), o.GetName(), name)
				}
			}
		}
	}
}

func TestAddonWithoutOperatorStillInstallsCRD(t *testing.T) {
	comps := addonComponents(t, renderAddon(t, map[string]interface{}{"installTrainingOperator": false}))
	assertEqual(t, "components", componentNames(comps), []string{"ml-platform-crds"})
	if crd, _ := findObject(t, comps, "CustomResourceDefinition", "tfjobs.kubeflow.org"); crd == nil {
		t.Error("no TFJob CRD with installTrainingOperator=false")
	}
}

func TestAddonWithoutWebhooks(t *testing.T) {
	comps := addonComponents(t, renderAddon(t, map[string]interface{}{"trainingOperatorWebhooks": false}))
	if vwc, _ := findObject(t, comps, "ValidatingWebhookConfiguration", "validator.training-operator.kubeflow.org"); vwc != nil {
		t.Error("a ValidatingWebhookConfiguration with trainingOperatorWebhooks=false")
	}
	if s, _ := findObject(t, comps, "Secret", "training-operator-webhook-cert"); s == nil {
		t.Error("no certificate Secret with trainingOperatorWebhooks=false: the operator's certificate rotator needs it to start")
	}
}

// The CRDs and namespaces are adopted, never deleted on disable, and never
// re-patched, whichever parameters are given.
func TestAddonPoliciesProtectCRDsAndNamespaces(t *testing.T) {
	for _, args := range []map[string]interface{}{nil, {"installTrainingOperator": false}} {
		app := renderAddon(t, args)
		types := map[string]map[string]interface{}{}
		for _, p := range app.Spec.Policies {
			var props map[string]interface{}
			if p.Properties != nil {
				if err := json.Unmarshal(p.Properties.Raw, &props); err != nil {
					t.Fatal(err)
				}
			}
			types[p.Type] = props
		}
		if _, ok := types["topology"]; !ok {
			t.Errorf("%v: no topology policy", args)
		}
		want := []interface{}{"CustomResourceDefinition", "Namespace"}
		for _, typ := range []string{"shared-resource", "take-over", "garbage-collect", "apply-once"} {
			props, ok := types[typ]
			if !ok {
				t.Errorf("%v: no %s policy", args, typ)
				continue
			}
			rules, _ := props["rules"].([]interface{})
			if len(rules) == 0 {
				t.Errorf("%v: %s has no rules", args, typ)
				continue
			}
			r := rules[0].(map[string]interface{})
			got := r["selector"].(map[string]interface{})["resourceTypes"]
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%v: %s selects %v, want %v", args, typ, got, want)
			}
			if typ == "garbage-collect" && r["strategy"] != "never" {
				t.Errorf("%v: garbage-collect strategy %v, want never", args, r["strategy"])
			}
		}
	}
}

// resources/crds/tfjob-crd.cue is what `go run ./cmd/gencrd` generates.
func TestAddonCRDFileIsGenerated(t *testing.T) {
	want, err := crdgen.Generate()
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile(filepath.Join(repoRoot, crdgen.OutputPath))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Errorf("%s differs from what cmd/gencrd generates: run `go run ./cmd/gencrd` and commit it", crdgen.OutputPath)
	}
	if len(have) > 256*1024 {
		t.Errorf("%s is %d bytes: keep the CRD below the 256 KiB annotation limit", crdgen.OutputPath, len(have))
	}
}

func TestAddonCRDGeneratorStripsOnlySchemaDescriptions(t *testing.T) {
	out, err := crdgen.Render([]byte(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
spec:
  versions:
    - name: v1
      schema:
        openAPIV3Schema:
          description: A thing.
          type: object
          properties:
            description: {type: string, description: "a field named description"}
            items:
              type: array
              description: the items
              items: {type: object, description: one item, additionalProperties: {type: string, description: value}}
`))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, gone := range []string{"A thing.", "a field named description", "the items", "one item", `"value"`} {
		if strings.Contains(s, gone) {
			t.Errorf("the description %q is still there:\n%s", gone, s)
		}
	}
	if !strings.Contains(s, `"description": {`) {
		t.Errorf("the property named description was removed:\n%s", s)
	}
	if !strings.HasPrefix(s, "package main\n") || !strings.Contains(s, "crdObjects: [_tfjobCRD]") {
		t.Errorf("not the CUE file the addon template reads:\n%s", s)
	}
}
