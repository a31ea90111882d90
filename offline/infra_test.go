package offline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubevela/workflow/api/v1alpha1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// The infrastructure of issue 8: the spec's Initializer as an Application of
// k8s-cluster, helm-chart and s3-bucket components applied by the
// terraform-apply and helm-apply steps.

const infraExample = "examples/infra/app.yaml"

var (
	gvkConfiguration  = schema.GroupVersionKind{Group: "terraform.core.oam.dev", Version: "v1beta2", Kind: "Configuration"}
	gvkHelmRelease    = schema.GroupVersionKind{Group: "helm.toolkit.fluxcd.io", Version: "v2beta1", Kind: "HelmRelease"}
	gvkHelmRepository = schema.GroupVersionKind{Group: "source.toolkit.fluxcd.io", Version: "v1beta2", Kind: "HelmRepository"}
)

// configuration checks what every Configuration must have: terraform-controller
// v0.8.0's real field names (customRegion, JobEnv; never region or jobEnv,
// which its CRD prunes) and returns the spec.
func configuration(t *testing.T, res *render.Result, name string) map[string]interface{} {
	t.Helper()
	c := mustFind(t, res, "Configuration", name)
	assertEqual(t, name+" apiVersion", c.GetAPIVersion(), "terraform.core.oam.dev/v1beta2")
	spec := mapOf(t, c.Object["spec"])
	for _, pruned := range []string{"region", "jobEnv", "providerReference", "writeConnectionSecretToReference"} {
		if _, ok := spec[pruned]; ok {
			t.Errorf("%s: spec.%s is not a field of the v1beta2 Configuration CRD (it would be pruned)", name, pruned)
		}
	}
	for k := range spec {
		switch k {
		case "hcl", "variable", "customRegion", "providerRef", "writeConnectionSecretToRef", "deleteResource", "JobEnv":
		default:
			t.Errorf("%s: unexpected spec field %s", name, k)
		}
	}
	return spec
}

func hclHas(t *testing.T, what, hcl string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(hcl, w) {
			t.Errorf("%s: HCL has no %q", what, w)
		}
	}
}

func hclHasNot(t *testing.T, what, hcl string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(hcl, w) {
			t.Errorf("%s: HCL must not have %q", what, w)
		}
	}
}

func TestInfraExampleProdClusterIsACKProWithAGPUSharingPool(t *testing.T) {
	res := renderFile(t, infraExample)
	spec := configuration(t, res, "prod-cluster")
	assertEqual(t, "customRegion", spec["customRegion"], "cn-hangzhou")
	assertEqual(t, "providerRef", spec["providerRef"], map[string]interface{}{"name": "default", "namespace": "default"})
	assertEqual(t, "connection secret", spec["writeConnectionSecretToRef"], map[string]interface{}{"name": "prod-cluster-kubeconfig", "namespace": "ml-infra"})
	assertEqual(t, "deleteResource", spec["deleteResource"], true)
	hcl := spec["hcl"].(string)
	hclHas(t, "prod-cluster", hcl,
		`resource "alicloud_cs_managed_kubernetes" "k8s"`,
		`resource "alicloud_cs_kubernetes_node_pool" "pools"`,
		`data "alicloud_cs_cluster_credential" "auth"`,
		`output "KUBECONFIG"`, `output "CLUSTER_ID"`,
		`resource "alicloud_vpc" "vpc"`, `resource "alicloud_vswitch" "vsw"`)
	hclHasNot(t, "prod-cluster", hcl, "alicloud_cs_serverless_kubernetes", "alicloud_cs_edge_kubernetes", "alicloud_cs_kubernetes\" ")
	v := mapOf(t, spec["variable"])
	assertEqual(t, "name", v["name"], "prod-cluster")
	assertEqual(t, "version", v["k8s_version"], "1.30.1-aliyun.1")
	assertEqual(t, "cluster spec", v["cluster_spec"], "ack.pro.small")
	assertEqual(t, "key pair", v["key_pair"], "ml-platform")
	assertEqual(t, "new VPC", v["vpc_id"], "")
	assertEqual(t, "addons", v["addons"], []interface{}{
		map[string]interface{}{"name": "logtail-ds", "config": ""},
		map[string]interface{}{"name": "arms-prometheus", "config": ""},
		map[string]interface{}{"name": "ack-ai-installer", "config": ""},
	})
	assertEqual(t, "node pools", v["node_pools"], []interface{}{
		map[string]interface{}{
			"name": "cpu", "instance_types": []interface{}{"ecs.g7.xlarge", "ecs.g6.xlarge"}, "desired_size": int64(3),
			"system_disk_category": "cloud_essd", "system_disk_size": int64(120),
			"labels": map[string]interface{}{}, "taints": []interface{}{},
		},
		map[string]interface{}{
			"name": "gpu", "instance_types": []interface{}{"ecs.gn6i-c4g1.xlarge"}, "desired_size": int64(2),
			"system_disk_category": "cloud_essd", "system_disk_size": int64(120),
			"labels": map[string]interface{}{"ack.node.gpu.schedule": "share"}, "taints": []interface{}{},
		},
	})
}

