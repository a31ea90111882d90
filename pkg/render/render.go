package render

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	oamv1alpha1 "github.com/kubevela/pkg/apis/oam/v1alpha1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/yaml"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"
	"github.com/oam-dev/kubevela/pkg/appfile/dryrun"
	"github.com/oam-dev/kubevela/pkg/oam"
	oamutil "github.com/oam-dev/kubevela/pkg/oam/util"
	"github.com/oam-dev/kubevela/pkg/utils/common"
)

// Kinds of definition as `vela def` names them.
const (
	KindComponent    = "component"
	KindTrait        = "trait"
	KindPolicy       = "policy"
	KindWorkflowStep = "workflow-step"
)

// Renderer renders Applications offline against a fixed set of definitions.
type Renderer struct {
	catalog *Catalog
	dryrun  *dryrun.Option
}

// New returns a Renderer for KubeVela's built-in definitions plus defs
// (which replace built-ins of the same kind and name).
func New(defs []*Definition) (*Renderer, error) {
	builtin, err := BuiltinDefinitions()
	if err != nil {
		return nil, err
	}
	catalog := NewCatalog(builtin, defs)
	objs := catalog.Objects()
	clientObjs := make([]client.Object, 0, len(objs))
	for _, o := range objs {
		clientObjs = append(clientObjs, o)
	}
	// `vela dry-run --offline` does the same: a fake client holding the
	// definitions, which are also the dry-run's auxiliaries.
	cli := fake.NewClientBuilder().WithScheme(common.Scheme).WithObjects(clientObjs...).Build()
	return &Renderer{
		catalog: catalog,
		dryrun:  dryrun.NewDryRunOption(cli, &rest.Config{}, objs, false),
	}, nil
}

// NewFromDir is New with the definitions of a directory.
func NewFromDir(dir string) (*Renderer, error) {
	defs, err := LoadDefinitionDir(dir)
	if err != nil {
		return nil, err
	}
	return New(defs)
}

// Catalog returns the definitions the renderer knows.
func (r *Renderer) Catalog() *Catalog { return r.catalog }

// Object is one rendered Kubernetes object and where it came from.
type Object struct {
	// Component is the component that emitted it.
	Component string
	// Source is "workload", "auxiliary" or "trait <type>".
	Source string
	*unstructured.Unstructured
}

// Result is a rendered Application.
type Result struct {
	App     *v1beta1.Application
	Objects []Object
}

// ByKind returns the rendered objects of a kind.
func (r *Result) ByKind(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range r.Objects {
		if o.GetKind() == kind {
			out = append(out, o.Unstructured)
		}
	}
	return out
}

// Find returns the rendered object of a kind and name, or nil.
func (r *Result) Find(kind, name string) *unstructured.Unstructured {
	for _, o := range r.Objects {
		if o.GetKind() == kind && o.GetName() == name {
			return o.Unstructured
		}
	}
	return nil
}

// YAML writes every object as one YAML stream, each preceded by a comment
// naming its component and source.
func (r *Result) YAML() ([]byte, error) {
	var buf bytes.Buffer
	for _, o := range r.Objects {
		out, err := yaml.Marshal(o.Object)
		if err != nil {
			return nil, fmt.Errorf("failed to marshal %s %s: %w", o.GetKind(), o.GetName(), err)
		}
		fmt.Fprintf(&buf, "---\n# component %s, %s\n", o.Component, o.Source)
		buf.Write(out)
	}
	return buf.Bytes(), nil
}

// Validate checks every component, trait, policy and workflow step of the
// Application against its definition, the component every step names
// (ComponentTypesAnnotation), and the Kubernetes values in the pod templates
// the properties carry (checkPodSpecs). It returns a *ValidationError listing
// every problem, or nil.
func (r *Renderer) Validate(app *v1beta1.Application) error {
	var problems []Problem
	for _, c := range app.Spec.Components {
		subject := fmt.Sprintf("component %q (%s)", c.Name, c.Type)
		problems = append(problems, withPodSpecs(r.check(KindComponent, c.Type, subject, raw(c.Properties), true), subject, raw(c.Properties))...)
		for _, t := range c.Traits {
			tsubject := fmt.Sprintf("component %q trait %s", c.Name, t.Type)
			problems = append(problems, withPodSpecs(r.check(KindTrait, t.Type, tsubject, raw(t.Properties), true), tsubject, raw(t.Properties))...)
		}
	}
	for _, p := range app.Spec.Policies {
		subject := fmt.Sprintf("policy %q (%s)", p.Name, p.Type)
		problems = append(problems, r.check(KindPolicy, p.Type, subject, raw(p.Properties), false)...)
	}
	if app.Spec.Workflow != nil {
		for _, s := range app.Spec.Workflow.Steps {
			problems = append(problems, r.checkStep(app, s.WorkflowStepBase, "")...)
			for _, sub := range s.SubSteps {
				problems = append(problems, r.checkStep(app, sub, s.Name+"/")...)
			}
		}
	}
	if len(problems) > 0 {
		return &ValidationError{App: app.Name, Problems: problems}
	}
	return nil
}

