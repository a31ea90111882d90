package testenv

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// stop stops one component, allowing it its grace period.
func (e *Environment) stop(name string) error {
	grace := e.StopGracePeriod
	if limit := mustComponent(name).maxStopGrace; limit > 0 && grace > limit {
		grace = limit
	}
	return e.process(name).stop(grace)
}

func (e *Environment) launch(name string) error {
	c := mustComponent(name)
	if err := e.checkPortsFree(c); err != nil {
		return err
	}
	binary, args := e.command(c)
	var env []string
	if c.env != nil {
		env = c.env(e)
	}
	if err := os.MkdirAll(e.StateDir, 0o755); err != nil {
		return fmt.Errorf("failed to create %s: %w", e.StateDir, err)
	}
	p := e.process(name)
	if err := p.start(args, env); err != nil {
		return err
	}
	e.logf("%s started (pid %d, log %s)", filepath.Base(binary), p.pid(), p.logFile)
	return nil
}

// waitReady polls the component's health endpoint; a process that exits
// meanwhile fails at once, with the end of its log.
func (e *Environment) waitReady(ctx context.Context, name string) error {
	p, url := e.process(name), mustComponent(name).healthURL(e)
	var last error
	err := wait.PollImmediateUntilWithContext(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		if !p.running() {
			return false, p.exitedError()
		}
		last = probe(ctx, url)
		// Checked again: a process that failed to bind may still be exiting.
		return last == nil && p.running(), nil
	})
	if err != nil && p.running() {
		return fmt.Errorf("failed to see %s ready at %s (last probe: %v): %w; last lines of %s:\n%s",
			name, url, last, err, p.logFile, p.logTail(20))
	}
	return err
}

// probeClient checks loopback health endpoints. kube-controller-manager and
// kube-scheduler serve them with self-signed certificates, hence no
// verification; nothing but a status code is read.
var probeClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // loopback health probe
}

func probe(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d: %s", url, resp.StatusCode, body)
	}
	return nil
}
