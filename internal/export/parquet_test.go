package export

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
)

// everyColumnRows are records that between them set and leave unset every
// column: a streamed record with every field set, one without metadata or
// inter-chunk latencies, failures with and without a code, a warm-up
// record, a NaN and a -0 among the latencies.
func everyColumnRows() []*results.RecordRow {
	full := benchRow()
	full.Rec.TurnIndex, full.Rec.URLIndex, full.Rec.Chunks = 2, 1, 64
	full.Rec.ConnReused, full.Rec.BytesSent, full.Rec.BytesReceived = true, 512, 9000
	bare := record.New()
	bare.SessionNum, bare.StartNs, bare.StartWallNs, bare.EndNs, bare.Status = 1, 10, 1_700_000_000_000_000_010, 20, 200
	failed := record.New()
	failed.SessionNum, failed.StartNs, failed.StartWallNs, failed.EndNs, failed.Status = 2, 30, 1_700_000_000_000_000_030, 40, 429
	failed.SetError(429, "RateLimitError", "Too many requests")
	refused := record.New()
	refused.SessionNum, refused.StartNs, refused.StartWallNs, refused.EndNs, refused.Cancelled = 3, 50, 1_700_000_000_000_000_050, 60, true
	refused.SetError(0, record.ErrConnect, "")
	warm := record.New()
	warm.SessionNum, warm.Phase, warm.StartNs, warm.StartWallNs, warm.EndNs = 4, record.Warmup, 70, 1_700_000_000_000_000_070, 80
	return []*results.RecordRow{
		full,
		{Rec: bare, Metrics: []results.MetricValue{{Tag: "request_latency", Value: 1e-5}, {Tag: "output_sequence_length", Value: 1, Integer: true}}},
		{Rec: failed, Metrics: []results.MetricValue{{Tag: "request_latency", Value: 0.5}}},
		{Rec: refused, ICL: []float64{math.NaN(), math.Copysign(0, -1), 2}},
		{Rec: warm, ICL: []float64{7}},
	}
}

// wantColumns is what each column of row should read back as: nil for a
// null, int64, float64, bool or string, and for inter_chunk_latency the
// list ([]float64, nil when empty).
func wantColumns(row *results.RecordRow, schema *results.RecordSchema) map[string]any {
	r := row.Rec
	opt := func(v int64) any {
		if v == 0 {
			return nil
		}
		return v
	}
	optStr := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	want := map[string]any{
		"session_num": int64(r.SessionNum), "x_request_id": optStr(r.XRequestID),
		"x_correlation_id": optStr(r.XCorrelationID), "conversation_id": optStr(r.ConversationID),
		"turn_index": int64(r.TurnIndex), "benchmark_phase": r.Phase.String(),
		"scheduled_ns": opt(row.Wall(r.ScheduledNs)), "credit_issued_ns": opt(row.Wall(r.CreditNs)),
		"request_start_ns": r.StartWallNs, "request_ack_ns": opt(row.Wall(r.HeadersNs)),
		"request_end_ns": row.Wall(r.EndNs), "url_index": int64(r.URLIndex), "status": opt(int64(r.Status)),
		"conn_reused": r.ConnReused, "bytes_sent": r.BytesSent, "bytes_received": r.BytesReceived,
		"chunks": int64(r.Chunks), "was_cancelled": r.Cancelled,
		"error_code": nil, "error_type": nil, "error_message": nil,
	}
	if e := r.Error; e != nil {
		want["error_code"], want["error_type"], want["error_message"] = opt(int64(e.Code)), optStr(e.Type), e.Message
	}
	for _, c := range schema.Metrics {
		want[c.Tag] = nil
		for _, m := range row.Metrics {
			if m.Tag == c.Tag && c.Integer {
				want[c.Tag] = int64(m.Value)
			} else if m.Tag == c.Tag {
				want[c.Tag] = m.Value
			}
		}
	}
	if schema.ICL {
		var icl []float64
		if len(row.ICL) > 0 {
			icl = row.ICL
		}
		want["inter_chunk_latency"] = icl
	}
	return want
}

// readParquetColumns decodes the file at path with parquet-go into one map
// per row, in wantColumns' form.
func readParquetColumns(t *testing.T, path string) (*parquet.File, []map[string]any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	names := pf.Schema().Columns()
	rows := make([]parquet.Row, pf.NumRows())
	r := parquet.NewReader(pf)
	if n, err := r.ReadRows(rows); int64(n) != pf.NumRows() || (err != nil && err != io.EOF) {
		t.Fatalf("read %d of %d rows: %v", n, pf.NumRows(), err)
	}
	out := make([]map[string]any, len(rows))
	for i, row := range rows {
		got := map[string]any{}
		for _, v := range row {
			name := names[v.Column()][0]
			if name == "inter_chunk_latency" {
				icl, _ := got[name].([]float64)
				if !v.IsNull() {
					icl = append(icl, v.Double())
				}
				got[name] = icl
				continue
			}
			switch {
			case v.IsNull():
				got[name] = nil
			case v.Kind() == parquet.Int64 || v.Kind() == parquet.Int32:
				got[name] = v.Int64()
			case v.Kind() == parquet.Double:
				got[name] = v.Double()
			case v.Kind() == parquet.Boolean:
				got[name] = v.Boolean()
			default:
				got[name] = string(v.ByteArray())
			}
		}
		out[i] = got
	}
	return pf, out
}

