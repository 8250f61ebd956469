package servermetrics

import (
	"github.com/loadstar/loadstar/engine/results"
)

// Read says how a figure is read from its source metric.
type Read uint8

const (
	// ReadGauge reads a gauge's samples (statistics, or their average for
	// a total figure).
	ReadGauge Read = iota + 1
	// ReadIncrease reads a counter's increase over the window.
	ReadIncrease
	// ReadRate reads a counter's increase per second.
	ReadRate
	// ReadHistogramSum reads a histogram's sum increase (tokens observed).
	ReadHistogramSum
	// ReadHistogramSumRate reads a histogram's sum increase per second.
	ReadHistogramSumRate
	// ReadDistribution reads a histogram's bucket increases.
	ReadDistribution
	// ReadRatio reads the increase of Metric over the increase of Over.
	ReadRatio
)

// Combine says how several series of a figure (label sets, endpoints,
// GPUs) make one value.
type Combine uint8

const (
	// Sum adds the series (requests running on every engine, total power).
	Sum Combine = iota + 1
	// Mean averages them (GPU utilisation).
	Mean
	// Max takes the largest (KV-cache usage, temperature).
	Max
)

// Source is one server metric providing a figure.
type Source struct {
	// Server names the view: vllm, sglang, trtllm, tgi, llamacpp, dynamo, dcgm.
	Server string
	// Metric is the family name as Parse returns it (counters without
	// "_total"); Over is the denominator family of a ReadRatio.
	Metric, Over string
	Read         Read
	// Scale converts to the figure's unit (ratio → %, seconds → ms).
	Scale float64
}

// View is one named server figure: its name in scripts and thresholds
// (r.server.<Name>, "server.<Name>"), how it is summarised and where each
// server reports it. The first source whose metric was scraped wins, so a
// server's current name comes before its older one.
type View struct {
	Name, Header, Unit string
	Kind               results.FigureKind
	Combine            Combine
	// Headline figures are shown in the console table.
	Headline bool
	Doc      string
	Sources  []Source
}

const (
	toPct = 100         // a 0–1 ratio shown in %
	toMs  = 1000        // seconds shown in ms
	mibGB = 1.048576e-3 // MiB → GB (DCGM reports framebuffer in MiB)
)

func src(server, metric string, read Read, scale float64) Source {
	return Source{Server: server, Metric: metric, Read: read, Scale: scale}
}

// latency lists the histogram of a latency on every server that has one.
func latency(vllm, sglang, trtllm, tgi, dynamo []string) []Source {
	var out []Source
	for _, s := range []struct {
		server string
		names  []string
	}{{"dynamo", dynamo}, {"vllm", vllm}, {"sglang", sglang}, {"trtllm", trtllm}, {"tgi", tgi}} {
		for _, n := range s.names {
			out = append(out, src(s.server, n, ReadDistribution, toMs))
		}
	}
	return out
}

// tokens lists a token counter on every server; histograms (TGI, Dynamo)
// count tokens in their sum.
func tokens(read, histRead Read, vllm, sglang, trtllm, llamacpp, tgiHist, dynamo string, dynamoHist bool) []Source {
	dyn := src("dynamo", dynamo, read, 1)
	if dynamoHist {
		dyn = src("dynamo", dynamo, histRead, 1)
	}
	return []Source{dyn, src("vllm", vllm, read, 1), src("sglang", sglang, read, 1), src("trtllm", trtllm, read, 1),
		src("llamacpp", llamacpp, read, 1), src("tgi", tgiHist, histRead, 1)}
}

