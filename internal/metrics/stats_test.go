package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/loadstar/loadstar/engine/record"
)

func TestPercentileLinearInterpolation(t *testing.T) {
	// numpy.percentile([1, 2, 3, 4], q) for the AIPerf keys.
	v := []float64{1, 2, 3, 4}
	for q, want := range map[float64]float64{1: 1.03, 5: 1.15, 10: 1.3, 25: 1.75, 50: 2.5, 75: 3.25, 90: 3.7, 95: 3.85, 99: 3.97, 0: 1, 100: 4} {
		if got := percentile(v, q); !near(got, want) {
			t.Errorf("p%v = %v, want %v", q, got, want)
		}
	}
	if got := percentile([]float64{42}, 99); got != 42 {
		t.Errorf("single value p99 = %v", got)
	}
	if !math.IsNaN(percentile(nil, 50)) {
		t.Error("empty percentile not NaN")
	}
}

func TestExactStats(t *testing.T) {
	// Unsorted input, ns → ms scale.
	st := ExactStats([]float64{4e6, 1e6, 3e6, 2e6}, 1e-6)
	checks := map[string][2]float64{
		"avg": {st.Avg, 2.5}, "min": {st.Min, 1}, "max": {st.Max, 4}, "sum": {st.Sum, 10},
		"std": {st.Std, math.Sqrt(1.25)}, // population: sqrt(((1.5²+0.5²)·2)/4)
		"p50": {st.P50, 2.5}, "p90": {st.P90, 3.7}, "p99": {st.P99, 3.97}, "p1": {st.P1, 1.03},
	}
	for k, c := range checks {
		if !near(c[0], c[1]) {
			t.Errorf("%s = %v, want %v", k, c[0], c[1])
		}
	}
	if st.Count != 4 || st.Approx {
		t.Errorf("count=%d approx=%v", st.Count, st.Approx)
	}
	one := ExactStats([]float64{7}, 1)
	if one.Std != 0 || one.P99 != 7 || one.Avg != 7 {
		t.Errorf("single value stats %+v", one)
	}
}

func TestHistogramStatsWithinPrecision(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]float64, 20000)
	h := newHistogram(unitNs, hdrDigits)
	for i := range vals {
		vals[i] = math.Round(1e6 + rng.ExpFloat64()*5e6) // ns
		h.record(vals[i])
	}
	exact := ExactStats(slices.Clone(vals), 1e-6)
	approx := h.stats(1e-6)
	if !approx.Approx || approx.Precision != hdrPrecision {
		t.Fatalf("approx=%v precision=%v", approx.Approx, approx.Precision)
	}
	if approx.Count != exact.Count || !near(approx.Sum, exact.Sum) || !near(approx.Min, exact.Min) || !near(approx.Max, exact.Max) {
		t.Errorf("moments differ: %+v vs %+v", approx, exact)
	}
	if math.Abs(approx.Std-exact.Std) > 1e-9*exact.Std {
		t.Errorf("std %v vs %v", approx.Std, exact.Std)
	}
	for _, p := range [][2]float64{{approx.P50, exact.P50}, {approx.P90, exact.P90}, {approx.P99, exact.P99}} {
		// HDR rounds to the bucket's highest equivalent value; ranks differ
		// from interpolation by at most one sample at this size.
		if math.Abs(p[0]-p[1]) > 2*hdrPrecision*p[1] {
			t.Errorf("percentile %v vs exact %v beyond precision", p[0], p[1])
		}
	}
}

func TestColumnBackfillsAbsent(t *testing.T) {
	c := newCol32()
	for i := 0; i < chunkLen+5; i++ {
		v := int32(absent32)
		if i == chunkLen+2 {
			v = 9
		}
		c.set(i, v)
	}
	if c.get(0) != absent32 || c.get(chunkLen+2) != 9 || c.get(chunkLen+4) != absent32 {
		t.Fatalf("got %d %d %d", c.get(0), c.get(chunkLen+2), c.get(chunkLen+4))
	}
	unused := newCol64()
	unused.set(0, absent64)
	if unused.used || unused.get(0) != absent64 {
		t.Fatal("unused column allocated")
	}
}

func TestRelColumnRoundTrip(t *testing.T) {
	type c struct {
		v   int64
		ok  bool
		e   int64
		eok bool
	}
	cases := []c{
		{5, true, 5, true},                  // equal
		{0, false, 0, false},                // both absent
		{0, false, 7, true},                 // absent, expected present
		{0, true, 0, false},                 // zero present, expected absent
		{9, true, 0, false},                 // plain value
		{3, true, 10, true},                 // negative delta
		{1 << 40, true, 0, false},           // overflow
		{-(1 << 40), true, 1, true},         // overflow delta
		{math.MinInt32 + 2, true, 0, false}, // collides with a sentinel
	}
	r := newRel()
	for i, x := range cases {
		r.set(i, x.v, x.ok, x.e, x.eok)
	}
	for i, x := range cases {
		v, ok := r.get(i, x.e, x.eok)
		if ok != x.ok || ok && v != x.v {
			t.Errorf("case %d %+v: got %d %v", i, x, v, ok)
		}
	}
}

