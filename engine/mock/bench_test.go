package mock

import (
	"io"
	"testing"

	"github.com/valyala/fasthttp"
)

const (
	benchChat   = `{"model":"mock-model","messages":[{"role":"user","content":"Summarize the plot of a long novel in a few sentences, please."}],"max_tokens":64}`
	benchStream = `{"model":"mock-model","messages":[{"role":"user","content":"Summarize the plot of a long novel in a few sentences, please."}],"max_tokens":64,"stream":true,"stream_options":{"include_usage":true}}`
)

// benchHandler measures the server's own work per request (parse, plan,
// body or stream), without the network.
func benchHandler(b *testing.B, path, body string) {
	srv := start(b, Config{Fast: true})
	var req fasthttp.Request
	req.Header.SetMethod("POST")
	req.SetRequestURI(path)
	req.SetBodyString(body)
	var ctx fasthttp.RequestCtx
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ctx.Init(&req, nil, nil)
		srv.handle(&ctx)
		if err := ctx.Response.BodyWriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
		if ctx.Response.StatusCode() != 200 {
			b.Fatalf("status %d", ctx.Response.StatusCode())
		}
	}
}

func BenchmarkHandlerChat(b *testing.B)       { benchHandler(b, "/v1/chat/completions", benchChat) }
func BenchmarkHandlerChatStream(b *testing.B) { benchHandler(b, "/v1/chat/completions", benchStream) }
func BenchmarkHandlerMessagesStream(b *testing.B) {
	benchHandler(b, "/v1/messages", `{"model":"m","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Summarize a novel."}]}`)
}
func BenchmarkHandlerEmbeddings(b *testing.B) {
	benchHandler(b, "/v1/embeddings", `{"model":"m","input":["Summarize the plot of a long novel."]}`)
}

// benchLoopback measures requests per second through 127.0.0.1 with a
// fasthttp client and 64 connections (client and server share the CPUs;
// .ci/bench/mock-wrk.sh pins them apart).
func benchLoopback(b *testing.B, body string) {
	srv := start(b, Config{Fast: true})
	c := &fasthttp.HostClient{Addr: srv.Addr(), MaxConns: 64}
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.Header.SetMethod("POST")
		req.SetRequestURI("http://" + srv.Addr() + "/v1/chat/completions")
		req.Header.SetContentType("application/json")
		req.SetBodyString(body)
		for pb.Next() {
			if err := c.Do(req, resp); err != nil {
				b.Error(err)
				return
			}
			if resp.StatusCode() != 200 {
				b.Errorf("status %d", resp.StatusCode())
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func BenchmarkLoopbackChat(b *testing.B)       { benchLoopback(b, benchChat) }
func BenchmarkLoopbackChatStream(b *testing.B) { benchLoopback(b, benchStream) }
