package mock

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var createdRE = regexp.MustCompile(`"created(_at)?":\d+`)

func TestDeterministicForASeed(t *testing.T) {
	const req = `{"model":"m","messages":[{"role":"user","content":"Write a poem"}],"max_tokens":30,"stream":true,"stream_options":{"include_usage":true}}`
	run := func(seed int64) []string {
		srv := start(t, Config{Fast: true, Seed: seed, Jitter: 0.5})
		var out []string
		for _, r := range []string{req, req, strings.Replace(req, "a poem", "an essay", 1)} {
			_, body := post(t, srv.URL()+"/v1/chat/completions", r)
			out = append(out, createdRE.ReplaceAllString(string(body), `"created":0`))
		}
		return out
	}
	a, b, c := run(11), run(11), run(12)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("request %d differs between two servers with the same seed:\n%s\n%s", i, a[i], b[i])
		}
	}
	text := func(stream string) string {
		var s string
		for _, line := range strings.Split(stream, "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &m) == nil {
				s += str(path(m, "choices", 0, "delta", "content"))
			}
		}
		return s
	}
	if text(a[0]) != text(a[1]) || a[0] == a[1] {
		t.Fatal("the same prompt must give the same text (with a new id)")
	}
	if text(a[0]) == text(a[2]) {
		t.Fatal("another prompt must give another text")
	}
	if text(a[0]) == text(c[0]) {
		t.Fatal("another seed must give another text")
	}
}

