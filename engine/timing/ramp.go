package timing

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// Ramp moves a load level (a request rate or a concurrency) from a start
// value up to its target over a duration, after which the level stays at the
// target. Ramps are plugins of category `ramp`:
//
//	timing.concurrency(concurrency=100, ramp=ramp.linear(duration="30s"))
//	timing.request_rate(rate=200, ramp=ramp.exponential(duration="1m"))
type Ramp interface {
	// Duration is how long the ramp takes to reach the target.
	Duration() time.Duration
	// Steps returns the trajectory towards target as level changes at
	// offsets from the ramp's start: ascending offsets, the first at 0, the
	// last at Duration() with exactly target. Discrete ramps (concurrency)
	// move in whole steps from 1; continuous ramps (rate) are sampled every
	// update interval from a small start rate. r supplies any randomness.
	Steps(target float64, discrete bool, r *rand.Rand) []Step
	// String renders the ramp as its Starlark constructor.
	String() string
}

// Step is one level change of a ramp.
type Step struct {
	At    time.Duration
	Value float64
}

// defaultUpdateInterval is how often a continuous (rate) ramp changes the
// level, as AIPerf's rate ramper does.
const defaultUpdateInterval = 100 * time.Millisecond

// rampShape is what distinguishes the built-in ramps: how progress in value
// maps to progress in time, or a drawn trajectory (poisson).
type rampShape uint8

const (
	shapeLinear rampShape = iota + 1
	shapeExponential
	shapePoisson
)

// BuiltinRamp implements the linear, exponential and poisson ramps.
type BuiltinRamp struct {
	shape    rampShape
	duration time.Duration
	// Start is the initial level; 0 = default (1 for concurrency,
	// target·UpdateInterval/Duration for a rate, as AIPerf starts).
	Start float64
	// StepSize is the increment of a discrete linear ramp (default 1).
	StepSize float64
	// Exponent of the exponential ease-in: value progress = (time progress)^Exponent.
	Exponent float64
	// UpdateInterval is the sampling period of continuous ramps.
	UpdateInterval time.Duration
}

// NewLinear returns a linear ramp: equal increments at evenly spaced times.
func NewLinear(d time.Duration, start, step float64, update time.Duration) (*BuiltinRamp, error) {
	r := &BuiltinRamp{shape: shapeLinear, duration: d, Start: start, StepSize: step, UpdateInterval: update}
	return r, r.validate("ramp.linear")
}

// NewExponential returns an ease-in ramp: slow at first, fast at the end.
func NewExponential(d time.Duration, start, exponent float64, update time.Duration) (*BuiltinRamp, error) {
	r := &BuiltinRamp{shape: shapeExponential, duration: d, Start: start, Exponent: exponent, UpdateInterval: update}
	if r.Exponent == 0 {
		r.Exponent = 2
	}
	if err := r.validate("ramp.exponential"); err != nil {
		return nil, err
	}
	if !(r.Exponent > 1) {
		return nil, fmt.Errorf("ramp.exponential: exponent must be > 1, got %v", exponent)
	}
	return r, nil
}

// NewPoissonRamp returns a ramp whose steps fall at the events of a Poisson
// process rescaled to end exactly at the duration: stochastic, yet on time.
func NewPoissonRamp(d time.Duration, start float64, update time.Duration) (*BuiltinRamp, error) {
	r := &BuiltinRamp{shape: shapePoisson, duration: d, Start: start, UpdateInterval: update}
	return r, r.validate("ramp.poisson")
}

func (b *BuiltinRamp) validate(name string) error {
	if b.duration <= 0 {
		return fmt.Errorf("%s: duration must be > 0, got %s", name, b.duration)
	}
	if b.Start < 0 || math.IsNaN(b.Start) {
		return fmt.Errorf("%s: start must be >= 0, got %v", name, b.Start)
	}
	if b.StepSize < 0 || math.IsNaN(b.StepSize) {
		return fmt.Errorf("%s: step must be > 0, got %v", name, b.StepSize)
	}
	if b.StepSize == 0 {
		b.StepSize = 1
	}
	if b.UpdateInterval < 0 {
		return fmt.Errorf("%s: update_interval must be > 0, got %s", name, b.UpdateInterval)
	}
	if b.UpdateInterval == 0 {
		b.UpdateInterval = defaultUpdateInterval
	}
	if b.UpdateInterval > b.duration {
		b.UpdateInterval = b.duration
	}
	return nil
}

