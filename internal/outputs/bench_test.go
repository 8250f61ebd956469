package outputs

import (
	"context"
	"testing"

	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/metrics"
)

// benchRecord is a typical streamed chat answer: 64 content chunks of one
// word, a usage chunk, a scheduled start (as internal/metrics' benchmark).
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

// BenchmarkArtifacts measures records/s through the metrics pipeline into
// the artifacts: only the summary files, and with the per-record JSONL and
// Parquet streams (the default export level).
//
//	go test ./internal/outputs -run '^$' -bench Artifacts -benchtime 200000x
func BenchmarkArtifacts(b *testing.B) {
	b.Run("summary", func(b *testing.B) { benchArtifacts(b, []string{"json", "csv"}) })
	b.Run("jsonl+parquet", func(b *testing.B) { benchArtifacts(b, []string{"json", "csv", "jsonl", "parquet"}) })
}

func benchArtifacts(b *testing.B, exporters []string) {
	cfg := benchCfg(b)
	cfg.Output.Exporters = exporters
	app := metrics.ApplicabilityOf(chatMeta, true)
	art, err := openArtifacts(cfg, cfg.Output.ArtifactDir, metrics.Schema(app), discardLog())
	if err != nil {
		b.Fatal(err)
	}
	pool := make(chan *record.Record, 4096)
	p, err := metrics.NewPipeline(cfg, nil, metrics.Setup{Endpoint: chatMeta, EndpointType: "chat", Streaming: true,
		Tokenizer: words{}, Sinks: art.sinks(),
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
	sum, err := p.Finish(context.Background(), results.RunInfo{})
	if err != nil {
		b.Fatal(err)
	}
	if err := art.finish(context.Background(), sum); err != nil {
		b.Fatal(err)
	}
}