func TestInfraExampleDevClusterIsServerless(t *testing.T) {
	res := renderFile(t, infraExample)
	spec := configuration(t, res, "dev-cluster")
	assertEqual(t, "customRegion", spec["customRegion"], "cn-hangzhou")
	assertEqual(t, "connection secret", spec["writeConnectionSecretToRef"], map[string]interface{}{"name": "dev-cluster-kubeconfig", "namespace": "ml-infra"})
	hcl := spec["hcl"].(string)
	hclHas(t, "dev-cluster", hcl, `resource "alicloud_cs_serverless_kubernetes" "k8s"`, `output "KUBECONFIG"`, `vpc_id                         = local.vpc_id`)
	hclHasNot(t, "dev-cluster", hcl, "alicloud_cs_managed_kubernetes", "alicloud_cs_kubernetes_node_pool", "alicloud_cs_edge_kubernetes")
	v := mapOf(t, spec["variable"])
	if _, ok := v["node_pools"]; ok {
		t.Error("ASK has no node pools")
	}
	if _, ok := v["pod_cidr"]; ok {
		t.Error("ASK has no pod CIDR")
	}
	assertEqual(t, "ASK gets no node add-ons", v["addons"], []interface{}{})
}

func TestInfraExampleKubeflowChartGoesIntoTheProdCluster(t *testing.T) {
	res := renderFile(t, infraExample)
	hr := mustFind(t, res, "HelmRelease", "kubeflow")
	assertEqual(t, "apiVersion", hr.GetAPIVersion(), "helm.toolkit.fluxcd.io/v2beta1")
	assertEqual(t, "HelmRelease spec", hr.Object["spec"], map[string]interface{}{
		"interval": "10m",
		"chart": map[string]interface{}{"spec": map[string]interface{}{
			"chart": "training-operator", "version": "1.1.4", "interval": "10m",
			"sourceRef": map[string]interface{}{"kind": "HelmRepository", "name": "kubeflow-repo", "namespace": "ml-infra"},
		}},
		"releaseName":      "kubeflow",
		"targetNamespace":  "kubeflow-system",
		"storageNamespace": "kubeflow-system",
		"timeout":          "10m",
		"install": map[string]interface{}{
			"createNamespace": true, "crds": "CreateReplace",
			"remediation": map[string]interface{}{"retries": int64(0)},
		},
		"upgrade": map[string]interface{}{
			"crds":        "CreateReplace",
			"remediation": map[string]interface{}{"retries": int64(0)},
		},
		"kubeConfig": map[string]interface{}{"secretRef": map[string]interface{}{"name": "prod-cluster-kubeconfig", "key": "KUBECONFIG"}},
	})
	repo := mustFind(t, res, "HelmRepository", "kubeflow-repo")
	assertEqual(t, "HelmRepository apiVersion", repo.GetAPIVersion(), "source.toolkit.fluxcd.io/v1beta2")
	assertEqual(t, "HelmRepository spec", repo.Object["spec"], map[string]interface{}{
		"url": "https://cowboysysop.github.io/charts", "interval": "10m",
	})
}

