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
	time.Sleep(120 * time.Millisecond) // past the render throttle
	s.Update(Snapshot{Done: 6, InFlight: 3, Errors: 1, Elapsed: 2 * time.Second})
	s.Finish()
	out := b.String()
	for _, want := range []string{"profiling", "3 in flight", "1 errors", "6/10", "10/10"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%q", want, out)
		}
	}
}

func TestSimpleShowsTimeLeft(t *testing.T) {
	var b bytes.Buffer
	s := newSimple(&b)
	s.Start(Phase{Name: "profiling", Duration: 10 * time.Second})
	time.Sleep(120 * time.Millisecond)
	s.Update(Snapshot{Done: 40, Elapsed: 4 * time.Second})
	s.Finish()
	if out := b.String(); !strings.Contains(out, "6s left") || !strings.Contains(out, "40 done") {
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
