package testenv

import (
	"fmt"
	"os"
)

const prometheusConfigFile = "prometheus.yml"

// prometheusConfig scrapes nothing: the series tests need arrive through the
// remote-write receiver, at the timestamps the test chooses.
const prometheusConfig = `# Written by pkg/testenv: a Prometheus for tests, fed by remote write.
global:
  evaluation_interval: 15s
`

func (e *Environment) writePrometheusConfig() error {
	if err := os.MkdirAll(e.StateDir, 0o755); err != nil {
		return fmt.Errorf("failed to create %s: %w", e.StateDir, err)
	}
	if err := os.WriteFile(e.path(prometheusConfigFile), []byte(prometheusConfig), 0o644); err != nil {
		return fmt.Errorf("failed to write the Prometheus configuration: %w", err)
	}
	return nil
}

// PrometheusURL is the base URL of the control plane's Prometheus, e.g.
// http://127.0.0.1:16090: its HTTP API under /api/v1 and its remote-write
// receiver at /api/v1/write. Steps under test reach it at this address too
// (vela-core runs on the same host).
func (e *Environment) PrometheusURL() string {
	e.setDefaults()
	return e.url("http", prometheusPortOffset)
}

// StopComponent stops one component (see Components) and leaves it stopped,
// e.g. to test what a step does while Prometheus is down; Restart starts it
// again.
func (e *Environment) StopComponent(name string) error {
	e.setDefaults()
	if _, err := componentByName(name); err != nil {
		return err
	}
	return e.stop(name)
}
