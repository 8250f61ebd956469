package transport

import (
	"fmt"
	"net"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
	"github.com/valyala/fasthttp"
)

// Hostile servers: answers far larger than any model produces, and
// redirects. Every server here is on 127.0.0.1 and bounded in bytes and
// time; the memory cases assert the peak heap (runtime/metrics), not the
// wall time.

// peakHeap runs f and returns how far the live heap rose above where it
// started: /gc/heap/live:bytes (what the last collection found reachable,
// so garbage not yet collected does not count), sampled every millisecond
// while f runs and once more after a collection at the end, with the
// largest reading kept. Allocating the memory under test triggers the
// collections that update it.
func peakHeap(f func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(stop)
	<-done
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

// textHandler keeps every message's data and every body as response text,
// as an endpoint parser does with content (more than it: the whole data).
type textHandler struct{}

func (textHandler) Message(m *sse.Message, rec *record.Record) {
	if m.HasData {
		rec.AddText(m.PerfNs, record.KindText, m.Data, nil)
	}
}

func (textHandler) Body(_ string, body []byte, perfNs int64, rec *record.Record) {
	rec.AddText(perfNs, record.KindText, body, nil)
}

// endlessServer answers every request with head, then prefix, then fill
// repeated in blocks of about 64 KiB until the client goes away or total
// bytes are written. Bodies are chunk-framed when head says chunked.
func endlessServer(t *testing.T, head, prefix, fill string, total int64) *rawServer {
	chunked := strings.Contains(head, "chunked")
	frame := func(s string) []byte {
		if chunked && s != "" {
			s = chunk(s)
		}
		return []byte(s)
	}
	first := append([]byte(head), frame(prefix)...)
	block := frame(strings.Repeat(fill, (64<<10)/len(fill)))
	return newRawServer(t, func(c net.Conn, _ *rawRequest) bool {
		_ = c.SetWriteDeadline(time.Now().Add(20 * time.Second))
		if _, err := c.Write(first); err != nil {
			return false
		}
		for sent := int64(0); sent < total; sent += int64(len(block)) {
			if _, err := c.Write(block); err != nil {
				return false
			}
		}
		return false
	})
}

// The response-size cases of issue 14: each fails its request as
// ResponseTooLarge once the body passes max_response_bytes, holds at most
// about twice the limit in memory (the body buffer and the record's text,
// docs/reliability.md), and leaves the client usable.
func TestResponseTooLarge(t *testing.T) {
	const limit = 8 << 20
	const (
		jsonLength  = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n"
		jsonChunked = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
		jsonToClose = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
		sseChunked  = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
	)
	cases := []struct {
		name, head, prefix, fill string
		total                    int64
		stream                   bool
		msg                      string
	}{
		{"declared 2 GB JSON body", jsonLength, "{", "x", 4 << 20, false, "declares a 2147483648-byte body"},
		{"2 GB chunked JSON body", jsonChunked, "{", "x", 2 << 30, false, "exceeded max_response_bytes (8388608)"},
		{"JSON body until close", jsonToClose, "{", "x", 2 << 30, false, "exceeded max_response_bytes"},
		{"one unbroken 256 MB SSE event", sseChunked, `data: {"choices":[{"delta":{"content":"`, "y", 256 << 20, true, "exceeded max_response_bytes"},
		{"256 MB of small SSE events", sseChunked, "", "data: {\"choices\":[{\"delta\":{\"content\":\"tok\"}}]}\n\n", 256 << 20, true, "exceeded max_response_bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := endlessServer(t, tc.head, tc.prefix, tc.fill, tc.total)
			cl := newClient(t, func(c *Config) { c.MaxResponseBytes = limit }, 0)
			var rec *record.Record
			peak := peakHeap(func() {
				rec = do(cl, &Request{URL: srv.url("/v1/chat/completions"), Body: []byte("{}"), Stream: tc.stream}, textHandler{})
			})
			wantError(t, rec, 0, record.ErrTooLarge, tc.msg)
			if bound := uint64(2*limit + 8<<20); peak > bound {
				t.Errorf("peak heap rose %d MiB, over 2 x max_response_bytes + 8 MiB (%d MiB)", peak>>20, bound>>20)
			}
			if len(rec.Output) > limit {
				t.Errorf("record holds %d bytes of text, over the limit", len(rec.Output))
			}
			t.Logf("peak heap +%d MiB, %d bytes received", peak>>20, rec.BytesReceived)
		})
	}
}

