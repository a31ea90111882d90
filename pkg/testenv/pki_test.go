package testenv

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strings"
	"testing"
)

func TestEnsurePKIWritesAServingCertificateAndAKubeconfig(t *testing.T) {
	e := &Environment{StateDir: t.TempDir(), BasePort: 16000}
	if err := e.ensurePKI(); err != nil {
		t.Fatal(err)
	}
	ca := parseCertificate(t, e.path(caCertFile))
	serving := parseCertificate(t, e.path(apiServerCertFile))
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, name := range []string{"127.0.0.1", "kubernetes.default.svc", "10.96.0.1"} {
		if _, err := serving.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("the serving certificate does not verify for %s: %v", name, err)
		}
	}

	cfg, err := e.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://127.0.0.1:16443" || cfg.BearerToken == "" || len(cfg.CAData) == 0 {
		t.Errorf("rest config = host %s, token set %t, CA set %t", cfg.Host, cfg.BearerToken != "", len(cfg.CAData) > 0)
	}
	tokens, _ := os.ReadFile(e.path(tokenFile))
	if !strings.HasPrefix(string(tokens), cfg.BearerToken+",admin,") || !strings.Contains(string(tokens), `"system:masters"`) {
		t.Errorf("token file %q does not grant the kubeconfig's token system:masters", tokens)
	}
}

func TestEnsurePKIKeepsExistingFiles(t *testing.T) {
	e := &Environment{StateDir: t.TempDir(), BasePort: 16000}
	if err := e.ensurePKI(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(e.Kubeconfig())
	if err := e.ensurePKI(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(e.Kubeconfig())
	if !bytes.Equal(before, after) {
		t.Error("a second ensurePKI replaced the kubeconfig; a running cluster would lose its credentials")
	}
}

func parseCertificate(t *testing.T, file string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s holds no PEM block", file)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
