package results

import (
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/config"
)

func TestParseThreshold(t *testing.T) {
	good := map[string]ThresholdExpr{
		"p99 < 500ms":  {Stat: "p99", Op: "<", DurationNs: 500e6, HasDuration: true},
		"p(95)<=1.5s":  {Stat: "p95", Op: "<=", DurationNs: 1.5e9, HasDuration: true},
		"avg >= 20":    {Stat: "avg", Op: ">=", Value: 20},
		"value < 1%":   {Stat: "value", Op: "<", Value: 1, Percent: true},
		"med != 0":     {Stat: "p50", Op: "!=", Value: 0},
		"count == 100": {Stat: "count", Op: "==", Value: 100},
		"max<2e3":      {Stat: "max", Op: "<", Value: 2000},
	}
	for src, want := range good {
		got, err := ParseThreshold(src)
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		want.Source = src
		if got != want {
			t.Errorf("%q: got %+v want %+v", src, got, want)
		}
	}
	bad := map[string]string{
		"p98 < 1":      "unknown statistic",
		"p99 500ms":    "want an operator",
		"p99 < fast":   "want a number",
		"p99 < 5 lbs":  "unknown unit",
		"max < 1e308h": "about 292 years",
		"":             "unknown statistic",
	}
	for src, want := range bad {
		if _, err := ParseThreshold(src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want error containing %q", src, err, want)
		}
	}
}

func TestEvaluateThreshold(t *testing.T) {
	s := &Summary{Metrics: []Metric{
		{Tag: "time_to_first_token", Unit: "ms", Kind: RecordMetric, Stats: &Stats{P99: 480, Avg: 200, Count: 10}},
		{Tag: "request_throughput", Unit: "requests/sec", Kind: DerivedMetric, Value: 12.5},
		{Tag: "request_error_rate", Unit: "%", Kind: DerivedMetric, Value: 0.5},
	}}
	cases := []struct {
		metric, expr string
		pass         bool
		msg          string
	}{
		{"time_to_first_token", "p99 < 500ms", true, "passed"},
		{"time_to_first_token", "p99 < 0.4s", false, "FAILED"},
		{"time_to_first_token", "avg <= 200", true, ""},
		{"request_throughput", "value >= 10", true, ""},
		{"request_throughput", "p99 >= 10", false, "single value"},
		{"request_error_rate", "value < 1%", true, ""},
		{"request_throughput", "value < 1s", false, "cannot be compared"},
		{"inter_token_latency", "p99 < 5ms", false, "not computed"},
	}
	for _, c := range cases {
		r := EvaluateThreshold(s, config.Threshold{Metric: c.metric, Expr: c.expr})
		if r.Passed != c.pass || !strings.Contains(r.Message, c.msg) {
			t.Errorf("%s %q: passed=%v msg=%q", c.metric, c.expr, r.Passed, r.Message)
		}
	}
}

// The result carries what a report shows: the statistic compared, its value
// in the metric's unit, and a message with readable numbers.
func TestThresholdResultMeasured(t *testing.T) {
	s := &Summary{Metrics: []Metric{
		{Tag: "request_latency", Unit: "ms", Kind: RecordMetric, Stats: &Stats{P99: 282.1790920899999, Count: 10}},
	}}
	r := EvaluateThreshold(s, config.Threshold{Metric: "request_latency", Expr: "p99 < 2s"})
	if !r.Passed || r.Stat != "p99" || r.Unit != "ms" || r.Actual != 282.1790920899999 {
		t.Errorf("got %+v", r)
	}
	if want := "request_latency passed: p99 = 282.179 ms (want < 2000 ms)"; r.Message != want {
		t.Errorf("message %q, want %q", r.Message, want)
	}
	if r := EvaluateThreshold(s, config.Threshold{Metric: "ttft_x", Expr: "p99 < 2s"}); r.Stat != "" || r.Passed {
		t.Errorf("unmeasured: %+v", r)
	}
}

func TestFormatSignificant(t *testing.T) {
	for x, want := range map[float64]string{282.1790920899999: "282.179", 2000: "2000", 0.000123456789: "0.000123457",
		19.04345345: "19.0435", 1234567.89: "1234568", 99999.94: "99999.9", 0: "0", -3.14159265: "-3.14159"} {
		if got := FormatSignificant(x, 6); got != want {
			t.Errorf("FormatSignificant(%v, 6) = %q, want %q", x, got, want)
		}
	}
}
