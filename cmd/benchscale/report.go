package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/ml-platform/ml-platform/pkg/testenv"
)

// printTheScaleResults prints one column per run and, with both kinds, the
// ratio serving/webservice.
func printTheScaleResults(results []*scaleResult) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 1, ' ', tabwriter.Debug)
	header := []string{"metric"}
	for _, r := range results {
		header = append(header, fmt.Sprintf("%s N=%d", r.Kind, r.N))
	}
	ratio := len(results) == 2 && results[0].Kind == "serving" && results[1].Kind == "webservice"
	if ratio {
		header = append(header, "ratio serving/webservice")
	}
	fmt.Fprintln(w, strings.Join(header, "\t"))
	row := func(name, format string, get func(*scaleResult) float64, withRatio bool) {
		cells := []string{name}
		for _, r := range results {
			cells = append(cells, fmt.Sprintf(format, get(r)))
		}
		if ratio {
			cell := ""
			if withRatio && get(results[1]) != 0 {
				cell = fmt.Sprintf("%.2f", get(results[0])/get(results[1]))
			}
			cells = append(cells, cell)
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	text := func(name string, get func(*scaleResult) string) {
		cells := []string{name}
		for _, r := range results {
			cells = append(cells, get(r))
		}
		if ratio {
			cells = append(cells, "")
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	text("objects per app", func(r *scaleResult) string { return r.ObjectsPerApp })
	text("date", func(r *scaleResult) string { return r.Date })
	text("load avg before / after", func(r *scaleResult) string { return r.LoadBefore + " / " + r.LoadAfter })
	text("low-load gate / stack quiet before", func(r *scaleResult) string { return fmt.Sprintf("%v / %v", r.LowLoad, r.Quiet) })
	row("creates returned after (s)", "%.1f", func(r *scaleResult) float64 { return r.CreatedAfter }, false)
	row("all running after (s)", "%.1f", func(r *scaleResult) float64 { return r.AllRunningAfter }, true)
	row("last workflow end (s, server)", "%.0f", func(r *scaleResult) float64 { return r.LastEndAfter }, true)
	row("per app p50 (s)", "%.0f", func(r *scaleResult) float64 { return r.AppP50 }, true)
	row("per app p90 (s)", "%.0f", func(r *scaleResult) float64 { return r.AppP90 }, true)
	row("vela-core CPU (CPU-s)", "%.2f", func(r *scaleResult) float64 { return r.VelaCPU }, true)
	row("vela-core CPU per app (CPU-s)", "%.3f", func(r *scaleResult) float64 { return r.VelaCPU / float64(r.N) }, true)
	row("vela-core peak RSS VmHWM (MiB)", "%.1f", func(r *scaleResult) float64 { return r.VelaPeakRSSMiB }, true)
	row("vela-core RSS at end (MiB)", "%.1f", func(r *scaleResult) float64 { return r.VelaRSSMiB }, true)
	row("apiserver requests (delta)", "%.0f", func(r *scaleResult) float64 { return r.APIRequests }, true)
	row("apiserver requests per app", "%.1f", func(r *scaleResult) float64 { return r.APIRequests / float64(r.N) }, true)
	row("vela-core client requests", "%.0f", func(r *scaleResult) float64 { return r.VelaRequests }, true)
	row("vela-core app reconciles", "%.0f", func(r *scaleResult) float64 { return r.VelaReconciles }, true)
	row("kube-apiserver CPU (CPU-s)", "%.2f", func(r *scaleResult) float64 { return r.APIServerCPU }, true)
	for _, c := range []string{testenv.Etcd, testenv.KubeControllerManager, testenv.KubeScheduler, testenv.Kwok, testenv.TrainingOperator} {
		c := c
		row(c+" CPU (CPU-s)", "%.2f", func(r *scaleResult) float64 { return r.CPUByComponent[c] }, true)
	}
	row("whole stack CPU (CPU-s)", "%.2f", func(r *scaleResult) float64 { return r.StackCPU }, true)
	_ = w.Flush()
	for _, r := range results {
		fmt.Printf("\n%s N=%d, apiserver requests by class: %s\n", r.Kind, r.N, strings.Join(r.TopRequests, ", "))
		fmt.Printf("%s N=%d, apiserver time by class: %s\n", r.Kind, r.N, strings.Join(r.TopRequestSeconds, ", "))
	}
}
