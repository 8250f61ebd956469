package timing

import (
	"math"
	"math/rand/v2"
	"time"
)

// Schedule generates the arrival times of an open-loop strategy,
// deterministically from a seed and incrementally, so that memory stays flat
// however many requests a run sends.
//
// Arrivals are drawn on a unit-rate axis (gaps from an ArrivalPattern, mean 1)
// and mapped onto time through the cumulative rate Λ(t) = ∫ rate — the
// time-rescaling construction of a non-homogeneous process — so ramps bend
// the schedule without changing the pattern's character.
//
// When the number of arrivals N is known in advance (a request count, or a
// duration at a known rate) and the pattern is gamma-shaped, the schedule is
// drawn conditioned on exactly N arrivals within its span (the gaps are a
// Dirichlet vector, drawn by sequential stick-breaking), so that the realized
// rate equals the target rate exactly: an unconditioned Poisson schedule of
// 20,000 requests misses its nominal rate by ±0.7 % by chance alone. For a
// Poisson pattern the conditioned arrivals are uniform order statistics,
// still a Poisson process given its count.
type Schedule struct {
	prof  rateProfile
	arr   ArrivalPattern
	r     *rand.Rand
	n     int64 // exact count; 0 = unbounded, unconditioned
	shape float64
	i     int64
	u     float64 // position on the unit-rate axis
	frac  float64 // exact mode: fraction of the span consumed
}

// NewSchedule returns the schedule of pattern arr at rate req/s, bent by the
// ramp steps (nil = none). exact > 0 draws exactly that many arrivals
// conditioned on their count when arr is gamma-shaped (others draw
// unconditioned gaps and also stop after exact arrivals).
func NewSchedule(arr ArrivalPattern, rate float64, ramp []Step, r *rand.Rand, exact int64) *Schedule {
	s := &Schedule{prof: newRateProfile(rate, ramp), arr: arr, r: r, n: exact, shape: -1}
	if g, ok := arr.(GammaShaped); ok && exact > 0 {
		s.shape = g.GammaShape()
	}
	return s
}

// Next returns the offset of the next arrival from the schedule's start and
// false once an exact schedule is exhausted. The first arrival is at offset
// 0; an exact schedule of n arrivals spans n mean gaps, its last gap after
// the last arrival, so n arrivals at rate R fill [0, n/R).
func (s *Schedule) Next() (time.Duration, bool) {
	if s.n > 0 && s.i >= s.n {
		return 0, false
	}
	if s.i > 0 {
		switch {
		case s.shape < 0:
			s.u += s.arr.Gap(s.r)
		case math.IsInf(s.shape, 1):
			s.u = float64(s.i)
		default:
			// Stick-breaking: gap i of the n Dirichlet(k,…,k) parts is a
			// Beta(k, k·(n−i)) share of what remains.
			b := betaVariate(s.r, s.shape, s.shape*float64(s.n-s.i))
			s.frac += (1 - s.frac) * b
			s.u = float64(s.n) * s.frac
		}
	}
	s.i++
	return time.Duration(math.Round(s.prof.inverse(s.u) * 1e9)), true
}

// expectedCount returns Λ(d): the number of arrivals the rate profile
// schedules within d of the start.
func expectedCount(rate float64, ramp []Step, d time.Duration) float64 {
	p := newRateProfile(rate, ramp)
	return p.lambda(d.Seconds())
}

// rateProfile is a piecewise-constant rate: the ramp's levels, then the
// target for ever. Times are seconds from the schedule's start.
type rateProfile struct {
	at, rate, cum []float64 // segment start, its rate, Λ at its start
	cur           int       // inverse's cursor; queries are ascending
}

func newRateProfile(target float64, ramp []Step) rateProfile {
	var p rateProfile
	for _, st := range ramp {
		t := st.At.Seconds()
		if n := len(p.at); n > 0 && t <= p.at[n-1] {
			p.rate[n-1] = st.Value
			continue
		}
		p.at = append(p.at, t)
		p.rate = append(p.rate, st.Value)
	}
	if len(p.at) == 0 || p.at[0] > 0 {
		p.at = append([]float64{0}, p.at...)
		p.rate = append([]float64{target}, p.rate...)
	}
	// The last step is the target's: it lasts for ever.
	p.rate[len(p.rate)-1] = target
	p.cum = make([]float64, len(p.at))
	for i := 1; i < len(p.at); i++ {
		p.cum[i] = p.cum[i-1] + p.rate[i-1]*(p.at[i]-p.at[i-1])
	}
	return p
}

// lambda returns Λ(t).
func (p *rateProfile) lambda(t float64) float64 {
	i := len(p.at) - 1
	for i > 0 && p.at[i] > t {
		i--
	}
	return p.cum[i] + p.rate[i]*(t-p.at[i])
}

// inverse returns the time t with Λ(t) = u. Calls must have non-decreasing u.
func (p *rateProfile) inverse(u float64) float64 {
	for p.cur+1 < len(p.at) && p.cum[p.cur+1] <= u {
		p.cur++
	}
	i := p.cur
	if p.rate[i] <= 0 {
		return p.at[i]
	}
	return p.at[i] + (u-p.cum[i])/p.rate[i]
}
