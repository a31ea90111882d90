# The Edge flavour of the k8s-cluster component: an ACK@Edge cluster
# (after k8s-cluster-common.tf, before k8s-cluster-outputs.tf).
# Canonical text: `go run ./cmd/cueinline` inlines what follows the
# ml-platform:inline-text line into the definition as a CUE string (see
# cue/README.md). Edit here, not there.
# ml-platform:inline-text
variable "pod_cidr" {
  type    = string
  default = "10.10.0.0/16"
}
variable "cloud_instance_types" {
  type = list(string)
}
variable "cloud_node_count" {
  type    = number
  default = 1
}

# ACK@Edge: cloud nodes run the management add-ons; edge nodes join through edge node pools.
resource "alicloud_cs_edge_kubernetes" "k8s" {
  name                  = var.name
  cluster_spec          = var.cluster_spec
  version               = var.k8s_version == "" ? null : var.k8s_version
  worker_vswitch_ids    = local.vswitch_ids
  worker_instance_types = var.cloud_instance_types
  worker_number         = var.cloud_node_count
  key_name              = var.key_pair
  pod_cidr              = var.pod_cidr
  service_cidr          = var.service_cidr
  new_nat_gateway       = true
  slb_internet_enabled  = true

  dynamic "addons" {
    for_each = var.addons
    content {
      name   = addons.value.name
      config = addons.value.config
    }
  }
}
