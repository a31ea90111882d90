package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	helmcli "helm.sh/helm/v3/pkg/cli"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"
)

const kindClusterName = "ml-platform-e2e"

// createKindCluster creates a kind cluster and installs vela-core into it
// from the kubevela module's own Helm chart. Without a running Docker engine
// it skips the whole suite with one line saying so.
func createKindCluster(ctx context.Context) *testCluster {
	if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		Skip("E2E_CLUSTER=kind skipped: Docker is not available on this machine (docker info: " +
			strings.TrimSpace(firstLine(string(out), err.Error())) + ")")
	}
	provider := kindcluster.NewProvider(kindcluster.ProviderWithDocker())
	By("creating the kind cluster " + kindClusterName)
	Expect(provider.Create(kindClusterName, kindcluster.CreateWithWaitForReady(5*time.Minute))).To(Succeed())
	kubeconfig := filepath.Join(GinkgoT().TempDir(), "kind.kubeconfig")
	DeferCleanup(func() {
		if !*skipCleanup {
			Expect(provider.Delete(kindClusterName, kubeconfig)).To(Succeed())
		}
	})
	cfg, err := provider.KubeConfig(kindClusterName, false)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(kubeconfig, []byte(cfg), 0o600)).To(Succeed())

	By("installing vela-core " + "v1.9.13" + " from the kubevela module's chart")
	installVelaCore(kubeconfig)
	return &testCluster{
		kind:       "kind",
		kubeconfig: kubeconfig,
	}
}

func installVelaCore(kubeconfig string) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	Expect(err).NotTo(HaveOccurred())
	chartDir := filepath.Join(strings.TrimSpace(string(out)), "github.com", "oam-dev", "kubevela@v1.9.13", "charts", "vela-core")
	chart, err := loader.Load(chartDir)
	Expect(err).NotTo(HaveOccurred())
	settings := helmcli.New()
	settings.KubeConfig = kubeconfig
	conf := new(action.Configuration)
	Expect(conf.Init(settings.RESTClientGetter(), "vela-system", "secret", GinkgoWriter.Printf)).To(Succeed())
	install := action.NewInstall(conf)
	install.ReleaseName, install.Namespace = "kubevela", "vela-system"
	install.CreateNamespace, install.Wait, install.Timeout = true, true, 5*time.Minute
	_, err = install.Run(chart, map[string]interface{}{})
	Expect(err).NotTo(HaveOccurred())
}

func firstLine(s, fallback string) string {
	if s = strings.TrimSpace(s); s == "" {
		return fallback
	}
	return strings.SplitN(s, "\n", 2)[0]
}
