package render

import (
	"context"

	"cuelang.org/go/cue"
	"github.com/kubevela/pkg/cue/cuex"

	velacue "github.com/oam-dev/kubevela/pkg/cue"
	velacuex "github.com/oam-dev/kubevela/pkg/cue/cuex"
	"github.com/oam-dev/kubevela/pkg/workflow/providers"

	"github.com/ml-platform/ml-platform/pkg/render/cueenv"
)

// CUEExperiment is the CUE_EXPERIMENT this package evaluates CUE with, as
// vela-core v1.11's controller does: evalv3=0,keepvalidators=0, set by
// package cueenv before CUE reads it, unless the caller set it.
const CUEExperiment = cueenv.Experiment

func init() {
	// The compilers would otherwise list cuex Package objects of a cluster
	// the first time they are used; there is no cluster here.
	cuex.EnableExternalPackageForDefaultCompiler = false
	cuex.EnableExternalPackageWatchForDefaultCompiler = false
}

// Compiler returns the CUE compiler vela-core v1.11 evaluates a template of a
// definition kind with: component and trait templates with the workload
// compiler (vela/kube, vela/http, vela/config, ...), workflow steps and
// everything else with the workflow compiler (vela/op and the other vela/*
// provider packages), which `vela def vet` also uses.
func Compiler(kind string) *cuex.Compiler {
	switch kind {
	case KindComponent, KindTrait:
		return velacuex.WorkloadCompiler.Get()
	default:
		return providers.DefaultCompiler.Get()
	}
}

// CompileTemplate compiles a definition template with KubeVela's base
// template (context, parameter) and extra CUE appended, without calling any
// provider, as vela-core's definition loader does.
func CompileTemplate(kind, template string, extra ...string) (cue.Value, error) {
	src := template + "\n" + velacue.BaseTemplate
	for _, e := range extra {
		src += "\n" + e
	}
	return Compiler(kind).CompileStringWithOptions(context.Background(), src, cuex.DisableResolveProviderFunctions{})
}
