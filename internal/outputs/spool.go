package outputs

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"unsafe"

	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
)

// spool keeps a step's records compactly while the run goes, for the
// record exporters that are written from a row's metrics and its record's
// scalar fields alone (export.Spoolable: profile_export.jsonl, Parquet).
// Formatting JSON numbers and encoding Parquet pages cost several times
// what measuring a request does; done per record during the run, they
// compete with sending for the client's CPU (issue 15). Appending a record
// here is a few hundred nanoseconds; the exporters get every record, in
// the same order, when the spool is drained: after the run, on an
// interrupted or failed run, before an immediate exit, and whenever the
// run is slow enough that draining costs nothing (see artifacts.Flush).
//
// The file is unlinked as soon as it is created (where the system allows
// it), so a killed process leaves nothing behind. Its format is private to
// one process: a record is a uvarint length and then its fields as
// encode writes them.
type spool struct {
	f    *os.File
	w    *bufio.Writer
	path string
	// written is the file's length once w is flushed; drained the offset
	// up to which the records went to the exporters.
	written, drained int64
	schema           *results.RecordSchema
	buf, rbuf        []byte
	// seen holds, by position, the metrics of the latest records that
	// were there and the schema column each matched: the next record
	// usually has the same metrics from the same strings, which are then
	// matched by address instead of by comparing tags (encode).
	seen []seenMetric
	hdr  [binary.MaxVarintLen64]byte

	// Reused by drain: the decoded record and row.
	rec  record.Record
	row  results.RecordRow
	mets []results.MetricValue
	icl  []float64
}

// spoolBuffer is the write buffer: a write system call per this many bytes
// (a few thousand records).
const spoolBuffer = 1 << 20

func openSpool(dir string, schema *results.RecordSchema) (*spool, error) {
	f, err := os.CreateTemp(dir, ".records-*.spool")
	if err != nil {
		return nil, fmt.Errorf("record spool: %w", err)
	}
	s := &spool{f: f, path: f.Name(), w: bufio.NewWriterSize(f, spoolBuffer), schema: schema}
	if os.Remove(f.Name()) == nil {
		s.path = "" // unlinked: the open file is all there is
	}
	return s, nil
}

// append encodes row at the end of the spool.
func (s *spool) append(row *results.RecordRow) error {
	b := s.encode(s.buf[:0], row)
	s.buf = b
	hdr := binary.PutUvarint(s.hdr[:], uint64(len(b)))
	if _, err := s.w.Write(s.hdr[:hdr]); err != nil {
		return fmt.Errorf("record spool: %w", err)
	}
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("record spool: %w", err)
	}
	s.written += int64(hdr + len(b))
	return nil
}

// pending reports whether records wait to be drained.
func (s *spool) pending() bool { return s.drained < s.written }

// drain hands every record appended since the last drain to write, in
// order, until write returns false (the records after that one stay for the
// next drain). The row and its record are valid only during the call.
func (s *spool) drain(write func(*results.RecordRow) bool) error {
	if !s.pending() {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("record spool: %w", err)
	}
	r := bufio.NewReaderSize(io.NewSectionReader(s.f, s.drained, s.written-s.drained), spoolBuffer)
	for s.drained < s.written {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return fmt.Errorf("record spool: reading at %d: %w", s.drained, err)
		}
		if n > math.MaxInt32 {
			return fmt.Errorf("record spool: reading at %d: record of %d bytes", s.drained, n)
		}
		if uint64(cap(s.rbuf)) < n {
			s.rbuf = make([]byte, n)
		}
		s.rbuf = s.rbuf[:n]
		if _, err := io.ReadFull(r, s.rbuf); err != nil {
			return fmt.Errorf("record spool: reading at %d: %w", s.drained, err)
		}
		if err := s.decode(s.rbuf); err != nil {
			return fmt.Errorf("record spool: record at %d: %w", s.drained, err)
		}
		s.drained += int64(uvarintLen(n)) + int64(n)
		if !write(&s.row) {
			return nil
		}
	}
	return nil
}