func TestInfraExampleBucketIsAnOSSBucketWithAnACL(t *testing.T) {
	res := renderFile(t, infraExample)
	spec := configuration(t, res, "s3-bucket")
	assertEqual(t, "customRegion", spec["customRegion"], "cn-hangzhou")
	assertEqual(t, "providerRef", spec["providerRef"], map[string]interface{}{"name": "default", "namespace": "default"})
	assertEqual(t, "connection secret", spec["writeConnectionSecretToRef"], map[string]interface{}{"name": "s3-bucket-bucket", "namespace": "ml-infra"})
	assertEqual(t, "variables", spec["variable"], map[string]interface{}{
		"bucket": "ml-example", "acl": "private", "storage_class": "Standard", "versioning": false, "force_destroy": false,
	})
	hcl := spec["hcl"].(string)
	hclHas(t, "s3-bucket", hcl, `resource "alicloud_oss_bucket" "bucket"`, `resource "alicloud_oss_bucket_acl" "acl"`,
		`output "BUCKET_NAME"`, `output "BUCKET_ENDPOINT"`, "extranet_endpoint")
	hclHasNot(t, "s3-bucket", hcl, "aws_s3_bucket", "  acl           = var.acl")
}

func TestInfraExampleWorkflowFixesTheSpecsTypos(t *testing.T) {
	res := renderFile(t, infraExample)
	var got []string
	for _, s := range res.App.Spec.Workflow.Steps {
		got = append(got, s.Name+":"+s.Type+":"+string(s.Properties.Raw))
	}
	assertEqual(t, "steps", got, []string{
		`create-prod-cluster:terraform-apply:{"component":"prod-cluster"}`,
		`create-dev-cluster:terraform-apply:{"component":"dev-cluster"}`,
		`deploy-kubeflow:helm-apply:{"component":"kubeflow"}`,
		`create-s3-bucket:terraform-apply:{"component":"s3-bucket"}`,
	})
}

const infraVariantsApp = `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: infra-variants
  namespace: infra
spec:
  components:
    - name: edge
      type: k8s-cluster
      properties:
        resource: Edge
        version: v1.30
        region: cn-shanghai
        vpcId: vpc-123abc
        vswitchIds: [vsw-1a, vsw-2b]
        keyPair: edge-key
        observability: false
        edgeCloudNodes:
          instanceTypes: [ecs.c7.large]
          count: 2
        providerRef: {name: shanghai}
        writeConnectionSecretToRef: {name: edge-admin, namespace: vela-system}
        deleteResource: false
        jobEnv: {HTTPS_PROXY: "http://proxy:3128"}
        addons:
          - name: ack-virtual-node
    - name: models
      type: s3-bucket
      properties:
        provider: aws
        bucket: ml-models-123
        region: us-east-1
        versioning: true
    - name: trainer
      type: helm-chart
      properties:
        repo: oci://ghcr.io/kubeflow/charts
        chart: kubeflow-trainer
        version: 2.0.0
        retries: 2
        values:
          replicas: 2
`

func TestInfraEdgeClusterInAnExistingVPC(t *testing.T) {
	res := renderWithFakes(t, infraVariantsApp)
	spec := configuration(t, res, "edge")
	assertEqual(t, "customRegion", spec["customRegion"], "cn-shanghai")
	assertEqual(t, "providerRef", spec["providerRef"], map[string]interface{}{"name": "shanghai", "namespace": "default"})
	assertEqual(t, "connection secret", spec["writeConnectionSecretToRef"], map[string]interface{}{"name": "edge-admin", "namespace": "vela-system"})
	assertEqual(t, "deleteResource", spec["deleteResource"], false)
	assertEqual(t, "JobEnv", spec["JobEnv"], map[string]interface{}{"HTTPS_PROXY": "http://proxy:3128"})
	hclHas(t, "edge", spec["hcl"].(string), `resource "alicloud_cs_edge_kubernetes" "k8s"`, "worker_instance_types = var.cloud_instance_types", "key_name              = var.key_pair")
	v := mapOf(t, spec["variable"])
	assertEqual(t, "version without v", v["k8s_version"], "1.30")
	assertEqual(t, "vpc", v["vpc_id"], "vpc-123abc")
	assertEqual(t, "vswitches", v["vswitch_ids"], []interface{}{"vsw-1a", "vsw-2b"})
	assertEqual(t, "cloud nodes", []interface{}{v["cloud_instance_types"], v["cloud_node_count"]}, []interface{}{[]interface{}{"ecs.c7.large"}, int64(2)})
	assertEqual(t, "addons", v["addons"], []interface{}{map[string]interface{}{"name": "ack-virtual-node", "config": ""}})
}

