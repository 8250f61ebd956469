package endpoint

import (
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// SolidoRAG is the Solido RAG pipeline endpoint (/rag/api/prompt).
type SolidoRAG struct{ base }

func newSolidoRAG(s *Settings, _ plugin.Args) (any, error) {
	if err := s.requireModel(); err != nil {
		return nil, err
	}
	return &SolidoRAG{base{s}}, nil
}

// FormatPayload builds {"query": [texts], "filters": {"family": "Solido",
// "tool": "SDE"}, "inference_model": M}, then the extras and the turn's
// extra body (a `filters` extra replaces the default filters).
func (r *SolidoRAG) FormatPayload(req *Request) ([]byte, error) {
	if len(req.Turns) == 0 {
		return nil, errNoTurns
	}
	t := req.Last()
	body := ordered.New(3)
	body.Set("query", toAny(flat(t.Texts)))
	body.Set("filters", ordered.FromPairs("family", "Solido", "tool", "SDE"))
	body.Set("inference_model", r.s.Model(req))
	mergeExtras(body, r.s, t)
	return encode(body)
}

// NewParser returns a Solido parser.
func (r *SolidoRAG) NewParser() Parser { return &solidoParser{} }

type solidoParser struct{ text []byte }

var solidoTopNames = []string{"content", "error"}

func (p *solidoParser) Message(m *sse.Message, rec *record.Record) {
	if d, ok := streamData(m, rec); ok {
		p.parse(d, m.PerfNs, rec, record.ErrSSE)
	}
}

func (p *solidoParser) Body(contentType string, body []byte, perfNs int64, rec *record.Record) {
	if isEventStream(contentType) {
		bodyAsStream(p, body, perfNs, rec)
		return
	}
	p.parse(body, perfNs, rec, errAPI)
}

// parse reads `content` as text (the `sources` list is not measured).
func (p *solidoParser) parse(obj []byte, perfNs int64, rec *record.Record, errType string) {
	var top [2][]byte
	if !fields(obj, solidoTopNames, top[:]) {
		return
	}
	if checkPayloadError(top[1], obj, errType, rec) {
		return
	}
	text, _ := stringValue(top[0], &p.text)
	if len(text) > 0 {
		rec.AddText(perfNs, record.KindText, text, nil)
	}
	if u, ok := ResponseUsage(obj); ok {
		setUsage(rec, perfNs, u, len(text) > 0)
	}
}
