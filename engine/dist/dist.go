// Package dist holds the value distributions scenarios use for lengths, delays
// and counts: dist.normal, dist.uniform, dist.fixed and weighted mixes. Each is
// sampled from a caller-owned seeded RNG so results are reproducible.
package dist

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Dist is a distribution of real values.
type Dist interface {
	// Sample draws one value using r.
	Sample(r *rand.Rand) float64
	// Mean is the distribution's expected value (used for planning and display).
	Mean() float64
	// String renders the distribution as the Starlark call that builds it.
	String() string
}

// Fixed always yields V.
type Fixed struct{ V float64 }

// Normal is N(Mu, Sigma); Sigma 0 makes it fixed.
type Normal struct{ Mu, Sigma float64 }

// Uniform draws uniformly from [Lo, Hi].
type Uniform struct{ Lo, Hi float64 }

// Choice is one weighted alternative of a Mix.
type Choice struct {
	Weight float64
	D      Dist
}

// Mix picks one alternative by weight and samples it.
type Mix struct{ Choices []Choice }

func (d Fixed) Sample(*rand.Rand) float64 { return d.V }
func (d Fixed) Mean() float64             { return d.V }
func (d Fixed) String() string            { return "dist.fixed(" + num(d.V) + ")" }

func (d Normal) Sample(r *rand.Rand) float64 {
	if d.Sigma == 0 {
		return d.Mu
	}
	return d.Mu + d.Sigma*r.NormFloat64()
}
func (d Normal) Mean() float64 { return d.Mu }
func (d Normal) String() string {
	return "dist.normal(" + num(d.Mu) + ", " + num(d.Sigma) + ")"
}

func (d Uniform) Sample(r *rand.Rand) float64 { return d.Lo + (d.Hi-d.Lo)*r.Float64() }
func (d Uniform) Mean() float64               { return (d.Lo + d.Hi) / 2 }
func (d Uniform) String() string {
	return "dist.uniform(" + num(d.Lo) + ", " + num(d.Hi) + ")"
}

func (d Mix) Sample(r *rand.Rand) float64 {
	total := 0.0
	for _, c := range d.Choices {
		total += c.Weight
	}
	x := r.Float64() * total
	for _, c := range d.Choices {
		if x < c.Weight {
			return c.D.Sample(r)
		}
		x -= c.Weight
	}
	return d.Choices[len(d.Choices)-1].D.Sample(r)
}

func (d Mix) Mean() float64 {
	total, sum := 0.0, 0.0
	for _, c := range d.Choices {
		total += c.Weight
		sum += c.Weight * c.D.Mean()
	}
	if total == 0 {
		return 0
	}
	return sum / total
}

func (d Mix) String() string {
	parts := make([]string, len(d.Choices))
	for i, c := range d.Choices {
		parts[i] = "(" + num(c.Weight) + ", " + c.D.String() + ")"
	}
	return "dist.mix([" + strings.Join(parts, ", ") + "])"
}

// NewNormal validates and builds a normal distribution.
func NewNormal(mu, sigma float64) (Normal, error) {
	if sigma < 0 || math.IsNaN(sigma) || math.IsNaN(mu) {
		return Normal{}, fmt.Errorf("dist.normal: stddev must be >= 0, got %v", sigma)
	}
	return Normal{mu, sigma}, nil
}

// NewUniform validates and builds a uniform distribution.
func NewUniform(lo, hi float64) (Uniform, error) {
	if hi < lo || math.IsNaN(lo) || math.IsNaN(hi) {
		return Uniform{}, fmt.Errorf("dist.uniform: need lo <= hi, got lo=%v hi=%v", lo, hi)
	}
	return Uniform{lo, hi}, nil
}

// NewMix validates and builds a weighted mixture.
func NewMix(choices []Choice) (Mix, error) {
	if len(choices) == 0 {
		return Mix{}, fmt.Errorf("dist.mix: needs at least one (weight, dist) pair")
	}
	for i, c := range choices {
		if c.Weight <= 0 || math.IsNaN(c.Weight) {
			return Mix{}, fmt.Errorf("dist.mix: weight %d must be > 0, got %v", i, c.Weight)
		}
	}
	return Mix{choices}, nil
}

// SampleInt draws a value and rounds it to an integer no smaller than min.
func SampleInt(d Dist, r *rand.Rand, min int) int {
	v := int(math.Round(d.Sample(r)))
	if v < min {
		return min
	}
	return v
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
