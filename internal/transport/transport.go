// Package transport is loadstar's HTTP/1.1 client: the `http` transport
// plugin. It sends one formatted request per call on pooled keep-alive
// connections and turns everything that happens on the wire into a
// record.Record: timestamps on the run's clock, byte and read counts, and a
// typed error for every failure. It never returns an error.
//
// Timestamps follow docs/wire.md §7: StartNs before the
// connection is acquired, SentNs when the request is fully written,
// HeadersNs when the read completing the response headers arrived, every
// network read of the body stamped the moment it returns — before any parsing
// — and every SSE message completed by that read carries its stamp. EndNs is
// taken after the response's last byte.
//
// The client drives its connections itself (fasthttp parses the response
// headers): fasthttp's own Client buffers whole bodies and cannot stamp
// reads, take the time the request was written, or abandon a request at a
// deadline, and those are what the benchmark measures.
//
// Usage by the runner:
//
//	v, _ := transport.Classes()["HTTP"].Build("transport.http", args) // *transport.Config (a Transport)
//	cl, _ := v.(transport.Transport).Open(clk, concurrency) // one client per run
//	defer cl.Close()
//	rec := record.New()
//	rec.XRequestID, rec.XCorrelationID = requestUUID, sessionUUID
//	cl.Do(ctx, &transport.Request{URL: u, Body: payload, Stream: true, APIKey: key}, parser, rec)
//
// The transport layers the standard headers itself (User-Agent, X-Request-ID,
// the session header, Authorization, Accept, Content-Type,
// X-Session-Affinity). A caller that has already layered them, e.g. with
// endpoint.Settings.AppendHeaders, sets Request.Verbatim and the headers go
// out exactly as given.
package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
	"github.com/valyala/fasthttp"
)

// Handler receives a response's payload; engine/endpoint.Parser satisfies it.
// Slices are valid only during the call.
type Handler interface {
	// Message handles one SSE message of a text/event-stream response.
	Message(m *sse.Message, rec *record.Record)
	// Body handles a whole 2xx non-SSE body that ended at perfNs.
	Body(contentType string, body []byte, perfNs int64, rec *record.Record)
}

// StatusErrorHandler is optional for a Handler: one that implements it turns
// a non-2xx answer into the record's error itself (e.g. reading the API's
// error JSON); otherwise the error is {status, reason phrase, body text}.
type StatusErrorHandler interface {
	StatusError(status int, reason string, body []byte, rec *record.Record)
}

// Transport is the protocol of the transport plugin category: a configured
// transport that opens a client for one run. *Config implements it.
type Transport interface {
	// Open starts a client stamping times on clk. inFlight is the most
	// requests the run keeps in flight (0 = unbounded, e.g. open-loop rates);
	// it sizes the connection pools unless max_connections is set.
	Open(clk clock.Clock, inFlight int) (Client, error)
}

// Client sends requests. Do is safe for concurrent use.
type Client interface {
	// Do sends req and reads the response into rec through h. Every failure
	// becomes rec.Error; Do never returns an error.
	Do(ctx context.Context, req *Request, h Handler, rec *record.Record)
	// Close closes idle connections and refuses further requests.
	Close() error
}

