package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
	"github.com/valyala/fasthttp"
)

// target is a parsed request URL; targets are cached per URL string so the
// hot path never parses.
type target struct {
	https      bool
	addr       string // host:port to dial
	hostHeader string // Host header value
	serverName string // TLS SNI
	requestURI string // path?query
	ipLiteral  bool   // host is an IP address: no name resolution
	pool       *hostPool
}

func parseTarget(raw string) (*target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid URL %q: %v", raw, err)
	}
	tg := &target{}
	switch strings.ToLower(u.Scheme) {
	case "http":
	case "https":
		tg.https = true
	default:
		return nil, fmt.Errorf("invalid URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid URL %q: no host", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("invalid URL: user info is not supported; pass credentials as headers")
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
		if tg.https {
			port = "443"
		}
	}
	tg.addr = net.JoinHostPort(host, port)
	tg.ipLiteral = net.ParseIP(host) != nil
	tg.hostHeader = u.Host
	tg.serverName = host
	tg.requestURI = u.EscapedPath()
	if tg.requestURI == "" {
		tg.requestURI = "/"
	}
	if u.RawQuery != "" {
		tg.requestURI += "?" + u.RawQuery
	}
	return tg, nil
}

// hostPool holds the keep-alive connections to one scheme+host:port. Idle
// connections are reused last-in first-out, so a light load keeps few
// connections warm; when max connections are open, requests wait in FIFO
// order for one to be released.
type hostPool struct {
	t      *HTTP
	key    string
	max    int // 0 = unbounded
	mu     sync.Mutex
	idle   []*conn
	open   int
	waitq  []chan *conn // a nil value grants a slot to dial
	closed bool
}

// errPoolClosed is returned when the client was closed.
var errPoolClosed = errors.New("transport closed")

// acquire returns an idle connection, a slot to dial (nil conn), or waits for
// either until deadline or ctx.
// now is the caller's current clock reading.
func (p *hostPool) acquire(ctx context.Context, now int64, deadline time.Time) (*conn, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errPoolClosed
	}
	for n := len(p.idle); n > 0; n = len(p.idle) {
		c := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		if now-c.idleSince < int64(p.t.cfg.KeepaliveTimeout) {
			p.mu.Unlock()
			return c, nil
		}
		p.open--
		p.mu.Unlock()
		c.close()
		p.mu.Lock()
	}
	if p.max == 0 || p.open < p.max {
		p.open++
		p.mu.Unlock()
		return nil, nil
	}
	ch := make(chan *conn, 1)
	p.waitq = append(p.waitq, ch)
	p.mu.Unlock()

	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	var err error
	select {
	case c := <-ch:
		return c, nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = errPoolTimeout
	}
	p.mu.Lock()
	for i, w := range p.waitq {
		if w == ch {
			p.waitq = append(p.waitq[:i], p.waitq[i+1:]...)
			p.mu.Unlock()
			return nil, err
		}
	}
	p.mu.Unlock()
	// Granted while giving up: pass the grant on.
	if c := <-ch; c != nil {
		p.release(c, c.idleSince)
	} else {
		p.forget()
	}
	return nil, err
}

var errPoolTimeout = errors.New("timed out waiting for a free connection")

// release returns a healthy connection for reuse; now is the clock reading
// at which it became idle.
func (p *hostPool) release(c *conn, now int64) {
	c.idleSince = now
	p.mu.Lock()
	if len(p.waitq) > 0 {
		w := p.waitq[0]
		p.waitq = p.waitq[1:]
		p.mu.Unlock()
		w <- c
		return
	}
	if p.closed {
		p.open--
		p.mu.Unlock()
		c.close()
		return
	}
	p.idle = append(p.idle, c)
	// The oldest idle connections sit at the bottom: drop expired ones.
	var expired *conn
	if old := p.idle[0]; len(p.idle) > 1 && c.idleSince-old.idleSince >= int64(p.t.cfg.KeepaliveTimeout) {
		copy(p.idle, p.idle[1:])
		p.idle[len(p.idle)-1] = nil
		p.idle = p.idle[:len(p.idle)-1]
		p.open--
		expired = old
	}
	p.mu.Unlock()
	if expired != nil {
		expired.close()
	}
}

