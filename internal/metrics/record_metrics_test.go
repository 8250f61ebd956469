package metrics

import (
	"testing"

	"github.com/loadstar/loadstar/engine/record"
)

func TestStreamingRecordMetrics(t *testing.T) {
	// Three content chunks of one word each, then a usage-only chunk that
	// must not move the latency (LATEST rule: last content response).
	rec := streamRecord(3_000_000, 5_000_000_000,
		chunk{at: 100, text: "Hello"},
		chunk{at: 150, text: " world"},
		chunk{at: 250, text: " again"},
		chunk{at: 300, usage: &record.Usage{PromptTokens: 9, CompletionTokens: 3, TotalTokens: 12, ReasoningTokens: -1, CachedTokens: 4, CacheWriteTokens: -1, FirstContentChunkTokens: -1}},
	)
	rec.ScheduledNs = 1_000_000 // sent 2 ms late
	v := process(t, streamingChat, false, rec)
	if !v.Valid {
		t.Fatalf("record invalid: %+v", rec.Error)
	}
	want(t, v, map[int]float64{
		TTFT:                100,
		TTST:                50,
		TTFO:                100,
		RequestLatency:      250,
		DecodeDuration:      150,
		OSL:                 3,
		OutputTokenCount:    3,
		ReasoningTokenCount: nan, // no reasoning text: absent, not 0
		ISL:                 7,   // the composer's count
		ITL:                 75,  // (250-100)/(3-1)
		OutputTPSPerUser:    1e9 / 75,
		E2EOutputTPS:        3 / 250e-9,
		PrefillTPSPerUser:   7 / 100e-9,
		UsagePrompt:         9,
		UsageCompletion:     3,
		UsageTotal:          12,
		UsageReasoning:      nan,
		UsageCacheRead:      4,
		UsageCacheWrite:     nan,
		IssueDelay:          2_000_000,
		ScheduledLatency:    2_000_250,
		ScheduledTTFT:       2_000_100,
		ErrorISL:            nan,
	})
	if len(v.ICL) != 2 || v.ICL[0] != 50 || v.ICL[1] != 100 {
		t.Errorf("ICL = %v, want [50 100]", v.ICL)
	}
}

func TestOneTokenOutput(t *testing.T) {
	v := process(t, streamingChat, false, streamRecord(1000, 1, chunk{at: 400, text: "Hi"}))
	want(t, v, map[int]float64{
		TTFT: 400, RequestLatency: 400, TTST: nan, OSL: 1, OutputTokenCount: 1,
		ITL: nan, OutputTPSPerUser: nan, DecodeDuration: 0, E2EOutputTPS: 1 / 400e-9,
	})
	if len(v.ICL) != 0 {
		t.Errorf("ICL = %v, want none", v.ICL)
	}
}

func TestEmptyAndUsageOnlyResponsesAreErrors(t *testing.T) {
	for name, rec := range map[string]*record.Record{
		"no responses": streamRecord(1000, 1),
		"usage only":   streamRecord(1000, 1, chunk{at: 50, usage: &record.Usage{PromptTokens: 1, CompletionTokens: 0, TotalTokens: 1, ReasoningTokens: -1, CachedTokens: -1, CacheWriteTokens: -1, FirstContentChunkTokens: -1}}),
	} {
		t.Run(name, func(t *testing.T) {
			v := process(t, streamingChat, false, rec)
			if v.Valid || rec.Error == nil || rec.Error.Type != record.ErrNoContent {
				t.Fatalf("valid=%v error=%+v, want %s", v.Valid, rec.Error, record.ErrNoContent)
			}
			want(t, v, map[int]float64{RequestLatency: nan, TTFT: nan, OSL: nan, ErrorISL: 7})
		})
	}
}

func TestEmptyTextPlaceholderCountsAsContent(t *testing.T) {
	rec := streamRecord(0, 1)
	rec.StartNs = 10
	rec.AddText(30, record.KindText, []byte("a b"), nil)
	rec.AddText(70, record.KindPlaceholder, nil, nil)
	rec.EndNs = 80
	v := process(t, streamingChat, false, rec)
	want(t, v, map[int]float64{TTFT: 20, RequestLatency: 60, OSL: 2, ITL: 40})
}