// close removes the spool.
func (s *spool) close() {
	_ = s.f.Close()
	if s.path != "" {
		_ = os.Remove(s.path)
	}
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// seenMetric is a metric of the previous record and the schema column it
// matched (len(cols): kept whole).
type seenMetric struct {
	tag, unit    *byte
	tagLen       int
	unitLen      int
	integer, own bool
	col          int
}

// same reports whether mv has the seen metric's tag and unit strings (the
// same bytes: strings are immutable) and flags.
func (m *seenMetric) same(mv *results.MetricValue) bool {
	return unsafe.StringData(mv.Tag) == m.tag && len(mv.Tag) == m.tagLen && unsafe.StringData(mv.Unit) == m.unit &&
		len(mv.Unit) == m.unitLen && mv.Integer == m.integer && mv.Own == m.own
}

// see remembers that metric i of this record, mv, is schema column col.
func (s *spool) see(i int, mv *results.MetricValue, col int) {
	if i == len(s.seen) {
		s.seen = append(s.seen, seenMetric{})
	}
	s.seen[i] = seenMetric{tag: unsafe.StringData(mv.Tag), tagLen: len(mv.Tag), unit: unsafe.StringData(mv.Unit),
		unitLen: len(mv.Unit), integer: mv.Integer, own: mv.Own, col: col}
}

// Flags of a spooled record.
const (
	spConnReused = 1 << iota
	spStreamed
	spCancelled
	spError
)

// encode appends row: the record's scalar fields (every field of
// record.Record but its payload and parsed answer, which Spoolable
// exporters do not read), its metrics by schema column and its
// inter-chunk latencies. TestSpoolKeepsEveryScalarField guards the list.
func (s *spool) encode(b []byte, row *results.RecordRow) []byte {
	r := row.Rec
	var flags byte
	if r.ConnReused {
		flags |= spConnReused
	}
	if r.Streamed {
		flags |= spStreamed
	}
	if r.Cancelled {
		flags |= spCancelled
	}
	if r.Error != nil {
		flags |= spError
	}
	b = append(b, flags, byte(r.Phase))
	for _, v := range [...]int64{int64(r.PhaseIndex), int64(r.SessionNum), int64(r.TurnIndex), int64(r.NumTurns),
		int64(r.URLIndex), r.ScheduledNs, r.CreditNs, r.StartNs, r.SentNs, r.HeadersNs, r.EndNs, r.StartWallNs,
		int64(r.Status), r.BytesSent, r.BytesReceived, int64(r.Chunks), r.BlockedNs, r.DNSNs, r.ConnectNs, r.TLSNs,
		r.SendStartNs, r.FirstByteNs, r.LastByteNs, r.Usage.PromptTokens, r.Usage.CompletionTokens,
		r.Usage.TotalTokens, r.Usage.ReasoningTokens, r.Usage.CachedTokens, r.Usage.CacheWriteTokens,
		r.Usage.FirstContentChunkTokens, int64(r.RequestedOSL), int64(r.InputTokens), r.CancelledNs} {
		b = binary.AppendVarint(b, v)
	}
	b = appendSpoolString(b, r.ConversationID)
	b = appendSpoolString(b, r.XRequestID)
	b = appendSpoolString(b, r.XCorrelationID)
	b = appendSpoolString(b, r.Model)
	if e := r.Error; e != nil {
		b = binary.AppendVarint(b, int64(e.Code))
		b = appendSpoolString(b, e.Type)
		b = appendSpoolString(b, e.Message)
		b = appendSpoolString(b, e.Cause)
	}
	// Metrics come in schema order: each is its column's index, found
	// from where the last one matched; one outside the schema (none today)
	// is kept whole.
	cols := s.schema.Metrics
	b = binary.AppendUvarint(b, uint64(len(row.Metrics)))
	next := 0
	for i := range row.Metrics {
		mv := &row.Metrics[i]
		k := next
		if i < len(s.seen) && s.seen[i].same(mv) {
			// Any column of the same tag, unit and flags reads back as mv,
			// and so does mv kept whole.
			k = s.seen[i].col
		} else {
			for k < len(cols) && (cols[k].Tag != mv.Tag || cols[k].Unit != mv.Unit || cols[k].Integer != mv.Integer || cols[k].Own != mv.Own) {
				k++
			}
			s.see(i, mv, k)
		}
		if k < len(cols) {
			next = k + 1
			b = binary.AppendUvarint(b, uint64(k))
		} else {
			b = binary.AppendUvarint(b, uint64(len(cols)))
			b = appendSpoolString(b, mv.Tag)
			b = appendSpoolString(b, mv.Unit)
			b = append(b, boolByte(mv.Integer), boolByte(mv.Own))
		}
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(mv.Value))
	}
	b = binary.AppendUvarint(b, uint64(len(row.ICL)))
	for _, x := range row.ICL {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

// decode reads a record that encode wrote into s.row.
func (s *spool) decode(b []byte) error {
	d := spoolDecoder{b: b}
	flags, phase := d.byte(), d.byte()
	r := &s.rec
	*r = record.Record{Phase: record.Phase(phase), ConnReused: flags&spConnReused != 0,
		Streamed: flags&spStreamed != 0, Cancelled: flags&spCancelled != 0}
	ints := [...]*int64{&r.ScheduledNs, &r.CreditNs, &r.StartNs, &r.SentNs, &r.HeadersNs, &r.EndNs, &r.StartWallNs}
	r.PhaseIndex, r.SessionNum, r.TurnIndex, r.NumTurns, r.URLIndex = d.int(), d.int(), d.int(), d.int(), d.int()
	for _, p := range ints {
		*p = d.varint()
	}
	r.Status = d.int()
	r.BytesSent, r.BytesReceived, r.Chunks = d.varint(), d.varint(), int32(d.varint())
	for _, p := range [...]*int64{&r.BlockedNs, &r.DNSNs, &r.ConnectNs, &r.TLSNs, &r.SendStartNs, &r.FirstByteNs,
		&r.LastByteNs, &r.Usage.PromptTokens, &r.Usage.CompletionTokens, &r.Usage.TotalTokens,
		&r.Usage.ReasoningTokens, &r.Usage.CachedTokens, &r.Usage.CacheWriteTokens,
		&r.Usage.FirstContentChunkTokens} {
		*p = d.varint()
	}
	r.RequestedOSL, r.InputTokens, r.CancelledNs = d.int(), d.int(), d.varint()
	r.ConversationID, r.XRequestID, r.XCorrelationID, r.Model = d.string(), d.string(), d.string(), d.string()
	if flags&spError != 0 {
		r.Error = &record.ErrorDetails{Code: d.int(), Type: d.string(), Message: d.string(), Cause: d.string()}
	}
	cols := s.schema.Metrics
	n := d.uvarint()
	s.mets = s.mets[:0]
	for i := uint64(0); i < n && d.err == nil; i++ {
		var mv results.MetricValue
		if k := d.uvarint(); k < uint64(len(cols)) {
			c := &cols[k]
			mv.Tag, mv.Unit, mv.Integer, mv.Own = c.Tag, c.Unit, c.Integer, c.Own
		} else {
			mv.Tag, mv.Unit = d.string(), d.string()
			mv.Integer, mv.Own = d.byte() != 0, d.byte() != 0
		}
		mv.Value = d.float()
		s.mets = append(s.mets, mv)
	}
	s.icl = s.icl[:0]
	for i, n := 0, d.uvarint(); uint64(i) < n && d.err == nil; i++ {
		s.icl = append(s.icl, d.float())
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d bytes left over", len(d.b))
	}
	var icl []float64
	if len(s.icl) > 0 {
		icl = s.icl
	}
	s.row = results.RecordRow{Rec: r, Metrics: s.mets, ICL: icl}
	return d.err
}

func appendSpoolString(b []byte, v string) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// spoolDecoder reads encode's fields; the first short or malformed field
// sets err, and every later read returns zero.
type spoolDecoder struct {
	b   []byte
	err error
}

var errSpoolShort = errors.New("record cut short")

func (d *spoolDecoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.err = errSpoolShort
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *spoolDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errSpoolShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *spoolDecoder) int() int { return int(d.varint()) }

func (d *spoolDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errSpoolShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

// string copies: exporters may keep a row's strings past the call
// (Parquet buffers rows), and the read buffer is reused.
func (d *spoolDecoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = errSpoolShort
		return ""
	}
	v := string(d.b[:n])
	d.b = d.b[n:]
	return v
}

func (d *spoolDecoder) float() float64 {
	if d.err != nil || len(d.b) < 8 {
		d.err = errSpoolShort
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}
