package servermetrics

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/results"
)

func TestParseNormalisesNamesAsAIPerf(t *testing.T) {
	snap, err := Parse([]byte(fixture(t, "vllm.txt")))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Family{}
	for _, f := range snap.Families {
		byName[f.Name] = f
	}
	gen, ok := byName["vllm:generation_tokens"]
	if !ok || gen.Type != results.TypeCounter || gen.Exposed != "vllm:generation_tokens_total" {
		t.Fatalf("counter not named without _total: %+v", gen)
	}
	if _, ok := byName["vllm:generation_tokens_total"]; ok {
		t.Fatal("the _total name is kept as well")
	}
	h := byName["vllm:time_to_first_token_seconds"]
	if h.Type != results.TypeHistogram || len(h.Series) != 1 {
		t.Fatalf("histogram: %+v", h)
	}
	b := h.Series[0].Buckets
	if len(b) != 23 || !math.IsInf(b[len(b)-1].Le, 1) || b[len(b)-1].Count != 100 || h.Series[0].Sum != 3.84 {
		t.Fatalf("buckets %v sum %v", b, h.Series[0].Sum)
	}
	for _, l := range h.Series[0].Labels {
		if l.Name == "le" {
			t.Fatal("le kept as a label")
		}
	}
	if got := byName["vllm:request_success"].Series; len(got) != 3 {
		t.Fatalf("request_success series: %d", len(got))
	}

	sg, err := Parse([]byte(fixture(t, "sglang.txt")))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sg.Families {
		if strings.HasSuffix(f.Name, "_created") {
			t.Errorf("%s: Python's _created companion kept", f.Name)
		}
	}
	tgi, err := Parse([]byte(fixture(t, "tgi.txt")))
	if err != nil {
		t.Fatal(err)
	}
	if tgi.Families[0].Name != "tgi_batch_current_max_tokens" {
		t.Errorf("families not sorted: %s first", tgi.Families[0].Name)
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	for _, body := range []string{
		"<html><body>Not here</body></html>",
		"vllm:x{a=\"1\" 3\n",
		"# TYPE x counter\nx abc\n",
	} {
		if _, err := Parse([]byte(body)); err == nil {
			t.Errorf("%q parsed", body)
		}
	}
	snap, err := Parse([]byte("# HELP up Up.\n# TYPE up untyped\nup 1\nplain 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range snap.Families {
		if f.Type != results.TypeUnknown {
			t.Errorf("%s: type %s, want unknown", f.Name, f.Type)
		}
	}
}

func TestHistogramQuantileMatchesPrometheus(t *testing.T) {
	inf := math.Inf(1)
	bs := []results.Bucket{{Le: 0.02, Count: 10}, {Le: 0.04, Count: 60}, {Le: 0.08, Count: 100}, {Le: inf, Count: 100}}
	for _, c := range []struct{ q, want float64 }{
		{0.5, 0.02 + 0.02*(40.0/50)},
		{0.05, 0.02 * 0.5}, // the lowest bucket starts at 0
		{0.99, 0.04 + 0.04*(39.0/40)},
		{1, 0.08},
	} {
		if got := HistogramQuantile(c.q, bs); !near(got, c.want) {
			t.Errorf("q=%v: got %v want %v", c.q, got, c.want)
		}
	}
	// A rank in the +Inf bucket gives the highest finite bound.
	over := []results.Bucket{{Le: 1, Count: 5}, {Le: inf, Count: 10}}
	if got := HistogramQuantile(0.9, over); got != 1 {
		t.Errorf("+Inf rank: %v", got)
	}
	if got := HistogramQuantile(0.5, []results.Bucket{{Le: 1, Count: 0}, {Le: inf, Count: 0}}); !math.IsNaN(got) {
		t.Errorf("empty: %v", got)
	}
	if got := HistogramQuantile(0.5, []results.Bucket{{Le: 1, Count: 3}}); !math.IsNaN(got) {
		t.Errorf("no +Inf bucket: %v", got)
	}
}

func TestGaugeStatsAreNumpys(t *testing.T) {
	g := gaugeStats([]weighted{{v: 1, n: 1}, {v: 4, n: 1}, {v: 2, n: 2}, {v: 3, n: 1}})
	// The samples 1 4 2 2 3: numpy.percentile(..., 50) = 2, p99 = 3.96, std(ddof=1).
	if g.Count != 5 || g.P50 != 2 || !near(g.P99, 3.96) || !near(g.P25, 2) || !near(g.Avg, 2.4) {
		t.Fatalf("%+v", g)
	}
	if !near(g.Std, math.Sqrt((1.96+2.56+0.16+0.16+0.36)/4)) {
		t.Fatalf("std %v", g.Std)
	}
	if gaugeStats(nil) != nil {
		t.Fatal("stats of nothing")
	}
}

func TestFormatLeAsPython(t *testing.T) {
	for le, want := range map[float64]string{1: "1.0", 0.005: "0.005", 2560: "2560.0", math.Inf(1): "+Inf", 1e-05: "1e-05"} {
		if got := FormatLe(le); got != want {
			t.Errorf("%v: %q, want %q", le, got, want)
		}
	}
}

func TestURLs(t *testing.T) {
	for in, want := range map[string]string{
		"localhost:9400":                     "http://localhost:9400/metrics",
		"http://node2:9400/metrics":          "http://node2:9400/metrics",
		"https://h:8000/":                    "https://h:8000/metrics",
		"http://127.0.0.1:8000/prom/metrics": "http://127.0.0.1:8000/prom/metrics",
	} {
		if got, err := NormalizeURL(in); err != nil || got != want {
			t.Errorf("%s: %q %v", in, got, err)
		}
	}
	if _, err := NormalizeURL("ftp://x"); err == nil {
		t.Error("ftp accepted")
	}
	if got, _ := MetricsURL("http://10.0.0.5:8000/v1/chat/completions"); got != "http://10.0.0.5:8000/metrics" {
		t.Errorf("MetricsURL: %s", got)
	}
	if got := Display("http://localhost:8000/metrics"); got != "localhost:8000" {
		t.Errorf("Display: %s", got)
	}
	if alt, ok := trtllmFallback("http://h:8000/metrics"); !ok || alt != "http://h:8000/prometheus/metrics" {
		t.Errorf("fallback %s %v", alt, ok)
	}
}

func TestInferUnit(t *testing.T) {
	for _, c := range []struct{ name, help, want string }{
		{"vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", "seconds"},
		{"vllm:generation_tokens", "Number of generation tokens processed.", "tokens"},
		{"vllm:request_success", "Count of successfully processed requests.", "requests"},
		{"vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", "percent"},
		{"nv_inference_request_duration_us", "Cumulative inference request duration in microseconds", ""},
		{"dynamo_component_request_bytes", "", "bytes"},
		{"sglang:kv_transfer_latency_ms", "The transfer latency of the KV cache in ms.", "milliseconds"},
	} {
		if got := InferUnit(c.name, c.help); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

var _ = time.Second

// When every observation lies in one bucket, the exact mean narrows it:
// zero queue times give 0, not half the first bound.
func TestEstimatesInOneBucketUseTheMean(t *testing.T) {
	inf := math.Inf(1)
	zero := &results.HistogramStats{Count: 10, Sum: 0, Avg: 0, Buckets: []results.Bucket{{Le: 0.3, Count: 10}, {Le: 0.5, Count: 10}, {Le: inf, Count: 10}}}
	histogramEstimates(zero)
	if zero.P50 != 0 || zero.P99 != 0 {
		t.Errorf("all-zero observations: p50 %v p99 %v", zero.P50, zero.P99)
	}
	// Ten requests of about 84 ms in vLLM's (0, 0.3] s bucket: spread over
	// [0, 0.168] around the mean, not over [0, 0.3].
	h := &results.HistogramStats{Count: 10, Sum: 0.84, Avg: 0.084, Buckets: []results.Bucket{{Le: 0.3, Count: 10}, {Le: inf, Count: 10}}}
	histogramEstimates(h)
	if !near(h.P50, 0.084) || !near(h.P99, 0.168*0.99) {
		t.Errorf("p50 %v p99 %v", h.P50, h.P99)
	}
	// Several buckets: histogram_quantile as is.
	m := &results.HistogramStats{Count: 100, Sum: 3.84, Avg: 0.0384, Buckets: []results.Bucket{{Le: 0.02, Count: 10}, {Le: 0.04, Count: 60}, {Le: 0.08, Count: 100}, {Le: inf, Count: 100}}}
	histogramEstimates(m)
	if !near(m.P50, 0.036) {
		t.Errorf("p50 %v", m.P50)
	}
}
