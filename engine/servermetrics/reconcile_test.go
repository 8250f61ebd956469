package servermetrics

import (
	"testing"

	"github.com/loadstar/loadstar/engine/results"
)

func clientSummary(osl float64, ttftP50 float64) *results.Summary {
	return &results.Summary{Metrics: []results.Metric{
		{Tag: "request_count", Kind: results.AggregateMetric, Value: 100},
		{Tag: "time_to_first_token", Unit: "ms", Kind: results.RecordMetric,
			Stats: &results.Stats{Avg: 38.9, P50: ttftP50, P99: 79, Count: 100}},
		{Tag: "total_isl", Kind: results.AggregateMetric, Value: 51200},
		{Tag: "total_osl", Kind: results.AggregateMetric, Value: osl},
	}}
}

func check(t *testing.T, cs []results.ReconcileCheck, name string) results.ReconcileCheck {
	t.Helper()
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s check in %+v", name, cs)
	return results.ReconcileCheck{}
}

func TestReconcile(t *testing.T) {
	sm := fromFixture(t, "vllm.txt", results.EndpointServer)
	cs := Reconcile(clientSummary(25600, 37), sm, 0)
	for _, name := range []string{"output_tokens", "prompt_tokens", "requests", "time_to_first_token_avg", "time_to_first_token_p50", "time_to_first_token_p99"} {
		if c := check(t, cs, name); !c.OK {
			t.Errorf("%s flagged: %+v", name, c)
		}
	}
	out := check(t, cs, "output_tokens")
	if out.Client != 25600 || out.Server != 25600 || out.DiffPct != 0 || out.Source != "vllm:generation_tokens" {
		t.Errorf("%+v", out)
	}
	// 20000 tokens seen by the client against 25600 generated: flagged.
	cs = Reconcile(clientSummary(20000, 37), sm, 5)
	if c := check(t, cs, "output_tokens"); c.OK || c.DiffPct < 27 || c.DiffPct > 29 {
		t.Errorf("not flagged: %+v", c)
	}
	// A client p50 of 70 ms lies outside the server's (20, 40] ms bucket.
	if c := check(t, Reconcile(clientSummary(25600, 70), sm, 5), "time_to_first_token_p50"); c.OK {
		t.Errorf("p50 not flagged: %+v", c)
	}
	if Reconcile(clientSummary(1, 1), nil, 5) != nil {
		t.Error("checks without server metrics")
	}
}
