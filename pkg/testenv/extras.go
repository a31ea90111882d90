package testenv

import (
	"context"
	"fmt"

	"k8s.io/client-go/rest"
)

// A CRDSource names CRD manifests inside a Go module, found in the module
// cache by CRDsFromModule.
type CRDSource struct {
	Name    string // what the CRDs are for
	Module  string
	Version string
	Glob    string // relative to the module root
}

// Files downloads the module if needed and returns the matching files.
func (s CRDSource) Files() ([]string, error) {
	return CRDsFromModule(s.Module, s.Version, s.Glob)
}

// Extra CRDs for test clusters: APIs that ml-platform's definitions render
// but whose controllers the local control plane does not run. The TFJob CRD
// is not here on purpose: the ml-platform addon installs it.
var (
	// GatewayAPI serves gateway.networking.k8s.io/v1 Gateway, GatewayClass,
	// HTTPRoute and GRPCRoute (standard channel).
	GatewayAPI = CRDSource{"Gateway API", "sigs.k8s.io/gateway-api", "v1.2.1", "config/crd/standard/*.yaml"}
	// PodMonitor serves monitoring.coreos.com/v1 PodMonitor.
	PodMonitor = CRDSource{"prometheus-operator PodMonitor", "github.com/prometheus-operator/prometheus-operator", "v0.85.0",
		"example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml"}
	// TerraformController serves terraform.core.oam.dev Configuration (v1beta1,
	// v1beta2) and Provider (v1beta1).
	TerraformController = CRDSource{"terraform-controller", "github.com/oam-dev/terraform-controller", "v0.8.0", "chart/crds/*.yaml"}
	// FluxHelmController serves helm.toolkit.fluxcd.io/v2beta1 HelmRelease, the
	// version the fluxcd addon's `helm` component renders.
	FluxHelmController = CRDSource{"flux helm-controller", "github.com/fluxcd/helm-controller", "v0.36.0", "config/crd/bases/*.yaml"}
	// FluxSourceController serves source.toolkit.fluxcd.io HelmRepository,
	// HelmChart, GitRepository (v1beta2 and v1), Bucket and OCIRepository (v1beta2).
	FluxSourceController = CRDSource{"flux source-controller", "github.com/fluxcd/source-controller", "v1.3.0", "config/crd/bases/*.yaml"}
)

// Extras lists every extra CRD source.
var Extras = []CRDSource{GatewayAPI, PodMonitor, TerraformController, FluxHelmController, FluxSourceController}

// InstallExtras installs the CRDs of sources (all of Extras when none are given).
func InstallExtras(ctx context.Context, cfg *rest.Config, sources ...CRDSource) error {
	if len(sources) == 0 {
		sources = Extras
	}
	for _, s := range sources {
		files, err := s.Files()
		if err != nil {
			return err
		}
		if err := InstallCRDs(ctx, cfg, files...); err != nil {
			return fmt.Errorf("failed to install the %s CRDs: %w", s.Name, err)
		}
	}
	return nil
}
