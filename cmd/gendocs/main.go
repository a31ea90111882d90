// Command gendocs regenerates the definitions reference, docs/reference.md,
// from the CUE definitions and parameter.cue (parameter tables included):
//
//	go run ./cmd/gendocs
package main

import (
	"fmt"
	"os"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"

	"github.com/ml-platform/ml-platform/pkg/docgen"
	"github.com/ml-platform/ml-platform/pkg/render"
)

func main() {
	klog.SetLogger(logr.Discard())
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run() error {
	defs, err := render.LoadDefinitionDir("definitions")
	if err != nil {
		return err
	}
	param, err := os.ReadFile("parameter.cue")
	if err != nil {
		return err
	}
	ref, err := docgen.Reference(string(param), defs)
	if err != nil {
		return err
	}
	return os.WriteFile(docgen.File, []byte(ref), 0o644)
}