// Every column of every row reads back as the record has it: values,
// nulls, the repeated latencies (empty as a null list), NaN and -0.
func TestParquetEveryColumn(t *testing.T) {
	rows := everyColumnRows()
	schema := benchSchema(rows[0])
	tg := &Target{Dir: t.TempDir()}
	e := &Parquet{}
	if err := e.Begin(tg, schema); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := e.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	path, err := e.Export(context.Background(), tg, &results.Summary{})
	if err != nil {
		t.Fatal(err)
	}
	pf, got := readParquetColumns(t, path)
	if len(got) != len(rows) {
		t.Fatalf("%d rows, want %d", len(got), len(rows))
	}
	if n := len(pf.Schema().Columns()); n != len(parquetMeta)+len(schema.Metrics)+1 {
		t.Errorf("%d columns", n)
	}
	for i, row := range rows {
		want := wantColumns(row, schema)
		if len(got[i]) != len(want) {
			t.Errorf("row %d: %d columns, want %d", i, len(got[i]), len(want))
		}
		for name, w := range want {
			g := got[i][name]
			if fmt.Sprintf("%#v", g) != fmt.Sprintf("%#v", w) || !sameFloats(g, w) {
				t.Errorf("row %d %s = %#v, want %#v", i, name, g, w)
			}
		}
	}
}

// sameFloats compares latency lists bit for bit (NaN and -0 included).
func sameFloats(a, b any) bool {
	x, ok := a.([]float64)
	y, _ := b.([]float64)
	if !ok {
		return reflect.DeepEqual(a, b) || fmt.Sprint(a) == fmt.Sprint(b)
	}
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
			return false
		}
	}
	return true
}

// Column chunk statistics hold each column's min, max and null count
// (floating point: NaN left out, a zero minimum written as -0), and a row
// group cut into several pages reads back whole.
func TestParquetStatistics(t *testing.T) {
	rows := everyColumnRows()
	schema := benchSchema(rows[0])
	tg := &Target{Dir: t.TempDir()}
	e := &Parquet{}
	if err := e.Begin(tg, schema); err != nil {
		t.Fatal(err)
	}
	n := parquetBatch*2 + 5 // three pages in one row group
	for i := 0; i < n; i++ {
		if err := e.WriteRecord(rows[i%len(rows)]); err != nil {
			t.Fatal(err)
		}
	}
	path, err := e.Export(context.Background(), tg, &results.Summary{})
	if err != nil {
		t.Fatal(err)
	}
	pf, got := readParquetColumns(t, path)
	if len(got) != n || len(pf.RowGroups()) != 1 {
		t.Fatalf("%d rows in %d row groups", len(got), len(pf.RowGroups()))
	}
	for i := range got {
		if got[i]["session_num"] != int64(rows[i%len(rows)].Rec.SessionNum) {
			t.Fatalf("row %d: session_num %v", i, got[i]["session_num"])
		}
	}
	i64 := func(v int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }
	f64 := func(v float64) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)) }
	i32 := func(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
	perRows := int64(n / len(rows)) // each of the 5 rows repeats at least this often
	for _, c := range []struct {
		name     string
		min, max []byte
		nulls    int64 // at least
	}{
		{"session_num", i64(1), i64(17), 0},
		{"status", i32(200), i32(429), 2 * perRows},
		{"x_request_id", []byte(rows[0].Rec.XRequestID), []byte(rows[0].Rec.XRequestID), 4 * perRows},
		{"benchmark_phase", []byte("profiling"), []byte("warmup"), 0},
		{"was_cancelled", []byte{0}, []byte{1}, 0},
		{"request_latency", f64(1e-5), f64(349), 2 * perRows},
		{"inter_chunk_latency", f64(math.Copysign(0, -1)), f64(7), 2 * perRows},
	} {
		md := columnChunk(t, pf, c.name)
		st := md.Statistics
		if !bytes.Equal(st.MinValue, c.min) || !bytes.Equal(st.MaxValue, c.max) || st.NullCount < c.nulls {
			t.Errorf("%s statistics min %v max %v nulls %d, want %v %v ≥%d", c.name, st.MinValue, st.MaxValue, st.NullCount, c.min, c.max, c.nulls)
		}
	}
	if md := columnChunk(t, pf, "request_latency"); md.Statistics.MinValue == nil || md.EncodingStats[0].Count != 3 {
		t.Errorf("request_latency: %d pages, want 3", md.EncodingStats[0].Count)
	}
}

// columnChunk is the metadata of the first row group's chunk of column name.
func columnChunk(t *testing.T, pf *parquet.File, name string) *format.ColumnMetaData {
	t.Helper()
	for i, path := range pf.Schema().Columns() {
		if strings.Join(path, ".") == name {
			return &pf.Metadata().RowGroups[0].Columns[i].MetaData
		}
	}
	t.Fatalf("no column %s", name)
	return nil
}
