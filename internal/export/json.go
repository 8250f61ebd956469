package export

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
)

// schemaVersion is the profile_export_aiperf.json schema written.
const schemaVersion = "1.3"

// declaredMetrics are the metric fields of AIPerf's JsonExportData, in
// declaration order: they come right after benchmark_id. Other metrics
// follow end_time, as pydantic writes extra fields after declared ones.
var declaredMetrics = []string{
	"request_throughput", "request_latency", "request_count", "time_to_first_token",
	"time_to_second_token", "inter_token_latency", "output_token_throughput",
	"output_token_throughput_per_user", "output_sequence_length", "input_sequence_length",
	"goodput", "good_request_count", "output_token_count", "reasoning_token_count",
	"min_request_timestamp", "max_response_timestamp", "inter_chunk_latency",
	"total_output_tokens", "total_reasoning_tokens", "benchmark_duration", "total_isl",
	"total_osl", "error_request_count", "error_isl", "total_error_isl",
}

// loadstarGroup is the console group of loadstar's own metrics
// (metrics.GroupLoadstar): they go to the "loadstar" block.
const loadstarGroup = "loadstar"

// JSON writes profile_export_aiperf.json (plugin json).
type JSON struct{}

// Kind implements Exporter.
func (JSON) Kind() string { return KindJSON }

// Export implements Exporter.
func (JSON) Export(_ context.Context, t *Target, sum *results.Summary) (string, error) {
	data, err := summaryJSON(sum)
	if err != nil {
		return "", err
	}
	path := t.Path(KindJSON)
	return path, WriteFileAtomic(path, data)
}

// summaryJSON renders sum in the layout of AIPerf's profile_export_aiperf.json
// schema 1.3: 2-space indent, unset fields omitted, non-finite numbers null.
func summaryJSON(sum *results.Summary) ([]byte, error) {
	m := ordered.New(64)
	m.Set("schema_version", schemaVersion)
	m.Set("aiperf_version", "loadstar "+or(sum.Version, "dev"))
	if sum.Info.BenchmarkID != "" {
		m.Set("benchmark_id", sum.Info.BenchmarkID)
	}
	byTag := map[string]*results.Metric{}
	for i := range sum.Metrics {
		byTag[sum.Metrics[i].Tag] = &sum.Metrics[i]
	}
	done := map[string]bool{}
	for _, tag := range declaredMetrics {
		if mt := byTag[tag]; mt != nil && mt.Group != loadstarGroup {
			m.Set(tag, metricBlock(mt))
			done[tag] = true
		}
	}
	if sum.Config != nil {
		m.Set("input_config", inputConfig(sum.Config))
	}
	m.Set("run_info", runInfo(sum))
	m.Set("was_cancelled", sum.Info.WasCancelled)
	m.Set("error_summary", errorSummary(sum.Errors))
	if !sum.Info.Start.IsZero() {
		m.Set("start_time", isoTime(sum.Info.Start))
	}
	if !sum.Info.End.IsZero() {
		m.Set("end_time", isoTime(sum.Info.End))
	}
	for i := range sum.Metrics {
		mt := &sum.Metrics[i]
		if !done[mt.Tag] && mt.Group != loadstarGroup {
			m.Set(mt.Tag, metricBlock(mt))
		}
	}
	if td := TelemetryData(sum.Server); td != nil {
		m.Set("telemetry_data", td)
	}
	m.Set("loadstar", loadstarBlock(sum))
	compact, err := m.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("export: profile JSON: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		return nil, fmt.Errorf("export: profile JSON: %w", err)
	}
	return out.Bytes(), nil
}

// metricBlock is AIPerf's JsonMetricResult: unit, avg, p1…p99, min, max,
// std, count, sum for record metrics; unit and avg for the others.
func metricBlock(mt *results.Metric) *ordered.Map {
	b := ordered.New(16)
	b.Set("unit", mt.Unit)
	st := mt.Stats
	if st == nil {
		b.Set("avg", pyFloat(mt.Value))
		return b
	}
	b.Set("avg", pyFloat(st.Avg))
	for _, p := range []struct {
		k string
		v float64
	}{{"p1", st.P1}, {"p5", st.P5}, {"p10", st.P10}, {"p25", st.P25}, {"p50", st.P50},
		{"p75", st.P75}, {"p90", st.P90}, {"p95", st.P95}, {"p99", st.P99}} {
		b.Set(p.k, pyFloat(p.v))
	}
	b.Set("min", number(st.Min, mt.Integer))
	b.Set("max", number(st.Max, mt.Integer))
	if !math.IsNaN(st.Std) { // absent for failure-adjusted distributions
		b.Set("std", pyFloat(st.Std))
	}
	if mt.Kind == results.RecordMetric {
		// AIPerf writes count only for record metrics.
		b.Set("count", st.Count)
	}
	b.Set("sum", number(st.Sum, mt.Integer))
	return b
}

