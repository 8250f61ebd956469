package mock

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"image/png"
	"math"
	"mime/multipart"
	"strings"
	"testing"
)

// compact checks that a JSON text is compact (as real servers send it).
func compact(t *testing.T, s string) {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("invalid JSON: %v: %.200s", err, s)
	}
	if b.String() != s {
		t.Fatalf("JSON is not compact: %.200s", s)
	}
}

func TestChatStreamShape(t *testing.T) {
	srv := start(t, Config{Fast: true})
	resp, body := post(t, srv.URL()+"/v1/chat/completions",
		`{"model":"llama","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello there, how are you today?"}],"max_completion_tokens":5,"stream":true,"stream_options":{"include_usage":true}}`)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !bytes.HasPrefix(body, []byte("data: {")) {
		t.Fatalf("frames must be `data: <json>`: %.100s", body)
	}
	evs := parseSSE(t, body)
	if len(evs) != 5+2 {
		t.Fatalf("want 5 token chunks, a usage chunk and [DONE], got %d events", len(evs))
	}
	if evs[6].data != "[DONE]" {
		t.Fatalf("last event %q, want [DONE]", evs[6].data)
	}
	var id, text string
	for i, ev := range evs[:5] {
		compact(t, ev.data)
		m := obj(t, ev.data)
		if m["object"] != "chat.completion.chunk" || m["model"] != "llama" {
			t.Fatalf("chunk %d: object %v model %v", i, m["object"], m["model"])
		}
		if i == 0 {
			id = str(m["id"])
			if !strings.HasPrefix(id, "chatcmpl-") {
				t.Fatalf("id %q", id)
			}
		} else if m["id"] != id {
			t.Fatalf("chunk %d: id %v changed from %s", i, m["id"], id)
		}
		delta := path(m, "choices", 0, "delta").(map[string]any)
		if _, ok := delta["role"]; ok != (i == 0) {
			t.Fatalf("chunk %d: role present = %v; want only on the first chunk", i, ok)
		}
		c := str(delta["content"])
		if c == "" {
			t.Fatalf("chunk %d: empty content", i)
		}
		text += c
		fr := path(m, "choices", 0, "finish_reason")
		if i < 4 && fr != nil || i == 4 && fr != "length" {
			t.Fatalf("chunk %d: finish_reason %v", i, fr)
		}
	}
	u := obj(t, evs[5].data)
	if ch, ok := u["choices"].([]any); !ok || len(ch) != 0 {
		t.Fatalf("usage chunk must have choices: [], got %v", u["choices"])
	}
	if num(path(u, "usage", "completion_tokens")) != 5 ||
		num(path(u, "usage", "total_tokens")) != num(path(u, "usage", "prompt_tokens"))+5 ||
		path(u, "usage", "prompt_tokens_details", "cached_tokens") != 0.0 ||
		path(u, "usage", "completion_tokens_details", "reasoning_tokens") != 0.0 {
		t.Fatalf("usage %v", u["usage"])
	}
	// "Be brief.\nHello there, how are you today?" in ~4-character chunks.
	if got, want := num(path(u, "usage", "prompt_tokens")), countChars("Be brief.\nHello there, how are you today?"); got != want || want < 8 {
		t.Fatalf("prompt_tokens %d, want %d", got, want)
	}
	if !strings.HasPrefix(text, " ") || len(strings.Fields(text)) < 3 {
		t.Fatalf("content %q", text)
	}
}

func TestChatStreamReasoningThenContent(t *testing.T) {
	srv := start(t, Config{Fast: true})
	_, body := post(t, srv.URL()+"/v1/chat/completions",
		`{"model":"deepseek-r1-distill","messages":[{"role":"user","content":"Why?"}],"max_tokens":10,"stream":true,"stream_options":{"include_usage":true}}`)
	evs := parseSSE(t, body)
	if len(evs) != 12 {
		t.Fatalf("got %d events, want 10 tokens + usage + [DONE]", len(evs))
	}
	for i, ev := range evs[:10] {
		delta := path(obj(t, ev.data), "choices", 0, "delta").(map[string]any)
		_, hasR := delta["reasoning_content"]
		_, hasC := delta["content"]
		if i < 5 && (!hasR || hasC) || i >= 5 && (hasR || !hasC) {
			t.Fatalf("chunk %d: delta %v; want 5 reasoning chunks then 5 content chunks", i, delta)
		}
	}
	u := obj(t, evs[10].data)
	if num(path(u, "usage", "completion_tokens")) != 10 || num(path(u, "usage", "completion_tokens_details", "reasoning_tokens")) != 5 {
		t.Fatalf("usage %v", u["usage"])
	}
}