// Request is one HTTP request.
type Request struct {
	// Method defaults to POST when Body is non-empty, else GET.
	Method string
	// URL is the full http:// or https:// URL.
	URL string
	// Headers are sent in order after the configured headers. A header named
	// like one the transport sends (User-Agent, X-Request-ID, the session
	// header, Authorization, Content-Type) replaces it; Accept and
	// X-Session-Affinity are always the transport's; framing headers
	// (Content-Length, Connection, ...) are refused.
	Headers [][2]string
	Body    []byte
	// ContentType is sent as Content-Type, winning over Headers (wire.md §3);
	// "" means application/json when there is a body, unless Headers has one.
	ContentType string
	// APIKey, when set, is sent as Authorization: Bearer <key> unless
	// Headers carries an Authorization header. It is never printed.
	APIKey string
	// Verbatim sends Headers exactly as given, already layered by the
	// caller (endpoint.Settings.AppendHeaders does AIPerf's layering): the
	// transport then adds only Host and the framing headers, and ignores
	// APIKey, ContentType and its own User-Agent, id and session headers.
	Verbatim bool
	// Stream asks for Server-Sent Events (Accept: text/event-stream). The
	// response's Content-Type decides how the body is read.
	Stream bool
	// Cancel abandons the request CancelAfter after its body was fully
	// written (AIPerf's request cancellation): the connection is closed and
	// the record gets code 499 and Cancelled. A zero delay still delivers
	// the whole request.
	Cancel      bool
	CancelAfter time.Duration
	// Timeout is the total time allowed (0 = the request_timeout parameter).
	Timeout time.Duration
}

// HTTP is the http transport client. Create it with New or Config.Open.
type HTTP struct {
	clk      clock.Clock
	cfg      Config
	maxConns int
	dialer   net.Dialer
	// dialContext opens TCP connections (replaced by in-memory pipes in
	// benchmarks).
	dialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	static      []staticHeader

	targets  sync.Map // URL string -> *target
	nTargets atomic.Int64
	poolsMu  sync.Mutex
	pools    map[string]*hostPool

	tlsMu       sync.Mutex
	tlsConfigs  map[string]*tls.Config
	tlsSessions tls.ClientSessionCache

	staticOver managed
	// Resolved header settings; verbatimEdits is set when parameters change
	// Verbatim header lists.
	userAgent, sessionHeader string
	affinity, verbatimEdits  bool
	// base and baseNs pair a wall-clock time with a reading of a real clock,
	// so deadlines convert without a time.Now per request.
	base      time.Time
	baseNs    int64
	realClock bool
	dials     atomic.Int64
	closed    atomic.Bool
}

type staticHeader struct {
	name, value string
	kind        managed
}

// New returns a client for one run. inFlight sizes the per-host pools when
// cfg.MaxConnections is 0 (0 = unbounded).
func New(clk clock.Clock, cfg Config, inFlight int) (*HTTP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if clk == nil {
		return nil, errors.New("transport.http: nil clock")
	}
	t := &HTTP{
		clk:         clk,
		cfg:         cfg,
		maxConns:    cfg.MaxConnections,
		pools:       map[string]*hostPool{},
		tlsConfigs:  map[string]*tls.Config{},
		tlsSessions: tls.NewLRUClientSessionCache(64),
	}
	if _, ok := clk.(*clock.Real); ok {
		t.realClock = true
		t.baseNs = clk.Now()
		t.base = time.Now()
	}
	if t.maxConns == 0 && inFlight > 0 {
		t.maxConns = inFlight
	}
	t.dialer.KeepAliveConfig = net.KeepAliveConfig{Enable: true, Idle: 60 * time.Second, Interval: 30 * time.Second, Count: 3}
	t.dialer.ControlContext = t.stampSocket
	t.dialContext = t.dialer.DialContext
	t.userAgent, t.sessionHeader, t.affinity = cfg.userAgent(), cfg.sessionHeader(), !cfg.NoSessionAffinity
	t.verbatimEdits = cfg.UserAgent != "" || cfg.SessionHeader != "" || cfg.NoSessionAffinity || len(cfg.Headers) > 0
	for _, h := range cfg.Headers {
		k := classify(h[0], t.sessionHeader)
		t.static = append(t.static, staticHeader{h[0], h[1], k})
		t.staticOver |= k
	}
	return t, nil
}

// Stats are counters of a client's connection use.
type Stats struct {
	// Dials counts connections opened.
	Dials int64
}

// Stats returns the client's counters.
func (t *HTTP) Stats() Stats { return Stats{Dials: t.dials.Load()} }

