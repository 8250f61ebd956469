package metrics

import (
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
)

// Rule 2 (AIPerf's streamed_request gate,
// src/aiperf/metrics/types/streamed_request_metric.py): a streaming
// request answered with one JSON body did not stream on the wire, so it has
// no TTFT, TTST, ICL, ITL, per-user throughput or decode duration; request
// latency and the token counts stay.
func TestNotStreamedRecordHasNoStreamingMetrics(t *testing.T) {
	rec := streamRecord(1000, 1, chunk{at: 500, text: "four words right here"})
	rec.Streamed = false // a JSON body: one response stamped at the end
	v := process(t, streamingChat, false, rec)
	want(t, v, map[int]float64{
		RequestLatency: 500, OSL: 4, ISL: 7, E2EOutputTPS: 4 / 500e-9,
		TTFT: nan, TTST: nan, TTFO: nan, ITL: nan, OutputTPSPerUser: nan, PrefillTPSPerUser: nan,
		DecodeDuration: nan, FullDecodeDuration: nan, FullITL: nan, FullOutputTPSPerUser: nan, ScheduledTTFT: nan,
	})
	if len(v.ICL) != 0 {
		t.Errorf("ICL %v for a record that did not stream", v.ICL)
	}
	// The same answer streamed in two chunks has them all.
	rec = streamRecord(1000, 1, chunk{at: 100, text: "four words"}, chunk{at: 500, text: " right here"})
	v = process(t, streamingChat, false, rec)
	want(t, v, map[int]float64{TTFT: 100, TTST: 400, ITL: 400.0 / 3, DecodeDuration: 400, FullDecodeDuration: 401})
}

// streamed_request_count counts the records that streamed; the TTFT
// statistics cover them alone.
func TestStreamedRequestCount(t *testing.T) {
	recs := []*record.Record{req(sec, 10*ms, 20*ms, 3), req(2*sec, 30*ms, 40*ms, 3), req(3*sec, 50*ms, 60*ms, 3)}
	recs[1].Streamed = false
	sum := run(t, benchCfg(t), Setup{}, openLoop(1), recs...)
	if got := metric(t, sum, "streamed_request_count").Value; got != 2 {
		t.Errorf("streamed_request_count = %v, want 2", got)
	}
	if got := metric(t, sum, "request_count").Value; got != 3 {
		t.Errorf("request_count = %v, want 3", got)
	}
	if st := metric(t, sum, "time_to_first_token").Stats; st.Count != 2 || !near(st.Avg, 30) {
		t.Errorf("TTFT over the streamed records only: %+v", st)
	}
}

// Rule 3 (AIPerf's compute_input_token_count,
// src/aiperf/records/inference_result_parser.py): ISL is the token count of
// every text of the payload sent — system prompt, all turns of the history,
// tool definitions and tool calls — joined by one space. Here the test
// tokenizer counts words: "be brief" (2) + "hi there" (2) + "hello you"
// (2) + "get_time" (1) + "{}" (1) + "how are you" (3) + the tool "get_time"
// (1), "Tells the time" (3), `{"type": "object"}` (2) = 17.
func TestISLCountsEveryTextSent(t *testing.T) {
	rec := streamRecord(1, 1, chunk{at: 10, text: "x"})
	rec.InputTokens = -1 // the sender found the dataset's count is not the ISL
	rec.Payload = []byte(`{"messages":[` +
		`{"role":"system","content":"be brief"},` +
		`{"role":"user","content":"hi there"},` +
		`{"role":"assistant","content":"hello you","tool_calls":[{"id":"c1","type":"function","function":{"name":"get_time","arguments":"{}"}}]},` +
		`{"role":"user","content":"how are you"}],` +
		`"model":"m","tools":[{"type":"function","function":{"name":"get_time","description":"Tells the time","parameters":{"type":"object"}}}]}`)
	v := process(t, streamingChat, false, rec)
	want(t, v, map[int]float64{ISL: 17})
	// A failed request's ISL is counted the same way (error_isl).
	rec.SetError(500, "Internal Server Error", "boom")
	v = process(t, streamingChat, false, rec)
	want(t, v, map[int]float64{ErrorISL: 17, ISL: nan})
}