// checkStep checks a step's properties and, when they are valid, the
// component it names (see ComponentTypesAnnotation).
func (r *Renderer) checkStep(app *v1beta1.Application, s oamv1alpha1.WorkflowStepBase, prefix string) []Problem {
	subject := fmt.Sprintf("workflow step %q (%s)", prefix+s.Name, s.Type)
	problems := r.check(KindWorkflowStep, s.Type, subject, raw(s.Properties), true)
	for _, p := range problems {
		if p.Path == "properties.component" {
			return problems
		}
	}
	return append(problems, r.checkComponentRef(app, s, subject, len(problems) == 0)...)
}

func (r *Renderer) check(kind, typ, subject string, props json.RawMessage, requireConcrete bool) []Problem {
	def := r.catalog.Get(kind, typ)
	if def == nil {
		return []Problem{{Subject: subject, Message: fmt.Sprintf("%q is not a known %s type", typ, kind)}}
	}
	if !def.TakesProperties() {
		if len(props) == 0 || string(props) == "null" || string(props) == "{}" {
			return nil
		}
		return []Problem{{Subject: subject, Path: "properties", Message: fmt.Sprintf("must be left out: %s takes no properties", typ)}}
	}
	return checkProperties(def, subject, props, requireConcrete)
}

// withPodSpecs adds the problems checkPodSpecs finds in the properties at
// paths the definition's own check has not reported already.
func withPodSpecs(problems []Problem, subject string, props json.RawMessage) []Problem {
	reported := map[string]bool{}
	for _, p := range problems {
		reported[p.Path] = true
	}
	for _, p := range checkPodSpecs(subject, props) {
		if !reported[p.Path] {
			problems = append(problems, p)
		}
	}
	return problems
}

// raw returns a property block's JSON, or nil when there is none.
func raw(ext *runtime.RawExtension) json.RawMessage {
	if ext == nil {
		return nil
	}
	if ext.Raw != nil {
		return ext.Raw
	}
	if ext.Object != nil {
		b, err := json.Marshal(ext.Object)
		if err == nil {
			return b
		}
	}
	return nil
}

// Render validates the Application and, if it is valid, renders every object
// its components and traits emit, as the application controller would (see
// DryRun). Nothing partial is returned on error.
func (r *Renderer) Render(ctx context.Context, app *v1beta1.Application) (*Result, error) {
	if err := r.Validate(app); err != nil {
		return nil, err
	}
	return r.DryRun(ctx, app)
}

// DryRun renders every object the Application's components and traits emit
// with KubeVela's dry-run, the application controller's own code path,
// without Validate: vela-core does not check properties against their
// definitions, and neither it nor the dry-run runs workflow steps. An
// Application without a namespace renders into "default". Nothing partial
// is returned on error.
func (r *Renderer) DryRun(ctx context.Context, app *v1beta1.Application) (*Result, error) {
	if app.Namespace == "" {
		app = app.DeepCopy()
		app.Namespace = "default"
	}
	ctx = oamutil.SetNamespaceInCtx(ctx, app.Namespace)
	comps, _, err := r.dryrun.ExecuteDryRun(ctx, app)
	if err != nil {
		return nil, fmt.Errorf("application %q failed to render: %s", app.Name, strings.ReplaceAll(RulesInWords(Details(err)), "\n", "\n  "))
	}
	res := &Result{App: app}
	for _, c := range comps {
		if c.ComponentOutput != nil {
			res.Objects = append(res.Objects, Object{Component: c.Name, Source: "workload", Unstructured: c.ComponentOutput})
		}
		for _, o := range c.ComponentOutputsAndTraits {
			src := "auxiliary"
			if t := o.GetLabels()[oam.TraitTypeLabel]; t != "" && t != "AuxiliaryWorkload" {
				src = "trait " + t
			}
			res.Objects = append(res.Objects, Object{Component: c.Name, Source: src, Unstructured: o})
		}
	}
	return res, nil
}
