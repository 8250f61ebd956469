package servermetrics

import (
	"math"
	"sort"

	"github.com/loadstar/loadstar/engine/results"
)

// percentiles are the statistics AIPerf reports, in order.
var percentiles = [...]float64{1, 5, 10, 25, 50, 75, 90, 95, 99}

// weighted is a value seen count times in a row (a run of equal samples).
type weighted struct {
	v float64
	n int
}

// gaugeStats computes a gauge's statistics from runs of samples: exact
// percentiles by linear interpolation between closest ranks (numpy's
// default) and the sample standard deviation (ddof=1), as AIPerf does.
// It returns nil without samples.
func gaugeStats(runs []weighted) *results.GaugeStats {
	total := 0
	sum := 0.0
	for _, r := range runs {
		total += r.n
		sum += r.v * float64(r.n)
	}
	if total == 0 {
		return nil
	}
	mean := sum / float64(total)
	ss := 0.0
	for _, r := range runs {
		d := r.v - mean
		ss += d * d * float64(r.n)
	}
	sorted := append([]weighted(nil), runs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].v < sorted[j].v })
	g := &results.GaugeStats{Avg: mean, Min: sorted[0].v, Max: sorted[len(sorted)-1].v, Count: total}
	if total > 1 {
		g.Std = math.Sqrt(ss / float64(total-1))
	}
	ps := [9]*float64{&g.P1, &g.P5, &g.P10, &g.P25, &g.P50, &g.P75, &g.P90, &g.P95, &g.P99}
	for i, q := range percentiles {
		*ps[i] = weightedPercentile(sorted, total, q)
	}
	return g
}

// weightedPercentile is numpy's linear percentile of the sequence that
// sorted (runs by value) expands to.
func weightedPercentile(sorted []weighted, total int, q float64) float64 {
	rank := q / 100 * float64(total-1)
	lo := int(math.Floor(rank))
	frac := rank - float64(lo)
	a := nth(sorted, lo)
	if frac == 0 || lo+1 >= total {
		return a
	}
	return a + (nth(sorted, lo+1)-a)*frac
}

// nth is the k-th (0-based) value of the expanded sequence.
func nth(sorted []weighted, k int) float64 {
	for _, r := range sorted {
		if k < r.n {
			return r.v
		}
		k -= r.n
	}
	return sorted[len(sorted)-1].v
}

// HistogramQuantile estimates the q-quantile (0 ≤ q ≤ 1) of cumulative
// buckets the way Prometheus' histogram_quantile does: the bucket holding
// the rank is found and the value interpolated linearly inside it, the
// lowest bucket starting at 0 (or at its bound when that is ≤ 0), and a rank
// in the +Inf bucket giving the highest finite bound. It returns NaN when
// the buckets are empty or do not end with +Inf.
func HistogramQuantile(q float64, buckets []results.Bucket) float64 {
	n := len(buckets)
	if n < 2 || !math.IsInf(buckets[n-1].Le, 1) || math.IsNaN(q) {
		return math.NaN()
	}
	if q < 0 {
		return math.Inf(-1)
	}
	if q > 1 {
		return math.Inf(1)
	}
	// Counts must not decrease (a scrape can catch a histogram mid-update).
	counts := make([]float64, n)
	for i, b := range buckets {
		counts[i] = b.Count
		if i > 0 && counts[i] < counts[i-1] {
			counts[i] = counts[i-1]
		}
	}
	total := counts[n-1]
	if total <= 0 {
		return math.NaN()
	}
	rank := q * total
	b := sort.SearchFloat64s(counts, rank)
	if b >= n-1 {
		return buckets[n-2].Le
	}
	if b == 0 && buckets[0].Le <= 0 {
		return buckets[0].Le
	}
	start, end := 0.0, buckets[b].Le
	count := counts[b]
	if b > 0 {
		start = buckets[b-1].Le
		count -= counts[b-1]
		rank -= counts[b-1]
	}
	if count == 0 {
		return end
	}
	return start + (end-start)*(rank/count)
}

// histogramEstimates fills the percentile estimates of h (Count, Sum and
// Avg set) from its buckets: Prometheus' histogram_quantile, except when
// every observation of the window lies in one bucket. The exact mean then
// narrows the bucket to the widest interval inside it centred on the mean,
// where the observations are taken as spread evenly (AIPerf's "shifted
// uniform"); so observations that are all 0 give 0, not half the first
// bucket's bound.
func histogramEstimates(h *results.HistogramStats) {
	ps := [9]*float64{&h.P1, &h.P5, &h.P10, &h.P25, &h.P50, &h.P75, &h.P90, &h.P95, &h.P99}
	lo, hi, single := oneBucket(h.Buckets)
	mu := h.Avg
	if single && h.Count > 0 && mu >= lo && mu <= hi {
		a, b := lo, hi
		if math.IsInf(hi, 1) || mu-lo < hi-mu {
			b = 2*mu - lo
		} else {
			a = 2*mu - hi
		}
		for i, q := range percentiles {
			*ps[i] = a + (b-a)*q/100
		}
		return
	}
	for i, q := range percentiles {
		*ps[i] = HistogramQuantile(q/100, h.Buckets)
	}
}

// oneBucket reports whether every observation of cumulative buckets lies in
// one bucket, and its bounds (the lowest starting at 0, as
// histogram_quantile takes it).
func oneBucket(bs []results.Bucket) (lo, hi float64, ok bool) {
	n := len(bs)
	if n == 0 || bs[n-1].Count <= 0 {
		return 0, 0, false
	}
	total := bs[n-1].Count
	prev := 0.0
	for i, b := range bs {
		if b.Count <= 0 {
			continue
		}
		if b.Count < total {
			return 0, 0, false
		}
		if i > 0 {
			prev = bs[i-1].Le
		} else if b.Le <= 0 {
			prev = b.Le
		}
		return prev, b.Le, true
	}
	return 0, 0, false
}

// meanStd returns the mean and the sample standard deviation of xs.
func meanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}
