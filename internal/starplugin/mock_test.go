package starplugin_test

import (
	"context"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/internal/transport"
)

// The Starlark chat of testdata/plugins/starlark-chat (the docs/plugins.md
// example) benchmarks the embedded mock OpenAI server exactly as the Go chat
// does: same bodies sent, same answers read.
func TestStarlarkChatAgainstMockServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv, err := mock.Start(ctx, mock.DefaultConfig(), mock.WithAddr("127.0.0.1", 0), mock.WithFast(), mock.WithSeed(3))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cl, err := transport.New(clock.New(), transport.DefaultConfig(), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	r := newRegistry(t, nil, starlarkChatDir)
	for _, streaming := range []bool{true, false} {
		var recs [2]*record.Record
		for i, name := range []string{"chat", "go:engine/endpoint.Chat"} {
			v, err := r.Build(&plugin.Spec{Category: plugin.Endpoint, Name: name, Args: plugin.Args{
				"url": []string{srv.URL()}, "model": []string{"mock-model"}, "streaming": streaming}})
			if err != nil {
				t.Fatal(err)
			}
			ep := v.(endpoint.Endpoint)
			body, err := ep.FormatPayload(chatRequest())
			if err != nil {
				t.Fatal(err)
			}
			s := ep.(endpoint.Configured).Settings()
			rec := record.New()
			cl.Do(ctx, &transport.Request{URL: s.URLs[0], Body: body, Stream: s.Streaming}, ep.NewParser(), rec)
			if rec.Error != nil || rec.Status != 200 {
				t.Fatalf("%s streaming=%v: status %d, error %+v", name, streaming, rec.Status, rec.Error)
			}
			recs[i] = rec
		}
		star, goChat := recs[0], recs[1]
		if len(star.Output) == 0 || string(star.Output) != string(goChat.Output) {
			t.Errorf("streaming=%v: output %q, Go chat read %q", streaming, star.Output, goChat.Output)
		}
		if star.Usage != goChat.Usage || star.Usage.CompletionTokens <= 0 {
			t.Errorf("streaming=%v: usage %+v, Go chat read %+v", streaming, star.Usage, goChat.Usage)
		}
		if len(star.Responses) != len(goChat.Responses) {
			t.Errorf("streaming=%v: %d responses, Go chat read %d", streaming, len(star.Responses), len(goChat.Responses))
		}
		if streaming && len(star.Responses) < 10 {
			t.Errorf("a streamed answer of %d tokens gave %d responses", star.Usage.CompletionTokens, len(star.Responses))
		}
	}
}