func runInfo(sum *results.Summary) *ordered.Map {
	r := ordered.New(8)
	if sum.Info.BenchmarkID != "" {
		r.Set("benchmark_id", sum.Info.BenchmarkID)
	}
	r.Set("random_seed", sum.Info.Seed)
	r.Set("trial", 0)
	if sum.Config != nil && sum.Config.Name != "" {
		r.Set("run_label", sum.Config.Name)
	}
	r.Set("variation_label", "base")
	r.Set("variation_index", 0)
	r.Set("variation_values", ordered.New(0))
	if sum.Config != nil && sum.Config.CLICommand != "" {
		r.Set("cli_command", sum.Config.CLICommand)
	}
	return r
}

func errorSummary(groups []results.ErrorGroup) []any {
	out := make([]any, 0, len(groups))
	for _, g := range groups {
		out = append(out, ordered.FromPairs("error_details", errorDetails(&g.Details), "count", g.Count))
	}
	return out
}

// errorDetails is AIPerf's ErrorDetails with unset fields omitted.
func errorDetails(d *record.ErrorDetails) *ordered.Map {
	e := ordered.New(4)
	if d.Code != 0 {
		e.Set("code", d.Code)
	}
	if d.Type != "" {
		e.Set("type", d.Type)
	}
	e.Set("message", d.Message)
	if d.Cause != "" {
		e.Set("cause", d.Cause)
	}
	return e
}

// isoTime writes a time as Python's datetime.isoformat() of
// datetime.fromtimestamp() (local time, microseconds when non-zero).
func isoTime(t time.Time) string {
	t = t.Local()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05")
	}
	return t.Format("2006-01-02T15:04:05.000000")
}

// loadstarBlock holds what loadstar adds to AIPerf's schema.
func loadstarBlock(sum *results.Summary) *ordered.Map {
	l := ordered.New(16)
	l.Set("version", or(sum.Version, "dev"))
	l.Set("random_seed", sum.Info.Seed)
	if sum.TokenSource != "" {
		l.Set("token_source", sum.TokenSource)
	}
	v := sum.Verdict
	verdict := ordered.New(12)
	verdict.Set("valid", v.Valid)
	reasons := make([]any, len(v.Reasons))
	for i, r := range v.Reasons {
		reasons[i] = r
	}
	verdict.Set("reasons", reasons)
	verdict.Set("scheduled_rate", pyFloat(v.ScheduledRate))
	verdict.Set("schedule_rate", pyFloat(v.ScheduleRate))
	verdict.Set("achieved_rate", pyFloat(v.AchievedRate))
	verdict.Set("rate_shortfall_pct", pyFloat(v.ShortfallPct))
	verdict.Set("issued", v.Issued)
	verdict.Set("late", v.Late)
	verdict.Set("dropped", v.Dropped)
	l.Set("verdict", verdict)
	for i := range sum.Metrics {
		if mt := &sum.Metrics[i]; mt.Group == loadstarGroup {
			l.Set(mt.Tag, metricBlock(mt))
		}
	}
	stats := ordered.New(2)
	stats.Set("method", "linear-interpolation percentiles over all values (numpy default), population std")
	stats.Set("exact_limit", sum.ExactStatsLimit)
	approx := ordered.New(0)
	for i := range sum.Metrics {
		if st := sum.Metrics[i].Stats; st != nil && st.Approx {
			approx.Set(sum.Metrics[i].Tag, ordered.FromPairs("source", "hdr", "relative_error", pyFloat(st.Precision)))
		}
	}
	if approx.Len() > 0 {
		stats.Set("approximate", approx)
	}
	l.Set("statistics", stats)
	if len(sum.Thresholds) > 0 {
		th := make([]any, 0, len(sum.Thresholds))
		for _, t := range sum.Thresholds {
			th = append(th, ordered.FromPairs("metric", t.Threshold.Metric, "expression", t.Threshold.Expr,
				"passed", t.Passed, "actual", pyFloat(t.Actual), "message", t.Message))
		}
		l.Set("thresholds", th)
	}
	l.Set("warnings", anyStrings(sum.Info.Warnings))
	if len(sum.Notes) > 0 {
		l.Set("notes", anyStrings(sum.Notes))
	}
	if len(sum.Files) > 0 {
		files := ordered.New(len(sum.Files))
		keys := make([]string, 0, len(sum.Files))
		for k := range sum.Files {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			files.Set(k, sum.Files[k])
		}
		l.Set("files", files)
	}
	return l
}

func anyStrings(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
