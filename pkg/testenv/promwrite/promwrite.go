// Package promwrite writes series into a Prometheus through its
// remote-write receiver (--web.enable-remote-write-receiver) and reads
// instant queries back: what the tests need to show a rollout step a healthy
// or a failing canary without any real traffic.
//
// The WriteRequest (remote write 1.0, prometheus/prompb) is encoded by hand
// with protowire and compressed with snappy's block format (klauspost/compress'
// s2.EncodeSnappy), so the package needs no generated protobuf code.
package promwrite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/klauspost/compress/s2"
	"google.golang.org/protobuf/encoding/protowire"
)

// Sample is one value of a series at a time.
type Sample struct {
	Time  time.Time
	Value float64
}

// Series is a metric name with its labels and samples (oldest first:
// Prometheus refuses a sample older than the series' latest one).
type Series struct {
	Name    string
	Labels  map[string]string
	Samples []Sample
}

// Encode returns the protobuf encoding of a prompb.WriteRequest holding
// series, each with its labels sorted by name (__name__ among them), as
// Prometheus requires.
func Encode(series []Series) []byte {
	var req []byte
	for _, s := range series {
		labels := map[string]string{"__name__": s.Name}
		for k, v := range s.Labels {
			labels[k] = v
		}
		names := make([]string, 0, len(labels))
		for k := range labels {
			names = append(names, k)
		}
		sort.Strings(names)
		var ts []byte
		for _, n := range names {
			var l []byte
			l = protowire.AppendTag(l, 1, protowire.BytesType) // Label.name
			l = protowire.AppendString(l, n)
			l = protowire.AppendTag(l, 2, protowire.BytesType) // Label.value
			l = protowire.AppendString(l, labels[n])
			ts = protowire.AppendTag(ts, 1, protowire.BytesType) // TimeSeries.labels
			ts = protowire.AppendBytes(ts, l)
		}
		for _, sm := range s.Samples {
			var b []byte
			b = protowire.AppendTag(b, 1, protowire.Fixed64Type) // Sample.value
			b = protowire.AppendFixed64(b, math.Float64bits(sm.Value))
			b = protowire.AppendTag(b, 2, protowire.VarintType) // Sample.timestamp (ms)
			b = protowire.AppendVarint(b, uint64(sm.Time.UnixMilli()))
			ts = protowire.AppendTag(ts, 2, protowire.BytesType) // TimeSeries.samples
			ts = protowire.AppendBytes(ts, b)
		}
		req = protowire.AppendTag(req, 1, protowire.BytesType) // WriteRequest.timeseries
		req = protowire.AppendBytes(req, ts)
	}
	return req
}

// Write sends series to the Prometheus at baseURL (e.g. http://127.0.0.1:16090).
func Write(ctx context.Context, baseURL string, series []Series) error {
	body := s2.EncodeSnappy(nil, Encode(series))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/api/v1/write", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("failed to write %d series to %s: %w", len(series), baseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("failed to write %d series to %s: %s: %s", len(series), baseURL, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// Query evaluates an instant PromQL query at time at and returns the value
// of its single result; ok is false when the result is empty.
func Query(ctx context.Context, baseURL, query string, at time.Time) (value float64, ok bool, err error) {
	u := baseURL + "/api/v1/query?" + url.Values{
		"query": {query},
		"time":  {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)},
	}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string            `json:"resultType"`
			Result     []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, false, fmt.Errorf("query %q: %s: %w", query, resp.Status, err)
	}
	if r.Status != "success" {
		return 0, false, fmt.Errorf("query %q: %s", query, r.Error)
	}
	if len(r.Data.Result) == 0 {
		return 0, false, nil
	}
	if len(r.Data.Result) > 1 {
		return 0, false, fmt.Errorf("query %q returned %d series, want one", query, len(r.Data.Result))
	}
	var sample struct {
		Value [2]interface{} `json:"value"`
	}
	if err := json.Unmarshal(r.Data.Result[0], &sample); err != nil {
		return 0, false, err
	}
	s, _ := sample.Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil, err
}
