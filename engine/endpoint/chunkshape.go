package endpoint

import (
	"bytes"

	"github.com/loadstar/loadstar/engine/record"
)

// chunkShape remembers one streamed chunk whose only effect was the text of
// a string value (a chat delta's content or reasoning, a completion's
// text, an Anthropic delta's text, thinking or tool JSON) so that the
// chunks after it, which servers write alike but for that text, are read
// without a parse.
//
// A chunk that holds the remembered bytes before the string's body (head)
// and after it (tail), with a body between them holding neither a quote nor
// a backslash, is the remembered chunk with another plain string in the
// same place: the scanner sees its members, their order and every other
// value exactly as before (inside a string it only looks for those two
// bytes), so the parse would add that body as text and do nothing else.
// Anything else (another id, a finish reason, usage, an escape) misses and
// is parsed.
type chunkShape struct {
	buf        []byte      // the remembered chunk: head, body, tail
	head, tail int         // their lengths
	kind       record.Kind // what the body adds: text, tool text, or reasoning (never empty)
	room       [shapeRoom]byte
}

// shapeRoom holds the chunks of the usual servers (about 230 bytes from
// vLLM and the mock) without an allocation per stream.
const shapeRoom = 320

// learn remembers chunk, whose string value token (quotes included) is the
// part of chunk that is str, holding text of kind.
func (c *chunkShape) learn(chunk, str []byte, kind record.Kind) {
	c.head, c.tail = 0, 0
	if len(str) < 2 || len(chunk) == 0 {
		return
	}
	start := cap(chunk) - cap(str)
	if start <= 0 || start+len(str) > len(chunk) || &chunk[start] != &str[0] || str[len(str)-1] != '"' {
		return // not a part of chunk
	}
	if c.buf == nil {
		c.buf = c.room[:0]
	}
	c.buf = append(c.buf[:0], chunk...)
	c.kind = kind
	c.head = start + 1
	c.tail = len(chunk) - (start + len(str) - 1)
}

// add reads chunk when it has the remembered shape, adding its text to rec
// as a parse would; it reports whether it did.
func (c *chunkShape) add(chunk []byte, perfNs int64, rec *record.Record) bool {
	body, kind, ok := c.match(chunk)
	if !ok {
		return false
	}
	switch {
	case kind == record.KindReasoning:
		rec.AddText(perfNs, kind, nil, body)
	case len(body) > 0:
		rec.AddText(perfNs, kind, body, nil)
	}
	return true
}

// match returns the string body of chunk and its kind when chunk has the
// remembered shape. Empty reasoning misses: the parser then reads the
// other reasoning member or the tools.
func (c *chunkShape) match(chunk []byte) ([]byte, record.Kind, bool) {
	if c.head == 0 || len(chunk) < c.head+c.tail {
		return nil, 0, false
	}
	if !bytes.Equal(chunk[:c.head], c.buf[:c.head]) || !bytes.Equal(chunk[len(chunk)-c.tail:], c.buf[len(c.buf)-c.tail:]) {
		return nil, 0, false
	}
	body := chunk[c.head : len(chunk)-c.tail]
	if bytes.IndexByte(body, '"') >= 0 || bytes.IndexByte(body, '\\') >= 0 || c.kind == record.KindReasoning && len(body) == 0 {
		return nil, 0, false
	}
	return body, c.kind, true
}
