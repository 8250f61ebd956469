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
	t := s.prof.inverse(s.u)
	if math.IsInf(t, 1) {
		s.n, s.i = 1, 1 // the rate has ended at 0: nothing more arrives
		return 0, false
	}
	return time.Duration(math.Round(t * 1e9)), true
}

// expectedCount returns Λ(d): the number of arrivals the rate profile
// schedules within d of the start.
func expectedCount(rate float64, ramp []Step, d time.Duration) float64 {
	p := newRateProfile(rate, ramp)
	return p.lambda(d.Seconds())
}

// rateProfile is a piecewise-linear rate: on segment i, from at[i] to
// at[i+1], the rate goes from rate[i] with slope slope[i] (req/s²); the last
// segment lasts for ever. Ramps and step series are piecewise constant
// (every slope 0). Times are seconds from the schedule's start.
type rateProfile struct {
	at, rate, slope, cum []float64 // segment start, its rate and slope, Λ at its start
	cur                  int       // inverse's cursor; queries are ascending
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
	p.slope = make([]float64, len(p.at))
	p.accumulate()
	return p
}

// accumulate fills cum from at, rate and slope.
func (p *rateProfile) accumulate() {
	p.cum = make([]float64, len(p.at))
	for i := 1; i < len(p.at); i++ {
		dt := p.at[i] - p.at[i-1]
		p.cum[i] = p.cum[i-1] + p.rate[i-1]*dt + p.slope[i-1]*dt*dt/2
	}
}

// segmentOf returns the segment holding time t.
func (p *rateProfile) segmentOf(t float64) int {
	i := len(p.at) - 1
	for i > 0 && p.at[i] > t {
		i--
	}
	return i
}

// lambda returns Λ(t).
func (p *rateProfile) lambda(t float64) float64 {
	i := p.segmentOf(t)
	dt := t - p.at[i]
	return p.cum[i] + p.rate[i]*dt + p.slope[i]*dt*dt/2
}

// rateAt returns the rate at time t.
func (p *rateProfile) rateAt(t float64) float64 {
	i := p.segmentOf(t)
	return p.rate[i] + p.slope[i]*(t-p.at[i])
}

// inverse returns the time t with Λ(t) = u, +Inf when the rate ends at 0
// before reaching u. Calls must have non-decreasing u.
func (p *rateProfile) inverse(u float64) float64 {
	for p.cur+1 < len(p.at) && p.cum[p.cur+1] <= u {
		p.cur++
	}
	i := p.cur
	x := u - p.cum[i]
	if x <= 0 {
		return p.at[i]
	}
	r, a := p.rate[i], p.slope[i]
	// Solve a/2·dt² + r·dt = x in the form that stays exact as a → 0.
	disc := r*r + 2*a*x
	if disc < 0 || r+math.Sqrt(max(disc, 0)) <= 0 {
		return math.Inf(1)
	}
	return p.at[i] + 2*x/(r+math.Sqrt(disc))
}
