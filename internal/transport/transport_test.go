package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/valyala/fasthttp"
)

func okJSON(c net.Conn, _ *rawRequest) bool {
	_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"))
	return true
}

func TestHeadersSentExactly(t *testing.T) {
	srv := newRawServer(t, okJSON)
	cl := newClient(t, func(c *Config) { c.Headers = [][2]string{{"X-Static", "s"}} }, 0)
	rec := record.New()
	rec.XRequestID = "3f1c0d9e-rid"
	rec.XCorrelationID = "c0ffee-session"
	body := `{"model":"m","stream":true}`
	cl.Do(context.Background(), &Request{
		URL:     srv.url("/v1/chat/completions?api-version=1"),
		Body:    []byte(body),
		Stream:  true,
		APIKey:  "sk-secret",
		Headers: [][2]string{{"x-custom", "c v"}},
	}, &recorder{}, rec)
	wantNoError(t, rec)
	want := strings.Join([]string{
		"POST /v1/chat/completions?api-version=1 HTTP/1.1",
		"Host: " + srv.ln.Addr().String(),
		"User-Agent: loadstar/test",
		"X-Request-ID: 3f1c0d9e-rid",
		"X-Correlation-ID: c0ffee-session",
		"X-Static: s",
		"Authorization: Bearer sk-secret",
		"x-custom: c v",
		"Accept: text/event-stream",
		"Content-Type: application/json",
		"X-Session-Affinity: c0ffee-session",
		fmt.Sprintf("Content-Length: %d", len(body)),
	}, "\r\n")
	got := srv.requests()[0]
	if got.head != want {
		t.Fatalf("request head:\n%s\nwant:\n%s", got.head, want)
	}
	if string(got.body) != body {
		t.Fatalf("body %q, want %q", got.body, body)
	}
	if rec.BytesSent != int64(len(got.head)+4+len(body)) {
		t.Fatalf("BytesSent = %d, want %d", rec.BytesSent, len(got.head)+4+len(body))
	}
}

func TestHeadersOverrides(t *testing.T) {
	srv := newRawServer(t, okJSON)
	cl := newClient(t, func(c *Config) {
		c.SessionHeader = "X-Session"
		c.NoSessionAffinity = true
		c.Headers = [][2]string{{"User-Agent", "custom-agent/1"}}
	}, 0)
	rec := record.New()
	rec.XCorrelationID = "sess"
	cl.Do(context.Background(), &Request{
		URL:         srv.url(""),
		Body:        []byte("x=1"),
		APIKey:      "sk-ignored",
		ContentType: "application/x-www-form-urlencoded",
		Headers: [][2]string{
			{"Authorization", "Token abc"}, {"Accept", "text/html"}, {"Content-Type", "text/plain"},
			{"x-api-key", "k"}, {"X-Request-ID", "mine"},
		},
	}, &recorder{}, rec)
	wantNoError(t, rec)
	got := srv.requests()[0]
	want := strings.Join([]string{
		"POST / HTTP/1.1",
		"Host: " + srv.ln.Addr().String(),
		"X-Session: sess",
		"User-Agent: custom-agent/1",
		"Authorization: Token abc",
		"x-api-key: k",
		"X-Request-ID: mine",
		"Accept: application/json",
		"Content-Type: application/x-www-form-urlencoded",
		"Content-Length: 3",
	}, "\r\n")
	if got.head != want {
		t.Fatalf("request head:\n%s\nwant:\n%s", got.head, want)
	}
	if rec.XRequestID == "" {
		t.Fatal("a request without an id must get a generated X-Request-ID")
	}
	for _, l := range got.lines {
		if strings.HasPrefix(strings.ToLower(l), "accept-encoding") {
			t.Fatalf("Accept-Encoding must never be sent: %q", l)
		}
	}
}

func TestGeneratedRequestID(t *testing.T) {
	srv := newRawServer(t, okJSON)
	cl := newClient(t, nil, 0)
	rec := record.New()
	cl.Do(context.Background(), &Request{URL: srv.url("/x")}, &recorder{}, rec)
	wantNoError(t, rec)
	got := srv.requests()[0]
	if v, _ := got.header("X-Request-ID"); len(v) != 36 || v != rec.XRequestID {
		t.Fatalf("X-Request-ID %q, record %q: want the same generated uuid", v, rec.XRequestID)
	}
	if got.lines[0] != "GET /x HTTP/1.1" {
		t.Fatalf("request line %q", got.lines[0])
	}
	if _, ok := got.header("Content-Length"); ok {
		t.Fatal("a GET without body must not send Content-Length")
	}
}