// Close implements Client.
func (t *HTTP) Close() error {
	t.poolsMu.Lock()
	t.closed.Store(true)
	pools := make([]*hostPool, 0, len(t.pools))
	for _, p := range t.pools {
		pools = append(pools, p)
	}
	t.poolsMu.Unlock()
	for _, p := range pools {
		p.closeAll()
	}
	return nil
}

func (t *HTTP) target(raw string) (*target, error) {
	if v, ok := t.targets.Load(raw); ok {
		return v.(*target), nil
	}
	tg, err := parseTarget(raw)
	if err != nil {
		return nil, err
	}
	key := tg.addr
	if tg.https {
		key = "https://" + key
	}
	t.poolsMu.Lock()
	p, ok := t.pools[key]
	if !ok {
		// A pool created while Close runs starts closed.
		p = &hostPool{t: t, key: key, max: t.maxConns, closed: t.closed.Load()}
		if t.cfg.Reuse == reuseNever {
			p.max = 0
		}
		t.pools[key] = p
	}
	t.poolsMu.Unlock()
	tg.pool = p
	// Cache a bounded number of URLs: a workload whose every URL differs
	// (ids in paths) must not grow memory with the request count.
	if t.nTargets.Load() >= maxCachedTargets {
		return tg, nil
	}
	v, loaded := t.targets.LoadOrStore(raw, tg)
	if !loaded {
		t.nTargets.Add(1)
	}
	return v.(*target), nil
}

const maxCachedTargets = 4096

// staleAfter is how long a connection may sit idle before it is checked
// for a server-side close before reuse (servers close idle keep-alive
// connections after 5 s or more; uvicorn's default is 5 s).
const staleAfter = int64(time.Second)

// deadlines of one request, in clock ns; math.MaxInt64 = none.
type deadlines struct {
	end, firstByte, cancel int64
}

func (d *deadlines) headerPhase() int64 { return min(d.end, d.firstByte, d.cancel) }
func (d *deadlines) bodyPhase() int64   { return min(d.end, d.cancel) }

// Do implements Client.
func (t *HTTP) Do(ctx context.Context, req *Request, h Handler, rec *record.Record) {
	start := t.clk.Now()
	base, baseNs := t.base, t.baseNs
	if !t.realClock {
		base, baseNs = time.Now(), start
	}
	rec.StartNs = start
	rec.StartWallNs = t.clk.Wall(start)
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = t.cfg.RequestTimeout
	}
	dl := deadlines{end: start + int64(timeout), firstByte: math.MaxInt64, cancel: math.MaxInt64}
	toTime := func(ns int64) time.Time { return base.Add(time.Duration(ns - baseNs)) }

	if h == nil {
		h = discard{}
	}
	if t.closed.Load() {
		t.fail(rec, 0, record.ErrConnect, "transport closed")
		return
	}
	if ctx.Err() != nil {
		t.cancelled(rec, "request cancelled before it was sent: "+context.Cause(ctx).Error())
		return
	}
	tg, err := t.target(req.URL)
	if err != nil {
		t.fail(rec, 0, record.ErrPayload, err.Error())
		return
	}
	method := req.Method
	if method == "" {
		method = "GET"
		if len(req.Body) > 0 {
			method = "POST"
		}
	}
	if rec.XRequestID == "" {
		rec.XRequestID = uuid.NewString()
	}

	for hops := 0; ; hops++ {
		loc := t.send(ctx, start, tg, req, method, h, rec, &dl, toTime, timeout)
		if loc == "" {
			return
		}
		next, nextReq, ok := t.redirect(tg, req, loc, method, hops, rec)
		if !ok {
			return
		}
		tg, req, method = next, nextReq, nextReq.Method
		// The record describes the last hop; StartNs stays the first
		// request's, so latency includes every hop.
		rec.SentNs, rec.EndNs, rec.HeadersNs, rec.Status = 0, 0, 0, 0
		rec.SendStartNs, rec.FirstByteNs, rec.LastByteNs, rec.Chunks = 0, 0, 0, 0
		dl.firstByte, dl.cancel = math.MaxInt64, math.MaxInt64
		start = t.clk.Now()
	}
}

