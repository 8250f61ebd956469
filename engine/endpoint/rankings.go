package endpoint

import (
	"errors"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// rankingsVendor selects one of the rankings wire shapes.
type rankingsVendor uint8

const (
	vendorNIM    rankingsVendor = iota + 1 // /v1/ranking
	vendorCohere                           // /v2/rerank
	vendorTEI                              // /rerank
)

// Rankings is a reranking endpoint: NVIDIA NIM, Cohere or Hugging Face TEI.
// The query is the turn's text named "query" (or "queries"; first content
// used), the passages its texts named "passages" (or "passage").
type Rankings struct {
	base
	vendor rankingsVendor
}

func newRankings(v rankingsVendor) func(*Settings, plugin.Args) (any, error) {
	return func(s *Settings, _ plugin.Args) (any, error) {
		if v != vendorTEI {
			if err := s.requireModel(); err != nil {
				return nil, err
			}
		}
		return &Rankings{base: base{s}, vendor: v}, nil
	}
}

var errNoQuery = errors.New(`rankings: the turn has no text named "query" (rankings datasets name their texts "query" and "passages")`)

// queryAndPassages extracts the rankings inputs of a turn.
func queryAndPassages(t *dataset.Turn) (string, []string, error) {
	q, ok := named(t.Texts, "query", "queries")
	if !ok || len(q) == 0 {
		return "", nil, errNoQuery
	}
	p, _ := named(t.Texts, "passages", "passage")
	return q[0], p, nil
}

// FormatPayload builds the vendor's body (wire.md §5 rankings), then merges
// the extras and the turn's extra body:
//
//	nim:    {"model":M,"query":{"text":Q},"passages":[{"text":P},...]}
//	cohere: {"model":M,"query":Q,"documents":[P,...]}
//	tei:    {"query":Q,"texts":[P,...]}
func (r *Rankings) FormatPayload(req *Request) ([]byte, error) {
	if len(req.Turns) == 0 {
		return nil, errNoTurns
	}
	t := req.Last()
	q, passages, err := queryAndPassages(t)
	if err != nil {
		return nil, err
	}
	body := ordered.New(3)
	switch r.vendor {
	case vendorNIM:
		ps := make([]any, len(passages))
		for i, p := range passages {
			ps[i] = ordered.FromPairs("text", p)
		}
		body.Set("model", r.s.Model(req))
		body.Set("query", ordered.FromPairs("text", q))
		body.Set("passages", ps)
	case vendorCohere:
		body.Set("model", r.s.Model(req))
		body.Set("query", q)
		body.Set("documents", toAny(passages))
	case vendorTEI:
		body.Set("query", q)
		body.Set("texts", toAny(passages))
	}
	mergeExtras(body, r.s, t)
	return encode(body)
}

// NewParser returns the vendor's parser (stateless, shared).
func (r *Rankings) NewParser() Parser { return rankingsParser{r.vendor} }

type rankingsParser struct{ vendor rankingsVendor }

var rankingsTopNames = []string{"rankings", "results", "error"}

func (p rankingsParser) Message(m *sse.Message, rec *record.Record) {
	if d, ok := streamData(m, rec); ok {
		p.parse(d, m.PerfNs, rec, record.ErrSSE)
	}
}

func (p rankingsParser) Body(contentType string, body []byte, perfNs int64, rec *record.Record) {
	if isEventStream(contentType) {
		bodyAsStream(p, body, perfNs, rec)
		return
	}
	p.parse(body, perfNs, rec, errAPI)
}

// parse counts the rankings: NIM's `rankings` list; Cohere's `results`
// objects (non-objects skipped); TEI's top-level list, else `results`.
func (p rankingsParser) parse(obj []byte, perfNs int64, rec *record.Record, errType string) {
	obj = trimJSON(obj)
	n := 0
	if isArray(obj) {
		if p.vendor == vendorTEI {
			n = max(arrayLen(obj), 0)
		}
	} else {
		var top [3][]byte
		if !fields(obj, rankingsTopNames, top[:]) {
			return
		}
		if checkPayloadError(top[2], obj, errType, rec) {
			return
		}
		switch p.vendor {
		case vendorNIM:
			n = max(arrayLen(top[0]), 0)
		case vendorCohere:
			n = countObjects(top[1])
		case vendorTEI:
			n = max(arrayLen(top[1]), 0)
		}
	}
	if n > 0 {
		rec.AddItems(perfNs, record.KindRankings, n)
	}
	if isObject(obj) {
		if u, ok := ResponseUsage(obj); ok {
			setUsage(rec, perfNs, u, n > 0)
		}
	}
}

// countObjects counts the object elements of arr.
func countObjects(arr []byte) int {
	it, ok := newArrIter(arr)
	n := 0
	for ok {
		v, more := it.next()
		if !more {
			break
		}
		if isObject(v) {
			n++
		}
	}
	return n
}
