package transport

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
	"github.com/valyala/fasthttp"
)

// rawRequest is a request as the test server received it, byte for byte.
type rawRequest struct {
	head  string   // request line and headers, without the final CRLF CRLF
	lines []string // head split into lines
	body  []byte
}

func (r *rawRequest) header(name string) (string, bool) {
	for _, l := range r.lines[1:] {
		if k, v, ok := strings.Cut(l, ": "); ok && strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// rawServer is a TCP server on 127.0.0.1 that hands each parsed request to
// handle, which writes the response bytes itself (pauses, bad framing,
// closes). handle returns false to close the connection.
type rawServer struct {
	ln      net.Listener
	accepts atomic.Int32
	handle  func(c net.Conn, req *rawRequest) bool
	mu      sync.Mutex
	conns   []net.Conn
	reqs    []*rawRequest
	wg      sync.WaitGroup
}

func newRawServer(t testing.TB, handle func(c net.Conn, req *rawRequest) bool) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, handle: handle}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if isOutOfFiles(err) {
				// A test lowered the file limit; accept again once it is
				// restored (as net/http's server does).
				time.Sleep(5 * time.Millisecond)
				continue
			}
			if err != nil {
				return
			}
			s.accepts.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := readRawRequest(br)
					if err != nil {
						return
					}
					s.mu.Lock()
					s.reqs = append(s.reqs, req)
					s.mu.Unlock()
					if !s.handle(c, req) {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *rawServer) url(path string) string { return "http://" + s.ln.Addr().String() + path }

func (s *rawServer) requests() []*rawRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*rawRequest(nil), s.reqs...)
}

func (s *rawServer) close() {
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func readRawRequest(br *bufio.Reader) (*rawRequest, error) {
	var lines []string
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			break
		}
		lines = append(lines, l)
	}
	r := &rawRequest{head: strings.Join(lines, "\r\n"), lines: lines}
	if v, ok := r.header("Content-Length"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, err
		}
		r.body = make([]byte, n)
		if _, err := io.ReadFull(br, r.body); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// chunk frames s as one HTTP/1.1 chunk.
func chunk(s string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(s), s) }

const sseHead = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"

// fastServer serves handler with fasthttp on 127.0.0.1 and counts accepted
// connections.
type fastServer struct {
	ln      *countingListener
	srv     *fasthttp.Server
	addr    string
	stopped chan struct{}
}

type countingListener struct {
	net.Listener
	accepts atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepts.Add(1)
	}
	return c, err
}

func newFastServer(tb testing.TB, handler fasthttp.RequestHandler) *fastServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &fastServer{ln: &countingListener{Listener: ln}, addr: ln.Addr().String(), stopped: make(chan struct{})}
	s.srv = &fasthttp.Server{Handler: handler, NoDefaultServerHeader: true, NoDefaultDate: true, NoDefaultContentType: true}
	go func() { _ = s.srv.Serve(s.ln); close(s.stopped) }()
	tb.Cleanup(func() { _ = s.srv.Shutdown(); <-s.stopped })
	return s
}

func (s *fastServer) url(path string) string { return "http://" + s.addr + path }

// msg is a copy of one SSE message the handler saw.
type msg struct {
	data   string
	event  string
	perfNs int64
}

// recorder is a Handler that keeps copies of what it is given and, like an
// endpoint parser, appends a text response per data message.
type recorder struct {
	// seen, when set, receives the count of messages after each one.
	seen   chan int
	mu     sync.Mutex
	msgs   []msg
	bodies []string
	cts    []string
	bodyNs []int64
}

func (r *recorder) Message(m *sse.Message, rec *record.Record) {
	r.mu.Lock()
	r.msgs = append(r.msgs, msg{string(m.Data), string(m.Event), m.PerfNs})
	n := len(r.msgs)
	r.mu.Unlock()
	if r.seen != nil {
		r.seen <- n
	}
	if m.HasData {
		rec.AddText(m.PerfNs, record.KindText, m.Data, nil)
	}
}

func (r *recorder) Body(ct string, body []byte, perfNs int64, rec *record.Record) {
	r.mu.Lock()
	r.bodies = append(r.bodies, string(body))
	r.cts = append(r.cts, ct)
	r.bodyNs = append(r.bodyNs, perfNs)
	r.mu.Unlock()
	rec.AddText(perfNs, record.KindText, body, nil)
}

// counter is a Handler that only counts, for large streams.
type counter struct {
	messages, bytes int
	lastData        []byte
}

func (c *counter) Message(m *sse.Message, _ *record.Record) {
	c.messages++
	c.bytes += len(m.Data)
	c.lastData = append(c.lastData[:0], m.Data...)
}

func (c *counter) Body(_ string, body []byte, _ int64, _ *record.Record) { c.bytes += len(body) }

func newClient(t testing.TB, mutate func(*Config), inFlight int) *HTTP {
	t.Helper()
	cfg := DefaultConfig()
	cfg.UserAgent = "loadstar/test"
	if mutate != nil {
		mutate(&cfg)
	}
	cl, err := New(clock.New(), cfg, inFlight)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

func do(cl *HTTP, req *Request, h Handler) *record.Record {
	rec := record.New()
	rec.XRequestID = "req-1"
	cl.Do(context.Background(), req, h, rec)
	return rec
}

func wantNoError(t *testing.T, rec *record.Record) {
	t.Helper()
	if rec.Error != nil {
		t.Fatalf("unexpected error record: %+v", *rec.Error)
	}
}

func wantError(t *testing.T, rec *record.Record, code int, typ, msgPart string) {
	t.Helper()
	if rec.Error == nil {
		t.Fatalf("want error %d %s %q, got none (status %d)", code, typ, msgPart, rec.Status)
	}
	e := rec.Error
	if e.Code != code || e.Type != typ || !strings.Contains(e.Message, msgPart) {
		t.Fatalf("error = {%d %q %q}, want {%d %q containing %q}", e.Code, e.Type, e.Message, code, typ, msgPart)
	}
	if rec.EndNs < rec.StartNs || rec.EndNs == 0 {
		t.Fatalf("EndNs %d not after StartNs %d", rec.EndNs, rec.StartNs)
	}
}

// pause gives a written segment time to arrive as its own network read.
func pause() { time.Sleep(30 * time.Millisecond) }

// hold stalls a test server for up to d, returning early when the client
// closes the connection.
func hold(c net.Conn, d time.Duration) {
	_ = c.SetReadDeadline(time.Now().Add(d))
	var b [1]byte
	_, _ = c.Read(b[:])
	_ = c.SetReadDeadline(time.Time{})
}

// dialPair returns both ends of a loopback TCP connection.
func dialPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}