func TestInfraAWSBucketAndOCIChart(t *testing.T) {
	res := renderWithFakes(t, infraVariantsApp)
	spec := configuration(t, res, "models")
	assertEqual(t, "customRegion", spec["customRegion"], "us-east-1")
	assertEqual(t, "aws provider", spec["providerRef"], map[string]interface{}{"name": "aws", "namespace": "default"})
	assertEqual(t, "variables", spec["variable"], map[string]interface{}{
		"bucket": "ml-models-123", "acl": "private", "versioning": true, "force_destroy": false,
	})
	hclHas(t, "models", spec["hcl"].(string), `resource "aws_s3_bucket" "bucket"`, `resource "aws_s3_bucket_versioning" "versioning"`, "bucket_regional_domain_name")
	hclHasNot(t, "models", spec["hcl"].(string), "alicloud")

	repo := mustFind(t, res, "HelmRepository", "trainer-repo")
	assertEqual(t, "oci repository", repo.Object["spec"], map[string]interface{}{"url": "oci://ghcr.io/kubeflow/charts", "interval": "10m", "type": "oci"})
	hr := mustFind(t, res, "HelmRelease", "trainer")
	assertEqual(t, "target namespace defaults to the app's", field(t, hr, "spec", "targetNamespace"), "infra")
	assertEqual(t, "retries", field(t, hr, "spec", "install", "remediation", "retries"), int64(2))
	assertEqual(t, "values", field(t, hr, "spec", "values"), map[string]interface{}{"replicas": int64(2)})
	if _, ok, _ := unstructured.NestedMap(hr.Object, "spec", "kubeConfig"); ok {
		t.Error("no kubeConfig unless kubeConfigSecret is set")
	}
}

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

// ---- terraform-apply and helm-apply, run offline with the step harness ----

func infraWorld(t testing.TB) *stepWorld {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, infraExample))
	if err != nil {
		t.Fatal(err)
	}
	w := newStepWorld(t, string(data))
	for _, gvk := range []schema.GroupVersionKind{gvkConfiguration, gvkHelmRelease, gvkHelmRepository} {
		w.cli.Scheme().AddKnownTypeWithName(gvk, &unstructured.Unstructured{})
		w.cli.Scheme().AddKnownTypeWithName(gvk.GroupVersion().WithKind(gvk.Kind+"List"), &unstructured.UnstructuredList{})
	}
	return w
}

// infraStep sets the properties of the workflow step named step.
func infraStep(w *stepWorld, step, properties string) {
	for i := range w.app.Spec.Workflow.Steps {
		if w.app.Spec.Workflow.Steps[i].Name == step {
			w.app.Spec.Workflow.Steps[i].Properties.Raw = []byte(properties)
			return
		}
	}
	w.t.Fatalf("no step %s", step)
}

// infraComponent sets the properties of the component named name.
func infraComponent(w *stepWorld, name, properties string) {
	for i := range w.app.Spec.Components {
		if w.app.Spec.Components[i].Name == name {
			w.app.Spec.Components[i].Properties.Raw = []byte(properties)
			return
		}
	}
	w.t.Fatalf("no component %s", name)
}

// ---- terraform-apply ----

const tfBucketWaiting = "Configuration s3-bucket: Waiting for terraform-controller to pick up the Configuration (is the terraform addon enabled?)"

// tfBucketStarted is the first reconcile of create-s3-bucket: the component
// is applied without a health wait and the step waits for terraform-controller.
func tfBucketStarted(t testing.TB) *stepWorld {
	t.Helper()
	w := infraWorld(t)
	stepWant(t, w.run("create-s3-bucket"), v1alpha1.WorkflowStepPhaseRunning, tfBucketWaiting)
	w.wantApplied("s3-bucket")
	return w
}

