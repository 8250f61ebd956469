package resultsdir_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/resultsdir"
)

// fixtures are runs of testdata/results/make_fixtures.star against the mock.
const fixtures = "../../testdata/results"

func TestOpenLoadstarRun(t *testing.T) {
	r, err := resultsdir.Open(filepath.Join(fixtures, "run"))
	if err != nil {
		t.Fatal(err)
	}
	s := r.Summary
	if r.SchemaVersion == "" || !strings.HasPrefix(r.Producer, "loadstar") {
		t.Errorf("schema %q producer %q", r.SchemaVersion, r.Producer)
	}
	ttft := s.Metric("time_to_first_token")
	if ttft == nil || ttft.Stats == nil || ttft.Unit != "ms" || ttft.Header != "Time to First Token" || ttft.Stats.Count == 0 {
		t.Fatalf("time_to_first_token = %+v", ttft)
	}
	if !(ttft.Stats.P50 > 5 && ttft.Stats.P50 < ttft.Stats.P99) {
		t.Errorf("ttft p50 %v p99 %v", ttft.Stats.P50, ttft.Stats.P99)
	}
	thr := s.Metric("request_throughput")
	if thr == nil || thr.Stats != nil || !(thr.Value > 0) {
		t.Errorf("request_throughput = %+v", thr)
	}
	if id := s.Metric("issue_delay"); id == nil || id.Group != "loadstar" || s.Verdict.IssueDelay == nil {
		t.Errorf("issue_delay from the loadstar block: %+v", id)
	}
	if len(s.Errors) == 0 || s.Errors[0].Count == 0 || s.Errors[0].Details.Code != 500 {
		t.Errorf("errors = %+v", s.Errors)
	}
	if s.Info.Start.IsZero() || !s.Info.End.After(s.Info.Start) || s.Info.Seed != 11 {
		t.Errorf("info = %+v", s.Info)
	}
	if get(r.InputConfig, "endpoint") == nil {
		t.Errorf("input_config = %v", r.InputConfig)
	}

	recs, err := r.Records()
	if err != nil {
		t.Fatal(err)
	}
	errCount := int(s.Metric("error_request_count").Value)
	valid := int(s.Metric("request_count").Value)
	if recs.Len() != valid+errCount || recs.Errors() != errCount || recs.Warmup != 2 {
		t.Errorf("records %d (errors %d, warmup %d), summary %d valid + %d errors", recs.Len(), recs.Errors(), recs.Warmup, valid, errCount)
	}
	if got := len(recs.Valid("time_to_first_token")); got != valid {
		t.Errorf("valid TTFT values %d, want %d", got, valid)
	}
	if recs.Units["request_latency"] != "ms" || recs.FirstStartNs() <= 0 {
		t.Errorf("units %v first %d", recs.Units, recs.FirstStartNs())
	}
	only, err := r.Records("request_latency")
	if err != nil || len(only.Values) != 1 {
		t.Errorf("Records(request_latency) kept %d metrics (%v)", len(only.Values), err)
	}

	ts, err := r.Timeslices()
	if err != nil || len(ts) < 2 {
		t.Fatalf("timeslices: %d, %v", len(ts), err)
	}
	if ts[0].Index != 0 || ts[1].StartNs <= ts[0].StartNs || len(ts[0].Metrics) == 0 {
		t.Errorf("timeslice 0 = %+v", ts[0])
	}
}

// A schema 1.5 file from AIPerf: new fields are ignored, Python's
// Infinity is read, nested warmup metrics are not taken for metrics.
func TestOpenAIPerfSchema15(t *testing.T) {
	r, err := resultsdir.Open("testdata/aiperf15")
	if err != nil {
		t.Fatal(err)
	}
	s := r.Summary
	if r.SchemaVersion != "1.5" || r.Name != "qwen-c8" || !s.Info.WasCancelled || s.Info.Seed != 42 {
		t.Errorf("run %q schema %q cancelled %v seed %d", r.Name, r.SchemaVersion, s.Info.WasCancelled, s.Info.Seed)
	}
	if m := s.Metric("adj_request_latency"); m == nil || !math.IsInf(m.Stats.P99, 1) || m.Stats.P50 != 150 {
		t.Errorf("adj_request_latency = %+v", m)
	}
	if m := s.Metric("session_count"); m == nil || m.Value != 100 || m.Header != "Session Count" {
		t.Errorf("unknown metric session_count = %+v", m)
	}
	if s.Metric("warmup_metrics") != nil || s.Metric("is_complete") != nil {
		t.Error("non-metric fields read as metrics")
	}
	if m := s.Metric("request_latency"); m == nil || m.Stats.Std != 15.5 || m.Stats.Count != 100 || m.Kind != results.RecordMetric {
		t.Errorf("request_latency = %+v", m)
	}
	if len(s.Errors) != 1 || s.Errors[0].Count != 2 || s.Errors[0].Details.Type != "RequestCancellationError" {
		t.Errorf("errors = %+v", s.Errors)
	}
	if s.Info.End.Sub(s.Info.Start).Seconds() < 8 {
		t.Errorf("start %v end %v", s.Info.Start, s.Info.End)
	}
	recs, err := r.Records()
	if err != nil {
		t.Fatal(err)
	}
	if recs.Len() != 3 || recs.Warmup != 1 || recs.Errors() != 1 || !recs.Cancelled[1] {
		t.Errorf("records %d warmup %d errors %d", recs.Len(), recs.Warmup, recs.Errors())
	}
	if lat := recs.Valid("request_latency"); len(lat) != 2 || lat[1] != 140 {
		t.Errorf("latencies %v", lat)
	}
	if recs.Column("inter_chunk_latency") != nil {
		t.Error("list metric read as a column")
	}
}

