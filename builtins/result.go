package builtins

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/results"
)

// Result is what run() returns to a script: a read-only view of a
// results.Summary. Time statistics are durations, rates and counts numbers:
//
//	r.metrics.time_to_first_token.p99      # duration
//	r.metrics.output_sequence_length.avg   # float (tokens)
//	r.request_throughput                   # float, requests/s
//	r.valid, r.verdict.reasons, r.artifact_dir
//
// In inspect (dry-run) mode run() returns a placeholder Result whose numbers
// are zero and whose `planned` attribute is True.
type Result struct {
	sum         *results.Summary
	placeholder bool
	units       func(tag string) (unit string, ok bool) // metric units for placeholders
}

var _ starlark.HasAttrs = (*Result)(nil)

// NewResult wraps a summary.
func NewResult(sum *results.Summary) *Result { return &Result{sum: sum} }

// Summary returns the wrapped summary (nil for a placeholder).
func (r *Result) Summary() *results.Summary { return r.sum }

// String summarises the run on one line:
//
//	result(quickstart: 200 requests, 0 errors, 19.87 req/s, p99 TTFT 54.17ms, VALID, thresholds passed, artifacts/quickstart)
func (r *Result) String() string {
	if r.placeholder {
		return "result(planned: nothing was sent)"
	}
	s := r.sum
	name := s.Config.Name
	if name == "" {
		name = s.Info.BenchmarkID
	}
	var b strings.Builder
	b.WriteString("result(")
	if name != "" {
		b.WriteString(name + ": ")
	}
	fmt.Fprintf(&b, "%d requests, %d errors, %s req/s", int64(r.derived("request_count")), int64(r.derived("error_request_count")),
		readableNumber(r.derived("request_throughput")))
	if m := s.Metric("time_to_first_token"); m != nil && m.Stats != nil {
		fmt.Fprintf(&b, ", p99 TTFT %s", readableStat(m.Stats.P99, m.Unit))
	} else if m := s.Metric("request_latency"); m != nil && m.Stats != nil {
		fmt.Fprintf(&b, ", p99 latency %s", readableStat(m.Stats.P99, m.Unit))
	}
	b.WriteString(", " + verdictWord(s.Verdict.Valid))
	if len(s.Thresholds) > 0 {
		if s.ThresholdsPassed() {
			b.WriteString(", thresholds passed")
		} else {
			b.WriteString(", thresholds FAILED")
		}
	}
	if s.Info.WasCancelled {
		b.WriteString(", interrupted")
	}
	if s.Info.ArtifactDir != "" {
		b.WriteString(", " + s.Info.ArtifactDir)
	}
	b.WriteString(")")
	return b.String()
}

// readableNumber renders a statistic for people: four significant digits
// below 1000, whole numbers above ("12.92", "0.5", "826.6", "1234567").
func readableNumber(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'f', -1, 64)
	case math.Abs(v) >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return generalFloat(math.Abs(v), 4, false, v < 0)
}

// readableStat renders a statistic in its display unit: a duration for
// time units, else the number and its unit ("64 tokens", "0.5%").
func readableStat(v float64, unit string) string {
	if d, ok := unitValue(v, unit).(Duration); ok {
		return d.String()
	}
	switch unit {
	case "", "ratio":
		return readableNumber(v)
	case "%":
		return readableNumber(v) + "%"
	}
	return readableNumber(v) + " " + unit
}
func (r *Result) Type() string          { return "result" }
func (r *Result) Freeze()               {}
func (r *Result) Truth() starlark.Bool  { return true }
func (r *Result) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: result") }

func verdictWord(valid bool) string {
	if valid {
		return "VALID"
	}
	return "INVALID"
}

var resultAttrs = []string{
	"artifact_dir", "duration", "error_count", "error_rate", "errors", "files", "goodput",
	"input_token_throughput", "metrics", "name", "output_token_throughput", "phases", "planned",
	"request_count", "request_throughput", "seed", "server", "thresholds", "thresholds_passed",
	"token_source", "total_token_throughput", "valid", "verdict", "warnings", "was_cancelled",
}

// AttrNames implements starlark.HasAttrs.
func (r *Result) AttrNames() []string { return resultAttrs }

