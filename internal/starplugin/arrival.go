package starplugin

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"

	"go.starlark.net/starlark"

	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/timing"
)

// The arrival_pattern protocol:
//
//	next_interval(state) -> float
//
// returns the gap before the next arrival in units of the mean gap: the
// gaps must average 1 (the strategy's rate and ramp scale them to time),
// and never be negative. state draws random numbers from the run's seeded
// generator, so schedules stay reproducible:
//
//	state.random()          uniform in [0, 1)
//	state.exponential()     exponential with mean 1 (a Poisson process)
//	state.normal()          standard normal
//	state.uniform(lo, hi)   uniform in [lo, hi)
//
// Example: a two-level burst pattern, mean 1.
//
//	def bursty(p = 0.2):
//	    def next_interval(state):
//	        if state.random() < p:
//	            return state.exponential() * 0.1
//	        return state.exponential() * (1 - 0.1 * p) / (1 - p)
//	    return struct(next_interval = next_interval)
var arrivalProtocol = &protocol{
	methods: []method{{name: "next_interval", arity: 1, args: "state"}},
	adapt:   adaptArrival,
}

// probeDraws is how many gaps construction draws to catch errors before
// the run (Gap cannot report one).
const probeDraws = 256

type scriptArrival struct {
	spec    string
	fn      starlark.Callable
	threads *threadPool
	log     *slog.Logger
	once    sync.Once
}

var _ timing.ArrivalPattern = (*scriptArrival)(nil)

func adaptArrival(in *adaptInput) (any, error) {
	a := &scriptArrival{
		spec:    (&plugin.Spec{Category: plugin.ArrivalPattern, Name: in.entry.Name, Args: in.given}).String(),
		fn:      in.methods["next_interval"],
		threads: in.threads,
		log:     in.log,
	}
	// Draw a few gaps now so that a broken pattern fails the run's setup
	// rather than silently during it.
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < probeDraws; i++ {
		if _, err := a.gap(r); err != nil {
			return nil, fmt.Errorf("%s: %w", in.label, err)
		}
	}
	return a, nil
}

func (a *scriptArrival) String() string { return a.spec }

// Gap implements timing.ArrivalPattern. A failure during the run (after the
// construction probe passed) is logged once and the mean gap used.
func (a *scriptArrival) Gap(r *rand.Rand) float64 {
	g, err := a.gap(r)
	if err != nil {
		a.once.Do(func() {
			a.log.Error("arrival pattern failed during the run; using the mean gap", "plugin", a.spec, "error", err)
		})
		return 1
	}
	return g
}

func (a *scriptArrival) gap(r *rand.Rand) (float64, error) {
	out, err := a.threads.call(a.fn, &arrivalState{r: r})
	if err != nil {
		return 0, fmt.Errorf("next_interval: %s", describeEvalError(err))
	}
	f, ok := starlark.AsFloat(out)
	if !ok {
		return 0, fmt.Errorf("next_interval must return a number, got %s", out.Type())
	}
	if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("next_interval must return a finite gap >= 0, got %v", f)
	}
	return f, nil
}

// arrivalState is the `state` argument of next_interval.
type arrivalState struct{ r *rand.Rand }

var _ starlark.HasAttrs = (*arrivalState)(nil)

func (s *arrivalState) String() string        { return "<arrival state>" }
func (s *arrivalState) Type() string          { return "arrival_state" }
func (s *arrivalState) Freeze()               {}
func (s *arrivalState) Truth() starlark.Bool  { return true }
func (s *arrivalState) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: arrival_state") }

func (s *arrivalState) AttrNames() []string {
	return []string{"exponential", "normal", "random", "uniform"}
}

func (s *arrivalState) Attr(name string) (starlark.Value, error) {
	noArgs := func(f func() float64) starlark.Value {
		return starlark.NewBuiltin("state."+name, func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			return starlark.Float(f()), nil
		})
	}
	switch name {
	case "random":
		return noArgs(s.r.Float64), nil
	case "exponential":
		return noArgs(s.r.ExpFloat64), nil
	case "normal":
		return noArgs(s.r.NormFloat64), nil
	case "uniform":
		return starlark.NewBuiltin("state.uniform", func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var lo, hi float64
			if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 2, &lo, &hi); err != nil {
				return nil, err
			}
			if !(hi > lo) {
				return nil, fmt.Errorf("%s: want lo < hi, got %v, %v", fn.Name(), lo, hi)
			}
			return starlark.Float(lo + (hi-lo)*s.r.Float64()), nil
		}), nil
	}
	return nil, nil
}
