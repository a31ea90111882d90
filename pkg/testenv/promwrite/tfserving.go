package promwrite

import (
	"math"
	"strconv"
	"time"
)

// Traffic is what one TF Serving pod served over a span of time, as the
// series its Prometheus endpoint exposes (names and labels of TF Serving's
// servables/tensorflow/util.cc, with the path's "/" turned into ":"):
//
//	:tensorflow:serving:request_count{model_name, status}          a counter; status "OK" or an error code
//	:tensorflow:serving:request_latency_bucket{model_name, API, entrypoint, le}
//	                                                               a histogram in microseconds, buckets 10·1.8^i (i < 33)
//
// plus the target labels a scrape adds (Labels, e.g. namespace and pod).
type Traffic struct {
	Labels            map[string]string
	Model             string
	From, To          time.Time
	Since             time.Time     // when set, only the samples after it (what a writer has not sent yet)
	Step              time.Duration // between samples; default 5s
	RequestsPerSecond float64
	ErrorRatio        float64       // share of requests that fail (status INTERNAL)
	Latency           time.Duration // how long every request takes
}

// LatencyBuckets are the upper bounds, in microseconds, of TF Serving's
// request latency histogram: monitoring::Buckets::Exponential(10, 1.8, 33).
func LatencyBuckets() []float64 {
	b := make([]float64, 33)
	for i := range b {
		b[i] = 10 * math.Pow(1.8, float64(i))
	}
	return b
}

// Series returns the pod's counters from zero at From to their values at To.
func (t Traffic) Series() []Series {
	step := t.Step
	if step <= 0 {
		step = 5 * time.Second
	}
	labels := func(extra map[string]string) map[string]string {
		l := map[string]string{"model_name": t.Model}
		for k, v := range t.Labels {
			l[k] = v
		}
		for k, v := range extra {
			l[k] = v
		}
		return l
	}
	ok := Series{Name: ":tensorflow:serving:request_count", Labels: labels(map[string]string{"status": "OK"})}
	failed := Series{Name: ":tensorflow:serving:request_count", Labels: labels(map[string]string{"status": "INTERNAL"})}
	bounds := LatencyBuckets()
	buckets := make([]Series, 0, len(bounds)+1)
	for _, le := range bounds {
		buckets = append(buckets, Series{Name: ":tensorflow:serving:request_latency_bucket",
			Labels: labels(map[string]string{"API": "predict", "entrypoint": "REST", "le": strconv.FormatFloat(le, 'g', -1, 64)})})
	}
	buckets = append(buckets, Series{Name: ":tensorflow:serving:request_latency_bucket",
		Labels: labels(map[string]string{"API": "predict", "entrypoint": "REST", "le": "+Inf"})})
	micros := float64(t.Latency.Microseconds())
	// the samples are at From + k*step; only those after Since, when set
	first := t.From
	if !t.Since.IsZero() && !t.Since.Before(t.From) {
		first = t.From.Add((t.Since.Sub(t.From)/step + 1) * step)
	}
	for at := first; !at.After(t.To); at = at.Add(step) {
		total := t.RequestsPerSecond * at.Sub(t.From).Seconds()
		ok.Samples = append(ok.Samples, Sample{at, total * (1 - t.ErrorRatio)})
		failed.Samples = append(failed.Samples, Sample{at, total * t.ErrorRatio})
		for i := range buckets {
			v := 0.0
			if i == len(bounds) || micros <= bounds[i] {
				v = total
			}
			buckets[i].Samples = append(buckets[i].Samples, Sample{at, v})
		}
	}
	return append([]Series{ok, failed}, buckets...)
}
