# The aws provider of the s3-bucket component: an S3 bucket.
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
variable "versioning" {
  type    = bool
  default = false
}
variable "force_destroy" {
  type    = bool
  default = false
}

# New S3 buckets have ACLs disabled (bucket owner enforced): private only.
resource "aws_s3_bucket" "bucket" {
  bucket        = var.bucket
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_versioning" "versioning" {
  count  = var.versioning ? 1 : 0
  bucket = aws_s3_bucket.bucket.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "private" {
  bucket                  = aws_s3_bucket.bucket.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

output "BUCKET_NAME" {
  value = aws_s3_bucket.bucket.id
}

output "BUCKET_ENDPOINT" {
  value = aws_s3_bucket.bucket.bucket_regional_domain_name
}
