package testenv

import (
	"encoding/json"
	"strings"
	"testing"
)

// These tests read Go modules from the module cache (kubevela is a dependency
// of the root module; the extras are downloaded through the module proxy).

func TestKubeVelaSystemObjectsAreRenderedCharts(t *testing.T) {
	for _, release := range KubeVelaReleases {
		t.Run(release, func(t *testing.T) {
			objs, err := kubeVelaSystemObjects(release)
			if err != nil {
				t.Skipf("kubevela %s is not in the module cache: %v", release, err)
			}
			kinds := map[string]int{}
			for _, obj := range objs {
				kinds[obj.GetKind()]++
				if obj.GetNamespace() != velaSystem {
					t.Errorf("%s %s is in namespace %q, want %s", obj.GetKind(), obj.GetName(), obj.GetNamespace(), velaSystem)
				}
				data, _ := json.Marshal(obj.Object)
				if strings.Contains(string(data), "{{") {
					t.Errorf("%s %s still holds a Helm template expression", obj.GetKind(), obj.GetName())
				}
			}
			// Every release ships 6 velaql views; v1.9.13 ships 86 definition files.
			want := map[string]int{"ConfigMap": 6, "Deployment": 1}
			if release == "v1.9.13" {
				want = map[string]int{"ComponentDefinition": 8, "TraitDefinition": 33, "WorkflowStepDefinition": 35,
					"PolicyDefinition": 10, "ConfigMap": 6, "Deployment": 1}
			}
			for kind, n := range want {
				if kinds[kind] != n {
					t.Errorf("%d %s objects, want %d (all: %v)", kinds[kind], kind, n, kinds)
				}
			}
		})
	}
}

func TestVelaCorePlaceholderCarriesTheCoreVersion(t *testing.T) {
	const release = "v1.10.9"
	d := velaCorePlaceholder(release)
	if d.Name != "kubevela-vela-core" || d.Labels["controller.oam.dev/name"] != "vela-core" {
		t.Errorf("addon code will not find the placeholder: %s %v", d.Name, d.Labels)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if c.Name != "kubevela" || c.Image != "oamdev/vela-core:"+release {
		t.Errorf("container %s image %s, want kubevela with oamdev/vela-core:%s", c.Name, c.Image, release)
	}
	if *d.Spec.Replicas != 0 {
		t.Errorf("replicas = %d, want 0 (vela-core runs as a local process)", *d.Spec.Replicas)
	}
}

func TestExtraCRDsExistInTheirModules(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads modules; skipped with -short")
	}
	for _, s := range Extras {
		t.Run(s.Name, func(t *testing.T) {
			files, err := s.Files()
			if err != nil {
				t.Fatal(err)
			}
			for _, file := range files {
				objs, err := readObjects(file)
				if err != nil {
					t.Fatal(err)
				}
				for _, obj := range objs {
					if obj.GetKind() != "CustomResourceDefinition" {
						t.Errorf("%s holds a %s", file, obj.GetKind())
					}
				}
			}
		})
	}
}
