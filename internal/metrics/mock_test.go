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
	"github.com/loadstar/loadstar/engine/runner"
)

// TestReproducesMockLatencies runs a real benchmark (runner, transport,
// endpoint parser, this pipeline) against the embedded mock with a known
// TTFT and ITL and checks that the reported statistics reproduce them
// within the mock's jitter plus loopback overhead.
func TestReproducesMockLatencies(t *testing.T) {
	if testing.Short() {
		t.Skip("sends traffic to a local mock server")
	}
	const (
		ttft   = 40 * time.Millisecond
		itl    = 8 * time.Millisecond
		osl    = 16
		n      = 48
		jitter = 0.05
	)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := mock.Start(ctx, mock.Config{}, mock.WithLatency(ttft, itl), mock.WithJitter(jitter), mock.WithSeed(7))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat",
		Args: plugin.Args{"url": srv.URL(), "model": "mock-model", "streaming": true}}
	cfg.Dataset = &plugin.Spec{Category: plugin.DatasetComposer, Name: "synthetic",
		Args: plugin.Args{"isl": dist.Fixed{V: 32}, "osl": dist.Fixed{V: osl}, "entries": int64(8)}}
	cfg.Timing = &plugin.Spec{Category: plugin.TimingStrategy, Name: "concurrency", Args: plugin.Args{"concurrency": int64(4)}}
	cfg.Stop = config.Stop{Requests: n}
	cfg.ServerTokenCount = true
	cfg.Seed, cfg.SeedSet = 3, true
	sum, err := runner.Run(ctx, reg, &cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := sum.Metric("request_count"); got == nil || got.Value != n {
		t.Fatalf("request_count %+v, errors %+v", got, sum.Errors)
	}
	if m := sum.Metric("output_sequence_length"); m == nil || m.Stats.Avg != osl {
		t.Fatalf("OSL %+v", m)
	}
	// The client only ever measures later than the mock's draws, never
	// earlier: the lower bounds are tight (the mean of 48 lognormal draws
	// with σ = 5% is within 3% of its median), the upper ones leave room for
	// loopback, parsing and — on a machine busy with other work — a
	// goroutine waiting for a CPU. A delayed read of the first token also
	// shortens the decode window the ITL divides, so ITL gets ±10%.
	ttftMs := sum.Metric("time_to_first_token").Stats
	if ttftMs.P50 < 40*0.97 || ttftMs.P50 > 40*1.5 || ttftMs.Min < 40*0.85 {
		t.Errorf("TTFT p50 %.3f ms min %.3f ms, want ≈ 40 ms", ttftMs.P50, ttftMs.Min)
	}
	itlMs := sum.Metric("inter_token_latency").Stats
	if itlMs.Avg < 8*0.9 || itlMs.Avg > 8*1.1 {
		t.Errorf("ITL avg %.3f ms, want ≈ 8 ms", itlMs.Avg)
	}
	lat := sum.Metric("request_latency").Stats
	t.Logf("TTFT avg %.3f p50 %.3f ms; ITL avg %.3f ms; latency avg %.3f ms", ttftMs.Avg, ttftMs.P50, itlMs.Avg, lat.Avg)
	if lat.Avg < (40+15*8)*0.97 || lat.Avg > (40+15*8)*1.5 {
		t.Errorf("latency avg %.3f ms, want ≈ 160 ms", lat.Avg)
	}
	// Latency = TTFT + 15 ITL, per request, hence on average.
	if want := ttftMs.Avg + 15*itlMs.Avg; math.Abs(lat.Avg-want) > 0.01*want {
		t.Errorf("latency avg %.3f ms, want TTFT + 15·ITL = %.3f ms", lat.Avg, want)
	}
	if tps := sum.Metric("output_token_throughput_per_user").Stats; math.Abs(tps.Avg-1000/8.0) > 0.12*1000/8.0 {
		t.Errorf("output TPS/user %.2f, want ≈ 125", tps.Avg)
	}
}
