package aiperfcli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
)

const (
	mooncake  = "../../testdata/datasets/mooncake_sample.jsonl"
	multiTurn = "../../testdata/datasets/multi_turn_sample.jsonl"
)

// TestEmittedScenarioBuildsTheSamePlan is the equivalence of the two
// front-ends: the scenario --emit-scenario prints, run in dry-run mode,
// plans exactly the benchmarks (same order, same config.Benchmark) that
// profile executes for the same command line.
func TestEmittedScenarioBuildsTheSamePlan(t *testing.T) {
	t.Chdir(t.TempDir()) // sweeps and trials write their summaries under artifacts/
	mc, _ := filepath.Abs(filepath.Join(wd(t), mooncake))
	mt, _ := filepath.Abs(filepath.Join(wd(t), multiTurn))
	td := func(name string) string { p, _ := filepath.Abs(filepath.Join(wd(t), "testdata", name)); return p }
	rs := td("rate_series.json")
	cases := []struct {
		name string
		args []string
		vars []string
	}{
		{"no flags (mock, concurrency 1)", nil, nil},
		{"chat streaming concurrency", []string{"-m", "Qwen/Qwen3-0.6B", "--url", "localhost:8000", "--endpoint-type", "chat", "--streaming",
			"--concurrency", "10", "--request-count", "100", "--synthetic-input-tokens-mean", "550", "--synthetic-input-tokens-stddev", "50",
			"--output-tokens-mean", "128", "--extra-inputs", "ignore_eos:true", "--extra-inputs", `{"temperature": 1.0, "stop": ["x"], "n": 1}`,
			"--random-seed", "100", "--tokenizer", "builtin"}, nil},
		{"secrets and headers", []string{"-m", "gpt-4o", "-u", "https://api.example.com/v1", "-u", "https://api2.example.com/v1", "--api-key", "sk-123",
			"-H", "Authorization: Bearer abc", "-H", "X-Team: bench", "--custom-endpoint", "/v1/chat", "--request-timeout-seconds", "30",
			"--session-header", "X-Session", "--use-legacy-max-tokens", "--use-server-token-count", "--connection-reuse-strategy", "never"},
			[]string{"api_key=sk-123", "headers_authorization=Bearer abc"}},
		{"request rate poisson with cap, ramps, warmup, cancellation", []string{"--request-rate", "12.5", "--request-rate-mode", "gamma",
			"--arrival-smoothness", "0.5", "--concurrency", "16", "--request-rate-ramp-duration", "2", "--concurrency-ramp-duration", "1.5",
			"--benchmark-duration", "30", "--benchmark-grace-period", "inf", "--warmup-duration", "5", "--warmup-request-rate", "4",
			"--warmup-grace-period", "10", "--request-cancellation-rate", "10", "--request-cancellation-delay", "0.5",
			"--goodput", "time_to_first_token:250 inter_token_latency:12.5 output_token_throughput_per_user:40"}, nil},
		{"synthetic options", []string{"--isl", "256", "--osl", "64", "--osl-stddev", "8", "--num-dataset-entries", "7", "--conversation-turn-mean", "3",
			"--conversation-turn-stddev", "1", "--conversation-turn-delay-mean", "200", "--conversation-turn-delay-stddev", "20",
			"--conversation-turn-delay-ratio", "0.5", "--num-prefix-prompts", "4", "--prompt-prefix-length", "32", "--user-context-prompt-length", "16",
			"--num-sessions", "12", "--dataset-sampling-strategy", "random", "--image-batch-size", "1", "--image-width-mean", "64",
			"--image-height-mean", "48", "--image-format", "jpeg", "--audio-batch-size", "1", "--audio-length-mean", "0.5", "--audio-sample-rates", "8"}, nil},
		{"sequence distribution and system prompt", []string{"--seq-dist", "128,64:30;2048|100,256:70", "--shared-system-prompt-length", "100",
			"--export-level", "raw", "--profile-export-prefix", "run1", "--slice-duration", "0.5", "--ui-type", "none", "--artifact-dir", "out/x"}, nil},
		{"embeddings", []string{"-m", "nomic", "--endpoint-type", "embeddings", "-b", "8", "--isl", "32", "--concurrency", "4"}, nil},
		{"rankings", []string{"-m", "rerank", "--endpoint-type", "cohere_rankings", "--rankings-passages-mean", "5", "--rankings-passages-stddev", "1",
			"--rankings-passages-prompt-token-mean", "64", "--rankings-query-prompt-token-mean", "16", "--request-count", "20"}, nil},
		{"fixed schedule trace", []string{"--input-file", mc, "--custom-dataset-type", "mooncake_trace", "--fixed-schedule-auto-offset",
			"--fixed-schedule-end-offset", "1000", "--concurrency", "8", "--isl-block-size", "256", "--streaming"}, nil},
		{"trace without its schedule", []string{"--input-file", mc, "--no-fixed-schedule", "--request-rate", "5", "--dataset-sampling-strategy", "shuffle"}, nil},
		{"multi-turn file", []string{"--input-file", mt, "--custom-dataset-type", "multi_turn", "--conversation-num", "5", "--concurrency", "2",
			"--warmup-request-count", "2", "--warmup-concurrency", "1"}, nil},
		{"user-centric", []string{"--user-centric-rate", "4", "--num-users", "8", "--conversation-turn-mean", "3", "--benchmark-duration", "20"}, nil},
		{"list options take several values", []string{"-m", "a,b", "c", "--extra-inputs", "top_k:5", "temperature:0.5", "--extra-inputs", "stop:none",
			"-H", "X-A: 1", "X-B: 2"}, nil},
		{"trace replayed faster", []string{"--input-file", mc, "--replay-speedup", "4", "--fixed-schedule-start-offset", "300"}, nil},
		{"sweep with the same seed in every step", []string{"--request-rate", "1,2", "--random-seed", "3", "--parameter-sweep-same-seed"}, nil},
		{"trials warm up every time, drawn seeds", []string{"--num-profile-runs", "2", "--warmup-request-count", "1",
			"--no-profile-run-disable-warmup-after-first", "--no-set-consistent-seed"}, nil},
		{"mock options", []string{"--mock-ttft", "2", "--mock-itl", "500us", "--mock-seed", "3", "--mock-output", "aiperf"}, nil},
		{"concurrency sweep", []string{"--concurrency", "1,2,4", "--isl", "128", "--osl", "16", "--random-seed", "5", "--artifact-dir", "out/sweep"}, nil},
		{"grid of rate and lengths with trials", []string{"--request-rate", "5,10", "--isl", "100,200", "--isl-stddev", "0,10", "--osl", "32",
			"--num-profile-runs", "2", "--confidence-level", "0.9", "--parameter-sweep-cooldown-seconds", "0.01", "--warmup-request-count", "3",
			"--warmup-concurrency", "2"}, nil},
		{"zip of concurrency and duration", []string{"--concurrency", "2,4", "--benchmark-duration", "1.5,3", "--sweep-type", "zip",
			"--warmup-request-count", "2", "--warmup-request-rate", "10"}, nil},
		{"user-centric users sweep", []string{"--user-centric-rate", "2.5", "--num-users", "2,4", "--conversation-turn-mean", "2,3",
			"--num-conversations", "10", "--sweep-type", "zip"}, nil},
		{"synthesized trace", []string{"--input-file", mc, "--synthesis-speedup-ratio", "2", "--synthesis-prefix-root-multiplier", "3",
			"--synthesis-prompt-len-multiplier", "1.5", "--synthesis-max-isl", "4000", "--synthesis-max-osl", "200", "--random-seed", "4"}, nil},
		{"bailian trace", []string{"--input-file", td("bailian_sample.jsonl"), "--custom-dataset-type", "bailian_trace", "--fixed-schedule-auto-offset",
			"--replay-speedup", "5"}, nil},
		{"burst_gpt trace by rate", []string{"--input-file", td("burstgpt_sample.csv"), "--no-fixed-schedule", "--request-rate", "20",
			"--isl-block-size", "64"}, nil},
		{"sharegpt file", []string{"--input-file", td("sharegpt_sample.json"), "--concurrency", "2", "--request-count", "6"}, nil},
		{"raw payloads", []string{"--input-file", td("raw_payload_sample.jsonl"), "--custom-dataset-type", "raw_payload"}, nil},
		{"request-rate series file with a cap", []string{"--request-rate-series", rs, "--concurrency", "4", "--request-rate-mode", "constant",
			"--warmup-request-count", "2"}, nil},
		{"inline request-rate series", []string{"--request-rate-series", `{"points": [{"time_s": 0, "qps": 3}, {"time_s": 2, "qps": 1}]}`,
			"--benchmark-duration", "2"}, nil},
		{"trials", []string{"--num-profile-runs", "3", "--request-count", "8", "--warmup-request-count", "2", "--profile-run-cooldown-seconds", "0.1"}, nil},
		{"limits and failing servers", []string{"--max-response-bytes", "4096", "--max-redirects", "0", "--no-abort-unreachable",
			"--failed-request-threshold", "0.2", "--wait-for-model-timeout", "30", "--wait-for-model-mode", "models", "--connection-reuse-strategy", "never"}, nil},
		{"trials with varied seeds", []string{"--num-profile-runs", "2", "--random-seed", "9", "--vary-seed-per-trial", "--artifact-dir", "out/trials"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Each case in a directory of its own: an earlier case's
			// summaries would make this one's runs go beside them.
			t.Chdir(t.TempDir())
			p := mustBuild(t, c.args...)
			text, err := p.Scenario()
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"sk-123", "Bearer abc"} {
				if strings.Contains(text, secret) {
					t.Fatalf("the emitted scenario contains the secret %q:\n%s", secret, text)
				}
			}
			want := executedSteps(t, p)
			got := scenarioSteps(t, text, c.vars...)
			sameBenchmarks(t, c.name, got, want)
			if t.Failed() {
				t.Logf("scenario:\n%s", text)
			}
		})
	}
}