// tfApply is a Configuration status: apply.state, apply.message and the
// generation terraform-controller has seen.
func tfApply(observed int64, state, message string) map[string]interface{} {
	apply := map[string]interface{}{"state": state}
	if message != "" {
		apply["message"] = message
	}
	status := map[string]interface{}{"apply": apply}
	if observed > 0 {
		status["observedGeneration"] = observed
	}
	return status
}

// tfBucket: after the first reconcile terraform-controller reports status;
// the step shows phase and message (and applies the component again
// without a health wait).
func tfBucket(status map[string]interface{}, phase v1alpha1.WorkflowStepPhase, message string) func(t testing.TB) {
	return func(t testing.TB) {
		w := tfBucketStarted(t)
		w.setStatus(gvkConfiguration, "ml-infra", "s3-bucket", status)
		stepWant(t, w.run("create-s3-bucket"), phase, message)
		if phase == v1alpha1.WorkflowStepPhaseSucceeded {
			// the final apply waits for health, so the app records it
			w.wantApplied("s3-bucket", "s3-bucket, waiting for health (healthy: true)")
			return
		}
		w.wantApplied("s3-bucket")
	}
}

// tfFailure: terraform-controller reports a failure state; the step fails at once.
func tfFailure(state string) stepCase {
	msg := "terraform-controller says " + state
	return stepCase{"fails at once on " + state, tfBucket(tfApply(1, state, msg), v1alpha1.WorkflowStepPhaseFailed,
		"Configuration s3-bucket: Failed ("+state+"): "+msg)}
}

