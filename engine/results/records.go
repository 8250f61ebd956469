package results

import "github.com/loadstar/loadstar/engine/record"

// RecordRow is one finished request with its metrics, as per-request
// outputs (profile_export.jsonl, Parquet, ...) receive it while a step
// runs. Rec and the slices are valid only during the call that receives
// the row: the engine reuses them.
type RecordRow struct {
	Rec *record.Record
	// Metrics are the record's present metrics in display units.
	Metrics []MetricValue
	// ICL are the inter-chunk latencies in display units (nil when none).
	ICL []float64
}

// Wall converts a monotonic timestamp of the row's record to wall-clock
// Unix ns (0 for 0).
func (r *RecordRow) Wall(mono int64) int64 {
	if mono == 0 {
		return 0
	}
	return r.Rec.StartWallNs + (mono - r.Rec.StartNs)
}

// MetricValue is one per-record metric value in its display unit.
type MetricValue struct {
	Tag, Unit string
	Value     float64
	Integer   bool
	// Own marks loadstar's own metrics (issue delay, latencies from the
	// schedule), which AIPerf does not define: exporters keep them apart
	// from AIPerf's so their names cannot collide.
	Own bool
}

// RecordSchema lists the per-record metrics a step can produce, for
// outputs with a fixed schema (Parquet).
type RecordSchema struct {
	Metrics []Column
	// ICL is true when records carry inter-chunk latencies.
	ICL bool
	// ICLUnit is the display unit of the inter-chunk latencies.
	ICLUnit string
}

// Column is one per-record metric of a RecordSchema.
type Column struct {
	Tag, Unit string
	Integer   bool
	// Own marks loadstar's own metrics (see MetricValue.Own).
	Own bool
}