// Duration implements Ramp.
func (b *BuiltinRamp) Duration() time.Duration { return b.duration }

func (b *BuiltinRamp) String() string {
	var args []string
	args = append(args, fmt.Sprintf("duration=%q", b.duration.String()))
	if b.Start > 0 {
		args = append(args, "start="+num(b.Start))
	}
	name := "linear"
	switch b.shape {
	case shapeLinear:
		if b.StepSize != 1 {
			args = append(args, "step="+num(b.StepSize))
		}
	case shapeExponential:
		name = "exponential"
		if b.Exponent != 2 {
			args = append(args, "exponent="+num(b.Exponent))
		}
	case shapePoisson:
		name = "poisson"
	}
	if b.UpdateInterval != defaultUpdateInterval {
		args = append(args, fmt.Sprintf("update_interval=%q", b.UpdateInterval.String()))
	}
	return "ramp." + name + "(" + strings.Join(args, ", ") + ")"
}

// startValue is the initial level for target.
func (b *BuiltinRamp) startValue(target float64, discrete bool) float64 {
	if b.Start > 0 {
		return math.Min(b.Start, target)
	}
	if discrete {
		return math.Min(1, target)
	}
	return target * float64(b.UpdateInterval) / float64(b.duration)
}

// Steps implements Ramp.
func (b *BuiltinRamp) Steps(target float64, discrete bool, r *rand.Rand) []Step {
	start := b.startValue(target, discrete)
	span := target - start
	d := float64(b.duration)
	steps := []Step{{0, start}}
	if span <= 0 {
		return append(steps, Step{b.duration, target})
	}
	at := func(frac float64) time.Duration { return time.Duration(math.Round(d * frac)) }
	add := func(t time.Duration, v float64) {
		if t <= steps[len(steps)-1].At {
			steps[len(steps)-1].Value = v // several steps due at once: keep the last
			return
		}
		steps = append(steps, Step{t, v})
	}
	switch {
	case b.shape == shapePoisson:
		// Event times: cumulative exponential gaps rescaled to end at the
		// duration. Discrete: one event per unit; continuous: on average one
		// per update interval, the level rising linearly in the event count.
		n := int(math.Ceil(span))
		if !discrete {
			n = max(1, int(math.Round(d/float64(b.UpdateInterval))))
		}
		gaps := make([]float64, n)
		total := 0.0
		for i := range gaps {
			gaps[i] = expVariate(r)
			total += gaps[i]
		}
		cum := 0.0
		for i := range gaps {
			cum += gaps[i]
			v := start + span*float64(i+1)/float64(n)
			if discrete {
				v = math.Min(start+float64(i+1), target)
			}
			if i == n-1 {
				add(b.duration, target)
				break
			}
			add(at(cum/total), v)
		}
	case discrete:
		inc := 1.0
		if b.shape == shapeLinear {
			inc = b.StepSize
		}
		for v := start + inc; ; v += inc {
			v = math.Min(v, target)
			p := (v - start) / span
			if b.shape == shapeExponential {
				p = math.Pow(p, 1/b.Exponent)
			}
			add(at(p), v)
			if v >= target {
				break
			}
		}
	default:
		n := int(math.Ceil(d / float64(b.UpdateInterval)))
		for k := 1; k <= n; k++ {
			t := min(time.Duration(k)*b.UpdateInterval, b.duration)
			p := float64(t) / d
			if b.shape == shapeExponential {
				p = math.Pow(p, b.Exponent)
			}
			add(t, start+span*p)
		}
	}
	steps[len(steps)-1] = Step{b.duration, target}
	return steps
}
