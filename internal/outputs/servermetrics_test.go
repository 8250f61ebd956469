package outputs_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/outputs"
)

// scrapedStep plans a streaming chat step against a mock with latency (so
// the scrapes see it busy) and GPU telemetry.
func scrapedStep(t *testing.T, mc mock.Config) (*plugin.Registry, *config.Benchmark, *mock.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, err := mock.Start(ctx, mc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	reg, err := outputs.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat",
		Args: plugin.Args{"url": srv.URL(), "model": "mock-model", "streaming": true}}
	cfg.Timing = &plugin.Spec{Category: plugin.TimingStrategy, Name: "concurrency", Args: plugin.Args{"concurrency": int64(4)}}
	cfg.Stop = config.Stop{Requests: 24}
	cfg.Warmup = &config.Warmup{Stop: config.Stop{Requests: 4}}
	cfg.Seed, cfg.SeedSet = 7, true
	cfg.UI = "none"
	cfg.Output.Root = t.TempDir()
	cfg.ServerMetrics.Interval = 20 * time.Millisecond
	cfg.ServerMetrics.GPUOff = true
	return reg, &cfg, srv
}

func check(t *testing.T, sm *results.ServerMetrics, name string) results.ReconcileCheck {
	t.Helper()
	for _, c := range sm.Reconciliation {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s check: %+v", name, sm.Reconciliation)
	return results.ReconcileCheck{}
}

// A run against the mock writes the server-metrics files and table, and
// client and server agree on the tokens to the token.
func TestRunJoinsServerMetrics(t *testing.T) {
	reg, cfg, srv := scrapedStep(t, mock.Config{TTFT: 10 * time.Millisecond, ITL: time.Millisecond, GPUs: 2})
	cfg.ServerMetrics.GPUOff = false
	cfg.ServerMetrics.GPU = []string{srv.URL() + "/dcgm/metrics"}
	cfg.ServerMetrics.Formats = []string{"json", "csv", "jsonl", "parquet"}
	var report strings.Builder
	sum, err := outputs.Run(context.Background(), reg, cfg, nil, outputs.Config{Stdout: &report})
	if err != nil {
		t.Fatal(err)
	}
	sm := sum.Server
	if sm == nil || len(sm.Warnings) != 0 {
		t.Fatalf("server metrics %+v", sm)
	}
	for _, kind := range []string{"server_metrics_json", "server_metrics_csv", "server_metrics_jsonl", "server_metrics_parquet", "gpu_telemetry_jsonl"} {
		if p := sum.Files[kind]; p == "" {
			t.Errorf("no %s (files %v)", kind, sum.Files)
		} else if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	for _, name := range []string{"output_tokens", "prompt_tokens", "requests"} {
		if c := check(t, sm, name); c.Client != c.Server || !c.OK || c.Client == 0 {
			t.Errorf("%s: client %v server %v", name, c.Client, c.Server)
		}
	}
	if g := sm.Figure("generation_tokens"); g == nil || g.Server != "vllm" || g.Value != sum.Metric("total_osl").Value {
		t.Errorf("generation tokens %+v", g)
	}
	if len(sm.GPUs) != 2 || sm.Figure("gpu_utilization") == nil {
		t.Errorf("GPUs %d", len(sm.GPUs))
	}
	r := report.String()
	for _, want := range []string{"Server Metrics (vllm @", "KV-Cache Usage (%)", "Client vs Server", "output_tokens", "GPU Telemetry", "Server Metrics JSON:"} {
		if !strings.Contains(r, want) {
			t.Errorf("console report lacks %q:\n%s", want, r)
		}
	}
	if js := readFile(t, sum.Files["json"]); !strings.Contains(js, `"telemetry_data"`) || !strings.Contains(js, `"nvidia_power_usage"`) {
		t.Error("profile JSON has no telemetry_data")
	}
	if csv := readFile(t, sum.Files["csv"]); !strings.Contains(csv, "GPU_Index") || !strings.Contains(csv, "NVIDIA GPU Power Usage (W)") {
		t.Error("profile CSV has no GPU section")
	}
}

// Thresholds on server figures pass and fail as the server behaves: one
// running slot makes requests wait; a small KV cache preempts.
func TestThresholdsOnServerFigures(t *testing.T) {
	reg, cfg, _ := scrapedStep(t, mock.Config{TTFT: 15 * time.Millisecond, MaxRunning: 1, KVCacheTokens: 4096})
	sum, err := outputs.Run(context.Background(), reg, cfg, nil, outputs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		metric, expr string
		pass         bool
	}{
		{"server.kv_cache_usage", "max < 95%", true},
		{"server.requests_waiting", "max >= 1", true},
		{"server.requests_waiting", "max < 1", false},
		{"server.requests_running", "max <= 1", true},
		{"server.preemptions", "value == 0", true},
		{"server.time_to_first_token", "p50 >= 15ms", true},
		{"server.time_to_first_token", "max < 1s", false}, // a histogram has no max
	} {
		r := results.EvaluateThreshold(sum, config.Threshold{Metric: c.metric, Expr: c.expr})
		if r.Passed != c.pass {
			t.Errorf("%s %q: passed %v (%s)", c.metric, c.expr, r.Passed, r.Message)
		}
	}

	reg, cfg, _ = scrapedStep(t, mock.Config{TTFT: 15 * time.Millisecond, KVCacheTokens: 1024})
	sum, err = outputs.Run(context.Background(), reg, cfg, nil, outputs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if r := results.EvaluateThreshold(sum, config.Threshold{Metric: "server.preemptions", Expr: "value == 0"}); r.Passed {
		t.Errorf("no preemption with a 1024-token KV cache: %s", r.Message)
	}
}

// closedURL is a URL nothing listens on.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

// Endpoints that are down, slow or answer garbage are warnings; the
// client's run is complete.
func TestBrokenScrapeEndpointsLeaveTheRunWhole(t *testing.T) {
	reg, cfg, _ := scrapedStep(t, mock.Config{TTFT: 5 * time.Millisecond})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte("vllm:num_requests_running{engine=\"0\" 3\n"))
	}))
	defer garbage.Close()
	down := closedURL(t)
	cfg.ServerMetrics.URLs = []string{down, slow.URL, garbage.URL}
	start := time.Now()
	sum, err := outputs.Run(context.Background(), reg, cfg, nil, outputs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if n := sum.Metric("request_count").Value; n != 24 || sum.Metric("error_request_count") != nil && sum.Metric("error_request_count").Value != 0 {
		t.Fatalf("client run: %v requests", n)
	}
	joined := strings.Join(sum.Server.Warnings, "\n")
	for _, want := range []string{down + "/metrics: connection refused", slow.URL + "/metrics: no answer", garbage.URL + "/metrics: not Prometheus text format"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no warning %q in:\n%s", want, joined)
		}
	}
	if len(sum.Server.Warnings) != 3 {
		t.Errorf("%d warnings, want one per broken endpoint:\n%s", len(sum.Server.Warnings), joined)
	}
	if c := check(t, sum.Server, "output_tokens"); !c.OK {
		t.Errorf("the working endpoint: %+v", c)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the run took %v", took)
	}
}

