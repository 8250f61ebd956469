package endpoint_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// wireCase is one endpoint configuration exchanged with the embedded mock.
type wireCase struct {
	endpoint string
	args     plugin.Args
	turn     func() dataset.Turn
	// check inspects the parsed record.
	check func(t *testing.T, rec *record.Record)
}

func textTurn(max int, texts ...string) func() dataset.Turn {
	return func() dataset.Turn {
		t := dataset.NewTurn()
		t.Texts = []dataset.Named{{Contents: texts}}
		t.MaxTokens = max
		return t
	}
}

func rankTurn() dataset.Turn {
	t := dataset.NewTurn()
	t.Texts = []dataset.Named{
		{Name: "query", Contents: []string{"what is a GPU?"}},
		{Name: "passages", Contents: []string{"A GPU is a processor.", "Bananas are yellow.", "CUDA runs on GPUs."}},
	}
	return t
}

func kinds(rec *record.Record) map[record.Kind]int {
	m := map[record.Kind]int{}
	for _, r := range rec.Responses {
		m[r.Kind]++
	}
	return m
}

func wantText(minResponses int, usage bool) func(t *testing.T, rec *record.Record) {
	return func(t *testing.T, rec *record.Record) {
		t.Helper()
		k := kinds(rec)
		content := len(rec.Responses) - k[record.KindUsage]
		if content < minResponses || len(rec.Output) == 0 {
			t.Errorf("%d content responses, output %q; want >= %d and text", content, rec.Output, minResponses)
		}
		if usage && (rec.Usage.CompletionTokens <= 0 || rec.Usage.PromptTokens <= 0) {
			t.Errorf("usage %+v; want server counts", rec.Usage)
		}
	}
}

func wantItems(kind record.Kind, n int32) func(t *testing.T, rec *record.Record) {
	return func(t *testing.T, rec *record.Record) {
		t.Helper()
		var got int32
		for _, r := range rec.Responses {
			if r.Kind == kind {
				got += r.Items
			}
		}
		if got != n {
			t.Errorf("%d items of kind %d; want %d (responses %+v)", got, kind, n, rec.Responses)
		}
	}
}

func wantReasoning(t *testing.T, rec *record.Record) {
	t.Helper()
	if len(rec.Reasoning) == 0 || len(rec.Output) == 0 {
		t.Errorf("reasoning %q output %q; want both", rec.Reasoning, rec.Output)
	}
	// Reasoning comes first: the first content response is reasoning, and
	// a later one carries output text (TTFT and TTFO differ).
	first, firstOut := -1, -1
	for i, r := range rec.Responses {
		if r.Kind.IsContent() && first < 0 {
			first = i
		}
		if r.HasOutputText() && firstOut < 0 {
			firstOut = i
		}
	}
	if first < 0 || rec.Responses[first].Kind != record.KindReasoning || firstOut <= first {
		t.Errorf("first content %d (kind %d), first output %d", first, rec.Responses[max(first, 0)].Kind, firstOut)
	}
}

