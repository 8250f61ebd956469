package export

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"

	"github.com/loadstar/loadstar/engine/results"
)

// parquetRowGroup bounds the rows buffered in memory before a row group is
// written, keeping memory flat on long runs.
const parquetRowGroup = 4096

// Parquet writes profile_export.parquet (plugin parquet): one row per
// request with its metadata, wire facts and every per-record metric in
// display units (column names are metric tags; their units are in the file's
// key-value metadata under "loadstar.units"). Rows are streamed in row
// groups; the file is renamed into place when complete.
type Parquet struct {
	path, tmp string
	f         *os.File
	bw        *bufio.Writer
	w         *parquet.GenericWriter[any]
	cols      map[string]int
	metrics   []results.Column
	icl       bool
	batch     []parquet.Row // rows built, not yet handed to the writer
	vals      [][]parquet.Value
	rows      int
	level     map[string]int // max definition level per column
}

// Kind implements Exporter.
func (*Parquet) Kind() string { return KindParquet }

// parquetMeta are the fixed columns.
var parquetMeta = []struct {
	name string
	node parquet.Node
}{
	{"session_num", parquet.Int(64)},
	{"x_request_id", parquet.Optional(parquet.String())},
	{"x_correlation_id", parquet.Optional(parquet.String())},
	{"conversation_id", parquet.Optional(parquet.String())},
	{"turn_index", parquet.Int(64)},
	{"benchmark_phase", parquet.String()},
	{"scheduled_ns", parquet.Optional(parquet.Int(64))},
	{"credit_issued_ns", parquet.Optional(parquet.Int(64))},
	{"request_start_ns", parquet.Int(64)},
	{"request_ack_ns", parquet.Optional(parquet.Int(64))},
	{"request_end_ns", parquet.Int(64)},
	{"url_index", parquet.Int(32)},
	{"status", parquet.Optional(parquet.Int(32))},
	{"conn_reused", parquet.Leaf(parquet.BooleanType)},
	{"bytes_sent", parquet.Int(64)},
	{"bytes_received", parquet.Int(64)},
	{"chunks", parquet.Int(32)},
	{"was_cancelled", parquet.Leaf(parquet.BooleanType)},
	{"error_code", parquet.Optional(parquet.Int(32))},
	{"error_type", parquet.Optional(parquet.String())},
	{"error_message", parquet.Optional(parquet.String())},
}

