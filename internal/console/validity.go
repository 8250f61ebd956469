package console

import (
	"fmt"
	"io"
	"strings"

	"github.com/loadstar/loadstar/engine/results"
)

// Validity prints loadstar's schedule block (plugin validity): issue delay
// and schedule-corrected latencies, achieved versus scheduled rate, late and
// dropped requests, the verdict with its reasons, client warnings and
// measurement notes.
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
	switch {
	case v.ScheduledRate > 0 && v.ScheduleRate > 0 && v.AchievedRate > 0:
		// The schedule as drawn (a Poisson schedule is never exactly the
		// target) is what the achieved rate is held to.
		fmt.Fprintf(&b, "Rate: target %s req/s, scheduled %s req/s, achieved %s req/s (%s%% %s the schedule)\n",
			number(v.ScheduledRate), number(v.ScheduleRate), number(v.AchievedRate), number(abs(v.ShortfallPct)), belowAbove(v.ShortfallPct))
	case v.ScheduledRate > 0:
		fmt.Fprintf(&b, "Rate: target %s req/s, achieved %s req/s\n", number(v.ScheduledRate), number(v.AchievedRate))
	case v.AchievedRate > 0:
		fmt.Fprintf(&b, "Issue rate: %s req/s (closed loop, no schedule)\n", number(v.AchievedRate))
	}
	fmt.Fprintf(&b, "Issued: %s   Late (>1 ms): %s   Dropped: %s\n", thousands(int64(v.Issued)), thousands(int64(v.Late)), thousands(int64(v.Dropped)))
	if v.Valid {
		fmt.Fprintf(&b, "Verdict: %s\n", paint("VALID", ansiBold+ansiGreen, st.Color))
	} else {
		fmt.Fprintf(&b, "Verdict: %s\n", paint("INVALID", ansiBold+ansiRed, st.Color))
		for _, r := range v.Reasons {
			fmt.Fprintf(&b, "  - %s\n", r)
		}
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

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func belowAbove(shortfall float64) string {
	if shortfall < 0 {
		return "ahead of"
	}
	return "short of"
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
