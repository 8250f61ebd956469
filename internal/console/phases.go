package console

import (
	"io"

	"github.com/loadstar/loadstar/engine/results"
)

// Phases prints one row per profiling phase of a multi-phase run (plugin
// phases): its requests, duration, scheduled and achieved rate, median
// and p99 TTFT (request latency without streaming), errors and verdict.
// It prints nothing for a single-phase run.
type Phases struct{}

// Print implements Exporter.
func (Phases) Print(w io.Writer, sum *results.Summary, st Style) error {
	if len(sum.Phases) == 0 {
		return nil
	}
	latTag, latName := "time_to_first_token", "TTFT"
	if sum.Metric(latTag) == nil {
		latTag, latName = "request_latency", "Latency"
	}
	t := &table{title: "loadstar | Phases", headers: []string{"Phase", "Requests", "Duration (s)", "Scheduled (req/s)",
		"Achieved (req/s)", latName + " p50 (ms)", latName + " p99 (ms)", "Errors", "Verdict"}}
	t.left = make([]bool, len(t.headers))
	t.left[0] = true
	for i := range sum.Phases {
		ph := &sum.Phases[i]
		ps := ph.Summary(sum)
		value := func(tag string) float64 {
			if m := ps.Metric(tag); m != nil {
				if m.Stats != nil {
					return m.Stats.Avg
				}
				return m.Value
			}
			return 0
		}
		p50, p99 := "N/A", "N/A"
		if m := ps.Metric(latTag); m != nil && m.Stats != nil {
			p50, p99 = number(m.Stats.P50), number(m.Stats.P99)
		}
		sched := "closed loop"
		if ph.Info.ScheduledRate > 0 {
			sched = number(ph.Info.ScheduledRate)
		}
		verdict, style := "VALID", ansiGreen
		if !ph.Verdict.Valid {
			verdict, style = "INVALID", ansiRed
		}
		t.add(cell{text: ph.Name}, cell{text: thousands(int64(value("request_count")))}, cell{text: number(value("benchmark_duration"))},
			cell{text: sched}, cell{text: number(value("request_throughput"))}, cell{text: p50}, cell{text: p99},
			cell{text: thousands(int64(value("error_request_count")))}, cell{text: verdict, style: style})
	}
	_, _ = io.WriteString(w, "\n")
	t.render(w, st.Color)
	return nil
}
