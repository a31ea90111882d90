//go:build tools

// Package tools pins the KubeVela commands built by ../build.sh.
package tools

import (
	_ "github.com/oam-dev/kubevela/cmd/core"
	_ "github.com/oam-dev/kubevela/references/cmd/cli"
)