func wd(t *testing.T) string {
	t.Helper()
	// Tests run in the package directory; t.Chdir moves it, so remember it.
	return pkgDir
}

var pkgDir = func() string { d, _ := os.Getwd(); return d }()

func TestBuildTranslatesAIPerfFlags(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		p := mustBuild(t)
		cfg := p.cells[0].Config
		if p.Mock == nil || p.baseDir != "" || len(p.cells) != 1 {
			t.Fatalf("want one benchmark on the mock, got %+v", p)
		}
		if got := cfg.Endpoint.String(); got != `endpoint.chat(model="mock-model", url="http://127.0.0.1:0")` {
			t.Errorf("endpoint %s", got)
		}
		if cfg.Timing.String() != "timing.concurrency(concurrency=1)" || cfg.Stop != (config.Stop{}) || cfg.SeedSet {
			t.Errorf("timing %s, stop %+v, seed set %v: want concurrency 1, the runner's default stop and a drawn seed", cfg.Timing, cfg.Stop, cfg.SeedSet)
		}
		if cfg.Tokenizer != (config.Tokenizer{Kind: "tiktoken", Name: "o200k_base"}) {
			t.Errorf("tokenizer %+v", cfg.Tokenizer)
		}
	})
	t.Run("request rate with concurrency caps the sessions", func(t *testing.T) {
		cfg := mustBuild(t, "--request-rate", "10", "--concurrency", "4").cells[0].Config
		want := "timing.request_rate(arrival=arrival.poisson(), max_concurrency=4, rate=10)"
		if got := cfg.Timing.String(); got != want {
			t.Errorf("timing %s, want %s", got, want)
		}
	})
	t.Run("a request-rate series replaces the rate", func(t *testing.T) {
		cfg := mustBuild(t, "--request-rate-series", `[{"time_s": 0, "qps": 1}, {"time_s": 60, "qps": 7.5}]`).cells[0].Config
		want := "timing.request_rate_series(arrival=arrival.poisson(), points=[[0, 1], [60, 7.5]])"
		if got := cfg.Timing.String(); got != want || cfg.Stop.IsSet() {
			t.Errorf("timing %s, stop %+v; want %s and the series' own length", got, cfg.Stop, want)
		}
		abs, _ := filepath.Abs("testdata/rate_series.json")
		cfg = mustBuild(t, "--request-rate-series", "testdata/rate_series.json").cells[0].Config
		if got := cfg.Timing.Args["path"]; got != abs {
			t.Errorf("path %v, want %s", got, abs)
		}
	})
	t.Run("a timestamped trace switches to a fixed schedule", func(t *testing.T) {
		cfg := mustBuild(t, "--input-file", mooncake, "--fixed-schedule-auto-offset").cells[0].Config
		if got := cfg.Timing.String(); got != "timing.fixed_schedule(auto_offset=True)" {
			t.Errorf("timing %s", got)
		}
		if path, _ := cfg.Dataset.Args["path"].(string); !filepath.IsAbs(path) {
			t.Errorf("dataset path %q is not absolute", path)
		}
	})
	t.Run("concurrency_burst is the closed loop", func(t *testing.T) {
		cfg := mustBuild(t, "--concurrency", "3", "--request-rate-mode", "concurrency_burst").cells[0].Config
		if got := cfg.Timing.String(); got != "timing.concurrency(concurrency=3)" {
			t.Errorf("timing %s", got)
		}
	})
	t.Run("lengths", func(t *testing.T) {
		cfg := mustBuild(t, "--isl", "100", "--isl-stddev", "10", "--osl", "20").cells[0].Config
		if got := cfg.Dataset.Args["isl"]; got != (dist.Normal{Mu: 100, Sigma: 10}) {
			t.Errorf("isl %v", got)
		}
		if got := cfg.Dataset.Args["osl"]; got != (dist.Fixed{V: 20}) {
			t.Errorf("osl %v", got)
		}
	})
	t.Run("extra inputs and headers keep order and types", func(t *testing.T) {
		cfg := mustBuild(t, "--url", "h:1", "-m", "m", "--extra-inputs", "max_tokens:5,temperature:0.5,stop:none", "-H", `{"X-A": "1", "X-B": "2"}`).cells[0].Config
		extra := cfg.Endpoint.Args["extra"].(*ordered.Map)
		if got := strings.Join(extra.Keys(), ","); got != "max_tokens,temperature,stop" {
			t.Errorf("extra keys %s", got)
		}
		if v, _ := extra.Get("max_tokens"); v != int64(5) {
			t.Errorf("max_tokens %T %v", v, v)
		}
		h := cfg.Endpoint.Args["headers"].(*ordered.Map)
		if got := strings.Join(h.Keys(), ","); got != "X-A,X-B" {
			t.Errorf("headers %s", got)
		}
	})
	t.Run("goodput in display units", func(t *testing.T) {
		cfg := mustBuild(t, "--goodput", "time_to_first_token:200 output_token_throughput_per_user:50").cells[0].Config
		if len(cfg.SLOs) != 2 || cfg.SLOs[0].Threshold != 200e6 || cfg.SLOs[0].Op != "<=" || cfg.SLOs[1].Op != ">=" {
			t.Errorf("slos %+v", cfg.SLOs)
		}
	})
	t.Run("multi-run uses seed 42 and AIPerf's layout", func(t *testing.T) {
		p := mustBuild(t, "--num-profile-runs", "3", "--artifact-dir", "out/runs/")
		if c := p.cells[0].Config; !c.SeedSet || c.Seed != 42 {
			t.Errorf("seed %d (set %v), want 42", c.Seed, c.SeedSet)
		}
		if p.baseDir != "out/runs" || p.trials != 3 {
			t.Errorf("base %q trials %d", p.baseDir, p.trials)
		}
	})
	t.Run("sweep cells are named as AIPerf's directories", func(t *testing.T) {
		p := mustBuild(t, "--concurrency", "8,16", "--request-rate", "2.5,5")
		var names []string
		for _, c := range p.cells {
			names = append(names, c.Name)
		}
		if got := strings.Join(names, " "); got != "concurrency_8-request_rate_2.5 concurrency_8-request_rate_5 concurrency_16-request_rate_2.5 concurrency_16-request_rate_5" {
			t.Errorf("cells %s", got)
		}
		if p.baseDir != "artifacts/mock-model-openai-chat-concurrency-request_rate_sweep" {
			t.Errorf("base %s", p.baseDir)
		}
	})
	t.Run("grace inf and seconds", func(t *testing.T) {
		cfg := mustBuild(t, "--benchmark-duration", "10", "--benchmark-grace-period", "2.5").cells[0].Config
		if cfg.Stop.Duration != 10*time.Second || cfg.Grace != 2500*time.Millisecond {
			t.Errorf("duration %s grace %s", cfg.Stop.Duration, cfg.Grace)
		}
	})
	t.Run("the API key is redacted in the command", func(t *testing.T) {
		p := mustBuild(t, "--url", "h:1", "-m", "m", "--api-key", "sk-live-1", "-H", "Authorization: Bearer q", "--header=X-Api-Key:z")
		if strings.Contains(p.command, "sk-live-1") || strings.Contains(p.command, "Bearer q") || strings.Contains(p.command, ":z") {
			t.Errorf("command not redacted: %s", p.command)
		}
		if p.cells[0].Config.CLICommand != p.command {
			t.Errorf("cli command %q", p.cells[0].Config.CLICommand)
		}
	})
	t.Run("list options", func(t *testing.T) {
		cfg := mustBuild(t, "-m", "a,b", "c", "--extra-inputs", "top_k:5", "temperature:0.5").cells[0].Config
		if got := cfg.Endpoint.Args["model"]; !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
			t.Errorf("models %v", got)
		}
		if got := strings.Join(cfg.Endpoint.Args["extra"].(*ordered.Map).Keys(), ","); got != "top_k,temperature" {
			t.Errorf("extra %s", got)
		}
	})
	t.Run("sweep steps draw from seed+i", func(t *testing.T) {
		p := mustBuild(t, "--concurrency", "1,2,3", "--random-seed", "10")
		for i, c := range p.cells {
			if c.Config.Seed != uint64(10+i) {
				t.Errorf("step %d seed %d", i, c.Config.Seed)
			}
		}
		p = mustBuild(t, "--concurrency", "1,2", "--random-seed", "10", "--parameter-sweep-same-seed")
		if p.cells[1].Config.Seed != 10 {
			t.Errorf("same seed: %d", p.cells[1].Config.Seed)
		}
	})
	t.Run("images need a size", func(t *testing.T) {
		cfg := mustBuild(t, "--image-width-mean", "64", "--image-height-mean", "32").cells[0].Config
		if cfg.Dataset.Args["images"] != int64(1) || cfg.Dataset.Args["image_width"] != (dist.Fixed{V: 64}) {
			t.Errorf("dataset %s", cfg.Dataset)
		}
		cfg = mustBuild(t, "--image-width-mean", "64", "--image-height-mean", "32", "--image-batch-size", "0").cells[0].Config
		if cfg.Dataset.Args.Has("images") {
			t.Errorf("--image-batch-size 0 still sends images: %s", cfg.Dataset)
		}
	})
	t.Run("server metrics", func(t *testing.T) {
		sm := mustBuild(t, "--server-metrics", "h:9100", "http://h2:9100/metrics", "--server-metrics-formats", "json", "jsonl",
			"--gpu-telemetry", "dashboard", "node1:9400", "--concurrency", "2").cells[0].Config.ServerMetrics
		if sm.Off || strings.Join(sm.URLs, " ") != "h:9100 http://h2:9100/metrics" || strings.Join(sm.Formats, " ") != "json jsonl" ||
			strings.Join(sm.GPU, " ") != "node1:9400" || sm.GPUOff {
			t.Errorf("%+v", sm)
		}
		sm = mustBuild(t, "--no-server-metrics", "--no-gpu-telemetry").cells[0].Config.ServerMetrics
		if !sm.Off || !sm.GPUOff {
			t.Errorf("off: %+v", sm)
		}
		if sm := mustBuild(t).cells[0].Config.ServerMetrics; sm.Off || sm.GPUOff || sm.URLs != nil {
			t.Errorf("default: %+v", sm)
		}
	})
	t.Run("notes", func(t *testing.T) {
		p := mustBuild(t, "--endpoint-type", "embeddings", "--streaming", "--workers-max", "4", "--tokenizer-trust-remote-code")
		joined := strings.Join(p.Notes, "\n")
		for _, want := range []string{"cannot stream", "--workers-max has no effect", "trust-remote-code has no effect"} {
			if !strings.Contains(joined, want) {
				t.Errorf("notes %q lack %q", joined, want)
			}
		}
	})
}

