package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/loadstar/loadstar/engine/redact"
)

// redactHeaders returns a copy of hs with the values of secret headers
// (by redact.Header: Authorization, x-api-key, Cookie, X-Amz-Security-Token,
// any name containing key, token, secret, auth, cookie, password or
// signature, any "Bearer ..." value) replaced by redact.Redacted.
// Use it wherever headers could be printed: logs, errors, exported configs.
//
//	redactHeaders([][2]string{{"Authorization", "Bearer sk-1"}, {"X-Tenant", "a"}})
//	// [[Authorization <redacted>] [X-Tenant a]]
func redactHeaders(hs [][2]string) [][2]string {
	out := make([][2]string, len(hs))
	for i, h := range hs {
		out[i] = h
		out[i][1] = redact.Header(h[0], h[1])
	}
	return out
}

// managed names the headers the transport itself sends; a caller header with
// the same name replaces the transport's (later layers win, wire.md §3),
// except Accept and X-Session-Affinity, which the transport always decides.
type managed uint16

const (
	mUserAgent managed = 1 << iota
	mRequestID
	mSession
	mAuthorization
	mAccept
	mContentType
	mAffinity
	mHost
)

// classify returns which managed header name is, 0 if none. sessionHeader is
// the configured session header name. It does not allocate.
func classify(name, sessionHeader string) managed {
	switch len(name) {
	case 4:
		if strings.EqualFold(name, "Host") {
			return mHost
		}
	case 6:
		if strings.EqualFold(name, "Accept") {
			return mAccept
		}
	case 10:
		if strings.EqualFold(name, "User-Agent") {
			return mUserAgent
		}
	case 12:
		if strings.EqualFold(name, "X-Request-ID") {
			return mRequestID
		}
		if strings.EqualFold(name, "Content-Type") {
			return mContentType
		}
	case 13:
		if strings.EqualFold(name, "Authorization") {
			return mAuthorization
		}
	case 18:
		if strings.EqualFold(name, "X-Session-Affinity") {
			return mAffinity
		}
	}
	if len(name) == len(sessionHeader) && strings.EqualFold(name, sessionHeader) {
		return mSession
	}
	return 0
}

// isFramingHeader reports headers that describe the connection or the
// message framing; the transport alone writes them.
func isFramingHeader(name string) bool {
	switch len(name) {
	case 2:
		return strings.EqualFold(name, "TE")
	case 7:
		return strings.EqualFold(name, "Upgrade")
	case 10: // User-Agent is 10 bytes long too: look at the first byte first
		c := name[0] | 0x20
		return c == 'c' && strings.EqualFold(name, "Connection") || c == 'k' && strings.EqualFold(name, "Keep-Alive")
	case 14:
		return strings.EqualFold(name, "Content-Length")
	case 15:
		return strings.EqualFold(name, "Accept-Encoding")
	case 17:
		return strings.EqualFold(name, "Transfer-Encoding")
	}
	return false
}

func checkHeader(name, value string) error {
	if err := checkHeaderName(name); err != nil {
		return err
	}
	if err := checkHeaderValue(value); err != nil {
		return fmt.Errorf("header %s: %w", name, err)
	}
	return nil
}

func checkHeaderName(name string) error {
	if name == "" {
		return errors.New("empty header name")
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return fmt.Errorf("header name %q: character %q is not allowed (expected letters, digits or !#$%%&'*+-.^_`|~)", name, name[i])
		}
	}
	return nil
}

// checkHeaderValue rejects control characters, which would let a value
// inject headers or break the request framing.
func checkHeaderValue(v string) error {
	i := 0
	if len(v) >= 8 {
		// Eight bytes at a time; a word with a control byte or a tab is
		// looked at byte by byte from there on.
		p := unsafe.Slice(unsafe.StringData(v), len(v))
		for ; i+8 <= len(p); i += 8 {
			if hasControlByte(binary.LittleEndian.Uint64(p[i:])) {
				break
			}
		}
	}
	for ; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return fmt.Errorf("value contains control character %q at byte %d", c, i)
		}
	}
	return nil
}

// hasControlByte reports whether one of the eight bytes of x is below 0x20
// or is 0x7f (SWAR: a byte below n borrows into its top bit when n is
// subtracted from each byte; the first borrow comes from such a byte, so
// the answer for the word is exact). Tabs count: the caller allows them.
func hasControlByte(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	below := (x - 0x20*ones) &^ x & highs
	y := x ^ 0x7f*ones
	del := (y - ones) &^ y & highs
	return below|del != 0
}

