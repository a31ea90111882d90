# The ACK flavour of the k8s-cluster component: an ACK Pro managed cluster
# with node pools (after k8s-cluster-common.tf, before k8s-cluster-outputs.tf).
# Canonical text: `go run ./cmd/cueinline` inlines what follows the
# ml-platform:inline-text line into the definition as a CUE string (see
# cue/README.md). Edit here, not there.
# ml-platform:inline-text
variable "pod_cidr" {
  type    = string
  default = "10.10.0.0/16"
}
variable "node_pools" {
  type = list(object({
    name                 = string
    instance_types       = list(string)
    desired_size         = number
    system_disk_category = string
    system_disk_size     = number
    labels               = map(string)
    taints = list(object({
      key    = string
      value  = string
      effect = string
    }))
  }))
  default = []
}

# ACK Pro managed cluster (cluster_spec ack.pro.small): needed for GPU sharing and ResourcePolicy.
resource "alicloud_cs_managed_kubernetes" "k8s" {
  name                 = var.name
  cluster_spec         = var.cluster_spec
  version              = var.k8s_version == "" ? null : var.k8s_version
  vswitch_ids          = local.vswitch_ids
  pod_cidr             = var.pod_cidr
  service_cidr         = var.service_cidr
  new_nat_gateway      = true
  slb_internet_enabled = true

  dynamic "addons" {
    for_each = var.addons
    content {
      name   = addons.value.name
      config = addons.value.config
    }
  }
}

resource "alicloud_cs_kubernetes_node_pool" "pools" {
  for_each             = { for p in var.node_pools : p.name => p }
  cluster_id           = alicloud_cs_managed_kubernetes.k8s.id
  node_pool_name       = each.value.name
  vswitch_ids          = local.vswitch_ids
  instance_types       = each.value.instance_types
  desired_size         = each.value.desired_size
  system_disk_category = each.value.system_disk_category
  system_disk_size     = each.value.system_disk_size
  key_name             = var.key_pair == "" ? null : var.key_pair

  dynamic "labels" {
    for_each = each.value.labels
    content {
      key   = labels.key
      value = labels.value
    }
  }

  dynamic "taints" {
    for_each = each.value.taints
    content {
      key    = taints.value.key
      value  = taints.value.value
      effect = taints.value.effect
    }
  }
}
