package export

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
)

// flushEvery bounds how long finished records stay in memory before they
// reach the file.
const flushEvery = time.Second

// stream is a record file appended record by record.
type stream struct {
	path      string
	f         *os.File
	w         *bufio.Writer
	lastFlush time.Time
	line      []byte
}

func (s *stream) open(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	s.path, s.f, s.w, s.lastFlush = path, f, bufio.NewWriterSize(f, 256<<10), time.Now()
	return nil
}

// writeLine appends s.line and a newline, flushing at most every second.
func (s *stream) writeLine() error {
	if s.w == nil {
		return fmt.Errorf("export: record stream not open")
	}
	s.line = append(s.line, '\n')
	if _, err := s.w.Write(s.line); err != nil {
		return fmt.Errorf("export: %s: %w", s.path, err)
	}
	if now := time.Now(); now.Sub(s.lastFlush) >= flushEvery {
		s.lastFlush = now
		if err := s.w.Flush(); err != nil {
			return fmt.Errorf("export: %s: %w", s.path, err)
		}
	}
	return nil
}

func (s *stream) flush() error {
	if s.w == nil || s.w.Buffered() == 0 {
		return nil
	}
	s.lastFlush = time.Now()
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("export: %s: %w", s.path, err)
	}
	return nil
}

func (s *stream) close() (string, error) {
	if s.f == nil {
		return "", nil
	}
	err := s.w.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f, s.w = nil, nil
	if err != nil {
		return "", fmt.Errorf("export: %s: %w", s.path, err)
	}
	return s.path, nil
}

// JSONL writes profile_export.jsonl (plugin jsonl): one AIPerf
// MetricRecordInfo per request — metadata, metrics in display units,
// error. As AIPerf's msgspec encoder
// (omit_defaults), unset fields are left out and keys keep AIPerf's order;
// loadstar's own per-record metrics (issue delay, latencies from the
// schedule) follow in a "loadstar" object, where no AIPerf name can meet
// them.
type JSONL struct {
	// PerChunk includes list metrics (inter_chunk_latency) in each line;
	// AIPerf leaves them out unless per-chunk export is asked for.
	PerChunk bool
	s        stream
	// keys are the schema's metrics JSON-encoded once: appending them is a
	// copy, not an escape loop per byte (see metricKeys).
	keys []metricKey
}

// metricKey is one per-record metric column with its JSON encoded around
// the value: head is "tag":{"value": and tail ,"unit":"u"}.
type metricKey struct {
	tag, unit  string
	head, tail []byte
}

// metricKeys encodes the schema's metric columns for appendKnownMetric.
func metricKeys(schema *results.RecordSchema) []metricKey {
	if schema == nil {
		return nil
	}
	keys := make([]metricKey, len(schema.Metrics))
	for i, c := range schema.Metrics {
		k := &keys[i]
		k.tag, k.unit = c.Tag, c.Unit
		k.head = append(appendString(nil, c.Tag), `:{"value":`...)
		k.tail = append(appendString([]byte(`,"unit":`), c.Unit), '}')
	}
	return keys
}

// appendKnownMetric writes mv as appendMetricValue does, from its
// pre-encoded key when mv is a schema column at or after keys[*next]
// (row.Metrics lists its metrics in schema order, so the search resumes
// where the last one matched and usually hits at once).
func appendKnownMetric(b []byte, keys []metricKey, next *int, mv *results.MetricValue, comma bool) []byte {
	for k := *next; k < len(keys); k++ {
		if key := &keys[k]; key.tag == mv.Tag && key.unit == mv.Unit {
			*next = k + 1
			if comma {
				b = append(b, ',')
			}
			b = append(b, key.head...)
			b = appendNumber(b, mv.Value, mv.Integer)
			return append(b, key.tail...)
		}
	}
	return appendMetricValue(b, mv, comma)
}

// Kind implements Exporter.
func (*JSONL) Kind() string { return KindJSONL }

// Spoolable implements Spoolable.
func (*JSONL) Spoolable() {}

// Begin implements RecordExporter.
func (j *JSONL) Begin(t *Target, schema *results.RecordSchema) error {
	j.keys = metricKeys(schema)
	return j.s.open(t.Path(KindJSONL))
}

