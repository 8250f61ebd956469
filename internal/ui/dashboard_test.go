package ui

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
)

// feed is a fake run: the phase and a series of snapshots with live
// statistics, as internal/outputs sends them.
func feed() (Phase, []Snapshot) {
	ph := Phase{Name: "profiling", Total: 200, Title: "chat http://127.0.0.1:9/v1/chat/completions · mock",
		Load: "20 req/s, poisson arrivals", Rate: 20, Validity: config.DefaultValidity(),
		SLOs:       []config.SLO{{Metric: "time_to_first_token", Op: "<=", Threshold: 200e6}},
		Thresholds: []config.Threshold{{Metric: "request_latency", Expr: "p99 < 100ms"}, {Metric: "goodput", Expr: "value > 1"}}}
	stats := func(p50, p90, p99 float64) *results.Stats {
		return &results.Stats{P50: p50, P90: p90, P99: p99, Avg: p50, Count: 10}
	}
	detail := Detail{
		Metrics: []results.Metric{
			{Tag: "time_to_first_token", Unit: "ms", Kind: results.RecordMetric, Stats: stats(40.5, 46.1, 51.2)},
			{Tag: "inter_token_latency", Unit: "ms", Kind: results.RecordMetric, Stats: stats(8, 8.1, 8.3)},
			{Tag: "request_latency", Unit: "ms", Kind: results.RecordMetric, Stats: stats(544, 556, 566)},
			{Tag: "issue_delay", Unit: "ms", Kind: results.RecordMetric, Stats: stats(0.1, 0.3, 0.6)},
		},
		Errors: []results.ErrorGroup{{Details: record.ErrorDetails{Code: 500, Type: "InternalServerError", Message: "boom"}, Count: 3}},
	}
	var snaps []Snapshot
	for i := 1; i <= 8; i++ {
		done := 10*i + 5*(i%2) // an uneven pace draws a sparkline
		if i == 8 {
			done = 80
		}
		snaps = append(snaps, Snapshot{Done: done, Sent: done + 4, InFlight: 4, Errors: i / 3, Good: done - 1,
			Elapsed: time.Duration(i) * 500 * time.Millisecond, OutputTokens: float64(640 * i),
			Detail: func() Detail { return detail }})
	}
	return ph, snaps
}

func drive(t *testing.T, m dashModel, msgs ...tea.Msg) dashModel {
	t.Helper()
	for _, msg := range msgs {
		next, _ := m.Update(msg)
		m = next.(dashModel)
	}
	return m
}

func feedModel(t *testing.T, noColor bool) dashModel {
	t.Helper()
	ph, snaps := feed()
	m := drive(t, newDashModel(noColor, nil), tea.WindowSizeMsg{Width: 120, Height: 40}, phaseMsg(ph))
	for _, s := range snaps {
		det := s.Detail()
		m = drive(t, m, snapshotMsg{s: s, detail: &det, at: time.Unix(0, 0).Add(s.Elapsed)})
	}
	return m
}

func TestDashboardShowsEverything(t *testing.T) {
	m := feedModel(t, true)
	v := m.View()
	if !v.AltScreen {
		t.Error("the dashboard takes the full screen (alternate screen)")
	}
	screen := stripANSI(v.Content)
	for _, want := range []string{
		"loadstar ▸ profiling", "20 req/s, poisson arrivals", // phase
		"80/200 (40%)", "ETA 6s", // progress and ETA: 120 left at 20/s
		"sent        84", "in flight   4", "completed   80", "errors      2 (2.5%)", "good        79", // counts
		"req/s", "tok/s", "▃█▃█▃█▃", // throughput with sparklines
		"TTFT             40.50     46.10     51.20", "Request          544.0     556.0     566.0", // live percentiles
		"issue delay   p50 0.10 ms  p99 0.60 ms", "issue rate    21.00 of 20.00 req/s", "✓ on schedule", // schedule
		"3 500 InternalServerError boom",                                               // error breakdown
		"✓ SLO TTFT ≤ 200.0 ms  p99 51.20", "✗ request_latency p99 < 100ms  now 566.0", // checks
		"· goodput value > 1  (not measured yet)",
		"ctrl+c stops the run",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("the screen lacks %q:\n%s", want, screen)
		}
	}
}

// NO_COLOR: no colour escape sequences at all; with colour, some.
func TestDashboardNoColor(t *testing.T) {
	plain := feedModel(t, true).View().Content
	if strings.Contains(plain, "\x1b[38;") || strings.Contains(plain, "\x1b[3") && strings.Contains(plain, ";2;") {
		t.Errorf("NO_COLOR output has colours: %q", plain[:200])
	}
	coloured := feedModel(t, false).View().Content
	if !strings.Contains(coloured, "\x1b[38;") {
		t.Error("the colour output has no colour")
	}
}

