package metrics

import (
	"math"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/loadstar/loadstar/engine/results"
)

// DefaultExactStatsLimit is the number of values per metric kept for exact
// percentiles when config.Runtime.ExactStatsLimit is 0. Five million values
// cover a 5 M-request run exactly; per-record storage is a few bytes per
// applicable metric (int64 latencies, int32 token counts), so a 1 M-request
// streaming chat run keeps about 50 MB of values. Beyond the limit every
// metric switches to HDR histograms (3 significant digits, relative error
// ≤ 0.1%); count, sum, avg, min, max and std stay exact.
const DefaultExactStatsLimit = 5_000_000

// hdrDigits is the precision of the histograms: 3 significant digits.
const hdrDigits = 3

// hdrPrecision is the relative error of HDR-derived percentiles.
const hdrPrecision = 0.001

// percentiles are AIPerf's percentile keys, in order.
var percentiles = [...]float64{1, 5, 10, 25, 50, 75, 90, 95, 99}

// percentile returns the q-th percentile (0..100) of sorted values by
// linear interpolation between closest ranks (numpy's default method).
// It returns NaN for an empty slice.
func percentile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	v := q / 100 * float64(n-1)
	lo := int(math.Floor(v))
	hi := min(lo+1, n-1)
	return sorted[lo] + (v-float64(lo))*(sorted[hi]-sorted[lo])
}

// ExactStats computes AIPerf's statistics of vals (base units), scaled by
// scale into display units. It sorts vals in place. Std is the population
// standard deviation (numpy's default, ddof=0).
func ExactStats(vals []float64, scale float64) results.Stats { return exactStatsWith(vals, scale, nil) }

// exactStatsWith is ExactStats sorting with sortFloatsWith's scratch.
func exactStatsWith(vals []float64, scale float64, scratch *[]uint64) results.Stats {
	n := len(vals)
	if n == 0 {
		return results.Stats{}
	}
	sortFloatsWith(vals, scratch)
	// Sum in ascending order with Kahan compensation: close to numpy's
	// pairwise sum without its block structure.
	var sum, c float64
	for _, v := range vals {
		y := v - c
		t := sum + y
		c = (t - sum) - y
		sum = t
	}
	mean := sum / float64(n)
	var ss float64
	for _, v := range vals {
		d := v - mean
		ss += d * d
	}
	st := results.Stats{
		Avg: mean * scale, Min: vals[0] * scale, Max: vals[n-1] * scale, Sum: sum * scale,
		Std: math.Sqrt(ss/float64(n)) * scale, Count: int64(n),
	}
	ps := [len(percentiles)]*float64{&st.P1, &st.P5, &st.P10, &st.P25, &st.P50, &st.P75, &st.P90, &st.P95, &st.P99}
	for i, q := range percentiles {
		*ps[i] = percentile(vals, q) * scale
	}
	return st
}

// moments keeps exact count, sum, min, max and variance (Welford) of a
// stream of values.
type moments struct {
	n              int64
	sum, min, max  float64
	mean, m2, comp float64
}

func (m *moments) add(v float64) {
	if m.n == 0 || v < m.min {
		m.min = v
	}
	if m.n == 0 || v > m.max {
		m.max = v
	}
	m.n++
	y := v - m.comp
	t := m.sum + y
	m.comp = (t - m.sum) - y
	m.sum = t
	d := v - m.mean
	m.mean += d / float64(m.n)
	m.m2 += d * (v - m.mean)
}

// histogram is an HDR histogram of one metric with the value scaling that
// turns fractional values into integers.
type histogram struct {
	h     *hdr.Histogram
	scale float64 // base value × scale = recorded integer
	mom   moments
}

// newHistogram sizes a histogram for a metric of the given base unit.
func newHistogram(baseUnit string, digits int) *histogram {
	switch baseUnit {
	case unitNs:
		return &histogram{h: hdr.New(1, 100_000_000_000_000, digits), scale: 1} // up to ~28 h
	case unitTokens:
		return &histogram{h: hdr.New(1, 10_000_000_000, digits), scale: 1}
	default: // rates: milli-units
		return &histogram{h: hdr.New(1, 10_000_000_000_000, digits), scale: 1000}
	}
}

