package starplugin_test

import (
	"testing"

	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// The cost of writing an endpoint in Starlark, next to the Go chat:
//
//	go test ./internal/starplugin -run '^$' -bench . -benchmem
func BenchmarkFormatPayload(b *testing.B) {
	star, goChat := buildEndpoints(b, true)
	req := chatRequest()
	b.Run("starlark", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := star.FormatPayload(req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := goChat.FormatPayload(req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// One streamed chunk (one token) through parse_response.
func BenchmarkParseChunk(b *testing.B) {
	star, goChat := buildEndpoints(b, true)
	msg := &sse.Message{HasData: true, PerfNs: 1, Data: []byte(`{"choices":[{"finish_reason":null,"index":0,"delta":{"content":" token"}}],"created":1795342910,"id":"chatcmpl-x","model":"tiny","object":"chat.completion.chunk"}`)}
	for _, tc := range []struct {
		name string
		p    interface {
			Message(*sse.Message, *record.Record)
		}
	}{{"starlark", star.NewParser()}, {"go", goChat.NewParser()}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			rec := record.New()
			for b.Loop() {
				if len(rec.Responses) > 4096 {
					rec.Reset()
				}
				tc.p.Message(msg, rec)
			}
		})
	}
}
