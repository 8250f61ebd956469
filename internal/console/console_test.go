package console

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/golden"
)

func st(avg, min, max, p99, p90, p50, std float64) *results.Stats {
	return &results.Stats{Avg: avg, Min: min, Max: max, P99: p99, P90: p90, P50: p50, Std: std, Count: 4}
}

func summary() *results.Summary {
	cfg := config.Defaults()
	cfg.CLICommand = "loadstar run bench.star --var rate=2"
	rec := func(tag, header, unit string, order int, s *results.Stats, group string) results.Metric {
		return results.Metric{Tag: tag, Header: header, Unit: unit, DisplayOrder: order, Stats: s, Group: group, Kind: results.RecordMetric}
	}
	val := func(tag, header, unit string, order int, v float64) results.Metric {
		return results.Metric{Tag: tag, Header: header, Unit: unit, DisplayOrder: order, Value: v, Kind: results.DerivedMetric}
	}
	return &results.Summary{
		Info: results.RunInfo{Endpoint: plugin.EndpointMetadata{MetricsTitle: "LLM Metrics"},
			Warnings: []string{"garbage-collection pauses reached 12.00 ms (p99 3.00 ms): request timestamps may be late by as much"}},
		Config: &cfg,
		Metrics: []results.Metric{
			val("benchmark_duration", "Benchmark Duration", "sec", 0, 3),
			rec("inter_token_latency", "Inter Token Latency", "ms", 400, st(150, 100, 200, 199, 190, 150, 50), ""),
			rec("issue_delay", "Issue Delay", "ms", 0, st(20.05, 0.01, 160.2, 150, 40.1, 0.04, 40.07), "loadstar"),
			rec("output_token_throughput_per_user", "Output Token Throughput Per User", "tokens/sec/user", 500, st(7.5, 5, 10, 9.95, 9.5, 7.5, 2.5), ""),
			val("output_token_throughput", "Output Token Throughput", "tokens/sec", 800, 1234.5678),
			rec("prefill_throughput_per_user", "Prefill Throughput Per User", "tokens/sec/user", 0, st(1, 1, 1, 1, 1, 1, 0), "none"),
			val("request_count", "Request Count", "requests", 1100, 4),
			rec("request_latency", "Request Latency", "ms", 300, st(800, 500, 1000, 998, 980, 850, 212.13), ""),
			val("request_throughput", "Request Throughput", "requests/sec", 900, 4.0/3),
			rec("scheduled_request_latency", "Scheduled Request Latency", "ms", 0, st(800.05, 500.01, 1000.2, 998, 980, 850, 212.1), "loadstar"),
			rec("time_to_first_output_token", "Time to First Output Token", "ms", 210, st(250, 100, 400, 397, 370, 250, 111.8), ""),
			rec("time_to_first_token", "Time to First Token", "ms", 100, st(250, 100, 400, 397, 370, 250, 111.8), ""),
		},
		Errors: []results.ErrorGroup{
			{Details: record.ErrorDetails{Code: 500, Type: "Internal Server Error", Message: "boom\nsecond line"}, Count: 1200},
			{Details: record.ErrorDetails{Type: "ConnectionError", Message: "refused"}, Count: 3},
		},
		Verdict: results.Verdict{Valid: false, OpenLoop: true,
			Reasons:       []string{"p99 issue delay 150.00 ms exceeds the 125.00 ms limit (the larger share of the 500.00 ms mean gap between arrivals and of the 850.00 ms median latency)"},
			ScheduledRate: 2, ScheduleRate: 2, AchievedRate: 1.98, ShortfallPct: 1, Issued: 5, Scheduled: 5, Late: 1, LateThresholdMs: 125,
			Limits:   results.VerdictLimits{MaxRateShortfallPct: 1, MaxIssueDelayP99Ms: 125, MeanGapMs: 500, LatencyP50Ms: 850},
			Schedule: "target 2 req/s (Poisson, 5 arrivals drawn: 2.00 req/s), sent 1.98 req/s, 1 late"},
		Warnings:    []string{"Output sequence length mismatch: 1 of 4 requests (25.0%) have an output length differing from the requested one"},
		TokenSource: "client:o200k_base",
		Files:       map[string]string{"json": "artifacts/x/profile_export_aiperf.json", "csv": "artifacts/x/profile_export_aiperf.csv"},
	}
}

