package transport

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
	"github.com/valyala/fasthttp"
)

// chatChunk is a typical OpenAI chat-completions stream chunk.
const chatChunk = `data: {"id":"chatcmpl-8f2a","object":"chat.completion.chunk","created":1767225600,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[{"index":0,"delta":{"content":" token"},"logprobs":null,"finish_reason":null}]}` + "\n\n"

// streamConn is an in-memory net.Conn serving one streamed response: the
// headers, then n reads each holding one HTTP chunk with one SSE message,
// then the last chunk. Writes are discarded. It isolates the client's
// read-parse-timestamp path from the kernel.
type streamConn struct {
	head, chunk, tail []byte
	n, sent           int
	stage             int
}

func newStreamConn(n int) *streamConn {
	return &streamConn{
		head:  []byte(sseHead),
		chunk: []byte(chunk(chatChunk)),
		tail:  []byte(chunk("data: [DONE]\n\n") + "0\r\n\r\n"),
		n:     n,
	}
}

func (c *streamConn) Read(p []byte) (int, error) {
	switch {
	case c.stage == 0:
		c.stage = 1
		return copy(p, c.head), nil
	case c.sent < c.n:
		c.sent++
		return copy(p, c.chunk), nil
	case c.stage == 1:
		c.stage = 2
		return copy(p, c.tail), nil
	}
	return 0, io.EOF
}

func (c *streamConn) Write(p []byte) (int, error)                            { return len(p), nil }
func (c *streamConn) Close() error                                           { return nil }
func (c *streamConn) LocalAddr() net.Addr                                    { return &net.TCPAddr{} }
func (c *streamConn) RemoteAddr() net.Addr                                   { return &net.TCPAddr{} }
func (c *streamConn) SetDeadline(time.Time) error                            { return nil }
func (c *streamConn) SetReadDeadline(time.Time) error                        { return nil }
func (c *streamConn) SetWriteDeadline(time.Time) error                       { return nil }
func (c *streamConn) reset(n int)                                            { c.n, c.sent, c.stage = n, 0, 0 }
func (c *streamConn) dial(context.Context, string, string) (net.Conn, error) { return c, nil }

// nopHandler does the least a handler can: look at the data.
type nopHandler struct{ bytes int }

func (h *nopHandler) Message(m *sse.Message, _ *record.Record)           { h.bytes += len(m.Data) }
func (h *nopHandler) Body(_ string, b []byte, _ int64, _ *record.Record) { h.bytes += len(b) }

// benchStreamPath streams b.N SSE chunks through Do on an in-memory
// connection — socket bytes -> stamp -> chunked decoding -> sse.Reader ->
// handler — as responses of 1000 chunks on one keep-alive connection, the
// record reset between responses as the runner recycles records. ns/op and
// allocs/op are per chunk, request overhead included.
func benchStreamPath(b *testing.B, h Handler) {
	const perResponse = 1000
	sc := newStreamConn(0)
	cl, err := New(clock.New(), DefaultConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	cl.dialContext = sc.dial
	rec := record.New()
	req := &Request{URL: "http://127.0.0.1:1/v1/chat/completions", Body: []byte(`{"stream":true}`), Stream: true}
	run := func(n int) {
		rec.Reset()
		rec.XRequestID = "bench"
		sc.reset(n)
		cl.Do(context.Background(), req, h, rec)
		if rec.Error != nil {
			b.Fatal(rec.Error)
		}
		if rec.Chunks != int32(n+1) {
			b.Fatalf("chunks %d, want %d", rec.Chunks, n+1)
		}
	}
	run(perResponse) // grow the buffers once, as a long run has
	b.SetBytes(int64(len(sc.chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += perResponse {
		run(min(perResponse, b.N-done))
	}
}

// BenchmarkStreamReadPath is the issue's hot-path target: client CPU per SSE
// chunk ≤ 1 µs and ≤ 1 allocation per chunk, with a trivial handler.
func BenchmarkStreamReadPath(b *testing.B) {
	benchStreamPath(b, &nopHandler{})
}

// BenchmarkStreamReadPathRecording appends every message's data to the
// record, as a parser appending text does.
func BenchmarkStreamReadPathRecording(b *testing.B) {
	benchStreamPath(b, appendHandler{})
}

type appendHandler struct{}

func (appendHandler) Message(m *sse.Message, rec *record.Record) {
	rec.AddText(m.PerfNs, record.KindText, m.Data[100:106], nil)
}
func (appendHandler) Body(string, []byte, int64, *record.Record) {}

// BenchmarkDoLoopback measures whole non-streaming requests against an
// in-process fasthttp server over loopback (client and server share the CPUs).
func BenchmarkDoLoopback(b *testing.B) {
	fs := newFastServer(b, func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"choices":[{"message":{"content":"hello"}}]}`)
	})
	cl, err := New(clock.New(), DefaultConfig(), 64)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	req := &Request{URL: fs.url("/v1/chat/completions"), Body: []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`)}
	var errs atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rec := record.New()
		h := &nopHandler{}
		for pb.Next() {
			rec.Reset()
			rec.XRequestID = "b"
			cl.Do(context.Background(), req, h, rec)
			if rec.Error != nil {
				errs.Add(1)
			}
		}
	})
	b.StopTimer()
	if errs.Load() > 0 {
		b.Fatalf("%d errors", errs.Load())
	}
}

