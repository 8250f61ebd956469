package endpoint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/internal/golden"
)

// payloadCase is one request shape sent to every endpoint.
type payloadCase struct {
	name string
	args plugin.Args // added to the endpoint's base arguments
	req  func() *Request
}

func single(t dataset.Turn) *Request {
	return &Request{Turns: []dataset.Turn{t}, Conversation: &dataset.Conversation{ID: "conv-1"}}
}

func withMax(t dataset.Turn, n int) dataset.Turn { t.MaxTokens = n; return t }

func payloadCases() []payloadCase {
	rankTurn := func() dataset.Turn {
		t := dataset.NewTurn()
		t.Texts = []dataset.Named{
			{Name: "query", Contents: []string{"what is a GPU?"}},
			{Name: "passages", Contents: []string{"A GPU is a processor.", "Bananas are yellow."}},
		}
		return t
	}
	return []payloadCase{
		{name: "single_text", req: func() *Request {
			// HTML characters and non-ASCII must be written literally.
			return single(textTurn("Hello <b>&</b> \"world\" é 日本 😀\n\ttab"))
		}},
		{name: "multi_text", req: func() *Request { return single(textTurn("first", "", "second")) }},
		{name: "named_groups_rankings", req: func() *Request { return single(rankTurn()) }},
		{name: "images", req: func() *Request {
			t := textTurn("describe")
			t.Images = []dataset.Named{{Contents: []string{"data:image/png;base64,iVBORw0KGgo=", "https://example.com/cat.jpg"}}}
			return single(t)
		}},
		{name: "images_only", req: func() *Request {
			t := dataset.NewTurn()
			t.Images = []dataset.Named{{Contents: []string{"data:image/jpeg;base64,/9j/4AAQ"}}}
			return single(t)
		}},
		{name: "audio", req: func() *Request {
			t := textTurn("transcribe")
			t.Audios = []dataset.Named{{Contents: []string{"wav,UklGRiQAAABXQVZF", "data:audio/mp3;base64,SUQzBAAAAAAA"}}}
			return single(t)
		}},
		{name: "video", req: func() *Request {
			t := textTurn("what happens?")
			t.Videos = []dataset.Named{{Contents: []string{"https://example.com/clip.mp4"}}}
			return single(t)
		}},
		{name: "history", req: func() *Request {
			u1 := textTurn("Hi, who are you?")
			a1 := textTurn("I am an assistant.")
			a1.Role = "assistant"
			u2 := withMax(textTurn("Tell me a joke."), 64)
			return &Request{Turns: []dataset.Turn{u1, a1, u2}, TurnIndex: 1, Conversation: &dataset.Conversation{ID: "conv-1"}}
		}},
		{name: "system_and_user_context", req: func() *Request {
			r := single(textTurn("question"))
			r.Conversation.SystemPrompt = "You are terse."
			r.Conversation.UserContext = "User profile: likes cats."
			return r
		}},
		{name: "dataset_system_turn_merged", req: func() *Request {
			sys := textTurn("Answer in French.")
			sys.Role = "system"
			r := &Request{Turns: []dataset.Turn{sys, textTurn("hello")}, Conversation: &dataset.Conversation{ID: "c", SystemPrompt: "You are terse."}}
			return r
		}},
		{name: "raw_messages_and_reset", req: func() *Request {
			old := textTurn("forgotten")
			raw := dataset.NewTurn()
			raw.RawMessages = []any{
				ordered.FromPairs("role", "user", "content", "raw one"),
				ordered.FromPairs("role", "assistant", "content", "raw two", "name", "bot"),
			}
			raw.ResetContext = true
			empty := dataset.NewTurn()
			empty.RawMessages = []any{}
			last := textTurn("after")
			r := &Request{Turns: []dataset.Turn{old, raw, empty, last}, Conversation: &dataset.Conversation{ID: "c", SystemPrompt: "sys"}}
			return r
		}},
		{name: "tools", req: func() *Request {
			t := textTurn("weather in Paris?")
			t.Tools = []any{ordered.FromPairs("type", "function", "function",
				ordered.FromPairs("name", "get_weather", "parameters", ordered.FromPairs("type", "object")))}
			return single(t)
		}},
		{name: "max_tokens_0", req: func() *Request { return single(withMax(textTurn("x"), 0)) }},
		{name: "max_tokens_128", req: func() *Request { return single(withMax(textTurn("x"), 128)) }},
		{name: "streaming", args: plugin.Args{"streaming": true}, req: func() *Request {
			return single(withMax(textTurn("stream me"), 16))
		}},
		{name: "legacy_max_tokens", args: plugin.Args{"use_legacy_max_tokens": true}, req: func() *Request {
			return single(withMax(textTurn("x"), 32))
		}},
		{name: "extras_override", args: plugin.Args{"streaming": false,
			"extra": `{"model":"extra-model","stream":true,"temperature":0.5,"stream_options":{"continuous_usage_stats":true}}`},
			req: func() *Request {
				t := withMax(textTurn("x"), 8)
				t.ExtraBody = ordered.FromPairs("temperature", 0.1, "seed", int64(7))
				return single(t)
			}},
		{name: "extras_keep_user_include_usage_false", args: plugin.Args{"streaming": true, "extra": "stream_options:null,top_k:5"},
			req: func() *Request {
				t := textTurn("x")
				t.ExtraBody = ordered.FromPairs("stream_options", ordered.FromPairs("include_usage", false))
				return single(t)
			}},
		{name: "model_from_turn_and_request", req: func() *Request {
			t := textTurn("x")
			t.Model = "turn-model"
			return single(t)
		}},
		{name: "model_assigned", req: func() *Request {
			r := single(textTurn("x"))
			r.Model = "assigned-model"
			return r
		}},
		{name: "bad_audio", req: func() *Request {
			t := textTurn("x")
			t.Audios = []dataset.Named{{Contents: []string{"no-comma-here"}}}
			return single(t)
		}},
	}
}

