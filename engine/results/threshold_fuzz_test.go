package results

import (
	"math"
	"strings"
	"testing"
)

// FuzzParseThreshold: any text either parses into a statistic, an operator
// and a finite value, or fails with an error that quotes the expression —
// never a panic, never an infinite bound that would make a threshold pass
// or fail whatever was measured.
func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"p99 < 500ms", "avg<=2.5s", "p(95) > 10", "value >= 99.5%", "count == 100", "med != 1e3us",
		"max < 1e308h", "p99 < -0", "std<.5µs", "p(50)<1e", "min > +5e-3 min", "", "p99", "p99 <", "p(1.5) < 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := ParseThreshold(src)
		if err != nil {
			if !strings.Contains(err.Error(), "threshold ") {
				t.Fatalf("error %q does not name the threshold", err)
			}
			return
		}
		if _, ok := thresholdStats[e.Stat]; !ok && !strings.HasPrefix(e.Stat, "p") {
			t.Fatalf("%q: statistic %q", src, e.Stat)
		}
		switch e.Op {
		case "<", "<=", ">", ">=", "==", "!=":
		default:
			t.Fatalf("%q: operator %q", src, e.Op)
		}
		for _, v := range []float64{e.Value, e.DurationNs} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%q parsed to a value that is not finite: %+v", src, e)
			}
		}
	})
}