func TestChatStreamWithoutUsageAndContinuousUsage(t *testing.T) {
	srv := start(t, Config{Fast: true})
	_, body := post(t, srv.URL()+"/v1/chat/completions",
		`{"model":"m","messages":[{"role":"user","content":"Hi"}],"max_tokens":3,"stream":true}`)
	evs := parseSSE(t, body)
	if len(evs) != 4 || evs[3].data != "[DONE]" || strings.Contains(string(body), `"usage"`) {
		t.Fatalf("without include_usage: want 3 chunks and [DONE], no usage; got %s", body)
	}
	_, body = post(t, srv.URL()+"/v1/chat/completions",
		`{"model":"m","messages":[{"role":"user","content":"Hi"}],"max_tokens":3,"stream":true,"stream_options":{"include_usage":true,"continuous_usage_stats":true}}`)
	evs = parseSSE(t, body)
	for i := range 3 {
		if got := num(path(obj(t, evs[i].data), "usage", "completion_tokens")); got != i+1 {
			t.Fatalf("continuous usage: chunk %d completion_tokens %d", i, got)
		}
	}
}

func TestChatNonStreaming(t *testing.T) {
	srv := start(t, Config{Fast: true})
	resp, body := post(t, srv.URL()+"/v1/chat/completions",
		`{"model":"qwq-32b","messages":[{"role":"user","content":[{"type":"text","text":"Describe this"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}],"max_tokens":8}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	compact(t, string(body))
	m := obj(t, string(body))
	msg := path(m, "choices", 0, "message").(map[string]any)
	if m["object"] != "chat.completion" || msg["role"] != "assistant" || str(msg["content"]) == "" || str(msg["reasoning_content"]) == "" {
		t.Fatalf("body %s", body)
	}
	if path(m, "choices", 0, "finish_reason") != "length" || num(path(m, "usage", "completion_tokens")) != 8 ||
		num(path(m, "usage", "completion_tokens_details", "reasoning_tokens")) != 4 {
		t.Fatalf("finish/usage: %s", body)
	}
	if got, want := num(path(m, "usage", "prompt_tokens")), countChars("Describe this"); got != want {
		t.Fatalf("prompt_tokens %d, want %d (text parts only)", got, want)
	}
}

func TestCompletionsShapes(t *testing.T) {
	srv := start(t, Config{Fast: true})
	_, body := post(t, srv.URL()+"/v1/completions",
		`{"model":"m","prompt":"Once upon a time","max_tokens":4,"stream":true,"stream_options":{"include_usage":true}}`)
	evs := parseSSE(t, body)
	if len(evs) != 6 || evs[5].data != "[DONE]" {
		t.Fatalf("want 4 chunks, usage, [DONE]; got %d events", len(evs))
	}
	for i, ev := range evs[:4] {
		m := obj(t, ev.data)
		if m["object"] != "text_completion" || str(path(m, "choices", 0, "text")) == "" {
			t.Fatalf("chunk %d: %s", i, ev.data)
		}
		if fr := path(m, "choices", 0, "finish_reason"); (i == 3) != (fr == "length") {
			t.Fatalf("chunk %d finish_reason %v", i, fr)
		}
	}
	u := obj(t, evs[4].data)
	if len(u["choices"].([]any)) != 0 || num(path(u, "usage", "completion_tokens")) != 4 {
		t.Fatalf("usage chunk %s", evs[4].data)
	}
	_, body = post(t, srv.URL()+"/v1/completions", `{"model":"m","prompt":["Once upon","a time"],"max_tokens":3}`)
	m := obj(t, string(body))
	if m["object"] != "text_completion" || len(strings.Fields(str(path(m, "choices", 0, "text")))) == 0 ||
		num(path(m, "usage", "completion_tokens")) != 3 || path(m, "usage", "prompt_tokens_details", "cached_tokens") != 0.0 {
		t.Fatalf("body %s", body)
	}
}

func TestTGIShapes(t *testing.T) {
	srv := start(t, Config{Fast: true})
	_, body := post(t, srv.URL()+"/generate_stream", `{"inputs":"Hello world","parameters":{"max_new_tokens":4}}`)
	if !bytes.HasPrefix(body, []byte(`data:{"index":0,"token":{`)) {
		t.Fatalf("TGI frames: %.80s", body)
	}
	evs := parseSSE(t, body)
	if len(evs) != 4 {
		t.Fatalf("want 4 frames and no [DONE], got %d", len(evs))
	}
	var text string
	for i, ev := range evs {
		m := obj(t, ev.data)
		tok := m["token"].(map[string]any)
		if num(m["index"]) != i || tok["special"] != false || str(tok["text"]) == "" {
			t.Fatalf("frame %d: %s", i, ev.data)
		}
		if _, ok := tok["id"].(float64); !ok {
			t.Fatalf("frame %d: token id %v", i, tok["id"])
		}
		if _, ok := tok["logprob"].(float64); !ok {
			t.Fatalf("frame %d: logprob %v", i, tok["logprob"])
		}
		text += str(tok["text"])
		if i < 3 && m["generated_text"] != nil {
			t.Fatalf("frame %d has generated_text", i)
		}
		if i == 3 && (m["generated_text"] != text || path(m, "details", "generated_tokens") != 4.0) {
			t.Fatalf("last frame: generated_text %v, want %q: %s", m["generated_text"], text, ev.data)
		}
	}
	_, body = post(t, srv.URL()+"/generate", `{"inputs":"Hello world","parameters":{"max_new_tokens":4}}`)
	if m := obj(t, string(body)); m["generated_text"] != text {
		t.Fatalf("/generate %s, want the same text %q", body, text)
	}
}

func TestMessagesShapes(t *testing.T) {
	srv := start(t, Config{Fast: true})
	_, body := post(t, srv.URL()+"/v1/messages",
		`{"model":"claude-sonnet","max_tokens":6,"stream":true,"system":"Be brief.","thinking":{"type":"enabled","budget_tokens":2},"messages":[{"role":"user","content":"Hi"}]}`)
	evs := parseSSE(t, body)
	var names []string
	var thinking, text string
	for _, ev := range evs {
		m := obj(t, ev.data)
		if m["type"] != ev.name {
			t.Fatalf("event %q carries type %v", ev.name, m["type"])
		}
		names = append(names, ev.name)
		switch str(path(m, "delta", "type")) {
		case "thinking_delta":
			thinking += str(path(m, "delta", "thinking"))
		case "text_delta":
			text += str(path(m, "delta", "text"))
		}
		if ev.name == "message_start" && num(path(m, "message", "usage", "input_tokens")) == 0 {
			t.Fatalf("message_start usage %s", ev.data)
		}
		if ev.name == "message_delta" && (num(path(m, "usage", "output_tokens")) != 6 || path(m, "delta", "stop_reason") != "max_tokens") {
			t.Fatalf("message_delta %s", ev.data)
		}
	}
	want := "message_start content_block_start ping content_block_delta content_block_delta content_block_delta content_block_stop content_block_start content_block_delta content_block_delta content_block_delta content_block_delta content_block_stop message_delta message_stop"
	if strings.Join(names, " ") != want {
		t.Fatalf("events:\n%s\nwant\n%s", strings.Join(names, " "), want)
	}
	if len(strings.Fields(thinking)) == 0 || len(strings.Fields(text)) == 0 {
		t.Fatalf("thinking %q text %q", thinking, text)
	}
	_, body = post(t, srv.URL()+"/v1/messages", `{"model":"claude","max_tokens":3,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`)
	m := obj(t, string(body))
	if m["type"] != "message" || path(m, "content", 0, "type") != "text" || str(path(m, "content", 0, "text")) == "" ||
		m["stop_reason"] != "max_tokens" || num(path(m, "usage", "output_tokens")) != 3 {
		t.Fatalf("body %s", body)
	}
}

func TestResponsesShapes(t *testing.T) {
	srv := start(t, Config{Fast: true})
	_, body := post(t, srv.URL()+"/v1/responses",
		`{"model":"gpt-oss-20b","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"Hi there"}]}],"instructions":"Be brief.","max_output_tokens":6,"stream":true}`)
	evs := parseSSE(t, body)
	if evs[0].name != "response.created" || evs[1].name != "response.in_progress" || evs[len(evs)-1].name != "response.completed" {
		t.Fatalf("first/last events: %s, %s, %s", evs[0].name, evs[1].name, evs[len(evs)-1].name)
	}
	var reasoning, text, done string
	for i, ev := range evs {
		m := obj(t, ev.data)
		if m["type"] != ev.name || num(m["sequence_number"]) != i {
			t.Fatalf("event %d %q: type %v sequence %v", i, ev.name, m["type"], m["sequence_number"])
		}
		switch ev.name {
		case "response.reasoning_text.delta":
			reasoning += str(m["delta"])
		case "response.output_text.delta":
			text += str(m["delta"])
		case "response.output_text.done":
			done = str(m["text"])
		case "response.completed":
			r := m["response"].(map[string]any)
			if r["status"] != "completed" || num(path(r, "usage", "output_tokens")) != 6 ||
				num(path(r, "usage", "output_tokens_details", "reasoning_tokens")) != 3 ||
				path(r, "output", 1, "content", 0, "text") != text {
				t.Fatalf("completed: %s", ev.data)
			}
		}
	}
	if len(strings.Fields(reasoning)) == 0 || text == "" || done != text {
		t.Fatalf("reasoning %q text %q done %q", reasoning, text, done)
	}
	_, body = post(t, srv.URL()+"/v1/responses", `{"model":"m","input":"Hi","max_output_tokens":2}`)
	m := obj(t, string(body))
	if m["object"] != "response" || path(m, "output", 0, "type") != "message" ||
		str(path(m, "output", 0, "content", 0, "text")) == "" || num(path(m, "usage", "output_tokens")) != 2 {
		t.Fatalf("body %s", body)
	}
}

func TestEmbeddingsShape(t *testing.T) {
	srv := start(t, Config{Fast: true})
	_, body := post(t, srv.URL()+"/v1/embeddings", `{"model":"e5","input":["first text","second text","first text"]}`)
	m := obj(t, string(body))
	data := m["data"].([]any)
	if m["object"] != "list" || len(data) != 3 || num(path(m, "usage", "prompt_tokens")) == 0 {
		t.Fatalf("body %.300s", body)
	}
	vecs := make([][]any, 3)
	for i := range data {
		if path(data[i], "object") != "embedding" || num(path(data[i], "index")) != i {
			t.Fatalf("item %d", i)
		}
		vecs[i] = path(data[i], "embedding").([]any)
		if len(vecs[i]) != 768 {
			t.Fatalf("dimension %d, want 768", len(vecs[i]))
		}
		var n float64
		for _, x := range vecs[i] {
			n += x.(float64) * x.(float64)
		}
		if math.Abs(n-1) > 1e-4 {
			t.Fatalf("norm² %v, want 1", n)
		}
	}
	if vecs[0][5] != vecs[2][5] || vecs[0][5] == vecs[1][5] {
		t.Fatal("embeddings must be a deterministic function of the text")
	}
	_, body = post(t, srv.URL()+"/v1/embeddings", `{"model":"e5","input":"first text","encoding_format":"base64"}`)
	raw, err := base64.StdEncoding.DecodeString(str(path(obj(t, string(body)), "data", 0, "embedding")))
	if err != nil || len(raw) != 768*4 {
		t.Fatalf("base64 embedding: %v, %d bytes", err, len(raw))
	}
	if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[20:])); got != float32(vecs[0][5].(float64)) {
		t.Fatalf("base64 value %v, float value %v", got, vecs[0][5])
	}
}

func TestRankingShapes(t *testing.T) {
	srv := start(t, Config{Fast: true})
	check := func(name string, items []any, scoreKey string, n int) {
		t.Helper()
		if len(items) != n {
			t.Fatalf("%s: %d results, want %d", name, len(items), n)
		}
		seen := map[int]bool{}
		prev := 2.0
		for _, it := range items {
			i, s := num(path(it, "index")), path(it, scoreKey).(float64)
			if seen[i] || i < 0 || i >= 3 || s > prev || s < 0 || s >= 1 {
				t.Fatalf("%s: bad ranking %v", name, items)
			}
			seen[i], prev = true, s
		}
	}
	_, body := post(t, srv.URL()+"/v1/ranking", `{"model":"nv-rerank","query":{"text":"what is go"},"passages":[{"text":"a"},{"text":"b"},{"text":"c"}]}`)
	check("nim", obj(t, string(body))["rankings"].([]any), "logit", 3)
	_, body = post(t, srv.URL()+"/v2/rerank", `{"model":"rerank-v3","query":"what is go","documents":["a","b","c"],"top_n":2}`)
	check("cohere", obj(t, string(body))["results"].([]any), "relevance_score", 2)
	_, body = post(t, srv.URL()+"/rerank", `{"query":"what is go","texts":["a","b","c"],"return_text":true}`)
	var tei []any
	if err := json.Unmarshal(body, &tei); err != nil {
		t.Fatalf("TEI answers a bare list: %v: %s", err, body)
	}
	check("tei", tei, "score", 3)
	if path(tei[0], "text") == nil {
		t.Fatalf("return_text: %s", body)
	}
}

func TestImagesShapes(t *testing.T) {
	srv := start(t, Config{Fast: true})
	_, body := post(t, srv.URL()+"/v1/images/generations", `{"model":"gpt-image-1","prompt":"a cat","n":2,"size":"1024x1024"}`)
	m := obj(t, string(body))
	data := m["data"].([]any)
	if len(data) != 2 || m["size"] != "1024x1024" || num(path(m, "usage", "output_tokens")) != 2*imageTokens {
		t.Fatalf("body %.300s", body)
	}
	raw, err := base64.StdEncoding.DecodeString(str(path(data[0], "b64_json")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
		t.Fatalf("b64_json is not a PNG: %v", err)
	}
	_, body = post(t, srv.URL()+"/v1/images/generations", `{"model":"gpt-image-1","prompt":"a cat","stream":true,"partial_images":2}`)
	evs := parseSSE(t, body)
	if len(evs) != 3 || evs[2].name != "image_generation.completed" {
		t.Fatalf("want 2 partial images and completed, got %d events", len(evs))
	}
	for i, ev := range evs {
		m := obj(t, ev.data)
		if m["type"] != ev.name || str(m["b64_json"]) == "" {
			t.Fatalf("event %d: %.200s", i, ev.data)
		}
		if i < 2 && num(m["partial_image_index"]) != i {
			t.Fatalf("partial_image_index %v", m["partial_image_index"])
		}
	}
	_, body = post(t, srv.URL()+"/v1/images/generations", `{"prompt":"a cat","response_format":"url"}`)
	if u := str(path(obj(t, string(body)), "data", 0, "url")); !strings.HasPrefix(u, "data:image/png;base64,") {
		t.Fatalf("url format: %s", body)
	}
}

func TestSolidoShape(t *testing.T) {
	srv := start(t, Config{Fast: true})
	_, body := post(t, srv.URL()+"/rag/api/prompt", `{"query":["What is SDE?"],"filters":{"family":"Solido","tool":"SDE"},"inference_model":"llama"}`)
	m := obj(t, string(body))
	if str(m["content"]) == "" || len(m["sources"].([]any)) != 3 || path(m, "filters", "tool") != "SDE" || m["inference_model"] != "llama" {
		t.Fatalf("body %s", body)
	}
}

func TestModelsHealthMetrics(t *testing.T) {
	srv := start(t, Config{Fast: true, Models: []string{"a", "b"}})
	post(t, srv.URL()+"/v1/chat/completions", `{"model":"c","messages":[{"role":"user","content":"x"}],"max_tokens":2}`)
	_, body := get(t, srv.URL()+"/v1/models")
	m := obj(t, string(body))
	var ids []string
	for _, d := range m["data"].([]any) {
		ids = append(ids, str(path(d, "id")))
		if path(d, "object") != "model" {
			t.Fatalf("model entry %v", d)
		}
	}
	if strings.Join(ids, ",") != "a,b,c" {
		t.Fatalf("models %v, want configured then seen", ids)
	}
	resp, body := get(t, srv.URL()+"/health")
	if resp.StatusCode != 200 || obj(t, string(body))["status"] != "healthy" {
		t.Fatalf("health %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, srv.URL()+"/metrics")
	text := string(body)
	for _, want := range []string{
		"# TYPE loadstar_mock_requests_total counter",
		`loadstar_mock_requests_total{path="/v1/chat/completions"} 1`,
		`loadstar_mock_requests_total{path="/v1/models"} 1`,
		`loadstar_mock_responses_total{code="200"} 3`,
		"loadstar_mock_completion_tokens_total 2",
	} {
		if !strings.Contains(text, want) {
			t.Fatalf("metrics lack %q:\n%s", want, text)
		}
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("metrics content type %q", resp.Header.Get("Content-Type"))
	}
}

func TestClientErrors(t *testing.T) {
	srv := start(t, Config{Fast: true})
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/v1/nope", `{}`, 404, "/v1/nope is not served"},
		{"GET", "/v1/chat/completions", ``, 405, "method GET is not allowed"},
		{"POST", "/v1/chat/completions", `{"model":"m","messages":[`, 400, "not valid JSON"},
		{"POST", "/v1/chat/completions", `{"model":"m","messages":"hi"}`, 400, `field \"messages\": expected an array, got string`},
		{"POST", "/v1/chat/completions", `{"model":"m","messages":[]}`, 400, `non-empty array of messages`},
		{"POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":"ten"}`, 400, `field \"max_tokens\": expected an integer`},
		{"POST", "/v1/completions", `{"model":"m"}`, 400, `field \"prompt\": missing`},
		{"POST", "/v1/embeddings", `{"model":"m","input":[]}`, 400, `non-empty array`},
		{"POST", "/v1/ranking", `{"model":"m","passages":[{"text":"a"}]}`, 400, `field \"query\": missing`},
		{"POST", "/v1/messages", `{"model":"m","messages":[{"role":"user","content":5}],"max_tokens":2}`, 400, `messages[0].content`},
		{"POST", "/v1/chat/completions", ``, 400, "request body is empty"},
	} {
		var status int
		var body []byte
		if tc.method == "GET" {
			resp, b := get(t, srv.URL()+tc.path)
			status, body = resp.StatusCode, b
		} else {
			resp, b := post(t, srv.URL()+tc.path, tc.body)
			status, body = resp.StatusCode, b
		}
		if status != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s %s %s: %d %s; want %d containing %q", tc.method, tc.path, tc.body, status, body, tc.status, tc.want)
		}
	}
	_, body := post(t, srv.URL()+"/v1/messages", `{"model":"m","messages":"x"}`)
	if m := obj(t, string(body)); m["type"] != "error" || path(m, "error", "type") != "invalid_request_error" {
		t.Errorf("Anthropic error shape: %s", body)
	}
	_, body = post(t, srv.URL()+"/generate", `{"inputs":5}`)
	if m := obj(t, string(body)); m["error_type"] != "validation" {
		t.Errorf("TGI error shape: %s", body)
	}
}

// Image edits are multipart uploads of a prompt and an image, answered as
// image generations; a JSON body or a missing image is a 400.
func TestImageEditShape(t *testing.T) {
	srv := start(t, Config{Fast: true})
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("prompt", "make it blue")
	_ = w.WriteField("model", "flux")
	_ = w.WriteField("n", "2")
	part, _ := w.CreateFormFile("image", "in.png")
	part.Write([]byte("\x89PNG\r\n\x1a\nfake"))
	w.Close()
	resp, body := post(t, srv.URL()+"/v1/images/edits", buf.String(), "Content-Type", w.FormDataContentType())
	m := obj(t, string(body))
	if resp.StatusCode != 200 || len(m["data"].([]any)) != 2 || str(path(m, "data", 0, "b64_json")) == "" {
		t.Fatalf("status %d body %.300s", resp.StatusCode, body)
	}
	resp, body = post(t, srv.URL()+"/v1/images/edits", `{"prompt":"x"}`)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "multipart/form-data") {
		t.Fatalf("JSON body: %d %s", resp.StatusCode, body)
	}
	buf.Reset()
	w = multipart.NewWriter(&buf)
	_ = w.WriteField("prompt", "make it blue")
	w.Close()
	resp, body = post(t, srv.URL()+"/v1/images/edits", buf.String(), "Content-Type", w.FormDataContentType())
	if resp.StatusCode != 400 || !strings.Contains(string(body), `field \"image\"`) {
		t.Fatalf("no image: %d %s", resp.StatusCode, body)
	}
}
