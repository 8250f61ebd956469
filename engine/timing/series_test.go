package timing

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
)

func TestParseRateSeries(t *testing.T) {
	for _, doc := range []string{
		`{"points":[{"time_s":0,"qps":1},{"time_s":60,"qps":7},{"time_s":120,"qps":40}]}`,
		`[{"time_s":0,"qps":1},{"time_s":60,"qps":7},{"time_s":120,"qps":40}]`,
	} {
		s, err := ParseRateSeries([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		if s.Steps || len(s.Points) != 3 || s.End() != 2*time.Minute {
			t.Fatalf("%s: got %+v", doc, s)
		}
		// Linear between points: (1+7)/2·60 + (7+40)/2·60 = 240 + 1410.
		within(t, "Λ(120s)", s.Expected(2*time.Minute), 1650, 1e-9)
		within(t, "Λ(30s)", s.Expected(30*time.Second), (1+4)/2.0*30, 1e-9)
		within(t, "rate at 90s", s.RateAt(90*time.Second), 23.5, 1e-9)
		// After the last point the last rate holds.
		within(t, "Λ(130s)", s.Expected(130*time.Second), 1650+400, 1e-9)
	}
	for doc, want := range map[string]string{
		`{"points":[{"time_s":0,"qps":1}]}`:                            "at least two points",
		`{"points":[{"time_s":5,"qps":1},{"time_s":5,"qps":2}]}`:       "strictly increasing",
		`{"points":[{"time_s":0,"qps":0},{"time_s":5,"qps":2}]}`:       "rate must be a finite number > 0",
		`{"points":[{"time_s":0,"qps":1,"x":1},{"time_s":5,"qps":2}]}`: `unknown field "x"`,
		`{"points":[{"time_s":0},{"time_s":5,"qps":2}]}`:               `missing field "qps"`,
		`{"points":[], "extra": 1}`:                                    `exactly one top-level key`,
		`{"points":[{"time_s":-1,"qps":1},{"time_s":5,"qps":2}]}`:      "time_s must be",
		`{"points":[{"time_s":"0","qps":1},{"time_s":5,"qps":2}]}`:     `field "time_s": want a number`,
		`nope`: "not valid JSON",
	} {
		if _, err := ParseRateSeries([]byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", doc, err, want)
		}
	}
}

// countIn counts arrivals (seconds) in [lo, hi).
func countIn(ts []float64, lo, hi float64) int {
	n := 0
	for _, x := range ts {
		if x >= lo && x < hi {
			n++
		}
	}
	return n
}

func drain(s arrivals) []float64 {
	var out []float64
	for off, ok := s.Next(); ok; off, ok = s.Next() {
		out = append(out, off.Seconds())
	}
	return out
}

// Every segment of an exact series gets exactly the arrivals its rate holds,
// whatever the pattern; a different seed moves them, not their counts.
func TestSeriesScheduleExactPerSegment(t *testing.T) {
	s := must(NewRateSegments([]RateSegment{{10 * time.Second, 5}, {5 * time.Second, 50}, {0.5e9, 0}, {10 * time.Second, 7.3}}))
	for _, pat := range []ArrivalPattern{Poisson{}, Gamma{0.5}, Gamma{4}, Constant{}} {
		for _, seed := range []uint64{1, 2, 3} {
			ts := drain(newSeriesSchedule(pat, s, NewRand(seed, "schedule"), true, s.End(), 0))
			want := []int{50, 250, 0, 73}
			got := []int{countIn(ts, 0, 10), countIn(ts, 10, 15), countIn(ts, 15, 15.5), countIn(ts, 15.5, 25.5)}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("%s seed %d: segment %d has %d arrivals, want %d", pat, seed, i, got[i], want[i])
				}
			}
			if len(ts) != 373 {
				t.Errorf("%s seed %d: %d arrivals in all, want 373", pat, seed, len(ts))
			}
			for i := 1; i < len(ts); i++ {
				if ts[i] < ts[i-1] {
					t.Fatalf("%s: arrivals out of order at %d", pat, i)
				}
			}
		}
	}
}

// Between AIPerf's control points the rate is linear: each stretch gets its
// rounded share, and within a stretch arrivals thicken as the rate rises.
func TestSeriesScheduleLinearPoints(t *testing.T) {
	s := must(NewRatePoints([]RatePoint{{0, 10}, {20 * time.Second, 100}, {30 * time.Second, 100}}))
	ts := drain(newSeriesSchedule(Poisson{}, s, NewRand(testSeed, "schedule"), true, 30*time.Second, 0))
	if got := countIn(ts, 0, 20); got != 1100 { // (10+100)/2·20
		t.Errorf("ramp stretch: %d arrivals, want 1100", got)
	}
	if got := countIn(ts, 20, 30); got != 1000 {
		t.Errorf("flat stretch: %d arrivals, want 1000", got)
	}
	// The first 10 s of the ramp hold (10+55)/2·10 = 325 arrivals on average.
	within(t, "arrivals in [0,10s)", float64(countIn(ts, 0, 10)), 325, 4*math.Sqrt(325))
	// A constant pattern puts arrival k where Λ(t) = k exactly.
	cs := drain(newSeriesSchedule(Constant{}, s, nil, true, 30*time.Second, 0))
	prof := s.profile()
	for _, k := range []int{1, 100, 550, 1099, 1100, 2099} {
		within(t, "Λ(constant arrival)", prof.lambda(cs[k]), float64(k), 1e-6)
	}
}

