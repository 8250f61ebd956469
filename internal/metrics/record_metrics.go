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
	issueDelay                int64    // ns, absent64
	out, reas, isl            int64    // tokens, -1 absent
	firstChunk                int64    // per-chunk usage tokens of the first content chunk, -1 absent
	usage                     [6]int64 // in the order of the Usage* metric ids
}

var emptyBase = base{latency: absent64, ttft: absent64, ttst: absent64, ttfo: absent64, issueDelay: absent64,
	out: -1, reas: -1, isl: -1, firstChunk: -1, usage: [6]int64{-1, -1, -1, -1, -1, -1}}

// RecordMetrics is the built-in record processor (plugin metric_record):
// AIPerf's record metrics plus loadstar's schedule metrics.
type RecordMetrics struct {
	app Applicability
	// serverTokens takes token counts from the server's usage.
	serverTokens bool
	tok          tokenizer.Tokenizer
}

// NewRecordMetrics returns the record processor for a run with the given
// applicability. tok may be nil when serverTokens is set or when the
// endpoint neither produces tokens nor tokenizes input.
func NewRecordMetrics(app Applicability, serverTokens bool, tok tokenizer.Tokenizer) *RecordMetrics {
	return &RecordMetrics{app: app, serverTokens: serverTokens, tok: tok}
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
	m.timing(rec, v)
	m.tokens(rec, v)
	derive(b, m.app, v)
	return nil
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

// timing fills the latency bases from the content responses.
func (m *RecordMetrics) timing(rec *record.Record, v *Values) {
	b := &v.b
	start := rec.StartNs
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
		if n > 0 && m.app.Streaming {
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
	if !m.app.Streaming {
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
		b.firstChunk = u.FirstContentChunkTokens
	}
	if m.serverTokens {
		if u.PromptTokens < 0 && u.CompletionTokens < 0 {
			v.UsageMissing = true
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
			b.out = int64(m.tok.Count(string(rec.Output)))
		}
		if len(rec.Reasoning) > 0 {
			b.reas = int64(m.tok.Count(string(rec.Reasoning)))
		}
	}
}

// inputTokens is the ISL of rec: the composer's count when it knew it,
// else the tokens of the texts of the wire payload; -1 when unknown.
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
	text, pre, ok := payloadText(rec.Payload)
	if !ok {
		return -1
	}
	n := int64(pre)
	if text != "" {
		n += int64(m.tok.Count(text))
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
	switch id {
	case RequestLatency:
		x = ns(b.latency)
	case TTFT:
		x = ns(b.ttft)
	case TTST:
		x = ns(b.ttst)
	case TTFO:
		x = ns(b.ttfo)
	case ScheduledLatency:
		x = ns(b.latency) + ns(b.issueDelay)
	case ScheduledTTFT:
		x = ns(b.ttft) + ns(b.issueDelay)
	case DecodeDuration:
		x = ns(b.latency) - ns(b.ttft)
	case OSL:
		x = osl(b)
	case OutputTokenCount:
		// Absent when 0 or missing.
		x = math.NaN()
		if b.out > 0 {
			x = float64(b.out)
		}
	case ReasoningTokenCount:
		x = tokenCount(b.reas)
	case ISL:
		x = tokenCount(b.isl)
	case ITL:
		x = itl(b)
	case OutputTPSPerUser:
		x = math.NaN()
		if t := itl(b); t > 0 {
			x = 1e9 / t
		}
	case E2EOutputTPS:
		x = math.NaN()
		if lat := ns(b.latency); lat > 0 {
			x = osl(b) / (lat / 1e9)
		}
	case PrefillTPSPerUser:
		x = math.NaN()
		if ttft := ns(b.ttft); ttft > 0 {
			x = tokenCount(b.isl) / (ttft / 1e9)
		}
	case UsagePrompt, UsageCompletion, UsageTotal, UsageReasoning, UsageCacheRead, UsageCacheWrite:
		x = tokenCount(b.usage[id-UsagePrompt])
	default:
		return math.NaN()
	}
	if math.IsInf(x, 0) {
		return math.NaN()
	}
	return x
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

// itl is (latency − TTFT) / decode tokens; absent for OSL < 2. The divisor
// is OSL − 1, or OSL − first-chunk tokens when per-chunk usage reported
// 0 < first chunk < OSL (a server bundling several tokens in its first chunk).
func itl(b *base) float64 {
	n := osl(b)
	if !(n >= 2) {
		return math.NaN()
	}
	div := n - 1
	if fc := b.firstChunk; fc > 0 && n-float64(fc) >= 1 {
		div = n - float64(fc)
	}
	return (ns(b.latency) - ns(b.ttft)) / div
}
