# The ASK flavour of the k8s-cluster component: a serverless cluster
# (after k8s-cluster-common.tf, before k8s-cluster-outputs.tf).
# Canonical text: `go run ./cmd/cueinline` inlines what follows the
# ml-platform:inline-text line into the definition as a CUE string (see
# cue/README.md). Edit here, not there.
# ml-platform:inline-text
# ASK: serverless, every pod runs on ECI; no node pools.
resource "alicloud_cs_serverless_kubernetes" "k8s" {
  name                           = var.name
  cluster_spec                   = var.cluster_spec
  version                        = var.k8s_version == "" ? null : var.k8s_version
  vpc_id                         = local.vpc_id
  vswitch_ids                    = local.vswitch_ids
  service_cidr                   = var.service_cidr
  new_nat_gateway                = true
  endpoint_public_access_enabled = true

  dynamic "addons" {
    for_each = var.addons
    content {
      name   = addons.value.name
      config = addons.value.config
    }
  }
}