// The terraform-apply step, situation by situation.
var terraformStepCases = []stepCase{
	{"applies the component and waits for terraform-controller", func(t testing.TB) {
		w := infraWorld(t)
		stepWant(t, w.run("create-prod-cluster"), v1alpha1.WorkflowStepPhaseRunning,
			"Configuration prod-cluster: Waiting for terraform-controller to pick up the Configuration (is the terraform addon enabled?)")
		w.wantApplied("prod-cluster")
		conf := w.get(gvkConfiguration, "ml-infra", "prod-cluster")
		assertEqual(t, "applied customRegion", field(t, conf, "spec", "customRegion"), "cn-hangzhou")
		// the dev cluster step applies the dev cluster, not the prod one (the spec's typo)
		stepWantPhase(t, w.run("create-dev-cluster"), v1alpha1.WorkflowStepPhaseRunning)
		w.wantApplied("dev-cluster")
		assertEqual(t, "dev cluster applied", w.exists(gvkConfiguration, "ml-infra", "dev-cluster"), true)
	}},
	{"waits with terraform-controller's progress", tfBucket(tfApply(1, "ProvisioningAndChecking", "Cloud resources are being provisioned"),
		v1alpha1.WorkflowStepPhaseRunning, "Configuration s3-bucket: ProvisioningAndChecking: Cloud resources are being provisioned")},
	{"succeeds once the cloud resources are Available", tfBucket(tfApply(1, "Available", "Cloud resources are deployed and ready to use"),
		v1alpha1.WorkflowStepPhaseSucceeded, "")},
	{"succeeds on a status without observedGeneration", tfBucket(tfApply(0, "Available", ""),
		v1alpha1.WorkflowStepPhaseSucceeded, "")},
	{"fails at once with the Configuration's message", tfBucket(tfApply(1, "ApplyFailed", "Error: [ERROR] BucketAlreadyExists: The requested bucket name is not available."),
		v1alpha1.WorkflowStepPhaseFailed, "Configuration s3-bucket: Failed (ApplyFailed): Error: [ERROR] BucketAlreadyExists: The requested bucket name is not available.")},
	{"fails with the state alone when there is no message", tfBucket(tfApply(1, "TerraformInitError", ""),
		v1alpha1.WorkflowStepPhaseFailed, "Configuration s3-bucket: Failed (TerraformInitError)")},
	tfFailure("DestroyFailed"),
	tfFailure("ConfigurationSpecNotValid"),
	tfFailure("InvalidRegion"),
	tfFailure("InvalidGitCredentialsSecretReference"),
	tfFailure("InvalidTerraformCredentialsSecretReference"),
	tfFailure("InvalidTerraformRCConfigMapReference"),
	tfFailure("InvalidTerraformCredentialsHelperConfigMapReference"),
	{"another state is progress, not failure", tfBucket(tfApply(1, "Destroying", ""),
		v1alpha1.WorkflowStepPhaseRunning, "Configuration s3-bucket: Destroying")},
	{"waits when Available is about an older generation", func(t testing.TB) {
		w := tfBucketStarted(t)
		w.setStatus(gvkConfiguration, "ml-infra", "s3-bucket", tfApply(1, "Available", ""))
		// the application changes the bucket: this apply is generation 2
		infraComponent(w, "s3-bucket", `{"provider":"alibaba","bucket":"ml-example","region":"cn-hangzhou","acl":"public-read"}`)
		stepWant(t, w.run("create-s3-bucket"), v1alpha1.WorkflowStepPhaseRunning,
			"Configuration s3-bucket: Available (an older generation); waiting for terraform-controller")
	}},
	{"a failure of an older generation does not fail the step", func(t testing.TB) {
		w := tfBucketStarted(t)
		w.setStatus(gvkConfiguration, "ml-infra", "s3-bucket", tfApply(1, "ApplyFailed", "Error: bad ACL"))
		infraComponent(w, "s3-bucket", `{"provider":"alibaba","bucket":"ml-example","region":"cn-hangzhou","acl":"public-read"}`)
		stepWant(t, w.run("create-s3-bucket"), v1alpha1.WorkflowStepPhaseRunning,
			"Configuration s3-bucket: ApplyFailed (an older generation); waiting for terraform-controller")
	}},
	{"fails for an unknown component", func(t testing.TB) {
		w := infraWorld(t)
		infraStep(w, "create-prod-cluster", `{"component":"prd-cluster"}`)
		stepWant(t, w.run("create-prod-cluster"), v1alpha1.WorkflowStepPhaseFailed,
			`component "prd-cluster" is not in this application: terraform-apply needs the name of one of its k8s-cluster or s3-bucket components`)
		w.wantApplied()
	}},
	{"fails for a component of another type, before applying it", func(t testing.TB) {
		w := infraWorld(t)
		infraStep(w, "create-prod-cluster", `{"component":"kubeflow"}`)
		stepWant(t, w.run("create-prod-cluster"), v1alpha1.WorkflowStepPhaseFailed,
			`component "kubeflow" is of type helm-chart: terraform-apply needs the name of one of its k8s-cluster or s3-bucket components`)
		w.wantApplied()
	}},
	// The step finds the Configuration by KubeVela's labels in the namespace it
	// applied the component to, not from the apply's output (which KubeVela 1.11
	// leaves empty while the component is unhealthy).
	{"follows the namespace parameter", func(t testing.TB) {
		w := infraWorld(t)
		infraStep(w, "create-s3-bucket", `{"component":"s3-bucket","namespace":"ml-infra-2"}`)
		stepWant(t, w.run("create-s3-bucket"), v1alpha1.WorkflowStepPhaseRunning, tfBucketWaiting)
		w.wantApplied("s3-bucket in ml-infra-2")
		assertEqual(t, "applied to ml-infra-2", w.exists(gvkConfiguration, "ml-infra-2", "s3-bucket"), true)
		w.setStatus(gvkConfiguration, "ml-infra-2", "s3-bucket", tfApply(1, "ApplyFailed", "quota"))
		stepWant(t, w.run("create-s3-bucket"), v1alpha1.WorkflowStepPhaseFailed, "Configuration s3-bucket: Failed (ApplyFailed): quota")
	}},
}

func TestTerraformApplyStep(t *testing.T) { runStepCases(t, terraformStepCases) }

// ---- helm-apply ----

const hrWaiting = "HelmRelease kubeflow: Waiting for fluxcd's helm-controller to pick up the HelmRelease (is the fluxcd addon enabled?)"

