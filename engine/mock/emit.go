package mock

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

var (
	// errGone: the client went away or the server is closing.
	errGone = errors.New("mock: stream interrupted")
	// errCut: the close_mid_stream fault ends the stream here.
	errCut = errors.New("mock: connection closed mid-stream (injected fault)")
)

const sseContentType = "text/event-stream; charset=utf-8"

// deliver sends the planned answer, with its fault.
func (s *Server) deliver(ctx *fasthttp.RequestCtx, p *plan) {
	switch p.fault {
	case FaultServerError:
		s.errorReply(ctx, p.api, s.cfg.ErrorStatus, "server_error",
			"mock: injected server error ("+string(FaultServerError)+" fault)")
		s.stats.status(ctx.Response.StatusCode())
		s.finish(p)
		return
	case FaultRateLimit:
		secs := int64((s.cfg.RetryAfter + time.Second - 1) / time.Second)
		ctx.Response.Header.Set("Retry-After", strconv.FormatInt(secs, 10))
		ctx.Response.Header.Set("Retry-After-Ms", strconv.FormatInt(s.cfg.RetryAfter.Milliseconds(), 10))
		ctx.Response.Header.Set("X-Ratelimit-Remaining-Requests", "0")
		s.errorReply(ctx, p.api, fasthttp.StatusTooManyRequests, "rate_limit_exceeded",
			"mock: rate limit reached, retry after "+s.cfg.RetryAfter.String()+" ("+string(FaultRateLimit)+" fault)")
		s.stats.status(ctx.Response.StatusCode())
		s.finish(p)
		return
	case FaultStallBeforeHeaders, FaultCloseMidStream, FaultStallMidStream:
		// These need the raw connection: the client must see nothing, a
		// cut or a pause exactly where documented.
		s.stats.status(fasthttp.StatusOK)
		ctx.HijackSetNoResponse(true)
		ctx.Hijack(func(c net.Conn) {
			defer s.finish(p)
			s.serveRaw(c, p)
		})
		return
	}
	s.stats.status(fasthttp.StatusOK)
	if p.stream() {
		ctx.SetContentType(sseContentType)
		ctx.Response.Header.Set("Cache-Control", "no-cache")
		if !s.paced {
			// Zero latency: the whole stream is one batch, still sent
			// chunked, with no writer goroutine; finish runs when fasthttp
			// closes the body after writing it.
			p.out = p.out[:0]
			s.emitStream(batch{&p.out}, p, nil)
			p.body.p = p
			p.body.r.Reset(p.out)
			ctx.Response.SetBodyStream(&p.body, -1)
			return
		}
		ctx.Response.ImmediateHeaderFlush = true
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			defer s.finish(p)
			if s.emitStream(w, p, nil) == nil {
				w.Flush()
			}
		})
		return
	}
	defer s.finish(p)
	if !s.waitUntil(p.start.Add(p.bodyDelay()), nil, nil) {
		ctx.SetConnectionClose()
	}
	p.emitted = p.n()
	p.buf = s.body(p.buf[:0], p)
	ctx.SetContentType(p.bodyContentType())
	ctx.SetBody(p.buf)
}

// bodyDelay is when a non-streaming answer is sent: TTFT + ITL·n.
func (p *plan) bodyDelay() time.Duration {
	d := p.ttft
	for range p.n() {
		d += p.nextITL()
	}
	return d
}

func (p *plan) bodyContentType() string { return "application/json" }

// body builds the non-streaming body, with the malformed/oversized faults.
func (s *Server) body(b []byte, p *plan) []byte {
	b = p.appendBody(b)
	switch p.fault {
	case FaultMalformedChunk:
		b = b[:len(b)/2] // truncated JSON
	case FaultOversized:
		b = s.pad(b, 0)
	}
	return b
}

