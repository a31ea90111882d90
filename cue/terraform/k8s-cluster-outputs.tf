# The tail every flavour of the k8s-cluster component shares: the cluster's
# credential and the outputs. alicloud_cs_kubernetes stands for the flavour's
# cluster resource; k8s-cluster.cue puts the flavour's type in its place
# (alicloud_cs_managed_kubernetes, alicloud_cs_serverless_kubernetes or
# alicloud_cs_edge_kubernetes).
# Canonical text: `go run ./cmd/cueinline` inlines what follows the
# ml-platform:inline-text line into the definition as a CUE string (see
# cue/README.md). Edit here, not there.
# ml-platform:inline-text
data "alicloud_cs_cluster_credential" "auth" {
  cluster_id = alicloud_cs_kubernetes.k8s.id
}

output "CLUSTER_ID" {
  value = alicloud_cs_kubernetes.k8s.id
}

output "KUBECONFIG" {
  value     = data.alicloud_cs_cluster_credential.auth.kube_config
  sensitive = true
}