// withThresholds judges a passing, a failing and an unmeasurable threshold
// on sum, as a run does.
func withThresholds(sum *results.Summary) *results.Summary {
	for _, th := range []config.Threshold{
		{Metric: "time_to_first_token", Expr: "p99 < 500ms"},
		{Metric: "request_throughput", Expr: "value >= 2"},
		{Metric: "time_to_second_token", Expr: "p99 < 50ms"},
	} {
		sum.Thresholds = append(sum.Thresholds, results.EvaluateThreshold(sum, th))
	}
	return sum
}

func TestReportGolden(t *testing.T) {
	var b bytes.Buffer
	if err := Print(&b, withThresholds(summary()), nil, Style{}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "report.txt"), b.Bytes())
	out := b.String()
	if strings.Contains(out, "\x1b[") {
		t.Error("colour without a terminal")
	}
	for _, want := range []string{"loadstar | LLM Metrics", "Time to First Token (ms)", "Output Token Throughput Per User\n", "1,234.57",
		"Verdict: INVALID", "Code", "1,200", "boom second line", "CSV Export: artifacts/x/profile_export_aiperf.csv",
		"loadstar | Thresholds", "│ ✓ │ time_to_first_token  │ p99 < 500ms │ p99 = 397.00 ms           │", "│ ✗ │ request_throughput", "value = 1.33 requests/sec",
		"Thresholds: 1 passed, 2 failed", "  - time_to_second_token: metric not computed in this run"} {
		if !strings.Contains(out, want) && !strings.Contains(strings.ReplaceAll(out, "│", ""), strings.TrimSuffix(want, "\n")) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(out, "Time to First Output Token") {
		t.Error("TTFO row shown without reasoning")
	}
	if strings.Contains(out, "Prefill") {
		t.Error("no-console metric on the main table")
	}
	// Rows follow display order: TTFT before latency before request count.
	if !(strings.Index(out, "Time to First Token") < strings.Index(out, "Request Latency") &&
		strings.Index(out, "Request Latency") < strings.Index(out, "Request Count")) {
		t.Error("rows out of display order")
	}
}

func TestColorWhenAsked(t *testing.T) {
	var b bytes.Buffer
	if err := (Metrics{}).Print(&b, summary(), Style{Color: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), ansiCyan) || !strings.Contains(b.String(), ansiDim+"N/A") {
		t.Error("no colour")
	}
	// Alignment is computed on visible text: every rendered line of the
	// table has the same visible width.
	var widths []int
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n")[1:] {
		plain := l
		for _, code := range []string{ansiReset, ansiBold, ansiDim, ansiItalic, ansiGreen, ansiCyan} {
			plain = strings.ReplaceAll(plain, code, "")
		}
		widths = append(widths, width(plain))
	}
	for _, w := range widths {
		if w != widths[0] {
			t.Fatalf("ragged table widths %v", widths)
		}
	}
}

func TestNumberFormat(t *testing.T) {
	for v, want := range map[float64]string{0: "0.00", 1234567.891: "1,234,567.89", 999.999: "1,000.00", -1234.5: "-1,234.50", 12: "12.00"} {
		if got := number(v); got != want {
			t.Errorf("%v → %s, want %s", v, got, want)
		}
	}
}

func TestUnknownExporter(t *testing.T) {
	if err := Print(&bytes.Buffer{}, summary(), []string{"metrics", "fancy"}, Style{}); err == nil || !strings.Contains(err.Error(), `"fancy"`) {
		t.Errorf("err = %v", err)
	}
}

func TestNoThresholdsNoSection(t *testing.T) {
	var b bytes.Buffer
	if err := (Thresholds{}).Print(&b, summary(), Style{}); err != nil || b.Len() != 0 {
		t.Errorf("printed %q, %v", b.String(), err)
	}
}
