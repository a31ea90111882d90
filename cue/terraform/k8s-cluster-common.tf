# The inputs and the network shared by the three flavours of the k8s-cluster
# component (ACK, ASK, Edge); each flavour's Configuration is this file, its
# own k8s-cluster-<flavour>.tf and k8s-cluster-outputs.tf.
# Canonical text: `go run ./cmd/cueinline` inlines what follows the
# ml-platform:inline-text line into the definition as a CUE string (see
# cue/README.md). Edit here, not there.
# ml-platform:inline-text
variable "name" {
  type = string
}
variable "k8s_version" {
  type    = string
  default = ""
}
variable "cluster_spec" {
  type    = string
  default = "ack.pro.small"
}
variable "vpc_id" {
  type    = string
  default = ""
}
variable "vswitch_ids" {
  type    = list(string)
  default = []
}
variable "zone_id" {
  type    = string
  default = ""
}
variable "vpc_cidr" {
  type    = string
  default = "192.168.0.0/16"
}
variable "vswitch_cidr" {
  type    = string
  default = "192.168.0.0/20"
}
variable "service_cidr" {
  type    = string
  default = "172.16.0.0/16"
}
variable "key_pair" {
  type    = string
  default = ""
}
variable "addons" {
  type = list(object({
    name   = string
    config = string
  }))
  default = []
}

data "alicloud_zones" "default" {
  available_resource_creation = "VSwitch"
}

locals {
  create_vpc = var.vpc_id == ""
  create_vsw = length(var.vswitch_ids) == 0
  zone_id    = var.zone_id != "" ? var.zone_id : data.alicloud_zones.default.zones[0].id
}

resource "alicloud_vpc" "vpc" {
  count      = local.create_vpc ? 1 : 0
  vpc_name   = var.name
  cidr_block = var.vpc_cidr
}

locals {
  vpc_id = local.create_vpc ? alicloud_vpc.vpc[0].id : var.vpc_id
}

resource "alicloud_vswitch" "vsw" {
  count        = local.create_vsw ? 1 : 0
  vswitch_name = var.name
  vpc_id       = local.vpc_id
  cidr_block   = var.vswitch_cidr
  zone_id      = local.zone_id
}

locals {
  vswitch_ids = local.create_vsw ? alicloud_vswitch.vsw[*].id : var.vswitch_ids
}

output "VPC_ID" {
  value = local.vpc_id
}

output "NAME" {
  value = var.name
}