func (h *histogram) record(v float64) {
	h.mom.add(v)
	x := math.Round(v * h.scale)
	// HDR histograms hold non-negative integers; negative values (an issue
	// delay of a request sent early) count as 0 in percentiles, exactly in
	// the moments.
	if x < 0 || math.IsNaN(x) {
		x = 0
	}
	if hi := float64(h.h.HighestTrackableValue()); x > hi {
		x = hi
	}
	_ = h.h.RecordValue(int64(x))
}

// recordBatch is record for each of vs, cheaper per value: the variance
// takes the batch's own (two passes, no division per value) and merges it
// with Chan et al.'s formula, and one histogram's counts stay in cache for
// the whole batch. The count, sum (compensated), min and max are the same
// as record's.
func (h *histogram) recordBatch(vs []float64) {
	if len(vs) == 0 {
		return
	}
	m := &h.mom
	if m.n == 0 {
		m.min, m.max = vs[0], vs[0]
	}
	var bsum float64
	for _, v := range vs {
		m.min, m.max = min(m.min, v), max(m.max, v)
		y := v - m.comp
		t := m.sum + y
		m.comp = (t - m.sum) - y
		m.sum = t
		bsum += v
	}
	nb := float64(len(vs))
	bmean := bsum / nb
	var bm2 float64
	for _, v := range vs {
		d := v - bmean
		bm2 += d * d
	}
	if m.n == 0 {
		m.mean, m.m2 = bmean, bm2
	} else {
		n := float64(m.n) + nb
		d := bmean - m.mean
		m.m2 += bm2 + d*d*float64(m.n)*nb/n
		m.mean += d * nb / n
	}
	m.n += int64(len(vs))
	hi := float64(h.h.HighestTrackableValue())
	for _, v := range vs {
		x := math.Round(v * h.scale)
		if x < 0 || math.IsNaN(x) { // see record
			x = 0
		}
		if x > hi {
			x = hi
		}
		_ = h.h.RecordValue(int64(x))
	}
}

// quantile returns the q-th percentile (0..100) in base units.
func (h *histogram) quantile(q float64) float64 {
	return float64(h.h.ValueAtQuantile(q)) / h.scale
}

// stats returns HDR-derived statistics: moments exact, percentiles from the
// histogram (clamped into [min, max]).
func (h *histogram) stats(scale float64) results.Stats {
	m := h.mom
	if m.n == 0 {
		return results.Stats{}
	}
	st := results.Stats{Avg: m.sum / float64(m.n) * scale, Min: m.min * scale, Max: m.max * scale,
		Sum: m.sum * scale, Std: math.Sqrt(m.m2/float64(m.n)) * scale, Count: m.n,
		Approx: true, Precision: math.Pow(10, -float64(h.h.SignificantFigures()))}
	ps := [len(percentiles)]*float64{&st.P1, &st.P5, &st.P10, &st.P25, &st.P50, &st.P75, &st.P90, &st.P95, &st.P99}
	for i, q := range percentiles {
		v := min(max(h.quantile(q), m.min), m.max)
		*ps[i] = v * scale
	}
	return st
}

// adjustedStats are AIPerf's failure-adjusted statistics (metrics.md §8):
// the n values (value(rank) returns the rank-th smallest, base units) plus
// one +inf per failed request. Percentiles use the nearest rank
// (round-half-even of q/100·(N−1)); avg and sum are +inf; std is absent
// (NaN); count is N = n + failed.
func adjustedStats(n int, failed int64, value func(rank int) float64, scale float64) results.Stats {
	total := int64(n) + failed
	at := func(rank int64) float64 {
		if rank >= int64(n) {
			return math.Inf(1)
		}
		return value(int(rank)) * scale
	}
	st := results.Stats{Avg: math.Inf(1), Sum: math.Inf(1), Std: math.NaN(), Count: total,
		Min: at(0), Max: at(total - 1)}
	ps := [len(percentiles)]*float64{&st.P1, &st.P5, &st.P10, &st.P25, &st.P50, &st.P75, &st.P90, &st.P95, &st.P99}
	for i, q := range percentiles {
		*ps[i] = at(int64(math.RoundToEven(q / 100 * float64(total-1))))
	}
	return st
}