// A server without /metrics costs one request and one warning.
func TestServerWithoutMetricsIsOneWarning(t *testing.T) {
	reg, cfg, srv := scrapedStep(t, mock.Config{TTFT: 5 * time.Millisecond})
	target, _ := url.Parse(srv.URL())
	var scrapes atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			scrapes.Add(1)
			http.NotFound(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	cfg.Endpoint.Args["url"] = front.URL
	sum, err := outputs.Run(context.Background(), reg, cfg, nil, outputs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if n := scrapes.Load(); n != 1 {
		t.Errorf("%d scrapes of a server without /metrics", n)
	}
	if w := sum.Server.Warnings; len(w) != 1 || !strings.Contains(w[0], "HTTP 404") {
		t.Errorf("warnings %q", w)
	}
	if _, ok := sum.Files["server_metrics_json"]; ok {
		t.Error("server metrics file without server metrics")
	}
}

func TestServerMetricsOff(t *testing.T) {
	reg, cfg, srv := scrapedStep(t, mock.Config{Fast: true})
	cfg.ServerMetrics.Off = true
	sum, err := outputs.Run(context.Background(), reg, cfg, nil, outputs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Server != nil || srv.Stats().Requests["/metrics"] != 0 {
		t.Errorf("scraped with server_metrics off: %+v", sum.Server)
	}
}

// With time slices, every figure is summarised per slice too.
func TestServerMetricsPerTimeSlice(t *testing.T) {
	reg, cfg, _ := scrapedStep(t, mock.Config{TTFT: 20 * time.Millisecond, ITL: 2 * time.Millisecond})
	cfg.Output.SliceDuration = 150 * time.Millisecond
	cfg.Stop = config.Stop{Requests: 40}
	var report strings.Builder
	sum, err := outputs.Run(context.Background(), reg, cfg, nil, outputs.Config{Stdout: &report})
	if err != nil {
		t.Fatal(err)
	}
	gen := sum.Server.Figure("generation_tokens")
	total := 0.0
	for _, sl := range gen.Slices {
		total += sl.Value
	}
	if len(gen.Slices) < 2 || total != gen.Value {
		t.Errorf("%d slices adding up to %v of %v", len(gen.Slices), total, gen.Value)
	}
	if !strings.Contains(report.String(), "Server Metrics per Time Slice") {
		t.Errorf("no per-slice table:\n%s", report.String())
	}
	if js := readFile(t, sum.Files["server_metrics_json"]); !strings.Contains(js, `"timeslices"`) {
		t.Error("no timeslices in server_metrics_export.json")
	}
}
