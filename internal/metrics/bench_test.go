package metrics

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/tokenizer"
)

// benchRecord is a typical streamed chat answer: 64 content chunks of one
// word, a usage chunk, a scheduled start.
func benchRecord(i int64, r *record.Record) *record.Record {
	if r == nil {
		r = record.New()
	} else {
		r.Reset()
	}
	start := 1_000_000_000 + i*1_000_000
	r.StartNs, r.StartWallNs, r.ScheduledNs, r.CreditNs = start, 1_700_000_000_000_000_000+start, start-10_000, start-10_000
	r.XRequestID, r.XCorrelationID, r.ConversationID = "0b8d5a4e-3f0c-4c52-9e43-1d1f3a6e7b21", "6a1c2f8e-0d9b-4f3e-8a7c-5b4e3d2c1f0a", "conv-0001"
	r.Status, r.InputTokens, r.Streamed = 200, 128, true
	t := start + 30_000_000 + i%7*1_000_000
	for k := 0; k < 64; k++ {
		r.AddText(t, record.KindText, []byte(" word"), nil)
		t += 5_000_000 + int64(k%3)*100_000
	}
	r.AddUsage(t, record.Usage{PromptTokens: 128, CompletionTokens: 64, TotalTokens: 192, ReasoningTokens: -1, CachedTokens: -1, CacheWriteTokens: -1, FirstContentChunkTokens: -1})
	r.EndNs = t + 1
	return r
}

func benchPipeline(b *testing.B, sinks []RecordSink) {
	cfg := config.Defaults()
	pool := make(chan *record.Record, 4096)
	p, err := NewPipeline(&cfg, nil, Setup{Endpoint: chatMeta, EndpointType: "chat", Streaming: true, Tokenizer: words{},
		Sinks: sinks,
		Release: func(r *record.Record) {
			select {
			case pool <- r:
			default:
			}
		}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var r *record.Record
		select {
		case r = <-pool:
		default:
		}
		p.Add(benchRecord(int64(i), r))
	}
	if _, err := p.Finish(context.Background(), results.RunInfo{}); err != nil {
		b.Fatal(err)
	}
}

// discard is a record sink that only reads the row.
type discard struct{ n int }

func (d *discard) WriteRecord(row *results.RecordRow) { d.n += len(row.Metrics) }

// BenchmarkPipeline measures records/s through the whole pipeline (record
// metrics with client tokenization, results folding, final statistics),
// without and with a record sink (the per-record rows handed to outputs;
// internal/outputs' BenchmarkArtifacts adds the JSONL and Parquet files).
//
//	go test ./internal/metrics -run '^$' -bench Pipeline -benchtime 200000x
func BenchmarkPipeline(b *testing.B) {
	b.Run("summary", func(b *testing.B) { benchPipeline(b, nil) })
	b.Run("sink", func(b *testing.B) { benchPipeline(b, []RecordSink{&discard{}}) })
}

// BenchmarkRetainedPerRecord reports the heap kept per processed record
// once records are released: the stored columns and histograms that the
// final exact statistics need (streaming chat with usage).
//
//	go test ./internal/metrics -run '^$' -bench RetainedPerRecord -benchtime 1000000x
func BenchmarkRetainedPerRecord(b *testing.B) {
	m := NewMetricResults(streamingChat, nil, 0, 0)
	rm := NewRecordMetrics(streamingChat, false, words{})
	var v Values
	r := benchRecord(0, nil)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchRecord(int64(i), r)
		_ = rm.ProcessRecord(r, &v)
		_ = m.ProcessResult(r, &v)
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc))/float64(b.N), "B/record")
	runtime.KeepAlive(m)
}

// BenchmarkSummarize measures the end-of-run statistics over stored rows.
func BenchmarkSummarize(b *testing.B) {
	const n = 200_000
	m := NewMetricResults(streamingChat, nil, 0, 0)
	rm := NewRecordMetrics(streamingChat, false, words{})
	var v Values
	r := benchRecord(0, nil)
	for i := 0; i < n; i++ {
		benchRecord(int64(i), r)
		_ = rm.ProcessRecord(r, &v)
		_ = m.ProcessResult(r, &v)
	}
	b.ReportAllocs() // B/op: the garbage the end of a run makes
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var s results.Summary
		_ = m.Summarize(context.Background(), &s)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
}

// BenchmarkPipelineO200k is BenchmarkPipeline/summary with the real
// built-in tokenizer counting every answer (64 tokens) client-side.
func BenchmarkPipelineO200k(b *testing.B) {
	tok, err := tokenizer.Builtin("o200k_base")
	if err != nil {
		b.Skip(err)
	}
	cfg := config.Defaults()
	p, err := NewPipeline(&cfg, nil, Setup{Endpoint: chatMeta, EndpointType: "chat", Streaming: true, Tokenizer: tok})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Add(benchRecord(int64(i), nil))
	}
	if _, err := p.Finish(context.Background(), results.RunInfo{}); err != nil {
		b.Fatal(err)
	}
}

// mockWords are the words of a loadstar mock answer; stageRecord strings
// 16 of them into a record as the mock sends them: one chunk per token when
// streamed, one body otherwise.
var mockWords = []string{" map", " son", " remain", " time", " shirt", " president", " window", " money",
	" want", " wood", " time.", " happy", " bed", " window", " stop", " music"}

var mockText = []byte(strings.Join(mockWords, ""))