// WriteRecord implements RecordExporter.
func (j *JSONL) WriteRecord(row *results.RecordRow) error {
	b := append(j.s.line[:0], `{"metadata":`...)
	b = appendMetadata(b, row)
	b = append(b, `,"metrics":{`...)
	n, next := 0, 0
	for i := range row.Metrics {
		if mv := &row.Metrics[i]; !mv.Own {
			b = appendKnownMetric(b, j.keys, &next, mv, n > 0)
			n++
		}
	}
	if j.PerChunk && len(row.ICL) > 0 {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, `"inter_chunk_latency":{"value":[`...)
		for i, x := range row.ICL {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendPyFloat(b, x)
		}
		b = append(b, `],"unit":"ms"}`...)
	}
	b = append(b, '}')
	if e := row.Rec.Error; e != nil {
		b = append(b, `,"error":`...)
		b = appendError(b, e)
	}
	n, next = 0, 0
	for i := range row.Metrics {
		if mv := &row.Metrics[i]; mv.Own {
			if n == 0 {
				b = append(b, `,"loadstar":{`...)
			}
			b = appendKnownMetric(b, j.keys, &next, mv, n > 0)
			n++
		}
	}
	if n > 0 {
		b = append(b, '}')
	}
	b = append(b, '}')
	j.s.line = b
	return j.s.writeLine()
}

// appendMetricValue writes "tag":{"value":v,"unit":u}, after a comma when
// comma is set.
func appendMetricValue(b []byte, mv *results.MetricValue, comma bool) []byte {
	if comma {
		b = append(b, ',')
	}
	b = appendString(b, mv.Tag)
	b = append(b, `:{"value":`...)
	b = appendNumber(b, mv.Value, mv.Integer)
	b = append(b, `,"unit":`...)
	b = appendString(b, mv.Unit)
	return append(b, '}')
}

// Export implements Exporter: it closes the stream.
func (j *JSONL) Export(context.Context, *Target, *results.Summary) (string, error) {
	return j.s.close()
}

// Abort implements Aborter.
func (j *JSONL) Abort() { _, _ = j.s.close() }

// Flush implements Flusher.
func (j *JSONL) Flush() error { return j.s.flush() }

// appendMetadata writes AIPerf's MetricRecordMetadata
// (src/aiperf/common/metric_records_wire.py) in its field order, wall-clock
// ns, leaving out what is unset or at its default (was_cancelled false).
func appendMetadata(b []byte, row *results.RecordRow) []byte {
	r := row.Rec
	b = append(b, `{"session_num":`...)
	b = strconv.AppendInt(b, int64(r.SessionNum), 10)
	b = appendOptStringField(b, "x_request_id", r.XRequestID)
	b = appendOptStringField(b, "x_correlation_id", r.XCorrelationID)
	b = appendOptStringField(b, "conversation_id", r.ConversationID)
	b = append(b, `,"turn_index":`...)
	b = strconv.AppendInt(b, int64(r.TurnIndex), 10)
	b = appendOptIntField(b, "credit_issued_ns", row.Wall(r.CreditNs))
	b = append(b, `,"request_start_ns":`...)
	b = strconv.AppendInt(b, r.StartWallNs, 10)
	b = appendOptIntField(b, "request_ack_ns", row.Wall(r.HeadersNs))
	b = append(b, `,"request_end_ns":`...)
	b = strconv.AppendInt(b, row.Wall(r.EndNs), 10)
	b = append(b, `,"worker_id":"loadstar","record_processor_id":"loadstar","benchmark_phase":`...)
	b = appendString(b, r.Phase.String())
	if r.Cancelled {
		b = append(b, `,"was_cancelled":true`...)
		b = appendOptIntField(b, "cancellation_time_ns", row.Wall(r.CancelledNs))
	}
	return append(b, '}')
}

