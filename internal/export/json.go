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

// schemaVersion is the profile_export_aiperf.json schema written: AIPerf's
// 1.5 (its docs/reference/json-export-schema.md).
const schemaVersion = "1.5"

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
// schema 1.5: 2-space indent, unset fields and non-finite statistics
// omitted.
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
	if sum.Config != nil || sum.InputConfig != nil {
		m.Set("input_config", inputConfigOf(sum))
	}
	m.Set("run_info", runInfo(sum))
	m.Set("was_cancelled", sum.Info.WasCancelled)
	complete, why := sum.Complete()
	m.Set("is_complete", complete)
	if !complete {
		m.Set("incomplete_reason", why)
	}
	m.Set("error_summary", errorSummary(sum.Errors))
	if !sum.Info.Start.IsZero() {
		m.Set("start_time", isoTime(sum.Info.Start))
	}
	if !sum.Info.End.IsZero() {
		m.Set("end_time", isoTime(sum.Info.End))
	}
	// Scenario-submission checks (AIPerf's context-overflow rates) do not
	// exist in loadstar: no run is submission-invalid.
	m.Set("runtime_submission_invalid_reasons", []any{})
	if len(sum.WarmupMetrics) > 0 {
		w := ordered.New(len(sum.WarmupMetrics))
		for i := range sum.WarmupMetrics {
			if mt := &sum.WarmupMetrics[i]; mt.Group != loadstarGroup {
				w.Set(mt.Tag, metricBlock(mt))
			}
		}
		m.Set("warmup_metrics", w)
	}
	if len(sum.Phases) > 0 {
		m.Set("phases", phasesJSON(sum.Phases))
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

// phasesJSON renders a multi-phase run's profiling phases, each block
// laid out as the run's own: the metric blocks by tag (as warmup_metrics),
// error_summary, start and end, and loadstar's verdict and counts.
func phasesJSON(phases []results.PhaseResult) []any {
	out := make([]any, len(phases))
	for i := range phases {
		ph := &phases[i]
		b := ordered.New(len(ph.Metrics) + 6)
		b.Set("name", ph.Name)
		if !ph.Info.Start.IsZero() {
			b.Set("start_time", isoTime(ph.Info.Start))
		}
		if !ph.Info.End.IsZero() {
			b.Set("end_time", isoTime(ph.Info.End))
		}
		for j := range ph.Metrics {
			if mt := &ph.Metrics[j]; mt.Group != loadstarGroup {
				b.Set(mt.Tag, metricBlock(mt))
			}
		}
		b.Set("error_summary", errorSummary(ph.Errors))
		l := ordered.FromPairs("scheduled_rate", pyFloat(ph.Info.ScheduledRate), "issued", ph.Info.Issued,
			"dropped", ph.Info.Dropped, "verdict", verdictBlock(&ph.Verdict))
		for j := range ph.Metrics {
			if mt := &ph.Metrics[j]; mt.Group == loadstarGroup {
				l.Set(mt.Tag, metricBlock(mt))
			}
		}
		b.Set("loadstar", l)
		out[i] = b
	}
	return out
}

// metricBlock is AIPerf's JsonMetricResult: unit, avg, p1…p99, min, max,
// std, count, sum for distributions; unit and avg for single values.
// Statistics that are not finite (a failure-adjusted average is +inf) are
// left out, as AIPerf leaves them out; count is a distribution's, so a
// time-weighted one (the effective family) has none, and neither has sum.
func metricBlock(mt *results.Metric) *ordered.Map {
	b := ordered.New(16)
	b.Set("unit", mt.Unit)
	st := mt.Stats
	set := func(k string, v float64, integer bool) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			b.Set(k, number(v, integer))
		}
	}
	if st == nil {
		set("avg", mt.Value, false)
		return b
	}
	set("avg", st.Avg, false)
	for _, p := range []struct {
		k string
		v float64
	}{{"p1", st.P1}, {"p5", st.P5}, {"p10", st.P10}, {"p25", st.P25}, {"p50", st.P50},
		{"p75", st.P75}, {"p90", st.P90}, {"p95", st.P95}, {"p99", st.P99}} {
		set(p.k, p.v, false)
	}
	set("min", st.Min, mt.Integer)
	set("max", st.Max, mt.Integer)
	set("std", st.Std, false)
	if st.Count > 0 {
		b.Set("count", st.Count)
	}
	set("sum", st.Sum, mt.Integer)
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

