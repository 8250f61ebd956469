//go:build bench

package transport

// The whole request head of the runner's default chat request: the
// endpoint's header layering (engine/endpoint.Settings.AppendHeaders) and
// the transport's request line, validation and header bytes. It imports
// engine/endpoint, so like chat_bench_test.go it is built only with
// -tags bench:
//
//	go test -tags bench -run '^$' -bench RequestHead -benchmem ./internal/transport

import (
	"testing"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/plugin"
)

// BenchmarkRequestHead is one request head of `loadstar profile`'s default
// chat request (no api key, no user headers): a fresh X-Request-ID per op,
// the session's correlation id, a 90-byte body.
func BenchmarkRequestHead(b *testing.B) {
	for _, bc := range []struct {
		name string
		args plugin.Args
	}{
		{"default", plugin.Args{"model": []string{"m"}}},
		{"key+headers", plugin.Args{"model": []string{"m"}, "api_key": "sk-0123456789abcdef",
			"headers": []string{"X-Tenant: team-a", "X-Trace: on"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var st *endpoint.Settings
			for _, bi := range endpoint.Builtins() {
				if bi.Name == "chat" {
					v, err := bi.ClassOf().Build("endpoint.chat", bc.args)
					if err != nil {
						b.Fatal(err)
					}
					st = v.(endpoint.Configured).Settings()
				}
			}
			cl, err := New(clock.New(), DefaultConfig(), 1)
			if err != nil {
				b.Fatal(err)
			}
			tg, err := cl.target(st.URLs[0])
			if err != nil {
				b.Fatal(err)
			}
			ids := [2]string{"3b241101-e2bb-4255-8caf-4136c566a962", "9c5b94b1-35ad-49bb-b118-8e8fc24abf80"}
			const session = "6ba7b810-9dad-41d1-80b4-00c04fd430c8"
			turn := dataset.NewTurn()
			req := &Request{URL: st.URLs[0], Body: make([]byte, 90), Verbatim: true, Stream: st.Streaming}
			hdrs := make([][2]string, 0, 16)
			var buf []byte
			var checked checkedHeaders
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				id := ids[i&1]
				hdrs = st.AppendHeaders(hdrs[:0], &turn, id, session)
				req.Headers = hdrs
				if buf, err = cl.appendRequestHead(buf[:0], tg, req, "POST", id, session, &checked); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
