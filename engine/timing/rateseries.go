package timing

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
)

// RequestRateSeries is the open-loop strategy whose rate follows a series
// (AIPerf --request-rate-series): control points with the rate linear
// between them, (duration, rate) segments, or a rate function of time. Its
// schedule is seeded and exact like request_rate's: with exact (default) and
// a Poisson, gamma or constant pattern, every stratum of the series — each
// segment, or the stretch between two points — gets exactly the arrivals its
// rate holds, drawn conditioned on that count.
//
//	timing.request_rate_series(segments = [("30s", 5), ("10s", 50), ("30s", 5)])
//	timing.request_rate_series(path = "rate.json")          # AIPerf's points file
//	timing.request_rate_series(rate = lambda t: 5 + t / 10, duration = "1m")
//
// Without a stop condition the phase lasts the series' length. Turns of
// multi-turn sessions take slots of the schedule as with request_rate, and a
// max_concurrency cap delays (never skips) new sessions.
type RequestRateSeries struct {
	RequestRate
	// Series is the rate curve; nil when Func is sampled at plan time.
	Series *RateSeries
	// Func gives the rate at t seconds, sampled every Step over Span (or
	// the phase's duration when Span is 0).
	Func       func(t float64) (float64, error)
	Span, Step time.Duration
	desc       string // the constructor's arguments, for String
}

// NewRequestRateSeries validates a series strategy; arrival, maxConc,
// concRamp and exact are as for NewRequestRate. desc renders the series
// argument for String ("segments=[...]").
func NewRequestRateSeries(series *RateSeries, fn func(float64) (float64, error), span, step time.Duration,
	arrival any, maxConc int, concRamp any, exact bool, desc string) (*RequestRateSeries, error) {
	if (series == nil) == (fn == nil) {
		return nil, errors.New("timing.request_rate_series: give one of points, segments, path or rate")
	}
	if fn != nil && step <= 0 {
		return nil, fmt.Errorf("timing.request_rate_series: step must be > 0, got %s", step)
	}
	if maxConc < 0 {
		return nil, fmt.Errorf("timing.request_rate_series: max_concurrency must be >= 0, got %d", maxConc)
	}
	if concRamp != nil && maxConc == 0 {
		return nil, errors.New("timing.request_rate_series: concurrency_ramp needs max_concurrency")
	}
	s := &RequestRateSeries{RequestRate: RequestRate{Arrival: arrival, MaxConcurrency: maxConc, ConcurrencyRamp: concRamp, Exact: exact},
		Series: series, Func: fn, Span: span, Step: step, desc: desc}
	if series != nil {
		s.Rate = series.Mean()
	}
	return s, nil
}

func (s *RequestRateSeries) String() string {
	args := []string{s.desc}
	if a := describeArg(s.Arrival); a != "" {
		args = append(args, "arrival="+a)
	}
	if s.MaxConcurrency > 0 {
		args = append(args, fmt.Sprintf("max_concurrency=%d", s.MaxConcurrency))
	}
	if a := describeArg(s.ConcurrencyRamp); a != "" {
		args = append(args, "concurrency_ramp="+a)
	}
	if !s.Exact {
		args = append(args, "exact=False")
	}
	return "timing.request_rate_series(" + strings.Join(args, ", ") + ")"
}

// series returns the rate curve of a phase with stop conditions stop.
func (s *RequestRateSeries) series(stop config.Stop) (RateSeries, error) {
	if s.Series != nil {
		return *s.Series, nil
	}
	span := s.Span
	if span == 0 {
		span = stop.Duration
	}
	if span <= 0 {
		return RateSeries{}, errors.New("timing.request_rate_series: a rate function needs duration= (how long the series runs) or a duration stop")
	}
	rs, err := SampleRate(s.Func, span, s.Step)
	if err != nil {
		return RateSeries{}, fmt.Errorf("timing.request_rate_series: %w", err)
	}
	return rs, nil
}

// parts resolves the nested plugins; a series has no closed loop.
func (s *RequestRateSeries) parts(env *Env) (rateParts, error) {
	rp, err := s.RequestRate.parts(env)
	if err != nil {
		return rp, errors.New(strings.Replace(err.Error(), "timing.request_rate:", "timing.request_rate_series:", 1))
	}
	if isClosedLoop(rp.arrival) {
		return rp, errors.New("timing.request_rate_series: arrival.concurrency_burst() has no rate; use timing.concurrency")
	}
	return rp, nil
}

// phaseRate is the rate the series schedules over the phase: its arrivals
// over the duration stop, else over its own length.
func phaseRate(rs RateSeries, stop config.Stop) float64 {
	d := stop.Duration
	if d <= 0 {
		d = rs.End()
	}
	if d <= 0 {
		return rs.Points[0].Rate
	}
	return rs.Expected(d) / d.Seconds()
}