func TestBuildRejects(t *testing.T) {
	usageErr, configErr := errext.Usage, errext.InvalidConfig
	cases := []struct {
		args []string
		code errext.ExitCode
		want string
	}{
		{[]string{"--url", "h:1"}, usageErr, "--model: required"},
		{[]string{"--concurrency", "0"}, usageErr, "--concurrency: must be >= 1"},
		{[]string{"--concurrency", "8,x"}, usageErr, `--concurrency: "x" is not a whole number`},
		{[]string{"--request-rate", "0"}, usageErr, "--request-rate: must be > 0"},
		{[]string{"--request-count", "5", "--num-sessions", "3"}, usageErr, "give --request-count or --conversation-num, not both"},
		{[]string{"--benchmark-grace-period", "5"}, usageErr, "--benchmark-grace-period: needs --benchmark-duration"},
		{[]string{"--warmup-grace-period", "5"}, usageErr, "--warmup-grace-period: needs a warmup"},
		{[]string{"--request-rate", "5", "--arrival-smoothness", "2"}, usageErr, "--arrival-smoothness: needs --request-rate-mode gamma"},
		{[]string{"--request-rate-mode", "constant"}, usageErr, "constant needs --request-rate"},
		{[]string{"--synthesis-speedup-ratio", "2"}, usageErr, "--synthesis-speedup-ratio: needs --input-file"},
		{[]string{"--input-file", mooncake, "--synthesis-prefix-root-multiplier", "0"}, usageErr, "--synthesis-prefix-root-multiplier: must be >= 1"},
		{[]string{"--request-rate", "5", "--request-rate-series", "testdata/rate_series.json"}, usageErr, "give --request-rate or --request-rate-series, not both"},
		{[]string{"--request-rate-series", "no/such.json"}, usageErr, "--request-rate-series: cannot read no/such.json"},
		{[]string{"--request-rate-series", `{"points": [{"time_s": 0, "qps": 1}]}`}, usageErr, "at least two points"},
		{[]string{"--input-file", mooncake, "--request-rate-series", "testdata/rate_series.json"}, usageErr, "--request-rate-series: not allowed with a fixed schedule"},
		{[]string{"--request-rate-series", "testdata/rate_series.json", "--request-rate-ramp-duration", "2"}, usageErr, "--request-rate-ramp-duration: needs --request-rate"},
		{[]string{"--request-cancellation-delay", "1"}, usageErr, "--request-cancellation-delay: needs --request-cancellation-rate"},
		{[]string{"--request-cancellation-rate", "150"}, usageErr, "percentage in (0, 100]"},
		{[]string{"--user-centric-rate", "5"}, usageErr, "--user-centric-rate: needs --num-users"},
		{[]string{"--num-users", "5"}, usageErr, "--num-users: needs --user-centric-rate"},
		{[]string{"--user-centric-rate", "5", "--num-users", "4", "--request-rate", "3"}, usageErr, "conflicts with --request-rate"},
		{[]string{"--user-centric-rate", "5", "--num-users", "4"}, usageErr, "2 or more turns"},
		{[]string{"--user-centric-rate", "5", "--num-users", "4", "--conversation-turn-mean", "2", "--concurrency", "2"}, usageErr, "must be >= --num-users"},
		{[]string{"--fixed-schedule-auto-offset"}, usageErr, "needs a fixed schedule"},
		{[]string{"--input-file", mooncake, "--request-rate", "5"}, usageErr, "conflicts with the timestamps of --input-file"},
		{[]string{"--input-file", mooncake, "--dataset-sampling-strategy", "random"}, usageErr, "not allowed with the timestamps"},
		{[]string{"--input-file", mooncake, "--concurrency", "1,2"}, usageErr, "sweep is refused on a trace"},
		{[]string{"--input-file", mooncake, "--fixed-schedule-auto-offset", "--fixed-schedule-start-offset", "5"}, usageErr, "not both"},
		{[]string{"--input-file", mooncake, "--fixed-schedule-start-offset", "50", "--fixed-schedule-end-offset", "10"}, usageErr, "must be >= --fixed-schedule-start-offset"},
		{[]string{"--input-file", mooncake, "--isl", "100"}, usageErr, "--isl: applies to synthetic data"},
		{[]string{"--input-file", "no/such/file.jsonl"}, configErr, "--input-file:"},
		{[]string{"--input-file", multiTurn, "--custom-dataset-type", "dag_jsonl"}, usageErr, "dag_jsonl is not supported"},
		{[]string{"--input-file", multiTurn, "--custom-dataset-type", "nonsense"}, usageErr, `unknown type "nonsense"`},
		{[]string{"--custom-dataset-type", "multi_turn"}, usageErr, "--custom-dataset-type: needs --input-file"},
		{[]string{"--public-dataset", "sharegpt"}, usageErr, "--public-dataset: not supported"},
		{[]string{"--prefill-concurrency", "4"}, usageErr, "--prefill-concurrency: needs --streaming"},
		{[]string{"--prefill-concurrency", "0", "--streaming"}, usageErr, "--prefill-concurrency: must be >= 1"},
		{[]string{"--prefill-concurrency", "8", "--concurrency", "4", "--streaming"}, usageErr, "must be <= --concurrency (4), got 8"},
		{[]string{"--prefill-concurrency-ramp-duration", "5", "--streaming"}, usageErr, "needs --prefill-concurrency"},
		{[]string{"--warmup-prefill-concurrency", "2", "--streaming"}, usageErr, "needs a warmup"},
		{[]string{"--server-metrics", "ftp://h:1"}, usageErr, "--server-metrics: "},
		{[]string{"--no-server-metrics", "--server-metrics", "h:1"}, usageErr, "not with --no-server-metrics"},
		{[]string{"--server-metrics-formats", "xml"}, usageErr, `unknown format "xml"`},
		{[]string{"--gpu-telemetry", "pynvml", "--concurrency", "2"}, usageErr, "--gpu-telemetry: pynvml is not supported"},
		{[]string{"-f", "bench.yaml"}, usageErr, "--config: not supported"},
		{[]string{"--endpoint-type", "video_generation"}, usageErr, "video_generation is not supported"},
		{[]string{"--endpoint-type", "image_edit"}, usageErr, "image_edit uploads a reference image per request"},
		{[]string{"--endpoint-type", "raw"}, usageErr, "raw sends recorded request bodies: give --input-file"},
		{[]string{"--aws-region", "us-east-1"}, usageErr, "--aws-region: needs --auth-type sigv4"},
		{[]string{"--auth-type", "sigv4", "--aws-region", "us-east-1"}, usageErr, "sigv4 needs --aws-region and --aws-service"},
		{[]string{"--auth-type", "sigv4", "--aws-region", "r", "--aws-service", "s", "--api-key", "k"}, usageErr, "--api-key: conflicts with --auth-type sigv4"},
		{[]string{"--auth-type", "oauth"}, usageErr, "--auth-type: must be sigv4 or none"},
		{[]string{"--endpoint-type", "nope"}, configErr, `unknown endpoint type "nope"`},
		{[]string{"--seq-dist", "128,64:50"}, usageErr, "--seq-dist:"},
		{[]string{"--seq-dist", "128,64:100", "--isl", "5"}, usageErr, "not both"},
		{[]string{"--osl-stddev", "5"}, usageErr, "--osl-stddev: needs --osl"},
		{[]string{"--num-prefix-prompts", "3"}, usageErr, "needs --prompt-prefix-length"},
		{[]string{"--num-prefix-prompts", "3", "--prompt-prefix-length", "8", "--shared-system-prompt-length", "5"}, usageErr, "not with a prefix pool"},
		{[]string{"--rankings-passages-mean", "3"}, usageErr, "needs a rankings endpoint"},
		{[]string{"--endpoint-type", "cohere_rankings", "--isl", "10"}, usageErr, "--isl: does not apply"},
		{[]string{"--endpoint-type", "embeddings", "--image-width-mean", "64", "--image-height-mean", "64"}, usageErr, "does not accept images"},
		{[]string{"--image-width-mean", "64"}, usageErr, "together"},
		{[]string{"--image-batch-size", "2"}, usageErr, "synthetic images need a size"},
		{[]string{"--image-width-mean", "8", "--image-height-mean", "8", "--image-source", "assets"}, usageErr, "assets is not supported"},
		{[]string{"--audio-length-mean", "1", "--audio-format", "mp3"}, usageErr, "mp3 is not supported"},
		{[]string{"--audio-batch-size", "1"}, usageErr, "synthetic audio needs a length"},
		{[]string{"--variant", "a: concurrency=1"}, usageErr, "--variant: not supported"},
		{[]string{"--sweep-variant", "a: concurrency=1"}, usageErr, "--variant: not supported"},
		{[]string{"--otel-url", "http://x"}, usageErr, "--otel-url: not supported"},
		{[]string{"--accuracy-benchmark", "mmlu"}, usageErr, "accuracy benchmarks are not supported"},
		{[]string{"--search-recipe", "max-throughput-ttft-sla", "--ttft-sla-ms", "200"}, usageErr, "search() in a scenario"},
		{[]string{"--prompt-corpus", "coding"}, usageErr, "coding is not supported"},
		{[]string{"--cache-bust", "system_prefix"}, usageErr, "system_prefix is not supported"},
		{[]string{"--transport", "grpc"}, usageErr, "must be http"},
		{[]string{"--replay-speedup", "2"}, usageErr, "needs a fixed schedule"},
		{[]string{"--concurrency", "1,2", "--parameter-sweep-same-seed"}, usageErr, "needs --random-seed"},
		{[]string{"--no-set-consistent-seed"}, usageErr, "needs --num-profile-runs"},
		{[]string{"--concurrency", "1,2", "--num-profile-runs", "2", "--profile-run-disable-warmup-after-first"}, usageErr, "not supported in a sweep"},
		{[]string{"--num-profile-runs", "11"}, usageErr, "from 1 to 10"},
		{[]string{"--confidence-level", "0.9"}, usageErr, "needs --num-profile-runs"},
		{[]string{"--concurrency", "1,2", "--num-profile-runs", "2", "--parameter-sweep-mode", "repeated"}, usageErr, "repeated is not supported"},
		{[]string{"--sweep-type", "zip"}, usageErr, "needs a comma-separated list"},
		{[]string{"--concurrency", "1,2", "--isl", "5,6,7", "--sweep-type", "zip"}, usageErr, "zip needs lists of equal length"},
		{[]string{"--concurrency", "2,2"}, usageErr, "same label"},
		{[]string{"--model-selection-strategy", "random"}, usageErr, "random is not supported"},
		{[]string{"--connection-reuse-strategy", "sticky-user-sessions"}, usageErr, "not supported"},
		{[]string{"--max-response-bytes", "1023"}, usageErr, "--max-response-bytes: must be between 1024 (1 KiB) and 1073741824 (1 GiB) bytes, got 1023"},
		{[]string{"--max-redirects=-1"}, usageErr, "--max-redirects: must be between 0 and 100, got -1"},
		{[]string{"--request-content-type", "multipart/form-data"}, usageErr, "the chat endpoint sends JSON"},
		{[]string{"--per-chunk-usage"}, usageErr, "needs --endpoint-type chat, --streaming and --use-server-token-count"},
		{[]string{"--url", "h:1", "-m", "m", "--mock-fast"}, usageErr, "--mock-fast: configures the embedded mock"},
		{[]string{"-H", "bad header"}, usageErr, "--header:"},
		{[]string{"--extra-inputs", "novalue"}, usageErr, "--extra-inputs:"},
		{[]string{"--tokenizer", "no/such/tokenizer"}, configErr, "never downloads tokenizers"},
		{[]string{"--export-level", "all"}, usageErr, "--export-level: must be summary, records or raw"},
		{[]string{"--ui-type", "fancy"}, usageErr, "--ui-type:"},
		{[]string{"--concurrency-ramp-duration", "5"}, usageErr, "needs --concurrency"},
		{[]string{"--request-rate-ramp-duration", "5", "--concurrency", "2"}, usageErr, "needs --request-rate"},
		{[]string{"--warmup-request-count", "2", "--num-warmup-sessions", "2"}, usageErr, "not both"},
		{[]string{"--random-seed=-1"}, usageErr, "--random-seed: must be >= 0"},
		{[]string{"--vary-seed-per-trial"}, usageErr, "needs --num-profile-runs"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			_, err := build(t, c.args...)
			if err == nil {
				t.Fatalf("accepted; want an error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q lacks %q", err, c.want)
			}
			if got := errext.ExitCodeOf(err); got != c.code {
				t.Errorf("exit code %d (%s), want %d", got, err, c.code)
			}
		})
	}
}

