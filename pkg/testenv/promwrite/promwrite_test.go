package promwrite

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"google.golang.org/protobuf/encoding/protowire"
)

func TestEncodeIsAWriteRequest(t *testing.T) {
	at := time.UnixMilli(1733570000123)
	data := Encode([]Series{{Name: "up", Labels: map[string]string{"job": "a"}, Samples: []Sample{{at, 1.5}}}})
	// WriteRequest{timeseries: [TimeSeries{labels: [__name__=up, job=a], samples: [{1.5, ts}]}]}
	num, typ, n := protowire.ConsumeTag(data)
	if num != 1 || typ != protowire.BytesType {
		t.Fatalf("field %d type %d, want timeseries (1, bytes)", num, typ)
	}
	ts, m := protowire.ConsumeBytes(data[n:])
	if n+m != len(data) {
		t.Fatalf("%d bytes after the one series", len(data)-n-m)
	}
	var labels []string
	var samples int
	for len(ts) > 0 {
		num, _, n := protowire.ConsumeTag(ts)
		b, m := protowire.ConsumeBytes(ts[n:])
		ts = ts[n+m:]
		switch num {
		case 1:
			_, _, k := protowire.ConsumeTag(b)
			name, k2 := protowire.ConsumeString(b[k:])
			_, _, k3 := protowire.ConsumeTag(b[k+k2:])
			value, _ := protowire.ConsumeString(b[k+k2+k3:])
			labels = append(labels, name+"="+value)
		case 2:
			samples++
			_, _, k := protowire.ConsumeTag(b)
			bits, k2 := protowire.ConsumeFixed64(b[k:])
			_, _, k3 := protowire.ConsumeTag(b[k+k2:])
			ms, _ := protowire.ConsumeVarint(b[k+k2+k3:])
			if math.Float64frombits(bits) != 1.5 || int64(ms) != at.UnixMilli() {
				t.Errorf("sample %v at %d, want 1.5 at %d", math.Float64frombits(bits), ms, at.UnixMilli())
			}
		}
	}
	if fmt.Sprint(labels) != "[__name__=up job=a]" || samples != 1 {
		t.Errorf("labels %v (sorted, __name__ first) and %d samples, want [__name__=up job=a] and 1", labels, samples)
	}
}

func TestLatencyBucketsAreTFServings(t *testing.T) {
	b := LatencyBuckets()
	if len(b) != 33 || b[0] != 10 || math.Abs(b[1]-18) > 1e-9 || math.Abs(b[32]/b[31]-1.8) > 1e-9 {
		t.Errorf("buckets %v, want 33 of 10·1.8^i", b)
	}
}

