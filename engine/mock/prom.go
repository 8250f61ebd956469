package mock

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// promFloat writes a number as Python's prometheus_client does: 12.0, 0.25.
func promFloat(v float64) string {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") { // integral (not NaN/Inf)
		s += ".0"
	}
	return s
}

// appendVLLMMetrics writes the engine model in vLLM's metric names, types,
// help texts and buckets (vllm/v1/metrics/loggers.py), labelled with the
// first model name and engine 0, as one vLLM engine does.
func (s *Server) appendVLLMMetrics(b *bytes.Buffer) {
	m := s.engine
	labels := fmt.Sprintf(`model_name=%q,engine="0"`, s.cfg.Models[0])
	running, waiting, kv := m.snapshot(time.Now())
	gauge := func(name, help string, v float64) {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s gauge\n%s{%s} %s\n", name, help, name, name, labels, promFloat(v))
	}
	counter := func(name, help string, v int64) {
		fmt.Fprintf(b, "# HELP %s_total %s\n# TYPE %s_total counter\n%s_total{%s} %s\n", name, help, name, name, labels, promFloat(float64(v)))
	}
	gauge("vllm:num_requests_running", "Number of requests in model execution batches.", float64(running))
	gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", float64(waiting))
	gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", kv)
	counter("vllm:num_preemptions", "Cumulative number of preemption from the engine.", m.preemptions.Load())
	counter("vllm:prompt_tokens", "Number of prefill tokens processed.", m.promptTokens.Load())
	counter("vllm:generation_tokens", "Number of generation tokens processed.", m.generationTokens.Load())
	b.WriteString("# HELP vllm:request_success_total Count of successfully processed requests.\n# TYPE vllm:request_success_total counter\n")
	for i, r := range finishReasons {
		fmt.Fprintf(b, "vllm:request_success_total{%s,finished_reason=%q} %s\n", labels, r, promFloat(float64(m.finished[i].Load())))
	}
	for _, h := range []struct {
		name, help string
		h          *atomicHistogram
	}{
		{"vllm:request_prompt_tokens", "Number of prefill tokens processed.", m.promptHist},
		{"vllm:request_generation_tokens", "Number of generation tokens processed.", m.generationHist},
		{"vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", m.ttft},
		{"vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", m.itl},
		{"vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", m.e2e},
		{"vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", m.queueTime},
		{"vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", m.prefill},
		{"vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", m.decode},
	} {
		cum, sum, n := h.h.read()
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s histogram\n", h.name, h.help, h.name)
		for i, le := range h.h.bounds {
			fmt.Fprintf(b, "%s_bucket{%s,le=%q} %s\n", h.name, labels, promFloat(le), promFloat(float64(cum[i])))
		}
		fmt.Fprintf(b, "%s_bucket{%s,le=\"+Inf\"} %s\n", h.name, labels, promFloat(float64(n)))
		fmt.Fprintf(b, "%s_count{%s} %s\n%s_sum{%s} %s\n", h.name, labels, promFloat(float64(n)), h.name, labels, promFloat(sum))
	}
	fmt.Fprintf(b, "# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig\n# TYPE vllm:cache_config_info gauge\n"+
		"vllm:cache_config_info{block_size=\"%d\",cache_dtype=\"auto\",enable_prefix_caching=\"False\",engine=\"0\",num_gpu_blocks=\"%d\"} 1.0\n",
		kvBlock, m.kvTokens/kvBlock)
}

// GPU model constants: an H100-like board.
const (
	gpuIdleWatts   = 70.0
	gpuMaxWatts    = 700.0
	gpuBusyClock   = 1980.0 // MHz
	gpuIdleClock   = 345.0
	gpuMemClock    = 2619.0
	gpuTotalMiB    = 81559.0
	gpuUsedMiB     = 72187.0 // weights and the preallocated KV cache
	gpuIdleCelsius = 33.0
)

// gpuModel is the state behind the DCGM-like exporter: each scrape reports
// utilisation over the time since the previous one (as DCGM's GPU_UTIL is
// a share of the sample period), and power, clock and temperature follow it.
type gpuModel struct {
	n int

	mu       sync.Mutex
	lastAt   time.Time
	lastBusy time.Duration
	util     float64
	energyMJ float64 // millijoules since start, as DCGM counts
}

func newGPUModel(n int) *gpuModel { return &gpuModel{n: n, lastAt: time.Now()} }

// sample advances the model to now given the engine's busy time so far.
func (g *gpuModel) sample(now time.Time, busy time.Duration) (util, watts float64, energyMJ float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if dt := now.Sub(g.lastAt); dt > time.Millisecond {
		g.util = min(1, max(0, float64(busy-g.lastBusy)/float64(dt)))
		watts := gpuIdleWatts + (gpuMaxWatts-gpuIdleWatts)*g.util
		g.energyMJ += watts * dt.Seconds() * 1000
		g.lastAt, g.lastBusy = now, busy
	}
	return g.util, gpuIdleWatts + (gpuMaxWatts-gpuIdleWatts)*g.util, g.energyMJ
}

// serveDCGM writes GPU telemetry in NVIDIA dcgm-exporter's format: its
// field names, help texts and labels (gpu, UUID, pci_bus_id, device,
// modelName, Hostname, DCGM_FI_DRIVER_VERSION).
func (s *Server) serveDCGM(ctx *fasthttp.RequestCtx) {
	now := time.Now()
	util, watts, energy := s.gpus.sample(now, s.engine.busy(now))
	clock := gpuIdleClock
	if util > 0 {
		clock = gpuBusyClock
	}
	var b bytes.Buffer
	field := func(name, typ, help string, v func(i int) float64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for i := range s.cfg.GPUs {
			fmt.Fprintf(&b, "%s{gpu=\"%d\",UUID=\"GPU-%08x-6d6f-636b-0000-%012d\",pci_bus_id=\"00000000:%02X:00.0\",device=\"nvidia%d\",modelName=\"NVIDIA H100 80GB HBM3 (loadstar mock)\",Hostname=\"loadstar-mock\",DCGM_FI_DRIVER_VERSION=\"550.90.07\"} %s\n",
				name, i, uint32(s.cfg.Seed), i, 0x18+i*0x10, i, strconv.FormatFloat(v(i), 'f', -1, 64))
		}
	}
	same := func(x float64) func(int) float64 { return func(int) float64 { return x } }
	field("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz).", same(clock))
	field("DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz).", same(gpuMemClock))
	field("DCGM_FI_DEV_MEMORY_TEMP", "gauge", "Memory temperature (in C).", func(i int) float64 { return float64(int(gpuIdleCelsius + 6 + 30*util + float64(i))) })
	field("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C).", func(i int) float64 { return float64(int(gpuIdleCelsius + 40*util + float64(i))) })
	field("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W).", same(float64(int(watts*1000))/1000))
	field("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", "Total energy consumption since boot (in mJ).", same(float64(int64(energy))))
	field("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).", same(float64(int(100*util+0.5))))
	field("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %).", same(float64(int(45*util+0.5))))
	field("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB).", same(gpuTotalMiB-gpuUsedMiB))
	field("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB).", same(gpuUsedMiB))
	field("DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered.", same(0))
	ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	ctx.SetBody(b.Bytes())
}