func TestRowsRoundTripBases(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func(absent int64, big bool) int64 {
		switch rng.IntN(4) {
		case 0:
			return absent
		case 1:
			if big {
				return rng.Int64N(1 << 40)
			}
		}
		return rng.Int64N(5000)
	}
	m := NewMetricResults(streamingChat, nil, 0, 0)
	var bases []base
	for i := 0; i < 3000; i++ {
		b := base{latency: pick(absent64, true), ttft: pick(absent64, true), ttst: pick(absent64, true),
			ttfo: pick(absent64, true), issueDelay: pick(absent64, true), full: pick(absent64, true),
			creditLag: pick(absent64, true), requested: pick(-1, false),
			out: pick(-1, false), reas: pick(-1, false), isl: pick(-1, false), firstChunk: pick(-1, false)}
		if rng.IntN(3) > 0 { // a stamped HTTP exchange, phases on a new connection now and then
			b.tr = httpTrace{on: true, blocked: pick(0, true), sendStart: pick(0, true), sending: pick(0, false),
				firstByte: pick(absent64, true), lastByte: pick(absent64, true),
				sent: pick(0, false), received: pick(0, false), chunks: pick(0, false)}
			if rng.IntN(4) == 0 {
				b.tr.dns, b.tr.connect, b.tr.tls = pick(0, false), pick(0, false), pick(0, false)
			}
		}
		if b.issueDelay != absent64 {
			b.issueDelay -= 100 // issue delays may be negative
		}
		for k := range b.usage {
			b.usage[k] = pick(-1, false)
		}
		if rng.IntN(2) == 0 { // usage consistent with the counts, the common case
			b.usage[0] = b.isl
			b.usage[1], _ = usageExpected(&b, 1)
			if b.out < 0 && b.reas < 0 {
				b.usage[1] = -1
			}
		}
		bases = append(bases, b)
		m.rows.add(int64(i), &bases[len(bases)-1])
	}
	for i, want := range bases {
		if got := m.rows.base(i); got != want || m.rows.start.get(i) != int64(i) {
			t.Fatalf("row %d: got %+v, want %+v", i, got, want)
		}
	}
}

// Recording values in batches gives what recording them one by one gives:
// the same count, sum, min, max and histogram counts, and the same
// variance up to rounding.
func TestHistogramRecordBatchIsRecord(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, unit := range []string{unitNs, unitTokens, "requests/sec"} {
		one, batched := newHistogram(unit, hdrDigits), newHistogram(unit, hdrDigits)
		var vs []float64
		for range 40 {
			n := rng.IntN(300)
			vs = vs[:0]
			for range n {
				v := rng.NormFloat64()*3e6 + 5e6
				if rng.IntN(50) == 0 {
					v = -rng.Float64() * 1000 // an early send's negative issue delay
				}
				if rng.IntN(200) == 0 {
					v = 1e20 // beyond the histogram's range
				}
				vs = append(vs, v)
				one.record(v)
			}
			batched.recordBatch(vs)
		}
		a, b := one.mom, batched.mom
		if a.n != b.n || a.sum != b.sum || a.min != b.min || a.max != b.max {
			t.Fatalf("%s: batched moments n %d sum %g min %g max %g, one by one n %d sum %g min %g max %g", unit, b.n, b.sum, b.min, b.max, a.n, a.sum, a.min, a.max)
		}
		if math.Abs(a.m2-b.m2) > 1e-9*math.Abs(a.m2) || math.Abs(a.mean-b.mean) > 1e-9*math.Abs(a.mean) {
			t.Fatalf("%s: batched mean %g m2 %g, one by one %g %g", unit, b.mean, b.m2, a.mean, a.m2)
		}
		if !one.h.Equals(batched.h) {
			t.Fatalf("%s: the histograms differ", unit)
		}
	}
}

// The live views read the histograms, whose values are recorded in
// batches: they see every record processed so far, not only whole batches.
func TestLiveSeesEveryRecord(t *testing.T) {
	app := Applicability{Streaming: true, ProducesTokens: true, TokenizesInput: true}
	rm := NewRecordMetrics(app, false, words{})
	m := NewMetricResults(app, nil, 0, 0)
	var v Values
	for i := range 3 {
		r := stageRecord(int64(i), record.New(), true)
		if err := rm.ProcessRecord(r, &v); err != nil {
			t.Fatal(err)
		}
		if err := m.ProcessResult(r, &v); err != nil {
			t.Fatal(err)
		}
	}
	live := m.Live()
	// stageRecord's first token comes 40 µs after the start.
	if live.Valid != 3 || math.Abs(live.TTFTP50Ms-0.04) > 0.0001 || math.IsNaN(live.LatencyP50Ms) || math.IsNaN(live.ITLP50Ms) {
		t.Fatalf("live after 3 records: %+v", live)
	}
	var latencies int64
	for _, mt := range m.LiveMetrics() {
		if mt.Tag == "request_latency" {
			latencies = mt.Stats.Count
		}
	}
	if latencies != 3 {
		t.Fatalf("LiveMetrics counts %d request latencies, want 3", latencies)
	}
}

