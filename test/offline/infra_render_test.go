package offline

import (
	"strings"
	"testing"

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
