package testenv

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// What `vela cluster join` writes (KubeVela's
// pkg/multicluster/cluster_management.go, createOrUpdateClusterSecret), and
// what cluster-gateway reads back as a ClusterGateway.
const (
	// ClusterCredentialTypeLabel is cluster-gateway's label
	// (clustercommon.LabelKeyClusterCredentialType) on a cluster Secret.
	ClusterCredentialTypeLabel = "cluster.core.oam.dev/cluster-credential-type"
	// credentialTypeServiceAccountToken is the credential type of a
	// kubeconfig that authenticates with a bearer token.
	credentialTypeServiceAccountToken = "ServiceAccountToken"
)

// The APIService through which the hub serves cluster-gateway's API group,
// and the Service it names, as the vela-core chart creates them
// (<release>-cluster-gateway-service with the release name kubevela).
const (
	clusterGatewayAPIService = "v1alpha1.cluster.core.oam.dev"
	clusterGatewayService    = "kubevela-cluster-gateway-service"
)

// aggregationArgs are the hub apiserver's flags for aggregated apiservers
// (the front proxy), only with the managed clusters: the default stack's
// apiserver keeps its flags.
func (e *Environment) aggregationArgs() []string {
	if !e.multiCluster() {
		return nil
	}
	return []string{
		"--requestheader-client-ca-file=" + e.path(frontProxyCACertFile),
		"--requestheader-allowed-names=" + frontProxyClientName,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + e.path(frontProxyClientCertFile),
		"--proxy-client-key-file=" + e.path(frontProxyClientKeyFile),
	}
}

// ensureMultiClusterPKI writes the front proxy's CA and client certificate
// and each managed cluster's kubeconfig, unless they exist.
func (e *Environment) ensureMultiClusterPKI() error {
	if !fileExists(e.path(frontProxyClientKeyFile)) {
		ca, caKey, err := newCertificate(nil, nil, "ml-platform-front-proxy-ca", nil)
		if err != nil {
			return err
		}
		client, clientKey, err := newCertificateFor(ca, caKey, frontProxyClientName, nil, x509.ExtKeyUsageClientAuth)
		if err != nil {
			return err
		}
		for name, data := range map[string][]byte{
			frontProxyCACertFile:     pemBlock("CERTIFICATE", ca.Raw),
			frontProxyClientCertFile: pemBlock("CERTIFICATE", client.Raw),
			frontProxyClientKeyFile:  mustPEMKey(clientKey),
		} {
			if err := os.WriteFile(e.path(name), data, 0o600); err != nil {
				return fmt.Errorf("failed to write %s: %w", name, err)
			}
		}
	}
	hub, err := clientcmd.LoadFromFile(e.Kubeconfig())
	if err != nil {
		return fmt.Errorf("failed to load %s: %w", e.Kubeconfig(), err)
	}
	for _, cluster := range ManagedClusters {
		cfg := hub.DeepCopy()
		cfg.Clusters[contextName].Server = e.ManagedClusterURL(cluster)
		if err := clientcmd.WriteToFile(*cfg, e.ManagedKubeconfig(cluster)); err != nil {
			return fmt.Errorf("failed to write the kubeconfig of cluster %s: %w", cluster, err)
		}
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// clusterSecret is the Secret `vela cluster join <kubeconfig> --name <name>`
// writes for a kubeconfig that authenticates with a token: Opaque, named
// after the cluster in vela-system, labelled with the credential type, data
// endpoint, ca.crt and token.
func clusterSecret(name, endpoint string, caPEM []byte, token string) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: velaSystem,
			Labels: map[string]string{ClusterCredentialTypeLabel: credentialTypeServiceAccountToken},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			"endpoint": []byte(endpoint),
			"ca.crt":   caPEM,
			"token":    []byte(token),
		},
	}
}

