package endpoint

import (
	"testing"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// benchParse parses one SSE message b.N times into a record that is reset
// every 1024 messages (as a long stream grows its buffers once).
func benchParse(b *testing.B, name string, data string, args plugin.Args) {
	p := newEndpoint(b, name, args).NewParser()
	m := &sse.Message{Data: []byte(data), HasData: true, PerfNs: 1}
	rec := record.New()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	cp, _ := p.(*chatParser)
	for i := 0; i < b.N; i++ {
		if i&1023 == 0 {
			rec.Reset()
		}
		if cp != nil {
			cp.shape.head = 0 // every chunk parsed, not read by its shape
		}
		p.Message(m, rec)
	}
	if len(rec.Responses) == 0 {
		b.Fatal("nothing parsed")
	}
}

// BenchmarkChatStream reads a whole 16-token stream as the mock (and vLLM)
// write it: a role chunk, 15 content chunks, a finish chunk and a usage
// chunk, with a new parser as the runner makes one per request. ns/op is
// per stream.
func BenchmarkChatStream(b *testing.B) {
	const id = `{"id":"chatcmpl-6a8cc0d36c728729703ea68f","object":"chat.completion.chunk","created":1796360442,"model":"mock-model","system_fingerprint":"fp_loadstar_mock","choices":[{"index":0,"delta":`
	words := []string{" test", " car", " leave", " market", " the", " of", " and", " to", " in", " is", " was", " he", " for", " it", " with", " as"}
	chunks := []string{id + `{"role":"assistant","content":"` + words[0] + `"},"logprobs":null,"finish_reason":null}]}`}
	for _, w := range words[1:15] {
		chunks = append(chunks, id+`{"content":"`+w+`"},"logprobs":null,"finish_reason":null}]}`)
	}
	chunks = append(chunks, id+`{"content":"`+words[15]+`"},"logprobs":null,"finish_reason":"length"}]}`,
		`{"id":"chatcmpl-6a8cc0d36c728729703ea68f","object":"chat.completion.chunk","created":1796360442,"model":"mock-model","system_fingerprint":"fp_loadstar_mock","choices":[],"usage":{"prompt_tokens":16,"completion_tokens":16,"total_tokens":32,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}`)
	msgs := make([]sse.Message, len(chunks))
	n := 0
	for i, c := range chunks {
		msgs[i] = sse.Message{Data: []byte(c), HasData: true, PerfNs: int64(i + 1)}
		n += len(c)
	}
	ep := newEndpoint(b, "chat", plugin.Args{"model": []string{"m"}})
	rec := record.New()
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec.Reset()
		p := ep.NewParser()
		for j := range msgs {
			p.Message(&msgs[j], rec)
		}
	}
	if len(rec.Responses) != 17 || rec.Usage.CompletionTokens != 16 {
		b.Fatalf("read %d responses, usage %+v", len(rec.Responses), rec.Usage)
	}
}

// BenchmarkChatChunk is the hot path: one typical streamed chat chunk
// (vLLM/OpenAI shape, one short content delta). Budget: ≤ 1 µs, ≤ 1 alloc.
func BenchmarkChatChunk(b *testing.B) {
	benchParse(b, "chat",
		`{"id":"chatcmpl-8f2b1c3e9a","object":"chat.completion.chunk","created":1718000000,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}]}`,
		plugin.Args{"model": []string{"m"}})
}

// BenchmarkChatChunkLlamaCpp parses a llama.cpp chunk (content first, long
// trailing fields).
func BenchmarkChatChunkLlamaCpp(b *testing.B) {
	benchParse(b, "chat",
		`{"choices":[{"finish_reason":null,"index":0,"delta":{"content":" for"}}],"created":1795342392,"id":"chatcmpl-ML3VMlOqREVG6MHQkCnmhvpTSnMHKbea","model":"gguf/tiny.gguf","system_fingerprint":"b1-de3ff81","object":"chat.completion.chunk"}`,
		plugin.Args{"model": []string{"m"}})
}

// BenchmarkChatChunkEscaped has escapes in the content (decoded into the
// parser's scratch buffer).
func BenchmarkChatChunkEscaped(b *testing.B) {
	benchParse(b, "chat",
		`{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"line\n\"quoted\" \u00e9\ud83d\ude00"},"finish_reason":null}]}`,
		plugin.Args{"model": []string{"m"}})
}

// BenchmarkChatReasoningChunk parses a reasoning delta.
func BenchmarkChatReasoningChunk(b *testing.B) {
	benchParse(b, "chat",
		`{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"reasoning_content":" think"},"finish_reason":null}]}`,
		plugin.Args{"model": []string{"m"}})
}

// BenchmarkCompletionsChunk parses a streamed completions chunk.
func BenchmarkCompletionsChunk(b *testing.B) {
	benchParse(b, "completions",
		`{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" world","logprobs":null,"finish_reason":null}]}`,
		plugin.Args{"model": []string{"m"}})
}

// BenchmarkTGIChunk parses a TGI stream event.
func BenchmarkTGIChunk(b *testing.B) {
	benchParse(b, "huggingface_generate",
		`{"index":3,"token":{"id":1917,"text":" world","logprob":-0.25,"special":false},"generated_text":null,"details":null}`,
		nil)
}

// BenchmarkChatPayload formats a single-turn chat request.
func BenchmarkChatPayload(b *testing.B) {
	ep := newEndpoint(b, "chat", plugin.Args{"model": []string{"m"}, "streaming": true})
	t := textTurn("Explain the theory of relativity in simple words, please.")
	t.MaxTokens = 128
	req := &Request{Turns: []dataset.Turn{t}, Conversation: &dataset.Conversation{ID: "c"}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ep.FormatPayload(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChatBody is a whole non-streaming chat completion (the mock's,
// with usage), parsed as an answer.
func BenchmarkChatBody(b *testing.B) {
	body := []byte(`{"id":"chatcmpl-8cbdd3ac96a288727cc60f6c","object":"chat.completion","created":1796316319,` +
		`"model":"mock-model","system_fingerprint":"fp_loadstar_mock","choices":[{"index":0,"message":{"role":"assistant",` +
		`"content":" movie, simple no allow sweet happen industry interest computer been, know bath head."},` +
		`"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":4,"completion_tokens":16,"total_tokens":20}}`)
	p := newEndpoint(b, "chat", plugin.Args{"model": []string{"m"}}).NewParser()
	rec := record.New()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rec.Reset()
		p.Body("application/json", body, 1, rec)
	}
	if len(rec.Responses) == 0 || rec.Usage.CompletionTokens != 16 {
		b.Fatalf("parsed %+v", rec)
	}
}
