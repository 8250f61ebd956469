package endpoint

import (
	"strings"

	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// HuggingFaceGenerate is Hugging Face TGI's native API: /generate, or
// /generate_stream when streaming (a token stream with no [DONE]).
type HuggingFaceGenerate struct{ base }

func newHuggingFaceGenerate(s *Settings, _ plugin.Args) (any, error) {
	return &HuggingFaceGenerate{base{s}}, nil
}

// FormatPayload builds {"inputs": texts joined by a space, "parameters":
// {"max_new_tokens": N when > 0, ...extras}}; the turn's extra body is
// merged at the top level.
func (h *HuggingFaceGenerate) FormatPayload(req *Request) ([]byte, error) {
	if len(req.Turns) == 0 {
		return nil, errNoTurns
	}
	t := req.Last()
	params := ordered.New(1 + h.s.Extra.Len())
	if n := maxTokens(t); n > 0 { // TGI rejects 0
		params.Set("max_new_tokens", n)
	}
	params.Merge(h.s.Extra)
	body := ordered.New(2)
	body.Set("inputs", strings.Join(nonEmpty(flat(t.Texts)), " "))
	body.Set("parameters", params)
	body.Merge(t.ExtraBody)
	return encode(body)
}

// NewParser returns a TGI parser (stateless, shared).
func (h *HuggingFaceGenerate) NewParser() Parser { return tgiParser{} }

type tgiParser struct{}

var (
	tgiTopNames   = []string{"token", "generated_text", "error"}
	tgiTokenNames = []string{"text"}

	tgiTopSet   = newNameSet(tgiTopNames)
	tgiTokenSet = newNameSet(tgiTokenNames)
)

// Message reads one stream event: only token.text counts (never
// generated_text, which repeats the whole answer on the last event). One
// pass reads plain JSON; anything else goes to the lenient scan, which
// reads the same.
func (p tgiParser) Message(m *sse.Message, rec *record.Record) {
	d, ok := streamData(m, rec)
	if !ok {
		return
	}
	var top [3][]byte
	var tok [1][]byte
	if !scanMembers(d, tgiTopSet, top[:], 0, tgiTokenSet, tok[:]) {
		if !fields(d, tgiTopNames, top[:]) {
			return
		}
		fields(top[0], tgiTokenNames, tok[:])
	}
	if checkPayloadError(top[2], d, record.ErrSSE, rec) {
		return
	}
	var scratch []byte
	if text, _ := stringValue(tok[0], &scratch); len(text) > 0 {
		rec.AddText(m.PerfNs, record.KindText, text, nil)
	}
}

// Body reads {"generated_text": ...} or [{"generated_text": ...}].
func (p tgiParser) Body(contentType string, body []byte, perfNs int64, rec *record.Record) {
	if isEventStream(contentType) {
		bodyAsStream(p, body, perfNs, rec)
		return
	}
	obj := trimJSON(body)
	if isArray(obj) {
		obj = index(obj, 0)
	}
	var top [3][]byte
	if !fields(obj, tgiTopNames, top[:]) {
		return
	}
	if checkPayloadError(top[2], obj, errAPI, rec) {
		return
	}
	var scratch []byte
	if text, _ := stringValue(top[1], &scratch); len(text) > 0 {
		rec.AddText(perfNs, record.KindText, text, nil)
	}
}