// pad grows the JSON value starting at or after b[from] to at least
// OversizeBytes (an SSE frame's data, not counting "data: " and the blank
// line): objects get a leading "mock_padding" string field, arrays (TEI's
// top-level list) trailing spaces.
func (s *Server) pad(b []byte, from int) []byte {
	i := from
	for i < len(b) && b[i] != '{' && b[i] != '[' {
		i++
	}
	if i == len(b) {
		return b
	}
	end := len(b)
	for end > i && (b[end-1] == '\n' || b[end-1] == '\r') {
		end--
	}
	need := s.cfg.OversizeBytes - (end - i)
	if need <= 0 {
		return b
	}
	if b[i] == '[' { // only TEI's top-level list: whitespace keeps it valid
		for range need {
			b = append(b, ' ')
		}
		return b
	}
	const field = `"mock_padding":"",`
	n := max(need-len(field), 0)
	tail := append([]byte(nil), b[i+1:]...)
	b = append(b[:i+1], `"mock_padding":"`...)
	for range n {
		b = append(b, 'x')
	}
	b = append(b, `",`...)
	return append(b, tail...)
}

// faultPoint is the number of token frames sent before a mid-stream fault:
// half of them, at least one (none when there are none).
func (p *plan) faultPoint() int {
	n := p.n()
	if n == 0 {
		return 0
	}
	return max(1, n/2)
}

// emitStream writes the stream to w on schedule: head at once, token k at
// TTFT + ITL_1 + … + ITL_k from arrival (absolute times: no drift), then the
// tail. Paced streams are flushed at each frame; zero-latency streams are
// written in batches. gone (may be nil) closes when the client disconnects.
func (s *Server) emitStream(w frameWriter, p *plan, gone <-chan struct{}) error {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	flush := func() error {
		if err := w.Flush(); err != nil {
			return errGone
		}
		return nil
	}
	write := func(b []byte) error {
		if _, err := w.Write(b); err != nil {
			return errGone
		}
		if s.paced {
			return flush()
		}
		return nil
	}
	at := p.start.Add(p.ttft) // when the next token is due
	// mid applies a mid-stream fault once `sent` token frames are out.
	mid := func(sent int) error {
		if sent != p.faultPoint() {
			return nil
		}
		switch p.fault {
		case FaultCloseMidStream:
			if err := flush(); err != nil {
				return err
			}
			return errCut
		case FaultStallMidStream:
			if err := flush(); err != nil {
				return err
			}
			if !s.waitUntil(time.Now().Add(s.cfg.StallFor), gone, &timer) {
				return errGone
			}
			at = at.Add(s.cfg.StallFor) // the rest keeps its pace
		case FaultMalformedChunk:
			if sent > 0 {
				return write(p.malformed(p.buf))
			}
		}
		return nil
	}

	p.buf = p.appendHead(p.buf[:0])
	if err := write(p.buf); err != nil {
		return err
	}
	if p.n() == 0 {
		if err := mid(0); err != nil {
			return err
		}
	}
	for i := range p.n() {
		if i > 0 {
			at = at.Add(p.nextITL())
		}
		if s.paced && time.Until(at) > 0 {
			if !s.waitUntil(at, gone, &timer) {
				return errGone
			}
		}
		p.buf = p.appendToken(p.buf[:0], i)
		if i == 0 && p.fault == FaultOversized {
			p.buf = s.pad(p.buf, 0)
		}
		if err := write(p.buf); err != nil {
			return err
		}
		if i == 0 && s.paced {
			p.firstTok = time.Now()
		}
		p.emitted = i + 1
		if err := mid(i + 1); err != nil {
			return err
		}
	}
	p.buf = p.appendTail(p.buf[:0])
	if err := write(p.buf); err != nil {
		return err
	}
	return flush()
}

// malformed returns a copy of the frame in b cut halfway through its data,
// ended as a complete SSE event: its JSON is invalid.
func (p *plan) malformed(frame []byte) []byte {
	start := 0
	for i := 0; i+5 <= len(frame); i++ {
		if string(frame[i:i+5]) == "data:" {
			start = i + 5
			break
		}
	}
	cut := start + (len(frame)-start)/2
	out := append(p.aux[:0], frame[:cut]...)
	for len(out) > 0 && (out[len(out)-1] == '\n' || out[len(out)-1] == '\r') {
		out = out[:len(out)-1]
	}
	out = append(out, "\n\n"...)
	p.aux = out
	return out
}

