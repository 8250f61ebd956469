package servermetrics

import (
	"math"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/results"
)

// fromFixture collects a fixture scraped once inside a window whose
// reference had every sample at 0: increases equal the fixture's counts.
func fromFixture(t *testing.T, name, kind string) *results.ServerMetrics {
	text := fixture(t, name)
	return feed(t, kind, 0, 300*time.Millisecond, zeroed(text), text)
}

// TestViewsReadEveryServer checks the named figures against expositions in
// each server's real metric names.
func TestViewsReadEveryServer(t *testing.T) {
	type want struct {
		figure string
		server string
		value  float64 // a total's value, a gauge's avg, a distribution's p50
	}
	cases := map[string][]want{
		"vllm.txt": {
			{"requests_running", "vllm", 12}, {"requests_waiting", "vllm", 3}, {"kv_cache_usage", "vllm", 41.71875},
			{"prefix_cache_hit_rate", "vllm", 25}, {"preemptions", "vllm", 2}, {"requests_completed", "vllm", 100},
			{"prompt_tokens", "vllm", 51200}, {"generation_tokens", "vllm", 25600},
			{"time_to_first_token", "vllm", 36}, {"request_latency", "vllm", 1500 + 500*(10.0/60)},
		},
		"sglang.txt": {
			{"requests_running", "sglang", 8}, {"requests_waiting", "sglang", 0}, {"kv_cache_usage", "sglang", 21},
			{"prefix_cache_hit_rate", "sglang", 35}, {"preemptions", "sglang", 0}, {"requests_completed", "sglang", 50},
			{"prompt_tokens", "sglang", 25600}, {"generation_tokens", "sglang", 12800},
			{"time_to_first_token", "sglang", 100 * 25.0 / 45}, {"queue_time", "sglang", 100 * 15.0 / 40},
		},
		"trtllm.txt": {
			{"requests_running", "trtllm", 8}, {"kv_cache_usage", "trtllm", 12}, {"prefix_cache_hit_rate", "trtllm", 50},
			{"requests_completed", "trtllm", 32}, {"prompt_tokens", "trtllm", 8192}, {"generation_tokens", "trtllm", 4096},
			{"time_to_first_token", "trtllm", 10 + 40*(16.0/32)},
		},
		"tgi.txt": {
			{"requests_running", "tgi", 16}, {"requests_waiting", "tgi", 3}, {"requests_completed", "tgi", 64},
			{"prompt_tokens", "tgi", 16384}, {"generation_tokens", "tgi", 8192},
			{"inter_token_latency", "tgi", 10 + 10*(2.0/34)}, {"request_latency", "tgi", 1000 + 1000*(20.0/52)},
		},
		"llamacpp.txt": {
			{"requests_running", "llamacpp", 4}, {"requests_waiting", "llamacpp", 2},
			{"prompt_tokens", "llamacpp", 2304}, {"generation_tokens", "llamacpp", 1152},
		},
		"dynamo.txt": {
			{"requests_running", "dynamo", 16}, {"requests_waiting", "dynamo", 1}, {"kv_cache_usage", "dynamo", 33},
			{"prefix_cache_hit_rate", "dynamo", 25}, {"requests_completed", "dynamo", 48},
			{"prompt_tokens", "dynamo", 9600}, {"generation_tokens", "dynamo", 6144},
			{"time_to_first_token", "dynamo", 25 + 25*(24.0/30)},
		},
	}
	for file, wants := range cases {
		sm := fromFixture(t, file, results.EndpointServer)
		for _, w := range wants {
			f := figure(t, sm, w.figure)
			got := f.Value
			switch f.Kind {
			case results.FigureGauge:
				got = f.Stats.Avg
			case results.FigureDistribution:
				got = f.Stats.P50
			}
			if f.Server != w.server || !near(got, w.value) {
				t.Errorf("%s %s: %s %v (from %s), want %s %v", file, w.figure, f.Server, got, f.Source, w.server, w.value)
			}
		}
	}
}

