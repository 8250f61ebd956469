package endpoint

import (
	"fmt"

	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// Embeddings is the OpenAI Embeddings endpoint (/v1/embeddings); with nim
// set it is NVIDIA NIM's, which also embeds images inline.
type Embeddings struct {
	base
	nim bool
}

func newEmbeddings(nim bool) func(*Settings, plugin.Args) (any, error) {
	return func(s *Settings, _ plugin.Args) (any, error) {
		if err := s.requireModel(); err != nil {
			return nil, err
		}
		return &Embeddings{base: base{s}, nim: nim}, nil
	}
}

// FormatPayload builds {"model": M, "input": [texts...]} plus the extras.
// Max tokens are never sent and the turn's extra body is not merged
// (wire.md §5). NIM with images: each input is "<text> <img src='URL'/>"
// (text and image counts must match) or "<img src='URL'/>" for images only.
func (e *Embeddings) FormatPayload(req *Request) ([]byte, error) {
	if len(req.Turns) == 0 {
		return nil, errNoTurns
	}
	t := req.Last()
	texts := flat(t.Texts)
	input := toAny(texts)
	if e.nim {
		if images := flat(t.Images); len(images) > 0 {
			switch {
			case len(texts) == 0:
				input = make([]any, len(images))
				for i, img := range images {
					input[i] = fmt.Sprintf("<img src='%s'/>", img)
				}
			case len(texts) == len(images):
				for i, img := range images {
					input[i] = fmt.Sprintf("%s <img src='%s'/>", texts[i], img)
				}
			default:
				return nil, fmt.Errorf("nim_embeddings: %d texts and %d images; with both, their counts must match", len(texts), len(images))
			}
		}
	}
	body := ordered.New(2 + e.s.Extra.Len())
	body.Set("model", e.s.Model(req))
	body.Set("input", input)
	body.Merge(e.s.Extra)
	return encode(body)
}

// NewParser returns an embeddings parser (stateless, shared).
func (e *Embeddings) NewParser() Parser { return embeddingsParser{} }

type embeddingsParser struct{}

var embeddingsTopNames = []string{"data", "error"}

func (p embeddingsParser) Message(m *sse.Message, rec *record.Record) {
	if d, ok := streamData(m, rec); ok {
		p.parse(d, m.PerfNs, rec, record.ErrSSE)
	}
}

func (p embeddingsParser) Body(contentType string, body []byte, perfNs int64, rec *record.Record) {
	if isEventStream(contentType) {
		bodyAsStream(p, body, perfNs, rec)
		return
	}
	p.parse(body, perfNs, rec, errAPI)
}

// parse counts data[]: every item must be an object with
// object == "embedding"; an empty list is no data.
func (embeddingsParser) parse(obj []byte, perfNs int64, rec *record.Record, errType string) {
	var top [2][]byte
	if !fields(obj, embeddingsTopNames, top[:]) {
		return
	}
	if checkPayloadError(top[1], obj, errType, rec) {
		return
	}
	n := 0
	it, ok := newArrIter(top[0])
	for ok {
		item, more := it.next()
		if !more {
			break
		}
		if !isObject(item) || !stringEq(field(item, "object"), "embedding") {
			rec.SetError(0, record.ErrParse, fmt.Sprintf("embeddings response: data[%d] is not an embedding object", n))
			return
		}
		n++
	}
	if n > 0 {
		rec.AddItems(perfNs, record.KindEmbeddings, n)
	}
	if u, ok := ResponseUsage(obj); ok {
		setUsage(rec, perfNs, u, n > 0)
	}
}
