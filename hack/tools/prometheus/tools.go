//go:build tools

// Package tools pins the Prometheus server built by ../build.sh (without the
// builtinassets tag: the embedded control plane needs its HTTP API and the
// remote-write receiver, not the web UI).
package tools

import _ "github.com/prometheus/prometheus/cmd/prometheus"
