//go:build tools

// Package tools pins the cluster-gateway command built by ../build.sh.
package tools

import _ "github.com/oam-dev/cluster-gateway/cmd/apiserver"
