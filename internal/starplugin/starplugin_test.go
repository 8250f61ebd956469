package starplugin_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/loadstar/loadstar/engine/catalog"
	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
	"github.com/loadstar/loadstar/engine/timing"
	"github.com/loadstar/loadstar/internal/starplugin"
)

// The repository's fixture packages.
var (
	starlarkChatDir = filepath.Join("..", "..", "testdata", "plugins", "starlark-chat")
	lazyFailDir     = filepath.Join("..", "..", "testdata", "plugins", "lazy-fail")
	// Real-server captures (see testdata/fixtures/README.md).
	fixturesDir = filepath.Join("testdata", "fixtures")
)

// A built-in manifest with the Go chat endpoint, so the Starlark package
// has something to override.
const builtinChat = `schema_version: "1.0"
endpoint:
  chat:
    class: go:engine/endpoint.Chat
    description: OpenAI chat (Go).
    metadata: {endpoint_path: /v1/chat/completions, service_kind: openai, supports_streaming: true, produces_tokens: true, tokenizes_input: true, metrics_title: LLM Metrics}
arrival_pattern:
  poisson: {class: go:engine/timing.Poisson, description: Poisson.}
`

func newRegistry(t testing.TB, log *slog.Logger, dirs ...string) *plugin.Registry {
	t.Helper()
	var pd []plugin.PackageDir
	for _, d := range dirs {
		pd = append(pd, plugin.PackageDir{Dir: d, Source: "--plugins"})
	}
	opts := []plugin.Option{plugin.WithBuiltinManifest([]byte(builtinChat)), plugin.WithPackages(pd...)}
	if log != nil {
		opts = append(opts, plugin.WithLogger(log))
	}
	r, err := catalog.New(opts...)
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	return r
}

func TestLazyLoadingDoesNotRunUntilUsed(t *testing.T) {
	var logs bytes.Buffer
	r := newRegistry(t, slog.New(slog.NewTextHandler(&logs, nil)), lazyFailDir)
	// Listing, looking up, getting the class and validating read the file
	// but never run it.
	if _, err := r.Lookup(plugin.Endpoint, "boom"); err != nil {
		t.Fatal(err)
	}
	c, err := r.Get(plugin.Endpoint, "boom")
	if err != nil {
		t.Fatalf("Get must not run the file: %v", err)
	}
	if _, ok := c.Param("url"); !ok {
		t.Errorf("boom has no common endpoint params: %v", c.ParamNames())
	}
	if rep := r.Validate(); !rep.OK() {
		t.Fatalf("validate: %s", rep)
	}
	if strings.Contains(logs.String(), "boom.star is running") {
		t.Fatal("the plugin file ran before the plugin was used")
	}
	// First use runs it, and its failure is the error.
	_, err = r.Build(&plugin.Spec{Category: plugin.Endpoint, Name: "boom", Args: plugin.Args{"model": []string{"m"}}})
	if err == nil || !strings.Contains(err.Error(), "boom.star ran: this plugin fails when it is first used") {
		t.Fatalf("Build err = %v", err)
	}
	if !strings.Contains(logs.String(), "boom.star is running") {
		t.Errorf("print() of the plugin file not logged: %s", logs.String())
	}
}

func TestStarlarkChatOverridesBuiltin(t *testing.T) {
	r := newRegistry(t, nil, starlarkChatDir)
	e, err := r.Lookup(plugin.Endpoint, "chat")
	if err != nil {
		t.Fatal(err)
	}
	if e.Package.Name != "starlark-chat" || e.Priority != 10 || e.FullClass() != "@starlark-chat//endpoints/openai_chat.star:openai_chat" {
		t.Errorf("active chat = %s from %s (priority %d)", e.FullClass(), e.Package.Name, e.Priority)
	}
	// The shadowed Go chat stays reachable by class path.
	if _, err := r.Get(plugin.Endpoint, "go:engine/endpoint.Chat"); err != nil {
		t.Errorf("Go chat by class path: %v", err)
	}
	if _, err := r.Get(plugin.Endpoint, "@starlark-chat//endpoints/openai_chat.star:openai_chat"); err != nil {
		t.Errorf("Starlark chat by full class path: %v", err)
	}
	if _, err := r.Get(plugin.Endpoint, "endpoints/openai_chat.star:openai_chat"); err != nil {
		t.Errorf("Starlark chat by manifest class path: %v", err)
	}
}

