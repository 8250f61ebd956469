// Package ui shows a benchmark's progress while it runs. Three plugins of
// category ui exist: dashboard (a full-screen live view: progress, counts,
// throughput sparklines, live percentiles, schedule, errors, SLOs and
// thresholds), simple (a progress bar: requests done of total, or time left
// for duration-bound phases, with in-flight and error counts) and none
// (plain log lines every few seconds, for CI logs and pipes). Auto picks the
// dashboard on a terminal and none otherwise, as AIPerf does.
//
// The layer that assembles a run (internal/outputs) drives a UI:
//
//	u, _ := ui.Auto(cfg.UI, rt.Interactive, os.Stderr, logger)
//	u.Start(ui.Phase{Name: "profiling", Total: 1000})
//	for each tick { u.Update(ui.Snapshot{Done: n, InFlight: k, Errors: e, Elapsed: d}) }
//	u.Finish()
package ui

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/results"
)

// UI shows progress. Start, Update and Finish are called from one
// goroutine; Update about every 250 ms.
type UI interface {
	// Start begins showing a phase.
	Start(p Phase)
	// Update shows the latest counters.
	Update(s Snapshot)
	// Finish ends the phase's display.
	Finish()
}

// Phase describes what is about to run. Total is the expected number of
// requests (0 = unknown) and Duration the phase's time bound (0 = none).
// The rest is for the dashboard: what is measured and against what.
type Phase struct {
	Name     string
	Total    int
	Duration time.Duration
	// Title names the step (endpoint, URL, model); Load describes the load.
	Title, Load string
	// Rate is the scheduled request rate (0 for a closed loop).
	Rate float64
	// Validity holds the verdict's limits (issue delay, rate shortfall).
	Validity config.Validity
	// SLOs and Thresholds are the step's objectives, checked live.
	SLOs       []config.SLO
	Thresholds []config.Threshold
}

// Snapshot is the state of the running phase.
type Snapshot struct {
	Done, Errors, InFlight int
	// Sent counts requests sent; Good those meeting every SLO.
	Sent, Good int
	Elapsed    time.Duration
	// Live medians and totals; NaN (or 0) when unknown.
	TTFTP50Ms, LatencyP50Ms float64
	OutputTokens            float64
	// Detail computes the running statistics of every metric and the error
	// summary so far; nil when unavailable. It costs a pass over the
	// histograms: UIs that show them call it.
	Detail func() Detail
	// Stopping is set once the run was interrupted (Ctrl-C, SIGTERM) or
	// aborted: sending has stopped and requests in flight are cancelled.
	// The phase then ends short of its total: UIs show it stopping, not
	// complete.
	Stopping bool
}

// Detail is the live statistics of a phase (see Snapshot.Detail).
type Detail struct {
	// Metrics are every metric measured so far (record metrics with
	// HDR-derived Stats, in display units).
	Metrics []results.Metric
	// Errors are the error groups, largest first.
	Errors []results.ErrorGroup
}

func (s Snapshot) rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Done) / s.Elapsed.Seconds()
}

// Classes returns the ui plugins of this package, keyed by the Go name of
// their manifest class path (go:internal/ui.<Key>).
func Classes() map[string]*plugin.Class {
	return map[string]*plugin.Class{
		"Simple":    {New: func(plugin.Args) (any, error) { return newSimple(os.Stderr), nil }},
		"Dashboard": {New: func(plugin.Args) (any, error) { return newDashboard(os.Stderr), nil }},
		"None": {
			Params: []plugin.Param{{Name: "interval", Type: plugin.TDuration, Default: defaultLogInterval,
				Doc: "How often a progress line is logged."}},
			New: func(a plugin.Args) (any, error) {
				iv := a.Duration("interval")
				if iv <= 0 {
					return nil, fmt.Errorf("interval: must be > 0, got %s", iv)
				}
				return newNone(slog.Default(), iv), nil
			},
		},
	}
}

// Auto returns the UI called name: "dashboard", "simple", "none", or "" /
// "auto" for the dashboard on a terminal and none otherwise (as AIPerf).
// w receives the dashboard or the progress bar, log the progress lines.
func Auto(name string, interactive bool, w io.Writer, log *slog.Logger) (UI, error) {
	switch strings.ToLower(name) {
	case "", "auto":
		if interactive {
			return newDashboard(w), nil
		}
		return newNone(log, defaultLogInterval), nil
	case "dashboard":
		return newDashboard(w), nil
	case "simple":
		return newSimple(w), nil
	case "none":
		return newNone(log, defaultLogInterval), nil
	}
	return nil, fmt.Errorf("ui %q: expected dashboard, simple, none or auto", name)
}

// Simple is the progress-bar UI (plugin simple): one status line per phase,
// redrawn in place at every update and left on screen, complete, when the
// phase ends. On a *Terminal the line stays below log lines and print()
// output instead of being written into them.
type Simple struct {
	w       io.Writer
	phase   Phase
	started bool
	last    Snapshot
	drawn   string // the line on screen (a plain writer)
}

// newSimple returns a progress-bar UI writing to w.
func newSimple(w io.Writer) *Simple { return &Simple{w: w} }

// barWidth is the number of cells of the bar.
const barWidth = 30

// Start implements UI.
func (s *Simple) Start(p Phase) {
	s.phase, s.started, s.last, s.drawn = p, true, Snapshot{}, ""
	s.draw(s.line(Snapshot{}), false)
}

// Update implements UI.
func (s *Simple) Update(sn Snapshot) {
	if !s.started {
		return
	}
	s.last = sn
	s.draw(s.line(sn), false)
}