// Attr implements starlark.HasAttrs.
func (r *Result) Attr(name string) (starlark.Value, error) {
	if r.placeholder {
		return r.placeholderAttr(name)
	}
	s := r.sum
	switch name {
	case "planned":
		return starlark.False, nil
	case "metrics":
		return &Metrics{sum: s}, nil
	case "request_throughput", "output_token_throughput", "input_token_throughput", "total_token_throughput", "goodput":
		return starlark.Float(r.derived(name)), nil
	case "request_count":
		return starlark.MakeInt64(int64(r.derived("request_count"))), nil
	case "error_count":
		return starlark.MakeInt64(int64(r.derived("error_request_count"))), nil
	case "error_rate":
		return starlark.Float(r.derived("request_error_rate")), nil
	case "duration":
		return Duration(time.Duration(r.derived("benchmark_duration") * 1e9)), nil
	case "valid":
		return starlark.Bool(s.Verdict.Valid), nil
	case "verdict":
		return verdictValue(&s.Verdict), nil
	case "artifact_dir":
		return starlark.String(s.Info.ArtifactDir), nil
	case "files":
		d := starlark.NewDict(len(s.Files))
		for k, v := range s.Files {
			_ = d.SetKey(starlark.String(k), starlark.String(v))
		}
		d.Freeze()
		return d, nil
	case "seed":
		return starlark.MakeUint64(s.Info.Seed), nil
	case "name":
		return starlark.String(s.Config.Name), nil
	case "token_source":
		return starlark.String(s.TokenSource), nil
	case "thresholds":
		list := make([]starlark.Value, len(s.Thresholds))
		for i, t := range s.Thresholds {
			var actual starlark.Value = starlark.None // nothing measured: message says why
			if t.Stat != "" {
				actual = unitValue(t.Actual, t.Unit)
			}
			list[i] = starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
				"metric": starlark.String(t.Threshold.Metric), "expr": starlark.String(t.Threshold.Expr),
				"passed": starlark.Bool(t.Passed), "stat": starlark.String(t.Stat), "actual": actual,
				"unit": starlark.String(t.Unit), "message": starlark.String(t.Message),
			})
		}
		return frozenList(list), nil
	case "thresholds_passed":
		return starlark.Bool(s.ThresholdsPassed()), nil
	case "errors":
		list := make([]starlark.Value, len(s.Errors))
		for i, e := range s.Errors {
			list[i] = starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
				"code": starlark.MakeInt(e.Details.Code), "type": starlark.String(e.Details.Type),
				"message": starlark.String(e.Details.Message), "count": starlark.MakeInt(e.Count),
			})
		}
		return frozenList(list), nil
	case "warnings":
		list := make([]starlark.Value, len(s.Info.Warnings))
		for i, w := range s.Info.Warnings {
			list[i] = starlark.String(w)
		}
		return frozenList(list), nil
	case "was_cancelled":
		return starlark.Bool(s.Info.WasCancelled), nil
	case "server":
		if s.Server == nil {
			return starlark.None, nil
		}
		return &ServerResult{sm: s.Server}, nil
	case "phases":
		return phasesValue(s), nil
	}
	return nil, nil
}

// phasesValue is r.phases: the profiling phases of a multi-phase run by
// name, in order, each a Result of its own (its name is the phase's).
func phasesValue(s *results.Summary) *starlark.Dict {
	d := starlark.NewDict(len(s.Phases))
	for i := range s.Phases {
		ph := &s.Phases[i]
		ps := ph.Summary(s)
		if s.Config != nil {
			cfg := *s.Config
			cfg.Name = ph.Name
			ps.Config = &cfg
		}
		_ = d.SetKey(starlark.String(ph.Name), NewResult(ps))
	}
	d.Freeze()
	return d
}

func (r *Result) placeholderAttr(name string) (starlark.Value, error) {
	switch name {
	case "planned", "valid", "thresholds_passed":
		return starlark.True, nil
	case "metrics":
		return &Metrics{units: r.units}, nil
	case "request_throughput", "output_token_throughput", "input_token_throughput", "total_token_throughput", "goodput", "error_rate":
		return starlark.Float(0), nil
	case "request_count", "error_count", "seed":
		return starlark.MakeInt(0), nil
	case "duration":
		return Duration(0), nil
	case "verdict":
		return verdictValue(&results.Verdict{Valid: true}), nil
	case "artifact_dir", "name", "token_source":
		return starlark.String(""), nil
	case "files":
		d := new(starlark.Dict)
		d.Freeze()
		return d, nil
	case "thresholds", "errors", "warnings":
		return frozenList(nil), nil
	case "phases":
		d := new(starlark.Dict)
		d.Freeze()
		return d, nil
	case "was_cancelled":
		return starlark.False, nil
	case "server":
		return starlark.None, nil
	}
	return nil, nil
}

func (r *Result) derived(tag string) float64 {
	if m := r.sum.Metric(tag); m != nil {
		if m.Stats != nil {
			return m.Stats.Avg
		}
		return m.Value
	}
	return 0
}

func verdictValue(v *results.Verdict) starlark.Value {
	reasons := make([]starlark.Value, len(v.Reasons))
	for i, s := range v.Reasons {
		reasons[i] = starlark.String(s)
	}
	var delay starlark.Value = starlark.None
	if v.IssueDelay != nil {
		delay = &Stats{stats: v.IssueDelay, unit: "ms", tag: "issue_delay"}
	}
	return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
		"valid":          starlark.Bool(v.Valid),
		"reasons":        frozenList(reasons),
		"issue_delay":    delay,
		"scheduled_rate": starlark.Float(v.ScheduledRate),
		"achieved_rate":  starlark.Float(v.AchievedRate),
		"late":           starlark.MakeInt(v.Late),
		"dropped":        starlark.MakeInt(v.Dropped),
	})
}

