package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/common"
	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// benchImage is the model image of a copied predictor that names none.
const benchImage = "ghcr.io/ml-platform/models/bench:bench-v1"

// copyTheServingApp returns copy i of the serving example in namespace ns:
// the app and its components get the suffix -<i> (predictor objects are
// named after the component, so copies never share an object), the steps'
// `component` properties follow, and a predictor that would need a model
// version record gets a modelImage instead, so every copy is self-contained.
func copyTheServingApp(example *v1beta1.Application, i int, ns string) (*v1beta1.Application, error) {
	app := example.DeepCopy()
	suffix := fmt.Sprintf("-%05d", i)
	app.Name += suffix
	app.Namespace = ns
	app.Labels = map[string]string{"bench": "serving"}
	renamed := map[string]string{}
	for ci := range app.Spec.Components {
		c := &app.Spec.Components[ci]
		renamed[c.Name] = c.Name + suffix
		c.Name += suffix
		if c.Type != "tfserving" {
			continue
		}
		props, err := propertiesOf(c.Properties)
		if err != nil {
			return nil, err
		}
		predictors, _ := props["predictors"].([]interface{})
		for _, p := range predictors {
			pm, _ := p.(map[string]interface{})
			if pm != nil && pm["modelImage"] == nil && pm["modelBasePath"] == nil {
				delete(pm, "modelVersion")
				pm["modelImage"] = benchImage
				if pm["modelName"] == nil {
					pm["modelName"] = "bench"
				}
			}
		}
		if c.Properties, err = rawOf(props); err != nil {
			return nil, err
		}
	}
	if app.Spec.Workflow != nil {
		for si := range app.Spec.Workflow.Steps {
			step := &app.Spec.Workflow.Steps[si]
			props, err := propertiesOf(step.Properties)
			if err != nil {
				return nil, err
			}
			if name, ok := props["component"].(string); ok && renamed[name] != "" {
				props["component"] = renamed[name]
				if step.Properties, err = rawOf(props); err != nil {
					return nil, err
				}
			}
		}
	}
	return app, nil
}

// aWebserviceTwinOf is an Application of KubeVela's built-in definitions
// that emits what the serving copy emits: one `webservice` per Deployment
// (same name and replicas, through the `scaler` trait; a Service exposed
// while the copy has Services left; an `hpa` trait per HPA), and the copy's
// remaining objects (the stable Service, batching ConfigMap, HTTPRoute)
// verbatim in one `k8s-objects` component. Same objects and pods, none of
// our definitions. No workflow: KubeVela's default one applies every
// component and waits for it to be healthy.
func aWebserviceTwinOf(rendered *render.Result, i int, ns string) (*v1beta1.Application, error) {
	app := &v1beta1.Application{}
	app.APIVersion, app.Kind = "core.oam.dev/v1beta1", "Application"
	app.Name, app.Namespace = fmt.Sprintf("web-%05d", i), ns
	app.Labels = map[string]string{"bench": "webservice"}
	services, hpas := len(rendered.ByKind("Service")), len(rendered.ByKind("HorizontalPodAutoscaler"))
	exposed := map[string]bool{}
	for di, d := range rendered.ByKind("Deployment") {
		replicas, found, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
		if !found {
			replicas = 1
		}
		expose := di < services
		exposed[d.GetName()] = expose
		c := common.ApplicationComponent{Name: d.GetName(), Type: "webservice"}
		var err error
		c.Properties, err = rawOf(map[string]interface{}{
			"image": "tensorflow/serving:2.14.1",
			"ports": []interface{}{
				map[string]interface{}{"port": 8500, "expose": expose},
				map[string]interface{}{"port": 8501, "expose": expose},
			},
		})
		if err != nil {
			return nil, err
		}
		if replicas != 1 {
			c.Traits = append(c.Traits, common.ApplicationTrait{Type: "scaler",
				Properties: &runtime.RawExtension{Raw: []byte(fmt.Sprintf(`{"replicas":%d}`, replicas))}})
		}
		if di < hpas {
			c.Traits = append(c.Traits, common.ApplicationTrait{Type: "hpa",
				Properties: &runtime.RawExtension{Raw: []byte(`{"min":1,"max":10,"cpu":{"type":"Utilization","value":80}}`)}})
		}
		app.Spec.Components = append(app.Spec.Components, c)
	}
	var rest []interface{}
	for _, o := range rendered.Objects {
		switch o.GetKind() {
		case "Deployment", "HorizontalPodAutoscaler":
			continue
		case "Service":
			if exposed[o.GetName()] { // the webservice emits it
				continue
			}
		}
		obj := o.DeepCopy()
		obj.SetNamespace("")
		obj.SetLabels(withoutKubeVelaKeys(obj.GetLabels()))
		obj.SetAnnotations(withoutKubeVelaKeys(obj.GetAnnotations()))
		rest = append(rest, obj.Object)
	}
	if len(rest) > 0 {
		props, err := rawOf(map[string]interface{}{"objects": rest})
		if err != nil {
			return nil, err
		}
		app.Spec.Components = append(app.Spec.Components,
			common.ApplicationComponent{Name: app.Name + "-objects", Type: "k8s-objects", Properties: props})
	}
	return app, nil
}

