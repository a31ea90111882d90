// Package render renders ml-platform Applications offline with KubeVela's own
// dry-run code, and checks every property of every component, trait and
// workflow step against the definition that declares it.
package render

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/common"
	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"
	"github.com/oam-dev/kubevela/pkg/appfile"
	"github.com/oam-dev/kubevela/pkg/cue/definition/health"
	pkgdef "github.com/oam-dev/kubevela/pkg/definition"
)

// KubeVelaVersion is the KubeVela release whose built-in definitions and
// rendering code this package uses.
const KubeVelaVersion = "v1.11.0"

// Definition is one X-Definition loaded from a `vela def` CUE file.
type Definition struct {
	// Name is the definition name, e.g. "tfjob".
	Name string
	// Kind is the definition kind as `vela def` spells it: component, trait,
	// policy or workflow-step.
	Kind string
	// File is the CUE file the definition came from.
	File string
	// Source is the full text of that file.
	Source string
	// Template is spec.schematic.cue.template.
	Template string
	// Description is the definition's description.
	Description string
	// Object is the Kubernetes object (ComponentDefinition, TraitDefinition, ...).
	Object *unstructured.Unstructured

	parameterOnce sync.Once
	hasParameter  bool
}

// LoadDefinitionFile parses one `vela def` CUE file with KubeVela's own loader
// (what `vela def vet` and `vela addon enable` do).
func LoadDefinitionFile(path string) (*Definition, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read definition: %w", err)
	}
	def := pkgdef.Definition{Unstructured: unstructured.Unstructured{}}
	if err := def.FromCUEString(string(src), nil); err != nil {
		return nil, fmt.Errorf("%s: failed to parse definition: %s", path, Details(err))
	}
	obj := &unstructured.Unstructured{Object: def.UnstructuredContent()}
	obj.SetNamespace("vela-system")
	tmpl, _, _ := unstructured.NestedString(obj.Object, "spec", "schematic", "cue", "template")
	desc := obj.GetAnnotations()["definition.oam.dev/description"]
	return &Definition{
		Name:        obj.GetName(),
		Kind:        def.GetType(),
		File:        path,
		Source:      string(src),
		Template:    tmpl,
		Description: desc,
		Object:      obj,
	}, nil
}

// LoadDefinitionDir loads every *.cue file below dir.
func LoadDefinitionDir(dir string) ([]*Definition, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".cue") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to list definitions in %s: %w", dir, err)
	}
	sort.Strings(files)
	defs := make([]*Definition, 0, len(files))
	for _, f := range files {
		d, err := LoadDefinitionFile(f)
		if err != nil {
			return nil, err
		}
		defs = append(defs, d)
	}
	return defs, nil
}

var builtins struct {
	once sync.Once
	defs []*Definition
	err  error
}

// BuiltinDefinitions loads KubeVela's own built-in definitions (webservice,
// suspend, apply-component, topology, ...) from the kubevela module in the Go
// module cache, so that Applications mixing them with ours render and validate.
func BuiltinDefinitions() ([]*Definition, error) {
	builtins.once.Do(func() {
		dir, err := kubevelaModuleDir()
		if err != nil {
			builtins.err = err
			return
		}
		builtins.defs, builtins.err = LoadDefinitionDir(filepath.Join(dir, "vela-templates", "definitions", "internal"))
	})
	return builtins.defs, builtins.err
}

// kubevelaModuleDir finds github.com/oam-dev/kubevela in the module cache.
func kubevelaModuleDir() (string, error) {
	modcache := os.Getenv("GOMODCACHE")
	if modcache == "" {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			return "", fmt.Errorf("failed to find the Go module cache (go env GOMODCACHE): %w", err)
		}
		modcache = strings.TrimSpace(string(out))
	}
	dir := filepath.Join(modcache, "github.com", "oam-dev", "kubevela@"+KubeVelaVersion)
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("KubeVela %s is not in the module cache (run `go mod download`): %w", KubeVelaVersion, err)
	}
	return dir, nil
}

// Catalog is a set of definitions by kind and name; later additions replace
// earlier ones of the same kind and name (our definitions over built-ins).
type Catalog struct {
	byKey map[string]*Definition
}

// NewCatalog builds a catalog from definition lists, later lists winning.
func NewCatalog(lists ...[]*Definition) *Catalog {
	c := &Catalog{byKey: map[string]*Definition{}}
	for _, l := range lists {
		for _, d := range l {
			c.byKey[d.Kind+"/"+d.Name] = d
		}
	}
	return c
}

// Get returns the definition of a kind and name, or nil.
func (c *Catalog) Get(kind, name string) *Definition { return c.byKey[kind+"/"+name] }

// Objects returns every definition as a Kubernetes object, sorted by name.
func (c *Catalog) Objects() []*unstructured.Unstructured {
	keys := make([]string, 0, len(c.byKey))
	for k := range c.byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	objs := make([]*unstructured.Unstructured, 0, len(keys))
	for _, k := range keys {
		objs = append(objs, c.byKey[k].Object.DeepCopy())
	}
	return objs
}

// TakesProperties reports whether the definition's template declares a
// parameter. One that does not (KubeVela's step-group) takes no properties.
func (d *Definition) TakesProperties() bool {
	d.parameterOnce.Do(func() {
		v, err := CompileTemplate(d.Kind, d.Template)
		// A template that does not compile is reported by the property check.
		d.hasParameter = err != nil || v.LookupPath(cue.ParsePath("parameter")).Exists()
	})
	return d.hasParameter
}

// Status evaluates the definition's spec.status (healthPolicy, customStatus
// and details) against a template context ({output, outputs, ...}) and the
// properties, as vela-core v1.11 does for a component or trait: each part
// through KubeVela's CUE compatibility rewrites, then health.GetStatus. An
// error does not void the result: vela-core logs it and uses the result.
func (d *Definition) Status(templateContext map[string]interface{}, parameter map[string]interface{}) (*health.StatusResult, error) {
	status := common.Status{}
	if m, found, _ := unstructured.NestedMap(d.Object.Object, "spec", "status"); found {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &status); err != nil {
			return nil, fmt.Errorf("%s: spec.status: %w", d.Name, err)
		}
	}
	tmpl := &appfile.Template{Health: status.HealthPolicy, CustomStatus: status.CustomStatus, Details: status.Details}
	if d.Kind == KindTrait {
		tmpl.TraitDefinition = &v1beta1.TraitDefinition{}
	}
	return health.GetStatus(templateContext, tmpl.AsStatusRequest(parameter))
}
