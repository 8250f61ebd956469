package endpoint

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
)

func strp(s string) *string { return &s }

// TestBuildURL covers wire.md §2 including its examples.
func TestBuildURL(t *testing.T) {
	cases := []struct {
		base, sub string
		custom    *string
		params    *ordered.Map
		want      string
	}{
		// The doc's examples.
		{"http://host/v1", "/v1/chat/completions", nil, nil, "http://host/v1/chat/completions"},
		{"http://host/v1/chat/completions", "/v1/chat/completions", nil, nil, "http://host/v1/chat/completions"},
		{"http://host/proxy", "/v1/chat/completions", nil, nil, "http://host/proxy/v1/chat/completions"},
		{"http://host/v1", "/v1/chat/completions", strp("/v2/chat"), nil, "http://host/v1/v2/chat"},
		{"http://host", "/v1/chat/completions", strp("/v2/chat"), nil, "http://host/v2/chat"},
		// Scheme handling.
		{"localhost:8000", "/v1/completions", nil, nil, "http://localhost:8000/v1/completions"},
		{"HTTPS://api.example.com", "/v1/embeddings", nil, nil, "https://api.example.com/v1/embeddings"},
		{"https://api.example.com/", "/v1/embeddings", nil, nil, "https://api.example.com/v1/embeddings"},
		{"127.0.0.1:9000//", "rerank", nil, nil, "http://127.0.0.1:9000/rerank"},
		// Empty sub path: the URL as given (template endpoint, custom "").
		{"http://host/infer", "", nil, nil, "http://host/infer"},
		{"http://host/v1", "/v1/chat/completions", strp(""), nil, "http://host/v1"},
		{"http://host/v1/", "/v1/chat/completions", strp("/"), nil, "http://host/v1"},
		// Query kept (first value of each), params override and append.
		{"http://host/v1?api-version=2024&a=1&a=2", "/v1/chat/completions", nil, nil,
			"http://host/v1/chat/completions?api-version=2024&a=1"},
		{"http://host?api-version=2024", "/v1/chat/completions", nil,
			ordered.FromPairs("api-version", "2025", "x y", "a&b"),
			"http://host/v1/chat/completions?api-version=2025&x+y=a%26b"},
		{"http://host/#frag", "/generate", nil, nil, "http://host/generate#frag"},
	}
	for _, c := range cases {
		got, err := buildURL(c.base, c.sub, c.custom, c.params)
		if err != nil {
			t.Errorf("buildURL(%q, %q): %v", c.base, c.sub, err)
			continue
		}
		if got != c.want {
			t.Errorf("buildURL(%q, %q, %v) = %q; want %q", c.base, c.sub, c.custom, got, c.want)
		}
	}
	for _, bad := range []string{"", "http://", "http://host:port/"} {
		if got, err := buildURL(bad, "/x", nil, nil); err == nil {
			t.Errorf("buildURL(%q) = %q; want an error", bad, got)
		}
	}
}

func Example_buildURL() {
	for _, base := range []string{"localhost:8000", "http://gpu-box:8000/v1", "http://gw/proxy"} {
		u, _ := buildURL(base, "/v1/chat/completions", nil, nil)
		fmt.Println(u)
	}
	// Output:
	// http://localhost:8000/v1/chat/completions
	// http://gpu-box:8000/v1/chat/completions
	// http://gw/proxy/v1/chat/completions
}

func TestCoerceExtraValue(t *testing.T) {
	cases := []struct {
		in   string
		want any
	}{
		{"true", true}, {"False", false}, {"TRUE", true},
		{"none", nil}, {"Null", nil},
		{"0", int64(0)}, {"42", int64(42)}, {"-7", int64(-7)}, {"-0", int64(0)},
		{"007", "007"}, {"-01", "-01"},
		{"0.5", 0.5}, {"-1.25", -1.25}, {".5", 0.5}, {"3.", 3.0}, {"007.5", 7.5},
		{"1.2.3", "1.2.3"}, {"1e5", "1e5"}, {"abc", "abc"}, {"", ""}, {"-", "-"},
		{"gpt-4o", "gpt-4o"}, {"12ab", "12ab"},
	}
	for _, c := range cases {
		if got := coerceExtraValue(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("coerceExtraValue(%q) = %#v; want %#v", c.in, got, c.want)
		}
	}
}

func TestParseExtra(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{nil, `{}`},
		{"", `{}`},
		{"temperature:0.7, ignore_eos:true ,stop:none,top_k:40,name:a:b", `{"temperature":0.7,"ignore_eos":true,"stop":null,"top_k":40,"name":"a:b"}`},
		{`{"b":1,"a":{"x":[1,2.5]}}`, `{"b":1,"a":{"x":[1,2.5]}}`},
		{[]string{"a:1", "b:x", "a:2"}, `{"a":2,"b":"x"}`},
		{[]any{"a:1", ordered.FromPairs("c", "v")}, `{"a":1,"c":"v"}`},
		{ordered.FromPairs("z", "none"), `{"z":"none"}`}, // dict values keep their types
	}
	for _, c := range cases {
		m, err := ParseExtra(c.in)
		if err != nil {
			t.Errorf("ParseExtra(%#v): %v", c.in, err)
			continue
		}
		got, _ := m.MarshalJSON()
		if string(got) != c.want {
			t.Errorf("ParseExtra(%#v) = %s; want %s", c.in, got, c.want)
		}
	}
	for _, bad := range []any{"a", "a:1,b", ":1", "{x", 5, []any{3}} {
		if _, err := ParseExtra(bad); err == nil {
			t.Errorf("ParseExtra(%#v): no error", bad)
		}
	}
}