func buildEndpoints(t testing.TB, streaming bool) (star, goChat endpoint.Endpoint) {
	t.Helper()
	r := newRegistry(t, nil, starlarkChatDir)
	args := plugin.Args{"url": []string{"http://127.0.0.1:8000/v1"}, "model": []string{"tiny"}, "streaming": streaming}
	s, err := r.Build(&plugin.Spec{Category: plugin.Endpoint, Name: "chat", Args: args})
	if err != nil {
		t.Fatal(err)
	}
	g, err := r.Build(&plugin.Spec{Category: plugin.Endpoint, Name: "go:engine/endpoint.Chat", Args: args})
	if err != nil {
		t.Fatal(err)
	}
	return s.(endpoint.Endpoint), g.(endpoint.Endpoint)
}

func chatRequest() *endpoint.Request {
	t1 := dataset.NewTurn()
	t1.Texts = []dataset.Named{{Contents: []string{"Hello there"}}}
	t2 := dataset.NewTurn()
	t2.Role = "assistant"
	t2.Texts = []dataset.Named{{Contents: []string{"Hi! How can I help?"}}}
	t3 := dataset.NewTurn()
	t3.Texts = []dataset.Named{{Contents: []string{"Tell me a \"story\" <about> ünïcode"}}}
	t3.MaxTokens = 64
	conv := &dataset.Conversation{ID: "c1", SystemPrompt: "You are terse.", Turns: []dataset.Turn{t1, t2, t3}}
	return &endpoint.Request{Turns: conv.Turns, Conversation: conv, TurnIndex: 2}
}

// The Starlark chat sends byte for byte what the Go chat sends.
func TestStarlarkChatPayloadMatchesGoChat(t *testing.T) {
	for _, streaming := range []bool{false, true} {
		star, goChat := buildEndpoints(t, streaming)
		req := chatRequest()
		got, err := star.FormatPayload(req)
		if err != nil {
			t.Fatal(err)
		}
		want, err := goChat.FormatPayload(req)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("streaming=%v payload\n got %s\nwant %s", streaming, got, want)
		}
		// The common settings are parsed as for the built-ins.
		s := star.(endpoint.Configured).Settings()
		if s.URLs[0] != "http://127.0.0.1:8000/v1/chat/completions" || s.Streaming != streaming {
			t.Errorf("settings = %+v", s)
		}
	}
}

// The Starlark chat reads the recorded llama.cpp answers into the same
// records as the Go chat parser.
func TestStarlarkChatParsesLikeGoChat(t *testing.T) {
	streams, _ := filepath.Glob(filepath.Join(fixturesDir, "sse", "*chat*.txt"))
	bodies, _ := filepath.Glob(filepath.Join(fixturesDir, "json", "*chat*.json"))
	if len(streams) != 3 || len(bodies) != 1 {
		t.Fatalf("testdata/fixtures: %d chat streams and %d chat bodies, want 3 and 1", len(streams), len(bodies))
	}
	star, goChat := buildEndpoints(t, true)
	for _, f := range streams {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, want := record.New(), record.New()
		feed := func(p endpoint.Parser, rec *record.Record) {
			var rd sse.Reader
			// Feed in uneven reads, stamping each.
			for i, perf := 0, int64(1000); i < len(data); i, perf = i+97, perf+1000 {
				rd.Feed(data[i:min(i+97, len(data))], perf, func(m *sse.Message) { p.Message(m, rec) })
			}
			rd.Close(999999, func(m *sse.Message) { p.Message(m, rec) })
		}
		feed(star.NewParser(), got)
		feed(goChat.NewParser(), want)
		compareRecords(t, filepath.Base(f), got, want)
	}
	for _, f := range bodies {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, want := record.New(), record.New()
		star.NewParser().Body("application/json", data, 5000, got)
		goChat.NewParser().Body("application/json", data, 5000, want)
		compareRecords(t, filepath.Base(f), got, want)
	}
}

