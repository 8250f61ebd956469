package timing

import (
	"math"
	"math/rand/v2"
)

// gammaVariate draws from Gamma(shape, 1) with Marsaglia and Tsang's method
// (ACM TOMS 26(3), 2000); shapes below 1 use the boost
// Gamma(a) = Gamma(a+1)·U^(1/a). math/rand has no gamma sampler.
func gammaVariate(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		u := r.Float64()
		for u == 0 {
			u = r.Float64()
		}
		return gammaVariate(r, shape+1) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		var x, v float64
		for {
			x = r.NormFloat64()
			v = 1 + c*x
			if v > 0 {
				break
			}
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x {
			return d * v
		}
		if u > 0 && math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// betaVariate draws from Beta(a, b). Beta(1, b), the Poisson case of the
// exact-count schedule, uses the closed form 1 − U^(1/b).
func betaVariate(r *rand.Rand, a, b float64) float64 {
	if a == 1 {
		return -math.Expm1(math.Log1p(-r.Float64()) / b)
	}
	x := gammaVariate(r, a)
	y := gammaVariate(r, b)
	if x+y == 0 {
		return 0
	}
	return x / (x + y)
}

// expVariate draws from Exp(1).
func expVariate(r *rand.Rand) float64 { return r.ExpFloat64() }

// splitmix64 scrambles x; used to derive independent per-concern seeds and
// per-request decisions that do not depend on goroutine order.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// labelHash is FNV-1a of s.
func labelHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// NewRand returns a PCG generator for one concern of a run (e.g. "schedule",
// "ramp"), derived from the run's seed so that concerns draw independent
// streams and adding draws to one never shifts another.
func NewRand(seed uint64, concern string) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(seed), splitmix64(seed^labelHash(concern))))
}

// unitFloat maps a 64-bit value to [0, 1).
func unitFloat(x uint64) float64 { return float64(x>>11) / (1 << 53) }
