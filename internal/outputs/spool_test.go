package outputs

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/export"
)

// notSpooled are the fields of record.Record a Spoolable exporter never
// reads, so the spool leaves them out.
var notSpooled = map[string]bool{"Responses": true, "Output": true, "Reasoning": true, "Payload": true}

// fullRecord sets every field of a record but notSpooled to a distinct
// non-zero value, whatever fields record.Record gains later.
func fullRecord(t *testing.T) *record.Record {
	t.Helper()
	r := record.New()
	var set func(v reflect.Value, name string)
	n := int64(1)
	set = func(v reflect.Value, name string) {
		n++
		switch v.Kind() {
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			v.SetInt(n * 1_000_003 % 127)
			if v.Type().Bits() == 64 {
				v.SetInt(n*1_700_000_000_000 + n)
			}
		case reflect.Uint8:
			v.SetUint(1)
		case reflect.String:
			v.SetString(fmt.Sprintf("%s-%d \"é\"\n", name, n))
		case reflect.Struct:
			for i := range v.NumField() {
				set(v.Field(i), name+"."+v.Type().Field(i).Name)
			}
		case reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
			set(v.Elem(), name)
		default:
			t.Fatalf("record.Record.%s (%s) is new: spool it in spool.encode and decode, or list it in notSpooled "+
				"if no Spoolable exporter reads it", name, v.Type())
		}
	}
	rv := reflect.ValueOf(r).Elem()
	for i := range rv.NumField() {
		if f := rv.Type().Field(i); !notSpooled[f.Name] {
			set(rv.Field(i), f.Name)
		}
	}
	return r
}

var spoolSchema = results.RecordSchema{Metrics: []results.Column{
	{Tag: "request_latency", Unit: "ms"}, {Tag: "output_sequence_length", Unit: "tokens", Integer: true},
	{Tag: "issue_delay", Unit: "ms", Own: true}}, ICL: true, ICLUnit: "ms"}