// The default limit holds too, and a body within it is read whole.
func TestResponseLimitDefault(t *testing.T) {
	if got := DefaultConfig().MaxResponseBytes; got != 64<<20 {
		t.Fatalf("default max_response_bytes = %d, docs/reliability.md says 64 MiB", got)
	}
	srv := endlessServer(t, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", "{", "z", 2<<30)
	cl := newClient(t, nil, 0)
	var rec *record.Record
	peak := peakHeap(func() { rec = do(cl, &Request{URL: srv.url("/"), Body: []byte("{}")}, textHandler{}) })
	wantError(t, rec, 0, record.ErrTooLarge, "exceeded max_response_bytes (67108864)")
	if bound := uint64(2*64<<20 + 8<<20); peak > bound {
		t.Errorf("peak heap rose %d MiB, over %d MiB", peak>>20, bound>>20)
	}

	body := strings.Repeat("a", 1<<20)
	fs := newFastServer(t, func(ctx *fasthttp.RequestCtx) { ctx.SetContentType("application/json"); ctx.SetBodyString(body) })
	cl = newClient(t, func(c *Config) { c.MaxResponseBytes = 1 << 20 }, 0)
	h := &recorder{}
	rec = do(cl, &Request{URL: fs.url("/"), Body: []byte("{}")}, h)
	wantNoError(t, rec)
	if len(h.bodies) != 1 || len(h.bodies[0]) != 1<<20 {
		t.Fatalf("a body of exactly max_response_bytes must be read whole")
	}
}

// An error answer larger than the limit keeps its status and first bytes.
func TestResponseTooLargeErrorStatus(t *testing.T) {
	srv := endlessServer(t, "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n", "e", "e", 64<<20)
	cl := newClient(t, func(c *Config) { c.MaxResponseBytes = 1 << 20 }, 0)
	rec := do(cl, &Request{URL: srv.url("/"), Body: []byte("{}")}, &recorder{})
	wantError(t, rec, 500, "Internal Server Error", strings.Repeat("e", 100))
}

func TestMaxResponseBytesValidated(t *testing.T) {
	for _, v := range []int64{0, 1023, 1<<30 + 1, -1} {
		cfg := DefaultConfig()
		cfg.MaxResponseBytes = v
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "max_response_bytes") {
			t.Errorf("max_response_bytes=%d: err %v", v, err)
		}
	}
}

// redirectServer answers /r/N with a redirect of status code to /r/N-1 and
// /r/0 with a 200 text body; /away redirects to other.
func redirectServer(t *testing.T, code int, other string) *rawServer {
	return newRawServer(t, func(c net.Conn, req *rawRequest) bool {
		parts := strings.Fields(req.lines[0])
		path := parts[1]
		var n int
		_, _ = fmt.Sscanf(path, "/r/%d", &n)
		switch {
		case path == "/away":
			fmt.Fprintf(c, "HTTP/1.1 %d Moved\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n", code, other)
		case path == "/lower":
			// uvicorn (vLLM, SGLang) sends header names in lower case.
			fmt.Fprintf(c, "HTTP/1.1 %d Moved\r\nlocation: /r/0\r\ncontent-length: 0\r\n\r\n", code)
		case path == "/lower-unusual":
			// The same, in a head fasthttp reads (a folded header line).
			fmt.Fprintf(c, "HTTP/1.1 %d Moved\r\nx-note: a\r\n b\r\nlocation: /r/0\r\ncontent-length: 0\r\n\r\n", code)
		case path == "/loop":
			fmt.Fprintf(c, "HTTP/1.1 %d Moved\r\nLocation: /loop\r\nContent-Length: 5\r\n\r\nmoved", code)
		case n > 0:
			fmt.Fprintf(c, "HTTP/1.1 %d Moved\r\nLocation: /r/%d\r\nContent-Length: 5\r\n\r\nmoved", code, n-1)
		default:
			body := parts[0] + " " + string(req.body)
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		}
		return true
	})
}

func TestRedirects(t *testing.T) {
	other := newRawServer(t, func(c net.Conn, _ *rawRequest) bool {
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		return true
	})
	t.Run("307 repeats the POST with its body", func(t *testing.T) {
		srv := redirectServer(t, 307, "")
		cl := newClient(t, nil, 0)
		h := &recorder{}
		rec := do(cl, &Request{URL: srv.url("/r/3"), Body: []byte(`{"x":1}`)}, h)
		wantNoError(t, rec)
		if len(h.bodies) != 1 || h.bodies[0] != `POST {"x":1}` || rec.Status != 200 {
			t.Fatalf("bodies %q status %d", h.bodies, rec.Status)
		}
		if n := len(srv.requests()); n != 4 {
			t.Fatalf("%d requests, want 4 (3 redirects)", n)
		}
		if rec.StartNs >= rec.SendStartNs || rec.EndNs <= rec.SentNs {
			t.Fatalf("timestamps: start %d send %d sent %d end %d", rec.StartNs, rec.SendStartNs, rec.SentNs, rec.EndNs)
		}
	})
	t.Run("302 of a POST is not turned into a GET", func(t *testing.T) {
		srv := redirectServer(t, 302, "")
		rec := do(newClient(t, nil, 0), &Request{URL: srv.url("/r/1"), Body: []byte("{}")}, &recorder{})
		wantError(t, rec, 302, record.ErrRedirect, "redirect to /r/0 not followed: a POST would have to become a GET")
	})
	t.Run("a lower-case location is followed", func(t *testing.T) {
		srv := redirectServer(t, 307, "")
		for _, path := range []string{"/lower", "/lower-unusual"} {
			h := &recorder{}
			rec := do(newClient(t, nil, 0), &Request{URL: srv.url(path), Body: []byte("{}")}, h)
			wantNoError(t, rec)
			if len(h.bodies) != 1 || h.bodies[0] != "POST {}" {
				t.Fatalf("%s: bodies %q", path, h.bodies)
			}
		}
	})
	t.Run("302 of a GET is followed", func(t *testing.T) {
		srv := redirectServer(t, 302, "")
		rec := do(newClient(t, nil, 0), &Request{URL: srv.url("/r/2")}, &recorder{})
		wantNoError(t, rec)
	})
	t.Run("a signed Location is recorded without its signature", func(t *testing.T) {
		srv := redirectServer(t, 307, "http://u:pw-s3cr3t@elsewhere.invalid/o?X-Amz-Signature=s3cr3t&part=1")
		rec := do(newClient(t, nil, 0), &Request{URL: srv.url("/away"), Body: []byte("{}")}, &recorder{})
		wantError(t, rec, 307, record.ErrRedirect, "redirect to http://u:<redacted>@elsewhere.invalid/o?X-Amz-Signature=<redacted>&part=1 not followed")
	})
	t.Run("another server is not followed", func(t *testing.T) {
		srv := redirectServer(t, 307, other.url("/"))
		rec := do(newClient(t, nil, 0), &Request{URL: srv.url("/away"), Body: []byte("{}"), APIKey: "sk-secret"}, &recorder{})
		wantError(t, rec, 307, record.ErrRedirect, "leads to another server")
		if len(other.requests()) != 0 {
			t.Fatal("the other server received the request")
		}
	})
	t.Run("a loop stops at max_redirects", func(t *testing.T) {
		srv := redirectServer(t, 308, "")
		rec := do(newClient(t, nil, 0), &Request{URL: srv.url("/loop"), Body: []byte("{}")}, &recorder{})
		wantError(t, rec, 308, record.ErrRedirect, "more than max_redirects (10)")
		if n := len(srv.requests()); n != 11 {
			t.Fatalf("%d requests, want 11", n)
		}
	})
	t.Run("max_redirects=0 records the Location", func(t *testing.T) {
		srv := redirectServer(t, 307, "")
		rec := do(newClient(t, func(c *Config) { c.MaxRedirects = 0 }, 0), &Request{URL: srv.url("/r/1"), Body: []byte("{}")}, &recorder{})
		wantError(t, rec, 307, record.ErrRedirect, "redirect to /r/0 not followed: redirects are not followed (max_redirects=0)")
	})
}
