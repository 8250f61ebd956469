//go:build bench

package transport

// The chat-parser variant of the hot-path benchmark imports engine/endpoint
// (and through it the dataset package), so it is built only with -tags bench:
// a breakage there must not stop this package's tests.
//
//	go test -tags bench -run '^$' -bench StreamReadPath -benchmem ./internal/transport

import (
	"testing"

	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/plugin"
)

// BenchmarkStreamReadPathChat runs the same path into engine/endpoint's
// chat parser: the full per-token client cost of a streamed chat response
// (read, stamp, de-chunk, split SSE, parse JSON, append to the record).
func BenchmarkStreamReadPathChat(b *testing.B) {
	var chat endpoint.Endpoint
	for _, bi := range endpoint.Builtins() {
		if bi.Name == "chat" {
			v, err := bi.ClassOf().New(plugin.Args{"model": []string{"m"}, "streaming": true})
			if err != nil {
				b.Fatal(err)
			}
			chat = v.(endpoint.Endpoint)
		}
	}
	if chat == nil {
		b.Fatal("no chat endpoint")
	}
	benchStreamPath(b, chat.NewParser())
}
