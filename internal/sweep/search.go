package sweep

import (
	"context"
	"fmt"
	"math"
)

// SearchSpec configures Search: the largest knob value in [Lo, Max] for
// which Probe passes, assuming passing is monotone (it holds below some
// value and fails above it).
type SearchSpec struct {
	Knob string
	// Lo is the first probe; Hi the first upper probe of the bracketing
	// phase, which multiplies it by Growth while probes pass, up to Max.
	Lo, Hi, Max float64
	Growth      float64 // default 2
	// Tolerance stops bisection when (fail − pass) <= Tolerance·pass
	// (relative) ...
	Tolerance float64
	// ... or when fail − pass <= Step (absolute; 1 for integer knobs).
	Step float64
	// Integer rounds probes to whole numbers (concurrency).
	Integer bool
	// MaxProbes bounds the number of benchmarks run (default 20).
	MaxProbes int
}

// Probe is one benchmark at a knob value.
type Probe struct {
	Value  float64
	Passed bool
	// Reasons say why a probe failed (the objectives it missed).
	Reasons []string
	Phase   string // "bracket" or "bisect"
	// Err is set when the probe could not run (its Passed is false).
	Err error
}

// SearchResult is the outcome of a search.
type SearchResult struct {
	// Best is the largest passing value (NaN when even Lo failed).
	Best float64
	// Found is false when no probed value passed.
	Found bool
	// Bracket is the final [pass, fail] interval (fail is +Inf when Max passed).
	PassAt, FailAt float64
	Probes         []Probe
	// Converged is false when MaxProbes ran out before the tolerance was met.
	Converged bool
}

// ProbeFunc runs one benchmark at value and reports whether the objectives
// held. An error aborts the search.
type ProbeFunc func(ctx context.Context, value float64, phase string) (passed bool, reasons []string, err error)

// Search brackets then bisects to find the largest passing value.
func Search(ctx context.Context, s SearchSpec, probe ProbeFunc) (SearchResult, error) {
	if s.Growth <= 1 {
		s.Growth = 2
	}
	if s.MaxProbes <= 0 {
		s.MaxProbes = 20
	}
	if s.Integer && s.Step < 1 {
		s.Step = 1
	}
	if s.Lo <= 0 || math.IsNaN(s.Lo) {
		return SearchResult{}, fmt.Errorf("search: lo must be > 0, got %v", s.Lo)
	}
	if s.Hi <= s.Lo {
		s.Hi = s.Lo * s.Growth
	}
	if s.Max == 0 {
		s.Max = math.Inf(1)
	}
	if s.Max < s.Lo {
		return SearchResult{}, fmt.Errorf("search: max (%v) must be >= lo (%v)", s.Max, s.Lo)
	}
	if s.Tolerance <= 0 && s.Step <= 0 {
		s.Tolerance = 0.05
	}
	res := SearchResult{Best: math.NaN(), FailAt: math.Inf(1)}
	round := func(v float64) float64 {
		if s.Integer {
			return math.Round(v)
		}
		return v
	}
	run := func(v float64, phase string) (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		ok, reasons, err := probe(ctx, v, phase)
		res.Probes = append(res.Probes, Probe{Value: v, Passed: ok && err == nil, Reasons: reasons, Phase: phase, Err: err})
		return ok && err == nil, err
	}
	done := func(pass, fail float64) bool {
		gap := fail - pass
		if s.Step > 0 && gap <= s.Step {
			return true
		}
		return s.Tolerance > 0 && gap <= s.Tolerance*pass
	}

	// Bracketing: find pass < fail.
	lo := round(s.Lo)
	ok, err := run(lo, "bracket")
	if err != nil {
		return res, err
	}
	if !ok {
		res.FailAt = lo
		res.Converged = true
		return res, nil
	}
	pass, fail := lo, math.Inf(1)
	next := round(math.Min(s.Hi, s.Max))
	for len(res.Probes) < s.MaxProbes {
		if next <= pass {
			break // reached Max
		}
		ok, err := run(next, "bracket")
		if err != nil {
			return res, err
		}
		if !ok {
			fail = next
			break
		}
		pass = next
		if pass >= s.Max {
			break
		}
		next = round(math.Min(pass*s.Growth, s.Max))
	}
	// Bisection.
	for !math.IsInf(fail, 1) && !done(pass, fail) && len(res.Probes) < s.MaxProbes {
		mid := round((pass + fail) / 2)
		if mid <= pass || mid >= fail {
			break // integer knob: nothing left between
		}
		ok, err := run(mid, "bisect")
		if err != nil {
			return res, err
		}
		if ok {
			pass = mid
		} else {
			fail = mid
		}
	}
	res.Best, res.Found, res.PassAt, res.FailAt = pass, true, pass, fail
	res.Converged = math.IsInf(fail, 1) && pass >= s.Max || !math.IsInf(fail, 1) && (done(pass, fail) || s.Integer && fail-pass <= 1)
	return res, nil
}
