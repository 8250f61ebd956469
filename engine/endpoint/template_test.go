package endpoint

import (
	"testing"

	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
)

// TestTemplateAutoDetect covers wire.md §5's auto-detection order.
func TestTemplateAutoDetect(t *testing.T) {
	cases := []struct {
		body string
		want []string
	}{
		{`[[0.1,0.2],[0.3,0.4],[0.5,0.6]]`, []string{"embeddings:3"}},
		{`[0.1,0.2,0.3]`, []string{"embeddings:1"}},
		{`[{"index":0,"score":0.5},{"index":1,"score":0.1}]`, []string{"rankings:2"}},
		{`"plain string"`, []string{"text:plain string"}},
		{`["a","b"]`, []string{"text:ab"}},
		{`{"data":[{"object":"embedding","embedding":[1]},{"object":"embedding","embedding":[2]}]}`, []string{"embeddings:2"}},
		{`{"embeddings":[[1,2],[3,4]]}`, []string{"embeddings:2"}},
		{`{"embeddings":[1,2]}`, []string{"embeddings:1"}},
		{`{"embedding":[1,2]}`, []string{"embeddings:1"}},
		{`{"rankings":[{"index":0}]}`, []string{"rankings:1"}},
		{`{"results":[{"index":0},{"index":1}]}`, []string{"rankings:2"}},
		{`{"text":"t","content":"c"}`, []string{"text:t"}},
		{`{"text":5,"content":"c"}`, []string{"text:c"}},
		{`{"response":"r"}`, []string{"text:r"}},
		{`{"output":["o1","o2"]}`, []string{"text:o1o2"}},
		{`{"result":"res"}`, []string{"text:res"}},
		{`{"choices":[{"text":"ct"}]}`, []string{"text:ct"}},
		{`{"choices":[{"message":{"content":"cm"}}]}`, []string{"text:cm"}},
		{`{"choices":[{"delta":{"content":"cd"}}]}`, []string{"text:cd"}},
		{`{"generated_text":"g"}`, nil},
		{`{"text":""}`, nil},
		{`[]`, nil},
		{`42`, nil},
		{`not json at all`, []string{"text:not json at all"}},
	}
	p := newEndpoint(t, "template", plugin.Args{"body": `{"q": {{text}}}`}).NewParser()
	for _, c := range cases {
		rec := record.New()
		p.Body("application/json", []byte(c.body), 1, rec)
		checkNoError(t, rec)
		if got := events(rec); !eq(got, c.want) {
			t.Errorf("%s: got %q want %q", c.body, got, c.want)
		}
	}
}

func TestTemplateResponseField(t *testing.T) {
	cases := []struct {
		field, body string
		want        []string
	}{
		{"outputs[0].text", `{"outputs":[{"text":"first"},{"text":"second"}]}`, []string{"text:first"}},
		{"outputs[1].text", `{"outputs":[{"text":"first"}]}`, nil}, // strict: no match, no data
		{"result.embedding", `{"result":{"embedding":[0.1,0.2]}}`, []string{"embeddings:1"}},
		{"result.vectors", `{"result":{"vectors":[[1],[2],[3]]}}`, []string{"embeddings:3"}},
		{"scores", `{"scores":[{"i":0},{"i":1}]}`, []string{"rankings:2"}},
		{"answer", `{"answer":12.5}`, []string{"text:12.5"}},
		{"answer", `{"answer":null}`, nil},
		{"text", `{"text":"auto","other":"x"}`, []string{"text:auto"}}, // "text" = auto-detect
		// JMESPath beyond simple paths.
		{"outputs[-1].text", `{"outputs":[{"text":"a"},{"text":"last"}]}`, []string{"text:last"}},
		{"join('', outputs[*].text)", `{"outputs":[{"text":"a"},{"text":"b"}]}`, []string{"text:ab"}},
		{"outputs[?kind=='final'].text | [0]", `{"outputs":[{"kind":"draft","text":"no"},{"kind":"final","text":"yes"}]}`, []string{"text:yes"}},
		{"outputs[*].text", `{"outputs":[{"text":"x"},{"text":"y"}]}`, []string{"text:xy"}},
	}
	for _, c := range cases {
		p := newEndpoint(t, "template", plugin.Args{"body": `{"q": {{text}}}`, "response_field": c.field}).NewParser()
		rec := record.New()
		p.Body("application/json", []byte(c.body), 1, rec)
		checkNoError(t, rec)
		if got := events(rec); !eq(got, c.want) {
			t.Errorf("%s on %s: got %q want %q", c.field, c.body, got, c.want)
		}
	}
}

func TestTemplateStream(t *testing.T) {
	p := newEndpoint(t, "template", plugin.Args{"body": `{"q": {{text}}}`, "streaming": true,
		"response_field": "token.text"}).NewParser()
	rec := feedSSE(p, sseBody(`{"token":{"text":"Hel"}}`, `{"token":{"text":"lo"}}`, `{"error":{"message":"late failure","code":500}}`), 3)
	checkEvents(t, rec, "text:Hel", "text:lo")
	checkError(t, rec, 500, record.ErrSSE, "late failure")
	// Non-JSON stream data is text as-is; [DONE] is skipped.
	p = newEndpoint(t, "template", plugin.Args{"body": `{"q": {{text}}}`, "streaming": true}).NewParser()
	rec = feedSSE(p, sseBody("raw words", `{"content":"json words","usage":{"prompt_tokens":2,"completion_tokens":2}}`, "[DONE]"), 0)
	checkEvents(t, rec, "text:raw words", "text:json words")
	if rec.Usage.PromptTokens != 2 {
		t.Errorf("usage %+v", rec.Usage)
	}
}
