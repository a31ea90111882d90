// Package cueenv sets CUE_EXPERIMENT for the process to what vela-core
// v1.11's Helm chart sets for the controller (featureGates.enableCueExpVariable,
// on by default): evalv3=0,keepvalidators=0, the evaluator of CUE v0.13 and
// validators simplified into concrete values, a bridge for definitions
// written for older CUE. Definitions evaluate here as in vela-core only with
// the same setting.
//
// CUE reads CUE_EXPERIMENT once, when the first CUE runtime is made, and
// some of KubeVela's packages make one in their package init (the cuex
// provider packages compile their CUE). This package imports nothing that
// uses CUE, so Go initializes it before any of them (packages are
// initialized in import-path order as soon as their own imports are), and
// its init sets the variable in time. A value set by the caller is kept.
package cueenv

import "os"

// Experiment is the CUE_EXPERIMENT of vela-core v1.11's chart.
const Experiment = "evalv3=0,keepvalidators=0"

func init() {
	if _, set := os.LookupEnv("CUE_EXPERIMENT"); !set {
		_ = os.Setenv("CUE_EXPERIMENT", Experiment)
	}
}