func TestThroughputFiguresAreRatesOverTheWindow(t *testing.T) {
	sm := fromFixture(t, "vllm.txt", results.EndpointServer)
	secs := sm.WindowEnd.Sub(sm.WindowStart).Seconds()
	if f := figure(t, sm, "generation_token_throughput"); !near(f.Value, 25600/secs) {
		t.Errorf("throughput %v, want %v", f.Value, 25600/secs)
	}
	ttft := figure(t, sm, "time_to_first_token")
	if !math.IsNaN(ttft.Stats.Min) || !math.IsNaN(ttft.Stats.Max) || ttft.Stats.Count != 100 || !near(ttft.Stats.Avg, 38.4) {
		t.Errorf("distribution stats %+v", ttft.Stats)
	}
	fam := sm.Family("vllm:request_success")
	if fam == nil || fam.Type != results.TypeCounter || fam.Unit != "requests" || len(fam.Series) != 3 {
		t.Fatalf("family %+v", fam)
	}
	if sm.Family("python_gc_objects_collected") == nil {
		t.Error("unknown metrics are not kept raw")
	}
}

func TestGPUTelemetryPerGPU(t *testing.T) {
	sm := fromFixture(t, "dcgm.txt", results.EndpointGPU)
	if len(sm.Families) != 0 {
		t.Errorf("GPU endpoints are not server metrics: %d families", len(sm.Families))
	}
	if len(sm.GPUs) != 2 {
		t.Fatalf("GPUs: %d", len(sm.GPUs))
	}
	g := sm.GPUs[1]
	if g.Index != 1 || g.UUID != "GPU-3bd5e0c2-9b2e-6f44-1c1d-0e5fe2a4b0a1" || g.Name != "NVIDIA H100 80GB HBM3" || g.Hostname != "bench-node-1" {
		t.Fatalf("identity %+v", g)
	}
	for name, want := range map[string]float64{
		"nvidia_power_usage": 412.5, "nvidia_gpu_utilization": 94, "nvidia_sm_clock": 1755, "nvidia_temperature": 67,
		"nvidia_memory_used": 72187 * 1.048576e-3, "nvidia_memory_utilization": 41,
	} {
		m := g.Metric(name)
		if m == nil || !near(m.Stats.Avg, want) {
			t.Errorf("%s: %+v, want %v", name, m, want)
		}
	}
	if e := g.Metric("nvidia_energy_consumption"); e == nil || !e.Counter || !near(e.Delta, 251034980e-9) || e.Unit != "MJ" {
		t.Errorf("energy %+v", e)
	}
	for name, want := range map[string]float64{
		"gpu_utilization": 80, "gpu_power_usage": 386.022 + 412.5, "gpu_temperature": 67, "gpu_sm_clock": (1980 + 1755) / 2.0,
		"gpu_memory_used": 2 * 72187 * 1.048576e-3,
	} {
		if f := figure(t, sm, name); !near(f.Stats.Avg, want) || f.Server != "dcgm" {
			t.Errorf("%s: %v (%s), want %v", name, f.Stats.Avg, f.Server, want)
		}
	}
	if f := figure(t, sm, "gpu_energy"); !near(f.Value, (229901671+251034980)*1e-3) {
		t.Errorf("energy %v", f.Value)
	}
}

// Every source of every view names a server of the docs' list and reads
// a metric of the right kind.
func TestViewTable(t *testing.T) {
	servers := map[string]bool{}
	for _, s := range Servers {
		servers[s.Name] = true
	}
	names := map[string]bool{}
	for _, v := range Views {
		if names[v.Name] {
			t.Errorf("%s twice", v.Name)
		}
		names[v.Name] = true
		if v.Header == "" || v.Unit == "" || v.Doc == "" || len(v.Sources) == 0 || v.Combine == 0 || v.Kind == 0 {
			t.Errorf("%s: incomplete view", v.Name)
		}
		for _, s := range v.Sources {
			if !servers[s.Server] || s.Metric == "" || s.Scale == 0 {
				t.Errorf("%s: bad source %+v", v.Name, s)
			}
			if v.Kind == results.FigureDistribution && s.Read != ReadDistribution || v.Kind == results.FigureGauge && s.Read != ReadGauge {
				t.Errorf("%s: %s read %d does not fit the figure's kind", v.Name, s.Metric, s.Read)
			}
		}
	}
}
