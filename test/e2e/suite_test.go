// Package e2e runs the addon against a real KubeVela control plane: it
// enables the addon with the vela CLI, applies the examples with `vela up`,
// follows their workflows, resumes the evaluation gates, and checks the
// objects and statuses that land.
//
// The cluster comes from E2E_CLUSTER:
//
//	""/auto   $KUBECONFIG if set, else the embedded control plane (pkg/testenv)
//	embedded  a control plane of local processes, started and stopped by the suite
//	kind      a kind cluster created through sigs.k8s.io/kind (needs Docker; skipped without it)
//	existing  $KUBECONFIG, which must be set
package e2e

import (
	"flag"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

var (
	// skipCleanup keeps namespaces, the addon and the embedded control plane
	// after the run, for debugging.
	skipCleanup = flag.Bool("e2e.skip-cleanup", false, "keep test namespaces, the addon and the cluster after the run")
	// artifacts is where failing specs dump their namespace's objects.
	artifacts = flag.String("e2e.artifacts", "", "folder for object dumps of failed specs (default: a temp dir)")
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "ml-platform e2e")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	// controller-runtime's clients log through this (else it prints a
	// stack trace saying that no logger was set).
	ctrllog.SetLogger(GinkgoLogr)
	cluster = setUpCluster(ctx)
	enableAddon(ctx)
}, NodeTimeout(clusterStartTimeout))

var _ = AfterSuite(func(ctx SpecContext) {
	if cluster == nil {
		return
	}
	if !*skipCleanup {
		disableAddonKeepsCRDs(ctx)
	}
}, NodeTimeout(stepTimeout))
