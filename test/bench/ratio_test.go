package bench

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestRenderRatio derives the render ratio, ours over the webservice
// baseline per emitted object, from each side measured alone: for every
// round it runs testing.Benchmark on each side in turn (the heap collected
// before each, the order alternating between rounds), then reports every
// side's median ns/op, allocs/op and B/op and the ratios of the medians per
// emitted object, by time and by allocations. It is skipped unless
// BENCH_RATIO is set to the number of rounds (it takes minutes):
//
//	BENCH_RATIO=5 go test -run TestRenderRatio -v -timeout 60m ./test/bench/
//	BENCH_RATIO=5 go test -run TestRenderRatio -v -timeout 60m ./test/bench/ -test.benchtime 10x
func TestRenderRatio(t *testing.T) {
	rounds, _ := strconv.Atoi(os.Getenv("BENCH_RATIO"))
	if rounds <= 0 {
		t.Skip("set BENCH_RATIO to the number of rounds to measure the render ratio (minutes)")
	}
	f := setUp(t)
	for _, set := range []struct {
		name  string
		sides []side
		pairs [][2]string // ours, baseline
	}{
		{"offline renderer (BenchmarkRender)", f.offlineSides(),
			[][2]string{{"pipeline", "webservice"}}},
		{"vela-core's code path (BenchmarkControllerRender)", f.controllerSides(t),
			[][2]string{{"pipeline", "webservice"}, {"pipeline-without-traits", "webservice"}}},
	} {
		results := map[string][]testing.BenchmarkResult{}
		objects := map[string]int{}
		for round := 0; round < rounds; round++ {
			order := append([]side(nil), set.sides...)
			if round%2 == 1 {
				for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
					order[i], order[j] = order[j], order[i]
				}
			}
			for _, s := range order {
				runtime.GC()
				r := testing.Benchmark(func(b *testing.B) { benchSide(b, s) })
				if r.N == 0 {
					t.Fatalf("%s: the benchmark failed", s.name)
				}
				results[s.name] = append(results[s.name], r)
				objects[s.name] = s.objects
				t.Logf("round %d %-24s %5d x %14d ns/op %12d B/op %9d allocs/op", round+1, s.name, r.N, r.NsPerOp(), r.AllocedBytesPerOp(), r.AllocsPerOp())
			}
		}
		var out strings.Builder
		fmt.Fprintf(&out, "%s, median of %d rounds, each side alone:\n", set.name, rounds)
		med := map[string][3]float64{}
		for _, s := range set.sides {
			rs := results[s.name]
			m := [3]float64{
				median(rs, func(r testing.BenchmarkResult) float64 { return float64(r.NsPerOp()) }),
				median(rs, func(r testing.BenchmarkResult) float64 { return float64(r.AllocsPerOp()) }),
				median(rs, func(r testing.BenchmarkResult) float64 { return float64(r.AllocedBytesPerOp()) }),
			}
			med[s.name] = m
			fmt.Fprintf(&out, "  %-24s %2d objects  %8.1f ms  %9.0f allocs  %7.1f MB  per object: %6.2f ms  %7.0f allocs\n",
				s.name, s.objects, m[0]/1e6, m[1], m[2]/1e6, m[0]/1e6/float64(s.objects), m[1]/float64(s.objects))
		}
		for _, p := range set.pairs {
			o, w := med[p[0]], med[p[1]]
			no, nw := float64(objects[p[0]]), float64(objects[p[1]])
			fmt.Fprintf(&out, "  ratio per object %s / %s: time %.2f, allocations %.2f, bytes %.2f\n",
				p[0], p[1], (o[0]/no)/(w[0]/nw), (o[1]/no)/(w[1]/nw), (o[2]/no)/(w[2]/nw))
		}
		t.Log("\n" + out.String())
	}
}

func median(rs []testing.BenchmarkResult, v func(testing.BenchmarkResult) float64) float64 {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = v(r)
	}
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