// newStreamServer serves streams of n chat chunks, flushing each.
func newStreamServer(b *testing.B, n int) *fastServer {
	return newFastServer(b, func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("text/event-stream")
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			for range n {
				_, _ = w.WriteString(chatChunk)
				_ = w.Flush()
			}
		})
	})
}

// BenchmarkDoStreamLoopback streams 1000-chunk responses from an in-process
// fasthttp server that flushes every message; ns/op is per chunk and
// includes the server's work and the kernel's.
func BenchmarkDoStreamLoopback(b *testing.B) {
	const perResponse = 1000
	fs := newStreamServer(b, perResponse)
	cl, err := New(clock.New(), DefaultConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	req := &Request{URL: fs.url("/v1/chat/completions"), Body: []byte(`{"stream":true}`), Stream: true}
	rec := record.New()
	h := &nopHandler{}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += perResponse {
		rec.Reset()
		rec.XRequestID = "b"
		cl.Do(context.Background(), req, h, rec)
		if rec.Error != nil {
			b.Fatal(rec.Error)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/chunk")
}

func Example_redactHeaders() {
	fmt.Println(redactHeaders([][2]string{{"Authorization", "Bearer sk-1"}, {"x-api-key", "k"}, {"X-Tenant", "a"}}))
	// Output: [[Authorization <redacted>] [x-api-key <redacted>] [X-Tenant a]]
}

// replyConn is an in-memory connection answering every request with one
// fixed response (Writes are discarded; each Write arms one response).
type replyConn struct {
	streamConn
	reply   []byte
	pending bool
}

func (c *replyConn) Write(p []byte) (int, error) { c.pending = true; return len(p), nil }
func (c *replyConn) Read(p []byte) (int, error) {
	if !c.pending {
		return 0, io.EOF
	}
	c.pending = false
	return copy(p, c.reply), nil
}
func (c *replyConn) dial(context.Context, string, string) (net.Conn, error) { return c, nil }

// BenchmarkDoInMemory is the client's own CPU per non-streaming request —
// headers written, response parsed, body handed over — without the kernel,
// with the runner's verbatim header list.
func BenchmarkDoInMemory(b *testing.B) {
	body := `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}]}`
	rc := &replyConn{reply: []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nServer: mock\r\nDate: Tue, 24 Nov 2026 01:33:10 GMT\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body))}
	cl, err := New(clock.New(), DefaultConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	cl.dialContext = rc.dial
	req := &Request{
		URL:  "http://127.0.0.1:8000/v1/chat/completions",
		Body: []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":16}`),
		Headers: [][2]string{
			{"User-Agent", "loadstar/dev"}, {"X-Request-ID", "3b241101-e2bb-4255-8caf-4136c566a962"},
			{"X-Correlation-ID", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"}, {"Accept", "application/json"},
			{"Content-Type", "application/json"}, {"X-Session-Affinity", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"},
		},
		Verbatim: true,
	}
	rec := record.New()
	h := &nopHandler{}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rec.Reset()
		rec.XRequestID = "3b241101-e2bb-4255-8caf-4136c566a962"
		cl.Do(context.Background(), req, h, rec)
		if rec.Error != nil {
			b.Fatal(rec.Error)
		}
	}
}

// BenchmarkDoStreamLoopbackShort streams 16-message responses, as a 16-token
// completion is, from an in-process fasthttp server to 16 parallel
// requesters over loopback; ns/op is per request, so the per-request work
// (request head, response head, framing) weighs as it does in a run.
func BenchmarkDoStreamLoopbackShort(b *testing.B) {
	const perResponse = 16
	fs := newStreamServer(b, perResponse)
	cl, err := New(clock.New(), DefaultConfig(), 64)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	req := &Request{URL: fs.url("/v1/chat/completions"), Body: []byte(`{"stream":true}`), Stream: true}
	var errs atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rec := record.New()
		h := &nopHandler{}
		for pb.Next() {
			rec.Reset()
			rec.XRequestID = "b"
			cl.Do(context.Background(), req, h, rec)
			if rec.Error != nil || rec.Chunks == 0 {
				errs.Add(1)
			}
		}
	})
	b.StopTimer()
	if errs.Load() > 0 {
		b.Fatalf("%d failed requests", errs.Load())
	}
}

// BenchmarkDoStreamInMemory is the client's own CPU per 16-message streamed
// request — request written, response head parsed, chunks decoded, messages
// handed over — on an in-memory keep-alive connection, without the kernel.
func BenchmarkDoStreamInMemory(b *testing.B) {
	const perResponse = 16
	sc := newStreamConn(perResponse)
	sc.head = []byte("HTTP/1.1 200 OK\r\nServer: mock\r\nDate: Tue, 24 Nov 2026 01:33:10 GMT\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n")
	cl, err := New(clock.New(), DefaultConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	cl.dialContext = sc.dial
	req := &Request{URL: "http://127.0.0.1:1/v1/chat/completions", Body: []byte(`{"stream":true}`), Stream: true}
	rec := record.New()
	h := &nopHandler{}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rec.Reset()
		rec.XRequestID = "b"
		sc.reset(perResponse)
		cl.Do(context.Background(), req, h, rec)
		if rec.Error != nil || rec.Chunks != perResponse+1 {
			b.Fatalf("error %v, %d chunks", rec.Error, rec.Chunks)
		}
	}
}
