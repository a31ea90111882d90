# The alibaba provider of the s3-bucket component: an OSS bucket.
# Canonical text: `go run ./cmd/cueinline` inlines what follows the
# ml-platform:inline-text line into the definition as a CUE string (see
# cue/README.md). Edit here, not there.
# ml-platform:inline-text
variable "bucket" {
  type = string
}
variable "acl" {
  type    = string
  default = "private"
}
variable "storage_class" {
  type    = string
  default = "Standard"
}
variable "versioning" {
  type    = bool
  default = false
}
variable "force_destroy" {
  type    = bool
  default = false
}

resource "alicloud_oss_bucket" "bucket" {
  bucket        = var.bucket
  storage_class = var.storage_class
  force_destroy = var.force_destroy

  dynamic "versioning" {
    for_each = var.versioning ? [1] : []
    content {
      status = "Enabled"
    }
  }
}

# The bucket's acl argument is deprecated since provider 1.220.0.
resource "alicloud_oss_bucket_acl" "acl" {
  bucket = alicloud_oss_bucket.bucket.id
  acl    = var.acl
}

output "BUCKET_NAME" {
  value = alicloud_oss_bucket.bucket.id
}

output "BUCKET_ENDPOINT" {
  value = alicloud_oss_bucket.bucket.extranet_endpoint
}

output "BUCKET_INTRANET_ENDPOINT" {
  value = alicloud_oss_bucket.bucket.intranet_endpoint
}
