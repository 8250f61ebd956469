package endpoint

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/plugin"
)

// idPairs are the (request id, correlation id) combinations a request can
// have: an empty id adds no header and moves the later ones.
var idPairs = [][2]string{
	{"", ""}, {"rid-1", ""}, {"", "cid-1"}, {"rid-1", "cid-1"}, {"rid-2", "cid-2"}, {"rid-1", "cid-1"},
}

// checkSameAsLayering fails when AppendHeaders (the template for requests
// without turn extra headers) differs from layering anew, for every id
// combination, twice (the second time from the cached template).
func checkSameAsLayering(t *testing.T, s *Settings, turn *dataset.Turn, dst [][2]string) {
	t.Helper()
	for range 2 {
		for _, ids := range idPairs {
			want := s.layerHeaders(slices.Clone(dst), turn, ids[0], ids[1])
			got := s.AppendHeaders(slices.Clone(dst), turn, ids[0], ids[1])
			if !slices.Equal(got, want) {
				t.Fatalf("ids %q: AppendHeaders\n%q\nlayering\n%q", ids, got, want)
			}
		}
	}
}

func TestHeadTemplateMatchesLayering(t *testing.T) {
	mixed := []string{"x-request-id: mine", "USER-AGENT: ua/2", "accept: text/plain", "content-type: text/plain",
		"x-session-affinity: s", "authorization: Basic YTpi", "X-Tenant: a", "x-correlation-id: c", "X-TENANT: b"}
	cases := []struct {
		name     string
		endpoint string
		args     plugin.Args
		edit     func(*Settings) // applied after the first comparison
		turn     []string        // the turn's extra headers
	}{
		{name: "default", endpoint: "chat"},
		{name: "streaming key headers", endpoint: "chat", args: plugin.Args{"streaming": true, "api_key": "sk-1", "headers": mixed}},
		{name: "no affinity", endpoint: "chat", args: plugin.Args{"session_affinity": false, "headers": []string{"X-Session-Affinity: mine"}}},
		{name: "session header is X-Request-ID", endpoint: "chat", args: plugin.Args{"session_header": "x-request-id"}},
		{name: "session header is User-Agent", endpoint: "chat", args: plugin.Args{"session_header": "user-agent", "headers": mixed}},
		{name: "session header is affinity", endpoint: "chat", args: plugin.Args{"session_header": "X-SESSION-AFFINITY"}},
		{name: "session header is Authorization", endpoint: "chat", args: plugin.Args{"session_header": "Authorization", "api_key": "sk-1"}},
		{name: "session header renamed", endpoint: "completions", args: plugin.Args{"session_header": "X-Conversation", "headers": mixed}},
		{name: "messages with key", endpoint: "messages", args: plugin.Args{"api_key": "sk-ant", "headers": []string{"X-API-KEY: user", "Authorization: Bearer u"}}},
		{name: "messages without key", endpoint: "messages", args: plugin.Args{"headers": []string{"Anthropic-Version: 1"}}},
		{name: "image edit content type", endpoint: "image_edit", args: plugin.Args{"headers": []string{"Content-Type: text/plain"}}},
		{name: "user agent changed", endpoint: "chat", edit: func(s *Settings) { s.UserAgent = "other/1" }},
		{name: "headers changed in place", endpoint: "chat", args: plugin.Args{"headers": []string{"X-A: 1", "X-B: 2"}},
			edit: func(s *Settings) { s.Headers[1] = [2]string{"x-a", "3"} }},
		{name: "headers replaced", endpoint: "chat", args: plugin.Args{"headers": []string{"X-A: 1"}},
			edit: func(s *Settings) { s.Headers = append(s.Headers, [2]string{"Accept", "x"}) }},
		{name: "key, streaming, affinity, session header, content type changed", endpoint: "chat",
			edit: func(s *Settings) {
				s.APIKey, s.Streaming, s.SessionAffinity, s.SessionHeader, s.ContentType = "sk-2", true, false, "X-S", "text/csv"
			}},
		{name: "turn extra headers", endpoint: "chat", args: plugin.Args{"api_key": "sk-1", "headers": mixed},
			turn: []string{"x-request-id", "turn", "Authorization", "Bearer turn", "X-Tenant", "t"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := plugin.Args{"model": []string{"m"}}
			for k, v := range c.args {
				args[k] = v
			}
			s := newEndpoint(t, c.endpoint, args).(Configured).Settings()
			turn := dataset.NewTurn()
			for i := 0; i+1 < len(c.turn); i += 2 {
				turn.ExtraHeaders = append(turn.ExtraHeaders, [2]string{c.turn[i], c.turn[i+1]})
			}
			checkSameAsLayering(t, s, &turn, nil)
			checkSameAsLayering(t, s, nil, nil)
			checkSameAsLayering(t, s, nil, [][2]string{{"x-tenant", "dst"}})
			if c.edit != nil {
				c.edit(s)
				checkSameAsLayering(t, s, &turn, nil)
				checkSameAsLayering(t, s, nil, nil)
			}
		})
	}
}