func TestUnknownFlagsAreRejected(t *testing.T) {
	if _, err := parse(t, "--no-such-aiperf-flag", "1"); err == nil || !strings.Contains(err.Error(), "unknown flag --no-such-aiperf-flag") {
		t.Fatalf("err %v", err)
	}
}

func TestTokenizerResolution(t *testing.T) {
	dir := t.TempDir()
	// A model in a Hugging Face cache laid out as huggingface_hub does.
	snap := filepath.Join(dir, "hub", "models--org--model", "snapshots", "abc123")
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(snap, "tokenizer.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "hub", "models--org--model", "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hub", "models--org--model", "refs", "main"), []byte("abc123\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == "HF_HOME" {
			return dir
		}
		return ""
	}
	cases := []struct {
		flags    Flags
		want     config.Tokenizer
		wantNote string
		wantErr  string
	}{
		{Flags{Model: []string{"mock-model"}}, config.Tokenizer{Kind: "tiktoken", Name: "o200k_base"}, "", ""},
		{Flags{Model: []string{"gpt-4-turbo"}}, config.Tokenizer{Kind: "tiktoken", Name: "cl100k_base"}, "", ""},
		{Flags{Model: []string{"Qwen/Qwen3-0.6B"}}, config.Tokenizer{Kind: "tiktoken", Name: "o200k_base"}, "not available offline", ""},
		{Flags{Model: []string{"org/model"}}, config.Tokenizer{Kind: "file", Path: filepath.Join(snap, "tokenizer.json")}, "", ""},
		{Flags{Model: []string{"x"}, Tokenizer: "org/model"}, config.Tokenizer{Kind: "file", Path: filepath.Join(snap, "tokenizer.json")}, "", ""},
		{Flags{Model: []string{"x"}, Tokenizer: snap}, config.Tokenizer{Kind: "file", Path: filepath.Join(snap, "tokenizer.json")}, "", ""},
		{Flags{Model: []string{"x"}, Tokenizer: "cl100k_base"}, config.Tokenizer{Kind: "tiktoken", Name: "cl100k_base"}, "", ""},
		{Flags{Model: []string{"x"}, Tokenizer: "builtin"}, config.Tokenizer{Kind: "tiktoken", Name: "o200k_base"}, "", ""},
		{Flags{Model: []string{"x"}, Tokenizer: "org/model", TokenizerRevision: "v2"}, config.Tokenizer{}, "", "revision v2"},
		{Flags{Model: []string{"x"}, Tokenizer: "meta-llama/Llama-3.1-8B"}, config.Tokenizer{}, "", "never downloads"},
	}
	for _, c := range cases {
		got, note, err := resolveTokenizer(&c.flags, env)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%+v: err %v, want %q", c.flags, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want || !strings.Contains(note, c.wantNote) || (c.wantNote == "") != (note == "") {
			t.Errorf("%+v: got %+v note %q err %v; want %+v note %q", c.flags, got, note, err, c.want, c.wantNote)
		}
	}
}