func isTokenChar(c byte) bool { return tokenChars[c] }

// tokenChars marks the bytes of an HTTP token (RFC 9110 §5.6.2).
var tokenChars = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		t[c] = b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
	}
	return t
}()

// appendHeader appends "name: value\r\n".
func appendHeader(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ':', ' ')
	b = append(b, value...)
	return append(b, '\r', '\n')
}

// appendRequestHead appends the request line and headers of req for target t,
// ready to be followed by the body. Layers, later winning (wire.md §3):
// User-Agent, X-Request-ID, session header, configured headers,
// Authorization: Bearer, request headers, Accept, Content-Type,
// X-Session-Affinity; then the framing headers the transport owns.
// checked, when not nil, is the connection's memory of the headers it
// already checked (see checkedHeaders).
func (t *HTTP) appendRequestHead(b []byte, tg *target, req *Request, method, requestID, session string, checked *checkedHeaders) ([]byte, error) {
	if req.Verbatim && !t.verbatimEdits {
		return t.appendLayeredHead(b, tg, req, method, checked)
	}
	return t.appendLayeringHead(b, tg, req, method, requestID, session)
}

// checkedHeaders are the headers of the last request written on a
// connection, all of which passed the checks. The runner's header lists
// share their strings from request to request (engine/endpoint's layered
// template), so a header whose name or value is the very string of the
// same entry last time (same bytes at the same address: Go strings do not
// change, and this list keeps them alive) is not checked again; only the
// request's ids and anything new are.
type checkedHeaders [][2]string

// sameString reports whether a and b are the same string in memory.
func sameString(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

// appendLayeredHead is appendRequestHead for a Verbatim request that no
// transport parameter edits (the runner's requests): one pass checks what is
// new (checked) and appends each header, and the Host line written first is
// taken out again when the request has its own. Same bytes and errors as
// appendLayeringHead.
func (t *HTTP) appendLayeredHead(b []byte, tg *target, req *Request, method string, checked *checkedHeaders) ([]byte, error) {
	var seen checkedHeaders
	if checked != nil {
		seen = *checked
	}
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, tg.requestURI...)
	b = append(b, " HTTP/1.1\r\n"...)
	hostAt := len(b)
	b = appendHeader(b, "Host", tg.hostHeader)
	hostEnd := len(b)
	ownHost := false
	for i, h := range req.Headers {
		name, value := h[0], h[1]
		newName, newValue := true, true
		if i < len(seen) {
			newName, newValue = !sameString(name, seen[i][0]), !sameString(value, seen[i][1])
		}
		if newName {
			if err := checkHeaderName(name); err != nil {
				return b, err
			}
		}
		if newValue {
			if err := checkHeaderValue(value); err != nil {
				return b, fmt.Errorf("header %s: %w", name, err)
			}
		}
		if newName && isFramingHeader(name) {
			return b, fmt.Errorf("header %s is set by the transport and cannot be given", name)
		}
		if len(name) == 4 && strings.EqualFold(name, "Host") {
			ownHost = true
		}
		b = appendHeader(b, name, value)
	}
	if err := checkRequestFields(req, method); err != nil {
		return b, err
	}
	if ownHost {
		b = append(b[:hostAt], b[hostEnd:]...)
	}
	if checked != nil {
		*checked = append(seen[:0], req.Headers...)
	}
	return t.appendFraming(b, req, method), nil
}

// checkRequestFields checks the method, APIKey and ContentType of req; they
// are checked after the headers, whose errors come first.
func checkRequestFields(req *Request, method string) error {
	for i := 0; i < len(method); i++ {
		if !isTokenChar(method[i]) {
			return fmt.Errorf("method %q is not an HTTP token", method)
		}
	}
	if checkHeaderValue(req.APIKey) != nil {
		// The message must not quote the key.
		return errors.New("api key contains a control character")
	}
	if err := checkHeaderValue(req.ContentType); err != nil {
		return fmt.Errorf("content type: %w", err)
	}
	return nil
}

