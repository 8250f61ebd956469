package metrics

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// sortFloats sorts as slices.Sort does, whatever the values: negative,
// zeros of both signs, infinities, NaNs, repeats, one value throughout.
func TestSortFloatsIsSlicesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	gens := map[string]func(i int) float64{
		"latencies": func(int) float64 { return 1e6 + rng.ExpFloat64()*3e5 },
		"mixed": func(int) float64 {
			switch rng.IntN(20) {
			case 0:
				return math.NaN()
			case 1:
				return math.Inf(1 - 2*rng.IntN(2))
			case 2:
				return math.Copysign(0, float64(1-2*rng.IntN(2)))
			}
			return rng.NormFloat64() * math.Pow(10, float64(rng.IntN(30)-15))
		},
		"constant": func(int) float64 { return 16 },
		"few":      func(int) float64 { return float64(rng.IntN(3)) },
		"nan":      func(int) float64 { return math.NaN() },
		"rising":   func(i int) float64 { return float64(i) },
	}
	for name, gen := range gens {
		for _, n := range []int{0, 1, radixMin - 1, radixMin, 3*radixMin + 17} {
			got := make([]float64, n)
			for i := range got {
				got[i] = gen(i)
			}
			want := slices.Clone(got)
			slices.Sort(want)
			sortFloats(got)
			for i := range got {
				g, w := got[i], want[i]
				same := g == w || (math.IsNaN(g) && math.IsNaN(w))
				if !same {
					t.Fatalf("%s, %d values: [%d] = %v, slices.Sort has %v", name, n, i, g, w)
				}
			}
		}
	}
}

// BenchmarkSortFloats sorts 150,000 latencies (a 5 s run at 30k req/s):
// ns/op per value against slices.Sort.
func BenchmarkSortFloats(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	vals := make([]float64, 150_000)
	for i := range vals {
		vals[i] = 1e6 + rng.ExpFloat64()*3e5
	}
	buf := make([]float64, len(vals))
	for _, c := range []struct {
		name string
		sort func([]float64)
	}{{"radix", sortFloats}, {"slices", slices.Sort[[]float64]}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				copy(buf, vals)
				c.sort(buf)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(vals)), "ns/value")
		})
	}
}

// sortByKey leaves the same keys in ascending order, each element whole:
// for keys that differ in any byte, share high bytes, repeat, or are all
// one, at lengths around the insertion-sort cut.
// One scratch buffer serves sorts of any lengths, longer and shorter than
// the last, and keeps the largest.
func TestSortFloatsWithSharedScratch(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var scratch []uint64
	for _, n := range []int{radixMin, 3 * radixMin, radixMin + 1, 10, 2 * radixMin} {
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = rng.NormFloat64() * 1e6
		}
		want := slices.Clone(vals)
		slices.Sort(want)
		sortFloatsWith(vals, &scratch)
		if !slices.Equal(vals, want) {
			t.Fatalf("n=%d: sorted with a shared scratch differs from slices.Sort", n)
		}
	}
	if cap(scratch) < 3*radixMin {
		t.Errorf("scratch cap %d: the largest buffer was not kept", cap(scratch))
	}
}

