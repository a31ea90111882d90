package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ml-platform/ml-platform/pkg/testenv"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
const clockTicks = 100

// snapshot is what the benchmark reads before and after a measurement.
type snapshot struct {
	At                 time.Time
	CPU                map[string]float64 // utime+stime in seconds, by component
	VelaPeakRSS        int64              // VmHWM of vela-core, bytes
	VelaRSS            int64              // VmRSS of vela-core, bytes
	APIServerRequests  float64            // sum of apiserver_request_total
	RequestsByClass    map[string]float64 // apiserver_request_total by "VERB resource[/subresource]"
	SecondsByClass     map[string]float64 // apiserver_request_duration_seconds_sum, same classes
	VelaClientRequests float64            // sum of vela-core's rest_client_requests_total
	VelaReconciles     float64            // controller_runtime_reconcile_total{controller="application"}
	Running            float64            // application_phase_number{phase="running"}
	Load               string             // /proc/loadavg
}

// takeASnapshot reads /proc for every component and the metrics of the
// apiserver (with the kubeconfig's admin credentials) and of vela-core.
func takeASnapshot(ctx context.Context, s *stack) (snapshot, error) {
	snap := snapshot{At: time.Now(), CPU: cpuSecondsOfEveryComponent(s.env), Load: loadAverage()}
	if pid, err := pidOf(s.env, testenv.VelaCore); err == nil {
		snap.VelaPeakRSS = memoryOf(pid, "VmHWM")
		snap.VelaRSS = memoryOf(pid, "VmRSS")
	}
	api, err := s.kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return snap, fmt.Errorf("failed to read the apiserver metrics: %w", err)
	}
	snap.APIServerRequests = sumOf(string(api), "apiserver_request_total", "")
	snap.RequestsByClass = byClass(string(api), "apiserver_request_total")
	snap.SecondsByClass = byClass(string(api), "apiserver_request_duration_seconds_sum")
	velaMetrics, err := velaCoreMetrics(ctx, s)
	if err != nil {
		return snap, err
	}
	snap.VelaClientRequests = sumOf(velaMetrics, "rest_client_requests_total", "")
	snap.VelaReconciles = sumOf(velaMetrics, "controller_runtime_reconcile_total", `controller="application"`)
	snap.Running = sumOf(velaMetrics, "application_phase_number", `phase="running"`)
	return snap, nil
}

// velaCoreMetrics scrapes vela-core's metrics address (BasePort+80).
func velaCoreMetrics(ctx context.Context, s *stack) (string, error) {
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", s.env.BasePort+80)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("failed to read the vela-core metrics: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// sumOf adds up the samples of a metric in Prometheus text format, keeping
// only those whose label set contains filter (e.g. `phase="running"`).
func sumOf(text, metric, filter string) float64 {
	var sum float64
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, metric+"{") && !strings.HasPrefix(line, metric+" ") {
			continue
		}
		if filter != "" && !strings.Contains(line, filter) {
			continue
		}
		fields := strings.Fields(line[strings.LastIndex(line, "}")+1:])
		if len(fields) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(fields[0], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// byClass adds up an apiserver metric by request class, "VERB
// resource[/subresource]" (e.g. "LIST pods").
func byClass(text, metric string) map[string]float64 {
	out := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, metric+"{") {
			continue
		}
		end := strings.LastIndex(line, "}")
		labels := map[string]string{}
		for _, kv := range strings.Split(line[len(metric)+1:end], ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				labels[k] = strings.Trim(v, `"`)
			}
		}
		if labels["verb"] == "WATCH" || labels["verb"] == "CONNECT" {
			continue // long-running: their duration is how long they stayed open
		}
		class := labels["verb"] + " " + labels["resource"]
		if labels["subresource"] != "" {
			class += "/" + labels["subresource"]
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64); err == nil {
			out[class] += v
		}
	}
	return out
}

// topDeltas returns the n classes whose value grew most between two
// snapshots, largest first, as "class: delta".
func topDeltas(before, after map[string]float64, n int, format string) []string {
	type kv struct {
		k string
		v float64
	}
	var all []kv
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			all = append(all, kv{k, d})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
	var out []string
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, fmt.Sprintf("%s: "+format, all[i].k, all[i].v))
	}
	return out
}

// cpuSecondsOfEveryComponent reads utime+stime (fields 14 and 15 of
// /proc/<pid>/stat) of every running component.
func cpuSecondsOfEveryComponent(env *testenv.Environment) map[string]float64 {
	out := map[string]float64{}
	for _, c := range testenv.Components {
		pid, err := pidOf(env, c)
		if err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The command name (field 2) may hold spaces: count from its ")".
		fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		if len(fields) < 13 {
			continue
		}
		utime, _ := strconv.ParseFloat(fields[11], 64)
		stime, _ := strconv.ParseFloat(fields[12], 64)
		out[c] = (utime + stime) / clockTicks
	}
	return out
}

// memoryOf reads a Vm* line (in kB) of /proc/<pid>/status, in bytes.
func memoryOf(pid int, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field+":") {
			fields := strings.Fields(line)
			if len(fields) >= 2 {
				kb, _ := strconv.ParseInt(fields[1], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(data))[:3], " ")
}

// waitForALowLoad waits until the 1-minute load average is below max, for
// at most limit, and says whether it was.
func waitForALowLoad(ctx context.Context, max float64, limit time.Duration) bool {
	if max <= 0 {
		return true
	}
	began := time.Now()
	for {
		load, _ := strconv.ParseFloat(strings.Fields(loadAverage() + " x")[0], 64)
		if load < max {
			return true
		}
		if time.Since(began) > limit {
			say("load average still %s after %s: measuring anyway", loadAverage(), limit)
			return false
		}
		say("load average %s, waiting until it is below %.1f", loadAverage(), max)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(30 * time.Second):
		}
	}
}