// send sends req to tg on a pooled or new connection and reads the answer
// into rec. It returns the Location of a redirect to follow, else "".
// start is when this hop began.
func (t *HTTP) send(ctx context.Context, start int64, tg *target, req *Request, method string, h Handler, rec *record.Record,
	dl *deadlines, toTime func(int64) time.Time, timeout time.Duration) string {
	sentBefore, receivedBefore := rec.BytesSent, rec.BytesReceived
	p := tg.pool
	c, err := p.acquire(ctx, start, toTime(dl.end))
	if err != nil {
		if ctx.Err() != nil {
			t.cancelled(rec, "request cancelled while waiting for a connection: "+context.Cause(ctx).Error())
		} else if errors.Is(err, errPoolTimeout) {
			t.fail(rec, 0, record.ErrTimeout, fmt.Sprintf("request timed out after %s waiting for a free connection to %s (max_connections=%d)", timeout, tg.addr, p.max))
		} else {
			t.fail(rec, 0, record.ErrConnect, err.Error())
		}
		return ""
	}
	// http_req_blocked: the wait for a pooled connection or a slot to dial.
	rec.BlockedNs = t.clk.Now() - start
	reused := c != nil
	if reused && start-c.idleSince >= staleAfter && !alive(c.nc) {
		c.close()
		c, reused = nil, false
	}
	for attempt := 0; ; attempt++ {
		if c == nil {
			if t.closed.Load() {
				p.forget()
				t.fail(rec, 0, record.ErrConnect, "transport closed")
				return ""
			}
			var ph dialPhases
			c, ph, err = t.dial(ctx, tg, toTime(dl.end))
			rec.DNSNs, rec.ConnectNs, rec.TLSNs = ph.dns, ph.connect, ph.tls
			if err != nil {
				p.forget()
				t.dialFailed(ctx, rec, tg, err, dl.end)
				return ""
			}
		}
		rec.ConnReused = reused
		if reused {
			rec.DNSNs, rec.ConnectNs, rec.TLSNs = 0, 0, 0
		}
		var loc string
		res := t.exchange(ctx, c, tg, req, method, h, rec, dl, toTime, &loc)
		switch {
		case res == resultReuse:
			c.requests++
			p.release(c, rec.EndNs)
			return loc
		case res == resultStale && attempt == 0:
			// The server closed this idle keep-alive connection before
			// reading our request: send it again on a fresh connection.
			c.close()
			c, reused = nil, false
			rec.SentNs, rec.EndNs = 0, 0
			rec.BytesSent, rec.BytesReceived = sentBefore, receivedBefore
			rec.SendStartNs, rec.FirstByteNs, rec.LastByteNs = 0, 0, 0
			continue
		}
		if res == resultStale {
			t.fail(rec, 0, record.ErrDisconnect, "server closed the connection without responding")
		}
		c.close()
		p.forget()
		return loc
	}
}

// discard is the Handler used when Do is given none.
type discard struct{}

func (discard) Message(*sse.Message, *record.Record)       {}
func (discard) Body(string, []byte, int64, *record.Record) {}

type result uint8

const (
	resultReuse result = iota // done; connection reusable
	resultClose               // done; connection must be closed
	resultStale               // a reused connection was dead before any response byte
)

// exchange writes the request and reads the response on c.
// A redirect to follow leaves its Location in *loc.
func (t *HTTP) exchange(ctx context.Context, c *conn, tg *target, req *Request, method string, h Handler, rec *record.Record, dl *deadlines, toTime func(int64) time.Time, loc *string) result {
	var err error
	c.wbuf, err = t.appendRequestHead(c.wbuf[:0], tg, req, method, rec.XRequestID, rec.XCorrelationID, &c.checked)
	if err != nil {
		t.fail(rec, 0, record.ErrPayload, "invalid request: "+err.Error())
		return resultReuse
	}
	c.begin(ctx)
	res := t.roundTrip(ctx, c, req, method, h, rec, dl, toTime, loc)
	if c.end() && res == resultReuse {
		res = resultClose // the interrupt poisoned the connection's deadline
	}
	return res
}

