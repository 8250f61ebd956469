package transport

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"strconv"

	"github.com/valyala/fasthttp"
)

// respHead is what the transport uses of a response's header section: the
// status line, the body's framing, whether the connection stays open, and
// the few fields the body, redirect and error paths read.
type respHead struct {
	status int
	// contentLength frames the body as fasthttp's ResponseHeader does: the
	// length, -1 for Transfer-Encoding: chunked, -2 for "until the server
	// closes".
	contentLength int
	connClose     bool   // the connection cannot carry another request
	reason        []byte // the status line's reason phrase
	contentType   []byte // Content-Type; defaultContentType when absent or empty
	location      []byte // the first Location header, in any case
}

// defaultContentType is the Content-Type fasthttp reports for a response
// without one.
const defaultContentType = "text/plain; charset=utf-8"

// readHead reads one response's header section from br into h.
//
// The usual response — HTTP/1.1, every line ending in CRLF, plain header
// names, one Content-Length or Transfer-Encoding: chunked, its whole header
// section in the bytes already read — is parsed in one pass over br's
// buffer, without allocating (parseBuffered). Anything else (bytes still to
// come, HTTP/1.0, folded lines, unusual names or values, any malformation)
// is left to fasthttp's parser, reading from the same untouched buffer, so
// limits, errors and the reads made are fasthttp's. FuzzHeadMatchesFasthttp
// holds the two paths to the same results.
func readHead(br *bufio.Reader, h *respHead, slow *fasthttp.ResponseHeader) error {
	if br.Buffered() == 0 {
		if _, err := br.Peek(1); err != nil {
			// What fasthttp reports when the first byte does not come.
			if x, ok := err.(interface{ Timeout() bool }); ok && x.Timeout() {
				return fasthttp.ErrTimeout
			}
			return io.EOF
		}
	}
	buf, _ := br.Peek(br.Buffered())
	if n := h.parseBuffered(buf); n > 0 {
		_, _ = br.Discard(n)
		return nil
	}
	if err := slow.Read(br); err != nil {
		return err
	}
	h.status = slow.StatusCode()
	h.contentLength = slow.ContentLength()
	h.connClose = slow.ConnectionClose()
	h.reason = append(h.reason[:0], slow.StatusMessage()...)
	h.contentType = append(h.contentType[:0], slow.ContentType()...)
	h.location = append(h.location[:0], firstLocation(slow)...)
	return nil
}

