package metrics

import (
	"math"

	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/tokenizer"
)

// RecordProcessor computes per-record values. Implementations are plugins
// of category record_processor; they run on the processing workers, several
// records at a time, and must not retain rec after returning.
type RecordProcessor interface {
	ProcessRecord(rec *record.Record, v *Values) error
}

// Values are one record's metrics in base units (ns, tokens, tokens/sec).
// NaN marks an absent metric: absent is never zero.
type Values struct {
	// Valid is AIPerf's validity (no error, content, sane timestamps).
	Valid bool
	V     [NumRecordMetrics]float64
	// ICL holds the inter-chunk gaps (ns) of a streamed answer.
	ICL []float64
	// UsageMissing is set when server token counts were asked for and the
	// record carried no usage; UsageClamped when completion < reasoning.
	UsageMissing, UsageClamped bool
	// b keeps the underived quantities the results stage stores.
	b base
}

// Reset clears v for reuse, keeping ICL's capacity.
func (v *Values) Reset() {
	icl := v.ICL[:0]
	*v = Values{ICL: icl}
	for i := range v.V {
		v.V[i] = math.NaN()
	}
	v.b = emptyBase
}

// Has reports whether metric id is present.
func (v *Values) Has(id int) bool { return !math.IsNaN(v.V[id]) }

// base is what a record contributes before derivation. The results stage
// stores these columns and derives every other metric from them, so the
// per-record memory is a few integers, not one float per metric.
type base struct {
	latency, ttft, ttst, ttfo int64    // ns, absent64
	full                      int64    // ns: request end − start (the whole answer), absent64
	issueDelay                int64    // ns, absent64
	creditLag                 int64    // ns: start − credit issued, absent64
	out, reas, isl            int64    // tokens, -1 absent
	requested                 int64    // requested output tokens, -1 absent
	firstChunk                int64    // per-chunk usage tokens of the first content chunk, -1 absent
	usage                     [6]int64 // in the order of the Usage* metric ids
	tr                        httpTrace
}

// httpTrace is a record's HTTP phases (record.Record's trace fields) as
// offsets: durations in ns, body stamps from the request start.
type httpTrace struct {
	on                         bool // the transport stamped the exchange
	blocked, dns, connect, tls int64
	sendStart, sending         int64 // send start − start; sent − send start
	firstByte, lastByte        int64 // from start; absent64 without a body
	sent, received, chunks     int64 // bytes, bytes, body reads
}

var emptyBase = base{latency: absent64, ttft: absent64, ttst: absent64, ttfo: absent64, full: absent64,
	issueDelay: absent64, creditLag: absent64, out: -1, reas: -1, isl: -1, requested: -1, firstChunk: -1,
	usage: [6]int64{-1, -1, -1, -1, -1, -1}}

// RecordMetrics is the built-in record processor (plugin metric_record):
// AIPerf's record metrics plus loadstar's schedule metrics.
type RecordMetrics struct {
	app Applicability
	// serverTokens takes token counts from the server's usage.
	serverTokens bool
	// perChunkUsage: the plan asked for usage on every streamed chunk, so
	// the first content chunk's token count divides ITL (with serverTokens).
	perChunkUsage bool
	// tok counts through a cache of texts counted before (tokenizer.Cached):
	// a benchmark sends the same prompts and gets the same answers again.
	tok textCounter
	// isl caches a payload's input token count by the payload's bytes (the
	// payload's parsing costs far more than counting its text).
	isl *tokenizer.CountCache
}

// textCounter counts the tokens of a string or, without copying it, of a
// byte slice (what tokenizer.Cached returns).
type textCounter interface {
	Count(text string) int
	tokenizer.ByteCounter
}

// NewRecordMetrics returns the record processor for a run with the given
// applicability. tok may be nil when serverTokens is set or when the
// endpoint neither produces tokens nor tokenizes input.
func NewRecordMetrics(app Applicability, serverTokens bool, tok tokenizer.Tokenizer) *RecordMetrics {
	app.ServerTokens = serverTokens
	m := &RecordMetrics{app: app, serverTokens: serverTokens}
	if tok != nil && !serverTokens {
		m.tok = tokenizer.Cached(tok).(textCounter) // Cached always counts bytes too
		m.isl = tokenizer.NewCountCache()
	}
	return m
}

// WithPerChunkUsage makes the first content chunk's server-reported token
// count the ITL divisor's first-token term (AIPerf's --per-chunk-usage with
// --use-server-token-count); it has no effect on client token counts.
func (m *RecordMetrics) WithPerChunkUsage(on bool) *RecordMetrics {
	m.perChunkUsage = on
	return m
}

