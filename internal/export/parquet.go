package export

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

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
	metrics   []results.Column
	icl       bool
	// vals holds each column's values of the rows not yet handed to the
	// writer (batched rows; pending counts them).
	vals    [][]parquet.Value
	pending int
	rows    int
	// Column indexes and maximum definition levels, resolved once in Begin
	// so that a row costs no name look-up: meta by parquetMeta position,
	// metric by schema position, then the inter-chunk latencies.
	metaCol   [len(parquetMeta)]int
	metaLevel [len(parquetMeta)]int
	metricCol []int
	iclCol    int
}

// Kind implements Exporter.
func (*Parquet) Kind() string { return KindParquet }

// Spoolable implements Spoolable.
func (*Parquet) Spoolable() {}

// parquetMeta are the fixed columns.
var parquetMeta = [...]struct {
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

// Positions in parquetMeta.
const (
	pqSessionNum = iota
	pqXRequestID
	pqXCorrelationID
	pqConversationID
	pqTurnIndex
	pqBenchmarkPhase
	pqScheduledNs
	pqCreditIssuedNs
	pqRequestStartNs
	pqRequestAckNs
	pqRequestEndNs
	pqURLIndex
	pqStatus
	pqConnReused
	pqBytesSent
	pqBytesReceived
	pqChunks
	pqWasCancelled
	pqErrorCode
	pqErrorType
	pqErrorMessage
)

// Begin implements RecordExporter.
func (p *Parquet) Begin(t *Target, schema *results.RecordSchema) error {
	group := parquet.Group{}
	for _, m := range parquetMeta {
		group[m.name] = m.node
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
		units[c.Tag] = c.Unit
	}
	if schema.ICL {
		group["inter_chunk_latency"] = parquet.Repeated(parquet.Leaf(parquet.DoubleType))
		units["inter_chunk_latency"] = schema.ICLUnit
	}
	p.metrics, p.icl = schema.Metrics, schema.ICL
	s := parquet.NewSchema("record", group)
	cols := map[string]int{}
	for i, path := range s.Columns() {
		cols[path[0]] = i
	}
	for i, m := range parquetMeta {
		p.metaCol[i] = cols[m.name]
		if m.node.Optional() {
			p.metaLevel[i] = 1
		}
	}
	p.metricCol = make([]int, len(schema.Metrics))
	for i, c := range schema.Metrics {
		p.metricCol[i] = cols[c.Tag]
	}
	p.iclCol = cols["inter_chunk_latency"]
	p.vals = make([][]parquet.Value, len(cols))
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
	vals := p.vals
	r := row.Rec
	p.setInt(pqSessionNum, int64(r.SessionNum))
	p.optStr(pqXRequestID, r.XRequestID)
	p.optStr(pqXCorrelationID, r.XCorrelationID)
	p.optStr(pqConversationID, r.ConversationID)
	p.setInt(pqTurnIndex, int64(r.TurnIndex))
	p.set(pqBenchmarkPhase, stringValue(r.Phase.String()))
	p.optInt(pqScheduledNs, row.Wall(r.ScheduledNs))
	p.optInt(pqCreditIssuedNs, row.Wall(r.CreditNs))
	p.setInt(pqRequestStartNs, r.StartWallNs)
	p.optInt(pqRequestAckNs, row.Wall(r.HeadersNs))
	p.setInt(pqRequestEndNs, row.Wall(r.EndNs))
	p.set(pqURLIndex, parquet.Int32Value(int32(r.URLIndex)))
	if r.Status != 0 {
		p.set(pqStatus, parquet.Int32Value(int32(r.Status)))
	} else {
		p.null(pqStatus)
	}
	p.set(pqConnReused, parquet.BooleanValue(r.ConnReused))
	p.setInt(pqBytesSent, r.BytesSent)
	p.setInt(pqBytesReceived, r.BytesReceived)
	p.set(pqChunks, parquet.Int32Value(r.Chunks))
	p.set(pqWasCancelled, parquet.BooleanValue(r.Cancelled))
	if e := r.Error; e != nil {
		if e.Code != 0 {
			p.set(pqErrorCode, parquet.Int32Value(int32(e.Code)))
		} else {
			p.null(pqErrorCode)
		}
		p.optStr(pqErrorType, e.Type)
		p.set(pqErrorMessage, stringValue(e.Message))
	} else {
		p.null(pqErrorCode)
		p.null(pqErrorType)
		p.null(pqErrorMessage)
	}
	// row.Metrics lists present metrics in schema order.
	k := 0
	for m, c := range p.metrics {
		col := p.metricCol[m]
		v := parquet.NullValue().Level(0, 0, col)
		for j := k; j < len(row.Metrics); j++ {
			if mv := &row.Metrics[j]; mv.Tag == c.Tag {
				if c.Integer {
					v = parquet.Int64Value(int64(mv.Value)).Level(0, 1, col)
				} else {
					v = parquet.DoubleValue(mv.Value).Level(0, 1, col)
				}
				k = j + 1
				break
			}
		}
		vals[col] = append(vals[col], v)
	}
	if p.icl {
		i := p.iclCol
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
	// Rows are handed to the column writers in batches: a call per row
	// costs more than building the row.
	p.pending++
	p.rows++
	if p.pending == parquetBatch {
		return p.flushBatch()
	}
	return nil
}

// set appends v as the value of meta column pos.
func (p *Parquet) set(pos int, v parquet.Value) {
	i := p.metaCol[pos]
	p.vals[i] = append(p.vals[i], v.Level(0, p.metaLevel[pos], i))
}

func (p *Parquet) setInt(pos int, v int64) { p.set(pos, parquet.Int64Value(v)) }

// null appends a null to meta column pos.
func (p *Parquet) null(pos int) {
	i := p.metaCol[pos]
	p.vals[i] = append(p.vals[i], parquet.NullValue().Level(0, 0, i))
}

// optInt appends v, or a null when v is 0 (unset).
func (p *Parquet) optInt(pos int, v int64) {
	if v == 0 {
		p.null(pos)
		return
	}
	p.setInt(pos, v)
}

// optStr appends v, or a null when v is empty.
func (p *Parquet) optStr(pos int, v string) {
	if v == "" {
		p.null(pos)
		return
	}
	p.set(pos, stringValue(v))
}

// stringValue is a BYTE_ARRAY value of s without copying it: the writer
// only reads the bytes, and a Go string never changes, so the view stays
// valid while the row waits in the batch.
func stringValue(s string) parquet.Value {
	if s == "" {
		return parquet.ByteArrayValue([]byte{})
	}
	return parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// parquetBatch is the number of rows handed to the writer at once.
const parquetBatch = 256

// flushBatch writes the pending rows column by column (what WriteRows does
// after cutting rows into columns, which they already are), and ends the
// row group every parquetRowGroup rows (a multiple of parquetBatch).
func (p *Parquet) flushBatch() error {
	if p.pending == 0 {
		return nil
	}
	for i, cw := range p.w.ColumnWriters() {
		if n, err := cw.WriteRowValues(p.vals[i]); err != nil || n != p.pending {
			if err == nil {
				err = fmt.Errorf("column %d took %d of %d rows", i, n, p.pending)
			}
			return fmt.Errorf("export: parquet: %w", err)
		}
		p.vals[i] = p.vals[i][:0]
	}
	p.pending = 0
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
