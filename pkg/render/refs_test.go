package render_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// A step whose definition declares the component types it accepts
// (ml-platform.oam.dev/component-types) must name a component of the app of
// one of them, in a step or a sub-step.
func TestStepsMustNameAComponentOfATypeTheyAccept(t *testing.T) {
	src, err := os.ReadFile("testdata/apps/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	web := "  components:\n    - name: web\n      type: webservice\n      properties: {image: nginx}\n"
	group := "      - name: group\n        type: step-group\n        subSteps:\n          - name: sub\n            type: demo-step\n            properties: {component: nope}\n      - name: gate"
	cases := map[string]struct {
		from, to string
		want     string
	}{
		"missing":    {"component: train", "component: trian", `workflow step "run" (demo-step): properties.component: "trian" is not in this application: demo-step needs the name of one of its demo-job components`},
		"wrong type": {"component: train", "component: web", `workflow step "run" (demo-step): properties.component: "web" is of type webservice: demo-step needs the name of one of its demo-job components`},
		"sub-step":   {"      - name: gate", group, `workflow step "group/sub" (demo-step): properties.component: "nope" is not in this application`},
	}
	r := newRenderer(t)
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			bad := strings.Replace(strings.Replace(string(src), "  components:\n", web, 1), c.from, c.to, 1)
			app, _, err := render.ParseApplication([]byte(bad))
			if err != nil {
				t.Fatal(err)
			}
			err = r.Validate(app)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error with %q, got %v", c.want, err)
			}
		})
	}
	save := "      - name: save\n        type: demo-save\n      - name: gate"
	second := "    - name: train2\n      type: demo-job\n      properties: {image: busybox}\n  workflow:"
	for name, c := range map[string]struct{ app, want string }{
		"default, none": {strings.Replace(strings.Replace(string(src), "type: demo-job", "type: webservice", 1), "      - name: gate", save, 1),
			`workflow step "save" (demo-save): properties.component: is not set and this application has no demo-job component: demo-save needs the name of one of its demo-job components`},
		"default, several": {strings.Replace(strings.Replace(string(src), "  workflow:", second, 1), "      - name: gate", save, 1),
			`workflow step "save" (demo-save): properties.component: is not set and this application has several demo-job components (train, train2): set it to one of them`},
	} {
		t.Run(name, func(t *testing.T) {
			app, _, err := render.ParseApplication([]byte(c.app))
			if err != nil {
				t.Fatal(err)
			}
			err = r.Validate(app)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error with %q, got %v", c.want, err)
			}
		})
	}
	good, _, err := render.ParseApplication([]byte(strings.Replace(string(src), "  components:\n", web, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Render(context.Background(), good); err != nil {
		t.Fatalf("a step naming a demo-job: %v", err)
	}
	onlyOne, _, err := render.ParseApplication([]byte(strings.Replace(string(src), "      - name: gate", save, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(onlyOne); err != nil {
		t.Fatalf("a step defaulting to the only demo-job: %v", err)
	}
	if got := r.Catalog().Get(render.KindWorkflowStep, "demo-step").ComponentTypes(); len(got) != 1 || got[0] != "demo-job" {
		t.Errorf("ComponentTypes = %q", got)
	}
}

// KubeVela's step-group declares no parameter: it takes no properties, and
// its sub-steps are checked on their own.
func TestStepGroupTakesNoProperties(t *testing.T) {
	src, err := os.ReadFile("testdata/apps/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := newRenderer(t)
	group := "      - name: group\n        type: step-group\nPROPS        subSteps:\n          - name: sub\n            type: demo-step\n            properties: {component: train}\n      - name: gate"
	for _, c := range []struct{ props, want string }{
		{"", ""},
		{"        properties: {}\n", ""},
		{"        properties: {mode: parallel}\n", `workflow step "group" (step-group): properties: must be left out: step-group takes no properties`},
	} {
		app, _, err := render.ParseApplication([]byte(strings.Replace(string(src), "      - name: gate", strings.Replace(group, "PROPS", c.props, 1), 1)))
		if err != nil {
			t.Fatal(err)
		}
		err = r.Validate(app)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("properties %q: %v", c.props, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("properties %q: want %q, got %v", c.props, c.want, err)
		}
	}
}