// ProcessRecord implements RecordProcessor.
func (m *RecordMetrics) ProcessRecord(rec *record.Record, v *Values) error {
	v.Reset()
	normaliseError(rec)
	v.Valid = rec.Error == nil
	b := &v.b
	if rec.ScheduledNs > 0 && rec.StartNs > 0 {
		b.issueDelay = rec.StartNs - rec.ScheduledNs
	}
	if !v.Valid {
		// Error records run only the error-only metrics.
		if m.app.TokenizesInput {
			b.isl = m.inputTokens(rec, v)
		}
		derive(b, m.app, v)
		return nil
	}
	if rec.CreditNs > 0 && rec.StartNs >= rec.CreditNs {
		b.creditLag = rec.StartNs - rec.CreditNs
	}
	if rec.RequestedOSL >= 0 {
		b.requested = int64(rec.RequestedOSL)
	}
	m.timing(rec, v)
	httpPhases(rec, &b.tr)
	m.tokens(rec, v)
	derive(b, m.app, v)
	return nil
}

// httpPhases reads the transport's trace of rec.
func httpPhases(rec *record.Record, tr *httpTrace) {
	if rec.SendStartNs == 0 || rec.SentNs < rec.SendStartNs {
		return // not stamped (another transport), or never fully sent
	}
	*tr = httpTrace{on: true, blocked: rec.BlockedNs, dns: rec.DNSNs, connect: rec.ConnectNs, tls: rec.TLSNs,
		sendStart: rec.SendStartNs - rec.StartNs, sending: rec.SentNs - rec.SendStartNs,
		firstByte: absent64, lastByte: absent64,
		sent: rec.BytesSent, received: rec.BytesReceived, chunks: int64(rec.Chunks)}
	if rec.FirstByteNs > 0 {
		tr.firstByte, tr.lastByte = rec.FirstByteNs-rec.StartNs, rec.LastByteNs-rec.StartNs
	}
}

// normaliseError turns records that are invalid without an error into
// error records, as AIPerf does (2xx without content, bad timestamps,
// cancellations).
func normaliseError(rec *record.Record) {
	if rec.Error != nil {
		return
	}
	if rec.Cancelled {
		rec.SetError(record.CodeCancelled, record.ErrCancelled, "Request was cancelled")
		return
	}
	if rec.Valid() {
		return
	}
	msg := "Invalid inference result: no content in the response"
	if rec.StartNs < 0 || rec.StartNs >= rec.EndNs {
		msg = "Invalid inference result: request end is not after its start"
	} else {
		for i := range rec.Responses {
			if rec.Responses[i].PerfNs <= 0 {
				msg = "Invalid inference result: response without a timestamp"
				break
			}
		}
	}
	rec.SetError(0, record.ErrNoContent, msg)
}

// timing fills the latency bases from the content responses. The
// streaming-only bases (TTFT, TTST, TTFO, inter-chunk gaps) exist only for
// a record whose answer streamed on the wire (rec.Streamed): a streaming
// request answered with one JSON body has no first token to time (AIPerf's
// per-record streamed_request gate).
func (m *RecordMetrics) timing(rec *record.Record, v *Values) {
	b := &v.b
	start := rec.StartNs
	streamed := m.app.Streaming && rec.Streamed
	var first, second, last, prev int64
	n := 0
	iclOK := true
	for i := range rec.Responses {
		r := &rec.Responses[i]
		if !r.Kind.IsContent() {
			continue
		}
		switch n {
		case 0:
			first = r.PerfNs
		case 1:
			second = r.PerfNs
		}
		if n > 0 && streamed {
			gap := r.PerfNs - prev
			if gap < 0 {
				iclOK = false
			}
			v.ICL = append(v.ICL, float64(gap))
		}
		if b.ttfo == absent64 && r.HasOutputText() {
			b.ttfo = r.PerfNs - start
		}
		prev, last = r.PerfNs, r.PerfNs
		n++
	}
	b.latency = last - start
	if rec.EndNs >= last {
		b.full = rec.EndNs - start
	}
	if !streamed {
		b.ttfo = absent64
		return
	}
	b.ttft = first - start
	if n >= 2 {
		b.ttst = second - first
	}
	if !iclOK || n < 2 {
		// A negative gap makes the whole list invalid (AIPerf raises).
		v.ICL = v.ICL[:0]
	}
}

