package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/mock"
)

// fastMock makes the embedded mock quick enough for tests while keeping
// streaming timings meaningful (TTFT before ITL).
var fastMock = []string{"--mock-ttft", "1", "--mock-itl", "0.1", "--ui-type", "none"}

// profileRun runs `loadstar profile args...` in-process.
func profileRun(t *testing.T, args ...string) (stdout, stderr string, code errext.ExitCode) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runMain(append([]string{"profile"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func readSummary(t *testing.T, dir string) map[string]any {
	t.Helper()
	return readSummaryFile(t, filepath.Join(dir, "profile_export_aiperf.json"))
}

func readSummaryFile(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("summary: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("summary %s: %v", path, err)
	}
	return m
}

// metricValue reads a metric's avg (aggregate metrics) or the given stat.
func metricValue(m map[string]any, tag, stat string) (float64, bool) {
	blk, ok := m[tag].(map[string]any)
	if !ok {
		return 0, false
	}
	v, ok := blk[stat].(float64)
	return v, ok
}

// countRecords counts the profiling-phase records of a JSONL export
// (warmup records are exported too, tagged benchmark_phase "warmup").
func countRecords(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var rec struct {
			Metadata struct {
				Phase string `json:"benchmark_phase"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if rec.Metadata.Phase == "profiling" {
			n++
		}
	}
	return n
}

// TestProfileAIPerfCommandLines runs command lines from AIPerf's docs and
// tutorials (scaled down) against the embedded mock and checks AIPerf's
// artifact files, request counts and metric sets.
func TestProfileAIPerfCommandLines(t *testing.T) {
	tmp := t.TempDir()
	// The multi-turn sample with its think times cut 100-fold.
	multi := filepath.Join(tmp, "multi_turn.jsonl")
	src, err := os.ReadFile("../../testdata/datasets/multi_turn_sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(src)), "\n") {
		var conv map[string]any
		if err := json.Unmarshal([]byte(l), &conv); err != nil {
			t.Fatal(err)
		}
		for _, turn := range conv["turns"].([]any) {
			if tm := turn.(map[string]any); tm["delay"] != nil {
				tm["delay"] = tm["delay"].(float64) / 100
			}
		}
		b, _ := json.Marshal(conv)
		lines = append(lines, string(b))
	}
	if err := os.WriteFile(multi, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	streamingLLM := []string{"time_to_first_token", "inter_token_latency", "request_latency", "output_sequence_length",
		"input_sequence_length", "output_token_throughput", "request_throughput", "request_count"}
	cases := []struct {
		name     string
		args     []string
		requests int
		metrics  []string // present
		absent   []string
		// files replaces AIPerf's default artifact names (--profile-export-prefix).
		files []string
		check func(t *testing.T, dir string, sum map[string]any)
	}{
		{
			name: "chat streaming with concurrency (README quick start)",
			args: []string{"--model", "Qwen/Qwen3-0.6B", "--endpoint-type", "chat", "--streaming", "--concurrency", "4", "--request-count", "12",
				"--synthetic-input-tokens-mean", "128", "--synthetic-input-tokens-stddev", "0", "--output-tokens-mean", "16",
				"--extra-inputs", "ignore_eos:true", "--random-seed", "100"},
			requests: 12, metrics: streamingLLM,
			check: func(t *testing.T, _ string, sum map[string]any) {
				if v, _ := metricValue(sum, "input_sequence_length", "avg"); v != 128 {
					t.Errorf("input_sequence_length avg %v, want 128", v)
				}
				if v, _ := metricValue(sum, "output_sequence_length", "avg"); v != 16 {
					t.Errorf("output_sequence_length avg %v, want 16", v)
				}
			},
		},
		{
			name: "request rate poisson (tutorial: request-rate)",
			args: []string{"-m", "mock-model", "--endpoint-type", "chat", "--request-rate", "200", "--request-rate-mode", "poisson",
				"--request-count", "20", "--isl", "64", "--osl", "8", "--random-seed", "1"},
			requests: 20, metrics: []string{"request_latency", "output_sequence_length", "request_throughput"},
			absent: []string{"time_to_first_token", "inter_token_latency"},
		},
		{
			name: "fixed-schedule mooncake trace (tutorial: trace replay)",
			args: []string{"-m", "mock-model", "--endpoint-type", "chat", "--streaming", "--input-file", "../../testdata/datasets/mooncake_sample.jsonl",
				"--custom-dataset-type", "mooncake_trace", "--fixed-schedule", "--fixed-schedule-end-offset", "600", "--mock-fast"},
			requests: 7, metrics: streamingLLM,
		},
		{
			name: "multi-turn conversations (tutorial: multi-turn)",
			args: []string{"-m", "mock-model", "--endpoint-type", "chat", "--streaming", "--input-file", multi,
				"--custom-dataset-type", "multi_turn", "--conversation-num", "5", "--concurrency", "3"},
			requests: 13, metrics: streamingLLM,
		},
		{
			name: "synthetic multi-turn with think time",
			args: []string{"-m", "mock-model", "--streaming", "--conversation-turn-mean", "3", "--conversation-turn-delay-mean", "5",
				"--num-sessions", "4", "--concurrency", "2", "--isl", "32", "--osl", "4", "--random-seed", "3"},
			requests: 12, metrics: streamingLLM,
		},
		{
			name: "embeddings (tutorial: embeddings)",
			args: []string{"-m", "BAAI/bge-small-en-v1.5", "--endpoint-type", "embeddings", "--concurrency", "2", "--request-count", "8",
				"--batch-size", "4", "--isl", "32", "--tokenizer", "builtin"},
			requests: 8, metrics: []string{"request_latency", "request_throughput", "input_sequence_length"},
			absent: []string{"time_to_first_token", "output_sequence_length", "inter_token_latency"},
		},
		{
			name: "rankings (tutorial: rankings)",
			args: []string{"-m", "BAAI/bge-reranker-base", "--endpoint-type", "hf_tei_rankings", "--request-count", "6",
				"--rankings-passages-mean", "3", "--rankings-passages-prompt-token-mean", "32", "--rankings-query-prompt-token-mean", "16", "--tokenizer", "builtin"},
			requests: 6, metrics: []string{"request_latency", "request_throughput"},
			absent: []string{"time_to_first_token", "output_sequence_length"},
		},
		{
			name: "goodput (tutorial: goodput)",
			args: []string{"-m", "mock-model", "--streaming", "--concurrency", "2", "--request-count", "10", "--isl", "64", "--osl", "8",
				"--goodput", "time_to_first_token:1000 inter_token_latency:100"},
			requests: 10, metrics: append([]string{"goodput", "good_request_count"}, streamingLLM...),
			check: func(t *testing.T, _ string, sum map[string]any) {
				if v, _ := metricValue(sum, "good_request_count", "avg"); v != 10 {
					t.Errorf("good_request_count %v, want 10 (every request meets the SLOs)", v)
				}
			},
		},
		{
			name: "warmup, cancellation and an export prefix",
			args: []string{"-m", "mock-model", "--streaming", "--concurrency", "2", "--request-count", "20", "--warmup-request-count", "3",
				"--isl", "16", "--osl", "400", "--request-cancellation-rate", "50", "--request-cancellation-delay", "0.01", "--export-level", "raw",
				"--profile-export-prefix", "bench", "--random-seed", "8"},
			requests: 20, metrics: []string{"request_count", "error_request_count"},
			files: []string{"bench.json", "bench.csv", "bench.jsonl", "bench_raw.jsonl", "inputs.json"},
			check: func(t *testing.T, dir string, sum map[string]any) {
				if v, _ := metricValue(sum, "error_request_count", "avg"); v < 1 || v > 19 {
					t.Errorf("error_request_count %v: want about half of the 20 requests cancelled", v)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(tmp, strings.NewReplacer(" ", "_", "(", "", ")", "", ":", "", ",", "").Replace(c.name))
			args := append(append(append([]string(nil), c.args...), fastMock...), "--artifact-dir", dir)
			_, stderr, code := profileRun(t, args...)
			if code != errext.Success {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			if !strings.Contains(stderr, "benchmarking the embedded mock server") {
				t.Errorf("stderr does not say the mock is used:\n%s", stderr)
			}
			files := c.files
			if files == nil {
				files = []string{"profile_export_aiperf.json", "profile_export_aiperf.csv", "profile_export.jsonl", "inputs.json"}
			}
			for _, f := range files {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("artifact %s: %v", f, err)
				}
			}
			sum := readSummaryFile(t, filepath.Join(dir, files[0]))
			got, _ := metricValue(sum, "request_count", "avg")
			errs, _ := metricValue(sum, "error_request_count", "avg")
			if c.files == nil && errs != 0 {
				t.Errorf("%v failed requests: %v", errs, sum["error_summary"])
			}
			if int(got+errs) != c.requests {
				t.Errorf("request_count %v + errors %v, want %d", got, errs, c.requests)
			}
			if n := countRecords(t, filepath.Join(dir, files[2])); n != c.requests {
				t.Errorf("%s has %d records, want %d", files[2], n, c.requests)
			}
			for _, m := range c.metrics {
				if _, ok := sum[m]; !ok {
					t.Errorf("metric %s missing", m)
				}
			}
			for _, m := range c.absent {
				if _, ok := sum[m]; ok {
					t.Errorf("metric %s present, want absent", m)
				}
			}
			if ic, ok := sum["input_config"].(map[string]any); !ok || ic["endpoint"] == nil {
				t.Errorf("input_config missing")
			}
			if c.check != nil {
				c.check(t, dir, sum)
			}
		})
	}
}

func TestProfileDefaultArtifactDirAndLayouts(t *testing.T) {
	t.Chdir(t.TempDir())
	// AIPerf's default directory name.
	if _, stderr, code := profileRun(t, append([]string{"-m", "Qwen/Qwen3-0.6B", "--streaming", "--concurrency", "2", "--request-count", "4", "--isl", "16", "--osl", "4"}, fastMock...)...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat("artifacts/Qwen_Qwen3-0.6B-openai-chat-concurrency2/profile_export_aiperf.json"); err != nil {
		t.Error(err)
	}
	// A sweep: <base>/<param>_<value>/ and the sweep summary.
	if _, stderr, code := profileRun(t, append([]string{"--concurrency", "1,2", "--request-count", "3", "--isl", "16", "--osl", "2", "--artifact-dir", "sw"}, fastMock...)...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"sw/concurrency_1/profile_export_aiperf.json", "sw/concurrency_2/profile_export.jsonl", "sw/sweep_summary.csv", "sw/sweep_summary.json"} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
	// Repeated trials: <base>/profile_runs/run_NNNN/ and the aggregate.
	if _, stderr, code := profileRun(t, append([]string{"--num-profile-runs", "2", "--request-count", "3", "--isl", "16", "--osl", "2", "--artifact-dir", "mr"}, fastMock...)...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"mr/profile_runs/run_0001/profile_export_aiperf.json", "mr/profile_runs/run_0002/profile_export_aiperf.json",
		"mr/aggregate/profile_export_aiperf_aggregate.json", "mr/aggregate/profile_export_aiperf_aggregate.csv"} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
	var agg struct {
		NumRuns int                       `json:"num_runs"`
		Metrics map[string]map[string]any `json:"metrics"`
	}
	b, _ := os.ReadFile("mr/aggregate/profile_export_aiperf_aggregate.json")
	if err := json.Unmarshal(b, &agg); err != nil {
		t.Fatalf("aggregate: %v\n%s", err, b)
	}
	if agg.NumRuns != 2 || agg.Metrics["request_latency"]["p99"] == nil {
		t.Errorf("aggregate: %+v", agg)
	}
}

// deterministic picks the parts of a summary that do not depend on timing:
// the resolved configuration (but the mock's address), request and error
// counts and token totals.
func deterministic(t *testing.T, sum map[string]any) map[string]any {
	t.Helper()
	out := map[string]any{}
	ic := sum["input_config"].(map[string]any)
	if ep, ok := ic["endpoint"].(map[string]any); ok {
		delete(ep, "url")
	}
	out["input_config"] = ic
	for _, tag := range []string{"request_count", "error_request_count", "total_isl", "total_osl", "good_request_count"} {
		if v, ok := metricValue(sum, tag, "avg"); ok {
			out[tag] = v
		}
	}
	for _, tag := range []string{"input_sequence_length", "output_sequence_length"} {
		for _, stat := range []string{"sum", "count", "min", "max"} {
			if v, ok := metricValue(sum, tag, stat); ok {
				out[tag+"."+stat] = v
			}
		}
	}
	ri := sum["run_info"].(map[string]any)
	out["random_seed"] = ri["random_seed"]
	return out
}

// TestProfileEmitScenarioMatchesRun checks the promise of --emit-scenario:
// the printed scenario, run with `loadstar run`, gives the same results
// summary as the profile invocation (same seed; timings aside).
func TestProfileEmitScenarioMatchesRun(t *testing.T) {
	root := t.TempDir()
	cases := []struct {
		name  string
		args  []string
		vars  []string
		steps []string // artifact directories, relative to the working directory
	}{
		{"single streaming run with an API key",
			[]string{"-m", "mock-model", "--streaming", "--concurrency", "3", "--request-count", "9", "--isl", "48", "--isl-stddev", "8",
				"--osl", "6", "--random-seed", "11", "--api-key", "sk-test-secret", "--goodput", "time_to_first_token:1000", "--warmup-request-count", "2",
				"--artifact-dir", "out"},
			[]string{"api_key=sk-test-secret"}, []string{"out"}},
		{"concurrency sweep", []string{"--concurrency", "1,2", "--request-count", "4", "--isl", "24", "--osl", "3", "--random-seed", "4", "--artifact-dir", "sw"},
			nil, []string{"sw/concurrency_1", "sw/concurrency_2"}},
		{"repeated trials", []string{"--num-profile-runs", "2", "--request-rate", "400", "--request-count", "5", "--isl", "20", "--osl", "2",
			"--warmup-request-count", "1", "--artifact-dir", "mr"},
			nil, []string{"mr/profile_runs/run_0001", "mr/profile_runs/run_0002"}},
		{"fixed-schedule trace", []string{"--streaming", "--input-file", filepath.Join(mustAbs(t, "../../testdata/datasets"), "mooncake_sample.jsonl"),
			"--fixed-schedule-end-offset", "400", "--random-seed", "2", "--mock-fast", "--artifact-dir", "trace"}, nil, []string{"trace"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := filepath.Join(root, strings.Repeat("x", i+1))
			profDir, scenDir := filepath.Join(base, "profile"), filepath.Join(base, "scenario")
			for _, d := range []string{profDir, scenDir} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			args := append(append([]string(nil), c.args...), fastMock...)

			t.Chdir(profDir)
			if _, stderr, code := profileRun(t, args...); code != 0 {
				t.Fatalf("profile: exit %d\n%s", code, stderr)
			}
			star, stderr, code := profileRun(t, append(args, "--emit-scenario")...)
			if code != 0 {
				t.Fatalf("--emit-scenario: exit %d\n%s", code, stderr)
			}
			if strings.Contains(star, "sk-test-secret") {
				t.Fatalf("the scenario contains the API key:\n%s", star)
			}
			if _, err := os.Stat("artifacts"); err == nil {
				t.Fatalf("--emit-scenario sent requests")
			}

			t.Chdir(scenDir)
			if err := os.WriteFile("emitted.star", []byte(star), 0o644); err != nil {
				t.Fatal(err)
			}
			runArgs := []string{"run", "emitted.star"}
			for _, v := range c.vars {
				runArgs = append(runArgs, "--var", v)
			}
			var out, errb bytes.Buffer
			if code := runMain(runArgs, &out, &errb); code != 0 {
				t.Fatalf("loadstar run: exit %d\n%s\nscenario:\n%s", code, errb.String(), star)
			}
			for _, step := range c.steps {
				p := deterministic(t, readSummary(t, filepath.Join(profDir, step)))
				s := deterministic(t, readSummary(t, filepath.Join(scenDir, step)))
				if !reflect.DeepEqual(p, s) {
					pj, _ := json.MarshalIndent(p, "", " ")
					sj, _ := json.MarshalIndent(s, "", " ")
					t.Errorf("%s: summaries differ\nprofile:  %s\nscenario: %s\nscenario file:\n%s", step, pj, sj, star)
				}
				for _, dir := range []string{profDir, scenDir} {
					assertNoSecret(t, filepath.Join(dir, step), "sk-test-secret")
				}
			}
		})
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func assertNoSecret(t *testing.T, dir, secret string) {
	t.Helper()
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s contains the API key", p)
		}
		return nil
	})
}

// TestProfileAgainstAURL benchmarks a server given with --url (here a mock
// the test starts), as a real deployment would be: no embedded mock, the
// API key sent but never written anywhere.
func TestProfileAgainstAURL(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := mock.Start(ctx, mock.Config{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "out")
	_, stderr, code := profileRun(t, "--model", "Qwen/Qwen3-0.6B", "--url", srv.URL(), "--endpoint-type", "chat", "--streaming",
		"--concurrency", "2", "--request-count", "6", "--isl", "32", "--osl", "4", "--api-key", "sk-url-secret",
		"--extra-inputs", "temperature:0.7", "top_p:0.9", "--ui-type", "none", "--artifact-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	// (The client-health warning may mention "an embedded mock server" in
	// its advice when the machine is busy; only the announcement counts.)
	if strings.Contains(stderr, "benchmarking the embedded mock") {
		t.Errorf("stderr says the embedded mock is benchmarked with --url:\n%s", stderr)
	}
	if !strings.Contains(stderr, "not available offline") {
		t.Errorf("stderr does not explain the tokenizer fallback:\n%s", stderr)
	}
	sum := readSummary(t, dir)
	if v, _ := metricValue(sum, "request_count", "avg"); v != 6 {
		t.Errorf("request_count %v", v)
	}
	if got := srv.Stats().Requests["/v1/chat/completions"]; got < 6 {
		t.Errorf("the server saw %d requests, want 6", got)
	}
	ep := sum["input_config"].(map[string]any)["endpoint"].(map[string]any)
	if extra, _ := ep["extra"].(map[string]any); extra["temperature"] != 0.7 || extra["top_p"] != 0.9 {
		t.Errorf("extra inputs %v", ep["extra"])
	}
	assertNoSecret(t, dir, "sk-url-secret")
}
