package mock

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawResult is what a raw socket read of one response saw.
type rawResult struct {
	head    string        // status line and headers
	body    []byte        // body bytes as sent (chunk framing removed)
	chunked bool          // Transfer-Encoding: chunked
	ended   bool          // the body ended properly (last chunk / full length)
	first   time.Duration // time to the first response byte
	elapsed time.Duration // time to EOF
}

// rawPost sends one request on a fresh connection and reads until the server
// closes it (the raw-path faults always close).
func rawPost(t *testing.T, srv *Server, path, body string, headers ...string) rawResult {
	t.Helper()
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	var req strings.Builder
	req.WriteString("POST " + path + " HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n")
	for i := 0; i+1 < len(headers); i += 2 {
		req.WriteString(headers[i] + ": " + headers[i+1] + "\r\n")
	}
	req.WriteString("Connection: close\r\n\r\n" + body)
	t0 := time.Now()
	if _, err := io.WriteString(c, req.String()); err != nil {
		t.Fatal(err)
	}
	var res rawResult
	br := bufio.NewReader(c)
	if _, err := br.Peek(1); err != nil {
		t.Fatalf("no response: %v", err)
	}
	res.first = time.Since(t0)
	all, _ := io.ReadAll(br)
	res.elapsed = time.Since(t0)
	head, rest, ok := bytes.Cut(all, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no header end in %q", all)
	}
	res.head = string(head)
	res.chunked = strings.Contains(strings.ToLower(res.head), "transfer-encoding: chunked")
	if !res.chunked {
		res.body = rest
		if i := strings.Index(strings.ToLower(res.head), "content-length: "); i >= 0 {
			n, _ := strconv.Atoi(strings.Fields(res.head[i+16:])[0])
			res.ended = len(rest) == n
		}
		return res
	}
	for {
		line, after, ok := bytes.Cut(rest, []byte("\r\n"))
		if !ok {
			return res
		}
		n, err := strconv.ParseInt(string(line), 16, 64)
		if err != nil {
			t.Fatalf("bad chunk size %q", line)
		}
		if n == 0 {
			res.ended = true
			return res
		}
		if int64(len(after)) < n+2 {
			res.body = append(res.body, after...)
			return res
		}
		res.body = append(res.body, after[:n]...)
		rest = after[n+2:]
	}
}

const chatStream10 = `{"model":"m","messages":[{"role":"user","content":"Tell me a story"}],"max_tokens":10,"stream":true,"stream_options":{"include_usage":true}}`
const chatBody10 = `{"model":"m","messages":[{"role":"user","content":"Tell me a story"}],"max_tokens":10}`

