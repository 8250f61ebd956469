package resultsdir

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/metrics"
)

// Keys of the summary file that are not metric blocks.
var summaryKeys = map[string]bool{
	"schema_version": true, "aiperf_version": true, "benchmark_id": true, "input_config": true,
	"run_info": true, "was_cancelled": true, "error_summary": true, "start_time": true, "end_time": true,
	"loadstar": true, "telemetry_data": true, "warmup_metrics": true, "is_complete": true,
	"incomplete_reason": true,
}

// parseSummary rebuilds a run from profile_export_aiperf.json.
func parseSummary(path string, data []byte) (*Run, error) {
	v, err := decodeOrdered(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not a JSON summary: %w", path, err)
	}
	top := object(v)
	if top == nil || get(top, "schema_version") == nil {
		return nil, fmt.Errorf("%s: not a benchmark summary (no schema_version)", path)
	}
	r := &Run{SchemaVersion: str(get(top, "schema_version")), Producer: str(get(top, "aiperf_version"))}
	sum := &results.Summary{Config: &config.Benchmark{}, Files: map[string]string{}}
	r.Summary = sum
	sum.Info.BenchmarkID = str(get(top, "benchmark_id"))
	sum.Verdict.Valid = true // AIPerf's files have no verdict
	for _, f := range top {
		switch f.Key {
		case "input_config":
			r.InputConfig = object(f.Value)
		case "run_info":
			ri := object(f.Value)
			if id := str(get(ri, "benchmark_id")); id != "" {
				sum.Info.BenchmarkID = id
			}
			sum.Info.Seed = uint64(max(num(get(ri, "random_seed")), 0))
			sum.Config.Name = str(get(ri, "run_label"))
			sum.Config.CLICommand = str(get(ri, "cli_command"))
		case "was_cancelled":
			sum.Info.WasCancelled, _ = f.Value.(bool)
		case "error_summary":
			sum.Errors = errorGroups(f.Value)
		case "start_time":
			sum.Info.Start = parseTime(str(f.Value))
		case "end_time":
			sum.Info.End = parseTime(str(f.Value))
		case "loadstar":
			readLoadstarBlock(sum, object(f.Value))
		case "metrics": // a layout nesting the metric blocks
			for _, m := range object(f.Value) {
				if mt, ok := metricFromBlock(m.Key, object(m.Value)); ok {
					sum.Metrics = append(sum.Metrics, mt)
				}
			}
		default:
			if summaryKeys[f.Key] {
				continue
			}
			if mt, ok := metricFromBlock(f.Key, object(f.Value)); ok {
				sum.Metrics = append(sum.Metrics, mt)
			}
		}
	}
	sort.SliceStable(sum.Metrics, func(i, j int) bool { return sum.Metrics[i].Tag < sum.Metrics[j].Tag })
	if m := sum.Metric("issue_delay"); m != nil && m.Stats != nil {
		sum.Verdict.IssueDelay = m.Stats
	}
	r.Name = sum.Config.Name
	return r, nil
}

// metricFromBlock reads one metric block ({unit, avg, p1 …, count, sum});
// ok is false for anything else.
func metricFromBlock(tag string, b []Field) (results.Metric, bool) {
	unit, hasUnit := get(b, "unit").(string)
	if b == nil || !hasUnit {
		return results.Metric{}, false
	}
	mt := results.Metric{Tag: tag, Unit: unit, Header: headerOf(tag), Kind: results.DerivedMetric}
	if d, ok := metrics.Lookup(tag); ok {
		mt.Header, mt.ShortHeader, mt.Kind, mt.Flags = d.Header, d.ShortHeader, d.Kind, uint64(d.Flags)
		mt.DisplayOrder, mt.Group, mt.Integer = d.DisplayOrder, d.Group, d.Integer
	}
	if get(b, "p50") == nil && get(b, "count") == nil {
		mt.Value = num(get(b, "avg"))
		if mt.Kind == results.RecordMetric {
			mt.Kind = results.DerivedMetric
		}
		return mt, true
	}
	mt.Kind = results.RecordMetric
	st := &results.Stats{Avg: num(get(b, "avg")), Min: num(get(b, "min")), Max: num(get(b, "max")),
		Sum: num(get(b, "sum")), Std: num(get(b, "std")),
		P1: num(get(b, "p1")), P5: num(get(b, "p5")), P10: num(get(b, "p10")), P25: num(get(b, "p25")),
		P50: num(get(b, "p50")), P75: num(get(b, "p75")), P90: num(get(b, "p90")), P95: num(get(b, "p95")),
		P99: num(get(b, "p99"))}
	if c := num(get(b, "count")); !math.IsNaN(c) {
		st.Count = int64(c)
	}
	mt.Stats = st
	return mt, true
}