func (t *HTTP) roundTrip(ctx context.Context, c *conn, req *Request, method string, h Handler, rec *record.Record, dl *deadlines, toTime func(int64) time.Time, loc *string) result {
	reused := c.requests > 0
	// Write.
	_ = c.nc.SetDeadline(toTime(dl.end))
	if c.interrupted.Load() {
		t.cancelled(rec, "request cancelled before it was sent: "+context.Cause(ctx).Error())
		return resultClose
	}
	var werr error
	var sent, now int64
	rec.SendStartNs = t.clk.Now()
	if len(req.Body) <= maxCopiedBody {
		c.wbuf = append(c.wbuf, req.Body...)
		// Wait for the answer within the write unless a first-byte or
		// cancellation deadline must be armed between the two.
		var n int
		n, now, werr = c.sw.write(c.wbuf, t.cfg.FirstByteTimeout <= 0 && !req.Cancel)
		sent = int64(n)
	} else {
		bufs := net.Buffers{c.wbuf, req.Body}
		sent, werr = bufs.WriteTo(c.nc)
		now = t.clk.Now()
	}
	rec.BytesSent += sent
	if werr != nil {
		rec.EndNs = t.clk.Now()
		switch {
		case c.interrupted.Load():
			t.cancelled(rec, "request cancelled while it was sent: "+context.Cause(ctx).Error())
		case isTimeout(werr):
			t.fail(rec, 0, record.ErrSendTimeout, fmt.Sprintf("request not fully sent within %s (%d bytes written)", time.Duration(dl.end-rec.StartNs), sent))
		case reused && isPeerClosed(werr):
			return resultStale
		default:
			t.fail(rec, 0, record.ErrDisconnect, "server closed the connection while the request was sent: "+errText(werr))
		}
		return resultClose
	}
	rec.SentNs = now
	if req.Cancel {
		dl.cancel = now + int64(max(req.CancelAfter, 0))
	}
	if t.cfg.FirstByteTimeout > 0 {
		dl.firstByte = now + int64(t.cfg.FirstByteTimeout)
	}

	// Response headers.
	c.sr.reads, c.sr.bytes, c.sr.err = 0, 0, nil
	if d := dl.headerPhase(); d != dl.end {
		_ = c.nc.SetReadDeadline(toTime(d))
		if c.interrupted.Load() {
			t.cancelled(rec, "request cancelled: "+context.Cause(ctx).Error())
			return resultClose
		}
	}
	for {
		if err := readHead(c.br, &c.head, &c.hdr); err != nil {
			rec.BytesReceived += c.sr.bytes
			rec.EndNs = t.clk.Now()
			if reused && c.sr.bytes == 0 && (c.sr.err == io.EOF || isPeerClosed(c.sr.err)) && !c.interrupted.Load() {
				return resultStale
			}
			t.readFailed(ctx, c, rec, req, dl, err, true)
			return resultClose
		}
		// Skip interim responses (100 Continue, 103 Early Hints).
		if s := c.head.status; s >= 200 || s == fasthttp.StatusSwitchingProtocols {
			break
		}
	}
	rec.HeadersNs = c.sr.ns
	status := c.head.status
	rec.Status = status
	// After 101 the connection no longer speaks HTTP/1.1.
	keepAlive := !c.head.connClose && t.cfg.Reuse == reusePooled && status != fasthttp.StatusSwitchingProtocols

	// Body.
	if d := dl.bodyPhase(); d != dl.headerPhase() {
		_ = c.nc.SetReadDeadline(toTime(d))
		if c.interrupted.Load() {
			rec.EndNs = t.clk.Now()
			t.cancelled(rec, "request cancelled: "+context.Cause(ctx).Error())
			return resultClose
		}
	}
	ok := status >= 200 && status <= 299
	switch {
	case !ok:
		c.sink = sinkError
	case isEventStream(c.head.contentType):
		c.sink = sinkSSE
		c.h, c.rec = h, rec
		c.sse.Reset()
		rec.Streamed = true
	default:
		c.sink = sinkBody
	}
	c.body = c.body[:0]
	c.bodyBytes, c.limit = 0, t.cfg.MaxResponseBytes
	c.lastRead = -1 // bytes left over from the header read count as its chunk
	c.recv = rec
	err := c.readBody(method == "HEAD" || status == fasthttp.StatusNoContent || status == fasthttp.StatusNotModified || status == fasthttp.StatusSwitchingProtocols)
	rec.BytesReceived += c.sr.bytes
	end := t.clk.Now()
	rec.EndNs = end
	if err != nil {
		c.sse.Reset()
		c.h, c.rec = nil, nil
		var large *errTooLarge
		switch {
		case !ok:
			// An error answer keeps its first bytes, whatever its size.
			t.statusError(c, rec, h, status)
		case errors.As(err, &large):
			t.fail(rec, 0, record.ErrTooLarge, large.Error()+"; raise it with transport.http(max_response_bytes=...) (loadstar profile: --max-response-bytes)")
			return resultClose
		}
		t.readFailed(ctx, c, rec, req, dl, err, false)
		return resultClose
	}
	switch c.sink {
	case sinkSSE:
		c.sse.Close(end, c.onMsg)
		c.h, c.rec = nil, nil
	case sinkBody:
		h.Body(c.contentType(), c.body, end, rec)
	case sinkError:
		if isRedirect(status) {
			if l := c.head.location; len(l) > 0 {
				*loc = string(l)
				break
			}
		}
		t.statusError(c, rec, h, status)
	}
	if cap(c.body) > maxKeptBody {
		c.body = nil
	}
	if !keepAlive || c.br.Buffered() > 0 {
		return resultClose
	}
	return resultReuse
}