// Begin implements RecordExporter.
func (p *Parquet) Begin(t *Target, schema *results.RecordSchema) error {
	group := parquet.Group{}
	p.level = map[string]int{}
	for _, m := range parquetMeta {
		group[m.name] = m.node
		if m.node.Optional() {
			p.level[m.name] = 1
		}
	}
	units := map[string]string{}
	for _, c := range schema.Metrics {
		if _, dup := group[c.Tag]; dup {
			return fmt.Errorf("export: parquet: metric %q collides with a metadata column", c.Tag)
		}
		if c.Integer {
			group[c.Tag] = parquet.Optional(parquet.Int(64))
		} else {
			group[c.Tag] = parquet.Optional(parquet.Leaf(parquet.DoubleType))
		}
		p.level[c.Tag] = 1
		units[c.Tag] = c.Unit
	}
	if schema.ICL {
		group["inter_chunk_latency"] = parquet.Repeated(parquet.Leaf(parquet.DoubleType))
		units["inter_chunk_latency"] = schema.ICLUnit
	}
	p.metrics, p.icl = schema.Metrics, schema.ICL
	s := parquet.NewSchema("record", group)
	p.cols = map[string]int{}
	for i, path := range s.Columns() {
		p.cols[path[0]] = i
	}
	unitJSON, _ := json.Marshal(units)

	p.path = t.Path(KindParquet)
	if err := os.MkdirAll(filepath.Dir(p.path), 0o755); err != nil {
		return fmt.Errorf("export: parquet: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p.path), "."+filepath.Base(p.path)+".*.partial")
	if err != nil {
		return fmt.Errorf("export: parquet: %w", err)
	}
	p.f, p.tmp = f, f.Name()
	p.bw = bufio.NewWriterSize(f, 1<<20)
	p.w = parquet.NewGenericWriter[any](p.bw, s, parquet.Compression(&parquet.Snappy),
		parquet.MaxRowsPerRowGroup(parquetRowGroup), parquet.KeyValueMetadata("loadstar.units", string(unitJSON)),
		parquet.CreatedBy("loadstar", "", ""))
	return nil
}

// WriteRecord implements RecordExporter.
func (p *Parquet) WriteRecord(row *results.RecordRow) error {
	if p.w == nil {
		return fmt.Errorf("export: parquet: not started")
	}
	if p.vals == nil {
		p.vals = make([][]parquet.Value, len(p.cols))
	}
	vals := p.vals
	for i := range vals {
		vals[i] = vals[i][:0]
	}
	set := func(name string, v parquet.Value) {
		i := p.cols[name]
		vals[i] = append(vals[i], v.Level(0, p.level[name], i))
	}
	null := func(name string) {
		i := p.cols[name]
		vals[i] = append(vals[i], parquet.NullValue().Level(0, 0, i))
	}
	optInt := func(name string, v int64) {
		if v == 0 {
			null(name)
		} else {
			set(name, parquet.Int64Value(v))
		}
	}
	optStr := func(name, v string) {
		if v == "" {
			null(name)
		} else {
			set(name, parquet.ByteArrayValue([]byte(v)))
		}
	}
	r := row.Rec
	set("session_num", parquet.Int64Value(int64(r.SessionNum)))
	optStr("x_request_id", r.XRequestID)
	optStr("x_correlation_id", r.XCorrelationID)
	optStr("conversation_id", r.ConversationID)
	set("turn_index", parquet.Int64Value(int64(r.TurnIndex)))
	set("benchmark_phase", parquet.ByteArrayValue([]byte(r.Phase.String())))
	optInt("scheduled_ns", row.Wall(r.ScheduledNs))
	optInt("credit_issued_ns", row.Wall(r.CreditNs))
	set("request_start_ns", parquet.Int64Value(r.StartWallNs))
	optInt("request_ack_ns", row.Wall(r.HeadersNs))
	set("request_end_ns", parquet.Int64Value(row.Wall(r.EndNs)))
	set("url_index", parquet.Int32Value(int32(r.URLIndex)))
	if r.Status != 0 {
		set("status", parquet.Int32Value(int32(r.Status)))
	} else {
		null("status")
	}
	set("conn_reused", parquet.BooleanValue(r.ConnReused))
	set("bytes_sent", parquet.Int64Value(r.BytesSent))
	set("bytes_received", parquet.Int64Value(r.BytesReceived))
	set("chunks", parquet.Int32Value(r.Chunks))
	set("was_cancelled", parquet.BooleanValue(r.Cancelled))
	if e := r.Error; e != nil {
		if e.Code != 0 {
			set("error_code", parquet.Int32Value(int32(e.Code)))
		} else {
			null("error_code")
		}
		optStr("error_type", e.Type)
		set("error_message", parquet.ByteArrayValue([]byte(e.Message)))
	} else {
		null("error_code")
		null("error_type")
		null("error_message")
	}
	// row.Metrics lists present metrics in schema order.
	k := 0
	for _, c := range p.metrics {
		var mv results.MetricValue
		ok := false
		for j := k; j < len(row.Metrics); j++ {
			if row.Metrics[j].Tag == c.Tag {
				mv, ok, k = row.Metrics[j], true, j+1
				break
			}
		}
		switch {
		case !ok:
			null(c.Tag)
		case c.Integer:
			set(c.Tag, parquet.Int64Value(int64(mv.Value)))
		default:
			set(c.Tag, parquet.DoubleValue(mv.Value))
		}
	}
	if p.icl {
		i := p.cols["inter_chunk_latency"]
		if len(row.ICL) == 0 {
			vals[i] = append(vals[i], parquet.NullValue().Level(0, 0, i))
		}
		for k, x := range row.ICL {
			rep := 1
			if k == 0 {
				rep = 0
			}
			vals[i] = append(vals[i], parquet.DoubleValue(x).Level(rep, 1, i))
		}
	}
	// Rows are handed to the writer in batches: one WriteRows call per
	// row costs more than building the row.
	n := len(p.batch)
	if n < cap(p.batch) {
		p.batch = p.batch[:n+1]
	} else {
		p.batch = append(p.batch, nil)
	}
	built := p.batch[n][:0]
	for _, v := range vals {
		built = append(built, v...)
	}
	p.batch[n] = built
	p.rows++
	if len(p.batch) == parquetBatch {
		return p.flushBatch()
	}
	return nil
}

// parquetBatch is the number of rows handed to the writer at once.
const parquetBatch = 256

func (p *Parquet) flushBatch() error {
	if len(p.batch) == 0 {
		return nil
	}
	if _, err := p.w.WriteRows(p.batch); err != nil {
		return fmt.Errorf("export: parquet: %w", err)
	}
	p.batch = p.batch[:0]
	if p.rows%parquetRowGroup == 0 {
		if err := p.w.Flush(); err != nil {
			return fmt.Errorf("export: parquet: %w", err)
		}
	}
	return nil
}

// Export implements Exporter: it writes the footer and renames the file
// into place.
func (p *Parquet) Export(context.Context, *Target, *results.Summary) (string, error) {
	if p.w == nil {
		return "", nil
	}
	err := p.flushBatch()
	if err == nil {
		err = p.w.Close()
	}
	if err == nil {
		err = p.bw.Flush()
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	p.w = nil
	if err == nil {
		err = os.Chmod(p.tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(p.tmp, p.path)
	}
	if err != nil {
		_ = os.Remove(p.tmp)
		return "", fmt.Errorf("export: parquet: %w", err)
	}
	return p.path, nil
}

// Abort implements Aborter: the partial file is removed.
func (p *Parquet) Abort() {
	if p.w == nil {
		return
	}
	_ = p.f.Close()
	_ = os.Remove(p.tmp)
	p.w = nil
}
