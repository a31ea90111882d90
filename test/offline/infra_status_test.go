package offline

import (
	"testing"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// infraStatus evaluates a component definition's healthPolicy and
// customStatus as the application controller does.
func infraStatus(t *testing.T, defName string, output map[string]interface{}, outputs map[string]interface{}) (bool, string) {
	t.Helper()
	def := addonRenderer(t).Catalog().Get(render.KindComponent, defName)
	if def == nil {
		t.Fatalf("no %s component", defName)
	}
	if outputs == nil {
		outputs = map[string]interface{}{}
	}
	ctx := map[string]interface{}{"output": output, "outputs": outputs}
	status, err := def.Status(ctx, nil)
	if err != nil {
		t.Fatalf("%s status: %v", defName, err)
	}
	return status.Healthy, status.Message
}

func tfConfiguration(generation int64, status map[string]interface{}) map[string]interface{} {
	o := map[string]interface{}{
		"apiVersion": "terraform.core.oam.dev/v1beta2", "kind": "Configuration",
		"metadata": map[string]interface{}{"name": "prod-cluster", "generation": generation},
		"spec":     map[string]interface{}{"writeConnectionSecretToRef": map[string]interface{}{"name": "prod-cluster-kubeconfig"}},
	}
	if status != nil {
		o["status"] = status
	}
	return o
}

func TestInfraConfigurationHealthAndStatus(t *testing.T) {
	cases := []struct {
		name    string
		def     string
		output  map[string]interface{}
		healthy bool
		message string
	}{
		{"new", "k8s-cluster", tfConfiguration(1, nil), false, "Waiting for terraform-controller to pick up the Configuration (is the terraform addon enabled?)"},
		{"provisioning", "k8s-cluster", tfConfiguration(1, map[string]interface{}{"observedGeneration": int64(1), "apply": map[string]interface{}{
			"state": "ProvisioningAndChecking", "message": "Cloud resources are being provisioned and provisioning status is checking..."}}),
			false, "ProvisioningAndChecking: Cloud resources are being provisioned and provisioning status is checking..."},
		{"available", "k8s-cluster", tfConfiguration(2, map[string]interface{}{"observedGeneration": int64(2), "apply": map[string]interface{}{
			"state": "Available", "message": "Cloud resources are deployed and ready to use",
			"outputs": map[string]interface{}{"CLUSTER_ID": map[string]interface{}{"value": "c0123"}}}}),
			true, "Available: cluster c0123 (kubeconfig in Secret prod-cluster-kubeconfig)"},
		{"available without observedGeneration", "k8s-cluster", tfConfiguration(1, map[string]interface{}{"apply": map[string]interface{}{"state": "Available"}}),
			true, "Available (kubeconfig in Secret prod-cluster-kubeconfig)"},
		{"stale available", "k8s-cluster", tfConfiguration(3, map[string]interface{}{"observedGeneration": int64(2), "apply": map[string]interface{}{"state": "Available"}}),
			false, "Available (an older generation); waiting for terraform-controller"},
		{"apply failed", "k8s-cluster", tfConfiguration(1, map[string]interface{}{"observedGeneration": int64(1), "apply": map[string]interface{}{
			"state": "ApplyFailed", "message": "Error: creating ACK cluster: QuotaExceeded"}}),
			false, "Failed (ApplyFailed): Error: creating ACK cluster: QuotaExceeded"},
		{"invalid region", "s3-bucket", tfConfiguration(1, map[string]interface{}{"apply": map[string]interface{}{
			"state": "InvalidRegion", "message": "Invalid Alibaba Cloud region"}}),
			false, "Failed (InvalidRegion): Invalid Alibaba Cloud region"},
		{"bucket available", "s3-bucket", tfConfiguration(1, map[string]interface{}{"apply": map[string]interface{}{
			"state": "Available", "outputs": map[string]interface{}{"BUCKET_ENDPOINT": map[string]interface{}{"value": "ml-example.oss-cn-hangzhou.aliyuncs.com"}}}}),
			true, "Available at ml-example.oss-cn-hangzhou.aliyuncs.com"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			healthy, msg := infraStatus(t, c.def, c.output, nil)
			assertEqual(t, "healthy", healthy, c.healthy)
			assertEqual(t, "message", msg, c.message)
		})
	}
}

func helmRelease(generation int64, status map[string]interface{}) map[string]interface{} {
	o := map[string]interface{}{
		"apiVersion": "helm.toolkit.fluxcd.io/v2beta1", "kind": "HelmRelease",
		"metadata": map[string]interface{}{"name": "kubeflow", "generation": generation},
		"spec":     map[string]interface{}{"chart": map[string]interface{}{"spec": map[string]interface{}{"chart": "training-operator"}}},
	}
	if status != nil {
		o["status"] = status
	}
	return o
}

func cond(typ, status, reason, message string) map[string]interface{} {
	return map[string]interface{}{"type": typ, "status": status, "reason": reason, "message": message}
}

func TestInfraHelmChartHealthAndStatus(t *testing.T) {
	repoFailed := map[string]interface{}{"repository": map[string]interface{}{"status": map[string]interface{}{"conditions": []interface{}{
		cond("Ready", "False", "FetchFailed", "failed to fetch Helm repository index: 404"),
	}}}}
	cases := []struct {
		name    string
		output  map[string]interface{}
		outputs map[string]interface{}
		healthy bool
		message string
	}{
		{"new", helmRelease(1, nil), nil, false, "Waiting for fluxcd's helm-controller (is the fluxcd addon enabled?)"},
		{"repository failing", helmRelease(1, nil), repoFailed, false, "Repository not ready: failed to fetch Helm repository index: 404"},
		{"install failed", helmRelease(1, map[string]interface{}{"observedGeneration": int64(1), "conditions": []interface{}{
			cond("Ready", "False", "InstallFailed", "install retries exhausted")}}), nil, false, "Release not ready: install retries exhausted"},
		{"released", helmRelease(1, map[string]interface{}{"observedGeneration": int64(1), "lastAppliedRevision": "1.1.4", "conditions": []interface{}{
			cond("Ready", "True", "ReconciliationSucceeded", "Release reconciliation succeeded")}}), nil, true, "Released training-operator 1.1.4"},
		{"stale", helmRelease(2, map[string]interface{}{"observedGeneration": int64(1), "conditions": []interface{}{
			cond("Ready", "True", "ReconciliationSucceeded", "ok")}}), nil, false, "Reconciling generation 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			healthy, msg := infraStatus(t, "helm-chart", c.output, c.outputs)
			assertEqual(t, "healthy", healthy, c.healthy)
			assertEqual(t, "message", msg, c.message)
		})
	}
}