func TestBadRequestHeaders(t *testing.T) {
	srv := newRawServer(t, okJSON)
	cl := newClient(t, nil, 0)
	for _, hs := range [][][2]string{
		{{"Content-Length", "5"}},
		{{"X-Evil", "a\r\nInjected: 1"}},
		{{"Bad Name", "v"}},
	} {
		rec := do(cl, &Request{URL: srv.url("/"), Headers: hs}, &recorder{})
		wantError(t, rec, 0, record.ErrPayload, "invalid request")
	}
	wantError(t, do(cl, &Request{URL: srv.url("/"), Method: "GET /x HTTP/1.1\r\n"}, &recorder{}), 0, record.ErrPayload, "not an HTTP token")
	rec := do(cl, &Request{URL: srv.url("/"), APIKey: "sk-\nleak"}, &recorder{})
	wantError(t, rec, 0, record.ErrPayload, "api key")
	if strings.Contains(rec.Error.Message, "sk-") {
		t.Fatal("error quotes the API key")
	}
	if n := len(srv.requests()); n != 0 {
		t.Fatalf("%d invalid requests reached the server", n)
	}
	// The connection stays usable afterwards.
	wantNoError(t, do(cl, &Request{URL: srv.url("/")}, &recorder{}))
}

func TestTimestampsPerRead(t *testing.T) {
	clk := clock.New() // shared by server and client so their times compare
	h := &recorder{seen: make(chan int, 16)}
	waitFor := func(n int) {
		for got := range h.seen {
			if got >= n {
				return
			}
		}
	}
	var tA, tB, tC int64
	srv := newRawServer(t, func(c net.Conn, _ *rawRequest) bool {
		_, _ = c.Write([]byte(sseHead))
		// Two messages in one write: one read, one stamp.
		_, _ = c.Write([]byte(chunk("data: {\"a\":1}\n\ndata: {\"a\":2}\n\n")))
		waitFor(2)
		// A message split over two writes is stamped by the read that
		// completes it.
		tA = clk.Now()
		_, _ = c.Write([]byte(chunk("data: {\"a\"")))
		pause()
		tB = clk.Now()
		_, _ = c.Write([]byte(chunk(":3}\n\n")))
		waitFor(3)
		tC = clk.Now()
		_, _ = c.Write([]byte(chunk("data: [DONE]\n\n") + "0\r\n\r\n"))
		return true
	})
	cl, err := New(clk, DefaultConfig(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rec := do(cl, &Request{URL: srv.url("/v1/chat/completions"), Body: []byte("{}"), Stream: true}, h)
	wantNoError(t, rec)
	if len(h.msgs) != 4 {
		t.Fatalf("got %d messages, want 4: %+v", len(h.msgs), h.msgs)
	}
	m := h.msgs
	if m[0].data != `{"a":1}` || m[1].data != `{"a":2}` || m[2].data != `{"a":3}` || m[3].data != "[DONE]" {
		t.Fatalf("messages %+v", m)
	}
	if m[0].perfNs != m[1].perfNs {
		t.Fatalf("messages completed by one read must share its stamp: %d vs %d", m[0].perfNs, m[1].perfNs)
	}
	if !(m[1].perfNs < tA && m[2].perfNs >= tB && m[3].perfNs >= tC) {
		t.Fatalf("each message must carry the stamp of the read that completed it: m1 %d < tA %d, m2 %d >= tB %d, m3 %d >= tC %d",
			m[1].perfNs, tA, m[2].perfNs, tB, m[3].perfNs, tC)
	}
	if !(rec.StartNs > 0 && rec.StartNs <= rec.SentNs && rec.SentNs <= rec.HeadersNs &&
		rec.HeadersNs <= m[0].perfNs && m[3].perfNs <= rec.EndNs) {
		t.Fatalf("timestamps out of order: start %d sent %d headers %d first %d last %d end %d",
			rec.StartNs, rec.SentNs, rec.HeadersNs, m[0].perfNs, m[3].perfNs, rec.EndNs)
	}
	// Reads of the body: the two-message write, the split message's halves
	// (one read if the client was slower than the pause), the last write.
	if rec.Chunks < 3 || rec.Chunks > 4 {
		t.Fatalf("Chunks = %d, want 3 or 4 network reads of the body", rec.Chunks)
	}
	if rec.Status != 200 || !rec.Valid() || len(rec.Responses) != 4 {
		t.Fatalf("status %d valid %v responses %d", rec.Status, rec.Valid(), len(rec.Responses))
	}
	if rec.StartWallNs != clk.Wall(rec.StartNs) || rec.BytesReceived < int64(len(sseHead)) {
		t.Fatalf("StartWallNs %d BytesReceived %d", rec.StartWallNs, rec.BytesReceived)
	}
}

func TestStreamWithoutEventStreamContentType(t *testing.T) {
	// Stream asked, but the server answers JSON: the body is read whole.
	srv := newRawServer(t, okJSON)
	cl := newClient(t, nil, 0)
	h := &recorder{}
	rec := do(cl, &Request{URL: srv.url("/"), Body: []byte("{}"), Stream: true}, h)
	wantNoError(t, rec)
	if len(h.msgs) != 0 || len(h.bodies) != 1 || h.bodies[0] != "{}" || h.cts[0] != "application/json" {
		t.Fatalf("msgs %v bodies %v cts %v", h.msgs, h.bodies, h.cts)
	}
	if h.bodyNs[0] != rec.EndNs {
		t.Fatalf("a whole body is stamped at the end: %d vs %d", h.bodyNs[0], rec.EndNs)
	}
}

func TestLargeBody(t *testing.T) {
	const size = 1 << 20
	body := make([]byte, size)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	fs := newFastServer(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		if string(ctx.Path()) == "/chunked" {
			ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
				for off := 0; off < size; off += 100_000 {
					_, _ = w.Write(body[off:min(off+100_000, size)])
					_ = w.Flush()
				}
			})
			return
		}
		ctx.SetBody(body)
	})
	cl := newClient(t, nil, 0)
	for _, path := range []string{"/length", "/chunked"} {
		h := &recorder{}
		rec := do(cl, &Request{URL: fs.url(path), Body: []byte("{}")}, h)
		wantNoError(t, rec)
		if len(h.bodies) != 1 || h.bodies[0] != string(body) {
			t.Fatalf("%s: body of %d bytes mangled (got %d bodies)", path, size, len(h.bodies))
		}
		if rec.Chunks < 2 || rec.BytesReceived < size {
			t.Fatalf("%s: chunks %d bytes %d", path, rec.Chunks, rec.BytesReceived)
		}
	}
}

