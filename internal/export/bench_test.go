package export

import (
	"context"
	"testing"

	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
)

// benchRow is a typical streamed chat record as the metrics pipeline hands
// it to the record exporters: the present metrics in display units and 63
// inter-chunk latencies.
func benchRow() *results.RecordRow {
	r := record.New()
	r.SessionNum, r.XRequestID, r.XCorrelationID, r.ConversationID = 17, "0b8d5a4e-3f0c-4c52-9e43-1d1f3a6e7b21", "6a1c2f8e-0d9b-4f3e-8a7c-5b4e3d2c1f0a", "conv-0001"
	r.StartNs, r.StartWallNs, r.CreditNs, r.ScheduledNs, r.HeadersNs, r.SentNs, r.EndNs = 1_000_000, 1_700_000_000_000_000_000, 990_000, 990_000, 1_200_000, 1_010_000, 350_000_000
	r.Status = 200
	row := &results.RecordRow{Rec: r}
	for _, m := range []struct {
		tag, unit string
		v         float64
		integer   bool
	}{
		{"time_to_first_token", "ms", 30.125, false}, {"time_to_second_token", "ms", 5.0625, false},
		{"request_latency", "ms", 349.0, false}, {"inter_token_latency", "ms", 5.0317, false},
		{"output_token_throughput_per_user", "tokens/sec/user", 198.73, false},
		{"e2e_output_token_throughput", "tokens/sec/user", 183.38, false},
		{"output_sequence_length", "tokens", 64, true}, {"input_sequence_length", "tokens", 128, true},
		{"output_token_count", "tokens", 64, true}, {"decode_duration", "ms", 318.875, false},
		{"usage_prompt_tokens", "tokens", 128, true}, {"usage_completion_tokens", "tokens", 64, true},
		{"usage_total_tokens", "tokens", 192, true}, {"issue_delay", "ms", 0.01, false},
	} {
		row.Metrics = append(row.Metrics, results.MetricValue{Tag: m.tag, Unit: m.unit, Value: m.v, Integer: m.integer})
	}
	for i := 0; i < 63; i++ {
		row.ICL = append(row.ICL, 5+float64(i%3)*0.1)
	}
	return row
}

// benchSchema is the record schema of benchRow's metrics.
func benchSchema(row *results.RecordRow) *results.RecordSchema {
	s := &results.RecordSchema{ICL: true, ICLUnit: "ms"}
	for _, m := range row.Metrics {
		s.Metrics = append(s.Metrics, results.Column{Tag: m.Tag, Unit: m.Unit, Integer: m.Integer, Own: m.Own})
	}
	return s
}

// BenchmarkJSONLWriteRecord measures one profile_export.jsonl line: the
// per-record cost of the default record export (the export stage; one op
// is one record): a streamed record with 63 inter-chunk latencies, and a
// non-streaming one (the same metrics, no latencies).
//
//	go test ./internal/export -run '^$' -bench 'WriteRecord' -benchmem
func BenchmarkJSONLWriteRecord(b *testing.B) {
	benchRecordExporter(b, func() RecordExporter { return &JSONL{} })
}

// BenchmarkParquetWriteRecord measures one profile_export.parquet row,
// row groups and the footer included.
func BenchmarkParquetWriteRecord(b *testing.B) {
	benchRecordExporter(b, func() RecordExporter { return &Parquet{} })
}

func benchRecordExporter(b *testing.B, newExporter func() RecordExporter) {
	for _, streamed := range []bool{true, false} {
		b.Run(map[bool]string{true: "stream", false: "chat"}[streamed], func(b *testing.B) {
			e := newExporter()
			t := &Target{Dir: b.TempDir()}
			row := benchRow()
			schema := benchSchema(row)
			if !streamed {
				row.ICL, schema.ICL = nil, false
			}
			if err := e.Begin(t, schema); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := e.WriteRecord(row); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := e.Export(context.Background(), t, &results.Summary{}); err != nil {
				b.Fatal(err)
			}
		})
	}
}
