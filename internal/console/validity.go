package console

import (
	"fmt"
	"io"
	"strings"

	"github.com/loadstar/loadstar/engine/results"
)

// Validity prints loadstar's schedule block (plugin validity): issue delay
// and schedule-corrected latencies, the schedule in one sentence (what was
// asked, what was drawn, what was sent, how many late), the verdict with
// its reasons, AIPerf's result warnings, client warnings that apply, and
// measurement notes. Every figure is the verdict's own, rounded as the
// tables round.
type Validity struct{}

// Print implements Exporter.
func (Validity) Print(w io.Writer, sum *results.Summary, st Style) error {
	var b strings.Builder
	t := statTable("loadstar | Schedule Validity")
	for _, tag := range []string{"issue_delay", "scheduled_time_to_first_token", "scheduled_request_latency"} {
		if m := sum.Metric(tag); m != nil && m.Stats != nil {
			t.add(metricRow(m)...)
		}
	}
	b.WriteString("\n")
	if len(t.rows) > 0 {
		t.render(&b, st.Color)
	}
	v := sum.Verdict
	if v.Schedule != "" {
		fmt.Fprintf(&b, "Schedule: %s\n", v.Schedule)
	}
	if v.OpenLoop && v.LateThresholdMs > 0 {
		fmt.Fprintf(&b, "Late: sent more than %s ms after the schedule (%s)\n", number(v.LateThresholdMs), lateBasis(v.Limits))
	}
	if v.Valid {
		fmt.Fprintf(&b, "Verdict: %s\n", paint("VALID", ansiBold+ansiGreen, st.Color))
	} else {
		fmt.Fprintf(&b, "Verdict: %s\n", paint("INVALID", ansiBold+ansiRed, st.Color))
		for _, r := range v.Reasons {
			fmt.Fprintf(&b, "  - %s\n", r)
		}
	}
	for _, x := range sum.Warnings {
		fmt.Fprintf(&b, "%s %s\n", paint("Warning:", ansiYellow, st.Color), x)
	}
	if len(sum.Info.Warnings) > 0 {
		b.WriteString(paint("Client warnings:", ansiYellow, st.Color) + "\n")
		for _, x := range sum.Info.Warnings {
			fmt.Fprintf(&b, "  - %s\n", x)
		}
	}
	for _, n := range sum.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// lateBasis says where the lateness limit comes from.
func lateBasis(l results.VerdictLimits) string {
	if l.MeanGapMs <= 0 && l.LatencyP50Ms <= 0 {
		return "the validity limit"
	}
	var parts []string
	if l.MeanGapMs > 0 {
		parts = append(parts, fmt.Sprintf("mean gap between arrivals %s ms", number(l.MeanGapMs)))
	}
	if l.LatencyP50Ms > 0 {
		parts = append(parts, fmt.Sprintf("median latency %s ms", number(l.LatencyP50Ms)))
	}
	return "limit from the " + strings.Join(parts, " and the ") + "; run(validity = {...}) sets it"
}

// Footer prints the run facts and artifact paths (plugin footer), as
// AIPerf's footer: CLI command, benchmark duration, export paths.
type Footer struct{}

// fileLabels name the artifacts in the footer, in order.
var fileLabels = []struct{ kind, label string }{
	{"csv", "CSV Export"},
	{"json", "JSON Export"},
	{"jsonl", "Records Export"},
	{"raw", "Raw Records Export"},
	{"parquet", "Parquet Export"},
	{"timeslices_csv", "Timeslice CSV Export"},
	{"timeslices_json", "Timeslice JSON Export"},
	{"inputs", "Inputs"},
	{"server_metrics_json", "Server Metrics JSON"},
	{"server_metrics_csv", "Server Metrics CSV"},
	{"server_metrics_jsonl", "Server Metrics JSONL"},
	{"server_metrics_parquet", "Server Metrics Parquet"},
	{"gpu_telemetry_jsonl", "GPU Telemetry JSONL"},
}

// Print implements Exporter.
func (Footer) Print(w io.Writer, sum *results.Summary, st Style) error {
	var b strings.Builder
	b.WriteString("\n")
	if sum.Config != nil && sum.Config.CLICommand != "" {
		fmt.Fprintf(&b, "CLI Command: %s\n", sum.Config.CLICommand)
	}
	if m := sum.Metric("benchmark_duration"); m != nil {
		fmt.Fprintf(&b, "Benchmark Duration: %s %s\n", number(m.Value), m.Unit)
	}
	if sum.TokenSource != "" && sum.TokenSource != "none" {
		fmt.Fprintf(&b, "Token Counts: %s\n", sum.TokenSource)
	}
	if sum.Info.WasCancelled {
		b.WriteString(paint("Cancelled: results cover the requests finished before the interruption", ansiYellow, st.Color) + "\n")
	}
	for _, f := range fileLabels {
		if p := sum.Files[f.kind]; p != "" {
			fmt.Fprintf(&b, "%s: %s\n", f.label, p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
