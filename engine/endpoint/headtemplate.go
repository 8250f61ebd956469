package endpoint

import (
	"strings"
	"sync/atomic"
	"unsafe"
)

// headCache holds a Settings' templates, one per (request id given,
// correlation id given). It is behind a pointer so that Settings stay
// copyable values.
type headCache [4]atomic.Pointer[headTemplate]

// headTemplate is the header list AppendHeaders layers for a request
// without turn extra headers. Every name and every value except the two
// ids is the same for all such requests of a Settings, so the layering
// (with its case-insensitive search for each layer's name) runs once, and a
// request copies pairs and writes its ids into the slots.
type headTemplate struct {
	in    headInputs
	pairs [][2]string
	slots []headSlot
}

// headSlot is an entry of pairs whose value is one of the request's ids.
type headSlot struct {
	i           int
	correlation bool // the correlation id, else the request id
}

// headInputs are the Settings fields the layering reads. They are exported
// and an endpoint may set some after NewSettings (image_edit's
// ContentType), so a template is used only while they are unchanged.
type headInputs struct {
	userAgent, sessionHeader, contentType string
	apiKey                                Secret
	streaming, affinity                   bool
	wire                                  Wire // implementations are pointers: comparable
	headers                               [][2]string
}

func (s *Settings) headInputs() headInputs {
	return headInputs{
		userAgent: s.UserAgent, sessionHeader: s.SessionHeader, contentType: s.ContentType,
		apiKey: s.APIKey, streaming: s.Streaming, affinity: s.SessionAffinity, wire: s.wire,
		headers: append([][2]string(nil), s.Headers...),
	}
}

// matches reports whether s still has the fields in was built from. The
// strings compare in constant time when they are the same strings.
func (in *headInputs) matches(s *Settings) bool {
	if in.userAgent != s.UserAgent || in.sessionHeader != s.SessionHeader || in.contentType != s.ContentType ||
		in.apiKey != s.APIKey || in.streaming != s.Streaming || in.affinity != s.SessionAffinity ||
		in.wire != s.wire || len(in.headers) != len(s.Headers) {
		return false
	}
	for i, kv := range in.headers {
		if kv != s.Headers[i] {
			return false
		}
	}
	return true
}

// headTemplate returns the template for requests with (or without) a
// request id and a correlation id: an empty id adds no header, which moves
// the headers layered after it.
func (s *Settings) headTemplate(withRequest, withCorrelation bool) *headTemplate {
	v := 0
	if withRequest {
		v |= 1
	}
	if withCorrelation {
		v |= 2
	}
	if t := s.heads[v].Load(); t != nil && t.in.matches(s) {
		return t
	}
	t := s.buildHeadTemplate(withRequest, withCorrelation)
	s.heads[v].Store(t)
	return t
}

// buildHeadTemplate layers the headers with stand-ins for the ids and
// records where the stand-ins ended up. The stand-ins are fresh allocations
// found by address, so no configured value can be taken for one.
func (s *Settings) buildHeadTemplate(withRequest, withCorrelation bool) *headTemplate {
	var rid, cid string
	if withRequest {
		rid = strings.Clone("request id")
	}
	if withCorrelation {
		cid = strings.Clone("correlation id")
	}
	t := &headTemplate{in: s.headInputs(), pairs: s.layerHeaders(nil, nil, rid, cid)}
	for i, kv := range t.pairs {
		switch p := unsafe.StringData(kv[1]); {
		case withRequest && p == unsafe.StringData(rid):
			t.slots = append(t.slots, headSlot{i: i})
		case withCorrelation && p == unsafe.StringData(cid):
			t.slots = append(t.slots, headSlot{i: i, correlation: true})
		}
	}
	return t
}

// appendTo appends the template's headers with the ids filled in.
func (t *headTemplate) appendTo(dst [][2]string, requestID, correlationID string) [][2]string {
	n := len(dst)
	dst = append(dst, t.pairs...)
	for _, sl := range t.slots {
		if sl.correlation {
			dst[n+sl.i][1] = correlationID
		} else {
			dst[n+sl.i][1] = requestID
		}
	}
	return dst
}