func (s *RequestRateSeries) load(rp rateParts, rs RateSeries, stop config.Stop) Load {
	l := Load{Mode: "request_rate_series", Rate: phaseRate(rs, stop), Concurrency: s.MaxConcurrency, OpenLoop: true,
		Arrival: rp.arrival.String()}
	name := strings.TrimSuffix(strings.TrimPrefix(rp.arrival.String(), "arrival."), "()")
	l.Description = fmt.Sprintf("rate series %s (mean %s req/s), %s arrivals", rs, num(math.Round(l.Rate*1000)/1000), name)
	if s.MaxConcurrency > 0 {
		l.Description += fmt.Sprintf(", at most %d sessions in flight", s.MaxConcurrency)
	}
	return l
}

// Plan implements Strategy.
func (s *RequestRateSeries) Plan(env *Env) (*Plan, error) {
	rp, err := s.parts(env)
	if err != nil {
		return nil, err
	}
	if env.Dataset == nil || env.Dataset.Len() == 0 {
		return nil, errors.New("timing.request_rate_series: the dataset has no conversations")
	}
	rs, err := s.series(env.Stop)
	if err != nil {
		return nil, err
	}
	if err := checkRateSplit("request_rate_series", env, s.MaxConcurrency); err != nil {
		return nil, err
	}
	pl := &Plan{Load: s.load(rp, rs, env.Stop), DefaultStop: config.Stop{Duration: rs.End()}}
	stop := env.Stop
	if !stop.IsSet() {
		stop = pl.DefaultStop
	}
	estimate(pl, stop, pl.Load.Rate, meanTurns(env.Dataset))
	if stop.Duration > 0 {
		pl.Requests = int64(math.Floor(rs.Expected(stop.Duration) + 1e-9))
		pl.Duration, pl.Bound = stop.Duration, StopDuration
	}
	if n := int64(stop.Requests); n > 0 && (pl.Requests < 0 || n < pl.Requests) {
		// The time the series takes to schedule n arrivals.
		prof := rs.profile()
		pl.Requests, pl.Bound = n, StopRequests
		if t := prof.inverse(float64(n)); !math.IsInf(t, 1) {
			pl.Duration = time.Duration(t * 1e9)
		}
	}
	shardPlan(pl, env.Shard)
	return pl, nil
}

// Run implements Strategy.
func (s *RequestRateSeries) Run(ctx context.Context, env *Env) (*Report, error) {
	rp, err := s.parts(env)
	if err != nil {
		return nil, err
	}
	if env.Sampler == nil {
		return nil, errors.New("timing.request_rate_series: Env needs a Sampler")
	}
	rs, err := s.series(env.Stop)
	if err != nil {
		return nil, err
	}
	if err := checkRateSplit("request_rate_series", env, s.MaxConcurrency); err != nil {
		return nil, err
	}
	p, err := newPhase(ctx, env)
	if err != nil {
		return nil, err
	}
	sched := newSeriesSchedule(rp.arrival, rs, NewRand(env.Seed, "schedule"), s.Exact, env.Stop.Duration, int64(env.Stop.Requests))
	exhausted := func() string {
		if sched.limit > 0 && sched.n >= sched.limit {
			return StopRequests
		}
		if env.Stop.Duration > 0 {
			return StopDuration
		}
		return StopSchedule
	}
	s.issue(p, rp, sched, exhausted)
	return p.report(s.load(rp, rs, env.Stop)), nil
}