// forget gives back the slot of a connection that was closed (or never
// opened), waking one waiter to dial.
func (p *hostPool) forget() {
	p.mu.Lock()
	if len(p.waitq) > 0 && !p.closed {
		w := p.waitq[0]
		p.waitq = p.waitq[1:]
		p.mu.Unlock()
		w <- nil
		return
	}
	p.open--
	p.mu.Unlock()
}

// closeAll closes every idle connection, refuses new acquisitions and wakes
// waiters (each gets a slot, finds the transport closed and gives it back).
func (p *hostPool) closeAll() {
	p.mu.Lock()
	p.closed = true
	idle, waiters := p.idle, p.waitq
	p.idle, p.waitq = nil, nil
	p.open -= len(idle)
	p.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
	for _, w := range waiters {
		w <- nil
	}
}

// conn is one client connection with its read state. It is used by one
// request at a time.
type conn struct {
	nc        net.Conn
	br        *bufio.Reader
	sr        stampReader
	sw        sendWait
	wbuf      []byte
	checked   checkedHeaders          // headers of the last request, checked
	head      respHead                // the response being read
	hdr       fasthttp.ResponseHeader // reads the heads readHead leaves to fasthttp
	sse       sse.Reader
	requests  int   // requests completed on this connection
	idleSince int64 // clock ns when last released

	// Per-request state (set in Do, cleared after).
	h     Handler
	rec   *record.Record
	onMsg func(*sse.Message)
	sink  sink
	body  []byte
	// bodyBytes counts the response's body bytes so far; limit is
	// max_response_bytes.
	bodyBytes, limit int64
	lastRead         int32          // c.sr.reads at the last delivery
	recv             *record.Record // the record stamped with body reads
	lastCT           string

	// interrupted is set when the request's context was cancelled while
	// the connection was in use.
	interrupted atomic.Bool
	watch       ctxWatch
}

// ctxWatch interrupts a connection's request when the request's context is
// cancelled. It registers once per context, not per request: a phase sends
// every request with one context, and context.AfterFunc per request cost an
// allocation and a lock on that context, which every connection shares.
type ctxWatch struct {
	mu     sync.Mutex
	done   <-chan struct{} // the watched context's Done channel
	stop   func() bool     // its registration
	active bool            // a request of that context is in flight
}

// begin watches ctx for the request about to be sent on c.
func (c *conn) begin(ctx context.Context) {
	c.interrupted.Store(false)
	d := ctx.Done()
	if d == nil {
		return // never cancelled
	}
	w := &c.watch
	w.mu.Lock()
	if w.done != d {
		if w.stop != nil {
			// An earlier context's interrupt that still runs finds done
			// changed and leaves the connection alone.
			w.stop()
		}
		w.done = d
		w.stop = context.AfterFunc(ctx, func() { c.interruptFor(d) })
	}
	w.active = true
	w.mu.Unlock()
}

// end stops watching for the request that began; it reports whether the
// request was interrupted (the connection's deadline is then poisoned). An
// interrupt that comes after end finds no request and does nothing.
func (c *conn) end() bool {
	w := &c.watch
	w.mu.Lock()
	w.active = false
	w.mu.Unlock()
	return c.interrupted.Load()
}

// interruptFor breaks off the request in flight when its context (the one
// whose Done channel is d) is cancelled.
func (c *conn) interruptFor(d <-chan struct{}) {
	w := &c.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.active || w.done != d {
		return
	}
	c.interrupted.Store(true)
	_ = c.nc.SetDeadline(aLongTimeAgo)
}

func newConn(nc net.Conn, clk clock.Clock, bufSize int) *conn {
	c := &conn{nc: nc}
	c.sr = stampReader{r: nc, clk: clk}
	c.sw.init(nc, clk.Now)
	c.br = bufio.NewReaderSize(&c.sr, bufSize)
	c.onMsg = c.message
	// Responses are read as sent: no header name normalization work.
	c.hdr.DisableNormalizing()
	return c
}