// TestWriteAndQueryARealPrometheus runs the Prometheus binary that
// hack/tools/build.sh builds, writes a canary's traffic through remote
// write and reads the error ratio and p99 latency back with PromQL.
func TestWriteAndQueryARealPrometheus(t *testing.T) {
	base := startPrometheus(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	now := time.Now().Truncate(time.Second)
	pod := map[string]string{"namespace": "ml-prod", "pod": "serving-canary-7d9f8-abcde"}
	traffic := Traffic{Labels: pod, Model: "mymodel", From: now.Add(-2 * time.Minute), To: now,
		RequestsPerSecond: 10, ErrorRatio: 0.071, Latency: 600 * time.Millisecond}
	if err := Write(ctx, base, traffic.Series()); err != nil {
		t.Fatal(err)
	}
	sel := `namespace="ml-prod",pod=~"serving-canary-[a-z0-9]+-[a-z0-9]+"`
	for _, c := range []struct {
		query    string
		min, max float64
	}{
		// increase() extrapolates to the window's edges: about 10/s over 60 s
		{`sum(increase(:tensorflow:serving:request_count{` + sel + `}[60s]))`, 550, 650},
		{`(sum(increase(:tensorflow:serving:request_count{` + sel + `,status!="OK"}[60s])) or vector(0)) / sum(increase(:tensorflow:serving:request_count{` + sel + `}[60s]))`, 0.0709, 0.0711},
		// 600 ms lies in the bucket (393 ms, 708 ms] (10·1.8^18, 10·1.8^19 µs): the quantile interpolates inside it
		{`histogram_quantile(0.99, sum by (le) (increase(:tensorflow:serving:request_latency_bucket{` + sel + `}[60s]))) / 1000`, 393, 709},
	} {
		v, ok, err := Query(ctx, base, c.query, now)
		if err != nil || !ok || v < c.min || v > c.max {
			t.Errorf("%s = %v (ok %v, err %v), want %v..%v", c.query, v, ok, err, c.min, c.max)
		}
	}
	// a pod of the stable predictor is not the canary's
	if _, ok, err := Query(ctx, base, `sum(increase(:tensorflow:serving:request_count{namespace="ml-prod",pod=~"serving-stable-[a-z0-9]+-[a-z0-9]+"}[60s]))`, now); err != nil || ok {
		t.Errorf("the stable predictor has series (ok %v, err %v)", ok, err)
	}
	// what Write sends is snappy's block format
	if _, err := s2.Decode(nil, s2.EncodeSnappy(nil, Encode(traffic.Series()))); err != nil {
		t.Error(err)
	}
}

// startPrometheus runs the Prometheus binary that hack/tools/build.sh builds
// with its remote-write receiver on and returns its base URL.
func startPrometheus(t *testing.T) string {
	home, _ := os.UserHomeDir()
	bin := filepath.Join(home, ".cache", "ml-platform", "bin", "prometheus-v0.316.0")
	if dir := os.Getenv("ML_PLATFORM_CACHE"); dir != "" {
		bin = filepath.Join(dir, "bin", "prometheus-v0.316.0")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("%s is not built; run hack/tools/build.sh prometheus", bin)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte("global: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--web.enable-remote-write-receiver", "--log.level=warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("Prometheus at %s not ready: %v", base, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return base
}

// TestFeedKeepsWriting feeds a real Prometheus at one write a second and
// changes the traffic on the way: the counters keep growing and the error
// ratio follows the change.
func TestFeedKeepsWriting(t *testing.T) {
	base := startPrometheus(t)
	var failed []error
	f := &Feed{URL: base, OnError: func(err error) { failed = append(failed, err) }, Traffic: Traffic{
		Labels: map[string]string{"namespace": "ml-prod", "pod": "serving-canary-7d9f8-abcde"}, Model: "mymodel",
		Step: time.Second, RequestsPerSecond: 10,
	}}
	f.Start()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	count := func() float64 {
		v, _, err := Query(ctx, base, `sum(:tensorflow:serving:request_count{pod="serving-canary-7d9f8-abcde"})`, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	first := count()
	if first < 1100 { // two minutes of history at 10/s
		t.Errorf("after the first write %v requests, want at least 1100", first)
	}
	time.Sleep(2500 * time.Millisecond)
	if later := count(); later < first+15 {
		t.Errorf("requests went from %v to %v in 2.5 s, want about 25 more", first, later)
	}
	f.Set(func(tr *Traffic) { tr.ErrorRatio = 0.5 })
	time.Sleep(2500 * time.Millisecond)
	f.Stop()
	failedNow, _, err := Query(ctx, base, `sum(:tensorflow:serving:request_count{pod="serving-canary-7d9f8-abcde",status!="OK"})`, time.Now())
	if err != nil || failedNow < 500 {
		t.Errorf("failed requests after the change: %v (err %v), want the new ratio applied to the counters", failedNow, err)
	}
	if len(failed) > 0 {
		t.Errorf("writes failed: %v", failed)
	}
}

// TestSeriesAfterSince: with Since, only the samples after it are written,
// whether Since is on a sample, between two, or before From.
func TestSeriesAfterSince(t *testing.T) {
	from := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		since       time.Time
		first, last time.Time
		samples     int
	}{
		{time.Time{}, from, from.Add(60 * time.Second), 13},
		{from.Add(-time.Minute), from, from.Add(60 * time.Second), 13},
		{from, from.Add(5 * time.Second), from.Add(60 * time.Second), 12},
		{from.Add(27 * time.Second), from.Add(30 * time.Second), from.Add(60 * time.Second), 7},
		{from.Add(60 * time.Second), time.Time{}, time.Time{}, 0},
	} {
		tr := Traffic{Model: "m", From: from, To: from.Add(62 * time.Second), Since: c.since, Step: 5 * time.Second, RequestsPerSecond: 1}
		samples := tr.Series()[0].Samples
		if len(samples) != c.samples {
			t.Fatalf("since %v: %d samples, want %d", c.since, len(samples), c.samples)
		}
		if c.samples > 0 && (!samples[0].Time.Equal(c.first) || !samples[len(samples)-1].Time.Equal(c.last)) {
			t.Errorf("since %v: samples from %v to %v, want %v to %v", c.since, samples[0].Time, samples[len(samples)-1].Time, c.first, c.last)
		}
	}
}
