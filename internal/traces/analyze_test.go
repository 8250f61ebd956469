package traces

import (
	"bytes"
	"context"
	"math"
	"os"
	"testing"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/internal/golden"
)

// sample is a copy of the mooncake sample loadstar ships
// (scenarios/data/mooncake_sample.jsonl; TestSampleIsTheShippedOne).
const sample = "testdata/mooncake_sample.jsonl"

func TestSampleIsTheShippedOne(t *testing.T) {
	shipped, err := os.ReadFile("../../scenarios/data/mooncake_sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	copied, err := os.ReadFile(sample)
	if err != nil || !bytes.Equal(shipped, copied) {
		t.Fatalf("%s differs from scenarios/data/mooncake_sample.jsonl (%v): copy it again", sample, err)
	}
}

func analyzeFile(t *testing.T, path string) *Analysis {
	t.Helper()
	rows, format, err := dataset.ReadTrace(context.Background(), path, "")
	if err != nil {
		t.Fatal(err)
	}
	return Analyze(rows, Options{Format: format})
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

func nearStats(t *testing.T, what string, got *Stats, want Stats) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: no statistics", what)
	}
	near(t, what+" mean", got.Mean, want.Mean)
	near(t, what+" std_dev", got.StdDev, want.StdDev)
	near(t, what+" min", got.Min, want.Min)
	near(t, what+" p25", got.P25, want.P25)
	near(t, what+" median", got.Median, want.Median)
	near(t, what+" p75", got.P75, want.P75)
	near(t, what+" max", got.Max, want.Max)
}

// The figures of the shipped sample, worked out by hand from its 40 rows
// (and checked with a separate script following AIPerf's PrefixAnalyzer:
// numpy's linear-interpolation percentiles, population standard deviation).
func TestAnalyzeShippedSample(t *testing.T) {
	a := analyzeFile(t, sample)
	if a.Format != dataset.MooncakeTrace || a.BlockSize != 512 || a.TotalRequests != 40 {
		t.Fatalf("format %s, block %d, %d requests", a.Format, a.BlockSize, a.TotalRequests)
	}
	// Every row starts with hash id 0: one prefix group. The 40 rows' hash
	// ids form a tree of 115 distinct prefixes ([0], [0 1], [0 1 2], ...);
	// 273 prefix occurrences in all (the sum of the rows' lengths), 208 of
	// them of a prefix that appears in two or more rows.
	if a.NumPrefixGroups != 1 || a.UniquePrefixes != 115 {
		t.Errorf("%d prefix groups, %d unique prefixes; want 1 and 115", a.NumPrefixGroups, a.UniquePrefixes)
	}
	near(t, "prefix_reuse_ratio", a.PrefixReuseRatio, 208.0/273)
	// ISL: 130306 tokens over 40 rows; sorted, p25 lies between the 10th
	// and 11th (2498 and 2560: 2498 + 0.75·62), the median between the 20th
	// and 21st (3239 and 3325).
	if a.MinISL != 822 || a.MaxISL != 5153 || a.MinOSL != 16 || a.MaxOSL != 500 {
		t.Errorf("ISL %d..%d, OSL %d..%d", a.MinISL, a.MaxISL, a.MinOSL, a.MaxOSL)
	}
	near(t, "avg_isl", a.AvgISL, 130306.0/40)
	nearStats(t, "isl", a.ISLStats, Stats{Mean: 3257.65, StdDev: 993.6474362166894, Min: 822, P25: 2544.5, Median: 3282, P75: 3861.5, Max: 5153})
	// OSL: 8204 tokens; 12 rows of 500 put p75 at 500.
	nearStats(t, "osl", a.OSLStats, Stats{Mean: 205.1, StdDev: 193.36801700384683, Min: 16, P25: 64, Median: 128, P75: 500, Max: 500})
	// Context: the blocks whose (position, id) appear in another row, 512
	// tokens each (a row wholly shared counts its whole ISL); unique is the
	// rest of the ISL.
	nearStats(t, "context", a.ContextLengthStats, Stats{Mean: 2583.15, StdDev: 1117.3248979146576, Min: 512, P25: 2048, Median: 2560, P75: 3584, Max: 4096})
	nearStats(t, "unique", a.UniquePromptLengthStats, Stats{Mean: 674.5, StdDev: 772.4946925384019, Min: 0, P25: 0, Median: 502.5, P75: 960.5, Max: 2813})
	// Hit rates of an infinite cache filled in file order: row 1 misses
	// all; row 2 ([0 1 2 102]) finds 0, 1, 2 (3/4); row 3 finds 6 of 8 ...
	nearStats(t, "hit rate", a.HitRateStats, Stats{Mean: 0.5493921356421356, StdDev: 0.264308380307542, Min: 0,
		P25: 0.2767857142857143, Median: 0.5857142857142856, P75: 0.7833333333333333, Max: 0.8888888888888888})
	near(t, "cache_hit_rate", a.CacheHitRate, 0.5493921356421356)

	// Arrivals: 55 ms to 8708 ms, 39 gaps in 8.653 s.
	ar := a.Arrivals
	if ar == nil || ar.Requests != 40 || ar.WindowSec != 1 || len(ar.Windows) != 9 {
		t.Fatalf("arrivals %+v", ar)
	}
	near(t, "duration", ar.DurationSec, 8.653)
	near(t, "rate", ar.Rate, 39/8.653)
	counts := []int{8, 6, 1, 3, 4, 10, 2, 2, 4} // per second from 55 ms
	for i, w := range ar.Windows {
		if w.Requests != counts[i] {
			t.Errorf("window %d: %d requests, want %d", i, w.Requests, counts[i])
		}
	}
	near(t, "peak", ar.PeakRate, 10)
	near(t, "dispersion", ar.Dispersion, 2.0312499999999996) // sample variance 8.125 / mean 4
	near(t, "gap mean", ar.Gaps.Mean, 8.653/39)
	near(t, "gap cv", ar.GapCV, 1.345922479272624)
	near(t, "gamma smoothness", ar.GammaSmoothness, 0.5520264747720256)
	// No session ids: 40 single-turn sessions.
	if s := a.Sessions; s.Count != 40 || s.MultiTurn != 0 || s.TurnsPerSession.Max != 1 || s.ThinkTimeMs != nil {
		t.Errorf("sessions %+v", s)
	}
}

