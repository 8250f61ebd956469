package timing

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// RatePoint is one control point of a request-rate series: At after the
// phase start the rate is Rate requests per second.
type RatePoint struct {
	At   time.Duration
	Rate float64
}

// RateSegment is one piece of a stepped series: Rate requests per second
// for Duration.
type RateSegment struct {
	Duration time.Duration
	Rate     float64
}

// RateSeries is a request rate that follows a curve over the phase instead
// of one value: AIPerf's --request-rate-series (control points, the rate
// linear between them), a list of (duration, rate) segments (the rate held
// for each), or a rate function of time sampled into points.
//
// Before its first point the series holds the first rate; after End it
// holds the last one, so a request or duration stop beyond End keeps
// sending at the final rate.
//
//	s, _ := timing.NewRateSegments([]timing.RateSegment{{30 * time.Second, 5}, {10 * time.Second, 50}})
//	s.End()          // 40s
//	s.Expected(40e9) // 5·30 + 50·10 = 650 arrivals
type RateSeries struct {
	Points []RatePoint
	// Steps holds each point's rate until the next point (segments);
	// otherwise the rate changes linearly between points (AIPerf).
	Steps bool
	end   time.Duration
}

// NewRatePoints validates AIPerf-style control points: at least two,
// strictly increasing times >= 0, finite rates > 0.
func NewRatePoints(points []RatePoint) (RateSeries, error) {
	if len(points) < 2 {
		return RateSeries{}, fmt.Errorf("a request-rate series needs at least two points, got %d", len(points))
	}
	for i, p := range points {
		if p.At < 0 {
			return RateSeries{}, fmt.Errorf("point %d: time must be >= 0, got %s", i, p.At)
		}
		if !(p.Rate > 0) || math.IsInf(p.Rate, 0) {
			return RateSeries{}, fmt.Errorf("point %d: rate must be a finite number > 0, got %v", i, p.Rate)
		}
		if i > 0 && p.At <= points[i-1].At {
			return RateSeries{}, fmt.Errorf("point %d: times must be strictly increasing (%s after %s)", i, p.At, points[i-1].At)
		}
	}
	return RateSeries{Points: append([]RatePoint(nil), points...), end: points[len(points)-1].At}, nil
}

// NewRateSegments validates a stepped series: durations > 0, finite rates
// >= 0 (0 pauses), at least one rate > 0 and a last rate > 0 (it is held
// after the series ends).
func NewRateSegments(segs []RateSegment) (RateSeries, error) {
	if len(segs) == 0 {
		return RateSeries{}, errors.New("a request-rate series needs at least one segment")
	}
	s := RateSeries{Steps: true}
	var at time.Duration
	for i, g := range segs {
		if g.Duration <= 0 {
			return RateSeries{}, fmt.Errorf("segment %d: duration must be > 0, got %s", i, g.Duration)
		}
		if g.Rate < 0 || math.IsNaN(g.Rate) || math.IsInf(g.Rate, 0) {
			return RateSeries{}, fmt.Errorf("segment %d: rate must be a finite number >= 0, got %v", i, g.Rate)
		}
		s.Points = append(s.Points, RatePoint{At: at, Rate: g.Rate})
		at += g.Duration
	}
	if segs[len(segs)-1].Rate == 0 {
		return RateSeries{}, errors.New("the last segment's rate must be > 0 (it is held after the series ends)")
	}
	s.end = at
	return s, nil
}

// SampleRate samples rate (requests per second at t seconds from the phase
// start) every step over [0, span] into a linear series.
func SampleRate(rate func(t float64) (float64, error), span, step time.Duration) (RateSeries, error) {
	if span <= 0 {
		return RateSeries{}, fmt.Errorf("the span of a rate function must be > 0, got %s", span)
	}
	if step <= 0 {
		return RateSeries{}, fmt.Errorf("the sampling step must be > 0, got %s", step)
	}
	n := int(math.Ceil(float64(span) / float64(step)))
	if n > 1_000_000 {
		return RateSeries{}, fmt.Errorf("sampling %s every %s takes %d calls; use a larger step", span, step, n)
	}
	s := RateSeries{end: span}
	for k := 0; k <= n; k++ {
		at := min(time.Duration(k)*step, span)
		v, err := rate(at.Seconds())
		if err != nil {
			return RateSeries{}, fmt.Errorf("rate(%g): %w", at.Seconds(), err)
		}
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return RateSeries{}, fmt.Errorf("rate(%g) = %v: want a finite number >= 0", at.Seconds(), v)
		}
		s.Points = append(s.Points, RatePoint{At: at, Rate: v})
	}
	if s.Points[len(s.Points)-1].Rate == 0 {
		return RateSeries{}, fmt.Errorf("rate(%g) = 0 at the end of the span: the last rate is held after it and must be > 0", span.Seconds())
	}
	return s, nil
}