// Buffers a connection keeps between requests stay small so that 10,000
// open connections fit in memory: bodies up to maxCopiedBody are copied
// behind the headers (one write), larger ones are written from the caller's
// slice with writev; a response body buffer over maxKeptBody is dropped.
const (
	maxCopiedBody = 8 << 10
	maxKeptBody   = 64 << 10
)

func (t *HTTP) statusError(c *conn, rec *record.Record, h Handler, status int) {
	reason := string(c.head.reason)
	if reason == "" {
		reason = fasthttp.StatusMessage(status)
	}
	if eh, ok := h.(StatusErrorHandler); ok && rec.Error == nil {
		if rec.EndNs == 0 {
			rec.EndNs = t.clk.Now()
		}
		eh.StatusError(status, reason, c.body, rec)
		if rec.Error != nil {
			return
		}
	}
	t.fail(rec, status, reason, bodyText(c.body))
}

// bodyText renders an error body as valid UTF-8 of at most maxErrorBody bytes.
func bodyText(b []byte) string {
	if len(b) > maxErrorBody {
		b = b[:maxErrorBody]
	}
	return strings.ToValidUTF8(string(bytes.TrimSpace(b)), "\uFFFD")
}

// readFailed turns a failed read into the record's error.
func (t *HTTP) readFailed(ctx context.Context, c *conn, rec *record.Record, req *Request, dl *deadlines, err error, headers bool) {
	now := rec.EndNs
	rerr := c.sr.err
	switch {
	case c.interrupted.Load():
		t.cancelled(rec, "request cancelled: "+context.Cause(ctx).Error())
	case isTimeout(rerr) || errors.Is(err, fasthttp.ErrTimeout):
		switch {
		case now >= dl.cancel && dl.cancel <= dl.end:
			t.cancelled(rec, fmt.Sprintf("request cancelled %s after it was sent", req.CancelAfter))
		case headers && now >= dl.firstByte && dl.firstByte < dl.end:
			t.fail(rec, 0, record.ErrTimeout, fmt.Sprintf("no response headers within first_byte_timeout %s", t.cfg.FirstByteTimeout))
		default:
			t.fail(rec, 0, record.ErrTimeout, fmt.Sprintf("request timed out after %s", time.Duration(dl.end-rec.StartNs)))
		}
	case headers && c.sr.bytes == 0 && (rerr == io.EOF || isPeerClosed(rerr)):
		t.fail(rec, 0, record.ErrDisconnect, "server closed the connection without responding")
	case rerr != nil && (rerr == io.EOF || isPeerClosed(rerr)) || errors.Is(err, io.ErrUnexpectedEOF):
		if headers {
			t.fail(rec, 0, record.ErrDisconnect, "server closed the connection in the middle of the response headers")
		} else {
			t.fail(rec, 0, record.ErrDisconnect, fmt.Sprintf("server closed the connection mid-response (%d bytes received)", c.sr.bytes))
		}
	case rerr != nil:
		t.fail(rec, 0, record.ErrDisconnect, "reading the response: "+errText(rerr))
	default:
		var small *fasthttp.ErrSmallBuffer
		if errors.As(err, &small) {
			t.fail(rec, 0, record.ErrParse, fmt.Sprintf("malformed response: headers larger than read_buffer_size (%d bytes)", t.cfg.ReadBufferSize))
			return
		}
		t.fail(rec, 0, record.ErrParse, "malformed response: "+truncate(err.Error(), 300))
	}
}