// TestHistogramsHoldEveryRecord checks the histograms filled from the rows
// when read (and, near and beyond the limit, as the rows grow) against
// histograms fed every record's values as they came: the same counts in
// every bucket and the same moments, after every few records, for runs
// that stay exact, cross the limit, and cross it for the inter-chunk gaps
// only.
func TestHistogramsHoldEveryRecord(t *testing.T) {
	app := Applicability{Streaming: true, ProducesTokens: true, TokenizesInput: true}
	for _, tc := range []struct {
		name  string
		limit int
		n     int
	}{{"exact", 0, 300}, {"beyond the limit", 100, 300}, {"gaps beyond the limit", 1000, 300}} {
		t.Run(tc.name, func(t *testing.T) {
			rm := NewRecordMetrics(app, false, words{})
			m := NewMetricResults(app, nil, tc.limit, 0)
			var ref [NumRecordMetrics]*histogram
			refICL := newHistogram(unitNs, hdrDigits)
			var v Values
			for i := range tc.n {
				r := stageRecord(int64(i), record.New(), true)
				r.EndNs += int64(i*7919) % 50_000 // a spread of latencies
				if i%5 == 3 {
					r.SetError(500, "Internal Server Error", "boom")
				}
				if err := rm.ProcessRecord(r, &v); err != nil {
					t.Fatal(err)
				}
				for id, x := range v.V {
					if !math.IsNaN(x) {
						if ref[id] == nil {
							ref[id] = newHistogram(recordDefs[id].BaseUnit, hdrDigits)
						}
						ref[id].record(x)
					}
				}
				if v.Valid {
					for _, g := range v.ICL {
						refICL.record(g)
					}
				}
				if err := m.ProcessResult(r, &v); err != nil {
					t.Fatal(err)
				}
				switch {
				case i%37 == 5:
					m.Live() // fills some metrics only
				case i%23 == 7 || i == tc.n-1:
					m.LiveMetrics()
					for id := range ref {
						sameHistogram(t, fmt.Sprintf("record %d: %s", i, recordDefs[id].Tag), m.hist[id], ref[id])
					}
					sameHistogram(t, fmt.Sprintf("record %d: inter-chunk gaps", i), m.iclHist, refICL)
				}
			}
			if want := tc.limit > 0 && tc.limit < tc.n*4/5; m.approx != want {
				t.Errorf("approx %v, want %v", m.approx, want)
			}
			if !m.iclHit && tc.limit > 0 {
				t.Errorf("the gaps stayed within the limit of %d: the test does not cross it", tc.limit)
			}
		})
	}
}

func sameHistogram(t *testing.T, what string, got, want *histogram) {
	t.Helper()
	if want == nil {
		if got != nil && got.mom.n > 0 {
			t.Errorf("%s: %d values recorded, want none", what, got.mom.n)
		}
		return
	}
	if got == nil {
		t.Errorf("%s: no histogram, want %d values", what, want.mom.n)
		return
	}
	g, w := got.mom, want.mom
	if !got.h.Equals(want.h) || g.n != w.n || g.min != w.min || g.max != w.max ||
		math.Abs(g.sum-w.sum) > 1e-9*math.Abs(w.sum) || math.Abs(g.m2-w.m2) > 1e-6*math.Abs(w.m2)+1e-9 {
		t.Errorf("%s: got n=%d min=%v max=%v sum=%v m2=%v (HDR total %d), want n=%d min=%v max=%v sum=%v m2=%v (HDR total %d)",
			what, g.n, g.min, g.max, g.sum, g.m2, got.h.TotalCount(), w.n, w.min, w.max, w.sum, w.m2, want.h.TotalCount())
	}
}

// TestHistogramsFilledLate checks when the histograms are filled from the
// rows: not while the rows are far from the limit and nothing reads them
// (recording each record's values cost a cache miss per metric in the run),
// and nearly all of them just before the limit, where the rows are freed
// (filling millions of rows at that moment would stall the metrics side).
func TestHistogramsFilledLate(t *testing.T) {
	app := Applicability{Streaming: true, ProducesTokens: true, TokenizesInput: true}
	const limit = 1000
	rm := NewRecordMetrics(app, false, words{})
	m := NewMetricResults(app, nil, limit, 0)
	var v Values
	r := record.New()
	for i := range limit - 1 {
		stageRecord(int64(i), r, false)
		if err := rm.ProcessRecord(r, &v); err != nil {
			t.Fatal(err)
		}
		if err := m.ProcessResult(r, &v); err != nil {
			t.Fatal(err)
		}
		if n := m.rows.n; n == limit/2 && m.histRows[TTFT] != 0 {
			t.Fatalf("%d rows, none read: the histograms hold %d already", n, m.histRows[TTFT])
		}
	}
	if n, got := m.rows.n, m.histRows[TTFT]; m.approx || got < n-64 {
		t.Fatalf("%d rows, one before the limit: the histograms hold %d (approx %v)", n, got, m.approx)
	}
}
