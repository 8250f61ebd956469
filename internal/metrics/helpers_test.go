package metrics

import (
	"math"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
)

// words is a test tokenizer: one token per whitespace-separated word.
type words struct{}

func (words) Name() string             { return "words" }
func (words) Encode(text string) []int { return make([]int, len(strings.Fields(text))) }
func (words) Decode(ids []int) string  { return strings.Repeat("w ", len(ids)) }
func (words) Count(text string) int    { return len(strings.Fields(text)) }

var chatMeta = plugin.EndpointMetadata{EndpointPath: "/v1/chat/completions", ServiceKind: "openai",
	SupportsStreaming: true, ProducesTokens: true, TokenizesInput: true, MetricsTitle: "LLM Metrics"}

var streamingChat = Applicability{Streaming: true, ProducesTokens: true, TokenizesInput: true}

// chunk is one response of a test record: a time offset (ns after start)
// and texts.
type chunk struct {
	at        int64
	text      string
	reasoning string
	usage     *record.Usage
}

// streamRecord builds a valid profiling record starting at start (mono ns)
// and wall (Unix ns) with the given responses.
func streamRecord(start, wall int64, chunks ...chunk) *record.Record {
	r := record.New()
	r.StartNs, r.StartWallNs, r.SentNs, r.HeadersNs = start, wall, start+1, start+2
	r.Status, r.Streamed = 200, true // an event-stream answer
	r.XRequestID, r.XCorrelationID, r.ConversationID = "req", "corr", "conv"
	r.InputTokens = 7
	end := start
	for _, c := range chunks {
		t := start + c.at
		switch {
		case c.usage != nil:
			r.AddUsage(t, *c.usage)
		case c.reasoning != "":
			r.AddText(t, record.KindReasoning, []byte(c.text), []byte(c.reasoning))
		default:
			r.AddText(t, record.KindText, []byte(c.text), nil)
		}
		end = max(end, t)
	}
	r.EndNs = end + 1
	return r
}

func process(t *testing.T, app Applicability, server bool, rec *record.Record) *Values {
	t.Helper()
	m := NewRecordMetrics(app, server, words{})
	v := &Values{}
	if err := m.ProcessRecord(rec, v); err != nil {
		t.Fatal(err)
	}
	return v
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// want checks metric values of v; NaN means absent.
func want(t *testing.T, v *Values, exp map[int]float64) {
	t.Helper()
	for id, x := range exp {
		if !near(v.V[id], x) {
			t.Errorf("%s = %v, want %v", recordDefs[id].Tag, v.V[id], x)
		}
	}
}

var nan = math.NaN()
