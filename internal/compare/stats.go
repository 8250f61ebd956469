package compare

import (
	"math"
	"sort"

	"github.com/loadstar/loadstar/internal/sweep"
)

// MannWhitney is the two-sided Mann–Whitney U test of two samples: the
// p-value of "neither sample tends to have larger values than the other",
// by the normal approximation with tie and continuity corrections (the
// samples compared here have tens to millions of values). It returns 1 for
// two constant, equal samples and NaN when a sample is empty.
func MannWhitney(a, b []float64) float64 {
	n1, n2 := len(a), len(b)
	if n1 == 0 || n2 == 0 {
		return math.NaN()
	}
	type obs struct {
		v     float64
		first bool
	}
	all := make([]obs, 0, n1+n2)
	for _, v := range a {
		all = append(all, obs{v, true})
	}
	for _, v := range b {
		all = append(all, obs{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	n := float64(n1 + n2)
	rankSum, tieTerm := 0.0, 0.0
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2 // average of ranks i+1 … j
		for k := i; k < j; k++ {
			if all[k].first {
				rankSum += rank
			}
		}
		if t := float64(j - i); t > 1 {
			tieTerm += t*t*t - t
		}
		i = j
	}
	u := rankSum - float64(n1)*float64(n1+1)/2
	mean := float64(n1) * float64(n2) / 2
	variance := float64(n1) * float64(n2) / 12 * ((n + 1) - tieTerm/(n*(n-1)))
	if variance <= 0 {
		return 1
	}
	z := (math.Abs(u-mean) - 0.5) / math.Sqrt(variance)
	if z < 0 {
		z = 0
	}
	return math.Erfc(z / math.Sqrt2)
}

// Welch is the two-sided Welch t-test of two small samples (trial values):
// the p-value of "the means are equal". NaN with fewer than two values on a
// side; 1 when both sides are constant and equal, 0 when constant and
// different.
func Welch(a, b []float64) float64 {
	if len(a) < 2 || len(b) < 2 {
		return math.NaN()
	}
	m1, v1 := meanVar(a)
	m2, v2 := meanVar(b)
	se2 := v1/float64(len(a)) + v2/float64(len(b))
	if se2 == 0 {
		if m1 == m2 {
			return 1
		}
		return 0
	}
	t := (m1 - m2) / math.Sqrt(se2)
	df := se2 * se2 / (sq(v1/float64(len(a)))/float64(len(a)-1) + sq(v2/float64(len(b)))/float64(len(b)-1))
	return 2 * (1 - sweep.TCDF(math.Abs(t), df))
}

func meanVar(xs []float64) (mean, variance float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += sq(x - mean)
	}
	return mean, variance / float64(len(xs)-1)
}

func sq(x float64) float64 { return x * x }

// QuantileCI is the distribution-free confidence interval, at level
// 1−alpha, of the q-quantile (0 < q < 1) of a sorted sample: the order
// statistics around rank n·q, ± z·√(n·q·(1−q)) (the binomial count of
// values below the quantile, normal approximation). A bound beyond the
// sample is infinite.
func QuantileCI(sorted []float64, q, alpha float64) (lo, hi float64) {
	n := len(sorted)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	z := math.Sqrt2 * math.Erfinv(1-alpha)
	k := float64(n) * q
	h := z * math.Sqrt(float64(n)*q*(1-q))
	l := int(math.Floor(k - h))
	u := int(math.Ceil(k + h))
	// Beyond the sample the bound is unknown: a small sample cannot pin
	// down an extreme quantile.
	lo, hi = math.Inf(-1), math.Inf(1)
	if l >= 0 {
		lo = sorted[min(l, n-1)]
	}
	if u <= n-1 {
		hi = sorted[max(u, 0)]
	}
	return lo, hi
}

// QuantilesDiffer reports whether the q-quantiles of two sorted samples
// differ: their confidence intervals at level 1−alpha do not overlap (a
// conservative test: real differences smaller than the intervals' width
// are called noise).
func QuantilesDiffer(a, b []float64, q, alpha float64) bool {
	loA, hiA := QuantileCI(a, q, alpha)
	loB, hiB := QuantileCI(b, q, alpha)
	return loB > hiA || hiB < loA
}

// minBatches is the fewest batches per side for the batch test.
const minBatches = 6

// maxBatches bounds the batches per side.
const maxBatches = 30

// batchCount is how many batches n requests make for the statistic of
// quantile q (0 for the mean): at least 8 requests per batch, and for a
// percentile at least 4 expected values above it in each batch (so a batch
// p99 needs 400 requests).
func batchCount(n int, q float64) int {
	per := 8.0
	if q > 0 {
		per = math.Max(per, 4/math.Min(q, 1-q))
	}
	return min(maxBatches, int(float64(n)/per))
}

// batchStatistic returns the function computing stat over a batch: mean
// or a percentile; ok is false for other statistics (min, max, std).
func batchStatistic(stat string) (func([]float64) float64, bool) {
	if stat == "avg" {
		return func(xs []float64) float64 {
			s := 0.0
			for _, x := range xs {
				s += x
			}
			return s / float64(len(xs))
		}, true
	}
	if q, ok := quantileOf(stat); ok {
		return func(xs []float64) float64 { return linearPercentile(sortedCopy(xs), q) }, true
	}
	return nil, false
}

// Batches splits values (in request order) into k consecutive batches of
// nearly equal size and returns stat of each.
func Batches(values []float64, k int, stat func([]float64) float64) []float64 {
	out := make([]float64, 0, k)
	for i := 0; i < k; i++ {
		lo, hi := i*len(values)/k, (i+1)*len(values)/k
		if hi > lo {
			out = append(out, stat(values[lo:hi]))
		}
	}
	return out
}

// linearPercentile is numpy's linear interpolation over sorted values.
func linearPercentile(sorted []float64, q float64) float64 {
	v := q * float64(len(sorted)-1)
	lo := int(math.Floor(v))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (v-float64(lo))*(sorted[hi]-sorted[lo])
}

func sortedCopy(xs []float64) []float64 {
	out := append([]float64(nil), xs...)
	sort.Float64s(out)
	return out
}