// Finish implements UI: the last state stays on screen as a line of its own.
func (s *Simple) Finish() {
	if !s.started {
		return
	}
	s.started = false
	if s.last.Stopping { // an interrupted phase stays where it stopped
		total := ""
		if s.phase.Total > 0 {
			total = fmt.Sprintf(" of %d", s.phase.Total)
		}
		s.draw(fmt.Sprintf("%s interrupted after %s: %d%s done, %d errors", s.phase.Name,
			s.last.Elapsed.Round(time.Millisecond), s.last.Done, total, s.last.Errors), true)
		return
	}
	s.draw(s.line(s.last), true)
}

// line renders the status line of snapshot sn:
//
//	profiling  45% [█████████░░░░░░░░░░░░░░░░░░░░░] 9/20 | 11 in flight | 0 errors | 6.7 req/s | 1s
func (s *Simple) line(sn Snapshot) string {
	var b strings.Builder
	b.WriteString(s.phase.Name)
	if sn.Stopping {
		b.WriteString(" stopping (Ctrl-C again exits at once)")
	}
	frac := -1.0
	switch {
	case s.phase.Total > 0:
		frac = float64(sn.Done) / float64(s.phase.Total)
	case s.phase.Duration > 0:
		frac = sn.Elapsed.Seconds() / s.phase.Duration.Seconds()
	}
	if frac >= 0 {
		frac = math.Min(frac, 1)
		full := int(math.Round(frac * barWidth))
		fmt.Fprintf(&b, " %3.0f%% [%s%s]", 100*frac, strings.Repeat("█", full), strings.Repeat("░", barWidth-full))
	}
	if s.phase.Total > 0 {
		fmt.Fprintf(&b, " %d/%d", sn.Done, s.phase.Total)
	} else {
		fmt.Fprintf(&b, " %d done", sn.Done)
	}
	fmt.Fprintf(&b, " | %d in flight | %d errors | %.1f req/s | %s", sn.InFlight, sn.Errors, sn.rate(), sn.Elapsed.Round(time.Second))
	if s.phase.Duration > 0 {
		fmt.Fprintf(&b, " | %s left", max(s.phase.Duration-sn.Elapsed, 0).Round(time.Second))
	}
	return b.String()
}

// draw puts line on screen in place of the previous one; final ends it.
func (s *Simple) draw(line string, final bool) {
	if t, ok := s.w.(*Terminal); ok {
		if final {
			t.EndStatus(line)
		} else {
			t.Status(line)
		}
		return
	}
	if line == s.drawn {
		if final {
			_, _ = io.WriteString(s.w, "\n")
			s.drawn = ""
		}
		return
	}
	pad := strings.Repeat(" ", max(utf8.RuneCountInString(s.drawn)-utf8.RuneCountInString(line), 0))
	if final {
		_, _ = io.WriteString(s.w, "\r"+line+pad+"\n")
		s.drawn = ""
		return
	}
	_, _ = io.WriteString(s.w, "\r"+line+pad)
	s.drawn = line
}

// defaultLogInterval is how often the none UI logs progress.
const defaultLogInterval = 5 * time.Second

// None is the headless UI (plugin none): a log line when a phase starts,
// every interval while it runs, and when it ends.
type None struct {
	log      *slog.Logger
	interval time.Duration
	phase    Phase
	last     time.Duration
	lastSnap Snapshot
	started  bool
}

// newNone returns a UI logging progress to log every interval.
func newNone(log *slog.Logger, interval time.Duration) *None {
	if log == nil {
		log = slog.Default()
	}
	return &None{log: log, interval: interval}
}

// Start implements UI.
func (n *None) Start(p Phase) {
	n.phase, n.last, n.lastSnap, n.started = p, 0, Snapshot{}, true
	args := []any{"phase", p.Name}
	if p.Total > 0 {
		args = append(args, "requests", p.Total)
	}
	if p.Duration > 0 {
		args = append(args, "duration", p.Duration)
	}
	n.log.Info("phase started", args...)
}

// Update implements UI: it logs when interval has passed since the last line.
func (n *None) Update(s Snapshot) {
	n.lastSnap = s
	if s.Elapsed-n.last < n.interval {
		return
	}
	n.last = s.Elapsed
	n.line("progress", s)
}

func (n *None) line(msg string, s Snapshot) {
	args := []any{"phase", n.phase.Name, "done", s.Done}
	if n.phase.Total > 0 {
		args = append(args, "total", n.phase.Total, "pct", fmt.Sprintf("%.1f", 100*float64(s.Done)/float64(n.phase.Total)))
	}
	args = append(args, "in_flight", s.InFlight, "errors", s.Errors, "req_per_sec", fmt.Sprintf("%.2f", s.rate()),
		"elapsed", s.Elapsed.Round(time.Millisecond))
	if n.phase.Duration > 0 {
		args = append(args, "left", max(n.phase.Duration-s.Elapsed, 0).Round(time.Second))
	}
	if !math.IsNaN(s.TTFTP50Ms) && s.TTFTP50Ms > 0 {
		args = append(args, "ttft_p50_ms", fmt.Sprintf("%.2f", s.TTFTP50Ms))
	}
	if !math.IsNaN(s.LatencyP50Ms) && s.LatencyP50Ms > 0 {
		args = append(args, "latency_p50_ms", fmt.Sprintf("%.2f", s.LatencyP50Ms))
	}
	n.log.Info(msg, args...)
}

// Finish implements UI.
func (n *None) Finish() {
	if !n.started {
		return
	}
	n.started = false
	if n.lastSnap.Stopping {
		n.line("phase interrupted", n.lastSnap)
		return
	}
	n.line("phase finished", n.lastSnap)
}