// The growing history of a three-turn chat with a system prompt: each turn
// sends more text, so the ISL grows with it.
func TestISLGrowsWithTheConversation(t *testing.T) {
	payloads := []string{
		`{"messages":[{"role":"system","content":"s1 s2 s3"},{"role":"user","content":"u1 u2"}],"model":"m"}`,
		`{"messages":[{"role":"system","content":"s1 s2 s3"},{"role":"user","content":"u1 u2"},{"role":"assistant","content":"a1 a2 a3 a4"},{"role":"user","content":"v1"}],"model":"m"}`,
		`{"messages":[{"role":"system","content":"s1 s2 s3"},{"role":"user","content":"u1 u2"},{"role":"assistant","content":"a1 a2 a3 a4"},{"role":"user","content":"v1"},{"role":"assistant","content":"b1 b2"},{"role":"user","content":"w1 w2 w3"}],"model":"m"}`,
	}
	for i, wantISL := range []float64{5, 10, 15} {
		rec := streamRecord(1, 1, chunk{at: 10, text: "x"})
		rec.InputTokens, rec.Payload = -1, []byte(payloads[i])
		want(t, process(t, streamingChat, false, rec), map[int]float64{ISL: wantISL})
	}
}

// AIPerf's usage-difference and OSL-mismatch metrics
// (usage_diff_metrics.py, osl_mismatch_metrics.py) and their counters.
func TestUsageDiffAndOSLMismatch(t *testing.T) {
	usage := &record.Usage{PromptTokens: 8, CompletionTokens: 6, TotalTokens: 14, ReasoningTokens: -1,
		CachedTokens: -1, CacheWriteTokens: -1, FirstContentChunkTokens: -1}
	rec := streamRecord(1, 1, chunk{at: 10, text: "a b c"}, chunk{at: 20, text: " d e"}, chunk{at: 21, usage: usage})
	rec.RequestedOSL = 10
	v := process(t, streamingChat, false, rec)
	// Client: ISL 7 (streamRecord's dataset count), OSL 5.
	want(t, v, map[int]float64{
		UsagePromptDiff:     100.0 / 7, // |8 − 7| / 7
		UsageCompletionDiff: 20,        // |6 − 5| / 5
		UsageReasoningDiff:  nan,
		OSLMismatchDiff:     -50, // (5 − 10) / 10
	})
	th := DefaultThresholds()
	if !th.usageDiscrepancy(&v.V) || !th.oslMismatch(&v.b) {
		t.Error("a 14% prompt difference and 5 of 10 tokens must be counted")
	}
	// Server token counts: nothing to compare with.
	v = process(t, streamingChat, true, rec)
	want(t, v, map[int]float64{UsagePromptDiff: nan, UsageCompletionDiff: nan})
	// The OSL threshold is min(requested · 5%, 50 tokens): 1000 requested
	// allows 50, so 960 is no mismatch and 940 is one.
	b := emptyBase
	b.requested, b.out = 1000, 960
	if th.oslMismatch(&b) {
		t.Error("40 of 1000 tokens short is within min(50, 50)")
	}
	b.out = 940
	if !th.oslMismatch(&b) {
		t.Error("60 of 1000 tokens short exceeds 50")
	}
}

func TestResultWarnings(t *testing.T) {
	usage := &record.Usage{PromptTokens: 9, CompletionTokens: 3, TotalTokens: 12, ReasoningTokens: -1,
		CachedTokens: -1, CacheWriteTokens: -1, FirstContentChunkTokens: -1}
	var recs []*record.Record
	for k := int64(0); k < 4; k++ {
		r := req(sec+k*sec, 10*ms, 20*ms, 3)
		r.RequestedOSL = 3
		if k == 0 {
			r.RequestedOSL = 8 // the server stopped early
			r.AddUsage(r.EndNs-1, *usage)
		}
		recs = append(recs, r)
	}
	sum := run(t, benchCfg(t), Setup{}, openLoop(1), recs...)
	if got := metric(t, sum, "usage_discrepancy_count").Value; got != 1 {
		t.Errorf("usage_discrepancy_count = %v", got)
	}
	if got := metric(t, sum, "osl_mismatch_count").Value; got != 1 {
		t.Errorf("osl_mismatch_count = %v", got)
	}
	w := strings.Join(sum.Warnings, "\n")
	for _, want := range []string{"Token count discrepancy: 1 of 4 requests (25.0%) show a difference exceeding 10%",
		"Output sequence length mismatch: 1 of 4 requests (25.0%)", "min(requested × 5%, 50) tokens", "average mismatch -15.6%"} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings lack %q:\n%s", want, w)
		}
	}
	th, err := ThresholdsFromEnv(func(k string) string {
		return map[string]string{"AIPERF_METRICS_USAGE_PCT_DIFF_THRESHOLD": "30"}[k]
	})
	if err != nil || th.UsagePctDiff != 30 || th.OSLMismatchPct != 5 {
		t.Errorf("thresholds from env: %+v %v", th, err)
	}
	if _, err := ThresholdsFromEnv(func(string) string { return "lots" }); err == nil || !strings.Contains(err.Error(), "AIPERF_METRICS_USAGE_PCT_DIFF_THRESHOLD") {
		t.Errorf("bad env value: %v", err)
	}
}