// parseBuffered parses a complete header section at the start of b and
// returns its length, or 0 when b does not hold one of the usual form (h is
// then to be filled by fasthttp). It accepts exactly what fasthttp's
// ResponseHeader.Read accepts for these inputs, with the same results.
func (h *respHead) parseBuffered(b []byte) int {
	const proto = "HTTP/1.1 "
	// Status line: "HTTP/1.1 " three digits, then CRLF or a space and the
	// reason phrase.
	if len(b) < len(proto)+5 || string(b[:len(proto)]) != proto {
		return 0
	}
	i := len(proto)
	d0, d1, d2 := b[i]-'1', b[i+1]-'0', b[i+2]-'0'
	if d0 > 8 || d1 > 9 || d2 > 9 {
		return 0 // fasthttp reads "000" as 200 and more digits as an error
	}
	h.status = int(d0+1)*100 + int(d1)*10 + int(d2)
	i += 3
	e := bytes.IndexByte(b[i:], '\n')
	if e < 1 || b[i+e-1] != '\r' {
		return 0
	}
	switch rest := b[i : i+e-1]; {
	case len(rest) == 0:
		h.reason = h.reason[:0]
	case rest[0] != ' ' || bytes.IndexByte(rest, '\r') >= 0:
		return 0
	default:
		h.reason = append(h.reason[:0], rest[1:]...)
	}
	i += e + 1

	h.contentLength = -2
	h.connClose = false
	h.contentType = h.contentType[:0]
	h.location = h.location[:0]
	var lengthSeen, encodingSeen, locationSeen bool
	for {
		if i+1 >= len(b) {
			return 0
		}
		if b[i] == '\r' {
			if b[i+1] != '\n' {
				return 0
			}
			i += 2
			break
		}
		// Name: a letter, then letters, digits, '-' or '_', then ':'.
		// Value: bytes fasthttp accepts in one, then CRLF.
		k := bytes.IndexByte(b[i:], ':')
		if k < 1 {
			return 0
		}
		name := b[i : i+k]
		if c := name[0] | 0x20; c < 'a' || c > 'z' || !allIn(name, headName) {
			return 0
		}
		i += k + 1
		e := bytes.IndexByte(b[i:], '\r')
		if e < 0 || i+e+1 >= len(b) || b[i+e+1] != '\n' {
			return 0
		}
		v := b[i : i+e]
		if !validValue(v) {
			return 0
		}
		i += e + 2
		v = trimSpaceTab(v)
		if i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			return 0 // a folded line continues this one
		}
		switch {
		case equalFoldASCII(name, "Content-Type"):
			h.contentType = append(h.contentType[:0], v...)
		case equalFoldASCII(name, "Content-Length"):
			n, ok := parseDecimal(v)
			if !ok || lengthSeen {
				return 0
			}
			lengthSeen = true
			if h.contentLength != -1 {
				h.contentLength = n
			}
		case equalFoldASCII(name, "Transfer-Encoding"):
			if encodingSeen || !equalFoldASCII(v, "chunked") {
				return 0
			}
			encodingSeen = true
			h.contentLength = -1
		case equalFoldASCII(name, "Connection"):
			// Other values could carry "upgrade", which changes framing.
			switch string(v) {
			case "close":
				h.connClose = true
			case "keep-alive":
				h.connClose = false
			default:
				return 0
			}
		case equalFoldASCII(name, "Trailer"):
			return 0 // fasthttp validates the names it lists
		case !locationSeen && equalFoldASCII(name, "Location"):
			// In any case: uvicorn (vLLM, SGLang) sends lower-case names.
			h.location = append(h.location[:0], v...)
			locationSeen = true
		}
	}
	// A body without a length runs to the close, except where none may
	// follow (1xx, 204, 304).
	if h.contentLength == -2 && h.status >= 200 && h.status != fasthttp.StatusNoContent && h.status != fasthttp.StatusNotModified {
		h.connClose = true
	}
	if len(h.contentType) == 0 {
		h.contentType = append(h.contentType, defaultContentType...)
	}
	return i
}

// headBytes classes the bytes of a header line for parseBuffered: headName
// for letters, digits, '-' and '_' (the names it takes, a subset of RFC
// 9110's token characters), headValue for what fasthttp accepts in a value
// (tab, visible ASCII, space, obs-text). TestHeadBytes checks it.
const headBytes = "" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x03\x02\x02\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x02\x02\x02\x02\x02\x02" +
	"\x02\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x02\x02\x02\x02\x03" +
	"\x02\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x02\x02\x02\x02\x00" +
	"\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02" +
	"\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02" +
	"\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02" +
	"\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02"

const (
	headName  = 1
	headValue = 2
)

// allIn reports whether every byte of p is in class (no early exit: the
// loop has no branch to mispredict).
func allIn(p []byte, class byte) bool {
	m := class
	for _, c := range p {
		m &= headBytes[c]
	}
	return m != 0
}

// validValue reports whether every byte of v is allowed in a header value
// (headValue), eight bytes at a time: a word holding a byte below 0x20 or a
// 0x7f (hasControlByte) is checked byte by byte; a tab is the usual cause.
func validValue(v []byte) bool {
	for len(v) >= 8 {
		if hasControlByte(binary.LittleEndian.Uint64(v)) && !allIn(v[:8], headValue) {
			return false
		}
		v = v[8:]
	}
	return allIn(v, headValue)
}

// firstLocation returns the value of h's first Location header, whatever
// its case (h keeps names as sent: normalizing is off).
func firstLocation(h *fasthttp.ResponseHeader) []byte {
	for k, v := range h.All() {
		if equalFoldASCII(k, "Location") {
			return v
		}
	}
	return nil
}

// equalFoldASCII compares b with the ASCII string s case-insensitively.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if x != y && (x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z') {
			return false
		}
	}
	return true
}

// parseDecimal parses up to 18 decimal digits (9 where int has 32 bits),
// too few to overflow; fasthttp checks for overflow only beyond them.
func parseDecimal(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9*(strconv.IntSize/32) {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func trimSpaceTab(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