func TestCancelledRecordBecomes499(t *testing.T) {
	rec := streamRecord(1000, 1, chunk{at: 10, text: "x"})
	rec.Cancelled = true
	v := process(t, streamingChat, false, rec)
	if v.Valid || rec.Error.Code != record.CodeCancelled || rec.Error.Type != record.ErrCancelled {
		t.Fatalf("error = %+v", rec.Error)
	}
}

func TestReasoningTTFO(t *testing.T) {
	rec := streamRecord(0, 1,
		chunk{at: 10, reasoning: "think hard"},
		chunk{at: 30, reasoning: " more"},
		chunk{at: 60, text: "answer", reasoning: ""},
		chunk{at: 90, text: " done"},
	)
	rec.StartNs = 0 + 1 // keep start > 0
	v := process(t, streamingChat, false, rec)
	// Offsets are relative to the original start 0; start moved to 1.
	want(t, v, map[int]float64{
		TTFT:                9,
		TTFO:                59,
		OutputTokenCount:    2,
		ReasoningTokenCount: 3,
		OSL:                 5,
		ITL:                 (89.0 - 9) / 4,
	})
}

// ITL's divisor follows AIPerf's _decode_token_count
// (src/aiperf/metrics/types/inter_token_latency_metric.py): OSL − the first
// content chunk's tokens only when per-chunk usage was asked for and token
// counts are the server's; OSL − 1 otherwise. The record: first content at
// 100 ns, last at 700 ns, start 1 ns — a 600 ns decode window — and 5
// output tokens.
func TestPerChunkUsageDivisor(t *testing.T) {
	for _, tc := range []struct {
		name            string
		server, perChnk bool
		first           int64
		itl             float64
	}{
		{"per-chunk usage, bundled first chunk", true, true, 2, 600.0 / 3}, // 5 − 2
		{"per-chunk usage not asked for", true, false, 2, 600.0 / 4},       // usage volunteered: ignored
		{"client token counts", false, true, 2, 600.0 / 4},
		{"per-chunk usage, not reported", true, true, -1, 600.0 / 4},
		{"per-chunk usage, zero", true, true, 0, 600.0 / 4},
		{"per-chunk usage, inconsistent", true, true, 5, 600.0 / 4}, // OSL − first < 1 falls back to OSL − 1
	} {
		t.Run(tc.name, func(t *testing.T) {
			usage := record.Usage{PromptTokens: 7, CompletionTokens: 5, TotalTokens: 12, ReasoningTokens: -1,
				CachedTokens: -1, CacheWriteTokens: -1, FirstContentChunkTokens: tc.first}
			rec := streamRecord(0, 1, chunk{at: 100, text: "a b"}, chunk{at: 700, text: " c d e"}, chunk{at: 701, usage: &usage})
			rec.StartNs = 1 // TTFT 99, latency 699
			m := NewRecordMetrics(streamingChat, tc.server, words{}).WithPerChunkUsage(tc.perChnk)
			v := &Values{}
			if err := m.ProcessRecord(rec, v); err != nil {
				t.Fatal(err)
			}
			// The full-response ITL divides the same tokens into first token → end
			// of the response (702 − 100 ns).
			want(t, v, map[int]float64{OSL: 5, ITL: tc.itl, FullITL: 602 * tc.itl / 600, FullDecodeDuration: 602})
		})
	}
}