func TestRedactedCommand(t *testing.T) {
	got := redactedCommand([]string{"profile", "--api-key", "sk-1", "--api-key=sk-2", "-H", "Authorization: Bearer x", "-HX-Key:y",
		"-H", `{"Authorization": "Bearer z"}`, "-H", "X-Team: a b", "--goodput", "time_to_first_token:5"})
	want := `loadstar profile --api-key "<redacted>" --api-key="<redacted>" -H "Authorization: <redacted>" -H"X-Key: <redacted>" -H "{\"Authorization\": \"<redacted>\"}" -H "X-Team: a b" --goodput time_to_first_token:5`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestReplaceLiteral(t *testing.T) {
	got, n := replaceLiteral(`dist.normal(987651, 9876510) x987651 987651.5 [987651]`, "987651", "isl")
	if want := `dist.normal(isl, 9876510) x987651 987651.5 [isl]`; got != want || n != 2 {
		t.Errorf("got %q (%d)", got, n)
	}
}

func TestSentinelsCannotLeak(t *testing.T) {
	// Every swept flag reaches the benchmark in a form the step function can
	// express; a sentinel left behind would be an emission bug.
	p := mustBuild(t, "--concurrency", "1,2", "--request-rate", "1,2", "--isl", "5,6", "--isl-stddev", "0,1", "--osl", "3,4",
		"--osl-stddev", "0,2", "--conversation-turn-mean", "1,2", "--request-count", "7,8", "--benchmark-duration", "1,2", "--sweep-type", "zip")
	text, err := p.Scenario()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "98765") {
		t.Fatalf("sentinel in the scenario:\n%s", text)
	}
	if !strings.Contains(text, "def step(concurrency, request_rate, isl, isl_stddev, osl, osl_stddev, conversation_turn_mean, request_count, benchmark_duration):") {
		t.Errorf("step function signature:\n%s", text)
	}
	// The zip above covers every parameter; check the plan round-trips too.
	t.Chdir(t.TempDir())
	sameBenchmarks(t, "all swept", scenarioSteps(t, text), executedSteps(t, p))
}

func TestSpecRendererRoundTripsValueTypes(t *testing.T) {
	m := ordered.New(4)
	m.Set("f", 1.0)
	m.Set("i", int64(1))
	m.Set("l", []any{"a", 2.5, nil, true})
	inner := ordered.New(1)
	inner.Set("k", "v")
	m.Set("o", inner)
	s := &plugin.Spec{Category: plugin.Endpoint, Name: "chat", Args: plugin.Args{"extra": m, "model": []string{"a", "b"}, "timeout": 1500 * time.Millisecond}}
	r := &renderer{}
	want := `endpoint.chat(extra = {"f": 1.0, "i": 1, "l": ["a", 2.5, None, True], "o": {"k": "v"}}, model = ["a", "b"], timeout = "1.5s")`
	if got := r.spec(s); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