// ParseRateSeries reads AIPerf's --request-rate-series JSON: an object
// {"points": [{"time_s": 0, "qps": 1}, {"time_s": 60, "qps": 7}]} or the
// bare list of points.
func ParseRateSeries(data []byte) (RateSeries, error) {
	var doc any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return RateSeries{}, fmt.Errorf("not valid JSON: %v", err)
	}
	list, ok := doc.([]any)
	if obj, isObj := doc.(map[string]any); isObj {
		if len(obj) != 1 || obj["points"] == nil {
			return RateSeries{}, errors.New(`want exactly one top-level key, "points"`)
		}
		if list, ok = obj["points"].([]any); !ok {
			return RateSeries{}, errors.New(`"points" must be a list`)
		}
	} else if !ok {
		return RateSeries{}, errors.New(`want {"points": [...]} or a list of points`)
	}
	points := make([]RatePoint, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return RateSeries{}, fmt.Errorf(`point %d: want {"time_s": ..., "qps": ...}`, i)
		}
		for k := range m {
			if k != "time_s" && k != "qps" {
				return RateSeries{}, fmt.Errorf("point %d: unknown field %q (want time_s, qps)", i, k)
			}
		}
		at, err := jsonNumber(m, "time_s")
		if err != nil {
			return RateSeries{}, fmt.Errorf("point %d: %w", i, err)
		}
		qps, err := jsonNumber(m, "qps")
		if err != nil {
			return RateSeries{}, fmt.Errorf("point %d: %w", i, err)
		}
		if at < 0 || math.IsInf(at, 0) {
			return RateSeries{}, fmt.Errorf("point %d: time_s must be a finite number >= 0, got %v", i, at)
		}
		points[i] = RatePoint{At: time.Duration(math.Round(at * 1e9)), Rate: qps}
	}
	return NewRatePoints(points)
}

func jsonNumber(m map[string]any, key string) (float64, error) {
	v, ok := m[key]
	if !ok {
		return 0, fmt.Errorf("missing field %q", key)
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("field %q: want a number, got %v", key, v)
	}
	return n.Float64()
}

// End is where the series' curve ends: the last point of control points,
// the end of the last segment, the span of a sampled function.
func (s RateSeries) End() time.Duration { return s.end }

// Expected returns Λ(d): the arrivals the series schedules in its first d.
func (s RateSeries) Expected(d time.Duration) float64 {
	p := s.profile()
	return p.lambda(d.Seconds())
}

// Mean is the series' average rate over [0, End].
func (s RateSeries) Mean() float64 {
	if s.end <= 0 {
		return s.Points[0].Rate
	}
	return s.Expected(s.end) / s.end.Seconds()
}

// RateAt returns the rate d after the phase start.
func (s RateSeries) RateAt(d time.Duration) float64 {
	p := s.profile()
	return p.rateAt(d.Seconds())
}

// Bounds returns the times where the curve changes course (the points, and
// End for segments), the strata of an exact schedule.
func (s RateSeries) Bounds() []time.Duration {
	b := make([]time.Duration, 0, len(s.Points)+1)
	for _, p := range s.Points {
		b = append(b, p.At)
	}
	if s.Steps || len(b) == 0 || b[len(b)-1] != s.end {
		b = append(b, s.end)
	}
	return b
}

// String renders the series compactly, e.g. "5 req/s for 30s, 50 req/s for 10s"
// or "1 → 7 → 40 req/s over 2m0s".
func (s RateSeries) String() string {
	if s.Steps {
		parts := make([]string, len(s.Points))
		for i, p := range s.Points {
			next := s.end
			if i+1 < len(s.Points) {
				next = s.Points[i+1].At
			}
			parts[i] = fmt.Sprintf("%s req/s for %s", num(p.Rate), next-p.At)
		}
		return strings.Join(parts, ", ")
	}
	rates := make([]string, len(s.Points))
	for i, p := range s.Points {
		rates[i] = num(p.Rate)
	}
	if len(rates) > 6 {
		rates = append(rates[:3], "…", rates[len(rates)-1])
	}
	return fmt.Sprintf("%s req/s over %s", strings.Join(rates, " → "), s.end)
}

// profile is the series as a rate profile.
func (s RateSeries) profile() rateProfile {
	var p rateProfile
	pts := s.Points
	if pts[0].At > 0 {
		p.at, p.rate, p.slope = append(p.at, 0), append(p.rate, pts[0].Rate), append(p.slope, 0)
	}
	for i, pt := range pts {
		slope := 0.0
		if !s.Steps && i+1 < len(pts) {
			slope = (pts[i+1].Rate - pt.Rate) / (pts[i+1].At - pt.At).Seconds()
		}
		p.at = append(p.at, pt.At.Seconds())
		p.rate = append(p.rate, pt.Rate)
		p.slope = append(p.slope, slope)
	}
	p.accumulate()
	return p
}