func withoutKubeVelaKeys(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if !strings.Contains(k, "oam.dev/") {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// countKinds says what a rendered app emits, e.g. "2 Deployment, 3 Service".
func countKinds(res *render.Result) string {
	var kinds []string
	counts := map[string]int{}
	for _, o := range res.Objects {
		if counts[o.GetKind()] == 0 {
			kinds = append(kinds, o.GetKind())
		}
		counts[o.GetKind()]++
	}
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	return strings.Join(parts, ", ")
}

// createTheApps creates the apps with a few parallel workers.
func createTheApps(ctx context.Context, c client.Client, apps []*v1beta1.Application) error {
	work := make(chan *v1beta1.Application)
	errs := make(chan error, len(apps))
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for app := range work {
				if err := c.Create(ctx, app.DeepCopy()); err != nil {
					errs <- fmt.Errorf("failed to create application %s: %w", app.Name, err)
				}
			}
		}()
	}
	for _, app := range apps {
		work <- app
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs // nil when none failed
}

func propertiesOf(raw *runtime.RawExtension) (map[string]interface{}, error) {
	props := map[string]interface{}{}
	if raw == nil || len(raw.Raw) == 0 {
		return props, nil
	}
	if err := json.Unmarshal(raw.Raw, &props); err != nil {
		return nil, fmt.Errorf("failed to read properties: %w", err)
	}
	return props, nil
}

func rawOf(v interface{}) (*runtime.RawExtension, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &runtime.RawExtension{Raw: data}, nil
}

// renderTheTwin renders a webservice twin offline. The offline renderer
// closes every property recursively, which `k8s-objects` (objects:
// [...{}]) does not allow, so that component's objects are added as they
// are instead of being rendered.
func renderTheTwin(ctx context.Context, r *render.Renderer, twin *v1beta1.Application) (*render.Result, error) {
	app := twin.DeepCopy()
	var raw []map[string]interface{}
	var kept []common.ApplicationComponent
	for _, c := range app.Spec.Components {
		if c.Type != "k8s-objects" {
			kept = append(kept, c)
			continue
		}
		props := struct {
			Objects []map[string]interface{} `json:"objects"`
		}{}
		if err := json.Unmarshal(c.Properties.Raw, &props); err != nil {
			return nil, err
		}
		raw = append(raw, props.Objects...)
	}
	app.Spec.Components = kept
	res, err := r.Render(ctx, app)
	if err != nil {
		return nil, err
	}
	for _, o := range raw {
		res.Objects = append(res.Objects, render.Object{Component: twin.Name + "-objects", Source: "workload",
			Unstructured: &unstructured.Unstructured{Object: o}})
	}
	return res, nil
}

// replicasOf is the number of pods a rendered app's Deployments ask for.
func replicasOf(res *render.Result) int {
	n := 0
	for _, d := range res.ByKind("Deployment") {
		r, found, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
		if !found {
			r = 1
		}
		n += int(r)
	}
	return n
}
