package metrics_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/catalog"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/runner"
)

// The mock's latency model in mockRun: every request's TTFT and every
// inter-token gap are lognormal draws around these (σ = 5%).
const (
	mockTTFT   = 40 * time.Millisecond
	mockITL    = 8 * time.Millisecond
	mockOSL    = 16
	mockN      = 48
	mockJitter = 0.05
)

// mockRun runs a real benchmark (runner, transport, endpoint parser, this
// pipeline) against the embedded mock with a known TTFT and ITL.
func mockRun(tb testing.TB) *results.Summary {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := mock.Start(ctx, mock.Config{}, mock.WithLatency(mockTTFT, mockITL), mock.WithJitter(mockJitter), mock.WithSeed(7))
	if err != nil {
		tb.Fatal(err)
	}
	defer srv.Close()
	reg, err := catalog.New()
	if err != nil {
		tb.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat",
		Args: plugin.Args{"url": srv.URL(), "model": "mock-model", "streaming": true}}
	cfg.Dataset = &plugin.Spec{Category: plugin.DatasetComposer, Name: "synthetic",
		Args: plugin.Args{"isl": dist.Fixed{V: 32}, "osl": dist.Fixed{V: mockOSL}, "entries": int64(8)}}
	cfg.Timing = &plugin.Spec{Category: plugin.TimingStrategy, Name: "concurrency", Args: plugin.Args{"concurrency": int64(4)}}
	cfg.Stop = config.Stop{Requests: mockN}
	cfg.ServerTokenCount = true
	cfg.Seed, cfg.SeedSet = 3, true
	sum, err := runner.Run(ctx, reg, &cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if got := sum.Metric("request_count"); got == nil || got.Value != mockN {
		tb.Fatalf("request_count %+v, errors %+v", got, sum.Errors)
	}
	return sum
}

// TestReproducesMockLatencies checks that the reported statistics are the
// mock's latencies measured on the wire: never earlier than the mock's
// delays, TTFT not confused with latency nor ITL with a chunk gap, and the
// metrics consistent with each other. The client's overhead on top of the
// mock's delays depends on the machine's load, so its size is measured by
// BenchmarkMockLatencyOverhead, not asserted here.
func TestReproducesMockLatencies(t *testing.T) {
	if testing.Short() {
		t.Skip("sends traffic to a local mock server")
	}
	sum := mockRun(t)
	if m := sum.Metric("output_sequence_length"); m == nil || m.Stats.Avg != mockOSL {
		t.Fatalf("OSL %+v", m)
	}
	ttft := float64(mockTTFT) / 1e6
	itl := float64(mockITL) / 1e6
	// TTFT: one lognormal draw per request (σ = 5%); the mean of 48 draws is
	// within 3% of 40 ms, and the client only ever measures later. Three
	// times the mock's TTFT leaves a loaded machine room and is still below
	// the request latency (TTFT + 15 ITL = 160 ms).
	ttftMs := sum.Metric("time_to_first_token").Stats
	if ttftMs.Avg < ttft*0.97 || ttftMs.Avg > 3*ttft || ttftMs.Min < ttft*0.8 {
		t.Errorf("TTFT avg %.3f ms min %.3f ms, want ≈ %v ms and never earlier than the mock's draws", ttftMs.Avg, ttftMs.Min, ttft)
	}
	// Request latency: the mock's TTFT and 15 gaps, never earlier.
	lat := sum.Metric("request_latency").Stats
	if want := ttft + (mockOSL-1)*itl; lat.Avg < want*0.97 || lat.Avg > 2*want {
		t.Errorf("latency avg %.3f ms, want ≈ %v ms", lat.Avg, want)
	}
	// ITL: per request the mean of 15 draws, averaged over 48 requests. A
	// first-token read that came late (the TTFT above the mock's) shortens
	// ITL by a fifteenth of its lateness: ITL is the mock's but for that.
	itlMs := sum.Metric("inter_token_latency").Stats
	late := max(0, ttftMs.Avg-ttft)
	if itlMs.Avg < itl*0.97-late/(mockOSL-1) || itlMs.Avg > 2*itl {
		t.Errorf("ITL avg %.3f ms, want ≈ %v ms (less %.3f ms for late first reads)", itlMs.Avg, itl, late/(mockOSL-1))
	}
	// ITL = (latency − TTFT) / 15, request by request, so on average too.
	t.Logf("TTFT avg %.3f p50 %.3f ms; ITL avg %.3f ms; latency avg %.3f ms", ttftMs.Avg, ttftMs.P50, itlMs.Avg, lat.Avg)
	if want := ttftMs.Avg + (mockOSL-1)*itlMs.Avg; math.Abs(lat.Avg-want) > 1e-6*want {
		t.Errorf("latency avg %.3f ms, want TTFT + 15·ITL = %.3f ms", lat.Avg, want)
	}
	// Output TPS per user is 1000/ITL per request: its mean is at least
	// 1000 / mean ITL (Jensen's inequality). One request whose first-token
	// read came late has a tiny ITL and pulls the mean far up, so only the
	// median is held near 125 tokens/s.
	tps := sum.Metric("output_token_throughput_per_user").Stats
	if tps.Avg < 1000/itlMs.Avg*(1-1e-9) || tps.P50 < 1000/(2*itl) || tps.P50 > 2*1000/itl {
		t.Errorf("output TPS/user avg %.2f p50 %.2f, want avg at least 1000/ITL avg = %.2f, p50 ≈ %.0f", tps.Avg, tps.P50, 1000/itlMs.Avg, 1000/itl)
	}
}

// BenchmarkMockLatencyOverhead reports how much later than the mock's
// delays the client measures TTFT and ITL (loopback, parsing, scheduling):
// a few hundred microseconds on an idle machine. Run it on a quiet machine:
//
//	go test ./internal/metrics -run '^$' -bench MockLatencyOverhead -benchtime 3x
func BenchmarkMockLatencyOverhead(b *testing.B) {
	var ttft, itl float64
	for b.Loop() {
		sum := mockRun(b)
		ttft += sum.Metric("time_to_first_token").Stats.Avg - float64(mockTTFT)/1e6
		itl += sum.Metric("inter_token_latency").Stats.Avg - float64(mockITL)/1e6
	}
	b.ReportMetric(ttft/float64(b.N), "ttft-overhead-ms")
	b.ReportMetric(itl/float64(b.N), "itl-overhead-ms")
}