// waitUntil sleeps until t; false when interrupted by gone or Close.
func (s *Server) waitUntil(t time.Time, gone <-chan struct{}, timer **time.Timer) bool {
	d := time.Until(t)
	if d <= 0 {
		select {
		case <-s.done:
			return false
		default:
			return true
		}
	}
	var tm *time.Timer
	if timer != nil && *timer != nil {
		tm = *timer
		tm.Reset(d)
	} else {
		tm = time.NewTimer(d)
		if timer != nil {
			*timer = tm
		} else {
			defer tm.Stop()
		}
	}
	select {
	case <-tm.C:
		return true
	case <-s.done:
		return false
	case <-gone:
		return false
	}
}

// serveRaw answers on the hijacked connection, for the faults that need
// exact control of the bytes: stall_before_headers, close_mid_stream,
// stall_mid_stream. The response carries Connection: close and the
// connection is closed after it.
func (s *Server) serveRaw(c net.Conn, p *plan) {
	gone := make(chan struct{})
	go func() { // a read error means the client closed the connection
		var b [512]byte
		for {
			if _, err := c.Read(b[:]); err != nil {
				close(gone)
				return
			}
		}
	}()
	// fasthttp reuses c once we return: stop the reader first.
	defer func() {
		c.SetReadDeadline(time.Unix(1, 0))
		<-gone
	}()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	if p.fault == FaultStallBeforeHeaders {
		if !s.waitUntil(time.Now().Add(s.cfg.StallFor), gone, &timer) {
			return
		}
		p.start = p.start.Add(s.cfg.StallFor) // answer as if it arrived now
	}
	date := time.Now().UTC().AppendFormat(nil, "Mon, 02 Jan 2006 15:04:05 GMT")
	head := append([]byte("HTTP/1.1 200 OK\r\nServer: loadstar-mock\r\nDate: "), date...)
	if p.stream() {
		head = append(head, "\r\nContent-Type: "+sseContentType+"\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"...)
		if _, err := c.Write(head); err != nil {
			return
		}
		w := bufio.NewWriterSize(chunkWriter{c}, 4096)
		if err := s.emitStream(w, p, gone); err != nil {
			return // errCut: no terminating chunk, the close is the fault
		}
		io.WriteString(c, "0\r\n\r\n")
		return
	}
	if !s.waitUntil(p.start.Add(p.bodyDelay()), gone, &timer) {
		return
	}
	p.emitted = p.n()
	body := s.body(p.buf[:0], p)
	p.buf = body
	head = append(head, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	head = strconv.AppendInt(head, int64(len(body)), 10)
	head = append(head, "\r\nConnection: close\r\n\r\n"...)
	half := len(body) / 2
	switch p.fault {
	case FaultCloseMidStream:
		c.Write(append(head, body[:half]...))
	case FaultStallMidStream:
		if _, err := c.Write(append(head, body[:half]...)); err != nil {
			return
		}
		if !s.waitUntil(time.Now().Add(s.cfg.StallFor), gone, &timer) {
			return
		}
		c.Write(body[half:])
	default:
		c.Write(append(head, body...))
	}
}

// frameWriter is where a stream goes: a *bufio.Writer on the connection,
// or a batch in memory.
type frameWriter interface {
	Write([]byte) (int, error)
	Flush() error
}

// batch collects a whole stream in memory.
type batch struct{ b *[]byte }

func (w batch) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }
func (w batch) Flush() error                { return nil }

// streamBody is a batched stream handed to fasthttp as the body: written
// with WriteTo in one chunk, and Close ends the request's life.
type streamBody struct {
	r bytes.Reader
	p *plan
}

func (b *streamBody) Read(x []byte) (int, error)         { return b.r.Read(x) }
func (b *streamBody) WriteTo(w io.Writer) (int64, error) { return b.r.WriteTo(w) }
func (b *streamBody) SupportsBodyWriteTo() bool          { return true }
func (b *streamBody) Close() error                       { b.p.s.finish(b.p); return nil }

// chunkWriter frames each write as one HTTP/1.1 chunk.
type chunkWriter struct{ c net.Conn }

func (w chunkWriter) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	frame := make([]byte, 0, len(b)+12)
	frame = strconv.AppendInt(frame, int64(len(b)), 16)
	frame = append(frame, "\r\n"...)
	frame = append(frame, b...)
	frame = append(frame, "\r\n"...)
	if _, err := w.c.Write(frame); err != nil {
		return 0, err
	}
	return len(b), nil
}