func wireCases() []wireCase {
	m := func(model string, streaming bool) plugin.Args {
		return plugin.Args{"model": []string{model}, "streaming": streaming}
	}
	return []wireCase{
		{"chat", m("mock-model", false), textTurn(8, "Hello there"), wantText(1, true)},
		{"chat", m("mock-model", true), textTurn(8, "Hello there"), wantText(8, true)},
		{"chat", m("deepseek-r1", true), textTurn(40, "Think first"), wantReasoning},
		{"completions", m("mock-model", false), textTurn(8, "Once upon"), wantText(1, true)},
		{"completions", m("mock-model", true), textTurn(8, "Once upon"), wantText(8, true)},
		{"embeddings", m("embed", false), textTurn(-1, "a", "b", "c"), wantItems(record.KindEmbeddings, 3)},
		{"nim_embeddings", m("embed", false), textTurn(-1, "a", "b"), wantItems(record.KindEmbeddings, 2)},
		{"image_generation", m("img", false), textTurn(-1, "a red fox"), wantItems(record.KindImage, 1)},
		{"image_generation", m("img", true), textTurn(-1, "a red fox"), func(t *testing.T, rec *record.Record) {
			if kinds(rec)[record.KindImage] < 1 {
				t.Errorf("no streamed image: %+v", rec.Responses)
			}
		}},
		{"huggingface_generate", m("tgi", false), textTurn(8, "Hello"), wantText(1, false)},
		{"huggingface_generate", m("tgi", true), textTurn(8, "Hello"), wantText(8, false)},
		{"cohere_rankings", m("rerank", false), rankTurn, wantItems(record.KindRankings, 3)},
		{"hf_tei_rankings", m("rerank", false), rankTurn, wantItems(record.KindRankings, 3)},
		{"nim_rankings", m("rerank", false), rankTurn, wantItems(record.KindRankings, 3)},
		{"solido_rag", m("rag", false), textTurn(8, "How do I run SDE?"), wantText(1, false)},
		{"solido_rag", m("rag", true), textTurn(8, "How do I run SDE?"), wantText(1, false)},
		{"responses", m("mock-model", false), textTurn(8, "Hi"), wantText(1, true)},
		{"responses", m("mock-model", true), textTurn(8, "Hi"), wantText(8, true)},
		{"responses", m("o3-think", true), textTurn(40, "Hi"), wantReasoning},
		{"messages", m("claude", false), textTurn(8, "Hi"), wantText(1, true)},
		{"messages", m("claude", true), textTurn(8, "Hi"), wantText(8, true)},
		{"messages", m("claude-think", true), textTurn(40, "Hi"), wantReasoning},
		{"template", plugin.Args{"model": []string{"mock-model"}, "custom_path": "/v1/completions",
			"body": `{"model": {{model}}, "prompt": {{text}}, "max_tokens": {{max_tokens}}}`},
			textTurn(8, "Hi"), wantText(1, true)},
		{"template", plugin.Args{"model": []string{"mock-model"}, "streaming": true, "custom_path": "/v1/chat/completions",
			"body":           `{"model": {{model}}, "messages": [{"role": "user", "content": {{text}}}], "max_tokens": {{max_tokens}}, "stream": {{stream}}}`,
			"response_field": "choices[0].delta.content"},
			textTurn(8, "Hi"), wantText(8, false)},
	}
}

// TestAgainstMock sends every endpoint's payload to the embedded mock
// server over HTTP on 127.0.0.1 and parses the real answer (stream read by
// read, as the transport does), so payloads and parsers are proven against
// the server the engine's own tests use.
func TestAgainstMock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := mock.Start(ctx, mock.Config{Fast: true, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	for _, c := range wireCases() {
		name := c.endpoint
		if s, _ := c.args["streaming"].(bool); s {
			name += "/stream"
		}
		if md, _ := c.args["model"].([]string); len(md) > 0 {
			name += "/" + md[0]
		}
		t.Run(name, func(t *testing.T) {
			args := plugin.Args{"url": []string{srv.URL()}}
			for k, v := range c.args {
				args[k] = v
			}
			for _, b := range endpoint.Builtins() {
				if b.Name != c.endpoint {
					continue
				}
				v, err := b.ClassOf().Build("endpoint."+b.Name, args)
				if err != nil {
					t.Fatal(err)
				}
				rec := exchange(t, ctx, client, v.(endpoint.Endpoint), c.turn())
				if rec.Error != nil {
					t.Fatalf("record error %+v", *rec.Error)
				}
				c.check(t, rec)
			}
		})
	}
}

// exchange formats, sends and parses one request.
func exchange(t *testing.T, ctx context.Context, client *http.Client, ep endpoint.Endpoint, turn dataset.Turn) *record.Record {
	t.Helper()
	s := ep.(endpoint.Configured).Settings()
	body, err := ep.FormatPayload(&endpoint.Request{Turns: []dataset.Turn{turn}, Conversation: &dataset.Conversation{ID: "c1"}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URLs[0], bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range s.AppendHeaders(nil, &turn, "req-1", "sess-1") {
		req.Header.Set(h[0], h[1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rec := record.New()
	p := ep.NewParser()
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(resp.Body)
		e := endpoint.ErrorFromStatus(resp.StatusCode, "", data)
		t.Fatalf("HTTP %d for %s: %+v (payload %s)", resp.StatusCode, s.URLs[0], e, body)
	}
	ct := resp.Header.Get("Content-Type")
	if !strings.Contains(ct, "text/event-stream") {
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		p.Body(ct, data, 1, rec)
		return rec
	}
	var r sse.Reader
	fn := func(m *sse.Message) { p.Message(m, rec) }
	buf := make([]byte, 4096)
	var ts int64
	for {
		n, err := resp.Body.Read(buf)
		ts++
		if n > 0 {
			r.Feed(buf[:n], ts, fn)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	r.Close(ts+1, fn)
	return rec
}