func compareRecords(t *testing.T, name string, got, want *record.Record) {
	t.Helper()
	if len(want.Output) == 0 {
		t.Fatalf("%s: the Go parser read no output; fixture not understood", name)
	}
	if string(got.Output) != string(want.Output) || string(got.Reasoning) != string(want.Reasoning) {
		t.Errorf("%s: output %q / reasoning %q, want %q / %q", name, got.Output, got.Reasoning, want.Output, want.Reasoning)
	}
	if got.Usage != want.Usage {
		t.Errorf("%s: usage %+v, want %+v", name, got.Usage, want.Usage)
	}
	if len(got.Responses) != len(want.Responses) {
		t.Errorf("%s: %d responses, want %d", name, len(got.Responses), len(want.Responses))
	} else {
		for i := range got.Responses {
			if got.Responses[i] != want.Responses[i] {
				t.Errorf("%s: response %d = %+v, want %+v", name, i, got.Responses[i], want.Responses[i])
				break
			}
		}
	}
	if (got.Error == nil) != (want.Error == nil) {
		t.Errorf("%s: error %v, want %v", name, got.Error, want.Error)
	}
}

func TestOwnParamsReachTheConstructor(t *testing.T) {
	r := newRegistry(t, nil, starlarkChatDir)
	c, err := r.Get(plugin.Endpoint, "chat")
	if err != nil {
		t.Fatal(err)
	}
	temp, ok := c.Param("temperature")
	if !ok || temp.Type != plugin.TAny || temp.Required || temp.Default != nil || temp.Doc != "Option of openai_chat()." {
		t.Errorf("temperature param = %+v", temp)
	}
	if sys, _ := c.Param("system"); sys.Type != plugin.TString || sys.Default != "" {
		t.Errorf("system param = %+v", sys)
	}
	ep, err := r.Build(&plugin.Spec{Category: plugin.Endpoint, Name: "chat", Args: plugin.Args{
		"model": []string{"m"}, "temperature": 0.25, "system": "Be brief.", "extra": "seed:7,top_p:0.5"}})
	if err != nil {
		t.Fatal(err)
	}
	req := chatRequest()
	req.Conversation.SystemPrompt = ""
	req.Last().ExtraBody = nil
	body, err := ep.(endpoint.Endpoint).FormatPayload(req)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"temperature":0.25`, `{"role":"system","content":"Be brief."}`, `"seed":7,"top_p":0.5}`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("payload %s lacks %s", body, want)
		}
	}
	_, err = r.Build(&plugin.Spec{Category: plugin.Endpoint, Name: "chat", Args: plugin.Args{"model": []string{"m"}, "temprature": 1.0}})
	if err == nil || !strings.Contains(err.Error(), `unknown argument "temprature"`) || !strings.Contains(err.Error(), "temperature") {
		t.Errorf("misspelt option err = %v", err)
	}
}

// Protocol calls run concurrently on their own threads.
func TestEndpointConcurrentCalls(t *testing.T) {
	star, _ := buildEndpoints(t, true)
	want, err := star.FormatPayload(chatRequest())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := star.NewParser()
			for i := 0; i < 100; i++ {
				got, err := star.FormatPayload(chatRequest())
				if err != nil || !bytes.Equal(got, want) {
					errs <- fmt.Errorf("payload %s, %v", got, err)
					return
				}
				rec := record.New()
				p.Body("application/json", []byte(`{"choices":[{"message":{"content":"ok"}}]}`), 1, rec)
				if string(rec.Output) != "ok" {
					errs <- fmt.Errorf("output %q", rec.Output)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// writePackage writes a package with files (path → content); the manifest
// gets the package header.
func writePackage(t *testing.T, manifest string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["plugins.yaml"] = "schema_version: \"1.0\"\npackage: {name: t, version: \"1\"}\n" + manifest
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const epMeta = `{endpoint_path: /x, supports_streaming: true, produces_tokens: true, tokenizes_input: true, metrics_title: X}`

func endpointPackage(t *testing.T, class, src string) string {
	files := map[string]string{"p.star": src}
	return writePackage(t, "endpoint:\n  x:\n    class: "+class+"\n    metadata: "+epMeta+"\n", files)
}

const goodEndpoint = `
def ep(n = 1):
    def format_payload(request):
        return {"n": n}
    def parse_response(response):
        return None
    return struct(format_payload = format_payload, parse_response = parse_response)