func TestHugeStream(t *testing.T) {
	const tokens = 100_000
	big := strings.Repeat("x", 300_000) // one message far larger than a read
	fs := newFastServer(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("text/event-stream")
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			for i := range tokens {
				fmt.Fprintf(w, "data: {\"choices\":[{\"delta\":{\"content\":\"t%d \"}}]}\n\n", i)
				if i%64 == 0 {
					_ = w.Flush()
				}
			}
			fmt.Fprintf(w, "data: {\"big\":\"%s\"}\n\n", big)
			_, _ = w.WriteString("data: [DONE]\n\n")
		})
	})
	cl := newClient(t, func(c *Config) { c.ReadBufferSize = 4096 }, 0)
	h := &counter{}
	rec := do(cl, &Request{URL: fs.url("/v1/chat/completions"), Body: []byte("{}"), Stream: true}, h)
	wantNoError(t, rec)
	if h.messages != tokens+2 {
		t.Fatalf("got %d messages, want %d", h.messages, tokens+2)
	}
	if string(h.lastData) != "[DONE]" {
		t.Fatalf("last message %q", h.lastData)
	}
	if rec.Chunks < 100 {
		t.Fatalf("Chunks = %d: reads are not counted", rec.Chunks)
	}
}

func TestKeepAliveReuse(t *testing.T) {
	fs := newFastServer(t, func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString(`{"ok":true}`) })
	const workers, perWorker = 4, 50
	cl := newClient(t, nil, workers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	reused := 0
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWorker {
				rec := do(cl, &Request{URL: fs.url("/"), Body: []byte("{}")}, &recorder{})
				if rec.Error != nil {
					t.Errorf("error: %+v", *rec.Error)
					return
				}
				mu.Lock()
				if rec.ConnReused {
					reused++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if n := fs.ln.accepts.Load(); n > workers {
		t.Fatalf("server accepted %d connections for %d requests at concurrency %d", n, workers*perWorker, workers)
	}
	if d := cl.Stats().Dials; d != int64(fs.ln.accepts.Load()) {
		t.Fatalf("Dials %d != accepted %d", d, fs.ln.accepts.Load())
	}
	if reused < workers*perWorker-workers {
		t.Fatalf("only %d of %d requests reused a connection", reused, workers*perWorker)
	}
}

func TestMaxConnectionsCapsPool(t *testing.T) {
	fs := newFastServer(t, func(ctx *fasthttp.RequestCtx) {
		time.Sleep(2 * time.Millisecond)
		ctx.SetBodyString("{}")
	})
	cl := newClient(t, func(c *Config) { c.MaxConnections = 2 }, 64)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if rec := do(cl, &Request{URL: fs.url("/")}, &recorder{}); rec.Error != nil {
					t.Errorf("error: %+v", *rec.Error)
				}
			}
		}()
	}
	wg.Wait()
	if n := fs.ln.accepts.Load(); n != 2 {
		t.Fatalf("accepted %d connections with max_connections=2", n)
	}
}