func TestSortByKeySorts(t *testing.T) {
	type item struct {
		k  uint64
		id int
	}
	rng := rand.New(rand.NewPCG(7, 8))
	gens := map[string]func(i int) uint64{
		"any":       func(int) uint64 { return rng.Uint64() },
		"one run":   func(int) uint64 { return 1<<63 + 1_700_000_000_000_000_000 + uint64(rng.IntN(5e9)) },
		"few":       func(int) uint64 { return uint64(rng.IntN(3)) << (8 * rng.IntN(8)) },
		"constant":  func(int) uint64 { return 42 },
		"low byte":  func(int) uint64 { return uint64(rng.IntN(256)) },
		"high byte": func(int) uint64 { return uint64(rng.IntN(256)) << 56 },
		"falling":   func(i int) uint64 { return uint64(1e9 - i) },
	}
	for name, gen := range gens {
		for _, n := range []int{0, 1, 2, flagMin, flagMin + 1, 1000, 50_000} {
			s := make([]item, n)
			for i := range s {
				s[i] = item{gen(i), i}
			}
			want := slices.Clone(s)
			slices.SortFunc(want, func(a, b item) int { return cmp.Compare(a.k, b.k) })
			sortByKey(s, func(x *item) uint64 { return x.k })
			seen := make([]bool, n)
			for i := range s {
				if s[i].k != want[i].k {
					t.Fatalf("%s, %d keys: [%d] = %d, want %d", name, n, i, s[i].k, want[i].k)
				}
				if seen[s[i].id] {
					t.Fatalf("%s, %d keys: element %d twice", name, n, s[i].id)
				}
				seen[s[i].id] = true
			}
			again := slices.Clone(s)
			sortByKey(again, func(x *item) uint64 { return x.k })
			if !slices.Equal(again, s) {
				t.Fatalf("%s, %d keys: a sorted slice was reordered", name, n)
			}
		}
	}
	// Packed events order as their times do, and give back time and curve.
	ev := []event{mkEvent(5, curveDecTP, 1), mkEvent(0, curvePreTP, 2), mkEvent(1<<61-1, curveConc, 3),
		mkEvent(5, curveConc, 4), mkEvent(1<<40, numCurves-1, 5)}
	sortByKey(ev, func(e *event) uint64 { return e.tk })
	if !slices.IsSortedFunc(ev, func(a, b event) int { return cmp.Compare(a.t(), b.t()) }) {
		t.Errorf("events %v", ev)
	}
	want := []struct {
		t int64
		k curve
	}{{0, curvePreTP}, {5, curveConc}, {5, curveDecTP}, {1 << 40, numCurves - 1}, {1<<61 - 1, curveConc}}
	for i, w := range want {
		if ev[i].t() != w.t || ev[i].k() != w.k {
			t.Errorf("event %d: t %d curve %d, want %d and %d", i, ev[i].t(), ev[i].k(), w.t, w.k)
		}
	}
}

// BenchmarkSortSweepEvents sorts the sweep events of 200,000 requests (6
// each, spread over 5 s): ns per event, against slices.SortFunc.
func BenchmarkSortSweepEvents(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	ev := make([]event, 0, 1_200_000)
	for range 200_000 {
		s := rng.Int64N(5e9)
		g, e := s+rng.Int64N(5e6), s+5e6+rng.Int64N(5e6)
		ev = append(ev, mkEvent(s, curveConc, 1), mkEvent(e, curveConc, -1), mkEvent(s, curvePreConc, 1),
			mkEvent(g, curvePreConc, -1), mkEvent(g, curveDecConc, 1), mkEvent(e, curveDecConc, -1))
	}
	buf := make([]event, len(ev))
	for _, c := range []struct {
		name string
		sort func([]event)
	}{
		{"radix", func(s []event) { sortByKey(s, func(e *event) uint64 { return e.tk }) }},
		{"slices", func(s []event) { slices.SortFunc(s, func(a, b event) int { return cmp.Compare(a.tk, b.tk) }) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				copy(buf, ev)
				c.sort(buf)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(ev)), "ns/event")
		})
	}
}

// sweepEvents makes room for every event at once: streamed answers (ten
// events each), whole answers (two) and errors (two) fill it without the
// slice growing, and a run of streamed answers fills it exactly.
func TestSweepEventsFitTheirRoom(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		streamed, whole, errs int
	}{{"streamed", 50, 0, 0}, {"whole", 0, 50, 0}, {"mixed", 30, 20, 10}} {
		m := NewMetricResults(streamingChat, nil, 0, 0)
		rm := NewRecordMetrics(streamingChat, false, words{})
		var v Values
		for i := 0; i < tc.streamed+tc.whole+tc.errs; i++ {
			r := benchRecord(int64(i), nil)
			switch {
			case i >= tc.streamed+tc.whole:
				r.SetError(500, "server_error", "boom")
			case i >= tc.streamed:
				r.Streamed = false // a whole answer: no first token
			}
			if err := rm.ProcessRecord(r, &v); err != nil && i < tc.streamed+tc.whole {
				t.Fatal(err)
			}
			_ = m.ProcessResult(r, &v)
		}
		room := 2*m.rows.n + 8*m.rows.withTTFT + 2*m.errs.n
		ev := m.sweepEvents()
		if cap(ev) != room {
			t.Errorf("%s: %d events grew the room of %d to %d", tc.name, len(ev), room, cap(ev))
		}
		if m.rows.withTTFT != tc.streamed || m.errs.n != tc.errs {
			t.Errorf("%s: %d rows with a first token and %d errors, want %d and %d", tc.name, m.rows.withTTFT, m.errs.n, tc.streamed, tc.errs)
		}
		if tc.whole == 0 && tc.errs == 0 && len(ev) != room {
			t.Errorf("%s: %d events in a room of %d", tc.name, len(ev), room)
		}
	}
}
