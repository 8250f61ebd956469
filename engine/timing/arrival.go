package timing

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// ArrivalPattern draws the gaps between the arrivals of an open-loop
// schedule. Gaps are in units of the mean gap (they average 1), so one
// pattern serves any rate and any ramp: the schedule maps them onto time
// through the cumulative rate.
//
// Implementations must be safe to share between runs; all randomness comes
// from the *rand.Rand passed in.
type ArrivalPattern interface {
	// Gap draws the next gap (mean 1, never negative).
	Gap(r *rand.Rand) float64
	// String renders the pattern as its Starlark constructor.
	String() string
}

// GammaShaped is implemented by patterns whose gaps are gamma-distributed:
// Shape 1 is Poisson, +Inf constant. For them a schedule with a known count
// can be drawn exactly conditioned on that count (see Schedule).
type GammaShaped interface {
	GammaShape() float64
}

// ClosedLoopPattern is implemented by concurrency_burst: no schedule at all,
// each request is sent as soon as a concurrency slot is free.
type ClosedLoopPattern interface {
	ClosedLoop() bool
}

// Constant spaces arrivals exactly 1/rate apart.
type Constant struct{}

// Gap implements ArrivalPattern.
func (Constant) Gap(*rand.Rand) float64 { return 1 }

// GammaShape implements GammaShaped (a constant is the limit of infinite shape).
func (Constant) GammaShape() float64 { return math.Inf(1) }

func (Constant) String() string { return "arrival.constant()" }

// Poisson draws exponential gaps: a Poisson process, the default and what
// MLPerf LoadGen's Server scenario uses.
type Poisson struct{}

// Gap implements ArrivalPattern.
func (Poisson) Gap(r *rand.Rand) float64 { return expVariate(r) }

// GammaShape implements GammaShaped.
func (Poisson) GammaShape() float64 { return 1 }

func (Poisson) String() string { return "arrival.poisson()" }

// Gamma draws Gamma(k, 1/k) gaps: smoothness k = 1 is Poisson, k < 1 is
// burstier, k > 1 smoother; the squared coefficient of variation of the gaps
// is 1/k. This is vLLM's --burstiness and AIPerf's --arrival-smoothness.
type Gamma struct{ Smoothness float64 }

// NewGamma validates the smoothness.
func NewGamma(k float64) (Gamma, error) {
	if !(k > 0) || math.IsInf(k, 0) {
		return Gamma{}, fmt.Errorf("arrival.gamma: smoothness must be a positive number, got %v", k)
	}
	return Gamma{k}, nil
}

// Gap implements ArrivalPattern.
func (g Gamma) Gap(r *rand.Rand) float64 {
	if g.Smoothness == 1 {
		return expVariate(r)
	}
	return gammaVariate(r, g.Smoothness) / g.Smoothness
}

// GammaShape implements GammaShaped.
func (g Gamma) GammaShape() float64 { return g.Smoothness }

func (g Gamma) String() string { return "arrival.gamma(smoothness=" + num(g.Smoothness) + ")" }

// ConcurrencyBurst is the closed-loop pattern: no rate, each request goes as
// soon as one of max_concurrency slots is free (AIPerf's concurrency mode).
type ConcurrencyBurst struct{}

// Gap implements ArrivalPattern: there is no wait between arrivals.
func (ConcurrencyBurst) Gap(*rand.Rand) float64 { return 0 }

// ClosedLoop implements ClosedLoopPattern.
func (ConcurrencyBurst) ClosedLoop() bool { return true }

func (ConcurrencyBurst) String() string { return "arrival.concurrency_burst()" }

func isClosedLoop(a ArrivalPattern) bool {
	c, ok := a.(ClosedLoopPattern)
	return ok && c.ClosedLoop()
}
