package offline

import (
	"path/filepath"
	"testing"

	"cuelang.org/go/cue"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// Every step of the addon with a component parameter declares the component
// types it accepts (ml-platform.oam.dev/component-types), so that the
// offline validator checks the reference before anything runs, and every
// type it names is a component definition.
func TestStepsThatNameAComponentDeclareItsTypes(t *testing.T) {
	defs, err := render.LoadDefinitionDir(filepath.Join(repoRoot, "definitions"))
	if err != nil {
		t.Fatal(err)
	}
	catalog := addonRenderer(t).Catalog()
	checked := 0
	for _, d := range defs {
		if d.Kind != render.KindWorkflowStep {
			continue
		}
		v, err := render.CompileTemplate(d.Kind, d.Template)
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		if !hasField(v.LookupPath(cue.ParsePath("parameter")), "component") {
			continue
		}
		checked++
		types := d.ComponentTypes()
		if len(types) == 0 {
			t.Errorf("%s has a component parameter but no %s annotation", d.Name, render.ComponentTypesAnnotation)
		}
		for _, typ := range types {
			if catalog.Get(render.KindComponent, typ) == nil {
				t.Errorf("%s: %s names %q, which is not a component definition", d.Name, render.ComponentTypesAnnotation, typ)
			}
		}
	}
	if checked < 5 {
		t.Errorf("only %d steps with a component parameter; want ml-model-training, -serving, -checkpoint, terraform-apply and helm-apply", checked)
	}
}

// hasField reports whether a struct declares a field, optional or not.
func hasField(v cue.Value, name string) bool {
	it, err := v.Fields(cue.Optional(true), cue.Definitions(false))
	if err != nil {
		return false
	}
	for it.Next() {
		if it.Selector().Unquoted() == name {
			return true
		}
	}
	return false
}