func TestConnectionReuseNever(t *testing.T) {
	fs := newFastServer(t, func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("{}") })
	cl := newClient(t, func(c *Config) { c.Reuse = reuseNever }, 0)
	for range 3 {
		rec := do(cl, &Request{URL: fs.url("/")}, &recorder{})
		wantNoError(t, rec)
		if rec.ConnReused {
			t.Fatal("connection_reuse=never reused a connection")
		}
	}
	if n := fs.ln.accepts.Load(); n != 3 {
		t.Fatalf("accepted %d connections, want one per request", n)
	}
}

func TestStaleKeepAliveIsRetried(t *testing.T) {
	// The server closes each connection after answering without saying so,
	// as servers do when their keep-alive timeout expires.
	srv := newRawServer(t, func(c net.Conn, req *rawRequest) bool {
		okJSON(c, req)
		return false
	})
	cl := newClient(t, nil, 0)
	for i := range 3 {
		wantNoError(t, do(cl, &Request{URL: srv.url("/")}, &recorder{}))
		if i == 0 {
			time.Sleep(20 * time.Millisecond) // let the FIN arrive
		}
	}
	if n := srv.accepts.Load(); n != 3 {
		t.Fatalf("accepted %d connections, want 3", n)
	}
}

func TestStaleIdleConnectionDetected(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, req *rawRequest) bool {
		okJSON(c, req)
		return false
	})
	fake := clock.NewFake()
	cl, err := New(fake, DefaultConfig(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	wantNoError(t, do(cl, &Request{URL: srv.url("/")}, &recorder{}))
	fake.Advance(2 * time.Second) // idle long enough to be checked
	rec := do(cl, &Request{URL: srv.url("/")}, &recorder{})
	wantNoError(t, rec)
	if rec.ConnReused {
		t.Fatal("a connection the server closed was reused")
	}
}

func TestAlive(t *testing.T) {
	eventually := func(what string, f func() bool) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Second); !f(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal(what)
			}
		}
	}

	c, s := dialPair(t)
	if !alive(c) {
		t.Fatal("an open idle connection reported dead")
	}
	_ = s.Close()
	eventually("a connection closed by the server reported alive", func() bool { return !alive(c) })

	c2, s2 := dialPair(t)
	_, _ = s2.Write([]byte("HTTP/1.1 200 OK\r\n"))
	eventually("a connection with unsolicited bytes reported alive", func() bool { return !alive(c2) })
}

func TestTLS(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"x\":1}\n\n")
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the strict client's rejected handshake
	ts.StartTLS()
	defer ts.Close()

	strict := newClient(t, nil, 0)
	rec := do(strict, &Request{URL: ts.URL + "/v1", Stream: true, APIKey: "sk-tls"}, &recorder{})
	wantError(t, rec, 0, record.ErrConnect, "certificate")
	if strings.Contains(rec.Error.Message, "sk-tls") {
		t.Fatal("error message leaks the API key")
	}

	insecure := newClient(t, func(c *Config) { c.Insecure = true }, 0)
	for i := range 3 {
		h := &recorder{}
		rec := do(insecure, &Request{URL: ts.URL + "/v1", Stream: true}, h)
		wantNoError(t, rec)
		if len(h.msgs) != 1 || h.msgs[0].data != `{"x":1}` {
			t.Fatalf("messages %+v", h.msgs)
		}
		if rec.ConnReused != (i > 0) {
			t.Fatalf("request %d: ConnReused %v", i, rec.ConnReused)
		}
	}
	if d := insecure.Stats().Dials; d != 1 {
		t.Fatalf("%d TLS connections for 3 sequential requests", d)
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cl := newClient(t, nil, 0)
	rec := do(cl, &Request{URL: "http://" + addr + "/", APIKey: "sk-refused"}, &recorder{})
	wantError(t, rec, 0, record.ErrConnect, "connection refused")
	if strings.Contains(rec.Error.Message, "sk-refused") {
		t.Fatal("error leaks the API key")
	}
}