func ExampleParseExtra() {
	m, _ := ParseExtra("temperature:0.7,ignore_eos:true,stop:none,seed:42")
	b, _ := m.MarshalJSON()
	fmt.Println(string(b))
	// Output: {"temperature":0.7,"ignore_eos":true,"stop":null,"seed":42}
}

func TestParseHeaders(t *testing.T) {
	got, err := ParseHeaders([]any{"X-A: 1", "x-a:2", "X-B: has: colon"})
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"x-a", "2"}, {"X-B", "has: colon"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q want %q", got, want)
	}
	got, err = ParseHeaders(ordered.FromPairs("X-Num", int64(3), "X-Flag", true))
	if err != nil || !reflect.DeepEqual(got, [][2]string{{"X-Num", "3"}, {"X-Flag", "True"}}) {
		t.Errorf("dict headers = %q, %v", got, err)
	}
	got, err = ParseHeaders(`{"X-J": "v"}`)
	if err != nil || !reflect.DeepEqual(got, [][2]string{{"X-J", "v"}}) {
		t.Errorf("JSON headers = %q, %v", got, err)
	}
	if _, err := ParseHeaders([]string{"X: a\r\nInjected: b"}); err == nil {
		t.Error("a value with a line break was accepted")
	}
}

func headerMap(h [][2]string) map[string]string {
	m := map[string]string{}
	for _, kv := range h {
		if _, dup := m[strings.ToLower(kv[0])]; dup {
			panic("duplicate header " + kv[0])
		}
		m[strings.ToLower(kv[0])] = kv[1]
	}
	return m
}

func TestAppendHeaders(t *testing.T) {
	ep := newEndpoint(t, "chat", plugin.Args{"model": []string{"m"}, "streaming": true, "api_key": "sk-1",
		"headers": []string{"X-Team: a", "Accept: text/plain", "X-Request-ID: fixed"}})
	s := ep.(Configured).Settings()
	turn := dataset.NewTurn()
	turn.ExtraHeaders = [][2]string{{"x-team", "b"}, {"Content-Type", "text/plain"}}
	h := headerMap(s.AppendHeaders(nil, &turn, "req-1", "sess-1"))
	want := map[string]string{
		"user-agent":         "loadstar",
		"x-request-id":       "fixed", // the user's header layer overrides the generated id
		"x-correlation-id":   "sess-1",
		"x-team":             "b",
		"authorization":      "Bearer sk-1",
		"accept":             "text/event-stream",
		"content-type":       "application/json",
		"x-session-affinity": "sess-1",
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("headers\n got %v\nwant %v", h, want)
	}

	// Non-streaming, renamed session header, no affinity, no key, nil turn.
	ep = newEndpoint(t, "embeddings", plugin.Args{"model": []string{"m"}, "session_header": "X-Session",
		"session_affinity": false})
	h = headerMap(ep.(Configured).Settings().AppendHeaders(nil, nil, "r", "s"))
	want = map[string]string{"user-agent": "loadstar", "x-request-id": "r", "x-session": "s",
		"accept": "application/json", "content-type": "application/json"}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("headers\n got %v\nwant %v", h, want)
	}
}

func TestAnthropicHeaders(t *testing.T) {
	ep := newEndpoint(t, "messages", plugin.Args{"model": []string{"claude"}, "api_key": "sk-ant", "streaming": true})
	h := headerMap(ep.(Configured).Settings().AppendHeaders(nil, nil, "r", ""))
	if h["x-api-key"] != "sk-ant" || h["anthropic-version"] != defaultAnthropicVersion {
		t.Errorf("anthropic headers missing: %v", h)
	}
	if _, ok := h["authorization"]; ok {
		t.Errorf("Bearer header sent alongside x-api-key: %v", h)
	}
	if _, ok := h["x-session-affinity"]; ok {
		t.Error("affinity sent without a session id")
	}
	ep = newEndpoint(t, "messages", plugin.Args{"model": []string{"claude"}, "anthropic_version": "2024-01-01"})
	h = headerMap(ep.(Configured).Settings().AppendHeaders(nil, nil, "", ""))
	if h["anthropic-version"] != "2024-01-01" || h["x-api-key"] != "" {
		t.Errorf("headers without key: %v", h)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	ep := newEndpoint(t, "chat", plugin.Args{"model": []string{"m"}, "api_key": "sk-very-secret"})
	s := ep.(Configured).Settings()
	for _, out := range []string{fmt.Sprint(s.APIKey), fmt.Sprintf("%v", *s), fmt.Sprintf("%+v", *s), fmt.Sprintf("%#v", *s)} {
		if strings.Contains(out, "sk-very-secret") {
			t.Errorf("secret printed: %s", out)
		}
	}
	if s.APIKey.Reveal() != "sk-very-secret" {
		t.Error("Reveal lost the key")
	}
}

func TestReservedExtraKeys(t *testing.T) {
	ep := newEndpoint(t, "template", plugin.Args{"extra": `{"payload_template": "{\"q\": {{text}}}", "response_field": "a.b", "k": 1}`})
	s := ep.(Configured).Settings()
	if _, ok := s.Extra.Get("payload_template"); ok {
		t.Error("payload_template left in the extras")
	}
	if s.ResponseField != "a.b" || s.Extra.Len() != 1 {
		t.Errorf("settings %q %v", s.ResponseField, s.Extra.Keys())
	}
	body, err := ep.FormatPayload(&Request{Turns: []dataset.Turn{textTurn("hi")}})
	if err != nil || string(body) != `{"q":"hi","k":1}` {
		t.Errorf("payload %s, %v", body, err)
	}
}