// The HTTP trace metrics (AIPerf's http_trace_metrics.py, k6's names) from
// the transport's stamps.
func TestHTTPTraceMetrics(t *testing.T) {
	rec := streamRecord(1000, 1, chunk{at: 100, text: "a"}, chunk{at: 300, text: " b"})
	// Blocked 5, DNS 7, connect 11, TLS 13 (a new connection); the request
	// was written from 40 to 45; body bytes at 90 and 302; end at 301+1.
	rec.BlockedNs, rec.DNSNs, rec.ConnectNs, rec.TLSNs = 5, 7, 11, 13
	rec.SendStartNs, rec.SentNs, rec.FirstByteNs, rec.LastByteNs = 1040, 1045, 1090, 1300
	rec.BytesSent, rec.BytesReceived, rec.Chunks = 2048, 512, 3
	v := process(t, streamingChat, false, rec)
	want(t, v, map[int]float64{
		HTTPBlocked: 5, HTTPDNSLookup: 7, HTTPConnecting: 24, HTTPTLSHandshaking: 13,
		HTTPSending: 5, HTTPWaiting: 45, HTTPReceiving: 210, HTTPDuration: 301 - 40,
		HTTPTotal: 5 + 7 + 24 + 5 + 45 + 210, HTTPConnectionOverhead: 36, HTTPConnectionReused: 0,
		HTTPDataSent: 2048, HTTPDataReceived: 512, HTTPChunksReceived: 3,
	})
	// A reused connection: no DNS, connect or TLS.
	rec.DNSNs, rec.ConnectNs, rec.TLSNs = 0, 0, 0
	want(t, process(t, streamingChat, false, rec), map[int]float64{HTTPConnecting: 0, HTTPConnectionReused: 1, HTTPConnectionOverhead: 5})
	// A record no transport stamped has none.
	rec.SendStartNs = 0
	want(t, process(t, streamingChat, false, rec), map[int]float64{HTTPBlocked: nan, HTTPDuration: nan})
}

// AIPerf's effective and active family: two requests, A in flight
// [0, 100) ms with its first token at 20 ms, B [50, 150) ms with its first
// token at 60 ms; each 7 input and 40 output tokens. Concurrency is 1, 2,
// 1 over [0, 50), [50, 100), [100, 150): time-weighted 4/3.
func TestEffectiveAndActiveMetrics(t *testing.T) {
	a := req(sec, 20*ms, 100*ms, 40)
	b := req(sec+50*ms, 10*ms, 100*ms, 40)
	for _, r := range []*record.Record{a, b} {
		r.EndNs = r.StartNs + 100*ms // the response ends with its last token
	}
	sum := run(t, benchCfg(t), Setup{}, openLoop(20), a, b)
	conc := metric(t, sum, "effective_concurrency").Stats
	if !near(conc.Avg, 4.0/3) || conc.Max != 2 || conc.Min != 1 || conc.P50 != 1 || conc.P99 != 2 {
		t.Errorf("effective_concurrency %+v", conc)
	}
	// Decode: A 40 tokens over 80 ms = 500 tok/s on [20, 100); B 40 over
	// 90 ms = 444.44 tok/s on [60, 150). Over the 150 ms window:
	// (500·80 + 444.44·90) / 150 = 533.33 tok/s.
	dec := metric(t, sum, "effective_decode_throughput").Stats
	if !near(dec.Avg, (500*80+40.0/0.09*90)/150) {
		t.Errorf("effective_decode_throughput %+v", dec)
	}
	// Active: only while a request decodes ([20, 150), 130 ms).
	act := metric(t, sum, "active_decode_throughput").Stats
	if !near(act.Avg, (500*80+40.0/0.09*90)/130) {
		t.Errorf("active_decode_throughput %+v", act)
	}
	// Prefill: A 7 tokens in 20 ms = 350 tok/s on [0, 20); B 7 in 10 ms =
	// 700 tok/s on [50, 60): prefill concurrency is 1 for 30 of 150 ms.
	pre := metric(t, sum, "effective_prefill_concurrency").Stats
	if !near(pre.Avg, 30.0/150) {
		t.Errorf("effective_prefill_concurrency %+v", pre)
	}
	if ap := metric(t, sum, "active_prefill_throughput").Stats; !near(ap.Avg, (350*20+700*10)/30.0) {
		t.Errorf("active_prefill_throughput %+v", ap)
	}
}