func (t *HTTP) dialFailed(ctx context.Context, rec *record.Record, tg *target, err error, end int64) {
	rec.EndNs = t.clk.Now()
	var tlsErr *tlsError
	switch {
	case ctx.Err() != nil:
		t.cancelled(rec, "request cancelled while connecting: "+context.Cause(ctx).Error())
	case isTimeout(err) || errors.Is(err, context.DeadlineExceeded):
		if rec.EndNs >= end {
			t.fail(rec, 0, record.ErrTimeout, fmt.Sprintf("request timed out after %s while connecting to %s", time.Duration(end-rec.StartNs), tg.addr))
		} else {
			t.fail(rec, 0, record.ErrTimeout, fmt.Sprintf("connecting to %s timed out after connect_timeout %s", tg.addr, t.cfg.ConnectTimeout))
		}
	case isOutOfFiles(err):
		t.fail(rec, 0, record.ErrFileLimit, outOfFilesMessage(tg.addr))
	case errors.As(err, &tlsErr):
		t.fail(rec, 0, record.ErrConnect, fmt.Sprintf("cannot connect to %s: %v", tg.addr, err))
	default:
		t.fail(rec, 0, record.ErrConnect, fmt.Sprintf("cannot connect to %s: %s", tg.addr, errText(err)))
	}
}

func (t *HTTP) fail(rec *record.Record, code int, typ, msg string) {
	if rec.EndNs == 0 {
		rec.EndNs = t.clk.Now()
	}
	rec.SetError(code, typ, msg)
}

func (t *HTTP) cancelled(rec *record.Record, msg string) {
	now := t.clk.Now()
	if rec.EndNs == 0 {
		rec.EndNs = now
	}
	rec.Cancelled = true
	rec.CancelledNs = now
	rec.SetError(record.CodeCancelled, record.ErrCancelled, msg)
}

func isTimeout(err error) bool {
	var ne net.Error
	return err != nil && errors.As(err, &ne) && ne.Timeout()
}

func isEventStream(ct []byte) bool {
	const want = "text/event-stream"
	if len(ct) < len(want) {
		return false
	}
	return strings.EqualFold(string(ct[:len(want)]), want) && (len(ct) == len(want) || ct[len(want)] == ';' || ct[len(want)] == ' ')
}

// errText shortens a network error to its cause, e.g. "connection refused".
func errText(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
