package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Files under StateDir.
const (
	caCertFile                  = "pki/ca.crt"
	caKeyFile                   = "pki/ca.key"
	apiServerCertFile           = "pki/apiserver.crt"
	apiServerKeyFile            = "pki/apiserver.key"
	serviceAccountKeyFile       = "pki/sa.key"
	serviceAccountPublicKeyFile = "pki/sa.pub"
	tokenFile                   = "pki/tokens.csv"
	kubeconfigFile              = "kubeconfig"
	// The front proxy: the hub apiserver's client certificate towards
	// aggregated apiservers (cluster-gateway), written only with Clusters = 3.
	frontProxyCACertFile     = "pki/front-proxy-ca.crt"
	frontProxyClientCertFile = "pki/front-proxy-client.crt"
	frontProxyClientKeyFile  = "pki/front-proxy-client.key"
	frontProxyClientName     = "front-proxy-client"
	adminUser                = "admin"
	contextName              = "ml-platform"
)

// ensurePKI creates the CA, the apiserver serving certificate, the service
// account key pair, the admin token and the kubeconfig, unless they all exist.
// Keys are ECDSA P-256, made with Go's crypto (no openssl needed).
func (e *Environment) ensurePKI() error {
	if e.pkiComplete() {
		return nil
	}
	if err := os.MkdirAll(e.path("pki"), 0o700); err != nil {
		return fmt.Errorf("failed to create the pki folder: %w", err)
	}
	ca, caKey, err := newCertificate(nil, nil, "ml-platform-ca", nil)
	if err != nil {
		return err
	}
	sans := []string{"127.0.0.1", "10.96.0.1", "localhost", "kubernetes", "kubernetes.default",
		"kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	serving, servingKey, err := newCertificate(ca, caKey, "kube-apiserver", sans)
	if err != nil {
		return err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("failed to generate the service account key: %w", err)
	}
	token, err := randomToken()
	if err != nil {
		return err
	}
	files := map[string][]byte{
		caCertFile:                  pemBlock("CERTIFICATE", ca.Raw),
		caKeyFile:                   mustPEMKey(caKey),
		apiServerCertFile:           pemBlock("CERTIFICATE", serving.Raw),
		apiServerKeyFile:            mustPEMKey(servingKey),
		serviceAccountKeyFile:       mustPEMKey(saKey),
		serviceAccountPublicKeyFile: mustPEMPublicKey(&saKey.PublicKey),
		tokenFile:                   []byte(fmt.Sprintf("%s,%s,%s-uid,\"system:masters\"\n", token, adminUser, adminUser)),
	}
	for name, data := range files {
		if err := os.WriteFile(e.path(name), data, 0o600); err != nil {
			return fmt.Errorf("failed to write %s: %w", name, err)
		}
	}
	return e.writeKubeconfig(files[caCertFile], token)
}

func (e *Environment) pkiComplete() bool {
	for _, name := range []string{caCertFile, caKeyFile, apiServerCertFile, apiServerKeyFile,
		serviceAccountKeyFile, serviceAccountPublicKeyFile, tokenFile, kubeconfigFile} {
		if _, err := os.Stat(e.path(name)); err != nil {
			return false
		}
	}
	return true
}

// writeKubeconfig writes a self-contained admin kubeconfig (CA inline, bearer token).
func (e *Environment) writeKubeconfig(caPEM []byte, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[contextName] = &clientcmdapi.Cluster{
		Server:                   e.url("https", apiServerPortOffset),
		CertificateAuthorityData: caPEM,
	}
	cfg.AuthInfos[adminUser] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: adminUser}
	cfg.CurrentContext = contextName
	if err := clientcmd.WriteToFile(*cfg, e.Kubeconfig()); err != nil {
		return fmt.Errorf("failed to write the kubeconfig: %w", err)
	}
	return nil
}

// RESTConfig returns an admin client configuration for the control plane in
// StateDir, with a high client-side rate limit for tests.
func (e *Environment) RESTConfig() (*rest.Config, error) {
	e.setDefaults()
	cfg, err := clientcmd.BuildConfigFromFlags("", e.Kubeconfig())
	if err != nil {
		return nil, fmt.Errorf("failed to load %s: %w", e.Kubeconfig(), err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	return cfg, nil
}

// newCertificate returns a certificate for name signed by parent (self-signed
// CA when parent is nil) and its new key.
func newCertificate(parent *x509.Certificate, parentKey *ecdsa.PrivateKey, name string, sans []string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	return newCertificateFor(parent, parentKey, name, sans, x509.ExtKeyUsageServerAuth)
}

// newCertificateFor is newCertificate with the extended key usage of a leaf
// certificate (server or client authentication).
func newCertificateFor(parent *x509.Certificate, parentKey *ecdsa.PrivateKey, name string, sans []string, usage x509.ExtKeyUsage) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to generate the key of %s: %w", name, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, fmt.Errorf("failed to generate a serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		parent, parentKey = tmpl, key
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
	}
	for _, san := range sans {
		if ip := net.ParseIP(san); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, san)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to sign the certificate of %s: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to parse the certificate of %s: %w", name, err)
	}
	return cert, key, nil
}

func pemBlock(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}

func mustPEMKey(key *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		panic(err) // only fails for unsupported curves
	}
	return pemBlock("EC PRIVATE KEY", der)
}

func mustPEMPublicKey(key *ecdsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		panic(err) // only fails for unsupported key types
	}
	return pemBlock("PUBLIC KEY", der)
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("failed to generate the admin token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