// managedClusterSecret is the join Secret of one managed cluster, from its
// kubeconfig.
func (e *Environment) managedClusterSecret(cluster string) (*corev1.Secret, error) {
	cfg, err := clientcmd.LoadFromFile(e.ManagedKubeconfig(cluster))
	if err != nil {
		return nil, fmt.Errorf("failed to load the kubeconfig of cluster %s: %w", cluster, err)
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if ctx == nil || cfg.Clusters[ctx.Cluster] == nil || cfg.AuthInfos[ctx.AuthInfo] == nil {
		return nil, fmt.Errorf("the kubeconfig of cluster %s has no current context", cluster)
	}
	c, user := cfg.Clusters[ctx.Cluster], cfg.AuthInfos[ctx.AuthInfo]
	return clusterSecret(cluster, c.Server, c.CertificateAuthorityData, user.Token), nil
}

// clusterGatewayObjects are the hub objects that make cluster-gateway's API
// group served: a Service in vela-system (the namespace vela-core takes the
// cluster Secrets from) that resolves to 127.0.0.1 without a pod network (an
// ExternalName, which the aggregator proxies to <externalName>:<port>), and
// the chart's APIService.
func (e *Environment) clusterGatewayObjects() (*corev1.Service, *unstructured.Unstructured) {
	port := int32(e.BasePort + clusterGatewayPortOffset)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: clusterGatewayService, Namespace: velaSystem},
		Spec: corev1.ServiceSpec{
			Type:         corev1.ServiceTypeExternalName,
			ExternalName: "localhost",
			Ports:        []corev1.ServicePort{{Name: "default", Protocol: corev1.ProtocolTCP, Port: port}},
		},
	}
	apiService := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "apiregistration.k8s.io/v1",
		"kind":       "APIService",
		"metadata": map[string]interface{}{
			"name":   clusterGatewayAPIService,
			"labels": map[string]interface{}{"api": "cluster-extension-apiserver", "apiserver": "true"},
		},
		"spec": map[string]interface{}{
			"group":                 "cluster.core.oam.dev",
			"version":               "v1alpha1",
			"groupPriorityMinimum":  int64(2000),
			"versionPriority":       int64(10),
			"insecureSkipTLSVerify": true,
			"service": map[string]interface{}{
				"name": clusterGatewayService, "namespace": velaSystem, "port": int64(port),
			},
		},
	}}
	return svc, apiService
}

var apiServiceResource = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// joinManagedClusters creates the gateway's Service and APIService and each
// managed cluster's join Secret on the hub (an existing object is kept).
func (e *Environment) joinManagedClusters(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: velaSystem}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create namespace %s: %w", velaSystem, err)
	}
	svc, apiService := e.clusterGatewayObjects()
	if _, err := cs.CoreV1().Services(velaSystem).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create Service %s/%s: %w", velaSystem, svc.Name, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create a client: %w", err)
	}
	if _, err := dyn.Resource(apiServiceResource).Create(ctx, apiService, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create APIService %s: %w", clusterGatewayAPIService, err)
	}
	for _, cluster := range ManagedClusters {
		secret, err := e.managedClusterSecret(cluster)
		if err != nil {
			return err
		}
		if _, err := cs.CoreV1().Secrets(velaSystem).Create(ctx, secret, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("failed to join cluster %s: %w", cluster, err)
		}
	}
	return nil
}

// waitForManagedClusters is the multi-cluster readiness gate: each managed
// cluster answers through the hub's aggregated API and cluster-gateway
// (/apis/cluster.core.oam.dev/v1alpha1/clustergateways/<cluster>/proxy/readyz),
// the path `vela` takes; vela-core goes to cluster-gateway directly.
func (e *Environment) waitForManagedClusters(ctx context.Context, cs kubernetes.Interface) error {
	for _, cluster := range ManagedClusters {
		path := "/apis/cluster.core.oam.dev/v1alpha1/clustergateways/" + cluster + "/proxy/readyz"
		var last error
		err := wait.PollImmediateUntilWithContext(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
			_, last = cs.CoreV1().RESTClient().Get().AbsPath(path).DoRaw(ctx)
			return last == nil, nil
		})
		if err != nil {
			return fmt.Errorf("failed to reach cluster %s through cluster-gateway (%s): %v: %w", cluster, path, last, err)
		}
	}
	e.logf("clusters %v reachable through cluster-gateway", ManagedClusters)
	return nil
}