func TestOutputRules(t *testing.T) {
	srv := start(t, Config{Fast: true, DefaultOutputTokens: 12})
	usage := func(body string) (int, string) {
		_, b := post(t, srv.URL()+"/v1/chat/completions", body)
		m := obj(t, string(b))
		return num(path(m, "usage", "completion_tokens")), str(path(m, "choices", 0, "finish_reason"))
	}
	for _, tc := range []struct {
		body   string
		n      int
		finish string
	}{
		{`{"messages":[{"role":"user","content":"hi"}]}`, 12, "stop"},
		{`{"messages":[{"role":"user","content":"hi"}],"max_tokens":7}`, 7, "length"},
		{`{"messages":[{"role":"user","content":"hi"}],"max_tokens":7,"max_completion_tokens":3}`, 3, "length"},
		{`{"messages":[{"role":"user","content":"hi"}],"min_tokens":20}`, 20, "stop"},
		{`{"messages":[{"role":"user","content":"hi"}],"ignore_eos":true}`, 12, "length"},
		{`{"messages":[{"role":"user","content":"hi"}],"max_tokens":0}`, 0, "length"},
	} {
		if n, f := usage(tc.body); n != tc.n || f != tc.finish {
			t.Errorf("%s: %d tokens, %q; want %d, %q", tc.body, n, f, tc.n, tc.finish)
		}
	}
	// Zero tokens still stream a finish reason.
	_, b := post(t, srv.URL()+"/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"max_tokens":0,"stream":true}`)
	evs := parseSSE(t, b)
	if len(evs) != 2 || path(obj(t, evs[0].data), "choices", 0, "finish_reason") != "length" {
		t.Fatalf("zero-token stream: %s", b)
	}

	aiperf := start(t, Config{Fast: true, OutputRule: OutputAIPerf})
	prompt := strings.Repeat("word ", 40) // 40 tokens of "word "
	lengths := map[int]bool{}
	for i := range 30 {
		body := `{"messages":[{"role":"user","content":"` + prompt + strings.Repeat("x", i) + `"}],"max_tokens":60}`
		_, b := post(t, aiperf.URL()+"/v1/chat/completions", body)
		n := num(path(obj(t, string(b)), "usage", "completion_tokens"))
		isl := num(path(obj(t, string(b)), "usage", "prompt_tokens"))
		if n < int(0.8*float64(isl)) || n > 60 {
			t.Fatalf("aiperf rule: %d tokens for ISL %d and max 60", n, isl)
		}
		lengths[n] = true
	}
	if len(lengths) < 5 {
		t.Fatalf("aiperf rule: only lengths %v", lengths)
	}
	_, b = post(t, aiperf.URL()+"/v1/chat/completions", `{"messages":[{"role":"user","content":"`+prompt+`"}],"max_tokens":60,"ignore_eos":true}`)
	if m := obj(t, string(b)); num(path(m, "usage", "completion_tokens")) != 60 || path(m, "choices", 0, "finish_reason") != "length" {
		t.Fatalf("aiperf ignore_eos: %s", b)
	}
}

func TestReasoningBudget(t *testing.T) {
	srv := start(t, Config{Fast: true})
	reasoning := func(body string) int {
		_, b := post(t, srv.URL()+"/v1/chat/completions", body)
		return num(path(obj(t, string(b)), "usage", "completion_tokens_details", "reasoning_tokens"))
	}
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"model":"my-reasoner","messages":[{"role":"user","content":"x"}],"max_tokens":2000}`, 250},
		{`{"model":"DeepSeek-R1","messages":[{"role":"user","content":"x"}],"max_tokens":2000,"reasoning_effort":"low"}`, 100},
		{`{"model":"thinker","messages":[{"role":"user","content":"x"}],"max_tokens":2000,"reasoning_effort":"high"}`, 500},
		{`{"model":"QwQ","messages":[{"role":"user","content":"x"}],"max_tokens":2000,"reasoning_effort":"none"}`, 0},
		{`{"model":"qwq","messages":[{"role":"user","content":"x"}],"max_tokens":9}`, 4}, // at most half the budget
		{`{"model":"llama-3","messages":[{"role":"user","content":"x"}],"max_tokens":2000}`, 0},
	} {
		if got := reasoning(tc.body); got != tc.want {
			t.Errorf("%s: %d reasoning tokens, want %d", tc.body, got, tc.want)
		}
	}
	for body, want := range map[string]int{
		`{"model":"claude-think","max_tokens":100,"messages":[{"role":"user","content":"x"}]}`:                                            50,
		`{"model":"claude-think","max_tokens":100,"thinking":{"type":"disabled"},"messages":[{"role":"user","content":"x"}]}`:             0,
		`{"model":"claude","max_tokens":100,"thinking":{"type":"enabled","budget_tokens":30},"messages":[{"role":"user","content":"x"}]}`: 30,
	} {
		_, b := post(t, srv.URL()+"/v1/messages", body+"")
		if got := strings.Count(string(b), `"type":"thinking"`); (got == 1) != (want > 0) {
			t.Errorf("%s: thinking block present = %v, want %v", body, got == 1, want > 0)
		}
		_, b = post(t, srv.URL()+"/v1/messages", strings.Replace(body, `"max_tokens":100`, `"max_tokens":100,"stream":true`, 1))
		if got := strings.Count(string(b), `"thinking_delta"`); got != want {
			t.Errorf("%s: %d thinking deltas, want %d", body, got, want)
		}
	}
	custom := start(t, Config{Fast: true, ReasoningModels: []string{"llama"}, ReasoningTokens: 7})
	_, b := post(t, custom.URL()+"/v1/chat/completions", `{"model":"llama-3","messages":[{"role":"user","content":"x"}],"max_tokens":100}`)
	if n := num(path(obj(t, string(b)), "usage", "completion_tokens_details", "reasoning_tokens")); n != 7 {
		t.Fatalf("custom reasoning models and tokens: %d", n)
	}
}

func TestInputTokenizer(t *testing.T) {
	tok, err := Tiktoken("o200k_base")
	if err != nil {
		t.Fatal(err)
	}
	srv := start(t, Config{Fast: true, InputTokenizer: tok})
	_, b := post(t, srv.URL()+"/v1/completions", `{"model":"m","prompt":"The quick brown fox jumps over the lazy dog","max_tokens":1}`)
	if n := num(path(obj(t, string(b)), "usage", "prompt_tokens")); n != 9 {
		t.Fatalf("o200k_base prompt_tokens %d, want 9", n)
	}
	if _, err := Tiktoken("gpt2-ish"); err == nil {
		t.Fatal("unknown encoding accepted")
	}
}

func TestRecordRedactsCredentials(t *testing.T) {
	file := filepath.Join(t.TempDir(), "requests.jsonl")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	srv := start(t, Config{Fast: true, Record: f})
	const secret = "sk-very-secret-key-123"
	post(t, srv.URL()+"/v1/chat/completions?api-version=1", `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":1}`,
		"Authorization", "Bearer "+secret, "X-Request-ID", "req-1")
	post(t, srv.URL()+"/v1/messages", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"hi"}]}`,
		"x-api-key", secret, "anthropic-version", "2023-06-01")
	post(t, srv.URL()+"/v1/completions", `not json`, "Api-Key", secret)
	// Lines are written as requests arrive: readable before Close.
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), secret) {
		t.Fatalf("the record leaks a credential:\n%s", raw)
	}
	var recs []RecordedRequest
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		var r RecordedRequest
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	r := recs[0]
	if r.Method != "POST" || r.Path != "/v1/chat/completions" || r.Query != "api-version=1" ||
		r.Headers["Authorization"] != Redacted || r.Headers["X-Request-Id"] != "req-1" ||
		r.Headers["Content-Type"] != "application/json" || time.Since(r.Time) > time.Minute {
		t.Fatalf("record %+v", r)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil || body["model"] != "m" {
		t.Fatalf("body kept as JSON: %s", r.Body)
	}
	if recs[1].Headers["X-Api-Key"] != Redacted || recs[1].Headers["Anthropic-Version"] != "2023-06-01" {
		t.Fatalf("headers %v", recs[1].Headers)
	}
	var s string
	if recs[2].Headers["Api-Key"] != Redacted || json.Unmarshal(recs[2].Body, &s) != nil || s != "not json" {
		t.Fatalf("non-JSON body kept as a string: %s, headers %v", recs[2].Body, recs[2].Headers)
	}
}

func TestLifecycle(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := Start(ctx, Config{Fast: true, Faults: FaultRates{StallBeforeHeaders: 1}, StallFor: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q", srv.URL())
	}
	// A second server on the same port fails with a clear error.
	_, port, _ := net.SplitHostPort(srv.Addr())
	if _, err := Start(context.Background(), Config{Port: atoi(port)}); err == nil || !strings.Contains(err.Error(), "listen on 127.0.0.1:"+port) {
		t.Fatalf("second server on the port: %v", err)
	}
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const body = `{"model":"m","prompt":"x"}`
	c.Write([]byte("POST /v1/completions HTTP/1.1\r\nHost: m\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body))
	waitFor(t, func() bool { return srv.Stats().InFlight == 1 }, "a stalled request")
	t0 := time.Now()
	cancel() // the context stops the server; the stall is cut short
	select {
	case <-srv.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("server still running 5 s after its context ended")
	}
	if took := time.Since(t0); took > 3*time.Second {
		t.Fatalf("stopping took %v", took)
	}
	waitFor(t, func() bool { return srv.Stats().InFlight == 0 }, "the stalled request to end")
	if err := srv.Err(); err != nil {
		t.Fatalf("Err after a clean stop: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", srv.Addr(), time.Second); err == nil {
		t.Fatal("still accepting connections")
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