func frozenList(vs []starlark.Value) *starlark.List {
	l := starlark.NewList(vs)
	l.Freeze()
	return l
}

// Metrics is r.metrics: one attribute per metric tag.
type Metrics struct {
	sum   *results.Summary
	units func(string) (string, bool) // placeholder mode
}

// String lists the metrics the run measured: metrics(time_to_first_token, ...).
func (m *Metrics) String() string {
	if m.sum == nil {
		return "metrics(planned)"
	}
	return "metrics(" + strings.Join(m.AttrNames(), ", ") + ")"
}
func (m *Metrics) Type() string          { return "metrics" }
func (m *Metrics) Freeze()               {}
func (m *Metrics) Truth() starlark.Bool  { return true }
func (m *Metrics) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: metrics") }

// AttrNames implements starlark.HasAttrs.
func (m *Metrics) AttrNames() []string {
	if m.sum == nil {
		return nil
	}
	names := make([]string, 0, len(m.sum.Metrics))
	for _, x := range m.sum.Metrics {
		names = append(names, x.Tag)
	}
	sort.Strings(names)
	return names
}

// Attr implements starlark.HasAttrs. An unknown metric is an error that
// lists the metrics this run produced.
func (m *Metrics) Attr(name string) (starlark.Value, error) {
	if m.sum == nil {
		unit := ""
		if m.units != nil {
			u, ok := m.units(name)
			if !ok {
				return nil, fmt.Errorf("r.metrics: unknown metric %q%s", name, errext.DidYouMean(name, metricTags()))
			}
			unit = u
		}
		return &Stats{stats: &results.Stats{}, unit: unit, tag: name}, nil
	}
	x := m.sum.Metric(name)
	if x == nil {
		if _, known := metricUnit(name); !known {
			return nil, fmt.Errorf("r.metrics: unknown metric %q%s", name, errext.DidYouMean(name, m.AttrNames()))
		}
		return nil, fmt.Errorf("r.metrics: %s was not computed for this run (print(r.metrics) lists the metrics it has)", name)
	}
	if x.Stats == nil {
		return &Stats{stats: &results.Stats{Avg: x.Value, Min: x.Value, Max: x.Value, Count: 1}, unit: x.Unit, tag: x.Tag, single: true}, nil
	}
	return &Stats{stats: x.Stats, unit: x.Unit, tag: x.Tag}, nil
}

// Stats is one metric's statistics: r.metrics.time_to_first_token.p99.
// Values of time units (ns, ms, sec) are durations; others floats.
type Stats struct {
	stats  *results.Stats
	unit   string
	tag    string
	single bool // aggregate/derived metric: only value/avg meaningful
}

// String shows the statistics with their unit:
//
//	time_to_first_token: avg 40.69ms, p50 39.66ms, p90 46.55ms, p99 54.17ms, min 32.35ms, max 55.7ms (n=200)
//	request_throughput: 19.87 requests/sec
func (s *Stats) String() string {
	if s.single {
		return s.tag + ": " + readableStat(s.stats.Avg, s.unit)
	}
	if s.stats.Count == 0 {
		return s.tag + ": no values"
	}
	var b strings.Builder
	b.WriteString(s.tag + ":")
	for i, name := range []string{"avg", "p50", "p90", "p99", "min", "max"} {
		v, _ := s.stats.Get(name)
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(" " + name + " " + readableStat(v, s.unit))
	}
	fmt.Fprintf(&b, " (n=%d", s.stats.Count)
	if s.stats.Approx {
		b.WriteString(", approximate")
	}
	b.WriteString(")")
	return b.String()
}
func (s *Stats) Type() string          { return "stats" }
func (s *Stats) Freeze()               {}
func (s *Stats) Truth() starlark.Bool  { return true }
func (s *Stats) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: stats") }

var statNames = []string{"avg", "count", "max", "min", "p1", "p10", "p25", "p5", "p50", "p75", "p90", "p95", "p99", "std", "sum", "unit", "value", "approx"}

// AttrNames implements starlark.HasAttrs.
func (s *Stats) AttrNames() []string { return statNames }

// Attr implements starlark.HasAttrs.
func (s *Stats) Attr(name string) (starlark.Value, error) {
	switch name {
	case "unit":
		return starlark.String(s.unit), nil
	case "count":
		return starlark.MakeInt64(s.stats.Count), nil
	case "approx":
		return starlark.Bool(s.stats.Approx), nil
	case "value":
		name = "avg"
	}
	v, ok := s.stats.Get(name)
	if !ok {
		return nil, nil
	}
	return unitValue(v, s.unit), nil
}

// unitValue converts a display-unit number to a script value: durations for
// time units, floats otherwise.
func unitValue(v float64, unit string) starlark.Value {
	var scale float64
	switch unit {
	case "ns":
		scale = 1
	case "us":
		scale = 1e3
	case "ms":
		scale = 1e6
	case "sec", "s":
		scale = 1e9
	default:
		return starlark.Float(v)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return starlark.Float(v)
	}
	return Duration(time.Duration(math.Round(v * scale)))
}
