package metrics

import "testing"

func TestPayloadText(t *testing.T) {
	for _, tc := range []struct {
		name, payload, text string
		pre                 int
		ok                  bool
	}{
		{"chat string content",
			`{"messages":[{"role":"system","content":"sys"},{"role":"user","content":"hello there"}],"model":"m","stream":true}`,
			"sys hello there", 0, true},
		{"chat parts, tool calls and tools",
			`{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"u"}}]},` +
				`{"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"get","arguments":"{\"x\":1}"}}]}],` +
				`"tools":[{"type":"function","function":{"name":"get","description":"Get it","parameters":{"type":"object","properties":{"x":{"type":"integer"}},"required":["x"]}}}]}`,
			`a get {"x":1} get Get it {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}`, 0, true},
		{"responses instructions and input items",
			`{"instructions":"be nice","input":[{"role":"user","content":[{"type":"input_text","text":"q"}]}]}`,
			"be nice q", 0, true},
		{"completions prompt list", `{"prompt":["one","two"]}`, "one two", 0, true},
		{"pre-tokenised prompt", `{"prompt":[101,102,103]}`, "", 3, true},
		{"embeddings batch of token lists", `{"input":[[1,2],[3]]}`, "", 3, true},
		{"nim rankings", `{"query":{"text":"q"},"passages":[{"text":"p1"},{"text":"p2"}]}`, "q p1 p2", 0, true},
		{"cohere rankings", `{"query":"q","documents":["d1","d2"]}`, "q d1 d2", 0, true},
		{"tei rankings", `{"query":"q","texts":["t"]}`, "q t", 0, true},
		{"tgi", `{"inputs":"tgi text","parameters":{"max_new_tokens":5}}`, "tgi text", 0, true},
		{"anthropic system blocks", `{"system":[{"type":"text","text":"s"}],"messages":[{"role":"user","content":[{"type":"text","text":"u"}]}]}`, "s u", 0, true},
		{"non-ascii schema escaped as python", `{"tools":[{"name":"n","parameters":{"d":"é"}}]}`, `n {"d": "\u00e9"}`, 0, true},
		{"nothing extractable", `{"model":"m"}`, "", 0, false},
		{"not json", `hello`, "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, pre, ok := payloadText([]byte(tc.payload))
			if text != tc.text || pre != tc.pre || ok != tc.ok {
				t.Errorf("got (%q, %d, %v), want (%q, %d, %v)", text, pre, ok, tc.text, tc.pre, tc.ok)
			}
		})
	}
}
