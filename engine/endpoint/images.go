package endpoint

import (
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// ImageGeneration is the OpenAI Images endpoint (/v1/images/generations).
type ImageGeneration struct{ base }

func newImageGeneration(s *Settings, _ plugin.Args) (any, error) {
	if err := s.requireModel(); err != nil {
		return nil, err
	}
	return &ImageGeneration{base{s}}, nil
}

// FormatPayload builds {"prompt": first text, "model": M,
// "response_format": "b64_json", "n": 1, "stream": true (only when
// streaming)}, then the extras and the turn's extra body.
func (g *ImageGeneration) FormatPayload(req *Request) ([]byte, error) {
	if len(req.Turns) == 0 {
		return nil, errNoTurns
	}
	t := req.Last()
	body := ordered.New(5)
	body.Set("prompt", t.FirstText())
	body.Set("model", g.s.Model(req))
	body.Set("response_format", "b64_json")
	body.Set("n", 1)
	if g.s.Streaming {
		body.Set("stream", true)
	}
	mergeExtras(body, g.s, t)
	return encode(body)
}

// NewParser returns an image parser (stateless, shared).
func (g *ImageGeneration) NewParser() Parser { return imageParser{} }

type imageParser struct{}

var imageTopNames = []string{"b64_json", "data", "error"}

func (p imageParser) Message(m *sse.Message, rec *record.Record) {
	if d, ok := streamData(m, rec); ok {
		p.parse(d, m.PerfNs, rec, record.ErrSSE)
	}
}

func (p imageParser) Body(contentType string, body []byte, perfNs int64, rec *record.Record) {
	if isEventStream(contentType) {
		bodyAsStream(p, body, perfNs, rec)
		return
	}
	p.parse(body, perfNs, rec, errAPI)
}

// parse counts images: a streamed event's top-level b64_json (partial or
// final image) is one; a whole response counts its data[] items (url,
// b64_json or revised_prompt objects).
func (imageParser) parse(obj []byte, perfNs int64, rec *record.Record, errType string) {
	var top [3][]byte
	if !fields(obj, imageTopNames, top[:]) {
		return
	}
	if checkPayloadError(top[2], obj, errType, rec) {
		return
	}
	n := 0
	if truthy(top[0]) {
		n = 1
	} else {
		n = countObjects(top[1])
	}
	if n > 0 {
		rec.AddItems(perfNs, record.KindImage, n)
	}
	if u, ok := ResponseUsage(obj); ok {
		setUsage(rec, perfNs, u, n > 0)
	}
}