func stageRecord(i int64, r *record.Record, streamed bool) *record.Record {
	return stageRecordText(i, r, streamed, mockText)
}

// stageRecordText is stageRecord with answer as the non-streamed body.
func stageRecordText(i int64, r *record.Record, streamed bool, answer []byte) *record.Record {
	r.Reset()
	start := 1_000_000_000 + i*100_000
	r.StartNs, r.StartWallNs, r.ScheduledNs, r.CreditNs = start, 1_700_000_000_000_000_000+start, start-10_000, start-10_000
	r.SendStartNs, r.SentNs, r.HeadersNs = start+1_000, start+3_000, start+40_000
	r.XRequestID, r.XCorrelationID, r.ConversationID = "0b8d5a4e-3f0c-4c52-9e43-1d1f3a6e7b21", "6a1c2f8e-0d9b-4f3e-8a7c-5b4e3d2c1f0a", "session_7"
	r.Status, r.InputTokens, r.RequestedOSL, r.Streamed = 200, 16, 16, streamed
	r.BytesSent, r.BytesReceived, r.Chunks = 500, 650, 1
	t := start + 40_000
	if streamed {
		for k, w := range mockWords {
			r.AddText(t, record.KindText, []byte(w), nil)
			t += 2_000 + int64(k%3)*100
		}
		r.Chunks = int32(len(mockWords) + 2)
	} else {
		r.AddText(t, record.KindText, answer, nil)
	}
	r.AddUsage(t, record.Usage{PromptTokens: 16, CompletionTokens: 16, TotalTokens: 32, ReasoningTokens: 0, CachedTokens: 0, CacheWriteTokens: -1, FirstContentChunkTokens: -1})
	r.EndNs = t + 1_000
	return r
}

// stageTexts returns n different 16-word answers drawn from mockWords (a
// fixed sequence: the benchmark counts the same texts in every run).
func stageTexts(n int) [][]byte {
	texts := make([][]byte, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range texts {
		var t []byte
		for range 16 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			t = append(t, mockWords[x%uint64(len(mockWords))]...)
		}
		// The index makes every text different whatever the draws.
		texts[i] = strconv.AppendInt(append(t, " #"...), int64(i), 10)
	}
	return texts
}

// stagePayloads returns n chat payloads of a system prompt and one user
// message each: their ISL is counted from the payload (the dataset could
// not count it: the payload holds more than the turn's text).
func stagePayloads(n int) [][]byte {
	texts := stageTexts(n)
	payloads := make([][]byte, n)
	for i, t := range texts {
		payloads[i] = fmt.Appendf(nil, `{"model":"mock-model","messages":[{"role":"system","content":"You are a helpful assistant. Answer briefly."},{"role":"user","content":%q}],"max_tokens":16,"stream":false}`, t)
	}
	return payloads
}

// BenchmarkStageRecord is the record stage alone: one 16-token answer's
// record metrics, its output counted client-side with the built-in o200k
// tokenizer (the default), per record. chat and stream count the same
// answer every time; chat-repeat one of 100 answers in turn (a 100-prompt
// dataset against a deterministic server); chat-unique a different answer
// every time (drawn from 65,536); chat-isl adds the input tokens counted
// from the payload (a system prompt and the user's text, 100 payloads in
// turn).
//
//	go test ./internal/metrics -run '^$' -bench 'Stage' -benchmem
func BenchmarkStageRecord(b *testing.B) {
	tok, err := tokenizer.Builtin("o200k_base")
	if err != nil {
		b.Skip(err)
	}
	repeat, unique, payloads := stageTexts(100), stageTexts(1<<16), stagePayloads(100)
	for _, c := range []struct {
		name     string
		streamed bool
		texts    [][]byte
		payloads [][]byte
	}{
		{"chat", false, [][]byte{mockText}, nil},
		{"stream", true, [][]byte{mockText}, nil},
		{"chat-repeat", false, repeat, nil},
		{"chat-unique", false, unique, nil},
		{"chat-isl", false, repeat, payloads},
	} {
		b.Run(c.name, func(b *testing.B) {
			app := Applicability{Streaming: c.streamed, ProducesTokens: true, TokenizesInput: true}
			rm := NewRecordMetrics(app, false, tok)
			r := record.New()
			var v Values
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				stageRecordText(int64(i), r, c.streamed, c.texts[i%len(c.texts)])
				if c.payloads != nil {
					r.InputTokens, r.Payload = -1, c.payloads[i%len(c.payloads)]
				}
				_ = rm.ProcessRecord(r, &v)
			}
		})
	}
}

// BenchmarkStageFold is the summarise stage during the run: folding one
// processed record into the results (counters, histograms, stored
// columns); BenchmarkSummarize is its end-of-run part per stored row.
func BenchmarkStageFold(b *testing.B) {
	for _, streamed := range []bool{false, true} {
		b.Run(map[bool]string{false: "chat", true: "stream"}[streamed], func(b *testing.B) {
			app := Applicability{Streaming: streamed, ProducesTokens: true, TokenizesInput: true}
			rm := NewRecordMetrics(app, false, words{})
			m := NewMetricResults(app, nil, 0, 0)
			r := record.New()
			var v Values
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				stageRecord(int64(i), r, streamed)
				_ = rm.ProcessRecord(r, &v)
				_ = m.ProcessResult(r, &v)
			}
		})
	}
}
