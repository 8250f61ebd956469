package export

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/golden"
)

func TestMain(m *testing.M) {
	// start_time/end_time are local like Python's datetime.fromtimestamp;
	// pin the zone so the golden files are stable.
	time.Local = time.UTC
	os.Exit(m.Run())
}

func stats(avg, min, max, sum, std float64, count int64) *results.Stats {
	return &results.Stats{Avg: avg, Min: min, Max: max, Sum: sum, Std: std, Count: count,
		P1: min, P5: min, P10: min + 0.125, P25: avg - 1, P50: avg, P75: avg + 1, P90: max - 0.5, P95: max - 0.25, P99: max}
}

// sampleSummary is a small, fully specified summary covering every kind of
// block: record metrics (float and integer), aggregates, derived metrics,
// loadstar metrics, errors, a verdict and a time slice.
func sampleSummary() *results.Summary {
	cfg := config.Defaults()
	cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat", Args: plugin.Args{"model": "Qwen/Qwen3-0.6B", "url": "http://127.0.0.1:8000", "api_key": "sk-live-secret"}}
	cfg.Stop.Requests = 4
	cfg.Seed, cfg.SeedSet = 42, true
	cfg.CLICommand = "loadstar run bench.star"
	rec := func(tag, header, unit string, integer bool, st *results.Stats, group string) results.Metric {
		return results.Metric{Tag: tag, Header: header, Unit: unit, Kind: results.RecordMetric, Stats: st, Integer: integer, Group: group}
	}
	val := func(tag, header, unit string, kind results.Kind, v float64) results.Metric {
		return results.Metric{Tag: tag, Header: header, Unit: unit, Kind: kind, Value: v}
	}
	return &results.Summary{
		Info: results.RunInfo{BenchmarkID: "bench-1", Seed: 42, EndpointType: "chat", Streaming: true,
			Endpoint: plugin.EndpointMetadata{MetricsTitle: "LLM Metrics"},
			Start:    time.Unix(1_700_000_000, 0), End: time.Unix(1_700_000_003, 250_000_000),
			ScheduledRate: 2, Issued: 5, Warnings: []string{"client CPU above 85% for 2 s"}},
		Config: &cfg,
		Metrics: []results.Metric{
			{Tag: "adj_request_latency", Header: "Request Latency (error-adjusted)", Unit: "ms", Kind: results.DerivedMetric,
				Stats: &results.Stats{Avg: math.Inf(1), Sum: math.Inf(1), Std: math.NaN(), Count: 5, Min: 500, Max: math.Inf(1),
					P1: 500, P5: 500, P10: 500, P25: 700, P50: 1000, P75: 1000, P90: math.Inf(1), P95: math.Inf(1), P99: math.Inf(1)}},
			val("benchmark_duration", "Benchmark Duration", "sec", results.DerivedMetric, 3),
			{Tag: "completed_request_count", Header: "Completed Requests (Success + Error)", Unit: "requests", Kind: results.DerivedMetric, Value: 5, Integer: true},
			rec("error_isl", "Error Input Sequence Length", "tokens", true, stats(7, 7, 7, 7, 0, 1), ""),
			{Tag: "error_request_count", Header: "Error Request Count", Unit: "requests", Kind: results.AggregateMetric, Value: 1, Integer: true},
			rec("inter_token_latency", "Inter Token Latency", "ms", false, stats(150, 100, 200, 600, 50, 4), ""),
			rec("issue_delay", "Issue Delay", "ms", false, stats(0.05, 0.01, 0.2, 0.25, 0.07, 5), "loadstar"),
			rec("output_sequence_length", "Output Sequence Length", "tokens", true, stats(5.25, 3, 9, 21, 2.38, 4), ""),
			val("output_token_throughput", "Output Token Throughput", "tokens/sec", results.DerivedMetric, 7),
			{Tag: "request_count", Header: "Request Count", Unit: "requests", Kind: results.AggregateMetric, Value: 4, Integer: true},
			val("request_error_rate", "Request Error Rate", "%", results.DerivedMetric, 20),
			rec("request_latency", "Request Latency", "ms", false, stats(800, 500, 1000, 3200, 212.13, 4), ""),
			val("request_throughput", "Request Throughput", "requests/sec", results.DerivedMetric, 4.0/3),
			rec("time_to_first_token", "Time to First Token", "ms", false, stats(250, 100, 400, 1000, 111.80339887498948, 4), ""),
			{Tag: "total_osl", Header: "Total Output Sequence Length", Unit: "tokens", Kind: results.DerivedMetric, Value: 21, Integer: true},
		},
		Errors: []results.ErrorGroup{
			{Details: record.ErrorDetails{Code: 500, Type: "Internal Server Error", Message: "boom, \"quoted\""}, Count: 1},
			{Details: record.ErrorDetails{Type: record.ErrNoContent, Message: "Invalid inference result: no content in the response"}, Count: 1},
		},
		Verdict: results.Verdict{Valid: false, Reasons: []string{"p99 issue delay 1.20 ms exceeds the 1.00 ms limit (validity limit)"},
			OpenLoop: true, Arrival: "Poisson", ScheduledRate: 2, AchievedRate: 1.98, ScheduleRate: 2, ShortfallPct: 1,
			Issued: 5, Scheduled: 5, Late: 1, LateThresholdMs: 1,
			Limits:   results.VerdictLimits{MaxRateShortfallPct: 1, MaxIssueDelayP99Ms: 1, MeanGapMs: 500, LatencyP50Ms: 800},
			Schedule: "target 2 req/s (Poisson, 5 arrivals drawn: 2.00 req/s), sent 1.98 req/s, 1 late"},
		Warnings:        []string{"Output sequence length mismatch: 1 of 4 requests (25.0%) ..."},
		WarmupMetrics:   []results.Metric{rec("time_to_first_token", "Time to First Token", "ms", false, stats(300, 300, 300, 300, 0, 1), "")},
		TokenSource:     "client:o200k_base",
		Version:         "v0.1.0",
		ExactStatsLimit: 5_000_000,
		Files:           map[string]string{"csv": "artifacts/x/profile_export_aiperf.csv"},
		Timeslices: []results.Timeslice{{Index: 0, StartNs: 1_700_000_000_000_000_000, EndNs: 1_700_000_002_000_000_000, Complete: false,
			Metrics: []results.Metric{
				val("request_count", "Request Count", "requests", results.AggregateMetric, 3),
				rec("time_to_first_token", "Time to First Token", "ms", false, stats(200, 100, 300, 600, 81.6, 3), ""),
			}}},
	}
}

