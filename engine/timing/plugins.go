package timing

import (
	"time"

	"github.com/loadstar/loadstar/engine/plugin"
)

// Classes returns this package's plugin classes keyed by Go name, as
// engine/plugin/plugins.yaml refers to them (go:engine/timing.<Key>).
func Classes() map[string]*plugin.Class {
	rampParam := func(name, doc string) plugin.Param {
		return plugin.Param{Name: name, Type: plugin.TSpec, SpecCategory: plugin.Ramp, Doc: doc}
	}
	maxConc := plugin.Param{Name: "max_concurrency", Type: plugin.TInt, Default: int64(0),
		Doc: "Most sessions in flight at once (0 = no cap). A request the cap holds back is sent late and keeps its scheduled time, so the lateness shows in the issue delay."}
	rampDuration := plugin.Param{Name: "duration", Type: plugin.TDuration, Required: true,
		Doc: "How long the ramp takes to reach the target."}
	rampStart := plugin.Param{Name: "start", Type: plugin.TFloat,
		Doc: "Initial level (default: 1 for a concurrency, target × update_interval / duration for a rate)."}
	rampUpdate := plugin.Param{Name: "update_interval", Type: plugin.TDuration, Default: defaultUpdateInterval,
		Doc: "How often a rate ramp changes the rate (concurrency ramps move in whole steps)."}

	return map[string]*plugin.Class{
		// Timing strategies.
		"Concurrency": {
			Params: []plugin.Param{
				{Name: "concurrency", Type: plugin.TInt, Required: true,
					Doc: "Sessions in flight at once; the next starts when one ends (closed loop)."},
				rampParam("ramp", "Ramps the concurrency from 1 to its target, e.g. ramp.linear(duration=\"30s\")."),
			},
			New: func(a plugin.Args) (any, error) {
				return NewConcurrency(int(a.Int("concurrency")), specArg(a, "ramp"))
			},
		},
		"RequestRate": {
			Params: []plugin.Param{
				{Name: "rate", Type: plugin.TFloat,
					Doc: "Target requests per second (every turn counts); fractional rates are fine. Not used with arrival.concurrency_burst()."},
				{Name: "arrival", Type: plugin.TSpec, SpecCategory: plugin.ArrivalPattern,
					Doc: "Distribution of the gaps between requests (default arrival.poisson())."},
				maxConc,
				rampParam("ramp", "Ramps the rate up to its target, e.g. ramp.linear(duration=\"1m\")."),
				rampParam("concurrency_ramp", "Ramps max_concurrency from 1 to its value."),
				{Name: "exact", Type: plugin.TBool, Default: true,
					Doc: "When the request count is known (requests=, or a duration), draw the schedule conditioned on that count so the realized rate equals the target exactly (as vLLM rescales its intervals); False draws an unconditioned process whose realized rate varies by about 1/sqrt(count)."},
			},
			New: func(a plugin.Args) (any, error) {
				return NewRequestRate(a.Float("rate"), specArg(a, "arrival"), int(a.Int("max_concurrency")),
					specArg(a, "ramp"), specArg(a, "concurrency_ramp"), a.Bool("exact"))
			},
		},
		"RequestRateSeries": {
			Params: []plugin.Param{
				{Name: "points", Type: plugin.TList,
					Doc: "Control points [(seconds, req/s), ...] (or dicts {\"time_s\": ..., \"qps\": ...}); the rate changes linearly between them, as AIPerf's --request-rate-series. At least two, times strictly increasing, rates > 0."},
				{Name: "segments", Type: plugin.TList,
					Doc: "Steps [(duration, req/s), ...]: each rate held for its duration, e.g. [(\"30s\", 5), (\"10s\", 50)]; a rate of 0 pauses."},
				{Name: "path", Type: plugin.TString,
					Doc: "AIPerf --request-rate-series JSON file: {\"points\": [{\"time_s\": 0, \"qps\": 1}, ...]}; relative to the scenario."},
				{Name: "rate", Type: plugin.TFunc,
					Doc: "Rate function of the elapsed seconds, e.g. lambda t: 5 + t / 10; sampled every step and linear in between."},
				{Name: "duration", Type: plugin.TDuration,
					Doc: "How long a rate function runs (default: the phase's duration stop)."},
				{Name: "step", Type: plugin.TDuration, Default: time.Second,
					Doc: "Sampling step of a rate function."},
				{Name: "arrival", Type: plugin.TSpec, SpecCategory: plugin.ArrivalPattern,
					Doc: "Distribution of the gaps between requests (default arrival.poisson())."},
				maxConc,
				rampParam("concurrency_ramp", "Ramps max_concurrency from 1 to its value."),
				{Name: "exact", Type: plugin.TBool, Default: true,
					Doc: "Draw each stretch of the series (each segment, or between two points) conditioned on the arrivals its rate holds, so every stretch gets exactly its rate; False draws an unconditioned process."},
			},
			New: newRequestRateSeries,
		},
		"FixedSchedule": {
			Params: []plugin.Param{
				{Name: "auto_offset", Type: plugin.TBool, Default: false,
					Doc: "Shift the trace so its first timestamp is sent at once."},
				{Name: "start_offset", Type: plugin.TDuration,
					Doc: "Replay only entries at or after this trace time; it becomes the start."},
				{Name: "end_offset", Type: plugin.TDuration,
					Doc: "Replay only entries at or before this trace time."},
				{Name: "speedup", Type: plugin.TFloat, Default: 1.0,
					Doc: "Divides every timestamp and think time: 2 replays the trace twice as fast."},
				maxConc,
			},
			New: func(a plugin.Args) (any, error) {
				return NewFixedSchedule(a.Bool("auto_offset"), a.Duration("start_offset"), a.Duration("end_offset"),
					a.Has("start_offset"), a.Has("end_offset"), a.Float("speedup"), int(a.Int("max_concurrency")))
			},
		},
		"UserCentricRate": {
			Params: []plugin.Param{
				{Name: "rate", Type: plugin.TFloat, Required: true,
					Doc: "Total requests per second over all users."},
				{Name: "users", Type: plugin.TInt, Required: true,
					Doc: "Simulated users; each sends its turns users/rate seconds apart, one session after another."},
				{Name: "steady_start", Type: plugin.TBool, Default: true,
					Doc: "Join each user's first session part-way so sessions start and end staggered from the beginning, as in a steady state."},
			},
			New: func(a plugin.Args) (any, error) {
				return NewUserCentric(a.Float("rate"), int(a.Int("users")), a.Bool("steady_start"))
			},
		},

		// Arrival patterns.
		"Constant": {New: func(plugin.Args) (any, error) { return Constant{}, nil }},
		"Poisson":  {New: func(plugin.Args) (any, error) { return Poisson{}, nil }},
		"Gamma": {
			Params: []plugin.Param{{Name: "smoothness", Type: plugin.TFloat, Default: 1.0,
				Doc: "Gamma shape k: 1 is Poisson, below 1 burstier, above 1 smoother (the gaps' squared coefficient of variation is 1/k; vLLM's --burstiness)."}},
			New: func(a plugin.Args) (any, error) { return NewGamma(a.Float("smoothness")) },
		},
		"ConcurrencyBurst": {New: func(plugin.Args) (any, error) { return ConcurrencyBurst{}, nil }},

		// Ramps.
		"Linear": {
			Params: []plugin.Param{rampDuration, rampStart,
				{Name: "step", Type: plugin.TFloat, Default: 1.0, Doc: "Increment of a concurrency ramp."},
				rampUpdate},
			New: func(a plugin.Args) (any, error) {
				return NewLinear(a.Duration("duration"), a.Float("start"), a.Float("step"), a.Duration("update_interval"))
			},
		},
		"Exponential": {
			Params: []plugin.Param{rampDuration, rampStart,
				{Name: "exponent", Type: plugin.TFloat, Default: 2.0,
					Doc: "Ease-in curve: the level's progress is (time progress)^exponent; must be > 1."},
				rampUpdate},
			New: func(a plugin.Args) (any, error) {
				return NewExponential(a.Duration("duration"), a.Float("start"), a.Float("exponent"), a.Duration("update_interval"))
			},
		},
		"PoissonRamp": {
			Params: []plugin.Param{rampDuration, rampStart, rampUpdate},
			New: func(a plugin.Args) (any, error) {
				return NewPoissonRamp(a.Duration("duration"), a.Float("start"), a.Duration("update_interval"))
			},
		},

		// URL selection.
		"RoundRobin": {New: func(plugin.Args) (any, error) { return &RoundRobin{}, nil }},
	}
}

// specArg returns a nested plugin argument as given (a built value or a
// *plugin.Spec resolved when the strategy runs), or nil.
func specArg(a plugin.Args, name string) any {
	v, ok := a[name]
	if !ok || v == nil {
		return nil
	}
	return v
}
