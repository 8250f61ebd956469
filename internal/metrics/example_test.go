package metrics_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/metrics"
)

// spaceTokenizer counts whitespace-separated words.
type spaceTokenizer struct{}

func (spaceTokenizer) Name() string            { return "words" }
func (spaceTokenizer) Encode(s string) []int   { return make([]int, len(strings.Fields(s))) }
func (spaceTokenizer) Decode(ids []int) string { return "" }
func (spaceTokenizer) Count(s string) int      { return len(strings.Fields(s)) }

// A runner feeds finished records to a Pipeline and gets the Summary at
// the end. The pipeline writes nothing: sinks (Setup.Sinks) receive each
// record with its metrics, and the caller renders the Summary.
func Example() {
	cfg := config.Defaults()
	cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat", Args: plugin.Args{"model": "m"}}
	slo, _ := metrics.ParseSLO("time_to_first_token", "<= 150ms")
	cfg.SLOs = []config.SLO{slo}

	p, err := metrics.NewPipeline(&cfg, nil, metrics.Setup{
		Endpoint:     plugin.EndpointMetadata{ProducesTokens: true, TokenizesInput: true, MetricsTitle: "LLM Metrics"},
		EndpointType: "chat", Streaming: true, Tokenizer: spaceTokenizer{},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ms := int64(time.Millisecond)
	for i, ttft := range []int64{100, 200} {
		rec := record.New()
		start := int64(i+1) * 1000 * ms
		rec.StartNs, rec.StartWallNs, rec.ScheduledNs = start, 1_700_000_000_000_000_000+start, start
		rec.InputTokens = 12
		rec.Streamed = true // the answer arrived as an event stream
		rec.AddText(start+ttft*ms, record.KindText, []byte("Hello"), nil)
		rec.AddText(start+ttft*ms+40*ms, record.KindText, []byte(" there"), nil)
		rec.AddText(start+ttft*ms+80*ms, record.KindText, []byte(" friend"), nil)
		rec.EndNs = start + ttft*ms + 81*ms
		p.Add(rec)
	}
	sum, err := p.Finish(context.Background(), results.RunInfo{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, tag := range []string{"time_to_first_token", "inter_token_latency", "output_sequence_length"} {
		m := sum.Metric(tag)
		fmt.Printf("%s: avg %.1f %s, p50 %.1f\n", tag, m.Stats.Avg, m.Unit, m.Stats.P50)
	}
	fmt.Printf("request_count: %.0f, goodput fraction: %.2f\n", sum.Metric("request_count").Value, sum.Metric("good_request_fraction").Value)
	fmt.Println("token source:", sum.TokenSource, "| verdict valid:", sum.Verdict.Valid)
	// Output:
	// time_to_first_token: avg 150.0 ms, p50 150.0
	// inter_token_latency: avg 40.0 ms, p50 40.0
	// output_sequence_length: avg 3.0 tokens, p50 3.0
	// request_count: 2, goodput fraction: 0.50
	// token source: client:words | verdict valid: true
}
