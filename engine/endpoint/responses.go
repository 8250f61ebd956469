package endpoint

import (
	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// Responses is the OpenAI Responses API endpoint (/v1/responses).
type Responses struct{ base }

func newResponses(s *Settings, _ plugin.Args) (any, error) {
	if err := s.requireModel(); err != nil {
		return nil, err
	}
	return &Responses{base{s}}, nil
}

// FormatPayload builds {input, model, stream, instructions (the system
// prompt), max_output_tokens (when set), tools}, then the extras and the
// turn's extra body. input holds message items: the user context first,
// then one item per turn (raw messages spliced as-is); content is a bare
// string for one text, else input_text / input_image / input_audio parts
// (output_text for assistant turns). Videos are refused.
func (r *Responses) FormatPayload(req *Request) ([]byte, error) {
	if len(req.Turns) == 0 {
		return nil, errNoTurns
	}
	last := req.Last()
	var prefix []any
	sys := ""
	if conv := req.Conversation; conv != nil {
		sys = conv.SystemPrompt
		if conv.UserContext != "" {
			prefix = append(prefix, ordered.FromPairs("type", "message", "role", "user", "content", conv.UserContext))
		}
	}
	input, err := turnMessages(req, prefix, func(t *dataset.Turn) (any, error) {
		textType := "input_text"
		if role(t) == "assistant" {
			textType = "output_text"
		}
		content, err := chatContent(t, textType, true)
		if err != nil {
			return nil, err
		}
		return ordered.FromPairs("type", "message", "role", role(t), "content", content), nil
	})
	if err != nil {
		return nil, err
	}
	body := ordered.New(8)
	body.Set("input", input)
	body.Set("model", r.s.Model(req))
	body.Set("stream", r.s.Streaming)
	if sys != "" {
		body.Set("instructions", sys)
	}
	if n := maxTokens(last); n >= 0 {
		body.Set("max_output_tokens", n)
	}
	if last.Tools != nil {
		body.Set("tools", last.Tools)
	}
	mergeExtras(body, r.s, last)
	return encode(body)
}

// NewParser returns a parser for one response (it remembers which output
// parts were streamed as deltas).
func (r *Responses) NewParser() Parser { return &responsesParser{} }

type responsesParser struct {
	text    []byte
	covered [][2]int64 // (output_index, content_index) pairs seen in deltas
}

var responsesEventNames = []string{"type", "delta", "text", "output_index", "content_index", "response", "error", "code", "message"}

const (
	reType = iota
	reDelta
	reText
	reOutputIndex
	reContentIndex
	reResponse
	reError
	reCode
	reMessage
	reCount
)

// Message handles one stream event (wire.md §5 responses): text, reasoning
// and function-call argument deltas are content; output_text.done repeats
// text already streamed, so it only adds an empty placeholder for timing
// when deltas covered the same part; response.completed / incomplete carry
// the usage; error and response.failed fail the record.
func (p *responsesParser) Message(m *sse.Message, rec *record.Record) {
	d, ok := streamData(m, rec)
	if !ok {
		return
	}
	var f [reCount][]byte
	if !fields(d, responsesEventNames, f[:]) {
		return
	}
	// Event types hold no escapes; the SSE event name stands in when the
	// data lacks its type.
	typ := m.Event
	if isString(f[reType]) {
		typ = f[reType][1 : len(f[reType])-1]
	}
	p.byName(typ, f[:], d, m.PerfNs, rec)
}

func (p *responsesParser) byName(typ []byte, f [][]byte, d []byte, perfNs int64, rec *record.Record) {
	switch string(typ) {
	case "response.output_text.delta":
		if text, _ := stringValue(f[reDelta], &p.text); len(text) > 0 {
			p.cover(f)
			rec.AddText(perfNs, record.KindText, text, nil)
		}
	case "response.reasoning_text.delta", "response.reasoning_summary_text.delta":
		if text, _ := stringValue(f[reDelta], &p.text); len(text) > 0 {
			rec.AddText(perfNs, record.KindReasoning, nil, text)
		}
	case "response.function_call_arguments.delta":
		if text, _ := stringValue(f[reDelta], &p.text); len(text) > 0 {
			rec.AddText(perfNs, record.KindToolCall, text, nil)
		}
	case "response.output_text.done":
		if p.isCovered(f) {
			rec.AddText(perfNs, record.KindPlaceholder, nil, nil)
		} else if text, _ := stringValue(f[reText], &p.text); len(text) > 0 {
			rec.AddText(perfNs, record.KindText, text, nil)
		}
	case "response.completed", "response.incomplete":
		if u, ok := ResponseUsage(f[reResponse]); ok {
			setUsage(rec, perfNs, u, false)
		}
	case "response.failed":
		e, _ := ParseAPIError(f[reResponse])
		msg := e.Message
		if msg == "" {
			msg = "response failed"
		}
		rec.SetError(errorCode(e.Code), record.ErrSSE, msg)
	case "error":
		if checkPayloadError(f[reError], d, record.ErrSSE, rec) {
			return
		}
		code, _ := intValue(f[reCode])
		msg, _ := appendString(nil, f[reMessage])
		if len(msg) == 0 {
			msg = []byte(unknownSSEError)
		}
		rec.SetError(errorCode(int(code)), record.ErrSSE, string(msg))
	default:
		checkPayloadError(f[reError], d, record.ErrSSE, rec)
	}
}

func (p *responsesParser) key(f [][]byte) [2]int64 {
	oi, _ := intValue(f[reOutputIndex])
	ci, _ := intValue(f[reContentIndex])
	return [2]int64{oi, ci}
}

func (p *responsesParser) cover(f [][]byte) {
	k := p.key(f)
	if !p.isCovered(f) {
		p.covered = append(p.covered, k)
	}
}

func (p *responsesParser) isCovered(f [][]byte) bool {
	k := p.key(f)
	for _, c := range p.covered {
		if c == k {
			return true
		}
	}
	return false
}

var (
	responseBodyNames = []string{"object", "output", "output_text", "error"}
	outputItemNames   = []string{"type", "content", "summary", "name", "arguments"}
	outputPartNames   = []string{"type", "text"}
)

// Body reads a whole `object: "response"`: reasoning summary/text, message
// output_text and function_call name+arguments over output[], falling back
// to a top-level output_text string; then the usage.
func (p *responsesParser) Body(contentType string, body []byte, perfNs int64, rec *record.Record) {
	if isEventStream(contentType) {
		bodyAsStream(p, body, perfNs, rec)
		return
	}
	var top [4][]byte
	if !fields(body, responseBodyNames, top[:]) {
		return
	}
	if checkPayloadError(top[3], body, errAPI, rec) {
		return
	}
	var reasoning, text, tools []byte
	it, ok := newArrIter(top[1])
	for ok {
		item, more := it.next()
		if !more {
			break
		}
		var f [5][]byte
		fields(item, outputItemNames, f[:])
		switch {
		case stringEq(f[0], "reasoning"):
			reasoning = appendParts(reasoning, f[2], "summary_text")
			reasoning = appendParts(reasoning, f[1], "reasoning_text")
		case stringEq(f[0], "message"):
			text = appendParts(text, f[1], "output_text")
		case stringEq(f[0], "function_call"):
			tools = appendText(tools, f[3])
			tools = appendText(tools, f[4])
		}
	}
	if len(text) == 0 && len(reasoning) == 0 && len(tools) == 0 {
		text = appendText(text, top[2])
	}
	added := true
	switch {
	case len(reasoning) > 0:
		rec.AddText(perfNs, record.KindReasoning, append(text, tools...), reasoning)
	case len(text) > 0:
		rec.AddText(perfNs, record.KindText, append(text, tools...), nil)
	case len(tools) > 0:
		rec.AddText(perfNs, record.KindToolCall, tools, nil)
	default:
		added = false
	}
	if u, ok := ResponseUsage(body); ok {
		setUsage(rec, perfNs, u, added)
	}
}

// appendParts appends the text of every part of the given type in parts.
func appendParts(dst, parts []byte, typ string) []byte {
	it, ok := newArrIter(parts)
	for ok {
		part, more := it.next()
		if !more {
			break
		}
		var f [2][]byte
		fields(part, outputPartNames, f[:])
		if stringEq(f[0], typ) {
			dst = appendText(dst, f[1])
		}
	}
	return dst
}