// tokens fills the token-count bases from server usage or the tokenizer.
func (m *RecordMetrics) tokens(rec *record.Record, v *Values) {
	b := &v.b
	u := rec.Usage
	if m.app.ProducesTokens || m.app.TokenizesInput {
		b.usage = [6]int64{u.PromptTokens, u.CompletionTokens, u.TotalTokens, u.ReasoningTokens, u.CachedTokens, u.CacheWriteTokens}
	}
	if m.serverTokens {
		if u.PromptTokens < 0 && u.CompletionTokens < 0 {
			v.UsageMissing = true
		}
		if m.perChunkUsage {
			// Read only under the opt-in: a server volunteering usage on
			// its content chunks must not change ITL (AIPerf).
			b.firstChunk = u.FirstContentChunkTokens
		}
		if m.app.TokenizesInput {
			b.isl = u.PromptTokens
		}
		if m.app.ProducesTokens {
			b.reas = u.ReasoningTokens
			if u.CompletionTokens >= 0 {
				out := u.CompletionTokens - max(u.ReasoningTokens, 0)
				if out < 0 {
					v.UsageClamped = true
					out = 0
				}
				b.out = out
			}
		}
		return
	}
	if m.app.TokenizesInput {
		b.isl = m.inputTokens(rec, v)
	}
	if m.app.ProducesTokens && m.tok != nil {
		if len(rec.Output) > 0 {
			b.out = int64(m.count(rec.Output))
		}
		if len(rec.Reasoning) > 0 {
			b.reas = int64(m.count(rec.Reasoning))
		}
	}
}

// count is the client token count of text, without copying it.
func (m *RecordMetrics) count(text []byte) int {
	return m.tok.CountBytes(text)
}

// inputTokens is the ISL of rec (AIPerf's compute_input_token_count): the
// tokens of every text of the payload actually sent, joined by a space —
// all message roles, the system prompt, earlier turns, tool definitions
// and tool calls. The dataset's count is used only when the sender found
// it to be that number (endpoint.Request.CountedInput: the payload holds
// the turn's one text and nothing else). -1 when unknown.
func (m *RecordMetrics) inputTokens(rec *record.Record, v *Values) int64 {
	if m.serverTokens {
		return rec.Usage.PromptTokens
	}
	if rec.InputTokens >= 0 {
		return int64(rec.InputTokens)
	}
	if m.tok == nil || len(rec.Payload) == 0 {
		return -1
	}
	return int64(m.isl.Count(rec.Payload, m.payloadTokens))
}

// payloadTokens is the ISL of a payload, -1 when it has no input text.
func (m *RecordMetrics) payloadTokens(payload []byte) int {
	text, pre, ok := payloadText(payload)
	if !ok {
		return -1
	}
	n := pre
	if text != "" {
		n += m.tok.Count(text)
	}
	return n
}

// derive computes every record metric from the bases. The results stage
// computes the same values from stored columns with value, so per-record
// values and the final statistics come from one set of formulas.
func derive(b *base, app Applicability, v *Values) {
	for id := range v.V {
		v.V[id] = math.NaN()
		if app.Applies(recordDefs[id].Flags) {
			v.V[id] = value(b, v.Valid, id)
		}
	}
}

// value returns metric id of a record with bases b (NaN when absent).
func value(b *base, valid bool, id int) float64 {
	if id == IssueDelay {
		return ns(b.issueDelay)
	}
	if !valid {
		if id == ErrorISL {
			return tokenCount(b.isl)
		}
		return math.NaN()
	}
	var x float64
	switch {
	case id >= HTTPBlocked && id <= HTTPChunksReceived:
		x = traceValue(&b.tr, b.full, id)
	case id >= UsagePrompt && id <= UsageCacheWrite:
		x = tokenCount(b.usage[id-UsagePrompt])
	default:
		x = timeValue(b, id)
	}
	if math.IsInf(x, 0) {
		return math.NaN()
	}
	return x
}

// timeValue computes the latency and token metrics of a valid record.
func timeValue(b *base, id int) float64 {
	switch id {
	case RequestLatency:
		return ns(b.latency)
	case TTFT:
		return ns(b.ttft)
	case TTST:
		return ns(b.ttst)
	case TTFO:
		return ns(b.ttfo)
	case ScheduledLatency:
		return ns(b.latency) + ns(b.issueDelay)
	case ScheduledTTFT:
		return ns(b.ttft) + ns(b.issueDelay)
	case DecodeDuration:
		return ns(b.latency) - ns(b.ttft)
	case FullDecodeDuration:
		return ns(b.full) - ns(b.ttft)
	case EffectiveLatency:
		return ns(b.full) + ns(b.creditLag)
	case CreditToStartLatency:
		return ns(b.creditLag)
	case OSL:
		return osl(b)
	case OutputTokenCount:
		// Absent when 0 or missing.
		if b.out > 0 {
			return float64(b.out)
		}
		return math.NaN()
	case ReasoningTokenCount:
		return tokenCount(b.reas)
	case ISL:
		return tokenCount(b.isl)
	}
	return rateValue(b, id)
}