func TestConnectTimeout(t *testing.T) {
	// A TCP server that never answers the TLS handshake: the connect phase
	// (connect + handshake) must give up at connect_timeout.
	srv := newRawServer(t, func(net.Conn, *rawRequest) bool { return true })
	cl := newClient(t, func(c *Config) { c.ConnectTimeout = 100 * time.Millisecond }, 0)
	rec := do(cl, &Request{URL: "https://" + srv.ln.Addr().String() + "/"}, &recorder{})
	wantError(t, rec, 0, record.ErrTimeout, "connect_timeout")
	if d := time.Duration(rec.EndNs - rec.StartNs); d < 90*time.Millisecond || d > 2*time.Second {
		t.Fatalf("gave up after %s", d)
	}
}

func TestFirstByteTimeout(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, _ *rawRequest) bool { hold(c, time.Second); return false })
	cl := newClient(t, func(c *Config) { c.FirstByteTimeout = 80 * time.Millisecond }, 0)
	rec := do(cl, &Request{URL: srv.url("/"), Body: []byte("{}")}, &recorder{})
	wantError(t, rec, 0, record.ErrTimeout, "first_byte_timeout")
	if rec.SentNs == 0 || rec.HeadersNs != 0 {
		t.Fatalf("sent %d headers %d", rec.SentNs, rec.HeadersNs)
	}
}

func TestTotalTimeoutKeepsResponses(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, _ *rawRequest) bool {
		_, _ = c.Write([]byte(sseHead + chunk("data: {\"a\":1}\n\n")))
		hold(c, time.Second)
		return false
	})
	// The stall outlasts first_byte_timeout, which no longer applies once
	// the headers are in: the total timeout ends the request.
	cl := newClient(t, func(c *Config) { c.FirstByteTimeout = 150 * time.Millisecond }, 0)
	rec := do(cl, &Request{URL: srv.url("/"), Body: []byte("{}"), Stream: true, Timeout: 400 * time.Millisecond}, &recorder{})
	wantError(t, rec, 0, record.ErrTimeout, "timed out after 400ms")
	if len(rec.Responses) != 1 || rec.HeadersNs == 0 || rec.Status != 200 {
		t.Fatalf("responses %d headers %d status %d", len(rec.Responses), rec.HeadersNs, rec.Status)
	}
}

func TestSendTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("fills socket buffers with 64 MB")
	}
	// A server that accepts but never reads: a body larger than the socket
	// buffers cannot be written.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			time.Sleep(2 * time.Second)
			c.Close()
		}
	}()
	cl := newClient(t, nil, 0)
	rec := do(cl, &Request{URL: "http://" + ln.Addr().String() + "/", Body: make([]byte, 64<<20), Timeout: 200 * time.Millisecond}, &recorder{})
	wantError(t, rec, 0, record.ErrSendTimeout, "not fully sent")
	if rec.SentNs != 0 {
		t.Fatal("SentNs set for a request never fully written")
	}
}

func TestServerClosesMidStream(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, _ *rawRequest) bool {
		_, _ = c.Write([]byte(sseHead + chunk("data: {\"a\":1}\n\n") + chunk("data: {\"a\":2}\n\ndata: {\"a\"")))
		return false
	})
	cl := newClient(t, nil, 0)
	h := &recorder{}
	rec := do(cl, &Request{URL: srv.url("/"), Body: []byte("{}"), Stream: true}, h)
	wantError(t, rec, 0, record.ErrDisconnect, "mid-response")
	if len(rec.Responses) != 2 || len(h.msgs) != 2 || rec.Status != 200 {
		t.Fatalf("responses %d msgs %d status %d: the messages before the disconnect must be kept", len(rec.Responses), len(h.msgs), rec.Status)
	}
}

func TestServerClosesShortContentLength(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, _ *rawRequest) bool {
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial\""))
		return false
	})
	cl := newClient(t, nil, 0)
	h := &recorder{}
	rec := do(cl, &Request{URL: srv.url("/")}, h)
	wantError(t, rec, 0, record.ErrDisconnect, "mid-response")
	if len(h.bodies) != 0 {
		t.Fatal("a truncated body must not be handed to the parser")
	}
}

