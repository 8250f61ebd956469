package ui

import (
	"bytes"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"
)

func TestSimpleCountsRequests(t *testing.T) {
	var b bytes.Buffer
	s := newSimple(&b)
	s.Start(Phase{Name: "profiling", Total: 10})
	s.Update(Snapshot{Done: 5, InFlight: 3, Errors: 1, Elapsed: time.Second})
	s.Update(Snapshot{Done: 10, InFlight: 0, Errors: 1, Elapsed: 2 * time.Second})
	s.Finish()
	out := b.String()
	for _, want := range []string{"profiling", "3 in flight", "1 errors", "5/10", " 50% ", "10/10", "100% [██████████████████████████████]"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%q", want, out)
		}
	}
	// The final state is drawn once and ends the line; nothing follows it.
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") || strings.Count(out, "10/10") != 1 {
		t.Errorf("final line not drawn exactly once, ending the output:\n%q", out)
	}
}

func TestSimpleShowsTimeLeft(t *testing.T) {
	var b bytes.Buffer
	s := newSimple(&b)
	s.Start(Phase{Name: "profiling", Duration: 10 * time.Second})
	s.Update(Snapshot{Done: 40, Elapsed: 4 * time.Second})
	s.Finish()
	if out := b.String(); !strings.Contains(out, "6s left") || !strings.Contains(out, "40 done") || !strings.Contains(out, " 40% ") {
		t.Errorf("output %q", out)
	}
}

// TestTerminalKeepsLinesWhole: a log line and a print() line written while
// the progress bar is on screen each start on a line of their own, and the
// bar is drawn again below them; the bar's last state ends with a newline,
// so the next log line is not glued onto it.
func TestTerminalKeepsLinesWhole(t *testing.T) {
	var errb, outb bytes.Buffer
	term := NewTerminal(&errb)
	stdout := term.Beside(&outb)
	s := newSimple(term)
	s.Start(Phase{Name: "warmup", Total: 2})
	s.Update(Snapshot{Done: 1, InFlight: 1})
	_, _ = term.Write([]byte("level=INFO msg=\"phase started\"\n"))
	_, _ = stdout.Write([]byte("printed\n"))
	s.Update(Snapshot{Done: 2})
	s.Finish()
	_, _ = term.Write([]byte("level=INFO msg=\"warmup done\"\n"))
	if outb.String() != "printed\n" {
		t.Errorf("stdout %q", outb.String())
	}
	// What a terminal shows: each \r returns to the line's start and
	// overwrites it.
	var screen []string
	for _, line := range strings.Split(errb.String(), "\n") {
		var shown []rune
		for _, p := range strings.Split(line, "\r") {
			r := []rune(p)
			if len(r) >= len(shown) {
				shown = r
			} else {
				shown = append(r, shown[len(r):]...)
			}
		}
		screen = append(screen, strings.TrimRight(string(shown), " "))
	}
	want := []string{
		`level=INFO msg="phase started"`,
		"warmup 100% [██████████████████████████████] 2/2 | 0 in flight | 0 errors | 0.0 req/s | 0s",
		`level=INFO msg="warmup done"`,
		"",
	}
	if strings.Join(screen, "\n") != strings.Join(want, "\n") {
		t.Errorf("screen:\n%s\nwant:\n%s\nraw: %q", strings.Join(screen, "\n"), strings.Join(want, "\n"), errb.String())
	}
}

// TestTerminalHoldsPrintsInOrder: while a full-screen UI holds the screen,
// log and print() lines wait and come out in the order they were written.
func TestTerminalHoldsPrintsInOrder(t *testing.T) {
	var both bytes.Buffer
	term := NewTerminal(&both)
	stdout := term.Beside(&both)
	_ = term.hold()
	_, _ = term.Write([]byte("log 1\n"))
	_, _ = stdout.Write([]byte("print 1\n"))
	_, _ = term.Write([]byte("log 2\n"))
	if both.Len() != 0 {
		t.Fatalf("written while held: %q", both.String())
	}
	term.release()
	if both.String() != "log 1\nprint 1\nlog 2\n" {
		t.Errorf("released %q", both.String())
	}
}

// An interrupted phase stays where it stopped and says it is stopping;
// it never jumps to 100 %.
func TestSimpleInterrupted(t *testing.T) {
	var b bytes.Buffer
	s := newSimple(&b)
	s.Start(Phase{Name: "profiling", Total: 10})
	s.Update(Snapshot{Done: 4, InFlight: 2, Elapsed: time.Second, Stopping: true})
	s.Finish()
	out := b.String()
	if strings.Contains(out, "10/10") || strings.Contains(out, "100%") {
		t.Errorf("the interrupted bar shows completion:\n%q", out)
	}
	if !strings.Contains(out, "interrupted after 1s: 4 of 10 done") {
		t.Errorf("the interrupted bar does not show where it stopped:\n%q", out)
	}
}

// The none UI's last line of an interrupted phase says so.
func TestNoneInterrupted(t *testing.T) {
	var b bytes.Buffer
	n := newNone(slog.New(slog.NewTextHandler(&b, nil)), 5*time.Second)
	n.Start(Phase{Name: "profiling", Total: 100})
	n.Update(Snapshot{Done: 7, Elapsed: time.Second, Stopping: true})
	n.Finish()
	if out := b.String(); !strings.Contains(out, "phase interrupted") || strings.Contains(out, "phase finished") {
		t.Errorf("output %q", out)
	}
}

func TestNoneLogsEveryInterval(t *testing.T) {
	var b bytes.Buffer
	n := newNone(slog.New(slog.NewTextHandler(&b, nil)), 5*time.Second)
	n.Start(Phase{Name: "profiling", Total: 100})
	for i := 1; i <= 12; i++ {
		n.Update(Snapshot{Done: i * 5, Elapsed: time.Duration(i) * time.Second, TTFTP50Ms: 12.5, LatencyP50Ms: math.NaN()})
	}
	n.Finish()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	// started, progress at 5 s and 10 s, finished.
	if len(lines) != 4 {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	if !strings.Contains(lines[1], "done=25") || !strings.Contains(lines[1], "pct=25.0") || !strings.Contains(lines[1], "ttft_p50_ms=12.50") {
		t.Errorf("progress line %q", lines[1])
	}
	if strings.Contains(lines[1], "latency_p50_ms") {
		t.Error("unknown median logged")
	}
	if !strings.Contains(lines[3], "phase finished") || !strings.Contains(lines[3], "done=60") {
		t.Errorf("final line %q", lines[3])
	}
}

func TestAuto(t *testing.T) {
	for _, tc := range []struct {
		name        string
		interactive bool
		want        string
	}{
		{"", true, "*ui.Dashboard"}, {"auto", false, "*ui.None"}, {"none", true, "*ui.None"}, {"simple", false, "*ui.Simple"},
		{"dashboard", false, "*ui.Dashboard"},
	} {
		u, err := Auto(tc.name, tc.interactive, &bytes.Buffer{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := typeName(u); got != tc.want {
			t.Errorf("Auto(%q, %v) = %s", tc.name, tc.interactive, got)
		}
	}
	if _, err := Auto("fancy", true, nil, nil); err == nil || !strings.Contains(err.Error(), "expected dashboard, simple, none or auto") {
		t.Errorf("unknown ui: %v", err)
	}
}

func typeName(u UI) string {
	switch u.(type) {
	case *Simple:
		return "*ui.Simple"
	case *None:
		return "*ui.None"
	case *Dashboard:
		return "*ui.Dashboard"
	}
	return "?"
}
