package e2e

import (
	"context"
	"encoding/json"
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

	"github.com/ml-platform/ml-platform/pkg/testenv/vela"
)

const kindClusterName = "ml-platform-e2e"

// kindNodeImage is the Kubernetes of the kind cluster: the minor release the
// embedded control plane runs (pkg/testenv.KubernetesVersion is v1.37.2;
// kind publishes no v1.37 image newer than v1.37.0). It is the image kind
// v0.33.0, the sigs.k8s.io/kind module in go.mod, was released with, pinned by
// digest as kind asks. kind releases before v0.32.0 write a kubeadm v1beta3
// config, which kubeadm 1.37 no longer reads.
const kindNodeImage = "kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5"

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
	Expect(provider.Create(kindClusterName, kindcluster.CreateWithNodeImage(kindNodeImage),
		kindcluster.CreateWithWaitForReady(5*time.Minute))).To(Succeed())
	kubeconfig := filepath.Join(GinkgoT().TempDir(), "kind.kubeconfig")
	DeferCleanup(func() {
		if !*skipCleanup {
			Expect(provider.Delete(kindClusterName, kubeconfig)).To(Succeed())
		}
	})
	cfg, err := provider.KubeConfig(kindClusterName, false)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(kubeconfig, []byte(cfg), 0o600)).To(Succeed())

	release, err := vela.Release()
	Expect(err).NotTo(HaveOccurred())
	By("installing vela-core " + release + " from the kubevela module's chart (VELA picks the release)")
	installVelaCore(kubeconfig, release)
	return &testCluster{
		kind:       "kind",
		kubeconfig: kubeconfig,
	}
}

// installVelaCore installs the chart of release with its default values,
// except the image tag: the chart defaults to `latest`.
func installVelaCore(kubeconfig, release string) {
	download := exec.Command("go", "mod", "download", "-json", "github.com/oam-dev/kubevela@"+release)
	download.Dir = os.TempDir() // outside any module: no go.mod or go.sum is touched
	download.Env = append(os.Environ(), "GOWORK=off")
	out, err := download.Output()
	Expect(err).NotTo(HaveOccurred(), string(out))
	var module struct{ Dir string }
	Expect(json.Unmarshal(out, &module)).To(Succeed())
	chartDir := filepath.Join(module.Dir, "charts", "vela-core")
	chart, err := loader.Load(chartDir)
	Expect(err).NotTo(HaveOccurred())
	settings := helmcli.New()
	settings.KubeConfig = kubeconfig
	conf := new(action.Configuration)
	Expect(conf.Init(settings.RESTClientGetter(), "vela-system", "secret", GinkgoWriter.Printf)).To(Succeed())
	install := action.NewInstall(conf)
	install.ReleaseName, install.Namespace = "kubevela", "vela-system"
	install.CreateNamespace, install.Wait, install.Timeout = true, true, 5*time.Minute
	_, err = install.Run(chart, map[string]interface{}{"image": map[string]interface{}{"tag": release}})
	Expect(err).NotTo(HaveOccurred())
}

func firstLine(s, fallback string) string {
	if s = strings.TrimSpace(s); s == "" {
		return fallback
	}
	return strings.SplitN(s, "\n", 2)[0]
}