// The layout follows the terminal: two columns when wide, one when narrow,
// never wider than the screen, cut to its height.
func TestDashboardResize(t *testing.T) {
	m := feedModel(t, true)
	for _, size := range []tea.WindowSizeMsg{{Width: 120, Height: 40}, {Width: 70, Height: 60}, {Width: 100, Height: 12}} {
		m = drive(t, m, size)
		lines := strings.Split(m.View().Content, "\n")
		if len(lines) > size.Height {
			t.Errorf("%dx%d: %d lines", size.Width, size.Height, len(lines))
		}
		for _, l := range lines {
			if w := len([]rune(stripANSI(l))); w > size.Width {
				t.Errorf("%dx%d: a line of %d columns: %q", size.Width, size.Height, w, l)
			}
		}
		twoColumns := strings.Contains(m.View().Content, "╮╭")
		if twoColumns != (size.Width >= 90) {
			t.Errorf("%dx%d: two columns = %v", size.Width, size.Height, twoColumns)
		}
	}
}

// Each Ctrl-C interrupts the process (as outside raw mode: the first stops
// the run, a second exits at once), and the view says what happens next.
func TestDashboardCtrlC(t *testing.T) {
	calls := 0
	ph, _ := feed()
	m := drive(t, newDashModel(true, func() { calls++ }), phaseMsg(ph))
	ctrlC := tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	m = drive(t, m, ctrlC)
	if calls != 1 {
		t.Errorf("interrupt called %d times after one Ctrl-C, want 1", calls)
	}
	if !strings.Contains(stripANSI(m.View().Content), "stopping: no new requests") {
		t.Error("the footer does not say the run is stopping")
	}
	drive(t, m, ctrlC)
	if calls != 2 {
		t.Errorf("interrupt called %d times after two, want 2 (the second exits at once)", calls)
	}
}

// A run stopped from outside the view (SIGTERM) shows it is stopping.
func TestDashboardStoppingFromOutside(t *testing.T) {
	ph, _ := feed()
	m := drive(t, newDashModel(true, nil), phaseMsg(ph), snapshotMsg{s: Snapshot{Done: 1, Stopping: true}, at: time.Unix(1, 0)})
	if !strings.Contains(stripANSI(m.View().Content), "stopping: no new requests") {
		t.Error("the footer does not say the run is stopping")
	}
}

// A closed loop has no schedule to fall behind; a duration-bound phase
// counts down its time.
func TestDashboardClosedLoopAndDuration(t *testing.T) {
	m := drive(t, newDashModel(true, nil), phaseMsg(Phase{Name: "profiling", Duration: 10 * time.Second}),
		snapshotMsg{s: Snapshot{Done: 5, Sent: 7, Elapsed: 4 * time.Second}, at: time.Unix(4, 0)})
	screen := stripANSI(m.View().Content)
	for _, want := range []string{"closed loop", "(40%)", "ETA 6s", "none set", "N/A"} {
		if !strings.Contains(screen, want) {
			t.Errorf("lacks %q:\n%s", want, screen)
		}
	}
}

func TestSparkline(t *testing.T) {
	if got := sparkline([]float64{0, 1, 2, 4, 8}, 10); got != "▁▂▃▅█" {
		t.Errorf("sparkline %q", got)
	}
	if got := sparkline([]float64{1, 2, 3}, 2); got != "▆█" {
		t.Errorf("last values only: %q", got)
	}
	if got := sparkline([]float64{0, 0}, 5); got != "▁▁" {
		t.Errorf("all zero: %q", got)
	}
}

// The program: it runs on a writer, takes updates, and Close returns once
// it has ended; log lines written meanwhile come out afterwards, in order.
func TestDashboardProgramHoldsLogLines(t *testing.T) {
	var screen bytes.Buffer
	term := NewTerminal(&screen)
	log := slog.New(slog.NewTextHandler(term, nil))
	d := newDashboard(term)
	d.in = nil
	d.options = []tea.ProgramOption{tea.WithWindowSize(100, 30)}
	ph, snaps := feed()
	d.Start(ph)
	log.Info("first line while the dashboard runs")
	for _, s := range snaps {
		d.Update(s)
	}
	log.Info("second line")
	time.Sleep(100 * time.Millisecond)
	d.Finish()
	done := make(chan struct{})
	go func() { d.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	out := screen.String()
	first, second, frame := strings.Index(out, "first line"), strings.Index(out, "second line"), strings.LastIndex(out, "Latency (ms)")
	if frame < 0 {
		t.Fatalf("no dashboard drawn: %q", out)
	}
	if first < frame || second < first {
		t.Errorf("log lines not held until the dashboard ended: first %d, second %d, last frame %d", first, second, frame)
	}
	log.Info("after")
	if !strings.HasSuffix(strings.TrimSpace(screen.String()), `msg=after`) {
		t.Error("writes after Close go straight through")
	}
	d.Close() // twice is harmless
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
