package promwrite

import (
	"context"
	"sync"
	"time"
)

// Feed writes what a TF Serving pod serves into a Prometheus every Step
// (default 5 s) from Start until Stop, as a scrape of the pod would: the
// counters from two minutes before Start on, so that a rate over a window
// has data at once.
type Feed struct {
	URL     string      // the Prometheus base URL
	Traffic Traffic     // Labels, Model, RequestsPerSecond, ErrorRatio, Latency; From is set by Start
	OnError func(error) // told about a failed write (the feed goes on); may be nil

	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
}

// Start writes the first samples and keeps writing in the background.
func (f *Feed) Start() {
	step := f.Traffic.Step
	if step <= 0 {
		step = 5 * time.Second
	}
	f.Traffic.From = time.Now().Add(-2 * time.Minute).Truncate(time.Second)
	f.Traffic.Since = f.Traffic.From.Add(-time.Second)
	f.stop, f.done = make(chan struct{}), make(chan struct{})
	f.write(step)
	go func() {
		defer close(f.done)
		t := time.NewTicker(step)
		defer t.Stop()
		for {
			select {
			case <-f.stop:
				return
			case <-t.C:
				f.write(step)
			}
		}
	}()
}

// Set changes the traffic (its rate, error ratio, latency). The next write
// sends its counters as if it had always been so: a counter that shrinks
// reads as a reset to Prometheus.
func (f *Feed) Set(change func(t *Traffic)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(&f.Traffic)
}

// Stop ends the writes.
func (f *Feed) Stop() {
	close(f.stop)
	<-f.done
}

func (f *Feed) write(step time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Traffic.To = time.Now()
	if err := Write(context.Background(), f.URL, f.Traffic.Series()); err != nil {
		if f.OnError != nil {
			f.OnError(err)
		}
		return
	}
	// the next write sends only the samples after the last one sent, the
	// last whole step from From up to To
	if !f.Traffic.To.Before(f.Traffic.From) {
		f.Traffic.Since = f.Traffic.From.Add(f.Traffic.To.Sub(f.Traffic.From) / step * step)
	}
}