func TestFaultServerError(t *testing.T) {
	srv := start(t, Config{Fast: true, Faults: FaultRates{ServerError: 1}, ErrorStatus: 503})
	resp, body := post(t, srv.URL()+"/v1/chat/completions", chatStream10)
	m := obj(t, string(body))
	if resp.StatusCode != 503 || path(m, "error", "code") != 503.0 || path(m, "error", "type") != "server_error" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	_, body = post(t, srv.URL()+"/v1/messages", `{"model":"m","max_tokens":2,"messages":[{"role":"user","content":"x"}]}`)
	if m := obj(t, string(body)); m["type"] != "error" || path(m, "error", "type") != "api_error" {
		t.Fatalf("Anthropic 5xx body %s", body)
	}
	if st := srv.Stats(); st.Faults[FaultServerError] != 2 || st.Statuses[503] != 2 || st.InFlight != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFaultRateLimit(t *testing.T) {
	srv := start(t, Config{Fast: true, Faults: FaultRates{RateLimit: 1}, RetryAfter: 2500 * time.Millisecond})
	resp, body := post(t, srv.URL()+"/v1/completions", `{"model":"m","prompt":"x"}`)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" || resp.Header.Get("Retry-After-Ms") != "2500" {
		t.Fatalf("%d Retry-After %q Retry-After-Ms %q", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Retry-After-Ms"))
	}
	if m := obj(t, string(body)); path(m, "error", "code") != 429.0 || path(m, "error", "type") != "rate_limit_exceeded" {
		t.Fatalf("body %s", body)
	}
}

func TestFaultStallBeforeHeaders(t *testing.T) {
	const stall = 300 * time.Millisecond
	srv := start(t, Config{Fast: true, Faults: FaultRates{StallBeforeHeaders: 1}, StallFor: stall})
	res := rawPost(t, srv, "/v1/chat/completions", chatBody10)
	if res.first < stall-20*time.Millisecond {
		t.Fatalf("first byte after %v, want no byte for %v", res.first, stall)
	}
	if !strings.HasPrefix(res.head, "HTTP/1.1 200 OK") || !strings.Contains(res.head, "Connection: close") || !res.ended {
		t.Fatalf("head %q ended %v", res.head, res.ended)
	}
	if m := obj(t, string(res.body)); num(path(m, "usage", "completion_tokens")) != 10 {
		t.Fatalf("the answer after the stall must be complete: %s", res.body)
	}
	res = rawPost(t, srv, "/v1/chat/completions", chatStream10)
	if res.first < stall-20*time.Millisecond || !res.ended || !bytes.HasSuffix(res.body, []byte("data: [DONE]\n\n")) {
		t.Fatalf("streaming: first byte %v ended %v body %q", res.first, res.ended, tail(res.body))
	}
}

func TestFaultStallEndsWhenClientLeaves(t *testing.T) {
	srv := start(t, Config{Fast: true, Faults: FaultRates{StallBeforeHeaders: 1}, StallFor: time.Minute})
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	const body = `{"model":"m","prompt":"xyz"}`
	io.WriteString(c, "POST /v1/completions HTTP/1.1\r\nHost: m\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
	waitFor(t, func() bool { return srv.Stats().InFlight == 1 }, "request in flight")
	c.Close()
	waitFor(t, func() bool { return srv.Stats().InFlight == 0 }, "stall cut short by the client's close")
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFaultCloseMidStream(t *testing.T) {
	srv := start(t, Config{Fast: true, Faults: FaultRates{CloseMidStream: 1}})
	res := rawPost(t, srv, "/v1/chat/completions", chatStream10)
	if !res.chunked || res.ended {
		t.Fatalf("want a chunked body cut without its last chunk; chunked %v ended %v", res.chunked, res.ended)
	}
	evs := parseSSE(t, res.body)
	if len(evs) != 5 {
		t.Fatalf("want the first 5 of 10 token chunks before the close, got %d events", len(evs))
	}
	for _, ev := range evs {
		if obj(t, ev.data)["object"] != "chat.completion.chunk" {
			t.Fatalf("event %s", ev.data)
		}
	}
	// A real client sees an unexpected EOF.
	resp, err := client.Post(srv.URL()+"/v1/chat/completions", "application/json", strings.NewReader(chatStream10))
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("net/http read error %v, want unexpected EOF", err)
	}
	// Not streaming: half of the announced Content-Length, then the close.
	res = rawPost(t, srv, "/v1/chat/completions", chatBody10)
	if res.chunked || res.ended || len(res.body) == 0 || json.Valid(res.body) {
		t.Fatalf("non-streaming close: chunked %v ended %v body %q", res.chunked, res.ended, res.body)
	}
	n, _ := strconv.Atoi(strings.Fields(res.head[strings.Index(res.head, "Content-Length: ")+16:])[0])
	if len(res.body) != n/2 {
		t.Fatalf("got %d of %d bytes, want half", len(res.body), n)
	}
}

// frameTimes reads a stream and stamps each SSE event's arrival.
func frameTimes(t *testing.T, url, body string) ([]time.Duration, []string) {
	t.Helper()
	t0 := time.Now()
	resp, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	var times []time.Duration
	var frames []string
	for {
		line, err := br.ReadString('\n')
		if strings.HasPrefix(line, "data:") {
			times = append(times, time.Since(t0))
			frames = append(frames, strings.TrimSpace(strings.TrimPrefix(line, "data:")))
		}
		if err != nil {
			return times, frames
		}
	}
}

func TestFaultStallMidStream(t *testing.T) {
	const stall = 300 * time.Millisecond
	srv := start(t, Config{Fast: true, Faults: FaultRates{StallMidStream: 1}, StallFor: stall})
	times, frames := frameTimes(t, srv.URL()+"/v1/chat/completions", chatStream10)
	if len(frames) != 12 || frames[11] != "[DONE]" {
		t.Fatalf("want the whole stream after the stall, got %d frames", len(frames))
	}
	if gap := times[5] - times[4]; gap < stall-20*time.Millisecond {
		t.Fatalf("gap between token 5 and 6 is %v, want the %v stall", gap, stall)
	}
	// Not streaming: headers and half of the body, the stall, the rest.
	res := rawPost(t, srv, "/v1/chat/completions", chatBody10)
	if !res.ended || !json.Valid(res.body) || res.elapsed < stall-20*time.Millisecond {
		t.Fatalf("non-streaming stall: ended %v elapsed %v", res.ended, res.elapsed)
	}
}

func TestFaultMalformedChunk(t *testing.T) {
	srv := start(t, Config{Fast: true, Faults: FaultRates{MalformedChunk: 1}})
	_, body := post(t, srv.URL()+"/v1/chat/completions", chatStream10)
	evs := parseSSE(t, body)
	if len(evs) != 13 {
		t.Fatalf("want 10 tokens + 1 malformed + usage + [DONE], got %d events", len(evs))
	}
	bad := -1
	tokens := 0
	for i, ev := range evs {
		if ev.data == "[DONE]" {
			continue
		}
		if !json.Valid([]byte(ev.data)) {
			if bad >= 0 {
				t.Fatalf("two malformed events")
			}
			bad = i
			if !strings.HasPrefix(ev.data, `{"id":"chatcmpl-`) {
				t.Fatalf("malformed event %q should be a cut chunk", ev.data)
			}
			continue
		}
		if path(obj(t, ev.data), "choices", 0) != nil {
			tokens++
		}
	}
	if bad != 5 || tokens != 10 {
		t.Fatalf("malformed event at %d (want 5, after the 5th token), %d token chunks (want 10)", bad, tokens)
	}
	resp, body := post(t, srv.URL()+"/v1/chat/completions", chatBody10)
	if resp.StatusCode != 200 || json.Valid(body) || !strings.HasPrefix(string(body), `{"id":"chatcmpl-`) {
		t.Fatalf("non-streaming malformed body: %d %s", resp.StatusCode, body)
	}
}

func TestFaultOversized(t *testing.T) {
	const size = 200_000
	srv := start(t, Config{Fast: true, Faults: FaultRates{Oversized: 1}, OversizeBytes: size})
	_, normal := post(t, srv.URL()+"/v1/chat/completions", chatBody10, FaultHeader, "none")
	_, big := post(t, srv.URL()+"/v1/chat/completions", chatBody10)
	if len(big) < size || !json.Valid(big) {
		t.Fatalf("oversized body: %d bytes, valid %v", len(big), json.Valid(big))
	}
	if a, b := path(obj(t, string(normal)), "choices", 0, "message", "content"), path(obj(t, string(big)), "choices", 0, "message", "content"); a != b {
		t.Fatalf("content changed: %v vs %v", a, b)
	}
	_, body := post(t, srv.URL()+"/v1/chat/completions", chatStream10)
	evs := parseSSE(t, body)
	if len(evs[0].data) < size || !json.Valid([]byte(evs[0].data)) || len(evs) != 12 {
		t.Fatalf("first event %d bytes (valid %v), %d events", len(evs[0].data), json.Valid([]byte(evs[0].data)), len(evs))
	}
	_, body = post(t, srv.URL()+"/rerank", `{"query":"q","texts":["a","b"]}`)
	var list []any
	if len(body) < size || json.Unmarshal(body, &list) != nil || len(list) != 2 {
		t.Fatalf("TEI list padded: %d bytes", len(body))
	}
}

func TestFaultHeaderAndDraws(t *testing.T) {
	srv := start(t, Config{Fast: true})
	resp, _ := post(t, srv.URL()+"/v1/chat/completions", chatBody10, FaultHeader, "server_error")
	if resp.StatusCode != 500 {
		t.Fatalf("forced fault: %d", resp.StatusCode)
	}
	resp, body := post(t, srv.URL()+"/v1/chat/completions", chatBody10, FaultHeader, "bogus")
	if resp.StatusCode != 400 || !strings.Contains(string(body), "unknown fault") {
		t.Fatalf("bad fault header: %d %s", resp.StatusCode, body)
	}

	statuses := func() []int {
		srv := start(t, Config{Fast: true, Seed: 7, Faults: FaultRates{ServerError: 0.3, RateLimit: 0.2}})
		var out []int
		for range 60 {
			resp, _ := post(t, srv.URL()+"/v1/completions", `{"model":"m","prompt":"x","max_tokens":1}`)
			out = append(out, resp.StatusCode)
		}
		st := srv.Stats()
		if st.Faults[FaultServerError] != st.Statuses[500] || st.Faults[FaultRateLimit] != st.Statuses[429] {
			t.Fatalf("stats %+v", st)
		}
		return out
	}
	a, b := statuses(), statuses()
	count := map[int]int{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("request %d: %d then %d; the same seed must inject the same faults", i, a[i], b[i])
		}
		count[a[i]]++
	}
	if count[500] < 8 || count[500] > 30 || count[429] < 4 || count[429] > 24 || count[200] < 15 {
		t.Fatalf("fault counts %v for rates 0.3 / 0.2 over 60 requests", count)
	}
}

func TestFaultRatesValidated(t *testing.T) {
	for _, cfg := range []Config{
		{Faults: FaultRates{ServerError: 0.7, CloseMidStream: 0.5}},
		{Faults: FaultRates{Oversized: -0.1}},
		{ErrorStatus: 404},
		{Jitter: -1},
		{TTFT: -time.Second},
		{OutputRule: "longest"},
	} {
		if _, err := Start(t.Context(), cfg); err == nil {
			t.Errorf("Start(%+v) accepted a bad config", cfg)
		}
	}
}

// Every fault at once, concurrently, on every streaming API: nothing
// panics, every request ends, and the server is idle afterwards.
func TestMixedFaultsUnderConcurrency(t *testing.T) {
	srv := start(t, Config{ITL: 200 * time.Microsecond, Seed: 3, StallFor: 30 * time.Millisecond, OversizeBytes: 4096,
		Faults: FaultRates{ServerError: 0.1, RateLimit: 0.1, StallBeforeHeaders: 0.1, CloseMidStream: 0.1,
			StallMidStream: 0.1, MalformedChunk: 0.1, Oversized: 0.1}})
	bodies := map[string]string{
		"/v1/chat/completions": chatStream10,
		"/v1/completions":      `{"model":"m","prompt":"x","max_tokens":8,"stream":true}`,
		"/v1/messages":         `{"model":"m","max_tokens":8,"stream":true,"messages":[{"role":"user","content":"x"}]}`,
		"/v1/responses":        `{"model":"m","max_output_tokens":8,"stream":true,"input":"x"}`,
		"/generate_stream":     `{"inputs":"x","parameters":{"max_new_tokens":8}}`,
		"/v1/embeddings":       `{"model":"m","input":"x"}`,
	}
	var paths []string
	for p := range bodies {
		paths = append(paths, p)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 15 {
				p := paths[(g+i)%len(paths)]
				resp, err := client.Post(srv.URL()+p, "application/json", strings.NewReader(bodies[p]))
				if err != nil {
					continue // a cut connection may surface here
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	waitFor(t, func() bool { return srv.Stats().InFlight == 0 }, "every request to end")
	st := srv.Stats()
	total := int64(0)
	for _, f := range Faults {
		if st.Faults[f] == 0 {
			t.Errorf("fault %s never drawn in 120 requests", f)
		}
		total += st.Faults[f]
	}
	if total < 50 || total > 110 {
		t.Errorf("%d faults in 120 requests at a total rate of 0.7", total)
	}
}
