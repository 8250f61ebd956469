package clock

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestSpanRefusesOverflow(t *testing.T) {
	for _, c := range []struct {
		n    float64
		unit time.Duration
		want time.Duration
		err  string
	}{
		{1.5, time.Second, 1500 * time.Millisecond, ""},
		{-2, time.Millisecond, -2 * time.Millisecond, ""},
		{9223372036, time.Second, 9223372036 * time.Second, ""},
		{9223372037, time.Second, 0, "longer than the longest duration loadstar can hold (9223372036 seconds, about 292 years)"},
		{1e10, time.Second, 0, "1e+10 s is longer"},
		{-1e10, time.Second, 0, "longer"},
		{3e6, time.Hour, 0, "3e+06 h is longer"},
		{math.Inf(1), time.Second, 0, "+Inf s is longer"},
		{math.NaN(), time.Second, 0, "NaN"},
	} {
		got, err := Span(c.n, c.unit)
		if c.err == "" {
			if err != nil || got != c.want {
				t.Errorf("Span(%g, %s) = %s, %v; want %s", c.n, c.unit, got, err, c.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("Span(%g, %s) = %s, %v; want error containing %q", c.n, c.unit, got, err, c.err)
		}
	}
}

func TestSumScaleParse(t *testing.T) {
	if _, err := Sum(math.MaxInt64-5, 10); err == nil {
		t.Error("Sum overflow not refused")
	}
	if _, err := Sum(math.MinInt64+5, -10); err == nil {
		t.Error("Sum underflow not refused")
	}
	if d, err := Sum(time.Second, -time.Millisecond); err != nil || d != 999*time.Millisecond {
		t.Errorf("Sum = %s, %v", d, err)
	}
	if _, err := Scale(200*365*24*time.Hour, 2); err == nil {
		t.Error("Scale overflow not refused")
	}
	if d, err := Scale(time.Second, 0.5); err != nil || d != 500*time.Millisecond {
		t.Errorf("Scale = %s, %v", d, err)
	}
	if _, err := ParseSpan("3000000h"); err == nil || !strings.Contains(err.Error(), `"3000000h" is longer`) {
		t.Errorf("ParseSpan overflow: %v", err)
	}
	if _, err := ParseSpan("3 days"); err == nil || strings.Contains(err.Error(), "longer") {
		t.Errorf("ParseSpan of a non-duration: %v", err)
	}
	if d, err := ParseSpan("1h30m"); err != nil || d != 90*time.Minute {
		t.Errorf("ParseSpan = %s, %v", d, err)
	}
}

// FuzzParseSpan: no text makes a negative span out of a positive one, or
// panics; every accepted text agrees with time.ParseDuration.
func FuzzParseSpan(f *testing.F) {
	for _, s := range []string{"250ms", "1h30m", "3000000h", "-5s", "9223372036s", "9223372037s", ".5s", "1e3s", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseSpan(s)
		ref, rerr := time.ParseDuration(s)
		if (err == nil) != (rerr == nil) || d != ref {
			t.Fatalf("ParseSpan(%q) = %s, %v; time.ParseDuration %s, %v", s, d, err, ref, rerr)
		}
		if err == nil && !strings.HasPrefix(s, "-") && d < 0 {
			t.Fatalf("ParseSpan(%q) = %s: negative", s, d)
		}
	})
}

// FuzzSpan: a number of units either converts to a span of its sign or is
// refused; it never wraps.
func FuzzSpan(f *testing.F) {
	f.Add(1.5, int64(time.Second))
	f.Add(1e10, int64(time.Second))
	f.Add(-3e6, int64(time.Hour))
	f.Fuzz(func(t *testing.T, n float64, unit int64) {
		if unit <= 0 {
			return
		}
		d, err := Span(n, time.Duration(unit))
		if err != nil {
			return
		}
		if (n > 0 && d < 0) || (n < 0 && d > 0) {
			t.Fatalf("Span(%g, %d) = %s: wrapped", n, unit, d)
		}
	})
}