func TestScanSweep(t *testing.T) {
	runs, sw, err := resultsdir.Scan(filepath.Join(fixtures, "sweep"))
	if err != nil {
		t.Fatal(err)
	}
	if sw == nil || len(sw.Steps) != 3 || len(runs) != 3 || sw.Params[0] != "concurrency" {
		t.Fatalf("sweep %+v, %d runs", sw, len(runs))
	}
	for i, want := range []string{"1", "2", "4"} {
		st := sw.Steps[i]
		if st.Values["concurrency"] != want || len(st.Runs) != 1 || st.Runs[0].Values["concurrency"] != want {
			t.Errorf("step %d = %+v", i, st)
		}
		if st.Metrics["request_throughput"]["mean"] <= 0 {
			t.Errorf("step %d metrics %v", i, st.Metrics)
		}
	}
	if runs[2].Name != "concurrency_4" || !runs[2].HasRecords() {
		t.Errorf("run 2 %q records %v", runs[2].Name, runs[2].HasRecords())
	}

	runs, sw, err = resultsdir.Scan(filepath.Join(fixtures, "trials"))
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 4 || sw.Steps[1].Trials != 2 || len(sw.Steps[1].Runs) != 2 || runs[3].Trial != 2 {
		t.Errorf("trials: %d runs, steps %+v", len(runs), sw.Steps)
	}
	if runs[0].Name != "concurrency_1/trial 1" {
		t.Errorf("trial run name %q", runs[0].Name)
	}
}

// A directory of runs without a sweep summary: every run below it.
func TestScanDirectoryOfRuns(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a", "b/c"} {
		copyRun(t, filepath.Join(fixtures, "sweep", "concurrency_1"), filepath.Join(dir, name))
	}
	runs, sw, err := resultsdir.Scan(dir)
	if err != nil || sw != nil {
		t.Fatal(err, sw)
	}
	if len(runs) != 2 || runs[0].Name != "a" || runs[1].Name != "b/c" {
		t.Errorf("runs %v", names(runs))
	}
	_, _, err = resultsdir.Scan(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no benchmark results") {
		t.Errorf("empty directory: %v", err)
	}
}

// A summary written with an export prefix is found by its schema_version.
func TestOpenPrefixedExport(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(fixtures, "sweep", "concurrency_1", "profile_export_aiperf.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mine.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := resultsdir.Open(dir); err != nil {
		t.Fatal(err)
	}
}

func TestMalformedFilesNameTheFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "profile_export_aiperf.json"), []byte(`{"schema_version": "1.3", "x": [}`), 0o644)
	if _, err := resultsdir.Open(dir); err == nil || !strings.Contains(err.Error(), "profile_export_aiperf.json") {
		t.Errorf("bad summary: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "profile_export_aiperf.json"), []byte(`{"schema_version": "1.3"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "profile_export.jsonl"), []byte("{\"metadata\":{}}\nnot json\n"), 0o644)
	r, err := resultsdir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Records(); err == nil || !strings.Contains(err.Error(), "profile_export.jsonl:2") {
		t.Errorf("bad records: %v", err)
	}
}

func copyRun(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"profile_export_aiperf.json", "profile_export.jsonl"} {
		data, err := os.ReadFile(filepath.Join(from, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func names(runs []*resultsdir.Run) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.Name)
	}
	return out
}

func get(obj []resultsdir.Field, key string) any {
	for _, f := range obj {
		if f.Key == key {
			return f.Value
		}
	}
	return nil
}