// newRequestRateSeries builds timing.request_rate_series from its plugin
// arguments.
func newRequestRateSeries(a plugin.Args) (any, error) {
	const label = "timing.request_rate_series"
	var (
		series *RateSeries
		fn     func(float64) (float64, error)
		desc   string
		given  []string
	)
	for _, name := range []string{"points", "segments", "path", "rate"} {
		if a.Has(name) {
			given = append(given, name)
		}
	}
	if len(given) != 1 {
		return nil, fmt.Errorf("%s: give exactly one of points, segments, path or rate (got %s)", label, orNone(given))
	}
	set := func(rs RateSeries, err error, name string) error {
		if err != nil {
			return fmt.Errorf("%s: %s: %w", label, name, err)
		}
		series = &rs
		return nil
	}
	if a.Has("points") {
		pts, err := pointsArg(a.List("points"))
		if err != nil {
			return nil, fmt.Errorf("%s: points: %w", label, err)
		}
		rs, err := NewRatePoints(pts)
		if err := set(rs, err, "points"); err != nil {
			return nil, err
		}
		desc = "points=" + renderPoints(series.Points)
	}
	if a.Has("segments") {
		segs, err := segmentsArg(a.List("segments"))
		if err != nil {
			return nil, fmt.Errorf("%s: segments: %w", label, err)
		}
		rs, err := NewRateSegments(segs)
		if err := set(rs, err, "segments"); err != nil {
			return nil, err
		}
		desc = "segments=" + renderSegments(segs)
	}
	if a.Has("path") {
		path := a.String("path")
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: path: %w", label, err)
		}
		rs, err := ParseRateSeries(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", label, path, err)
		}
		series, desc = &rs, fmt.Sprintf("path=%q", path)
	}
	if a.Has("rate") {
		f := a.Func("rate")
		if f == nil {
			return nil, fmt.Errorf("%s: rate: want a function of the elapsed seconds", label)
		}
		fn = func(t float64) (float64, error) {
			v, err := f(t)
			if err != nil {
				return 0, err
			}
			switch x := v.(type) {
			case int64:
				return float64(x), nil
			case float64:
				return x, nil
			}
			return 0, fmt.Errorf("want a number of requests per second, got %T", v)
		}
		desc = "rate=<function>"
		if a.Has("duration") {
			desc += ", duration=" + durationLiteral(a.Duration("duration"))
		}
	}
	if fn == nil && a.Has("duration") {
		return nil, fmt.Errorf("%s: duration is the span of a rate function; points, segments and path carry their own length", label)
	}
	return NewRequestRateSeries(series, fn, a.Duration("duration"), a.Duration("step"),
		specArg(a, "arrival"), int(a.Int("max_concurrency")), specArg(a, "concurrency_ramp"), a.Bool("exact"), desc)
}

// pointsArg reads control points: [(seconds, rate), ...] or
// [{"time_s": ..., "qps": ...}, ...].
func pointsArg(list []any) ([]RatePoint, error) {
	out := make([]RatePoint, len(list))
	for i, e := range list {
		var at, rate any
		switch x := e.(type) {
		case []any:
			if len(x) != 2 {
				return nil, fmt.Errorf("point %d: want (seconds, rate), got %d values", i, len(x))
			}
			at, rate = x[0], x[1]
		case *ordered.Map:
			for _, k := range x.Keys() {
				if k != "time_s" && k != "qps" {
					return nil, fmt.Errorf("point %d: unknown key %q (want time_s, qps)", i, k)
				}
			}
			at, _ = x.Get("time_s")
			rate, _ = x.Get("qps")
		default:
			return nil, fmt.Errorf("point %d: want (seconds, rate) or {\"time_s\": ..., \"qps\": ...}, got %T", i, e)
		}
		d, err := durationValue(at)
		if err != nil {
			return nil, fmt.Errorf("point %d: time: %w", i, err)
		}
		r, err := numberValue(rate)
		if err != nil {
			return nil, fmt.Errorf("point %d: rate: %w", i, err)
		}
		out[i] = RatePoint{At: d, Rate: r}
	}
	return out, nil
}

// segmentsArg reads [(duration, rate), ...].
func segmentsArg(list []any) ([]RateSegment, error) {
	out := make([]RateSegment, len(list))
	for i, e := range list {
		x, ok := e.([]any)
		if !ok || len(x) != 2 {
			return nil, fmt.Errorf("segment %d: want (duration, rate), got %v", i, e)
		}
		d, err := durationValue(x[0])
		if err != nil {
			return nil, fmt.Errorf("segment %d: duration: %w", i, err)
		}
		r, err := numberValue(x[1])
		if err != nil {
			return nil, fmt.Errorf("segment %d: rate: %w", i, err)
		}
		out[i] = RateSegment{Duration: d, Rate: r}
	}
	return out, nil
}

// durationValue reads a duration: a duration value, a string ("30s",
// "1m30s") or a number of seconds.
func durationValue(v any) (time.Duration, error) {
	switch x := v.(type) {
	case time.Duration:
		return x, nil
	case string:
		d, err := clock.ParseSpan(x)
		if clock.IsTooLong(err) {
			return 0, err
		}
		if err != nil {
			return 0, fmt.Errorf("want a duration like \"30s\", got %q", x)
		}
		return d, nil
	}
	f, err := numberValue(v)
	if err != nil {
		return 0, fmt.Errorf("want a duration or a number of seconds, got %v", v)
	}
	return clock.Seconds(f)
}

func numberValue(v any) (float64, error) {
	switch x := v.(type) {
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	case float64:
		return x, nil
	}
	return 0, fmt.Errorf("want a number, got %v", v)
}

func renderPoints(pts []RatePoint) string {
	parts := make([]string, len(pts))
	for i, p := range pts {
		parts[i] = "(" + num(p.At.Seconds()) + ", " + num(p.Rate) + ")"
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func renderSegments(segs []RateSegment) string {
	parts := make([]string, len(segs))
	for i, g := range segs {
		parts[i] = "(" + durationLiteral(g.Duration) + ", " + num(g.Rate) + ")"
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func durationLiteral(d time.Duration) string { return strconv.Quote(d.String()) }

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