// endpointArgs are the base arguments of each endpoint in the golden test.
func endpointArgs(name string) plugin.Args {
	args := plugin.Args{"model": []string{"test-model"}}
	switch name {
	case "template":
		args["body"] = `{"model": {{model}}, "prompt": "Q: {{text}} (max {{max_tokens}})",
  "texts": {{ texts | tojson }}, "max_tokens": {{max_tokens}}, "stream": {{stream}},
  "query": {{query}}, "passages": {{passages}}, "images": {{images}}, "role": {{role}},
  "system": {{system_prompt}}, "first_turn": {{turns[0].texts}}}`
	case "chat":
		args["per_chunk_usage"] = false
	}
	return args
}

// TestPayloadGolden renders every request shape with every endpoint and
// compares with testdata/payloads/<endpoint>.txt (refresh with -update).
// Each body must also be valid JSON.
func TestPayloadGolden(t *testing.T) {
	for _, b := range Builtins() {
		t.Run(b.Name, func(t *testing.T) {
			var out bytes.Buffer
			for _, c := range payloadCases() {
				args := endpointArgs(b.Name)
				for k, v := range c.args {
					args[k] = v
				}
				ep := newEndpoint(t, b.Name, args)
				fmt.Fprintf(&out, "-- %s --\n", c.name)
				req := c.req()
				if strings.HasSuffix(b.Name, "_rankings") {
					asRankings(req)
				}
				body, err := ep.FormatPayload(req)
				if err != nil {
					fmt.Fprintf(&out, "ERROR: %v\n", err)
					continue
				}
				if b.Metadata.RequiresFormData {
					if _, err := multipart.NewReader(bytes.NewReader(body), imageEditBoundary).NextPart(); err != nil {
						t.Errorf("%s: not multipart/form-data: %v", c.name, err)
					}
				} else {
					if !json.Valid(body) {
						t.Errorf("%s: invalid JSON %s", c.name, body)
					}
					if bytes.HasSuffix(body, []byte("\n")) {
						t.Errorf("%s: payload ends with a newline", c.name)
					}
				}
				out.Write(body)
				out.WriteByte('\n')
			}
			golden.Check(t, filepath.Join("testdata", "payloads", b.Name+".txt"), out.Bytes())
		})
	}
}

// asRankings names the texts of unnamed single-group turns the way
// rankings datasets do: the first is the query, the rest the passages.
func asRankings(req *Request) {
	for i := range req.Turns {
		t := &req.Turns[i]
		if len(t.Texts) == 1 && t.Texts[0].Name == "" && len(t.Texts[0].Contents) > 0 {
			c := t.Texts[0].Contents
			t.Texts = []dataset.Named{{Name: "query", Contents: c[:1]}, {Name: "passages", Contents: c[1:]}}
		}
	}
}