var aLongTimeAgo = time.Unix(1, 0)

func (c *conn) message(m *sse.Message) { c.h.Message(m, c.rec) }

func (c *conn) close() {
	w := &c.watch
	w.mu.Lock()
	if w.stop != nil {
		w.stop() // the context no longer holds the connection
		w.stop, w.done = nil, nil
	}
	w.mu.Unlock()
	_ = c.nc.Close()
}

// stampReader stamps every network read with the run clock the moment it
// returns, before anything parses the bytes (wire.md §7).
type stampReader struct {
	r     net.Conn
	clk   clock.Clock
	ns    int64 // time of the last read
	reads int32 // reads since the counter was reset
	bytes int64 // bytes since the counter was reset
	err   error // last read error
}

func (s *stampReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.ns = s.clk.Now()
	s.reads++
	s.bytes += int64(n)
	if err != nil {
		s.err = err
	}
	return n, err
}

// dialPhases are the measured phases of opening one connection, in ns
// (http_req_dns_lookup, http_req_connecting, http_req_tls_handshaking).
type dialPhases struct{ dns, connect, tls int64 }

// socketStamp is the context key under which dial leaves the clock reading
// taken when the first socket of a dial is about to connect: name
// resolution ends there.
type socketStamp struct{}

// stampSocket is the dialer's ControlContext: it runs after the host was
// resolved, before each connect(2) attempt.
func (t *HTTP) stampSocket(ctx context.Context, _, _ string, _ syscall.RawConn) error {
	if p, ok := ctx.Value(socketStamp{}).(*atomic.Int64); ok {
		p.CompareAndSwap(0, t.clk.Now())
	}
	return nil
}

// dial opens a connection to tg, bounded by deadline and ctx, and measures
// its phases. A host given as an IP address needs no resolution (DNS 0);
// a dialer that never creates a socket (tests) reports the whole dial as
// connecting.
func (t *HTTP) dial(ctx context.Context, tg *target, deadline time.Time) (*conn, dialPhases, error) {
	var ph dialPhases
	if t.cfg.ConnectTimeout > 0 {
		if d := time.Now().Add(t.cfg.ConnectTimeout); d.Before(deadline) {
			deadline = d
		}
	}
	var resolved atomic.Int64
	dctx, cancel := context.WithDeadline(context.WithValue(ctx, socketStamp{}, &resolved), deadline)
	defer cancel()
	t0 := t.clk.Now()
	nc, err := t.dialContext(dctx, "tcp", tg.addr)
	t1 := t.clk.Now()
	ph.connect = t1 - t0
	if r := resolved.Load(); r > t0 && !tg.ipLiteral {
		ph.dns, ph.connect = r-t0, t1-r
	}
	if err != nil {
		return nil, ph, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if tg.https {
		tc := tls.Client(nc, t.tlsConfig(tg.serverName))
		err := tc.HandshakeContext(dctx)
		ph.tls = t.clk.Now() - t1
		if err != nil {
			_ = nc.Close()
			return nil, ph, &tlsError{err}
		}
		nc = tc
	}
	t.dials.Add(1)
	return newConn(nc, t.clk, t.cfg.ReadBufferSize), ph, nil
}

type tlsError struct{ err error }

func (e *tlsError) Error() string { return "TLS handshake: " + e.err.Error() }
func (e *tlsError) Unwrap() error { return e.err }

func (t *HTTP) tlsConfig(serverName string) *tls.Config {
	t.tlsMu.Lock()
	defer t.tlsMu.Unlock()
	if c, ok := t.tlsConfigs[serverName]; ok {
		return c
	}
	c := &tls.Config{
		ServerName:         serverName,
		InsecureSkipVerify: t.cfg.Insecure, //nolint:gosec // the user's explicit insecure=True
		NextProtos:         []string{"http/1.1"},
		ClientSessionCache: t.tlsSessions,
	}
	t.tlsConfigs[serverName] = c
	return c
}
