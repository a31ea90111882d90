package offline

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	velamulticluster "github.com/oam-dev/kubevela/pkg/multicluster"
)

// A kubeconfig as Alibaba Cloud's cluster credential (kube_config) gives it:
// the cluster's endpoint and CA, and a client certificate.
const ackKubeconfig = `apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://47.96.0.10:6443
    certificate-authority-data: Q0EgY2VydGlmaWNhdGU=
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: "27263948"
  name: 27263948-c9d2
current-context: 27263948-c9d2
users:
- name: "27263948"
  user:
    client-certificate-data: Y2xpZW50IGNlcnRpZmljYXRl
    client-key-data: Y2xpZW50IGtleQ==
`

var tfOutput = regexp.MustCompile(`(?m)^output "([A-Z_]+)"`)

// The connection Secret of each k8s-cluster component of the infra example
// is what `vela cluster join` needs: terraform-controller (v0.8.0,
// controllers/process getTFOutputs) writes every output of the
// Configuration under its own name, and the KUBECONFIG output, written to a
// file, joins the cluster the way `vela cluster join <file> --name <name>`
// does (KubeVela's JoinClusterByKubeConfig).
func TestK8sClusterSecretIsWhatVelaClusterJoinReads(t *testing.T) {
	res := renderFile(t, "examples/infra/app.yaml")
	for _, c := range []struct{ component, cluster string }{{"prod-cluster", "prod"}, {"dev-cluster", "dev"}} {
		t.Run(c.component, func(t *testing.T) {
			cfg := mustFind(t, res, "Configuration", c.component)
			ref, _ := field(t, cfg, "spec", "writeConnectionSecretToRef").(map[string]interface{})
			if ref["name"] != c.component+"-kubeconfig" {
				t.Errorf("the connection Secret is %v, want %s-kubeconfig", ref["name"], c.component)
			}
			hcl, _ := field(t, cfg, "spec", "hcl").(string)
			data := map[string][]byte{}
			for _, m := range tfOutput.FindAllStringSubmatch(hcl, -1) {
				data[m[1]] = []byte("value of " + m[1])
			}
			if _, ok := data["KUBECONFIG"]; !ok {
				t.Fatalf("the Configuration has no KUBECONFIG output (outputs: %v)", dataKeys(data))
			}
			data["KUBECONFIG"] = []byte(ackKubeconfig)
			secret := &corev1.Secret{Data: data}

			// kubectl get secret <component>-kubeconfig -o jsonpath='{.data.KUBECONFIG}' | base64 -d > <cluster>.kubeconfig
			path := filepath.Join(t.TempDir(), c.cluster+".kubeconfig")
			if err := os.WriteFile(path, secret.Data["KUBECONFIG"], 0o600); err != nil {
				t.Fatal(err)
			}
			scheme := runtime.NewScheme()
			if err := clientgoscheme.AddToScheme(scheme); err != nil {
				t.Fatal(err)
			}
			cli := fake.NewClientBuilder().WithScheme(scheme).Build()
			// vela cluster join <cluster>.kubeconfig --name <cluster>
			if _, err := velamulticluster.JoinClusterByKubeConfig(context.Background(), cli, path, c.cluster,
				velamulticluster.JoinClusterCreateNamespaceOption("")); err != nil {
				t.Fatalf("vela cluster join refuses the KUBECONFIG key: %v", err)
			}
			joined := &corev1.Secret{}
			if err := cli.Get(context.Background(), types.NamespacedName{Namespace: velamulticluster.ClusterGatewaySecretNamespace, Name: c.cluster}, joined); err != nil {
				t.Fatal(err)
			}
			assertEqual(t, "joined cluster credential type", joined.Labels["cluster.core.oam.dev/cluster-credential-type"], "X509Certificate")
			assertEqual(t, "joined cluster endpoint", string(joined.Data["endpoint"]), "https://47.96.0.10:6443")
		})
	}
}

func dataKeys(data map[string][]byte) []string {
	var keys []string
	for k := range data {
		keys = append(keys, k)
	}
	return keys
}