func TestServerClosesWithoutResponse(t *testing.T) {
	srv := newRawServer(t, func(net.Conn, *rawRequest) bool { return false })
	cl := newClient(t, nil, 0)
	rec := do(cl, &Request{URL: srv.url("/")}, &recorder{})
	wantError(t, rec, 0, record.ErrDisconnect, "without responding")
}

func TestErrorStatus(t *testing.T) {
	big := strings.Repeat("e", 10_000)
	srv := newRawServer(t, func(c net.Conn, req *rawRequest) bool {
		switch req.lines[0] {
		case "POST /500 HTTP/1.1":
			body := `{"error":{"message":"boom","code":500}}`
			fmt.Fprintf(c, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		case "POST /429 HTTP/1.1":
			_, _ = c.Write([]byte("HTTP/1.1 429 Slow Down Please\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("rate limited") + "0\r\n\r\n"))
		case "POST /big HTTP/1.1":
			fmt.Fprintf(c, "HTTP/1.1 503\r\nContent-Length: %d\r\n\r\n%s", len(big), big)
		}
		return true
	})
	cl := newClient(t, nil, 0)
	cases := []struct {
		path, typ, msg string
		code           int
	}{
		{"/500", "Internal Server Error", `{"error":{"message":"boom","code":500}}`, 500},
		{"/429", "Slow Down Please", "rate limited", 429},
		{"/big", "Service Unavailable", big[:maxErrorBody], 503},
	}
	for _, tc := range cases {
		h := &recorder{}
		rec := do(cl, &Request{URL: srv.url(tc.path), Body: []byte("{}"), Stream: true}, h)
		if rec.Error == nil || rec.Error.Code != tc.code || rec.Error.Type != tc.typ || rec.Error.Message != tc.msg {
			t.Fatalf("%s: error %+v", tc.path, rec.Error)
		}
		if len(h.msgs)+len(h.bodies) != 0 || len(rec.Responses) != 0 || rec.Status != tc.code {
			t.Fatalf("%s: an error response must not reach the parser", tc.path)
		}
	}
	if n := srv.accepts.Load(); n != 1 {
		t.Fatalf("error responses with complete bodies must keep the connection: %d accepts", n)
	}
}

func TestMalformedPayloadReachesParser(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, _ *rawRequest) bool {
		_, _ = c.Write([]byte(sseHead + chunk("data: {\"choices\": [broken\n\ndata: {\"ok\":1}\n\n") + "0\r\n\r\n"))
		return true
	})
	cl := newClient(t, nil, 0)
	h := &recorder{}
	rec := do(cl, &Request{URL: srv.url("/"), Body: []byte("{}"), Stream: true}, h)
	wantNoError(t, rec)
	if len(h.msgs) != 2 || h.msgs[0].data != `{"choices": [broken` {
		t.Fatalf("messages %+v: the parser, not the transport, judges payloads", h.msgs)
	}
}

func TestMalformedFraming(t *testing.T) {
	for name, resp := range map[string]string{
		"chunk size":   sseHead + "zz\r\ndata: x\n\n\r\n",
		"chunk length": sseHead + "2\r\nabcdef\r\n0\r\n\r\n",
		"status line":  "HTTP/1.1 2x0 OK\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			srv := newRawServer(t, func(c net.Conn, _ *rawRequest) bool {
				_, _ = c.Write([]byte(resp))
				return true
			})
			cl := newClient(t, nil, 0)
			rec := do(cl, &Request{URL: srv.url("/"), Stream: true}, &recorder{})
			wantError(t, rec, 0, record.ErrParse, "malformed")
		})
	}
}

func TestCancelAfterDelay(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, _ *rawRequest) bool {
		_, _ = c.Write([]byte(sseHead))
		for i := range 20 {
			if _, err := fmt.Fprint(c, chunk(fmt.Sprintf("data: {\"i\":%d}\n\n", i))); err != nil {
				return false
			}
			time.Sleep(20 * time.Millisecond)
		}
		_, _ = c.Write([]byte("0\r\n\r\n"))
		return true
	})
	cl := newClient(t, nil, 0)
	rec := do(cl, &Request{URL: srv.url("/"), Body: []byte(`{"x":1}`), Stream: true, Cancel: true, CancelAfter: 70 * time.Millisecond}, &recorder{})
	wantError(t, rec, record.CodeCancelled, record.ErrCancelled, "cancelled 70ms after it was sent")
	if !rec.Cancelled || rec.CancelledNs-rec.SentNs < int64(70*time.Millisecond) || rec.CancelledNs-rec.SentNs > int64(time.Second) {
		t.Fatalf("cancelled %v at %s after send", rec.Cancelled, time.Duration(rec.CancelledNs-rec.SentNs))
	}
	if n := len(rec.Responses); n < 1 || n >= 20 {
		t.Fatalf("%d responses before the cancellation", n)
	}
}

