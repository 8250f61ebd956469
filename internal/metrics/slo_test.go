package metrics

import (
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/config"
)

func TestParseGoodput(t *testing.T) {
	slos, err := ParseGoodput("time_to_first_token:500 output_token_throughput_per_user:20.5  request_latency:1500")
	if err != nil {
		t.Fatal(err)
	}
	want := []config.SLO{
		{Metric: "time_to_first_token", Op: "<=", Threshold: 500e6, Source: "time_to_first_token:500"},
		{Metric: "output_token_throughput_per_user", Op: ">=", Threshold: 20.5, Source: "output_token_throughput_per_user:20.5"},
		{Metric: "request_latency", Op: "<=", Threshold: 1500e6, Source: "request_latency:1500"},
	}
	if len(slos) != len(want) {
		t.Fatalf("got %d slos", len(slos))
	}
	for i := range want {
		if slos[i].Metric != want[i].Metric || slos[i].Op != want[i].Op || !near(slos[i].Threshold, want[i].Threshold) || slos[i].Source != want[i].Source {
			t.Errorf("slo %d = %+v, want %+v", i, slos[i], want[i])
		}
	}
	for in, msg := range map[string]string{
		"":                                    "empty",
		"ttft:5":                              `unknown metric "ttft"`,
		"time_to_first_token":                 "expected tag:value",
		"time_to_first_token:abc":             "not a number (in ms)",
		"request_count:5":                     "unknown metric",
		"error_isl:5":                         "unknown metric",
		"request_latency:1 request_latency:2": "given twice",
	} {
		if _, err := ParseGoodput(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseGoodput(%q) error = %v, want %q", in, err, msg)
		}
	}
}

func TestParseSLO(t *testing.T) {
	for _, tc := range []struct {
		metric, expr, op string
		base             float64
	}{
		{"time_to_first_token", "<= 500ms", "<=", 500e6},
		{"time_to_first_token", "500ms", "<=", 500e6},
		{"time_to_first_token", "<=1.5s", "<=", 1.5e9},
		{"inter_token_latency", "<= 50", "<=", 50e6}, // bare number: display unit (ms)
		{"output_token_throughput_per_user", ">= 20", ">=", 20},
		{"output_token_throughput_per_user", "20", ">=", 20},
		{"scheduled_request_latency", "<= 2s", "<=", 2e9},
	} {
		s, err := ParseSLO(tc.metric, tc.expr)
		if err != nil {
			t.Errorf("%s %q: %v", tc.metric, tc.expr, err)
			continue
		}
		if s.Op != tc.op || !near(s.Threshold, tc.base) || s.Metric != tc.metric {
			t.Errorf("%s %q = %+v, want %s %v", tc.metric, tc.expr, s, tc.op, tc.base)
		}
	}
	for _, tc := range [][3]string{
		{"time_to_first_token", "< 5ms", "use <= or >="},
		{"time_to_first_token", "<=", "has no value"},
		{"time_to_first_token", "fast", "neither a number"},
		{"output_sequence_length", ">= 10ms", "not a number (in tokens)"},
		{"nope", "1", "unknown metric"},
	} {
		if _, err := ParseSLO(tc[0], tc[1]); err == nil || !strings.Contains(err.Error(), tc[2]) {
			t.Errorf("ParseSLO(%q, %q) error = %v, want %q", tc[0], tc[1], err, tc[2])
		}
	}
}

func TestSLOsMustBeMeasured(t *testing.T) {
	_, err := compileSLOs([]config.SLO{{Metric: "time_to_first_token", Op: "<=", Threshold: 1}}, Applicability{ProducesTokens: true})
	if err == nil || !strings.Contains(err.Error(), "needs streaming") {
		t.Fatalf("err = %v", err)
	}
}

func TestGoodIsInclusiveAndMissingFails(t *testing.T) {
	slos, _ := compileSLOs([]config.SLO{
		{Metric: "time_to_first_token", Op: "<=", Threshold: 100},
		{Metric: "output_token_throughput_per_user", Op: ">=", Threshold: 10},
	}, streamingChat)
	var v [NumRecordMetrics]float64
	for i := range v {
		v[i] = nan
	}
	v[TTFT], v[OutputTPSPerUser] = 100, 10
	if !good(slos, &v) {
		t.Error("boundary values must pass")
	}
	v[TTFT] = 100.5
	if good(slos, &v) {
		t.Error("TTFT above threshold passed")
	}
	v[TTFT], v[OutputTPSPerUser] = 1, nan
	if good(slos, &v) {
		t.Error("missing value passed")
	}
}
