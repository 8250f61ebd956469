package transport

import (
	"bytes"
	"fmt"
	"io"
)

// sink says where body bytes go.
type sink uint8

const (
	sinkBody  sink = iota // accumulated, handed to Handler.Body at the end
	sinkSSE               // fed read by read to the SSE reader
	sinkError             // non-2xx: the first maxErrorBody bytes are kept
)

// errMalformed marks a framing error of the response body.
type errMalformed struct{ msg string }

func (e *errMalformed) Error() string { return e.msg }

// maxLine bounds a chunk-size or trailer line.
const maxLine = 4 << 10

// errTooLarge stops reading a body that would exceed max_response_bytes.
// declared is the Content-Length when it alone was too large (nothing
// read), else -1.
type errTooLarge struct {
	limit, read, declared int64
}

func (e *errTooLarge) Error() string {
	if e.declared >= 0 {
		return fmt.Sprintf("response declares a %d-byte body, more than max_response_bytes (%d); it was not read", e.declared, e.limit)
	}
	return fmt.Sprintf("response body exceeded max_response_bytes (%d): reading stopped after %d bytes", e.limit, e.read)
}

// readBody reads the response body framed by c.head into c's sink. Every
// delivery happens right after the network read that brought its bytes, so
// c.sr.ns is that read's arrival stamp.
func (c *conn) readBody(noBody bool) error {
	if noBody {
		return nil
	}
	switch n := c.head.contentLength; {
	case n > 0 && int64(n) > c.limit:
		return &errTooLarge{limit: c.limit, declared: int64(n)}
	case n >= 0:
		return c.readN(int64(n))
	case n == -1:
		return c.readChunked()
	default:
		return c.readToEOF()
	}
}

// readN delivers exactly n body bytes.
func (c *conn) readN(n int64) error {
	for n > 0 {
		buffered := c.br.Buffered()
		if buffered == 0 {
			if _, err := c.br.Peek(1); err != nil {
				return unexpectedEOF(err)
			}
			buffered = c.br.Buffered()
		}
		k := int(min(int64(buffered), n))
		p, _ := c.br.Peek(k)
		if err := c.deliver(p); err != nil {
			return err
		}
		_, _ = c.br.Discard(k)
		n -= int64(k)
	}
	return nil
}

// readToEOF delivers everything until the server closes the connection.
func (c *conn) readToEOF() error {
	for {
		buffered := c.br.Buffered()
		if buffered == 0 {
			if _, err := c.br.Peek(1); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
			buffered = c.br.Buffered()
		}
		p, _ := c.br.Peek(buffered)
		if err := c.deliver(p); err != nil {
			return err
		}
		_, _ = c.br.Discard(buffered)
	}
}

// readChunked decodes Transfer-Encoding: chunked (RFC 9112 §7.1).
func (c *conn) readChunked() error {
	for {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		size, err := parseChunkSize(line)
		if err != nil {
			return err
		}
		if size == 0 {
			break
		}
		if err := c.readN(size); err != nil {
			return err
		}
		line, err = c.readLine()
		if err != nil {
			return err
		}
		if len(line) != 0 {
			return &errMalformed{"malformed chunked body: chunk data longer than its declared size"}
		}
	}
	// Trailer section, ended by an empty line.
	for {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return nil
		}
	}
}

// readLine returns the next line without its CRLF (or bare LF). The slice is
// valid until the next read.
func (c *conn) readLine() ([]byte, error) {
	for {
		buf, _ := c.br.Peek(c.br.Buffered())
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			line := buf[:i]
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			_, _ = c.br.Discard(i + 1)
			return line, nil
		}
		if len(buf) >= maxLine || len(buf) >= c.br.Size() {
			return nil, &errMalformed{fmt.Sprintf("malformed chunked body: line longer than %d bytes", min(maxLine, c.br.Size()))}
		}
		if _, err := c.br.Peek(len(buf) + 1); err != nil {
			return nil, unexpectedEOF(err)
		}
	}
}

// parseChunkSize parses "hex[;ext]" with optional whitespace before ';'.
func parseChunkSize(line []byte) (int64, error) {
	var n int64
	i := 0
	for ; i < len(line); i++ {
		d := line[i]
		switch {
		case d >= '0' && d <= '9':
			d -= '0'
		case d >= 'a' && d <= 'f':
			d -= 'a' - 10
		case d >= 'A' && d <= 'F':
			d -= 'A' - 10
		default:
			goto rest
		}
		if n > (1<<62)>>4 {
			return 0, &errMalformed{"malformed chunked body: chunk size too large"}
		}
		n = n<<4 | int64(d)
	}
rest:
	if i == 0 {
		return 0, &errMalformed{fmt.Sprintf("malformed chunked body: invalid chunk size line %q", truncate(string(line), 40))}
	}
	for ; i < len(line); i++ {
		switch line[i] {
		case ' ', '\t':
			continue
		case ';':
			return n, nil
		}
		return 0, &errMalformed{fmt.Sprintf("malformed chunked body: invalid chunk size line %q", truncate(string(line), 40))}
	}
	return n, nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// deliver hands p, which arrived with the read stamped c.sr.ns, to the sink.
// A body growing past max_response_bytes is refused before its excess
// reaches the sink, so what one response holds (the SSE buffer, the body,
// the record's text) stays bounded by the limit.
func (c *conn) deliver(p []byte) error {
	if c.bodyBytes += int64(len(p)); c.bodyBytes > c.limit {
		return &errTooLarge{limit: c.limit, read: c.bodyBytes - int64(len(p)), declared: -1}
	}
	if c.sr.reads != c.lastRead {
		c.lastRead = c.sr.reads
		r := c.recv
		r.Chunks++
		if r.FirstByteNs == 0 {
			r.FirstByteNs = c.sr.ns
		}
		r.LastByteNs = c.sr.ns
	}
	switch c.sink {
	case sinkSSE:
		c.sse.Feed(p, c.sr.ns, c.onMsg)
	case sinkBody:
		c.body = append(c.body, p...)
	case sinkError:
		if room := maxErrorBody + 4 - len(c.body); room > 0 {
			c.body = append(c.body, p[:min(room, len(p))]...)
		}
	}
	return nil
}

// contentType returns the response Content-Type as a string, reusing the
// previous response's string when equal (no allocation per request).
func (c *conn) contentType() string {
	ct := c.head.contentType
	if string(ct) != c.lastCT {
		c.lastCT = string(ct)
	}
	return c.lastCT
}
