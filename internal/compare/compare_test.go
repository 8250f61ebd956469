package compare_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/internal/compare"
)

const fixtures = "../../testdata/results"

// Reference values: scipy.stats.mannwhitneyu(a, b, method="asymptotic")
// and scipy.stats.ttest_ind(a, b, equal_var=False).
func TestMannWhitney(t *testing.T) {
	a := []float64{1, 2, 3, 4, 5}
	b := []float64{6, 7, 8, 9, 10}
	if p := compare.MannWhitney(a, b); math.Abs(p-0.01219) > 2e-4 {
		t.Errorf("separated samples: p = %.5f, want 0.01219", p)
	}
	if p := compare.MannWhitney(a, a); p != 1 {
		t.Errorf("identical samples: p = %v, want 1", p)
	}
	if p := compare.MannWhitney([]float64{3, 3, 3}, []float64{3, 3}); p != 1 {
		t.Errorf("constant samples: p = %v, want 1", p)
	}
	if p := compare.MannWhitney(nil, a); !math.IsNaN(p) {
		t.Errorf("empty sample: p = %v, want NaN", p)
	}
	// Ties (average ranks, tie-corrected variance): U = 7, mean 18,
	// variance 3·(13 − 150/132), z = 10.5/5.966, p = 0.0784.
	if p := compare.MannWhitney([]float64{1, 2, 2, 3, 3, 3}, []float64{2, 3, 3, 4, 4, 5}); math.Abs(p-0.0784) > 5e-4 {
		t.Errorf("tied samples: p = %.4f, want 0.0784", p)
	}
}

func TestWelch(t *testing.T) {
	if p := compare.Welch([]float64{1, 2, 3}, []float64{4, 5, 6}); math.Abs(p-0.02131) > 2e-4 {
		t.Errorf("p = %.5f, want 0.02131", p)
	}
	if p := compare.Welch([]float64{1, 2, 3}, []float64{1, 2, 3}); math.Abs(p-1) > 1e-9 {
		t.Errorf("same samples: p = %v", p)
	}
	if p := compare.Welch([]float64{1}, []float64{1, 2}); !math.IsNaN(p) {
		t.Errorf("one trial: p = %v, want NaN", p)
	}
}

func TestQuantileCI(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var a, b, c []float64
	for i := 0; i < 2000; i++ {
		a = append(a, 100+rng.NormFloat64()*5)
		b = append(b, 100+rng.NormFloat64()*5)
		c = append(c, 110+rng.NormFloat64()*5)
	}
	sort.Float64s(a)
	sort.Float64s(b)
	sort.Float64s(c)
	for _, q := range []float64{0.5, 0.9, 0.99} {
		if compare.QuantilesDiffer(a, b, q, 0.05) {
			t.Errorf("q %g: two samples of one distribution differ", q)
		}
		if !compare.QuantilesDiffer(a, c, q, 0.05) {
			t.Errorf("q %g: shifted distribution not found", q)
		}
	}
	// Twelve values cannot bound a p99 from above.
	if _, hi := compare.QuantileCI(a[:12], 0.99, 0.05); !math.IsInf(hi, 1) {
		t.Errorf("p99 of 12 values: upper bound %v, want +Inf", hi)
	}
}