`

func TestCheckWithoutRunning(t *testing.T) {
	for _, tc := range []struct {
		name, class, src, want string
	}{
		{"good", "p.star:ep", goodEndpoint, ""},
		{"good with top-level fail", "p.star:ep", "fail('not run')\n" + goodEndpoint, ""},
		{"methods at top level", "p.star:ep", `
def _fmt(request):
    return {}
def parse_response(response, extra = None):
    return None
def ep():
    return struct(format_payload = _fmt, parse_response = parse_response)
`, ""},
		{"lambda", "p.star:ep", `
def ep():
    return struct(format_payload = lambda r: {}, parse_response = lambda r: None)
`, ""},
		{"symbol missing", "p.star:nope", goodEndpoint, `class "nope" not found in p.star (top-level functions: ep)`},
		{"symbol not a def", "p.star:ep", "ep = struct()\n", `p.star:1:1: ep must be a function`},
		{"syntax error", "p.star:ep", "def ep(:\n", `p.star:1:9: got ':', want ')'`},
		{"undefined name", "p.star:ep", "def ep():\n    return undefined_thing\n", `p.star:2:12: undefined: undefined_thing`},
		{"wrong arity", "p.star:ep", strings.Replace(goodEndpoint, "def parse_response(response)", "def parse_response(response, rec)", 1),
			`def parse_response must take 1 argument (response), but takes 2`},
		{"lambda arity", "p.star:ep", "def ep():\n    return struct(format_payload = lambda: {}, parse_response = lambda r: None)\n",
			`lambda must take 1 argument (request), but takes 0`},
		{"method missing", "p.star:ep", "def ep():\n    def format_payload(request):\n        return {}\n    return struct(format_payload = format_payload)\n",
			`no function parse_response(response) found: the constructor ep must return struct(format_payload = ..., parse_response = ...)`},
		{"kwargs constructor", "p.star:ep", strings.Replace(goodEndpoint, "def ep(n = 1)", "def ep(n = 1, **opts)", 1),
			`constructor ep cannot take *args or **kwargs`},
		{"file missing", "missing.star:ep", goodEndpoint, `cannot read`},
		{"load outside package", "p.star:ep", "load('../x.star', 'y')\n" + goodEndpoint, `the file is outside the plugin package`},
		{"load cycle", "p.star:ep", "load('p.star', 'zzz')\n" + goodEndpoint, `cycle in load graph`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := endpointPackage(t, tc.class, tc.src)
			r := newRegistry(t, nil, dir)
			rep := r.Validate()
			if tc.want == "" {
				if !rep.OK() {
					t.Fatalf("unexpected problems: %s", rep)
				}
				return
			}
			ps := rep.ByCategory()["endpoint"]
			if len(ps) != 1 || !strings.Contains(ps[0].Err.Error(), tc.want) {
				t.Fatalf("report:\n%s\nwant %q", rep, tc.want)
			}
			// The problem names the manifest line of the entry.
			if !strings.Contains(ps[0].Err.Error(), filepath.Join(dir, "plugins.yaml")+":4:") {
				t.Errorf("problem lacks file:line: %v", ps[0].Err)
			}
			// Get reports the same problem as a ClassNotFoundError.
			_, err := r.Get(plugin.Endpoint, "x")
			var cnf *plugin.ClassNotFoundError
			if !errors.As(err, &cnf) || errext.ExitCodeOf(err) != errext.PluginError {
				t.Errorf("Get err = %v", err)
			}
		})
	}
}

func TestLoadedFiles(t *testing.T) {
	dir := writePackage(t, "endpoint:\n  x:\n    class: eps/p.star:ep\n    metadata: "+epMeta+"\n", map[string]string{
		"eps/p.star":           "load('lib/helpers.star', 'body')\n" + strings.Replace(goodEndpoint, `return {"n": n}`, `return body(n)`, 1),
		"eps/lib/helpers.star": "load('/shared.star', 'KEY')\ndef body(n):\n    return {KEY: n}\n",
		"shared.star":          "KEY = 'count'\n",
	})
	r := newRegistry(t, nil, dir)
	if rep := r.Validate(); !rep.OK() {
		t.Fatal(rep)
	}
	ep, err := r.Build(&plugin.Spec{Category: plugin.Endpoint, Name: "x", Args: plugin.Args{"n": int64(3)}})
	if err != nil {
		t.Fatal(err)
	}
	body, err := ep.(endpoint.Endpoint).FormatPayload(chatRequest())
	if err != nil || string(body) != `{"count":3}` {
		t.Errorf("body %s, %v", body, err)
	}
	// A missing loaded symbol is reported without running anything.
	dir2 := writePackage(t, "endpoint:\n  x:\n    class: p.star:ep\n    metadata: "+epMeta+"\n", map[string]string{
		"p.star": "load('h.star', 'nothing')\n" + goodEndpoint, "h.star": "fail('not run')\nsomething = 1\n",
	})
	rep := newRegistry(t, nil, dir2).Validate()
	if rep.OK() || !strings.Contains(rep.String(), "h.star does not define nothing") {
		t.Errorf("report = %s", rep)
	}
}

func TestCategoryWithoutProtocol(t *testing.T) {
	dir := writePackage(t, "ui:\n  fancy:\n    class: p.star:ui\n", map[string]string{"p.star": "def ui():\n    return struct()\n"})
	rep := newRegistry(t, nil, dir).Validate()
	if rep.OK() || !strings.Contains(rep.String(), "category ui has no Starlark protocol (Starlark plugins can be: arrival_pattern, custom_dataset_loader, endpoint)") {
		t.Errorf("report = %s", rep)
	}
}

func TestParseResponseResults(t *testing.T) {
	src := `