func TestServerTokenCounts(t *testing.T) {
	u := func(prompt, completion, reasoning int64) *record.Usage {
		return &record.Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: -1,
			ReasoningTokens: reasoning, CachedTokens: -1, CacheWriteTokens: -1, FirstContentChunkTokens: -1}
	}
	t.Run("completion minus reasoning", func(t *testing.T) {
		rec := streamRecord(1, 1, chunk{at: 10, text: "one two three"}, chunk{at: 20, usage: u(11, 10, 4)})
		v := process(t, streamingChat, true, rec)
		want(t, v, map[int]float64{ISL: 11, OutputTokenCount: 6, ReasoningTokenCount: 4, OSL: 10})
	})
	t.Run("clamped", func(t *testing.T) {
		rec := streamRecord(1, 1, chunk{at: 10, text: "x"}, chunk{at: 20, usage: u(5, 3, 5)})
		v := process(t, streamingChat, true, rec)
		want(t, v, map[int]float64{OutputTokenCount: nan, ReasoningTokenCount: 5, OSL: 5})
		if !v.UsageClamped {
			t.Error("clamp not reported")
		}
	})
	t.Run("no usage", func(t *testing.T) {
		rec := streamRecord(1, 1, chunk{at: 10, text: "x y"})
		v := process(t, streamingChat, true, rec)
		want(t, v, map[int]float64{ISL: nan, OSL: nan, ITL: nan, RequestLatency: 10})
		if !v.UsageMissing {
			t.Error("missing usage not reported")
		}
	})
}

func TestNonStreamingDropsStreamingMetrics(t *testing.T) {
	app := Applicability{ProducesTokens: true, TokenizesInput: true}
	rec := streamRecord(1000, 1, chunk{at: 500, text: "four words right here"})
	v := process(t, app, false, rec)
	want(t, v, map[int]float64{
		RequestLatency: 500, OSL: 4, ISL: 7, E2EOutputTPS: 4 / 500e-9,
		TTFT: nan, TTST: nan, TTFO: nan, ITL: nan, OutputTPSPerUser: nan, PrefillTPSPerUser: nan, DecodeDuration: nan,
		ScheduledTTFT: nan,
	})
	if len(v.ICL) != 0 {
		t.Error("ICL computed without streaming")
	}
}

func TestEmbeddingsComputeNoTokenMetrics(t *testing.T) {
	app := Applicability{TokenizesInput: true}
	rec := record.New()
	rec.StartNs, rec.EndNs, rec.StartWallNs = 10, 100, 1
	rec.AddItems(90, record.KindEmbeddings, 3)
	rec.Payload = []byte(`{"input":["one two","three"],"model":"m"}`)
	v := process(t, app, false, rec)
	want(t, v, map[int]float64{RequestLatency: 80, ISL: 3, OSL: nan, E2EOutputTPS: nan})
}

func TestISLFromPayloadWhenComposerDidNotKnow(t *testing.T) {
	rec := streamRecord(1, 1, chunk{at: 10, text: "x"})
	rec.InputTokens = -1
	rec.Payload = []byte(`{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"what is up"},{"type":"image_url","image_url":{"url":"data:x"}}]}],"model":"m"}`)
	v := process(t, streamingChat, false, rec)
	want(t, v, map[int]float64{ISL: 5})
}

// One RecordMetrics counts many records: answers and payloads that come
// again are counted from its caches, and every record still gets its own
// text's counts (payloads that differ in one byte, an answer that is a
// payload's text, a payload without text).
func TestRepeatedTextsKeepTheirCounts(t *testing.T) {
	m := NewRecordMetrics(streamingChat, false, words{})
	payload := func(user string) string {
		return `{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"` + user + `"}],"model":"m"}`
	}
	cases := []struct {
		answer, payload string
		osl, isl        float64
	}{
		{"one two three", payload("a b"), 3, 4},
		{"one two three four", payload("a b c"), 4, 5},
		{"be brief a b", payload("a  b"), 4, 4},
		{"x", `{"model":"m"}`, 1, nan},
		{"x y", `{"prompt":[1,2,3],"model":"m"}`, 2, 3},
	}
	for round := range 4 {
		for i, c := range cases {
			rec := streamRecord(1, 1, chunk{at: 10, text: c.answer})
			rec.InputTokens, rec.Payload = -1, []byte(c.payload)
			v := &Values{}
			if err := m.ProcessRecord(rec, v); err != nil {
				t.Fatal(err)
			}
			if !near(v.V[OSL], c.osl) || !near(v.V[ISL], c.isl) {
				t.Errorf("round %d case %d: OSL %v ISL %v, want %v %v", round, i, v.V[OSL], v.V[ISL], c.osl, c.isl)
			}
		}
	}
}
