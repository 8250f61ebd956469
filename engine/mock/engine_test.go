package mock

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/servermetrics"
)

// scrape parses the server's /metrics (or another metrics path).
func scrape(t *testing.T, url string) map[string]servermetrics.Family {
	t.Helper()
	resp, body := get(t, url)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	snap, err := servermetrics.Parse(body)
	if err != nil {
		t.Fatalf("%s is not Prometheus text: %v\n%s", url, err, body)
	}
	out := map[string]servermetrics.Family{}
	for _, f := range snap.Families {
		out[f.Name] = f
	}
	return out
}

func value(t *testing.T, fams map[string]servermetrics.Family, name string, labels ...string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no family %s", name)
	}
	for _, s := range f.Series {
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range s.Labels {
				found = found || l.Name == labels[i] && l.Value == labels[i+1]
			}
			match = match && found
		}
		if match {
			if f.Type == results.TypeHistogram {
				return s.Count
			}
			return s.Value
		}
	}
	t.Fatalf("%s: no series %v", name, labels)
	return 0
}

const chat10 = `{"model":"m","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"tell me about rivers and the sea"}]}`

// TestVLLMMetricsCountTheTraffic: the vLLM families add up to exactly what
// the server sent.
func TestVLLMMetricsCountTheTraffic(t *testing.T) {
	srv := start(t, Config{TTFT: 7 * time.Millisecond, ITL: time.Millisecond})
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			post(t, srv.URL()+"/v1/chat/completions", chat10)
		}()
	}
	wg.Wait()
	post(t, srv.URL()+"/v1/completions", `{"model":"m","prompt":"hello there","max_tokens":3}`)
	f := scrape(t, srv.URL()+"/metrics")
	st := srv.Stats()
	if got := value(t, f, "vllm:generation_tokens"); got != 63 || int64(got) != st.CompletionTokens {
		t.Errorf("generation tokens %v (stats %d), want 63", got, st.CompletionTokens)
	}
	if got := value(t, f, "vllm:prompt_tokens"); int64(got) != st.PromptTokens || got == 0 {
		t.Errorf("prompt tokens %v, want %d", got, st.PromptTokens)
	}
	if got := value(t, f, "vllm:request_success", "finished_reason", "length"); got != 7 {
		t.Errorf("request_success{length} %v", got)
	}
	if n := value(t, f, "vllm:time_to_first_token_seconds"); n != 7 {
		t.Errorf("TTFT observations %v", n)
	}
	if n := value(t, f, "vllm:inter_token_latency_seconds"); n != 6*9+2 {
		t.Errorf("ITL observations %v, want one per gap", n)
	}
	ttft := f["vllm:time_to_first_token_seconds"].Series[0]
	// Observed when the first token went out: never before 7 ms, later on a
	// loaded machine.
	if p50 := servermetrics.HistogramQuantile(0.5, ttft.Buckets); p50 < 0.005 || p50 > 0.25 {
		t.Errorf("TTFT p50 %v s, want from the (5, 10] ms bucket up", p50)
	}
	if ttft.Sum < 7*0.007 {
		t.Errorf("TTFT sum %v s: a first token went out before its 7 ms", ttft.Sum)
	}
	if value(t, f, "vllm:num_requests_running") != 0 || value(t, f, "vllm:num_requests_waiting") != 0 || value(t, f, "vllm:kv_cache_usage_perc") != 0 {
		t.Error("gauges not back to 0 when idle")
	}
	if _, ok := f["loadstar_mock_requests"]; !ok {
		t.Error("the mock's own metrics are gone")
	}
}

// TestQueueAndKVCache: with one running slot, others wait; with a small KV
// cache, a request that does not fit waits and counts as preempted.
func TestQueueAndKVCache(t *testing.T) {
	// Long enough that the scrapes below see the queue on a loaded machine
	// under the race detector.
	const ttft = 300 * time.Millisecond
	for _, c := range []struct {
		name        string
		cfg         Config
		preemptions float64
	}{
		{"max_running", Config{TTFT: ttft, MaxRunning: 1}, 0},
		{"kv_cache", Config{TTFT: ttft, KVCacheTokens: 32}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := start(t, c.cfg)
			var wg sync.WaitGroup
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					post(t, srv.URL()+"/v1/chat/completions", chat10)
				}()
			}
			var running, waiting, kv float64
			for deadline := time.Now().Add(10 * ttft); time.Now().Before(deadline) && waiting == 0; {
				f := scrape(t, srv.URL()+"/metrics")
				running, waiting, kv = value(t, f, "vllm:num_requests_running"), value(t, f, "vllm:num_requests_waiting"), value(t, f, "vllm:kv_cache_usage_perc")
			}
			if running != 1 || waiting < 1 || kv <= 0 {
				t.Errorf("running %v waiting %v kv %v, want 1, ≥1 and > 0", running, waiting, kv)
			}
			wg.Wait()
			f := scrape(t, srv.URL()+"/metrics")
			if got := value(t, f, "vllm:num_preemptions"); got != c.preemptions {
				t.Errorf("preemptions %v, want %v", got, c.preemptions)
			}
			q := f["vllm:request_queue_time_seconds"].Series[0]
			if q.Count != 3 || q.Sum < 1.5*ttft.Seconds() { // waits of about 1 and 2 TTFTs
				t.Errorf("queue time: %v observations, sum %v s", q.Count, q.Sum)
			}
			if got := value(t, f, "vllm:generation_tokens"); got != 30 {
				t.Errorf("generation tokens %v", got)
			}
		})
	}
}

func TestDCGMExporter(t *testing.T) {
	srv := start(t, Config{TTFT: 30 * time.Millisecond, GPUs: 2})
	scrape(t, srv.URL()+"/dcgm/metrics") // the utilisation period starts here
	post(t, srv.URL()+"/v1/chat/completions", chat10)
	f := scrape(t, srv.URL()+"/dcgm/metrics")
	util := f["DCGM_FI_DEV_GPU_UTIL"]
	if len(util.Series) != 2 || util.Series[0].Value <= 0 || util.Series[0].Value > 100 {
		t.Fatalf("utilisation %+v", util.Series)
	}
	labels := map[string]string{}
	for _, l := range util.Series[1].Labels {
		labels[l.Name] = l.Value
	}
	if labels["gpu"] != "1" || labels["modelName"] == "" || labels["UUID"] == "" || labels["Hostname"] == "" {
		t.Errorf("labels %v", labels)
	}
	for _, name := range []string{"DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"} {
		if v := f[name].Series[0].Value; v <= 0 || math.IsNaN(v) {
			t.Errorf("%s = %v", name, v)
		}
	}
	if f["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"].Type != results.TypeCounter {
		t.Error("energy is not a counter")
	}
	if resp, _ := get(t, start(t, Config{}).URL()+"/dcgm/metrics"); resp.StatusCode != 404 {
		t.Errorf("without GPUs: %d", resp.StatusCode)
	}
}