def ep():
    def format_payload(request):
        return "raw body " + request["text"]
    def parse_response(response):
        d = response["json"]
        if d == None:
            return {"error": "not json: " + response["data"]}
        return d
    return struct(format_payload = format_payload, parse_response = parse_response)
`
	r := newRegistry(t, nil, endpointPackage(t, "p.star:ep", src))
	v, err := r.Build(&plugin.Spec{Category: plugin.Endpoint, Name: "x", Args: plugin.Args{"model": []string{"m"}}})
	if err != nil {
		t.Fatal(err)
	}
	ep := v.(endpoint.Endpoint)
	req := chatRequest()
	if b, _ := ep.FormatPayload(req); string(b) != `raw body Tell me a "story" <about> ünïcode` {
		t.Errorf("string body = %s", b)
	}
	for _, tc := range []struct {
		body  string
		check func(*record.Record) string
	}{
		{`{"text": "hi", "reasoning": "hmm", "usage": {"prompt_tokens": 3, "completion_tokens": 2, "completion_tokens_details": {"reasoning_tokens": 1}, "extra": "x"}}`, func(r *record.Record) string {
			if string(r.Output) != "hi" || string(r.Reasoning) != "hmm" || r.Responses[0].Kind != record.KindReasoning ||
				r.Usage.PromptTokens != 3 || r.Usage.CompletionTokens != 2 || r.Usage.ReasoningTokens != 1 || r.Usage.TotalTokens != -1 || len(r.Responses) != 1 {
				return fmt.Sprintf("%+v", r)
			}
			return ""
		}},
		{`{"usage": {"total_tokens": 9}}`, func(r *record.Record) string {
			if len(r.Responses) != 1 || r.Responses[0].Kind != record.KindUsage || r.Usage.TotalTokens != 9 {
				return fmt.Sprintf("%+v", r)
			}
			return ""
		}},
		{`{"items": 4, "kind": "embeddings"}`, func(r *record.Record) string {
			if len(r.Responses) != 1 || r.Responses[0].Kind != record.KindEmbeddings || r.Responses[0].Items != 4 {
				return fmt.Sprintf("%+v", r.Responses)
			}
			return ""
		}},
		{`{"error": {"code": 429, "type": "RateLimit", "message": "slow down"}}`, func(r *record.Record) string {
			if r.Error == nil || *r.Error != (record.ErrorDetails{Code: 429, Type: "RateLimit", Message: "slow down"}) {
				return fmt.Sprintf("%+v", r.Error)
			}
			return ""
		}},
		{`oops`, func(r *record.Record) string {
			if r.Error == nil || r.Error.Message != "not json: oops" || r.Error.Type != record.ErrParse {
				return fmt.Sprintf("%+v", r.Error)
			}
			return ""
		}},
		{`{"txt": "typo"}`, func(r *record.Record) string {
			if r.Error == nil || !strings.Contains(r.Error.Message, `endpoint.x: parse_response: unknown result key "txt"`) {
				return fmt.Sprintf("%+v", r.Error)
			}
			return ""
		}},
		{`{"text": 5}`, func(r *record.Record) string {
			if r.Error == nil || !strings.Contains(r.Error.Message, "text must be a string, got int") {
				return fmt.Sprintf("%+v", r.Error)
			}
			return ""
		}},
	} {
		rec := record.New()
		ep.NewParser().Body("application/json", []byte(tc.body), 7, rec)
		if msg := tc.check(rec); msg != "" {
			t.Errorf("body %s: %s", tc.body, msg)
		}
	}
	// SSE rules applied before parse_response: no data, [DONE], error events.
	rec := record.New()
	p := ep.NewParser()
	p.Message(&sse.Message{Comment: []byte("ping"), PerfNs: 1}, rec)
	p.Message(&sse.Message{Data: []byte("[DONE]"), HasData: true, PerfNs: 2}, rec)
	if len(rec.Responses) != 0 || rec.Error != nil {
		t.Errorf("keep-alive/[DONE] produced %+v %+v", rec.Responses, rec.Error)
	}
	p.Message(&sse.Message{Event: []byte("error"), Data: []byte(`{"error":{"message":"overloaded"}}`), HasData: true, PerfNs: 3}, rec)
	if rec.Error == nil || *rec.Error != (record.ErrorDetails{Code: 502, Type: record.ErrSSE, Message: "overloaded"}) {
		t.Errorf("error event -> %+v", rec.Error)
	}
}

func TestRuntimeErrorsCarryBacktrace(t *testing.T) {
	src := strings.Replace(goodEndpoint, `return {"n": n}`, `return {"n": n // 0}`, 1)
	r := newRegistry(t, nil, endpointPackage(t, "p.star:ep", src))
	v, err := r.Build(&plugin.Spec{Category: plugin.Endpoint, Name: "x", Args: plugin.Args{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.(endpoint.Endpoint).FormatPayload(chatRequest())
	if err == nil || !strings.Contains(err.Error(), "endpoint.x: format_payload:") || !strings.Contains(err.Error(), "p.star:4:") || !strings.Contains(err.Error(), "division by zero") {
		t.Errorf("err = %v", err)
	}
}

func TestStepBudgetStopsRunawayCalls(t *testing.T) {
	src := strings.Replace(goodEndpoint, `return {"n": n}`, `return {"n": [i for i in range(100000000)]}`, 1)
	dir := endpointPackage(t, "p.star:ep", src)
	r, err := plugin.NewRegistry(plugin.WithBuiltinManifest(nil), plugin.WithGoClasses(catalog.Classes()),
		plugin.WithScripts(starplugin.NewLoader(starplugin.WithCallSteps(10000))),
		plugin.WithPackages(plugin.PackageDir{Dir: dir, Source: "test"}))
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.Build(&plugin.Spec{Category: plugin.Endpoint, Name: "x", Args: plugin.Args{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.(endpoint.Endpoint).FormatPayload(chatRequest())
	if err == nil || !strings.Contains(err.Error(), "too many steps") {
		t.Errorf("err = %v", err)
	}
}

func TestArrivalPattern(t *testing.T) {
	r := newRegistry(t, nil, starlarkChatDir)
	v, err := r.Build(&plugin.Spec{Category: plugin.ArrivalPattern, Name: "bursty", Args: plugin.Args{"burst_share": 0.3}})
	if err != nil {
		t.Fatal(err)
	}
	pat := v.(timing.ArrivalPattern)
	if pat.String() != "arrival.bursty(burst_share=0.3)" {
		t.Errorf("String = %q", pat.String())
	}
	rng := rand.New(rand.NewPCG(7, 7))
	const n = 40000
	sum, short := 0.0, 0
	for i := 0; i < n; i++ {
		g := pat.Gap(rng)
		if g < 0 {
			t.Fatalf("negative gap %v", g)
		}
		sum += g
		if g < 0.05 {
			short++
		}
	}
	if mean := sum / n; math.Abs(mean-1) > 0.03 {
		t.Errorf("mean gap %.4f, want 1", mean)
	}
	// The same seed gives the same schedule.
	a, b := rand.New(rand.NewPCG(1, 1)), rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 100; i++ {
		if pat.Gap(a) != pat.Gap(b) {
			t.Fatal("gaps not reproducible from the seed")
		}
	}
	// Bad options fail at build time with the plugin's own message.
	_, err = r.Build(&plugin.Spec{Category: plugin.ArrivalPattern, Name: "bursty", Args: plugin.Args{"burst_share": 1.5}})
	if err == nil || !strings.Contains(err.Error(), "burst_share must be in [0, 1), got 1.5") {
		t.Errorf("bad option err = %v", err)
	}
}

// A constructor may return a dict of the protocol's functions instead of a
// struct (a dict also has attributes, its methods, which must not hide its
// entries).
func TestConstructorReturningDict(t *testing.T) {
	dir := writePackage(t, "arrival_pattern:\n  fixed:\n    class: a.star:fixed\n", map[string]string{"a.star": `
def fixed(gap = 0.5):
    def next_interval(state):
        return gap
    return {"next_interval": next_interval}
`})
	v, err := newRegistry(t, nil, dir).Build(&plugin.Spec{Category: plugin.ArrivalPattern, Name: "fixed", Args: plugin.Args{"gap": 0.25}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	if g := v.(timing.ArrivalPattern).Gap(rng); g != 0.25 {
		t.Errorf("gap %v, want 0.25 (from the dict's next_interval)", g)
	}
}

func TestArrivalProbeCatchesBadGaps(t *testing.T) {
	dir := writePackage(t, "arrival_pattern:\n  neg:\n    class: a.star:neg\n", map[string]string{"a.star": `
def neg():
    def next_interval(state):
        return -1 if state.random() < 0.5 else 1
    return struct(next_interval = next_interval)
`})
	_, err := newRegistry(t, nil, dir).Build(&plugin.Spec{Category: plugin.ArrivalPattern, Name: "neg"})
	if err == nil || !strings.Contains(err.Error(), "next_interval must return a finite gap >= 0, got -1") {
		t.Errorf("err = %v", err)
	}
}

// A Starlark constructor's literal defaults are its parameters' Defaults:
// building with none given, and with the declared defaults given
// explicitly, sends the same payload; a non-literal default (a list, None)
// is left to the def.
func TestConstructorDefaultsAreTheParams(t *testing.T) {
	dir := endpointPackage(t, "p.star:ep", `
def ep(n = 3, x = 0.5, neg = -2, s = "a", b = True, lst = [1, 2], none = None):
    def format_payload(request):
        return {"n": n, "x": x, "neg": neg, "s": s, "b": b, "lst": lst, "none": none}
    def parse_response(response):
        return None
    return struct(format_payload = format_payload, parse_response = parse_response)
`)
	r := newRegistry(t, nil, dir)
	class, err := r.Get(plugin.Endpoint, "x")
	if err != nil {
		t.Fatal(err)
	}
	defaults := class.Defaults()
	want := plugin.Args{"n": int64(3), "x": 0.5, "neg": int64(-2), "s": "a", "b": true}
	for k, v := range want {
		if !reflect.DeepEqual(defaults[k], v) {
			t.Errorf("default of %s = %#v, want %#v", k, defaults[k], v)
		}
	}
	for _, k := range []string{"lst", "none"} {
		if _, ok := defaults[k]; ok {
			t.Errorf("non-literal default of %s declared as %#v", k, defaults[k])
		}
	}
	payload := func(args plugin.Args) string {
		t.Helper()
		args["url"] = "http://127.0.0.1:9"
		v, err := r.Build(&plugin.Spec{Category: plugin.Endpoint, Name: "x", Args: args})
		if err != nil {
			t.Fatal(err)
		}
		body, err := v.(endpoint.Endpoint).FormatPayload(chatRequest())
		if err != nil {
			t.Fatal(err)
		}
		return string(body)
	}
	implicit := payload(plugin.Args{})
	if implicit != `{"n":3,"x":0.5,"neg":-2,"s":"a","b":true,"lst":[1,2],"none":null}` {
		t.Errorf("payload without arguments: %s", implicit)
	}
	if explicit := payload(defaults); explicit != implicit {
		t.Errorf("defaults given explicitly send %s, none given %s", explicit, implicit)
	}
	if changed := payload(plugin.Args{"n": int64(4)}); changed == implicit {
		t.Errorf("n=4 sends the default payload %s", changed)
	}
}