// rateValue computes the per-token, per-user and comparison metrics.
func rateValue(b *base, id int) float64 {
	switch id {
	case ITL:
		return (ns(b.latency) - ns(b.ttft)) / decodeTokens(b)
	case FullITL:
		return (ns(b.full) - ns(b.ttft)) / decodeTokens(b)
	case OutputTPSPerUser:
		return perSecond(rateValue(b, ITL))
	case FullOutputTPSPerUser:
		return perSecond(rateValue(b, FullITL))
	case E2EOutputTPS:
		if lat := ns(b.latency); lat > 0 {
			return osl(b) / (lat / 1e9)
		}
	case PrefillTPSPerUser:
		if ttft := ns(b.ttft); ttft > 0 {
			return tokenCount(b.isl) / (ttft / 1e9)
		}
	case UsagePromptDiff:
		return diffPct(b.usage[0], tokenCount(b.isl))
	case UsageCompletionDiff:
		return diffPct(b.usage[1], osl(b))
	case UsageReasoningDiff:
		return diffPct(b.usage[3], tokenCount(b.reas))
	case OSLMismatchDiff:
		if b.requested > 0 {
			return (osl(b) - float64(b.requested)) / float64(b.requested) * 100
		}
	}
	return math.NaN()
}

// perSecond turns a per-token time (ns) into tokens per second; absent
// unless the time is positive.
func perSecond(t float64) float64 {
	if t > 0 {
		return 1e9 / t
	}
	return math.NaN()
}

// diffPct is AIPerf's usage difference: |server − client| / client · 100,
// absent when either count is, or the client's is 0.
func diffPct(server int64, client float64) float64 {
	if server < 0 || !(client > 0) {
		return math.NaN()
	}
	return math.Abs(float64(server)-client) / client * 100
}

// traceValue computes the HTTP trace metrics (k6's names, AIPerf's
// definitions) of a stamped record; full is the request's end − start.
func traceValue(tr *httpTrace, full int64, id int) float64 {
	if !tr.on {
		return math.NaN()
	}
	waiting, receiving := math.NaN(), math.NaN()
	if tr.firstByte != absent64 {
		waiting = float64(tr.firstByte - tr.sendStart - tr.sending)
		receiving = float64(tr.lastByte - tr.firstByte)
	}
	switch id {
	case HTTPBlocked:
		return float64(tr.blocked)
	case HTTPDNSLookup:
		return float64(tr.dns)
	case HTTPConnecting:
		// AIPerf's connecting includes the TLS handshake (aiohttp times them
		// as one); http_req_tls_handshaking is the handshake alone (k6).
		return float64(tr.connect + tr.tls)
	case HTTPTLSHandshaking:
		return float64(tr.tls)
	case HTTPSending:
		return float64(tr.sending)
	case HTTPWaiting:
		return waiting
	case HTTPReceiving:
		return receiving
	case HTTPDuration:
		return ns(full) - float64(tr.sendStart)
	case HTTPTotal:
		return float64(tr.blocked+tr.dns+tr.connect+tr.tls+tr.sending) + waiting + receiving
	case HTTPConnectionOverhead:
		return float64(tr.blocked + tr.dns + tr.connect + tr.tls)
	case HTTPConnectionReused:
		if tr.dns+tr.connect+tr.tls == 0 {
			return 1
		}
		return 0
	case HTTPDataSent:
		return float64(tr.sent)
	case HTTPDataReceived:
		return float64(tr.received)
	case HTTPChunksReceived:
		return float64(tr.chunks)
	}
	return math.NaN()
}

func ns(x int64) float64 {
	if x == absent64 {
		return math.NaN()
	}
	return float64(x)
}

func tokenCount(x int64) float64 {
	if x < 0 {
		return math.NaN()
	}
	return float64(x)
}

// osl is output + reasoning tokens, each 0 when absent; absent when both are.
func osl(b *base) float64 {
	if b.out < 0 && b.reas < 0 {
		return math.NaN()
	}
	return float64(max(b.out, 0) + max(b.reas, 0))
}

// decodeTokens is the ITL divisor (AIPerf's _decode_token_count): the
// tokens after the first content chunk. It is OSL − 1 unless per-chunk
// server usage reported the first chunk's tokens (firstChunk set only under
// per_chunk_usage with server token counts); a reported count that is not
// positive or leaves less than one decode token falls back to OSL − 1.
// NaN for OSL < 2 (ITL absent).
func decodeTokens(b *base) float64 {
	n := osl(b)
	if !(n >= 2) {
		return math.NaN()
	}
	if fc := b.firstChunk; fc > 0 && n-float64(fc) >= 1 {
		return n - float64(fc)
	}
	return n - 1
}