// The report prints AIPerf's analyze-trace layout and loadstar's
// additions; the JSON has AIPerf's AnalysisStats keys.
func TestAnalyzeReport(t *testing.T) {
	a := analyzeFile(t, sample)
	a.File = "mooncake_sample.jsonl"
	var text, js bytes.Buffer
	a.Print(&text)
	if err := a.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/mooncake_sample.report.txt", text.Bytes())
	golden.Check(t, "testdata/mooncake_sample.report.json", js.Bytes())
}

// Bailian sessions: a root chat and its follow-ups, think time from the
// turns' timestamps.
func TestAnalyzeSessions(t *testing.T) {
	a := analyzeFile(t, "testdata/bailian_sample.jsonl")
	if a.Format != dataset.BailianTrace || a.BlockSize != 16 {
		t.Fatalf("format %s block %d", a.Format, a.BlockSize)
	}
	s := a.Sessions
	// Sessions 11 (turns at 0.5 s, 2.25 s, 4 s), 12, 15.
	if s.Count != 3 || s.MultiTurn != 1 {
		t.Fatalf("sessions %+v", s)
	}
	nearStats(t, "think time", s.ThinkTimeMs, Stats{Mean: 1750, StdDev: 0, Min: 1750, P25: 1750, Median: 1750, P75: 1750, Max: 1750})
	nearStats(t, "duration", s.DurationSec, Stats{Mean: 3.5, Min: 3.5, P25: 3.5, Median: 3.5, P75: 3.5, Max: 3.5})
	near(t, "turns mean", s.TurnsPerSession.Mean, 5.0/3)
}
