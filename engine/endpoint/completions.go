package endpoint

import (
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// Completions is the OpenAI (legacy) Completions endpoint (/v1/completions).
// It sends the last turn only.
type Completions struct{ base }

func newCompletions(s *Settings, _ plugin.Args) (any, error) {
	if err := s.requireModel(); err != nil {
		return nil, err
	}
	return &Completions{base{s}}, nil
}

// FormatPayload builds {prompt, model, stream, max_tokens (only when > 0),
// extras, extra body, stream_options}. prompt is a bare string when the turn
// has exactly one non-empty text, else a list.
func (c *Completions) FormatPayload(req *Request) ([]byte, error) {
	if len(req.Turns) == 0 {
		return nil, errNoTurns
	}
	t := req.Last()
	texts := nonEmpty(flat(t.Texts))
	body := ordered.New(6)
	if len(texts) == 1 {
		body.Set("prompt", texts[0])
	} else {
		body.Set("prompt", toAny(texts))
	}
	body.Set("model", c.s.Model(req))
	body.Set("stream", c.s.Streaming)
	if n := maxTokens(t); n > 0 {
		body.Set("max_tokens", n)
	}
	mergeExtras(body, c.s, t)
	applyStreamOptions(body)
	return encode(body)
}

// NewParser returns a completions parser.
func (c *Completions) NewParser() Parser { return &completionsParser{} }

type completionsParser struct{ text []byte }

var (
	completionsTopNames = []string{"object", "choices", "usage", "error"}
	textNames           = []string{"text"}
)

func (p *completionsParser) Message(m *sse.Message, rec *record.Record) {
	if d, ok := streamData(m, rec); ok {
		p.parse(d, m.PerfNs, rec, record.ErrSSE)
	}
}

func (p *completionsParser) Body(contentType string, body []byte, perfNs int64, rec *record.Record) {
	if isEventStream(contentType) {
		bodyAsStream(p, body, perfNs, rec)
		return
	}
	p.parse(body, perfNs, rec, errAPI)
}

// parse reads choices[0].text of a completion / text_completion object.
func (p *completionsParser) parse(obj []byte, perfNs int64, rec *record.Record, errType string) {
	var top [4][]byte
	if !fields(obj, completionsTopNames, top[:]) {
		return
	}
	if checkPayloadError(top[3], obj, errType, rec) {
		return
	}
	added := false
	if top[0] == nil || stringEq(top[0], "text_completion") || stringEq(top[0], "completion") {
		if choice := firstElem(top[1]); choice != nil {
			var f [1][]byte
			elemFields(choice, textNames, f[:])
			if text, _ := stringValue(f[0], &p.text); len(text) > 0 {
				rec.AddText(perfNs, record.KindText, text, nil)
				added = true
			}
		}
	}
	if isObject(top[2]) {
		if u, ok := parseUsage(top[2]); ok {
			setUsage(rec, perfNs, u, added)
		}
	}
}