func TestParseLimit(t *testing.T) {
	for in, want := range map[string]compare.Limit{
		"time_to_first_token.p99=+5%": {Tag: "time_to_first_token", Stat: "p99", Pct: 5, Direction: 1},
		"ttft=+5%":                    {Tag: "time_to_first_token", Stat: "avg", Pct: 5, Direction: 1},
		"output_token_throughput=-3%": {Tag: "output_token_throughput", Stat: "value", Pct: 3, Direction: -1},
		"latency.p50=10%":             {Tag: "request_latency", Stat: "p50", Pct: 10},
		"itl=±2.5%":                   {Tag: "inter_token_latency", Stat: "avg", Pct: 2.5},
	} {
		got, err := compare.ParseLimit(in)
		want.Text = in
		if err != nil || got != want {
			t.Errorf("%s: %+v, %v; want %+v", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"ttft":                      "expected metric[.stat]=+N%",
		"nope=+5%":                  "unknown metric \"nope\"",
		"ttft.p98x=+5%":             "unknown statistic",
		"request_throughput.p99=5%": "single value",
		"ttft=+5":                   "must be a percentage",
		"ttft=+0%":                  "not a positive percentage",
	} {
		if _, err := compare.ParseLimit(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want %q", in, err, msg)
		}
	}
}

func open(t *testing.T, dir string) *compare.Side {
	t.Helper()
	s, err := compare.Open(filepath.Join(fixtures, dir))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func row(t *testing.T, rep *compare.Report, tag, stat string) compare.Row {
	t.Helper()
	for _, r := range rep.Rows {
		if r.Tag == tag && r.Stat == stat {
			return r
		}
	}
	t.Fatalf("no row %s.%s", tag, stat)
	return compare.Row{}
}

// Concurrency 4 against the mock's ttft_quad queueing: TTFT rises a lot.
func TestCompareFindsTheChange(t *testing.T) {
	lim, _ := compare.ParseLimit("ttft.p50=+5%")
	thr, _ := compare.ParseLimit("request_throughput=+500%")
	rep, err := compare.Compare(open(t, "sweep/concurrency_1"), open(t, "sweep/concurrency_4"),
		compare.Options{Limits: []compare.Limit{lim, thr}})
	if err != nil {
		t.Fatal(err)
	}
	r := row(t, rep, "time_to_first_token", "avg")
	if !r.Significant || r.Better != -1 || r.Test != compare.TestRequests || r.P > 0.001 || r.ChangePct < 50 {
		t.Errorf("ttft avg row %+v", r)
	}
	if r := row(t, rep, "time_to_first_token", "p50"); !r.Crossed || r.Test != compare.TestQuantileCI {
		t.Errorf("ttft p50 row %+v", r)
	}
	// Twelve requests cannot bound a p99: no noise estimate, and a note.
	if r := row(t, rep, "time_to_first_token", "p99"); r.Tested() || len(rep.Notes) == 0 || !strings.Contains(rep.Notes[0], "p99: too few requests (12 and 48)") {
		t.Errorf("ttft p99 row %+v, notes %q", r, rep.Notes)
	}
	if r := row(t, rep, "request_throughput", "value"); r.Crossed || r.Tested() || r.Better != 1 {
		t.Errorf("throughput row %+v", r)
	}
	if n := len(rep.Crossed()); n != 1 {
		t.Errorf("%d limits crossed, want 1", n)
	}
	var out strings.Builder
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Time to First Token (ms)", "yes, worse", "CROSSED", "1 of 2 limit(s) crossed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCompareIdenticalRuns(t *testing.T) {
	lim, _ := compare.ParseLimit("latency=1%")
	rep, err := compare.Compare(open(t, "run"), open(t, "run"), compare.Options{Limits: []compare.Limit{lim}})
	if err != nil {
		t.Fatal(err)
	}
	if s := rep.SignificantChanges(); len(s) != 0 || len(rep.Crossed()) != 0 {
		t.Errorf("significant %v", s)
	}
	if !strings.Contains(rep.Summary(), "no significant change") {
		t.Errorf("summary %q", rep.Summary())
	}
}

// Trials on both sides: Welch's test over the trial values.
func TestCompareTrials(t *testing.T) {
	rep, err := compare.Compare(open(t, "trials/concurrency_1"), open(t, "trials/concurrency_2"), compare.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := row(t, rep, "request_throughput", "value"); r.Test != compare.TestWelch || math.IsNaN(r.P) {
		t.Errorf("throughput row %+v", r)
	}
	if _, err := compare.Open(filepath.Join(fixtures, "sweep")); err == nil || !strings.Contains(err.Error(), "a sweep of 3 steps") {
		t.Errorf("a sweep as a side: %v", err)
	}
}
