package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/loadstar/loadstar/engine/results"
)

// parquetRowGroup bounds the rows buffered in memory before a row group is
// written, keeping memory flat on long runs.
const parquetRowGroup = 4096

// Parquet writes profile_export.parquet (plugin parquet): one row per
// request with its metadata, wire facts and every per-record metric in
// display units (column names are metric tags; their units are in the file's
// key-value metadata under "loadstar.units"). Rows are streamed in row
// groups of parquetRowGroup rows, each column cut into data pages of
// parquetBatch rows; the file is renamed into place when complete.
//
// parquet-go defines the schema (column order, types, logical types) and
// the footer's fixed parts; the pages are encoded here (parquet_pages.go)
// straight from the record, without a parquet.Value per value.
type Parquet struct {
	path, tmp string
	f         *os.File
	bw        *bufio.Writer
	offset    int64
	footer    format.FileMetaData
	metrics   []results.Column
	icl       bool
	// cols are the columns in schema order; meta by parquetMeta position,
	// metric by schema position, then the inter-chunk latencies.
	cols    []*pqColumn
	meta    [len(parquetMeta)]*pqColumn
	metric  []*pqColumn
	iclCol  *pqColumn
	scratch pqScratch
	pending int // rows in the current pages
	group   int // rows in the current row group
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
	unitJSON, _ := json.Marshal(units)
	opts := []parquet.WriterOption{parquet.KeyValueMetadata("loadstar.units", string(unitJSON)),
		parquet.CreatedBy("loadstar", "", "")}
	footer, err := parquetFooter(s, opts)
	if err != nil {
		return fmt.Errorf("export: parquet: %w", err)
	}
	p.footer = footer
	byName := map[string]*pqColumn{}
	p.cols = p.cols[:0]
	for _, field := range s.Fields() {
		c := newPQColumn(field.Name(), format.Type(field.Type().Kind()), field.Optional(), field.Repeated())
		byName[c.name] = c
		p.cols = append(p.cols, c)
	}
	for i, m := range parquetMeta {
		p.meta[i] = byName[m.name]
	}
	p.metric = make([]*pqColumn, len(schema.Metrics))
	for i, c := range schema.Metrics {
		p.metric[i] = byName[c.Tag]
	}
	p.iclCol = byName["inter_chunk_latency"]

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
	_, _ = p.bw.WriteString(parquetMagic) // errors surface at the next Write or Flush
	p.offset = int64(len(parquetMagic))
	return nil
}

// parquetMagic opens and closes a Parquet file.
const parquetMagic = "PAR1"

// parquetFooter is the footer parquet-go writes for an empty file of
// schema s: the schema elements, column orders, key-value metadata and
// creator that the record file's footer shares.
func parquetFooter(s *parquet.Schema, opts []parquet.WriterOption) (format.FileMetaData, error) {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[any](&buf, append(opts, s)...)
	if err := w.Close(); err != nil {
		return format.FileMetaData{}, err
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		return format.FileMetaData{}, err
	}
	md := *f.Metadata()
	md.RowGroups, md.NumRows = nil, 0
	return md, nil
}