// Every scalar field of a record, its metrics (one outside the schema
// too) and its inter-chunk latencies come back from the spool as they
// went in, in order.
func TestSpoolKeepsEveryScalarField(t *testing.T) {
	sp, err := openSpool(t.TempDir(), &spoolSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	full := fullRecord(t)
	rows := []results.RecordRow{
		{Rec: full, Metrics: []results.MetricValue{
			{Tag: "request_latency", Unit: "ms", Value: 12.345678901234},
			{Tag: "not_in_schema", Unit: "s", Value: math.Inf(1), Integer: true, Own: true},
			{Tag: "output_sequence_length", Unit: "tokens", Value: 16, Integer: true},
			{Tag: "issue_delay", Unit: "ms", Value: -0.25, Own: true}},
			ICL: []float64{1.5, 2.25, math.SmallestNonzeroFloat64}},
		{Rec: req(sec, ms, 2*ms, 2)},
		{Rec: errReq(3 * sec), Metrics: []results.MetricValue{{Tag: "request_latency", Unit: "ms", Value: 5}}},
	}
	for i := range rows {
		if err := sp.append(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	var got []results.RecordRow
	err = sp.drain(func(row *results.RecordRow) bool {
		rec := *row.Rec
		got = append(got, results.RecordRow{Rec: &rec, Metrics: append([]results.MetricValue(nil), row.Metrics...),
			ICL: append([]float64(nil), row.ICL...)})
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("%d rows back, want %d", len(got), len(rows))
	}
	for i, want := range rows {
		w := *want.Rec
		w.Responses, w.Output, w.Reasoning, w.Payload = nil, nil, nil, nil
		if !reflect.DeepEqual(*got[i].Rec, w) {
			t.Errorf("row %d record:\n got %+v\nwant %+v", i, *got[i].Rec, w)
		}
		if !reflect.DeepEqual(got[i].Metrics, want.Metrics) && (len(got[i].Metrics) > 0 || len(want.Metrics) > 0) {
			t.Errorf("row %d metrics:\n got %+v\nwant %+v", i, got[i].Metrics, want.Metrics)
		}
		if !reflect.DeepEqual(got[i].ICL, want.ICL) && (len(got[i].ICL) > 0 || len(want.ICL) > 0) {
			t.Errorf("row %d ICL: got %v, want %v", i, got[i].ICL, want.ICL)
		}
	}
	if sp.pending() {
		t.Error("records pending after a drain")
	}
	// A second drain hands nothing again; later records follow.
	if err := sp.append(&rows[1]); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := sp.drain(func(*results.RecordRow) bool { n++; return true }); err != nil || n != 1 {
		t.Errorf("second drain: %d rows, %v; want 1", n, err)
	}
}

// A record cut anywhere is an error, never a panic or a wrong row.
func TestSpoolDecodeRefusesCutRecords(t *testing.T) {
	sp := &spool{schema: &spoolSchema}
	row := results.RecordRow{Rec: fullRecord(t), Metrics: []results.MetricValue{{Tag: "x", Unit: "y", Value: 1}}, ICL: []float64{1}}
	b := sp.encode(nil, &row)
	for n := range len(b) {
		if err := sp.decode(b[:n]); err == nil {
			t.Fatalf("a record cut to %d of %d bytes decoded", n, len(b))
		}
	}
	if err := sp.decode(append(b, 0)); err == nil || !strings.Contains(err.Error(), "left over") {
		t.Errorf("trailing byte: %v", err)
	}
}

// JSONL written through the spool is byte for byte the JSONL written
// record by record.
func TestSpooledJSONLIsTheLiveJSONL(t *testing.T) {
	rows := []results.RecordRow{
		{Rec: req(sec, ms, 2*ms, 2), Metrics: []results.MetricValue{{Tag: "request_latency", Unit: "ms", Value: 2},
			{Tag: "output_sequence_length", Unit: "tokens", Value: 2, Integer: true},
			{Tag: "issue_delay", Unit: "ms", Value: 0.125, Own: true}}, ICL: []float64{1}},
		{Rec: errReq(2 * sec), Metrics: []results.MetricValue{{Tag: "request_latency", Unit: "ms", Value: 5}}},
		{Rec: fullRecord(t), Metrics: []results.MetricValue{{Tag: "odd", Unit: "s", Value: 1e-7}}},
	}
	live := &export.JSONL{PerChunk: true}
	liveDir := t.TempDir()
	if err := live.Begin(&export.Target{Dir: liveDir}, &spoolSchema); err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if err := live.WriteRecord(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	livePath, err := live.Export(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	spooled := &export.JSONL{PerChunk: true}
	dir := t.TempDir()
	a := spooledArtifacts(t, dir, spooled)
	for i := range rows {
		a.WriteRecord(&rows[i])
	}
	sum := &results.Summary{}
	if err := a.finish(context.Background(), sum); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(livePath)
	got, _ := os.ReadFile(sum.Files["jsonl"])
	if len(want) == 0 || !bytes.Equal(got, want) {
		t.Errorf("spooled JSONL differs:\n got %s\nwant %s", got, want)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".records-*")); len(left) != 0 {
		t.Errorf("spool left in the artifact directory: %v", left)
	}
}

// spooledArtifacts are artifacts in dir with the given spoolable streams.
func spooledArtifacts(t *testing.T, dir string, streams ...export.RecordExporter) *artifacts {
	t.Helper()
	a := &artifacts{target: &export.Target{Dir: dir}, log: discardLog(), schema: spoolSchema}
	sp, err := openSpool(dir, &a.schema)
	if err != nil {
		t.Fatal(err)
	}
	a.spool = sp
	for _, s := range streams {
		if err := s.Begin(a.target, &a.schema); err != nil {
			t.Fatal(err)
		}
		a.exporters = append(a.exporters, s)
		_, readable := s.(export.Flusher)
		a.streams = append(a.streams, recordStream{RecordExporter: s, spooled: true, readable: readable})
	}
	return a
}

func lineCount(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(data, []byte("\n"))
}

// A fast run keeps its records in the spool (the second's flush writes
// none of them); a slow one has them on disk after each flush; the end
// writes everything.
func TestFastRunsWriteRecordsAtTheEnd(t *testing.T) {
	dir := t.TempDir()
	a := spooledArtifacts(t, dir, &export.JSONL{})
	path := filepath.Join(dir, "profile_export.jsonl")
	row := &results.RecordRow{Rec: req(sec, ms, 2*ms, 2)}
	for range drainBelow {
		a.WriteRecord(row)
	}
	a.Flush()
	if n := lineCount(t, path); n != 0 {
		t.Errorf("%d lines written during a run at %d records a second", n, drainBelow)
	}
	for range 3 {
		a.WriteRecord(row)
	}
	a.Flush() // a slow second: everything so far is written
	if n := lineCount(t, path); n != drainBelow+3 {
		t.Errorf("%d lines after a slow second, want %d", n, drainBelow+3)
	}
	a.WriteRecord(row)
	if err := a.finish(context.Background(), &results.Summary{}); err != nil {
		t.Fatal(err)
	}
	if n := lineCount(t, path); n != drainBelow+4 {
		t.Errorf("%d lines at the end, want %d", n, drainBelow+4)
	}
}

// A step that fails, and a process exiting at once (a second Ctrl-C),
// still write the spooled records to the JSONL.
func TestSpooledRecordsSurviveAbortAndExit(t *testing.T) {
	row := &results.RecordRow{Rec: req(sec, ms, 2*ms, 2)}
	for name, end := range map[string]func(*artifacts){
		"abort": (*artifacts).abort,
		"exit":  (*artifacts).flushForExit,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			pq := &countingParquet{}
			a := spooledArtifacts(t, dir, &export.JSONL{}, pq)
			for range drainBelow + 1 {
				a.WriteRecord(row)
			}
			end(a)
			a.WriteRecord(row) // after an exit: dropped
			if n := lineCount(t, filepath.Join(dir, "profile_export.jsonl")); n != drainBelow+1 {
				t.Errorf("%d lines, want %d", n, drainBelow+1)
			}
			if pq.n != 0 { // it will not be finished: not worth writing
				t.Errorf("%d records written to a Parquet file that is dropped", pq.n)
			}
		})
	}
}

// benchRow is a streamed record's row as the pipeline hands it over: ids,
// timestamps, 40 metrics and 16 inter-chunk latencies.
func benchRow(t testing.TB) *results.RecordRow {
	r := req(sec, ms, 20*ms, 16)
	r.XRequestID, r.XCorrelationID, r.ConversationID = "0d5c3f1e-6a2b-4f7e-9c1d-2b8e4a6f0c3d", "7a1e9c2b-3d4f-4e5a-8b6c-1d2e3f4a5b6c", "conv-42"
	r.Model = "org/mock-model"
	schema := results.RecordSchema{ICL: true, ICLUnit: "ms"}
	var mets []results.MetricValue
	for i := range 40 {
		c := results.Column{Tag: fmt.Sprintf("metric_%d", i), Unit: "ms", Integer: i%4 == 0}
		schema.Metrics = append(schema.Metrics, c)
		mets = append(mets, results.MetricValue{Tag: c.Tag, Unit: c.Unit, Integer: c.Integer, Value: 1.25 * float64(i)})
	}
	spoolSchema = schema // for the benchmarks' spools
	icl := make([]float64, 16)
	for i := range icl {
		icl[i] = 0.8 + float64(i)/100
	}
	return &results.RecordRow{Rec: r, Metrics: mets, ICL: icl}
}

// BenchmarkSpoolAppend is what a record costs the run with the default
// exports: its append to the spool (one op = one record).
func BenchmarkSpoolAppend(b *testing.B) {
	row := benchRow(b)
	sp, err := openSpool(b.TempDir(), &spoolSchema)
	if err != nil {
		b.Fatal(err)
	}
	defer sp.close()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := sp.append(row); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(sp.written)/float64(b.N), "bytes/record")
}

// BenchmarkSpoolDrain reads the records back for the exporters after the
// run (one op = one record; the exporters' own cost is in internal/export).
func BenchmarkSpoolDrain(b *testing.B) {
	row := benchRow(b)
	sp, err := openSpool(b.TempDir(), &spoolSchema)
	if err != nil {
		b.Fatal(err)
	}
	defer sp.close()
	for range b.N {
		if err := sp.append(row); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	if err := sp.drain(func(*results.RecordRow) bool { n++; return true }); err != nil || n != b.N {
		b.Fatalf("drained %d of %d: %v", n, b.N, err)
	}
}

// slowLines is a spoolable line stream whose records take 1 ms each.
type slowLines struct{ n atomic.Int64 }

func (*slowLines) Kind() string { return "slow" }
func (*slowLines) Export(context.Context, *export.Target, *results.Summary) (string, error) {
	return "", nil
}
func (*slowLines) Begin(*export.Target, *results.RecordSchema) error { return nil }
func (s *slowLines) WriteRecord(*results.RecordRow) error {
	time.Sleep(time.Millisecond)
	s.n.Add(1)
	return nil
}
func (*slowLines) Flush() error { return nil }
func (*slowLines) Spoolable()   {}

// Before an immediate exit the spool is written for at most
// ExitDrainLimit, to whole records, and only to streams readable at any
// time: the Parquet file, which cannot be finished, is not written.
func TestExitDrainIsBounded(t *testing.T) {
	a, slow, pq := slowSpool(t, 3000) // 3 s of writing at 1 ms a record
	exitWithinLimit(t, a, slow, 3000)
	if pq.n != 0 {
		t.Errorf("%d records written to the Parquet file before an exit", pq.n)
	}
}

// slowSpool is artifacts with n records spooled for a slowLines and a
// countingParquet stream.
func slowSpool(t *testing.T, n int) (*artifacts, *slowLines, *countingParquet) {
	t.Helper()
	slow, pq := &slowLines{}, &countingParquet{}
	a := spooledArtifacts(t, t.TempDir(), slow, pq)
	row := &results.RecordRow{Rec: req(sec, ms, 2*ms, 2)}
	for range n {
		a.WriteRecord(row)
	}
	return a, slow, pq
}

// exitWithinLimit flushes a for an immediate exit and checks that it took
// about ExitDrainLimit and wrote some but not all of the n records.
func exitWithinLimit(t *testing.T, a *artifacts, slow *slowLines, n int64) {
	t.Helper()
	start := time.Now()
	a.flushForExit()
	if took := time.Since(start); took > ExitDrainLimit+time.Second {
		t.Errorf("the exit flush took %v, over ExitDrainLimit %v", took, ExitDrainLimit)
	}
	if w := slow.n.Load(); w == 0 || w >= n {
		t.Errorf("%d of %d records written before the exit, want some but not all", w, n)
	}
}

// After the last record (RecordsDone) the spool is written while the
// caller goes on (the results are computed meanwhile); finish waits for
// it, and every stream gets every record once.
func TestRecordsDoneWritesMeanwhile(t *testing.T) {
	const n = 300 // 0.3 s of writing at 1 ms a record
	a, slow, pq := slowSpool(t, n)
	start := time.Now()
	a.RecordsDone()
	a.RecordsDone() // a second call finds nothing left to write
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Fatalf("RecordsDone took %v: it should only start the writing", took)
	}
	for deadline := time.Now().Add(10 * time.Second); slow.n.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no record written within 10 s of RecordsDone")
		}
	}
	if err := a.finish(context.Background(), &results.Summary{}); err != nil {
		t.Fatal(err)
	}
	if w := slow.n.Load(); w != n || pq.n != n {
		t.Errorf("%d and %d records written, want %d to each stream", w, pq.n, n)
	}
}

