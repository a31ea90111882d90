package render

import (
	"encoding/json"
	"fmt"
	"strings"

	oamv1alpha1 "github.com/kubevela/pkg/apis/oam/v1alpha1"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"
)

// ComponentTypesAnnotation, on a workflow step definition, declares that the
// step's properties.component names a component of the Application of one of
// the listed types (comma-separated), e.g. "k8s-cluster,s3-bucket"; where the
// parameter lets component out, the step uses the application's only
// component of those types. Validate checks it offline, before any step runs;
// the step checks it again at run time, in the same words.
const ComponentTypesAnnotation = "ml-platform.oam.dev/component-types"

// ComponentTypes returns the component types a step definition's
// properties.component may name (ComponentTypesAnnotation), or nil.
func (d *Definition) ComponentTypes() []string {
	if d == nil || d.Object == nil {
		return nil
	}
	var types []string
	for _, t := range strings.Split(d.Object.GetAnnotations()[ComponentTypesAnnotation], ",") {
		if t = strings.TrimSpace(t); t != "" {
			types = append(types, t)
		}
	}
	return types
}

// checkComponentRef checks that a step whose definition declares component
// types names a component of the app of one of them, or, when it names none
// and its properties are otherwise valid (component is optional), that the
// app has exactly one. A component of the wrong JSON type is left to the
// parameter check.
func (r *Renderer) checkComponentRef(app *v1beta1.Application, s oamv1alpha1.WorkflowStepBase, subject string, propsValid bool) []Problem {
	types := r.catalog.Get(KindWorkflowStep, s.Type).ComponentTypes()
	if len(types) == 0 {
		return nil
	}
	var props struct {
		Component interface{} `json:"component"`
	}
	_ = json.Unmarshal(raw(s.Properties), &props)
	wanted := fmt.Sprintf("%s needs the name of one of its %s components", s.Type, orList(types))
	if props.Component == nil && propsValid {
		var candidates []string
		for _, c := range app.Spec.Components {
			for _, t := range types {
				if c.Type == t {
					candidates = append(candidates, c.Name)
				}
			}
		}
		switch {
		case len(candidates) == 0:
			return []Problem{{Subject: subject, Path: "properties.component",
				Message: fmt.Sprintf("is not set and this application has no %s component: %s", orList(types), wanted)}}
		case len(candidates) > 1:
			return []Problem{{Subject: subject, Path: "properties.component",
				Message: fmt.Sprintf("is not set and this application has several %s components (%s): set it to one of them", orList(types), strings.Join(candidates, ", "))}}
		}
		return nil
	}
	name, ok := props.Component.(string)
	if !ok {
		return nil
	}
	for _, c := range app.Spec.Components {
		if c.Name != name {
			continue
		}
		for _, t := range types {
			if c.Type == t {
				return nil
			}
		}
		return []Problem{{Subject: subject, Path: "properties.component",
			Message: fmt.Sprintf("%q is of type %s: %s", name, c.Type, wanted)}}
	}
	return []Problem{{Subject: subject, Path: "properties.component",
		Message: fmt.Sprintf("%q is not in this application: %s", name, wanted)}}
}

// orList joins names as "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
