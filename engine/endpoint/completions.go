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

type completionsParser struct {
	text  []byte // decode scratch
	shape chunkShape
}

// Reusable marks completionsParser as one that reads response after response.
func (p *completionsParser) Reusable() {}

var (
	textNames = []string{"text"}
	textSet   = newNameSet(textNames)
)

func (p *completionsParser) Message(m *sse.Message, rec *record.Record) {
	d, ok := streamData(m, rec)
	if !ok {
		return
	}
	if p.shape.add(d, m.PerfNs, rec) {
		return // the last plain chunk but for its text
	}
	if raw, ok := p.read(d, m.PerfNs, rec, record.ErrSSE); ok {
		p.shape.learn(d, raw, record.KindText)
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
// One pass reads plain JSON; anything else goes to parseLenient, which
// reads the same.
func (p *completionsParser) parse(obj []byte, perfNs int64, rec *record.Record, errType string) {
	p.read(obj, perfNs, rec, errType)
}

// read is parse that also reports (plain) when obj was read in one pass
// and did nothing but add the text of its first choice, whose raw token
// (quotes included, a part of obj) is str (chunkShape).
func (p *completionsParser) read(obj []byte, perfNs int64, rec *record.Record, errType string) (str []byte, plain bool) {
	var s choicesScan
	if !s.scan(obj, textSet, nil) {
		p.parseLenient(obj, perfNs, rec, errType)
		return nil, false
	}
	if checkPayloadError(s.top[3], obj, errType, rec) {
		return nil, false
	}
	completion := isCompletion(s.top[0])
	added := completion && p.addText(s.choice[0], perfNs, rec)
	if s.usageOK {
		setUsage(rec, perfNs, s.usage, added)
		return nil, false
	}
	if !completion || !isString(s.choice[0]) {
		return nil, false
	}
	return s.choice[0], true
}

// parseLenient is parse by the lenient scan of jsonscan.go.
func (p *completionsParser) parseLenient(obj []byte, perfNs int64, rec *record.Record, errType string) {
	var top [4][]byte
	if !fields(obj, choicesTopNames, top[:]) {
		return
	}
	if checkPayloadError(top[3], obj, errType, rec) {
		return
	}
	added := false
	if isCompletion(top[0]) {
		if choice := firstElem(top[1]); choice != nil {
			var f [1][]byte
			elemFields(choice, textNames, f[:])
			added = p.addText(f[0], perfNs, rec)
		}
	}
	if isObject(top[2]) {
		if u, ok := parseUsage(top[2]); ok {
			setUsage(rec, perfNs, u, added)
		}
	}
}

// isCompletion reports whether the object member (raw, nil when absent)
// names a completion.
func isCompletion(object []byte) bool {
	return object == nil || stringEq(object, "text_completion") || stringEq(object, "completion")
}

// addText records the raw text of the first choice when it is a non-empty
// string; it reports whether it did.
func (p *completionsParser) addText(raw []byte, perfNs int64, rec *record.Record) bool {
	text, _ := stringValue(raw, &p.text)
	if len(text) == 0 {
		return false
	}
	rec.AddText(perfNs, record.KindText, text, nil)
	return true
}