// hrStarted is the first reconcile of deploy-kubeflow (with the kubeflow
// component's properties when given).
func hrStarted(t testing.TB, properties string) *stepWorld {
	t.Helper()
	w := infraWorld(t)
	if properties != "" {
		infraComponent(w, "kubeflow", properties)
	}
	stepWant(t, w.run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseRunning, hrWaiting)
	w.wantApplied("kubeflow")
	return w
}

// hrStatus is a HelmRelease status: the Ready condition, failure counts.
func hrStatus(ready, reason, message string, more map[string]interface{}) map[string]interface{} {
	c := map[string]interface{}{"type": "Ready", "status": ready, "reason": reason}
	if message != "" {
		c["message"] = message
	}
	s := map[string]interface{}{"observedGeneration": int64(1), "conditions": []interface{}{cond("Reconciling", "True", "Progressing", "x"), c}}
	for k, v := range more {
		s[k] = v
	}
	return s
}

// hrRelease: after the first reconcile helm-controller reports status; the
// step shows phase and message.
func hrRelease(properties string, status map[string]interface{}, phase v1alpha1.WorkflowStepPhase, message string) func(t testing.TB) {
	return func(t testing.TB) {
		w := hrStarted(t, properties)
		w.setStatus(gvkHelmRelease, "ml-infra", "kubeflow", status)
		stepWant(t, w.run("deploy-kubeflow"), phase, message)
		if phase == v1alpha1.WorkflowStepPhaseSucceeded {
			// the final apply waits for health, so the app records it
			w.wantApplied("kubeflow", "kubeflow, waiting for health (healthy: true)")
			return
		}
		w.wantApplied("kubeflow")
	}
}

const hrRetries = `{"repo":"https://cowboysysop.github.io/charts","chart":"training-operator","retries":2}`

// hrTerminal: a reason fluxcd does not retry; the step fails at once.
func hrTerminal(reason string) stepCase {
	msg := "helm-controller says " + reason
	return stepCase{"fails at once on " + reason, hrRelease(hrRetries, hrStatus("False", reason, msg, nil), v1alpha1.WorkflowStepPhaseFailed,
		"HelmRelease kubeflow: Failed ("+reason+"): "+msg)}
}