// WriteRecord implements RecordExporter.
func (p *Parquet) WriteRecord(row *results.RecordRow) error {
	if p.f == nil {
		return fmt.Errorf("export: parquet: not started")
	}
	m := &p.meta
	r := row.Rec
	m[pqSessionNum].int64(int64(r.SessionNum))
	m[pqXRequestID].optStr(r.XRequestID)
	m[pqXCorrelationID].optStr(r.XCorrelationID)
	m[pqConversationID].optStr(r.ConversationID)
	m[pqTurnIndex].int64(int64(r.TurnIndex))
	m[pqBenchmarkPhase].str(r.Phase.String())
	m[pqScheduledNs].optInt64(row.Wall(r.ScheduledNs))
	m[pqCreditIssuedNs].optInt64(row.Wall(r.CreditNs))
	m[pqRequestStartNs].int64(r.StartWallNs)
	m[pqRequestAckNs].optInt64(row.Wall(r.HeadersNs))
	m[pqRequestEndNs].int64(row.Wall(r.EndNs))
	m[pqURLIndex].int64(int64(r.URLIndex))
	m[pqStatus].optInt64(int64(r.Status))
	m[pqConnReused].bool(r.ConnReused)
	m[pqBytesSent].int64(r.BytesSent)
	m[pqBytesReceived].int64(r.BytesReceived)
	m[pqChunks].int64(int64(r.Chunks))
	m[pqWasCancelled].bool(r.Cancelled)
	if e := r.Error; e != nil {
		m[pqErrorCode].optInt64(int64(e.Code))
		m[pqErrorType].optStr(e.Type)
		m[pqErrorMessage].str(e.Message)
	} else {
		m[pqErrorCode].null()
		m[pqErrorType].null()
		m[pqErrorMessage].null()
	}
	// row.Metrics lists present metrics in schema order.
	k := 0
	for i, c := range p.metrics {
		col, found := p.metric[i], false
		for j := k; j < len(row.Metrics); j++ {
			if mv := &row.Metrics[j]; mv.Tag == c.Tag {
				if c.Integer {
					col.int64(int64(mv.Value))
				} else {
					col.double(mv.Value)
				}
				k, found = j+1, true
				break
			}
		}
		if !found {
			col.null()
		}
	}
	if p.icl {
		p.iclCol.doubles(row.ICL)
	}
	p.pending++
	p.group++
	if p.pending == parquetBatch {
		if err := p.cutPages(); err != nil {
			return err
		}
	}
	if p.group == parquetRowGroup {
		return p.writeRowGroup()
	}
	return nil
}

// parquetBatch is the number of rows in a data page: a reader
// decompresses a page at a time, and the inter-chunk latencies of a row
// group of streamed records are megabytes.
const parquetBatch = 1024

// cutPages ends every column's current page.
func (p *Parquet) cutPages() error {
	if p.pending == 0 {
		return nil
	}
	for _, c := range p.cols {
		if err := c.cutPage(&p.scratch); err != nil {
			return fmt.Errorf("export: parquet: %w", err)
		}
	}
	p.pending = 0
	return nil
}

// writeRowGroup writes the current row group's column chunks, one after
// the other, and records them for the footer.
func (p *Parquet) writeRowGroup() error {
	if p.group == 0 {
		return nil
	}
	if err := p.cutPages(); err != nil {
		return err
	}
	rg := format.RowGroup{
		NumRows:    int64(p.group),
		FileOffset: p.offset,
		Ordinal:    int16(len(p.footer.RowGroups)),
	}
	for _, c := range p.cols {
		if _, err := p.bw.Write(c.pages); err != nil {
			return fmt.Errorf("export: parquet: %w", err)
		}
		cc := c.chunkMeta(p.offset)
		p.offset += cc.MetaData.TotalCompressedSize
		rg.TotalByteSize += cc.MetaData.TotalUncompressedSize
		rg.TotalCompressedSize += cc.MetaData.TotalCompressedSize
		rg.Columns = append(rg.Columns, cc)
	}
	p.footer.RowGroups = append(p.footer.RowGroups, rg)
	p.footer.NumRows += rg.NumRows
	p.group = 0
	return nil
}

// writeFooter writes the last row group and the footer.
func (p *Parquet) writeFooter() error {
	if err := p.writeRowGroup(); err != nil {
		return err
	}
	b, err := thrift.Marshal(&p.scratch.protocol, &p.footer)
	if err != nil {
		return fmt.Errorf("export: parquet: footer: %w", err)
	}
	// A bufio.Writer keeps its first error and Flush returns it.
	_, _ = p.bw.Write(b)
	_, _ = p.bw.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(b))))
	_, _ = p.bw.WriteString(parquetMagic)
	return p.bw.Flush()
}

// Export implements Exporter: it writes the footer and renames the file
// into place.
func (p *Parquet) Export(context.Context, *Target, *results.Summary) (string, error) {
	if p.f == nil {
		return "", nil
	}
	err := p.writeFooter()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	p.f = nil
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
	if p.f == nil {
		return
	}
	_ = p.f.Close()
	_ = os.Remove(p.tmp)
	p.f = nil
}