// appendError writes AIPerf's ErrorDetails (message, code, type, cause,
// cause_chain; unset ones left out), as errorDetails does in the summary.
func appendError(b []byte, e *record.ErrorDetails) []byte {
	a := aiperfError(e)
	b = append(b, `{"message":`...)
	b = appendString(b, a.message)
	if e.Code != 0 {
		b = append(b, `,"code":`...)
		b = strconv.AppendInt(b, int64(e.Code), 10)
	}
	b = appendOptStringField(b, "type", e.Type)
	b = appendOptStringField(b, "cause", e.Cause)
	if a.chain != "" {
		b = append(b, `,"cause_chain":[`...)
		b = appendString(b, a.chain)
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendOptStringField writes ,"key":"s" unless s is empty.
func appendOptStringField(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendString(b, s)
}

// appendOptIntField writes ,"key":v unless v is 0 (unset).
func appendOptIntField(b []byte, key string, v int64) []byte {
	if v == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

func appendOptInt(b []byte, v int64) []byte {
	if v == 0 {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, v, 10)
}

func appendOptString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

// appendNumber writes v as number(v, integer) would be encoded, without
// boxing it.
func appendNumber(b []byte, v float64, integer bool) []byte {
	if integer && isExactInt(v) {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return appendPyFloat(b, v)
}

// appendString writes s as a JSON string: UTF-8 literal, no HTML escaping,
// invalid bytes replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	// Most strings (ids, names, units) need no escaping: copy them whole.
	plain := 0
	for plain < len(s) && s[plain] >= 0x20 && s[plain] < 0x7f && s[plain] != '"' && s[plain] != '\\' {
		plain++
	}
	b = append(b, s[:plain]...)
	for i := plain; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// Raw writes profile_export_raw.jsonl (plugin raw): per request its
// metadata, the exact payload sent, the status and every parsed response
// with its arrival time. Request headers are not recorded (they may hold
// credentials).
type Raw struct {
	s stream
}

// Kind implements Exporter.
func (*Raw) Kind() string { return KindRaw }

// Begin implements RecordExporter.
func (r *Raw) Begin(t *Target, _ *results.RecordSchema) error { return r.s.open(t.Path(KindRaw)) }

// WriteRecord implements RecordExporter.
func (r *Raw) WriteRecord(row *results.RecordRow) error {
	rec := row.Rec
	b := append(r.s.line[:0], `{"metadata":`...)
	b = appendMetadata(b, row)
	b = append(b, `,"start_perf_ns":`...)
	b = strconv.AppendInt(b, rec.StartNs, 10)
	b = append(b, `,"payload":`...)
	b = appendPayload(b, rec.Payload)
	b = append(b, `,"status":`...)
	b = appendOptInt(b, int64(rec.Status))
	b = append(b, `,"responses":[`...)
	for i := range rec.Responses {
		resp := &rec.Responses[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"perf_ns":`...)
		b = strconv.AppendInt(b, resp.PerfNs, 10)
		b = append(b, `,"kind":`...)
		b = appendString(b, kindName(resp.Kind))
		if resp.OutputLen > 0 {
			b = append(b, `,"text":`...)
			b = appendString(b, string(rec.OutputText(resp)))
		}
		if resp.ReasoningLen > 0 {
			b = append(b, `,"reasoning":`...)
			b = appendString(b, string(rec.ReasoningText(resp)))
		}
		if resp.Items > 0 {
			b = append(b, `,"items":`...)
			b = strconv.AppendInt(b, int64(resp.Items), 10)
		}
		b = append(b, '}')
	}
	b = append(b, `],"usage":`...)
	b = appendUsage(b, &rec.Usage)
	if rec.Error != nil {
		b = append(b, `,"error":`...)
		b = appendError(b, rec.Error)
	}
	b = append(b, '}')
	r.s.line = b
	return r.s.writeLine()
}

// Export implements Exporter: it closes the stream.
func (r *Raw) Export(context.Context, *Target, *results.Summary) (string, error) { return r.s.close() }

// Abort implements Aborter.
func (r *Raw) Abort() { _, _ = r.s.close() }

// Flush implements Flusher.
func (r *Raw) Flush() error { return r.s.flush() }

func kindName(k record.Kind) string {
	switch k {
	case record.KindText:
		return "text"
	case record.KindReasoning:
		return "reasoning"
	case record.KindToolCall:
		return "tool_call"
	case record.KindEmbeddings:
		return "embeddings"
	case record.KindRankings:
		return "rankings"
	case record.KindImage:
		return "image"
	case record.KindPlaceholder:
		return "placeholder"
	case record.KindUsage:
		return "usage"
	}
	return "unknown"
}

func appendUsage(b []byte, u *record.Usage) []byte {
	fields := []struct {
		k string
		v int64
	}{{"prompt_tokens", u.PromptTokens}, {"completion_tokens", u.CompletionTokens}, {"total_tokens", u.TotalTokens},
		{"reasoning_tokens", u.ReasoningTokens}, {"cached_tokens", u.CachedTokens}, {"cache_write_tokens", u.CacheWriteTokens}}
	b = append(b, '{')
	n := 0
	for _, f := range fields {
		if f.v < 0 {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.k)
		b = append(b, ':')
		b = strconv.AppendInt(b, f.v, 10)
		n++
	}
	if n == 0 {
		return append(b[:len(b)-1], "null"...)
	}
	return append(b, '}')
}

// appendPayload writes a payload as JSON when it is a JSON document
// (compacted, exact value), else as a JSON string.
func appendPayload(b []byte, p []byte) []byte {
	if len(p) == 0 {
		return append(b, "null"...)
	}
	if compact, ok := compactJSON(p); ok {
		return append(b, compact...)
	}
	return appendString(b, string(p))
}