func TestCancelZeroDelayDeliversRequest(t *testing.T) {
	got := make(chan *rawRequest, 1)
	srv := newRawServer(t, func(c net.Conn, req *rawRequest) bool {
		got <- req
		time.Sleep(50 * time.Millisecond)
		okJSON(c, req)
		return true
	})
	cl := newClient(t, nil, 0)
	body := strings.Repeat("b", 200_000)
	rec := do(cl, &Request{URL: srv.url("/"), Body: []byte(body), Cancel: true}, &recorder{})
	wantError(t, rec, record.CodeCancelled, record.ErrCancelled, "cancelled")
	if !rec.Cancelled || rec.SentNs == 0 {
		t.Fatalf("cancelled %v sent %d", rec.Cancelled, rec.SentNs)
	}
	select {
	case req := <-got:
		if string(req.body) != body {
			t.Fatalf("server got %d body bytes, want %d", len(req.body), len(body))
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the server never received the whole request")
	}
}

func TestContextCancel(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, _ *rawRequest) bool {
		_, _ = c.Write([]byte(sseHead + chunk("data: {\"a\":1}\n\n")))
		hold(c, 2*time.Second)
		return false
	})
	cl := newClient(t, nil, 0)
	ctx, cancel := context.WithCancelCause(context.Background())
	h := &recorder{seen: make(chan int, 4)}
	go func() { <-h.seen; cancel(fmt.Errorf("grace period expired")) }()
	rec := record.New()
	cl.Do(ctx, &Request{URL: srv.url("/"), Stream: true}, h, rec)
	wantError(t, rec, record.CodeCancelled, record.ErrCancelled, "grace period expired")
	if !rec.Cancelled || len(rec.Responses) != 1 {
		t.Fatalf("cancelled %v responses %d", rec.Cancelled, len(rec.Responses))
	}
	if d := time.Duration(rec.EndNs - rec.StartNs); d > time.Second {
		t.Fatalf("cancellation took %s", d)
	}
	// Already cancelled: nothing is sent.
	before := srv.accepts.Load()
	rec = record.New()
	cl.Do(ctx, &Request{URL: srv.url("/")}, &recorder{}, rec)
	wantError(t, rec, record.CodeCancelled, record.ErrCancelled, "before it was sent")
	if srv.accepts.Load() != before {
		t.Fatal("a cancelled context still connected")
	}
}

// A connection watches each context once, not per request: a context
// cancelled while the connection sits idle leaves it usable by the next
// context's requests, whose own cancellation still interrupts them.
func TestContextWatchedPerConnection(t *testing.T) {
	var slow atomic.Bool
	srv := newRawServer(t, func(c net.Conn, req *rawRequest) bool {
		if slow.Load() {
			_, _ = c.Write([]byte(sseHead + chunk("data: {\"a\":1}\n\n")))
			hold(c, 2*time.Second)
			return false
		}
		okJSON(c, req)
		return true
	})
	cl := newClient(t, nil, 1)
	ctx1, cancel1 := context.WithCancel(context.Background())
	for range 3 {
		rec := record.New()
		cl.Do(ctx1, &Request{URL: srv.url("/")}, &recorder{}, rec)
		wantNoError(t, rec)
	}
	cancel1() // the connection is idle in the pool
	time.Sleep(20 * time.Millisecond)

	ctx2, cancel2 := context.WithCancelCause(context.Background())
	rec := record.New()
	cl.Do(ctx2, &Request{URL: srv.url("/")}, &recorder{}, rec)
	wantNoError(t, rec)
	if !rec.ConnReused || srv.accepts.Load() != 1 {
		t.Fatalf("reused %v after %d accepts: the first context's cancel closed the idle connection", rec.ConnReused, srv.accepts.Load())
	}
	slow.Store(true)
	h := &recorder{seen: make(chan int, 4)}
	go func() { <-h.seen; cancel2(fmt.Errorf("phase over")) }()
	rec = record.New()
	cl.Do(ctx2, &Request{URL: srv.url("/"), Stream: true}, h, rec)
	wantError(t, rec, record.CodeCancelled, record.ErrCancelled, "phase over")
	if d := time.Duration(rec.EndNs - rec.StartNs); d > time.Second {
		t.Fatalf("cancellation took %s", d)
	}
}

func TestPoolWaitTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := newRawServer(t, func(c net.Conn, req *rawRequest) bool {
		<-release
		okJSON(c, req)
		return true
	})
	defer close(release)
	cl := newClient(t, nil, 1)
	done := make(chan *record.Record)
	go func() { done <- do(cl, &Request{URL: srv.url("/")}, &recorder{}) }()
	for len(srv.requests()) == 0 { // the only connection is now busy
		time.Sleep(time.Millisecond)
	}
	rec := do(cl, &Request{URL: srv.url("/"), Timeout: 80 * time.Millisecond}, &recorder{})
	wantError(t, rec, 0, record.ErrTimeout, "waiting for a free connection")
	release <- struct{}{}
	wantNoError(t, <-done)
}

func TestInvalidURL(t *testing.T) {
	cl := newClient(t, nil, 0)
	for _, u := range []string{"ftp://x/", "http://", "::bad"} {
		rec := do(cl, &Request{URL: u}, &recorder{})
		wantError(t, rec, 0, record.ErrPayload, "URL")
	}
}

func TestTLSSessionInsecureConfig(t *testing.T) {
	cl := newClient(t, func(c *Config) { c.Insecure = true }, 0)
	c := cl.tlsConfig("example")
	if !c.InsecureSkipVerify || c.NextProtos[0] != "http/1.1" || c.MinVersion > tls.VersionTLS12 {
		t.Fatalf("tls config %+v", c)
	}
}

func TestResponseFraming(t *testing.T) {
	cases := []struct {
		name, resp, body string
		reusable         bool // the client may send the next request on the connection
		serverCloses     bool // the server closes after the response
	}{
		{"interim 100 then 200", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok", true, false},
		{"HTTP/1.0 until close", "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":1}", `{"a":1}`, false, true},
		{"chunked with trailers and extensions", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2 \r\nde\r\n0\r\nX-Trailer: t\r\n\r\n", "abcde", true, false},
		{"204 no content", "HTTP/1.1 204 No Content\r\n\r\n", "", true, false},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", "x", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRawServer(t, func(c net.Conn, _ *rawRequest) bool {
				_, _ = c.Write([]byte(tc.resp))
				return !tc.serverCloses
			})
			cl := newClient(t, nil, 0)
			for range 2 {
				h := &recorder{}
				rec := do(cl, &Request{URL: srv.url("/")}, h)
				wantNoError(t, rec)
				if len(h.bodies) != 1 || h.bodies[0] != tc.body {
					t.Fatalf("bodies %q, want [%q]", h.bodies, tc.body)
				}
			}
			want := int32(1)
			if !tc.reusable {
				want = 2
			}
			if n := srv.accepts.Load(); n != want {
				t.Fatalf("%d connections for 2 requests, want %d", n, want)
			}
		})
	}
}

func TestNoTransparentDecompression(t *testing.T) {
	gz := "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" // a gzip header: bytes the parser must see as sent
	srv := newRawServer(t, func(c net.Conn, _ *rawRequest) bool {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(gz), gz)
		return true
	})
	cl := newClient(t, nil, 0)
	h := &recorder{}
	wantNoError(t, do(cl, &Request{URL: srv.url("/")}, h))
	if len(h.bodies) != 1 || h.bodies[0] != gz {
		t.Fatalf("body %q: the transport must not decode content encodings", h.bodies)
	}
}

func TestManyConcurrentStreams(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 50
	}
	fs := newFastServer(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("text/event-stream")
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			for i := range 5 {
				fmt.Fprintf(w, "data: {\"i\":%d}\n\n", i)
				_ = w.Flush()
				time.Sleep(10 * time.Millisecond)
			}
		})
	})
	cl := newClient(t, nil, n)
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := &counter{}
			rec := do(cl, &Request{URL: fs.url("/"), Body: []byte("{}"), Stream: true}, h)
			if rec.Error != nil || h.messages != 5 {
				errs <- fmt.Sprintf("error %+v, %d messages", rec.Error, h.messages)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if d := cl.Stats().Dials; d > int64(n) {
		t.Fatalf("%d connections for %d concurrent streams", d, n)
	}
}
