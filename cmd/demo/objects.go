package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ml-platform/ml-platform/pkg/render"
)

func marshalYAML(v interface{}) ([]byte, error) { return yaml.Marshal(v) }

// keyObjects summarises what the pipeline produced: training jobs, model
// versions, serving Deployments and the traffic weights of the routes.
func keyObjects(ctx context.Context, c client.Client, ns string) []string {
	var lines []string
	for _, j := range list(ctx, c, "kubeflow.org/v1", "TFJob", ns, nil) {
		lines = append(lines, fmt.Sprintf("TFJob %s/%s: %s", j.GetNamespace(), j.GetName(), lastCondition(j)))
	}
	records := &corev1.ConfigMapList{}
	if c.List(ctx, records, client.InNamespace(ns), client.HasLabels{"ml-platform.oam.dev/model-version"}) == nil {
		for _, r := range records.Items {
			line := fmt.Sprintf("model version %s: image %s (from %s)", r.Data["modelName"], r.Data["image"], r.Data["trainingJob"])
			for _, env := range []string{"dev", "prod"} {
				if r.Labels["ml-platform.oam.dev/serves-"+env] == "true" {
					line += fmt.Sprintf("; serves %s since %s, after %s", env, r.Data["serves-"+env+"-since"], r.Data["serves-"+env+"-after"])
				}
			}
			lines = append(lines, line)
		}
	}
	rollouts := &corev1.ConfigMapList{}
	if c.List(ctx, rollouts, client.InNamespace(ns), client.HasLabels{"ml-platform.oam.dev/rollout"}) == nil {
		for _, r := range rollouts.Items {
			lines = append(lines, fmt.Sprintf("rollout record %s: %s (%s)", r.Name, r.Data["phase"], r.Data["message"]))
		}
	}
	deploys := &appsv1.DeploymentList{}
	if c.List(ctx, deploys, client.HasLabels{"ml-platform.oam.dev/predictor"}) == nil {
		for _, d := range deploys.Items {
			if d.Namespace != ns && !strings.HasPrefix(d.Namespace, ns+"-") {
				continue // another act's (ml-demo, ml-canary-good, ml-canary-bad)
			}
			lines = append(lines, fmt.Sprintf("Deployment %s/%s: %d/%d ready, model %s", d.Namespace, d.Name,
				d.Status.ReadyReplicas, d.Status.Replicas, d.Spec.Template.Labels["ml-platform.oam.dev/model-version"]))
		}
	}
	for _, r := range list(ctx, c, "gateway.networking.k8s.io/v1", "HTTPRoute", "", nil) {
		if r.GetNamespace() != ns && !strings.HasPrefix(r.GetNamespace(), ns+"-") {
			continue
		}
		lines = append(lines, fmt.Sprintf("HTTPRoute %s/%s: %s", r.GetNamespace(), r.GetName(), weights(r)))
	}
	return lines
}

func list(ctx context.Context, c client.Client, apiVersion, kind, ns string, labels map[string]string) []unstructured.Unstructured {
	l := &unstructured.UnstructuredList{}
	l.SetAPIVersion(apiVersion)
	l.SetKind(kind + "List")
	opts := []client.ListOption{client.MatchingLabels(labels)}
	if ns != "" {
		opts = append(opts, client.InNamespace(ns))
	}
	if err := c.List(ctx, l, opts...); err != nil {
		return nil
	}
	return l.Items
}

func lastCondition(u unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	if len(conds) == 0 {
		return "no status yet"
	}
	m, _ := conds[len(conds)-1].(map[string]interface{})
	return fmt.Sprintf("%v (%v)", m["type"], m["message"])
}

func weights(route unstructured.Unstructured) string {
	w := render.RouteWeights(&route)
	names := make([]string, 0, len(w))
	for n := range w {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s=%d", n, w[n]))
	}
	return strings.Join(parts, " ")
}