// TestPayloadErrors checks the messages of inputs an endpoint cannot send.
func TestPayloadErrors(t *testing.T) {
	cases := []struct {
		endpoint string
		turn     func() dataset.Turn
		want     string
	}{
		{"cohere_rankings", func() dataset.Turn { return textTurn("no query") }, `rankings: the turn has no text named "query"`},
		{"chat", func() dataset.Turn {
			t := textTurn("x")
			t.Audios = []dataset.Named{{Contents: []string{"nocomma"}}}
			return t
		}, `turn 0: audio content must be "FORMAT,BASE64" or a data:audio/ URL, got "nocomma"`},
		{"responses", func() dataset.Turn {
			t := textTurn("x")
			t.Videos = []dataset.Named{{Contents: []string{"v.mp4"}}}
			return t
		}, "the responses endpoint does not accept video inputs"},
		{"messages", func() dataset.Turn {
			t := textTurn("x")
			t.Audios = []dataset.Named{{Contents: []string{"wav,AAA"}}}
			return t
		}, "the messages endpoint accepts text and images only"},
		{"messages", func() dataset.Turn {
			t := textTurn("x")
			t.Images = []dataset.Named{{Contents: []string{"data:image/png,raw"}}}
			return t
		}, "image data URL must be base64 encoded"},
		{"nim_embeddings", func() dataset.Turn {
			t := textTurn("a", "b")
			t.Images = []dataset.Named{{Contents: []string{"u"}}}
			return t
		}, "nim_embeddings: 2 texts and 1 images"},
	}
	for _, c := range cases {
		ep := newEndpoint(t, c.endpoint, endpointArgs(c.endpoint))
		_, err := ep.FormatPayload(single(c.turn()))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v; want %q", c.endpoint, err, c.want)
		}
	}
	for _, b := range Builtins() {
		ep := newEndpoint(t, b.Name, endpointArgs(b.Name))
		if _, err := ep.FormatPayload(&Request{}); err == nil {
			t.Errorf("%s: a request with no turns was formatted", b.Name)
		}
	}
}

// TestPayloadSharedStateUntouched formats concurrently and checks the
// endpoint's extras and the turn's extra body are never modified.
func TestPayloadSharedStateUntouched(t *testing.T) {
	ep := newEndpoint(t, "chat", plugin.Args{"model": []string{"m"}, "streaming": true,
		"extra": `{"stream_options":{"foo":1}}`})
	turn := textTurn("x")
	turn.ExtraBody = ordered.FromPairs("stream_options", ordered.FromPairs("bar", int64(2)))
	req := single(turn)
	done := make(chan []byte)
	for i := 0; i < 8; i++ {
		go func() {
			b, _ := ep.FormatPayload(req)
			done <- b
		}()
	}
	want := `{"messages":[{"role":"user","content":"x"}],"model":"m","stream":true,"stream_options":{"bar":2,"include_usage":true}}`
	for i := 0; i < 8; i++ {
		if got := string(<-done); got != want {
			t.Errorf("payload %s\nwant    %s", got, want)
		}
	}
	extra, _ := ep.(Configured).Settings().Extra.MarshalJSON()
	body, _ := turn.ExtraBody.MarshalJSON()
	if string(extra) != `{"stream_options":{"foo":1}}` || string(body) != `{"stream_options":{"bar":2}}` {
		t.Errorf("shared maps modified: %s %s", extra, body)
	}
}

func TestChatPerChunkUsage(t *testing.T) {
	ep := newEndpoint(t, "chat", plugin.Args{"model": []string{"m"}, "streaming": true, "per_chunk_usage": true})
	got, err := ep.FormatPayload(single(textTurn("x")))
	want := `{"messages":[{"role":"user","content":"x"}],"model":"m","stream":true,"stream_options":{"include_usage":true,"continuous_usage_stats":true}}`
	if err != nil || string(got) != want {
		t.Errorf("got %s, %v\nwant %s", got, err, want)
	}
}

func TestTemplateFunction(t *testing.T) {
	var seen *ordered.Map
	fn := plugin.Func(func(args ...any) (any, error) {
		seen = args[0].(*ordered.Map)
		text, _ := seen.Get("text")
		return ordered.FromPairs("input", text, "n", int64(1)), nil
	})
	ep := newEndpoint(t, "template", plugin.Args{"body": fn, "model": []string{"m"}, "extra": "n:2"})
	turn := withMax(textTurn("hello"), 5)
	turn.ExtraBody = ordered.FromPairs("user", "u1")
	got, err := ep.FormatPayload(single(turn))
	if err != nil || string(got) != `{"input":"hello","n":2,"user":"u1"}` {
		t.Errorf("got %s, %v", got, err)
	}
	for _, k := range []string{"text", "texts", "model", "max_tokens", "stream", "turns", "request_info", "query", "passages"} {
		if _, ok := seen.Get(k); !ok {
			t.Errorf("request dict lacks %q", k)
		}
	}
	// A JSON string result is accepted; other results are errors.
	ep = newEndpoint(t, "template", plugin.Args{"body": plugin.Func(func(...any) (any, error) { return `{ "a" : 1 }`, nil })})
	if got, err := ep.FormatPayload(single(textTurn("x"))); err != nil || string(got) != `{"a":1}` {
		t.Errorf("string result: %s, %v", got, err)
	}
	ep = newEndpoint(t, "template", plugin.Args{"body": plugin.Func(func(...any) (any, error) { return int64(3), nil })})
	if _, err := ep.FormatPayload(single(textTurn("x"))); err == nil || !strings.Contains(err.Error(), "must return a dict or a JSON string, got int64") {
		t.Errorf("int result: %v", err)
	}
	ep = newEndpoint(t, "template", plugin.Args{"body": plugin.Func(func(...any) (any, error) { return nil, fmt.Errorf("boom") })})
	if _, err := ep.FormatPayload(single(textTurn("x"))); err == nil || !strings.Contains(err.Error(), "template body function: boom") {
		t.Errorf("failing function: %v", err)
	}
}