// Views are the named server figures, in report order. docs/server-metrics.md
// is tested against this table.
var Views = []View{
	{Name: "requests_running", Header: "Requests Running", Unit: "requests", Kind: results.FigureGauge, Combine: Sum, Headline: true,
		Doc: "requests the server is executing (its batch)",
		Sources: []Source{src("dynamo", "dynamo_frontend_inflight_requests", ReadGauge, 1),
			src("vllm", "vllm:num_requests_running", ReadGauge, 1), src("sglang", "sglang:num_running_reqs", ReadGauge, 1),
			src("trtllm", "trtllm_num_requests_running", ReadGauge, 1), src("tgi", "tgi_batch_current_size", ReadGauge, 1),
			src("llamacpp", "llamacpp:requests_processing", ReadGauge, 1)}},
	{Name: "requests_waiting", Header: "Requests Waiting", Unit: "requests", Kind: results.FigureGauge, Combine: Sum, Headline: true,
		Doc: "requests queued in the server, not yet scheduled (growing = saturated)",
		Sources: []Source{src("dynamo", "dynamo_frontend_queued_requests", ReadGauge, 1),
			src("vllm", "vllm:num_requests_waiting", ReadGauge, 1), src("sglang", "sglang:num_queue_reqs", ReadGauge, 1),
			src("trtllm", "trtllm_num_requests_waiting", ReadGauge, 1), src("tgi", "tgi_queue_size", ReadGauge, 1),
			src("llamacpp", "llamacpp:requests_deferred", ReadGauge, 1)}},
	{Name: "kv_cache_usage", Header: "KV-Cache Usage", Unit: "%", Kind: results.FigureGauge, Combine: Max, Headline: true,
		Doc: "share of the KV cache in use (highest engine)",
		Sources: []Source{src("dynamo", "dynamo_component_kvstats_gpu_cache_usage_percent", ReadGauge, toPct),
			src("vllm", "vllm:kv_cache_usage_perc", ReadGauge, toPct), src("vllm", "vllm:gpu_cache_usage_perc", ReadGauge, toPct),
			src("sglang", "sglang:token_usage", ReadGauge, toPct), src("trtllm", "trtllm_kv_cache_utilization", ReadGauge, toPct),
			src("llamacpp", "llamacpp:kv_cache_usage_ratio", ReadGauge, toPct)}},
	{Name: "prefix_cache_hit_rate", Header: "Prefix-Cache Hit Rate", Unit: "%", Kind: results.FigureTotal, Combine: Mean, Headline: true,
		Doc: "prompt tokens served from the prefix cache (counters: hits/queries over the run; gauges: their average)",
		Sources: []Source{src("dynamo", "dynamo_component_kvstats_gpu_prefix_cache_hit_rate", ReadGauge, toPct),
			{Server: "vllm", Metric: "vllm:prefix_cache_hits", Over: "vllm:prefix_cache_queries", Read: ReadRatio, Scale: toPct},
			{Server: "vllm", Metric: "vllm:gpu_prefix_cache_hits", Over: "vllm:gpu_prefix_cache_queries", Read: ReadRatio, Scale: toPct},
			src("sglang", "sglang:cache_hit_rate", ReadGauge, toPct), src("trtllm", "trtllm_kv_cache_hit_rate", ReadGauge, toPct)}},
	{Name: "preemptions", Header: "Preemptions", Unit: "requests", Kind: results.FigureTotal, Combine: Sum, Headline: true,
		Doc: "requests the server preempted (evicted from the batch) for lack of KV-cache room",
		Sources: []Source{src("vllm", "vllm:num_preemptions", ReadIncrease, 1),
			src("sglang", "sglang:num_retracted_requests", ReadIncrease, 1)}},
	{Name: "requests_completed", Header: "Requests Completed", Unit: "requests", Kind: results.FigureTotal, Combine: Sum,
		Doc: "requests the server finished",
		Sources: []Source{src("dynamo", "dynamo_frontend_requests", ReadIncrease, 1),
			src("vllm", "vllm:request_success", ReadIncrease, 1), src("sglang", "sglang:num_requests", ReadIncrease, 1),
			src("trtllm", "trtllm_request_success", ReadIncrease, 1), src("tgi", "tgi_request_success", ReadIncrease, 1)}},
	{Name: "prompt_tokens", Header: "Prompt Tokens", Unit: "tokens", Kind: results.FigureTotal, Combine: Sum,
		Doc: "prompt tokens the server processed",
		Sources: tokens(ReadIncrease, ReadHistogramSum, "vllm:prompt_tokens", "sglang:prompt_tokens", "trtllm_prompt_tokens",
			"llamacpp:prompt_tokens", "tgi_request_input_length", "dynamo_frontend_input_sequence_tokens", true)},
	{Name: "generation_tokens", Header: "Generation Tokens", Unit: "tokens", Kind: results.FigureTotal, Combine: Sum, Headline: true,
		Doc: "tokens the server generated",
		Sources: tokens(ReadIncrease, ReadHistogramSum, "vllm:generation_tokens", "sglang:generation_tokens", "trtllm_generation_tokens",
			"llamacpp:tokens_predicted", "tgi_request_generated_tokens", "dynamo_frontend_output_tokens", false)},
	{Name: "prompt_token_throughput", Header: "Prompt Token Throughput", Unit: "tokens/sec", Kind: results.FigureTotal, Combine: Sum,
		Doc: "prompt tokens processed per second of the run",
		Sources: tokens(ReadRate, ReadHistogramSumRate, "vllm:prompt_tokens", "sglang:prompt_tokens", "trtllm_prompt_tokens",
			"llamacpp:prompt_tokens", "tgi_request_input_length", "dynamo_frontend_input_sequence_tokens", true)},
	{Name: "generation_token_throughput", Header: "Generation Token Throughput", Unit: "tokens/sec", Kind: results.FigureTotal, Combine: Sum, Headline: true,
		Doc: "tokens generated per second of the run",
		Sources: tokens(ReadRate, ReadHistogramSumRate, "vllm:generation_tokens", "sglang:generation_tokens", "trtllm_generation_tokens",
			"llamacpp:tokens_predicted", "tgi_request_generated_tokens", "dynamo_frontend_output_tokens", false)},
	{Name: "time_to_first_token", Header: "Time to First Token", Unit: "ms", Kind: results.FigureDistribution, Combine: Sum, Headline: true,
		Doc: "the server's own TTFT histogram",
		Sources: latency([]string{"vllm:time_to_first_token_seconds"}, []string{"sglang:time_to_first_token_seconds"},
			[]string{"trtllm_time_to_first_token_seconds"}, nil, []string{"dynamo_frontend_time_to_first_token_seconds"})},
	{Name: "inter_token_latency", Header: "Inter Token Latency", Unit: "ms", Kind: results.FigureDistribution, Combine: Sum, Headline: true,
		Doc: "the server's own inter-token latency histogram",
		Sources: latency([]string{"vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"},
			[]string{"sglang:inter_token_latency_seconds", "sglang:time_per_output_token_seconds"},
			[]string{"trtllm_time_per_output_token_seconds"}, []string{"tgi_request_mean_time_per_token_duration"},
			[]string{"dynamo_frontend_inter_token_latency_seconds"})},
	{Name: "request_latency", Header: "Request Latency", Unit: "ms", Kind: results.FigureDistribution, Combine: Sum, Headline: true,
		Doc: "the server's own end-to-end request latency histogram",
		Sources: latency([]string{"vllm:e2e_request_latency_seconds"}, []string{"sglang:e2e_request_latency_seconds"},
			[]string{"trtllm_e2e_request_latency_seconds"}, []string{"tgi_request_duration"},
			[]string{"dynamo_frontend_request_duration_seconds"})},
	{Name: "queue_time", Header: "Queue Time", Unit: "ms", Kind: results.FigureDistribution, Combine: Sum, Headline: true,
		Doc: "time requests waited in the server's queue",
		Sources: latency([]string{"vllm:request_queue_time_seconds"}, []string{"sglang:queue_time_seconds"},
			[]string{"trtllm_request_queue_time_seconds"}, []string{"tgi_request_queue_duration"}, nil)},
	{Name: "prefill_time", Header: "Prefill Time", Unit: "ms", Kind: results.FigureDistribution, Combine: Sum,
		Doc:     "time requests spent in prefill",
		Sources: latency([]string{"vllm:request_prefill_time_seconds"}, nil, []string{"trtllm_request_prefill_time_seconds"}, nil, nil)},
	{Name: "decode_time", Header: "Decode Time", Unit: "ms", Kind: results.FigureDistribution, Combine: Sum,
		Doc:     "time requests spent decoding",
		Sources: latency([]string{"vllm:request_decode_time_seconds"}, nil, []string{"trtllm_request_decode_time_seconds"}, nil, nil)},
	{Name: "gpu_utilization", Header: "GPU Utilization", Unit: "%", Kind: results.FigureGauge, Combine: Mean, Headline: true,
		Doc:     "GPU utilisation, mean over GPUs (per GPU in r.server.gpus)",
		Sources: []Source{src("dcgm", "DCGM_FI_DEV_GPU_UTIL", ReadGauge, 1)}},
	{Name: "gpu_memory_used", Header: "GPU Memory Used", Unit: "GB", Kind: results.FigureGauge, Combine: Sum, Headline: true,
		Doc:     "framebuffer memory in use, summed over GPUs",
		Sources: []Source{src("dcgm", "DCGM_FI_DEV_FB_USED", ReadGauge, mibGB)}},
	{Name: "gpu_power_usage", Header: "GPU Power Usage", Unit: "W", Kind: results.FigureGauge, Combine: Sum, Headline: true,
		Doc:     "power draw, summed over GPUs",
		Sources: []Source{src("dcgm", "DCGM_FI_DEV_POWER_USAGE", ReadGauge, 1)}},
	{Name: "gpu_sm_clock", Header: "GPU SM Clock", Unit: "MHz", Kind: results.FigureGauge, Combine: Mean, Headline: true,
		Doc:     "streaming-multiprocessor clock, mean over GPUs (a drop under load means power or thermal capping)",
		Sources: []Source{src("dcgm", "DCGM_FI_DEV_SM_CLOCK", ReadGauge, 1)}},
	{Name: "gpu_temperature", Header: "GPU Temperature", Unit: "°C", Kind: results.FigureGauge, Combine: Max, Headline: true,
		Doc:     "GPU temperature, hottest GPU",
		Sources: []Source{src("dcgm", "DCGM_FI_DEV_GPU_TEMP", ReadGauge, 1)}},
	{Name: "gpu_energy", Header: "GPU Energy", Unit: "J", Kind: results.FigureTotal, Combine: Sum,
		Doc:     "energy the GPUs used during the run, summed over GPUs",
		Sources: []Source{src("dcgm", "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", ReadIncrease, 1e-3)}},
}

// LookupView returns the named figure's view.
func LookupView(name string) (View, bool) {
	for _, v := range Views {
		if v.Name == name {
			return v, true
		}
	}
	return View{}, false
}

// Servers are the server views, in the order docs/server-metrics.md lists them.
var Servers = []struct{ Name, Title string }{
	{"vllm", "vLLM"}, {"sglang", "SGLang"}, {"trtllm", "TensorRT-LLM"}, {"tgi", "TGI"},
	{"llamacpp", "llama.cpp (llama-server --metrics)"}, {"dynamo", "NVIDIA Dynamo"}, {"dcgm", "DCGM exporter"},
}