func TestSummaryJSONGolden(t *testing.T) {
	data, err := summaryJSON(sampleSummary())
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "profile_export_aiperf.json"), data)
}

func TestSummaryCSVGolden(t *testing.T) {
	data, err := summaryCSV(sampleSummary())
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "profile_export_aiperf.csv"), data)
}

// orderedKeys returns the keys of a JSON object in document order.
func orderedKeys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestSummaryJSONSchema checks the layout field by field against AIPerf's
// JsonExportData (schema 1.5): top-level order, metric block shapes.
func TestSummaryJSONSchema(t *testing.T) {
	data, err := summaryJSON(sampleSummary())
	if err != nil {
		t.Fatal(err)
	}
	keys := orderedKeys(t, data)
	wantTop := []string{"schema_version", "aiperf_version", "benchmark_id",
		// declared metric fields, in JsonExportData order
		"request_throughput", "request_latency", "request_count", "time_to_first_token", "inter_token_latency",
		"output_token_throughput", "output_sequence_length", "benchmark_duration", "total_osl",
		"error_request_count", "error_isl",
		"input_config", "run_info", "was_cancelled", "is_complete", "error_summary", "start_time", "end_time",
		"runtime_submission_invalid_reasons", "warmup_metrics",
		// extra metrics after the declared fields, by tag
		"adj_request_latency", "completed_request_count", "request_error_rate",
		"loadstar"}
	if strings.Join(keys, ",") != strings.Join(wantTop, ",") {
		t.Errorf("top-level keys\n got %v\nwant %v", keys, wantTop)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	recordBlock := "unit,avg,p1,p5,p10,p25,p50,p75,p90,p95,p99,min,max,std,count,sum"
	for _, tag := range []string{"request_latency", "time_to_first_token", "output_sequence_length", "error_isl"} {
		if got := strings.Join(orderedKeys(t, doc[tag]), ","); got != recordBlock {
			t.Errorf("%s block keys %s", tag, got)
		}
	}
	// Non-finite statistics are left out, as AIPerf leaves them out.
	if got := strings.Join(orderedKeys(t, doc["adj_request_latency"]), ","); got != "unit,p1,p5,p10,p25,p50,p75,min,count" {
		t.Errorf("adjusted block keys %s", got)
	}
	for _, tag := range []string{"request_count", "request_throughput", "benchmark_duration", "total_osl"} {
		if got := strings.Join(orderedKeys(t, doc[tag]), ","); got != "unit,avg" {
			t.Errorf("%s block keys %s", tag, got)
		}
	}
	if got := strings.Join(orderedKeys(t, doc["run_info"]), ","); got != "benchmark_id,random_seed,trial,variation_label,variation_index,variation_values,cli_command" {
		t.Errorf("run_info keys %s", got)
	}
	// Integer metrics keep Python ints for min/max/sum; averages are floats,
	// a count's too (AIPerf: "request_count": {"unit": "requests", "avg": 20.0}).
	var osl map[string]json.RawMessage
	_ = json.Unmarshal(doc["output_sequence_length"], &osl)
	if string(osl["min"]) != "3" || string(osl["sum"]) != "21" || string(osl["avg"]) != "5.25" || string(osl["count"]) != "4" {
		t.Errorf("OSL numbers %s", doc["output_sequence_length"])
	}
	if !bytes.Contains(doc["request_count"], []byte(`"avg": 4.0`)) || !bytes.Contains(doc["benchmark_duration"], []byte(`"avg": 3.0`)) {
		t.Errorf("float values keep their point: %s %s", doc["request_count"], doc["benchmark_duration"])
	}
	if string(doc["schema_version"]) != `"1.5"` || string(doc["is_complete"]) != "true" || bytes.Contains(data, []byte("sk-live-secret")) {
		t.Error("schema version, completeness or secret")
	}
	if _, ok := doc["issue_delay"]; ok {
		t.Error("loadstar metric at top level")
	}
	// error_summary: AIPerf's ErrorDetails keys; an error built from an
	// exception gets its repr as message and its type as cause chain.
	var errs []struct {
		Details map[string]json.RawMessage `json:"error_details"`
	}
	_ = json.Unmarshal(doc["error_summary"], &errs)
	if len(errs) != 2 || string(errs[0].Details["code"]) != "500" || errs[0].Details["cause_chain"] != nil ||
		string(errs[1].Details["message"]) != `"InvalidInferenceResultError('Invalid inference result: no content in the response')"` ||
		!strings.Contains(string(errs[1].Details["cause_chain"]), `"InvalidInferenceResultError"`) || errs[1].Details["code"] != nil {
		t.Errorf("error_summary %s", doc["error_summary"])
	}
	var ls struct {
		Verdict map[string]json.RawMessage `json:"verdict"`
	}
	_ = json.Unmarshal(doc["loadstar"], &ls)
	if string(ls.Verdict["status"]) != `"INVALID"` || string(ls.Verdict["valid"]) != "false" ||
		string(ls.Verdict["schedule"]) != `"target 2 req/s (Poisson, 5 arrivals drawn: 2.00 req/s), sent 1.98 req/s, 1 late"` {
		t.Errorf("loadstar.verdict %v", ls.Verdict)
	}
}

func TestIncompleteRunSaysWhy(t *testing.T) {
	for cause, want := range map[string]string{
		"context canceled": "cancelled: the run was interrupted before it finished",
		"threshold time_to_first_token p99 < 100ms failed (abort_on_fail)": "aborted: threshold time_to_first_token p99 < 100ms failed (abort_on_fail)",
	} {
		sum := sampleSummary()
		sum.Info.WasCancelled, sum.Info.CancelCause = true, cause
		data, err := summaryJSON(sum)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		_ = json.Unmarshal(data, &doc)
		if doc["is_complete"] != false || doc["incomplete_reason"] != want {
			t.Errorf("cause %q: is_complete %v, incomplete_reason %q", cause, doc["is_complete"], doc["incomplete_reason"])
		}
	}
}

func TestCSVLayout(t *testing.T) {
	data, _ := summaryCSV(sampleSummary())
	text := string(data)
	if strings.Count(text, "\r\n") != strings.Count(text, "\n") {
		t.Error("line ends are not CRLF")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n")
	if lines[0] != "Metric,avg,min,max,sum,p1,p5,p10,p25,p50,p75,p90,p95,p99,std" {
		t.Errorf("header %q", lines[0])
	}
	blank := -1
	for i, l := range lines {
		if l == "" {
			blank = i
			break
		}
	}
	if blank < 0 || lines[blank+1] != "Metric,Value" {
		t.Fatalf("no second section: %q", lines)
	}
	for _, want := range []string{
		"Output Sequence Length (tokens),5.25,3,9,21,3.00,3.00,3.12,4.25,5.25,6.25,8.50,8.75,9.00,2.38",
		"Time to First Token (ms),250.00,100.00,400.00,1000.00,100.00,100.00,100.12,249.00,250.00,251.00,399.50,399.75,400.00,111.80",
		// Counts print as integers, rates with two decimals, infinity as inf
		// (AIPerf's _format_number), and the adjusted row is labelled as AIPerf's.
		"Request Count,4",
		"Request Throughput (requests/sec),1.33",
		"Completed Requests (Success + Error),5",
		"Request Latency (error-adjusted) (ms),inf,500.00,inf,inf,500.00,500.00,500.00,700.00,1000.00,1000.00,inf,inf,inf,",
	} {
		if !strings.Contains(text, want+"\r\n") {
			t.Errorf("missing row %q", want)
		}
	}
}

func TestPyFloat(t *testing.T) {
	for v, want := range map[float64]string{20: "20.0", 0: "0.0", 2.5: "2.5", 1e-5: "1e-05", 1e16: "1e+16", 0.0001: "0.0001", 1234.5678: "1234.5678"} {
		if got := string(appendPyFloat(nil, v)); got != want {
			t.Errorf("%v → %s, want %s", v, got, want)
		}
	}
}

// Integral values take appendPyFloat's integer path; it prints what the
// shortest float formatting prints, up to 2^53 and past it.
func TestPyFloatIntegral(t *testing.T) {
	for _, v := range []float64{1, -1, 7, 349, -42, 1e6, 123456789012345, 1<<53 - 1, -(1<<53 - 1), 1 << 53, 1<<53 + 2, 9999999999999998} {
		want := strconv.FormatFloat(v, 'f', -1, 64) + ".0"
		if got := string(appendPyFloat(nil, v)); got != want {
			t.Errorf("%v → %s, want %s", v, got, want)
		}
	}
}

func TestTargetPaths(t *testing.T) {
	def := &Target{Dir: "d"}
	foo := &Target{Dir: "d", Prefix: "foo"}
	for kind, want := range map[string][2]string{
		KindJSON:          {"profile_export_aiperf.json", "foo.json"},
		KindCSV:           {"profile_export_aiperf.csv", "foo.csv"},
		KindJSONL:         {"profile_export.jsonl", "foo.jsonl"},
		KindRaw:           {"profile_export_raw.jsonl", "foo_raw.jsonl"},
		KindParquet:       {"profile_export.parquet", "foo.parquet"},
		KindTimeslicesCSV: {"profile_export_aiperf_timeslices.csv", "foo_timeslices.csv"},
		KindInputs:        {"inputs.json", "inputs.json"},
	} {
		if got := def.Path(kind); got != filepath.Join("d", want[0]) {
			t.Errorf("%s: %s", kind, got)
		}
		if got := foo.Path(kind); got != filepath.Join("d", want[1]) {
			t.Errorf("%s prefixed: %s", kind, got)
		}
	}
}

func TestArtifactDirAndStimulus(t *testing.T) {
	cfg := config.Defaults()
	cfg.Endpoint = &plugin.Spec{Name: "chat", Args: plugin.Args{"model": "Qwen/Qwen3-0.6B"}}
	spec := func(name string, args plugin.Args) *plugin.Spec { return &plugin.Spec{Name: name, Args: args} }
	for _, tc := range []struct {
		timing *plugin.Spec
		want   string
	}{
		{nil, "concurrency1"},
		{spec("concurrency", plugin.Args{"concurrency": int64(2)}), "concurrency2"},
		{spec("request_rate", plugin.Args{"rate": 10.0}), "request_rate10.0"},
		{spec("request_rate", plugin.Args{"rate": 2.5, "concurrency": int64(8)}), "concurrency8-request_rate2.5"},
		{spec("user_centric_rate", plugin.Args{"users": int64(4), "qps": 1.0}), "user_centric-users4-qps1.0"},
		{spec("fixed_schedule", nil), "fixed_schedule"},
	} {
		cfg.Timing = tc.timing
		if got := ArtifactDir(&cfg, "openai", "chat", ""); got != filepath.Join("artifacts", "Qwen_Qwen3-0.6B-openai-chat-"+tc.want) {
			t.Errorf("%v: %s", tc.timing, got)
		}
	}
	cfg.Endpoint.Args["model"] = []any{"a/b", "c"}
	if got := ArtifactDir(&cfg, "", "chat", "x"); got != filepath.Join("artifacts", "a_b_multi-chat-x") {
		t.Errorf("multi: %s", got)
	}
	cfg.Output.ArtifactDir = "exact/dir"
	if got := ArtifactDir(&cfg, "openai", "chat", ""); got != "exact/dir" {
		t.Errorf("explicit: %s", got)
	}
}

func TestTimesliceExports(t *testing.T) {
	dir := t.TempDir()
	tg := &Target{Dir: dir}
	sum := sampleSummary()
	p, err := TimeslicesCSV{}.Export(context.Background(), tg, sum)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	text := string(data)
	for _, want := range []string{"Timeslice,Metric,Unit,Stat,Value\r\n", "0,Request Count,requests,avg,3.00\r\n",
		"0,Time to First Token,ms,p99,300.00\r\n", "0,Time to First Token,ms,min,100.00\r\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("timeslice CSV lacks %q:\n%s", want, text)
		}
	}
	p, err = TimeslicesJSON{}.Export(context.Background(), tg, sum)
	if err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(p)
	var doc struct {
		Timeslices []map[string]json.RawMessage `json:"timeslices"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Timeslices) != 1 || string(doc.Timeslices[0]["is_complete"]) != "false" || doc.Timeslices[0]["time_to_first_token"] == nil {
		t.Errorf("timeslices JSON %s", data)
	}
	sum.Timeslices = nil
	if p, err := (TimeslicesCSV{}).Export(context.Background(), tg, sum); p != "" || err != nil {
		t.Errorf("no slices wrote %q %v", p, err)
	}
}

func TestInputConfigRedactsHeadersAndURLPasswords(t *testing.T) {
	cfg := config.Defaults()
	cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat", Args: plugin.Args{
		"url":     "http://user:hunter2@127.0.0.1:8000/v1",
		"headers": []string{"Authorization: Bearer sk-abc", "Cookie: session=xyz", "Accept: text/plain"},
		"model":   "m",
	}}
	cfg.Transport = &plugin.Spec{Category: plugin.Transport, Name: "http", Args: plugin.Args{
		"headers": ordered.FromPairs("X-Custom-Token", "tok123", "X-Proxy", "Bearer tok456", "X-Tenant", "team-a", "User-Agent", "bench/1"),
	}}
	sum := sampleSummary()
	sum.Config = &cfg
	data, err := summaryJSON(sum)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, secret := range []string{"sk-abc", "session=xyz", "hunter2", "tok123", "tok456"} {
		if strings.Contains(text, secret) {
			t.Errorf("secret %q written:\n%s", secret, text)
		}
	}
	for _, kept := range []string{"Accept: text/plain", `"User-Agent": "bench/1"`, "Authorization: <redacted>", "user:<redacted>@127.0.0.1", `"X-Tenant": "team-a"`} {
		if !strings.Contains(text, kept) {
			t.Errorf("%q missing", kept)
		}
	}
}

// A run never overwrites an earlier run's files unless asked to.
func TestClaimDir(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "run")
	got, err := ClaimDir(dir, false)
	if err != nil || got != dir {
		t.Fatalf("new directory: %q, %v", got, err)
	}
	if got, err := ClaimDir(dir, false); err != nil || got != dir {
		t.Fatalf("empty directory is reused: %q, %v", got, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "profile_export_aiperf.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{dir + "-2", dir + "-3"} {
		got, err := ClaimDir(dir, false)
		if err != nil || got != want {
			t.Fatalf("existing run: %q, %v; want %q", got, err, want)
		}
		if st, err := os.Stat(got); err != nil || !st.IsDir() {
			t.Fatalf("%s not created", got)
		}
	}
	if got, err := ClaimDir(dir, true); err != nil || got != dir {
		t.Fatalf("overwrite: %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "profile_export_aiperf.json")); err != nil {
		t.Fatal("ClaimDir must not delete anything")
	}
}