// errorDetails is AIPerf's ErrorDetails (src/aiperf/common/models/
// error_models.py), fields in its order (message, code, type, cause,
// cause_chain) with unset ones omitted: see aiperfError.
func errorDetails(d *record.ErrorDetails) *ordered.Map {
	a := aiperfError(d)
	e := ordered.New(5)
	e.Set("message", a.message)
	if d.Code != 0 {
		e.Set("code", d.Code)
	}
	if d.Type != "" {
		e.Set("type", d.Type)
	}
	if d.Cause != "" {
		e.Set("cause", d.Cause)
	}
	if a.chain != "" {
		e.Set("cause_chain", []any{a.chain})
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
	l.Set("verdict", verdictBlock(&sum.Verdict))
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
			var actual any // null: nothing was measured (the message says why)
			if t.Stat != "" {
				actual = pyFloat(t.Actual)
			}
			th = append(th, ordered.FromPairs("metric", t.Threshold.Metric, "expression", t.Threshold.Expr,
				"passed", t.Passed, "stat", t.Stat, "actual", actual, "unit", t.Unit, "message", t.Message))
		}
		l.Set("thresholds", th)
	}
	if h := sum.Info.Health; h != nil {
		l.Set("client_health", ordered.FromPairs("cpu_share", pyFloat(h.CPUShare), "cpus", h.CPUs,
			"gc_share", pyFloat(h.GCShare), "gc_pause_p99_ms", pyFloat(float64(h.GCPauseP99)/1e6),
			"gc_pause_max_ms", pyFloat(float64(h.GCPauseMax)/1e6), "sched_latency_p99_ms", pyFloat(float64(h.SchedLatencyP99)/1e6),
			"record_backlog", h.RecordBacklog, "steal_share", pyFloat(h.StealShare)))
	}
	l.Set("warnings", anyStrings(sum.Info.Warnings))
	if len(sum.Warnings) > 0 {
		l.Set("result_warnings", anyStrings(sum.Warnings))
	}
	if len(sum.Notes) > 0 {
		l.Set("notes", anyStrings(sum.Notes))
	}
	if sh := shardsBlock(sum); sh != nil {
		l.Set("shards", sh)
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

// verdictBlock is loadstar.verdict: whether the run is VALID, why not, the
// schedule in a sentence and every figure the verdict used.
func verdictBlock(v *results.Verdict) *ordered.Map {
	b := ordered.New(20)
	status := "VALID"
	if !v.Valid {
		status = "INVALID"
	}
	b.Set("status", status)
	b.Set("valid", v.Valid)
	b.Set("reasons", anyStrings(v.Reasons))
	b.Set("schedule", v.Schedule)
	b.Set("open_loop", v.OpenLoop)
	if v.Arrival != "" {
		b.Set("arrival", v.Arrival)
	}
	b.Set("scheduled_rate", pyFloat(v.ScheduledRate))
	b.Set("schedule_rate", pyFloat(v.ScheduleRate))
	b.Set("achieved_rate", pyFloat(v.AchievedRate))
	b.Set("rate_shortfall_pct", pyFloat(v.ShortfallPct))
	b.Set("issued", v.Issued)
	b.Set("scheduled", v.Scheduled)
	b.Set("late", v.Late)
	b.Set("late_threshold_ms", pyFloat(v.LateThresholdMs))
	b.Set("dropped", v.Dropped)
	lim := v.Limits
	b.Set("limits", ordered.FromPairs(
		"max_rate_shortfall_pct", pyFloat(lim.MaxRateShortfallPct),
		"max_issue_delay_p99_ms", pyFloat(lim.MaxIssueDelayP99Ms),
		"mean_gap_ms", pyFloat(lim.MeanGapMs),
		"latency_p50_ms", pyFloat(lim.LatencyP50Ms)))
	return b
}

func anyStrings(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// shardsBlock is loadstar.shards: the shard a run was, or the shards a
// merged run joined, each with its start and clock figures.
func shardsBlock(sum *results.Summary) any {
	list := sum.Shards
	if sum.Shard != nil {
		list = []results.Shard{*sum.Shard}
	}
	if len(list) == 0 {
		return nil
	}
	out := make([]any, 0, len(list))
	for _, sh := range list {
		b := ordered.FromPairs("index", sh.Index, "count", sh.Count)
		if !sh.StartAt.IsZero() {
			b.Set("start_at", sh.StartAt.UTC().Format(time.RFC3339Nano))
			b.Set("start_skew_ms", pyFloat(float64(sh.Skew())/1e6))
		}
		if !sh.Started.IsZero() {
			b.Set("started", sh.Started.UTC().Format(time.RFC3339Nano))
		}
		if sh.ClockReference != "" {
			b.Set("clock_offset_ms", pyFloat(float64(sh.ClockOffset)/1e6))
			b.Set("clock_offset_error_ms", pyFloat(float64(sh.ClockOffsetError)/1e6))
			b.Set("clock_reference", sh.ClockReference)
		}
		if sh.IssueDelay != nil {
			b.Set("issue_delay_ms", ordered.FromPairs("p50", pyFloat(sh.IssueDelay.P50), "p99", pyFloat(sh.IssueDelay.P99),
				"max", pyFloat(sh.IssueDelay.Max)))
		}
		if sh.Requests > 0 {
			b.Set("requests", sh.Requests)
		}
		if sh.Pod != "" {
			b.Set("pod", sh.Pod)
		}
		out = append(out, b)
	}
	return out
}