// TestHeadTemplateDefaultChat pins the default chat request's headers.
func TestHeadTemplateDefaultChat(t *testing.T) {
	s := newEndpoint(t, "chat", plugin.Args{"model": []string{"m"}}).(Configured).Settings()
	s.AppendHeaders(nil, nil, "r0", "c0") // builds the template
	got := s.AppendHeaders(make([][2]string, 0, 8), nil, "r1", "c1")
	want := [][2]string{{"User-Agent", "loadstar"}, {"X-Request-ID", "r1"}, {"X-Correlation-ID", "c1"},
		{"Accept", "application/json"}, {"Content-Type", "application/json"}, {"X-Session-Affinity", "c1"}}
	if !slices.Equal(got, want) {
		t.Errorf("headers %q, want %q", got, want)
	}
}

// TestHeadTemplateKeepsSecret: a Settings whose template holds the
// Authorization header still prints no key.
func TestHeadTemplateKeepsSecret(t *testing.T) {
	s := newEndpoint(t, "chat", plugin.Args{"model": []string{"m"}, "api_key": "sk-very-secret"}).(Configured).Settings()
	if h := s.AppendHeaders(nil, nil, "r", "c"); headerMap(h)["authorization"] != "Bearer sk-very-secret" {
		t.Fatalf("no key sent: %q", h)
	}
	for _, out := range []string{fmt.Sprintf("%v", *s), fmt.Sprintf("%+v", *s), fmt.Sprintf("%#v", *s), fmt.Sprintf("%#v", s.heads)} {
		if strings.Contains(out, "sk-very-secret") {
			t.Errorf("secret printed: %s", out)
		}
	}
}

// FuzzHeadTemplate compares AppendHeaders with layering anew over header
// sets built from the input: user headers (from a vocabulary of the names
// the layering handles, in mangled case, and the input's own), api key,
// session header, affinity, user agent, streaming, content type.
func FuzzHeadTemplate(f *testing.F) {
	f.Add("X-Request-ID:1\nuser-agent:u\nX-Tenant:t", "X-Correlation-ID", "sk", uint16(0))
	f.Add("accept:a\nCONTENT-TYPE:c\nx-session-affinity:s\nAuthorization:Basic x", "x-request-id", "", uint16(0xffff))
	f.Add("x-correlation-id:c\nX-Correlation-Id:d", "X-Session-Affinity", "k", uint16(0x5a5a))
	vocab := []string{"User-Agent", "X-Request-ID", "X-Correlation-ID", "Authorization", "Accept", "Content-Type",
		"X-Session-Affinity", "x-api-key", "anthropic-version", "X-Tenant"}
	f.Fuzz(func(t *testing.T, headers, sessionHeader, key string, flags uint16) {
		endpoint := "chat"
		if flags&1 != 0 {
			endpoint = "messages"
		}
		s := newEndpoint(t, endpoint, plugin.Args{"model": []string{"m"}}).(Configured).Settings()
		s.SessionHeader, s.APIKey = sessionHeader, Secret(key)
		s.Streaming, s.SessionAffinity = flags&2 != 0, flags&4 != 0
		if flags&8 != 0 {
			s.UserAgent = "ua/" + key
		}
		if flags&16 != 0 {
			s.ContentType = "text/plain"
		}
		s.Headers = nil
		for i, line := range strings.Split(headers, "\n") {
			name, value, _ := strings.Cut(line, ":")
			if flags>>(5+i%11)&1 != 0 && len(name) > 0 {
				// A vocabulary name, its case changed where the input's bytes say.
				v := []byte(vocab[int(name[0])%len(vocab)])
				for j := range v {
					if j < len(name) && name[j]&1 != 0 {
						v[j] ^= 0x20 * byte(bitIfLetter(v[j]))
					}
				}
				name = string(v)
			}
			s.Headers = append(s.Headers, [2]string{name, value})
		}
		checkSameAsLayering(t, s, nil, nil)
		if len(s.Headers) > 0 { // an edit in place is seen
			s.Headers[0][0] = strings.ToUpper(s.Headers[0][0]) + "x"
			checkSameAsLayering(t, s, nil, nil)
		}
	})
}

func bitIfLetter(c byte) int {
	if c|0x20 >= 'a' && c|0x20 <= 'z' {
		return 1
	}
	return 0
}