func TestTemplateSources(t *testing.T) {
	ep := newEndpoint(t, "template", plugin.Args{"body": "nv-embedqa"})
	if got, err := ep.FormatPayload(single(textTurn("a", "b"))); err != nil || string(got) != `{"text":["a","b"]}` {
		t.Errorf("nv-embedqa: %s, %v", got, err)
	}
	file := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(file, []byte("{\n  \"q\": \"say: {{text}}\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ep = newEndpoint(t, "template", plugin.Args{"body": file})
	if got, err := ep.FormatPayload(single(textTurn(`he said "hi"`))); err != nil || string(got) != `{"q":"say: he said \"hi\""}` {
		t.Errorf("file template: %s, %v", got, err)
	}
	bad := []struct {
		body any
		want string
	}{
		{nil, "body: required"},
		{"missing-file.json", `body: "missing-file.json" is neither a JSON template`},
		{`{"a": {{nope}}}`, `body: line 1: placeholder {{nope}}: unknown variable "nope"`},
		{"{\n\"a\": {{text}", "body: line 2: unclosed placeholder"},
		{`{"a": {{texts[x]}}}`, `index "x"`},
		{int64(3), "body: expected a function or a string, got int64"},
	}
	for _, c := range bad {
		args := plugin.Args{}
		if c.body != nil {
			args["body"] = c.body
		}
		_, err := Classes()["Template"].Build("endpoint.template", args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("body %v: err = %v; want %q", c.body, err, c.want)
		}
	}
	// A template rendering invalid JSON fails the request with a clear error.
	ep = newEndpoint(t, "template", plugin.Args{"body": `{"a": {{text}} {{text}}}`})
	if _, err := ep.FormatPayload(single(textTurn("x"))); err == nil || !strings.Contains(err.Error(), "template output is not valid JSON") {
		t.Errorf("invalid output: %v", err)
	}
	// Extras need an object to merge into.
	ep = newEndpoint(t, "template", plugin.Args{"body": `[{{text}}]`, "extra": "a:1"})
	if _, err := ep.FormatPayload(single(textTurn("x"))); err == nil || !strings.Contains(err.Error(), "must be a JSON object to merge extras") {
		t.Errorf("array with extras: %v", err)
	}
	_, err := Classes()["Template"].Build("endpoint.template", plugin.Args{"body": `{}`, "response_field": "a[?"})
	if err == nil || !strings.Contains(err.Error(), "response_field: invalid JMESPath expression") {
		t.Errorf("bad response_field: %v", err)
	}
}

func TestCountedInput(t *testing.T) {
	one := dataset.NewTurn()
	one.Texts = []dataset.Named{{Name: "text", Contents: []string{"hello world"}}}
	one.InputTokens = 2
	two := one
	two.Texts = []dataset.Named{{Name: "text", Contents: []string{"a", "b"}}}
	withTools := one
	withTools.Tools = []any{map[string]any{"type": "function"}}
	unknown := one
	unknown.InputTokens = -1
	conv := &dataset.Conversation{}
	sys := &dataset.Conversation{SystemPrompt: "be brief"}
	ctx := &dataset.Conversation{UserContext: "user 7"}
	for _, c := range []struct {
		name string
		req  Request
		want int
	}{
		{"the turn's one text", Request{Turns: []dataset.Turn{one}, Conversation: conv}, 2},
		{"no conversation", Request{Turns: []dataset.Turn{one}}, 2},
		{"two texts are joined before counting", Request{Turns: []dataset.Turn{two}, Conversation: conv}, -1},
		{"system prompt", Request{Turns: []dataset.Turn{one}, Conversation: sys}, -1},
		{"user context", Request{Turns: []dataset.Turn{one}, Conversation: ctx}, -1},
		{"earlier turns", Request{Turns: []dataset.Turn{one, one}, Conversation: conv}, -1},
		{"tools", Request{Turns: []dataset.Turn{withTools}, Conversation: conv}, -1},
		{"count unknown", Request{Turns: []dataset.Turn{unknown}, Conversation: conv}, -1},
	} {
		if got := c.req.CountedInput(); got != c.want {
			t.Errorf("%s: CountedInput = %d, want %d", c.name, got, c.want)
		}
	}
}