// appendLayeringHead is appendRequestHead for any request: it layers the
// transport's headers with the request's, or applies the parameters that
// edit a Verbatim list.
func (t *HTTP) appendLayeringHead(b []byte, tg *target, req *Request, method, requestID, session string) ([]byte, error) {
	over := t.staticOver
	for _, h := range req.Headers {
		if err := checkHeader(h[0], h[1]); err != nil {
			return b, err
		}
		if isFramingHeader(h[0]) {
			return b, fmt.Errorf("header %s is set by the transport and cannot be given", h[0])
		}
		over |= classify(h[0], t.sessionHeader)
	}
	if err := checkRequestFields(req, method); err != nil {
		return b, err
	}
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, tg.requestURI...)
	b = append(b, " HTTP/1.1\r\n"...)
	if req.Verbatim {
		return t.appendVerbatim(b, tg, req, method, session, over), nil
	}
	if over&mHost == 0 {
		b = appendHeader(b, "Host", tg.hostHeader)
	}
	if over&mUserAgent == 0 {
		b = appendHeader(b, "User-Agent", t.userAgent)
	}
	if over&mRequestID == 0 && requestID != "" {
		b = appendHeader(b, "X-Request-ID", requestID)
	}
	if over&mSession == 0 && session != "" {
		b = appendHeader(b, t.sessionHeader, session)
	}
	for _, h := range t.static {
		if k := h.kind; k == mAccept || (k == mContentType && req.ContentType != "") || (k == mAffinity && t.affinity && session != "") {
			continue
		}
		b = appendHeader(b, h.name, h.value)
	}
	if req.APIKey != "" && over&mAuthorization == 0 {
		b = append(b, "Authorization: Bearer "...)
		b = append(b, req.APIKey...)
		b = append(b, '\r', '\n')
	}
	for _, h := range req.Headers {
		k := classify(h[0], t.sessionHeader)
		if k == mAccept || (k == mContentType && req.ContentType != "") || (k == mAffinity && t.affinity && session != "") {
			continue
		}
		b = appendHeader(b, h[0], h[1])
	}
	if req.Stream {
		b = append(b, "Accept: text/event-stream\r\n"...)
	} else {
		b = append(b, "Accept: application/json\r\n"...)
	}
	switch {
	case req.ContentType != "":
		b = appendHeader(b, "Content-Type", req.ContentType)
	case over&mContentType == 0 && len(req.Body) > 0:
		b = append(b, "Content-Type: application/json\r\n"...)
	}
	if t.affinity && session != "" {
		b = appendHeader(b, "X-Session-Affinity", session)
	}
	return t.appendFraming(b, req, method), nil
}

// appendVerbatim appends the caller's already layered headers, applying only
// what the transport's parameters set explicitly: user_agent, a renamed
// session_header, session_affinity=False and configured headers (which
// replace same-name headers). With none set the list goes out unchanged.
func (t *HTTP) appendVerbatim(b []byte, tg *target, req *Request, method, session string, over managed) []byte {
	if over&mHost == 0 {
		b = appendHeader(b, "Host", tg.hostHeader)
	}
	if !t.verbatimEdits {
		for _, h := range req.Headers {
			b = appendHeader(b, h[0], h[1])
		}
		return t.appendFraming(b, req, method)
	}
	uaDone := false
	for _, h := range req.Headers {
		name, value := h[0], h[1]
		switch k := classify(name, t.sessionHeader); {
		case k == mUserAgent && t.cfg.UserAgent != "":
			if uaDone {
				continue
			}
			value, uaDone = t.cfg.UserAgent, true
		case k == mAffinity:
			if t.cfg.NoSessionAffinity {
				continue
			}
		case t.cfg.SessionHeader != "" && session != "" && value == session:
			name = t.cfg.SessionHeader
		}
		if t.isStatic(name) {
			continue
		}
		b = appendHeader(b, name, value)
	}
	if t.cfg.UserAgent != "" && !uaDone && t.staticOver&mUserAgent == 0 {
		b = appendHeader(b, "User-Agent", t.cfg.UserAgent)
	}
	for _, h := range t.static {
		b = appendHeader(b, h.name, h.value)
	}
	return t.appendFraming(b, req, method)
}

func (t *HTTP) isStatic(name string) bool {
	for _, h := range t.static {
		if strings.EqualFold(h.name, name) {
			return true
		}
	}
	return false
}

// appendFraming appends Content-Length, Connection and the blank line.
func (t *HTTP) appendFraming(b []byte, req *Request, method string) []byte {
	if len(req.Body) > 0 || method == "POST" || method == "PUT" || method == "PATCH" {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(req.Body)), 10)
		b = append(b, '\r', '\n')
	}
	if t.cfg.Reuse == reuseNever {
		b = append(b, "Connection: close\r\n"...)
	}
	return append(b, '\r', '\n')
}