// AIPerf's effective latency: end − credit issued (the credit queue wait
// included), and credit-to-start.
func TestEffectiveLatency(t *testing.T) {
	r := req(sec, 10*ms, 20*ms, 3)
	r.CreditNs = sec - 5*ms
	r.EndNs = sec + 20*ms
	sum := run(t, benchCfg(t), Setup{}, openLoop(1), r)
	if st := metric(t, sum, "effective_latency").Stats; !near(st.Avg, 25) {
		t.Errorf("effective_latency %+v", st)
	}
	if st := metric(t, sum, "credit_to_start_latency").Stats; !near(st.Avg, 5) {
		t.Errorf("credit_to_start_latency %+v", st)
	}
}

func TestSessionsCancelledAndWarmupMetrics(t *testing.T) {
	var recs []*record.Record
	for k := int64(0); k < 4; k++ {
		r := req(sec+k*sec, 10*ms, 20*ms, 3)
		r.NumTurns, r.TurnIndex = 2, int(k%2) // two two-turn conversations
		recs = append(recs, r)
	}
	w := req(sec/2, 30*ms, 40*ms, 3)
	w.Phase = record.Warmup
	c := req(5*sec, 10*ms, 20*ms, 3)
	c.Cancelled = true
	recs = append(recs, w, c)
	cfg := benchCfg(t)
	cfg.Warmup = &config.Warmup{Stop: config.Stop{Requests: 1}}
	cfg.Cancel = config.Cancellation{Percent: 10}
	sum := run(t, cfg, Setup{}, openLoop(1), recs...)
	if got := metric(t, sum, "session_count").Value; got != 2 {
		t.Errorf("session_count = %v", got)
	}
	// 2 sessions over the 3.02 s from the first start to the last end.
	if got := metric(t, sum, "session_throughput").Value; !near(got, 2/3.02*3600) {
		t.Errorf("session_throughput = %v sessions/hour", got)
	}
	if got := metric(t, sum, "cancelled_request_count").Value; got != 1 {
		t.Errorf("cancelled_request_count = %v", got)
	}
	var ttft *results.Metric
	for i := range sum.WarmupMetrics {
		if sum.WarmupMetrics[i].Tag == "time_to_first_token" {
			ttft = &sum.WarmupMetrics[i]
		}
	}
	if ttft == nil || ttft.Stats.Count != 1 || !near(ttft.Stats.Avg, 30) {
		t.Errorf("warmup TTFT %+v", ttft)
	}
	if st := metric(t, sum, "time_to_first_token").Stats; st.Count != 4 || !near(st.Avg, 10) {
		t.Errorf("profiling TTFT includes warmup: %+v", st)
	}
}

func TestErrorAdjustedHeaders(t *testing.T) {
	for _, a := range adjusted {
		if p := recordDefs[a.id]; a.def.Header != p.Header+" (error-adjusted)" || a.def.Tag != "adj_"+p.Tag {
			t.Errorf("%s: header %q", a.def.Tag, a.def.Header)
		}
	}
	var tags []string
	for _, a := range adjusted {
		tags = append(tags, a.def.Tag)
	}
	if got := strings.Join(tags, " "); got != "adj_time_to_first_token adj_request_latency adj_inter_token_latency adj_full_response_inter_token_latency adj_effective_latency" {
		t.Errorf("adjusted metrics: %s", got)
	}
}