// seriesSchedule draws the arrivals of a series. Exact, it splits the phase
// into strata (between the series' points, and up to the duration stop)
// and draws each conditioned on its own count — the count the stratum's
// rate holds, rounded so the counts add up — so every segment of the
// series gets exactly its rate, as a constant-rate exact schedule does.
// Past the last stratum (or when not exact) arrivals are drawn
// unconditioned on the series' time axis.
type seriesSchedule struct {
	prof  rateProfile
	arr   ArrivalPattern
	r     *rand.Rand
	shape float64
	// bounds are the strata in seconds and cum the arrivals before each
	// bound; there are len(bounds)-1 strata.
	bounds []float64
	cum    []int64
	k      int     // current stratum
	j      int64   // arrivals drawn in it
	frac   float64 // share of the stratum's unit span used (stick-breaking)
	tail   bool    // the tail has started
	u      float64 // position on the unit axis in the tail
	limit  int64   // at most this many arrivals (0 = no limit)
	n      int64   // arrivals drawn
}

// newSeriesSchedule returns the schedule of arrivals for series s. With
// exact and a gamma-shaped pattern, the strata run up to `until` (the
// duration stop; 0 = the series' end) and the tail is unbounded unless
// `until` is set. limit caps the number of arrivals (a request stop).
func newSeriesSchedule(arr ArrivalPattern, s RateSeries, r *rand.Rand, exact bool, until time.Duration, limit int64) *seriesSchedule {
	ss := &seriesSchedule{prof: s.profile(), arr: arr, r: r, shape: -1, limit: limit}
	g, gamma := arr.(GammaShaped)
	if !exact || !gamma {
		return ss
	}
	ss.shape = g.GammaShape()
	end := until
	if end <= 0 {
		end = s.End()
	}
	ss.bounds = []float64{0}
	for _, b := range s.Bounds() {
		if b > 0 && b < end {
			ss.bounds = append(ss.bounds, b.Seconds())
		}
	}
	ss.bounds = append(ss.bounds, end.Seconds())
	ss.cum = make([]int64, len(ss.bounds))
	for i := 1; i < len(ss.bounds); i++ {
		l := ss.prof.lambda(ss.bounds[i])
		c := int64(math.Floor(l + 0.5))
		if i == len(ss.bounds)-1 && until > 0 {
			c = int64(math.Floor(l + 1e-9)) // the arrivals the duration holds
		}
		ss.cum[i] = max(c, ss.cum[i-1])
	}
	if until > 0 {
		ss.tail = false
		ss.u = math.Inf(1) // no tail: the duration ends the schedule
	}
	return ss
}

// Next returns the offset of the next arrival from the phase start, false
// when the schedule is exhausted.
func (ss *seriesSchedule) Next() (time.Duration, bool) {
	if ss.limit > 0 && ss.n >= ss.limit {
		return 0, false
	}
	for ss.k+1 < len(ss.bounds) {
		count := ss.cum[ss.k+1] - ss.cum[ss.k]
		if ss.j >= count {
			ss.k, ss.j, ss.frac = ss.k+1, 0, 0
			continue
		}
		v := 0.0 // position in the stratum, in its own mean gaps
		if ss.j > 0 {
			switch {
			case math.IsInf(ss.shape, 1):
				v = float64(ss.j)
			default:
				b := betaVariate(ss.r, ss.shape, ss.shape*float64(count-ss.j))
				ss.frac += (1 - ss.frac) * b
				v = float64(count) * ss.frac
			}
		}
		ss.j++
		lo, hi := ss.prof.lambda(ss.bounds[ss.k]), ss.prof.lambda(ss.bounds[ss.k+1])
		return ss.emit(ss.prof.inverse(lo + v*(hi-lo)/float64(count)))
	}
	if math.IsInf(ss.u, 1) {
		return 0, false
	}
	if !ss.tail {
		ss.tail = true
		if len(ss.bounds) > 0 {
			ss.u = ss.prof.lambda(ss.bounds[len(ss.bounds)-1])
		}
	} else {
		ss.u += ss.arr.Gap(ss.r)
	}
	return ss.emit(ss.prof.inverse(ss.u))
}

func (ss *seriesSchedule) emit(t float64) (time.Duration, bool) {
	if math.IsInf(t, 1) {
		ss.u = math.Inf(1)
		return 0, false
	}
	ss.n++
	return time.Duration(math.Round(t * 1e9)), true
}