// The helm-apply step, situation by situation.
var helmStepCases = []stepCase{
	{"applies the component and waits for helm-controller", func(t testing.TB) {
		w := hrStarted(t, "")
		assertEqual(t, "repository applied", w.exists(gvkHelmRepository, "ml-infra", "kubeflow-repo"), true)
	}},
	{"waits with helm-controller's progress", hrRelease("", hrStatus("Unknown", "Progressing", "Reconciliation in progress", nil),
		v1alpha1.WorkflowStepPhaseRunning, "HelmRelease kubeflow: Progressing: Reconciliation in progress")},
	{"shows the reason when the condition has no message", hrRelease("", hrStatus("False", "ArtifactFailed", "", nil),
		v1alpha1.WorkflowStepPhaseRunning, "HelmRelease kubeflow: ArtifactFailed: ArtifactFailed")},
	{"succeeds once the release is Ready", hrRelease("", hrStatus("True", "ReconciliationSucceeded", "Release reconciliation succeeded", nil),
		v1alpha1.WorkflowStepPhaseSucceeded, "")},
	{"fails at once when the install failed and no retries are left", hrRelease("", hrStatus("False", "InstallFailed", "Helm install failed: unable to build kubernetes objects from release manifest",
		map[string]interface{}{"installFailures": int64(1)}),
		v1alpha1.WorkflowStepPhaseFailed, "HelmRelease kubeflow: Failed (InstallFailed): Helm install failed: unable to build kubernetes objects from release manifest")},
	{"fails at once when the upgrade failed and no retries are left", hrRelease("", hrStatus("False", "UpgradeFailed", "Helm upgrade failed: timed out",
		map[string]interface{}{"upgradeFailures": int64(1)}),
		v1alpha1.WorkflowStepPhaseFailed, "HelmRelease kubeflow: Failed (UpgradeFailed): Helm upgrade failed: timed out")},
	{"keeps waiting while install retries remain, fails when they are spent", func(t testing.TB) {
		w := hrStarted(t, hrRetries)
		w.setStatus(gvkHelmRelease, "ml-infra", "kubeflow", hrStatus("False", "InstallFailed", "Helm install failed: timed out", map[string]interface{}{"installFailures": int64(2)}))
		stepWant(t, w.run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseRunning, "HelmRelease kubeflow: InstallFailed: Helm install failed: timed out")
		w.setStatus(gvkHelmRelease, "ml-infra", "kubeflow", hrStatus("False", "InstallFailed", "Helm install failed: timed out", map[string]interface{}{"installFailures": int64(3)}))
		stepWant(t, w.run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseFailed, "HelmRelease kubeflow: Failed (InstallFailed): Helm install failed: timed out")
	}},
	{"keeps waiting while upgrade retries remain", hrRelease(hrRetries, hrStatus("False", "UpgradeFailed", "Helm upgrade failed: timed out", map[string]interface{}{"upgradeFailures": int64(2)}),
		v1alpha1.WorkflowStepPhaseRunning, "HelmRelease kubeflow: UpgradeFailed: Helm upgrade failed: timed out")},
	hrTerminal("InitFailed"),
	hrTerminal("TestFailed"),
	hrTerminal("RollbackFailed"),
	hrTerminal("UninstallFailed"),
	{"waits when Ready is about an older generation", func(t testing.TB) {
		w := hrStarted(t, "")
		w.setStatus(gvkHelmRelease, "ml-infra", "kubeflow", hrStatus("True", "ReconciliationSucceeded", "Release reconciliation succeeded", nil))
		// the application changes the chart's version: this apply is generation 2
		infraComponent(w, "kubeflow", `{"repo":"https://cowboysysop.github.io/charts","chart":"training-operator","version":"1.1.5","namespace":"kubeflow-system","createNamespace":true,"kubeConfigSecret":{"name":"prod-cluster-kubeconfig"}}`)
		stepWant(t, w.run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseRunning, "HelmRelease kubeflow: ReconciliationSucceeded: Release reconciliation succeeded")
	}},
	{"a failure of an older generation does not fail the step", func(t testing.TB) {
		w := hrStarted(t, "")
		w.setStatus(gvkHelmRelease, "ml-infra", "kubeflow", hrStatus("False", "InitFailed", "chart not found", nil))
		infraComponent(w, "kubeflow", `{"repo":"https://cowboysysop.github.io/charts","chart":"training-operator","version":"1.1.5","namespace":"kubeflow-system","createNamespace":true,"kubeConfigSecret":{"name":"prod-cluster-kubeconfig"}}`)
		stepWant(t, w.run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseRunning, "HelmRelease kubeflow: InitFailed: chart not found")
	}},
	{"fails for an unknown component", func(t testing.TB) {
		w := infraWorld(t)
		infraStep(w, "deploy-kubeflow", `{"component":"kubeflw"}`)
		stepWant(t, w.run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseFailed,
			`component "kubeflw" is not in this application: helm-apply needs the name of one of its helm-chart components`)
		w.wantApplied()
	}},
	{"fails for a component of another type, before applying it", func(t testing.TB) {
		w := infraWorld(t)
		infraStep(w, "deploy-kubeflow", `{"component":"s3-bucket"}`)
		stepWant(t, w.run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseFailed,
			`component "s3-bucket" is of type s3-bucket: helm-apply needs the name of one of its helm-chart components`)
		w.wantApplied()
	}},
	{"follows the namespace parameter", func(t testing.TB) {
		w := infraWorld(t)
		infraStep(w, "deploy-kubeflow", `{"component":"kubeflow","namespace":"flux-apps"}`)
		stepWant(t, w.run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseRunning, hrWaiting)
		w.wantApplied("kubeflow in flux-apps")
		w.setStatus(gvkHelmRelease, "flux-apps", "kubeflow", hrStatus("True", "ReconciliationSucceeded", "ok", nil))
		stepWant(t, w.run("deploy-kubeflow"), v1alpha1.WorkflowStepPhaseSucceeded, "")
	}},
}

func TestHelmApplyStep(t *testing.T) { runStepCases(t, helmStepCases) }