// Past the series' end its last rate holds; a request limit truncates; a
// series that is not exact still averages its rate.
func TestSeriesScheduleTailAndLimit(t *testing.T) {
	s := must(NewRateSegments([]RateSegment{{2 * time.Second, 10}, {2 * time.Second, 100}}))
	ss := newSeriesSchedule(Poisson{}, s, NewRand(testSeed, "schedule"), true, 0, 2000)
	ts := drain(ss)
	if len(ts) != 2000 || countIn(ts, 0, 2) != 20 || countIn(ts, 2, 4) != 200 {
		t.Fatalf("got %d arrivals, %d in the first segment, %d in the second", len(ts), countIn(ts, 0, 2), countIn(ts, 2, 4))
	}
	within(t, "tail rate", float64(countIn(ts, 4, 18))/14, 100, 5)
	if ts[220] != 4 {
		t.Errorf("the tail starts at the series' end: arrival 220 at %v", ts[220])
	}

	ns := newSeriesSchedule(Poisson{}, s, NewRand(testSeed, "schedule"), false, 0, 0)
	var us []float64
	for len(us) < 50_000 {
		off, _ := ns.Next()
		us = append(us, off.Seconds())
	}
	within(t, "unconditioned tail rate", float64(countIn(us, 100, 400))/300, 100, 2)
}

func TestSeriesSegmentsAndSampling(t *testing.T) {
	for _, segs := range [][]RateSegment{nil, {{0, 5}}, {{time.Second, -1}}, {{time.Second, 5}, {time.Second, 0}}} {
		if _, err := NewRateSegments(segs); err == nil {
			t.Errorf("segments %v: no error", segs)
		}
	}
	s, err := SampleRate(func(t float64) (float64, error) { return 10 + t, nil }, 10*time.Second, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Points) != 11 || s.End() != 10*time.Second {
		t.Fatalf("sampled %d points to %s", len(s.Points), s.End())
	}
	within(t, "Λ(10s) of 10+t", s.Expected(10*time.Second), 150, 1e-9) // linear: exact
	if _, err := SampleRate(func(t float64) (float64, error) { return -1, nil }, time.Second, time.Second); err == nil {
		t.Error("a negative rate is accepted")
	}
}

// The strategy sends each segment at its rate from the seed, stops at the
// series' length without a stop condition, and rejects bad arguments.
func TestRequestRateSeriesStrategy(t *testing.T) {
	c := Classes()["RequestRateSeries"]
	build := func(args plugin.Args) (*RequestRateSeries, error) {
		v, err := c.Build("timing.request_rate_series", args)
		if err != nil {
			return nil, err
		}
		return v.(*RequestRateSeries), nil
	}
	s, err := build(plugin.Args{"segments": []any{[]any{"2s", int64(50)}, []any{1.0, int64(200)}}})
	if err != nil {
		t.Fatal(err)
	}
	env, rec := newEnv(convs(10, 1, 0), config.Stop{})
	pl, err := s.Plan(env)
	if err != nil {
		t.Fatal(err)
	}
	if pl.DefaultStop.Duration != 3*time.Second || pl.Requests != 300 || pl.Load.Mode != "request_rate_series" {
		t.Fatalf("plan %+v", pl)
	}
	within(t, "planned rate", pl.Load.Rate, 100, 1e-9)
	env.Stop = pl.DefaultStop
	rep := run(t, s, env)
	if rep.Issued != 300 || rep.Stop != StopDuration {
		t.Fatalf("issued %d, stop %s", rep.Issued, rep.Stop)
	}
	got := rec.byNum()
	first, second := 0, 0
	for _, x := range got {
		if x.ScheduledNs-rep.StartNs < int64(2*time.Second) {
			first++
		} else {
			second++
		}
	}
	if first != 100 || second != 200 {
		t.Errorf("segments got %d and %d requests, want 100 and 200", first, second)
	}
	if !strings.HasPrefix(s.String(), `timing.request_rate_series(segments=[("2s", 50), ("1s", 200)]`) {
		t.Errorf("String() = %s", s)
	}

	// The same seed gives the same schedule.
	env2, rec2 := newEnv(convs(10, 1, 0), config.Stop{Duration: 3 * time.Second})
	run(t, s, env2)
	for i, x := range rec2.byNum() {
		if x.ScheduledNs != got[i].ScheduledNs {
			t.Fatalf("request %d scheduled at %d, before at %d", i, x.ScheduledNs, got[i].ScheduledNs)
		}
	}

	fn, err := build(plugin.Args{"rate": plugin.Func(func(a ...any) (any, error) { return a[0].(float64) * 10, nil }),
		"duration": 4 * time.Second, "step": 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	env3, _ := newEnv(convs(10, 1, 0), config.Stop{})
	pl, err = fn.Plan(env3)
	if err != nil || pl.Requests != 80 { // ∫₀⁴ 10t dt
		t.Fatalf("rate function plan %+v, %v", pl, err)
	}

	for args, want := range map[string]plugin.Args{
		"give exactly one of points, segments, path or rate (got none)":         {},
		"give exactly one of points, segments, path or rate (got points, rate)": {"points": []any{}, "rate": plugin.Func(nil)},
		"segment 0: want (duration, rate)":                                      {"segments": []any{int64(3)}},
		"duration is the span of a rate function":                               {"segments": []any{[]any{"1s", int64(1)}}, "duration": time.Second},
		"point 1: times must be strictly increasing":                            {"points": []any{[]any{int64(0), int64(1)}, []any{int64(0), int64(2)}}},
	} {
		if _, err := build(want); err == nil || !strings.Contains(err.Error(), args) {
			t.Errorf("%v: error %v, want %q", want, err, args)
		}
	}
	noSpan, _ := build(plugin.Args{"rate": plugin.Func(func(...any) (any, error) { return 1.0, nil })})
	if _, err := noSpan.Plan(env3); err == nil || !strings.Contains(err.Error(), "needs duration=") {
		t.Errorf("a rate function without a span: %v", err)
	}
}