// An immediate exit during that writing stops it at a record's end and
// stays within ExitDrainLimit.
func TestExitStopsTheWritingAfterRecordsDone(t *testing.T) {
	a, slow, _ := slowSpool(t, 5000) // 5 s of writing at 1 ms a record
	a.RecordsDone()
	time.Sleep(50 * time.Millisecond)
	exitWithinLimit(t, a, slow, 5000)
	// Nothing goes on writing behind the exit.
	w := slow.n.Load()
	time.Sleep(20 * time.Millisecond)
	if later := slow.n.Load(); later != w {
		t.Errorf("%d records written after the exit flush returned", later-w)
	}
}

// countingParquet is a spoolable stream that is not readable before its
// end, as Parquet.
type countingParquet struct{ n int }

func (*countingParquet) Kind() string { return "parquet-like" }
func (*countingParquet) Export(context.Context, *export.Target, *results.Summary) (string, error) {
	return "", nil
}
func (*countingParquet) Begin(*export.Target, *results.RecordSchema) error { return nil }
func (c *countingParquet) WriteRecord(*results.RecordRow) error            { c.n++; return nil }
func (*countingParquet) Spoolable()                                        {}

// TestSpoolMetricLayouts spools rows whose metrics change from one record
// to the next (fewer, more, reordered, out of the schema, the same tag in
// another unit, the same text in other strings) and reads each back as it
// was, whatever columns the previous records' metrics matched.
func TestSpoolMetricLayouts(t *testing.T) {
	sp, err := openSpool(t.TempDir(), &spoolSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	lat := results.MetricValue{Tag: "request_latency", Unit: "ms", Value: 1}
	osl := results.MetricValue{Tag: "output_sequence_length", Unit: "tokens", Value: 16, Integer: true}
	delay := results.MetricValue{Tag: "issue_delay", Unit: "ms", Value: -0.25, Own: true}
	other := results.MetricValue{Tag: "not_in_schema", Unit: "s", Value: 3}
	latSec := results.MetricValue{Tag: "request_latency", Unit: "s", Value: 0.001}
	cloned := results.MetricValue{Tag: strings.Clone(lat.Tag), Unit: strings.Clone(lat.Unit), Value: 2}
	layouts := [][]results.MetricValue{
		{lat, osl, delay}, {lat, osl, delay}, {lat, delay}, {lat, osl, delay}, {other, lat},
		{lat, osl}, {lat, osl, delay, other}, {osl, lat}, {latSec, osl}, {cloned, osl, delay},
		{lat, osl, delay}, {}, {lat, osl, delay}, {delay, lat, osl},
	}
	for _, mets := range layouts {
		if err := sp.append(&results.RecordRow{Rec: req(sec, ms, 2*ms, 2), Metrics: mets}); err != nil {
			t.Fatal(err)
		}
	}
	i := 0
	err = sp.drain(func(row *results.RecordRow) bool {
		if !reflect.DeepEqual(row.Metrics, layouts[i]) && (len(row.Metrics) > 0 || len(layouts[i]) > 0) {
			t.Errorf("row %d metrics:\n got %+v\nwant %+v", i, row.Metrics, layouts[i])
		}
		i++
		return true
	})
	if err != nil || i != len(layouts) {
		t.Fatalf("%d rows back, %v; want %d", i, err, len(layouts))
	}
}
