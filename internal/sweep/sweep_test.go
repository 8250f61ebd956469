package sweep

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/results"
)

func TestCellsGridZipAndNames(t *testing.T) {
	grid, err := Cells([]Param{{"concurrency", []any{int64(1), int64(2)}}, {"isl", []any{int64(128), int64(512)}}}, Grid)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range grid {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "concurrency_1-isl_128 concurrency_1-isl_512 concurrency_2-isl_128 concurrency_2-isl_512" {
		t.Fatalf("grid names: %s", got)
	}
	if v := grid[2].Values; v[0].Index != 1 || v[1].Index != 0 || v[1].Value != int64(128) {
		t.Fatalf("grid cell 2 indices: %+v", v)
	}
	zip, err := Cells([]Param{{"rate", []any{1.5, 3.0}}, {"pair", []any{[]any{int64(512), int64(128)}, []any{int64(1024), int64(64)}}}}, Zip)
	if err != nil {
		t.Fatal(err)
	}
	if len(zip) != 2 || zip[0].Name != "rate_1.5-pair_512x128" || zip[1].Name != "rate_3-pair_1024x64" || zip[1].Values[1].Index != 1 {
		t.Fatalf("zip: %+v", zip)
	}
	if _, err := Cells([]Param{{"a", []any{1, 2}}, {"b", []any{1}}}, Zip); err == nil || !strings.Contains(err.Error(), "equal length") {
		t.Fatalf("zip length mismatch: %v", err)
	}
	if _, err := Cells([]Param{{"a", []any{"x", "x"}}}, Grid); err == nil || !strings.Contains(err.Error(), "same label") {
		t.Fatalf("duplicate labels: %v", err)
	}
	if _, err := Cells([]Param{{"a", nil}}, Grid); err == nil {
		t.Fatal("empty values accepted")
	}
}

func TestTCriticalMatchesTables(t *testing.T) {
	// Two-sided 95% and 99% critical values from standard t tables.
	cases := []struct {
		conf float64
		df   int
		want float64
	}{{0.95, 1, 12.706}, {0.95, 4, 2.776}, {0.95, 9, 2.262}, {0.95, 30, 2.042}, {0.99, 5, 4.032}, {0.90, 2, 2.920}}
	for _, c := range cases {
		if got := tCritical(c.conf, c.df); math.Abs(got-c.want) > 0.001 {
			t.Errorf("t(%v, df=%d) = %.4f, want %.3f", c.conf, c.df, got, c.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	a := Summarize([]float64{10, 12, 14}, 0.95)
	if a.Mean != 12 || a.Std != 2 || a.Min != 10 || a.Max != 14 {
		t.Fatalf("%+v", a)
	}
	half := 4.303 * 2 / math.Sqrt(3) // t(0.95, 2) * s/sqrt(n)
	if math.Abs(a.CIHigh-12-half) > 0.01 || math.Abs(12-a.CILow-half) > 0.01 {
		t.Fatalf("CI [%v, %v], want ±%v", a.CILow, a.CIHigh, half)
	}
	one := Summarize([]float64{5}, 0.95)
	if one.CILow != 5 || one.CIHigh != 5 || one.Std != 0 {
		t.Fatalf("single value: %+v", one)
	}
}

// A monotone objective with a known boundary: the search must converge to it.
func TestSearchConvergesToBoundary(t *testing.T) {
	for _, boundary := range []float64{0.7, 6, 37.5, 1000} {
		probe := func(_ context.Context, v float64, _ string) (bool, []string, error) {
			if v <= boundary {
				return true, nil, nil
			}
			return false, []string{"too high"}, nil
		}
		res, err := Search(context.Background(), SearchSpec{Lo: 0.5, Tolerance: 0.02, MaxProbes: 40}, probe)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Found || res.Best > boundary || res.Best < boundary*0.98 || !res.Converged {
			t.Errorf("boundary %v: best %v found=%v converged=%v after %d probes", boundary, res.Best, res.Found, res.Converged, len(res.Probes))
		}
	}
	// Integer knob: exact answer.
	res, _ := Search(context.Background(), SearchSpec{Lo: 1, Integer: true}, func(_ context.Context, v float64, _ string) (bool, []string, error) {
		return v <= 6, nil, nil
	})
	if res.Best != 6 || res.FailAt != 7 {
		t.Fatalf("integer search: best %v fail %v probes %+v", res.Best, res.FailAt, res.Probes)
	}
	// Lo fails: nothing found, one probe.
	res, _ = Search(context.Background(), SearchSpec{Lo: 10}, func(context.Context, float64, string) (bool, []string, error) { return false, nil, nil })
	if res.Found || len(res.Probes) != 1 {
		t.Fatalf("lo failing: %+v", res)
	}
	// Max passes: best is max.
	res, _ = Search(context.Background(), SearchSpec{Lo: 1, Max: 20}, func(context.Context, float64, string) (bool, []string, error) { return true, nil, nil })
	if res.Best != 20 || !res.Converged {
		t.Fatalf("max passing: %+v", res)
	}
}

func TestWriteSummary(t *testing.T) {
	dir := t.TempDir()
	mk := func(thr, p99 float64, valid bool) *results.Summary {
		return &results.Summary{Config: &config.Benchmark{}, Verdict: results.Verdict{Valid: valid}, Info: results.RunInfo{ArtifactDir: filepath.Join(dir, "x", "trial")},
			Metrics: []results.Metric{
				{Tag: "request_throughput", Kind: results.DerivedMetric, Value: thr},
				{Tag: "time_to_first_token", Kind: results.RecordMetric, Stats: &results.Stats{P99: p99, Avg: p99 / 2}},
			}}
	}
	cells, _ := Cells([]Param{{"concurrency", []any{int64(1), int64(4)}}}, Grid)
	rows := []Row{
		{Cell: cells[0], Trials: []*results.Summary{mk(10, 100, true), mk(12, 120, true)}},
		{Cell: cells[1], Err: "boom"},
	}
	csvPath, jsonPath, err := WriteSummary(dir, []string{"concurrency"}, rows, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(csvPath)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "step,concurrency,trials,valid,request_throughput,request_throughput_std,") {
		t.Fatalf("csv:\n%s", b)
	}
	if !strings.HasPrefix(lines[1], "concurrency_1,1,2,true,11,") || !strings.HasSuffix(lines[2], ",boom") {
		t.Fatalf("csv rows:\n%s", b)
	}
	var doc map[string]any
	jb, _ := os.ReadFile(jsonPath)
	if err := json.Unmarshal(jb, &doc); err != nil {
		t.Fatal(err)
	}
	steps := doc["steps"].([]any)
	m := steps[0].(map[string]any)["metrics"].(map[string]any)["ttft_p99_ms"].(map[string]any)
	if m["mean"].(float64) != 110 || m["n"].(float64) != 2 {
		t.Fatalf("json metrics: %v", m)
	}
}

// A plugin swept whole is named by its label, not by the parameter and its
// text; summaries still show the text.
func TestLabeledValues(t *testing.T) {
	cells, err := Cells([]Param{{"timing", []any{
		Labeled{Text: "timing.concurrency(concurrency=1)", Label: "concurrency_1"},
		Labeled{Text: "timing.concurrency(concurrency=8)", Label: "concurrency_8"},
	}}, {"isl", []any{int64(128)}}}, Grid)
	if err != nil {
		t.Fatal(err)
	}
	if cells[0].Name != "concurrency_1-isl_128" || cells[1].Name != "concurrency_8-isl_128" {
		t.Errorf("names %q, %q", cells[0].Name, cells[1].Name)
	}
	if got := FormatValue(cells[1].Values[0].Value); got != "timing.concurrency(concurrency=8)" {
		t.Errorf("text %q", got)
	}
}

// A sweep that ended early keeps the rows it finished, lists the others as
// not finished and says so; CSV numbers are rounded, JSON ones are not.
func TestWriteSummaryIncomplete(t *testing.T) {
	dir := t.TempDir()
	cells, _ := Cells([]Param{{"concurrency", []any{int64(1), int64(2), int64(4)}}}, Grid)
	sum := &results.Summary{Config: &config.Benchmark{}, Verdict: results.Verdict{Valid: true}, Info: results.RunInfo{ArtifactDir: filepath.Join(dir, "concurrency_1")},
		Metrics: []results.Metric{{Tag: "request_throughput", Kind: results.DerivedMetric, Value: 19.043453453452}}}
	rows := []Row{{Cell: cells[0], Trials: []*results.Summary{sum}}}
	csvPath, jsonPath, err := WriteSummary(dir, []string{"concurrency"}, rows, 0.95, Incomplete("interrupted by SIGINT (Ctrl-C)", cells[1:]))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(csvPath)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "concurrency_1,1,1,true,19.0435,") ||
		!strings.HasPrefix(lines[2], "concurrency_2,2,0,false,") || !strings.HasSuffix(lines[3], ",not finished: interrupted by SIGINT (Ctrl-C)") {
		t.Fatalf("csv:\n%s", b)
	}
	var doc struct {
		Complete         bool   `json:"complete"`
		IncompleteReason string `json:"incomplete_reason"`
		Steps            []struct {
			Metrics map[string]Aggregate `json:"metrics"`
			Error   string               `json:"error"`
		} `json:"steps"`
	}
	jb, _ := os.ReadFile(jsonPath)
	if err := json.Unmarshal(jb, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Complete || doc.IncompleteReason != "interrupted by SIGINT (Ctrl-C)" || len(doc.Steps) != 3 || doc.Steps[2].Error == "" ||
		doc.Steps[0].Metrics["request_throughput"].Mean != 19.043453453452 {
		t.Fatalf("json: %s", jb)
	}
	if len(rows) != 1 {
		t.Errorf("the caller's rows changed: %d", len(rows))
	}
	// A finished sweep says it is complete.
	_, jsonPath, _ = WriteSummary(t.TempDir(), []string{"concurrency"}, rows, 0.95)
	jb, _ = os.ReadFile(jsonPath)
	if !strings.Contains(string(jb), `"complete": true`) || strings.Contains(string(jb), "incomplete_reason") {
		t.Errorf("complete sweep: %s", jb)
	}
}