// headerOf names a metric loadstar does not define: "foo_bar_ms" → "Foo Bar Ms".
func headerOf(tag string) string {
	words := strings.Split(tag, "_")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

func errorGroups(v any) []results.ErrorGroup {
	list, _ := v.([]any)
	var out []results.ErrorGroup
	for _, x := range list {
		o := object(x)
		d := object(get(o, "error_details"))
		if d == nil {
			d = o
		}
		g := results.ErrorGroup{Details: record.ErrorDetails{Type: str(get(d, "type")), Message: str(get(d, "message")),
			Cause: str(get(d, "cause"))}}
		if c := num(get(d, "code")); !math.IsNaN(c) {
			g.Details.Code = int(c)
		}
		if c := num(get(o, "count")); !math.IsNaN(c) {
			g.Count = int(c)
		}
		out = append(out, g)
	}
	return out
}

// parseTime reads Python's isoformat() (local time without a zone, or with one).
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t
		}
	}
	return time.Time{}
}

// readLoadstarBlock reads loadstar's additions: verdict, its own metrics,
// thresholds, warnings, notes and file names.
func readLoadstarBlock(sum *results.Summary, l []Field) {
	for _, f := range l {
		switch f.Key {
		case "version":
			sum.Version = str(f.Value)
		case "random_seed":
			sum.Info.Seed = uint64(max(num(f.Value), 0))
		case "token_source":
			sum.TokenSource = str(f.Value)
		case "verdict":
			v := object(f.Value)
			sum.Verdict.Valid, _ = get(v, "valid").(bool)
			sum.Verdict.Reasons = strs(get(v, "reasons"))
			sum.Verdict.ScheduledRate = zeroNaN(num(get(v, "scheduled_rate")))
			sum.Verdict.ScheduleRate = zeroNaN(num(get(v, "schedule_rate")))
			sum.Verdict.AchievedRate = zeroNaN(num(get(v, "achieved_rate")))
			sum.Verdict.ShortfallPct = zeroNaN(num(get(v, "rate_shortfall_pct")))
			sum.Verdict.Issued = int(zeroNaN(num(get(v, "issued"))))
			sum.Verdict.Late = int(zeroNaN(num(get(v, "late"))))
			sum.Verdict.Dropped = int(zeroNaN(num(get(v, "dropped"))))
			sum.Info.ScheduledRate = sum.Verdict.ScheduledRate
			sum.Info.Issued, sum.Info.Dropped = sum.Verdict.Issued, sum.Verdict.Dropped
		case "thresholds":
			list, _ := f.Value.([]any)
			for _, x := range list {
				o := object(x)
				passed, _ := get(o, "passed").(bool)
				sum.Thresholds = append(sum.Thresholds, results.ThresholdResult{
					Threshold: config.Threshold{Metric: str(get(o, "metric")), Expr: str(get(o, "expression"))},
					Passed:    passed, Actual: num(get(o, "actual")), Stat: str(get(o, "stat")), Unit: str(get(o, "unit")),
					Message: str(get(o, "message"))})
			}
		case "warnings":
			sum.Info.Warnings = strs(f.Value)
		case "notes":
			sum.Notes = strs(f.Value)
		case "files":
			for _, x := range object(f.Value) {
				sum.Files[x.Key] = str(x.Value)
			}
		case "statistics":
			sum.ExactStatsLimit = int(zeroNaN(num(get(object(f.Value), "exact_limit"))))
		default:
			if mt, ok := metricFromBlock(f.Key, object(f.Value)); ok {
				mt.Group = metrics.GroupLoadstar
				sum.Metrics = append(sum.Metrics, mt)
			}
		}
	}
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, str(x))
	}
	return out
}

func zeroNaN(f float64) float64 {
	if math.IsNaN(f) {
		return 0
	}
	return f
}
