package endpoint

import (
	"testing"

	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
)

var mArgs = plugin.Args{"model": []string{"m"}}

func chunk(delta string) string {
	return `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":` + delta + `,"finish_reason":null}]}`
}

func TestChatStreamReasoningAndToolCalls(t *testing.T) {
	p := newEndpoint(t, "chat", mArgs).NewParser()
	body := sseBody(
		chunk(`{"role":"assistant","content":null,"reasoning_content":null}`),
		chunk(`{"reasoning_content":"Let me"}`),
		chunk(`{"reasoning_content":"","reasoning":" think"}`), // empty falls through to `reasoning`
		chunk(`{"reasoning_content":"done.","content":"Hi"}`),  // reasoning with content
		chunk(`{"content":" there"}`),
		chunk(`{"content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}`),
		chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}`),
		chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}},{"index":1,"function":{"name":"f2","arguments":{"a":1}}}]}`),
		chunk(`{"content":"","tool_calls":[]}`),
		`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":12,"total_tokens":22,"completion_tokens_details":{"reasoning_tokens":4}}}`,
		"[DONE]",
	)
	rec := feedSSE(p, body, 13)
	checkNoError(t, rec)
	checkEvents(t, rec,
		"reasoning:Let me|", "reasoning: think|", "reasoning:done.|Hi", "text: there",
		"tool:get_weather", `tool:{"city":`, `tool:"Paris"}f2{"a":1}`, "usage")
	if string(rec.Reasoning) != "Let me thinkdone." {
		t.Errorf("reasoning %q", rec.Reasoning)
	}
	if string(rec.Output) != `Hi thereget_weather{"city":"Paris"}f2{"a":1}` {
		t.Errorf("output %q", rec.Output)
	}
	if rec.Usage != usage(10, 12, 22, 4, -1, -1, -1) {
		t.Errorf("usage %+v", rec.Usage)
	}
	// Every content response carries the time of the read that completed it.
	for _, r := range rec.Responses {
		if r.PerfNs <= 0 {
			t.Errorf("response without time: %+v", r)
		}
	}
}

func TestChatPerChunkUsageParse(t *testing.T) {
	p := newEndpoint(t, "chat", mArgs).NewParser()
	u := func(n int) string {
		return `,"usage":{"prompt_tokens":5,"completion_tokens":` + string(rune('0'+n)) + `,"total_tokens":` + string(rune('5'+n)) + `}}`
	}
	c := func(content string, n int) string {
		return `{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"` + content + `"}}]` + u(n)
	}
	rec := feedSSE(p, sseBody(c("ab", 2), c("c", 3), c("d", 4),
		`{"object":"chat.completion.chunk","choices":[]`+u(4), "[DONE]"), 0)
	checkEvents(t, rec, "text:ab", "text:c", "text:d", "usage")
	if rec.Usage != usage(5, 4, 9, -1, -1, -1, 2) {
		t.Errorf("usage %+v (FirstContentChunkTokens must be the first content chunk's count)", rec.Usage)
	}
}

func TestChatBodies(t *testing.T) {
	p := newEndpoint(t, "chat", mArgs).NewParser()
	rec := record.New()
	p.Body("application/json; charset=utf-8", []byte(`{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"The answer.","reasoning_content":"Because."},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":7,"total_tokens":10}}`), 99, rec)
	checkEvents(t, rec, "reasoning:Because.|The answer.")
	if rec.Responses[0].PerfNs != 99 || rec.Usage.CompletionTokens != 7 {
		t.Errorf("perf %d usage %+v", rec.Responses[0].PerfNs, rec.Usage)
	}
	// A chunk object in a whole body reads its delta; other objects nothing.
	rec = record.New()
	p.Body("application/json", []byte(chunk(`{"content":"x"}`)), 1, rec)
	checkEvents(t, rec, "text:x")
	rec = record.New()
	p.Body("application/json", []byte(`{"object":"list","choices":[{"message":{"content":"no"}}]}`), 1, rec)
	checkEvents(t, rec)
	// A missing object is tolerated.
	rec = record.New()
	p.Body("application/json", []byte(`{"choices":[{"message":{"content":"yes"}}]}`), 1, rec)
	checkEvents(t, rec, "text:yes")
	// A stream delivered as a whole body (server streamed anyway).
	rec = record.New()
	p.Body("text/event-stream", sseBody(chunk(`{"content":"a"}`), chunk(`{"content":"b"}`), "[DONE]"), 7, rec)
	checkEvents(t, rec, "text:a", "text:b")
	// Content as a list of parts.
	rec = record.New()
	p.Body("application/json", []byte(`{"object":"chat.completion","choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"image_url"},{"type":"text","text":"b"}]}}]}`), 1, rec)
	checkEvents(t, rec, "text:ab")
	// Not JSON, empty, null, trailing garbage: nothing, no error.
	for _, b := range []string{"", "null", "<html>oops</html>", `{"choices":[{"message":{"content":"trunc`,
		`{"choices":[{"message":{"content":"x"}}]} trailing`} {
		rec = record.New()
		p.Body("application/json", []byte(b), 1, rec)
		checkEvents(t, rec)
		checkNoError(t, rec)
	}
}

func TestStreamErrors(t *testing.T) {
	cases := []struct {
		name  string
		body  []byte
		code  int
		msg   string
		after []string
	}{
		{"event error with comment", sseBody(chunk(`{"content":"a"}`), "event: error\n: model overloaded\ndata: {\"x\":1}"), 502, "model overloaded", []string{"text:a"}},
		{"event error with data message", sseBody("event: error\ndata: {\"error\":{\"message\":\"boom\",\"code\":503}}"), 502, "boom", nil},
		{"bare event error", sseBody("event: error"), 502, unknownSSEError, nil},
		{"event error in capitals", sseBody(": overloaded\nEVENT: Error"), 502, "overloaded", nil},
		{"error payload 429", sseBody(chunk(`{"content":"a"}`), `{"error":{"message":"Rate limited","type":"rate_limit","code":429}}`, chunk(`{"content":"b"}`)), 429, "Rate limited", []string{"text:a", "text:b"}},
		{"error code not int", sseBody(`{"error":{"message":"bad","code":"invalid_request"}}`), 502, "bad", nil},
		{"error code out of range", sseBody(`{"error":{"message":"odd","code":200}}`), 502, "odd", nil},
		{"error string", sseBody(`{"error":"Input validation error: inputs too long"}`), 502, "Input validation error: inputs too long", nil},
		{"error object without message", sseBody(`{"error":{"code":500}}`), 500, `{"code":500}`, nil},
		{"first error wins", sseBody(`{"error":"first"}`, `{"error":"second"}`), 502, "first", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := feedSSE(newEndpoint(t, "chat", mArgs).NewParser(), c.body, 0)
			checkError(t, rec, c.code, record.ErrSSE, c.msg)
			checkEvents(t, rec, c.after...)
		})
	}
	// Falsy error members are not errors.
	for _, v := range []string{`null`, `false`, `""`, `{}`, `[]`, `0`} {
		rec := feedSSE(newEndpoint(t, "chat", mArgs).NewParser(), sseBody(`{"object":"chat.completion.chunk","error":`+v+`,"choices":[{"delta":{"content":"ok"}}]}`), 0)
		checkNoError(t, rec)
		checkEvents(t, rec, "text:ok")
	}
}

func TestCompletionsParse(t *testing.T) {
	p := newEndpoint(t, "completions", mArgs).NewParser()
	rec := feedSSE(p, sseBody(
		`{"object":"text_completion","choices":[{"text":"a"}]}`,
		`{"object":"completion","choices":[{"text":"b\u00e9"}]}`,
		`{"choices":[{"text":"c"}]}`,
		`{"object":"chat.completion.chunk","choices":[{"text":"no"}]}`,
		`{"object":"text_completion","choices":[{"text":""}],"usage":{"prompt_tokens":1,"completion_tokens":3}}`,
		"[DONE]"), 0)
	checkEvents(t, rec, "text:a", "text:bé", "text:c", "usage")
	if rec.Usage != usage(1, 3, -1, -1, -1, -1, -1) {
		t.Errorf("usage %+v", rec.Usage)
	}
}

func TestTGIParse(t *testing.T) {
	p := newEndpoint(t, "huggingface_generate", nil).NewParser()
	// TGI streams tokens and ends without [DONE]; generated_text repeats
	// the whole answer on the last event and must not be counted.
	rec := feedSSE(p, []byte(
		"data:{\"index\":1,\"token\":{\"id\":22557,\"text\":\"Hello\",\"logprob\":-0.1,\"special\":false},\"generated_text\":null,\"details\":null}\n\n"+
			"data:{\"index\":2,\"token\":{\"id\":1917,\"text\":\" world\",\"logprob\":-0.2,\"special\":false},\"generated_text\":null,\"details\":null}\n\n"+
			"data:{\"index\":3,\"token\":{\"id\":0,\"text\":\"\",\"logprob\":0,\"special\":true},\"generated_text\":null,\"details\":null}\n\n"+
			"data:{\"index\":4,\"token\":{\"id\":2,\"text\":\"</s>\",\"logprob\":-0.3,\"special\":true},\"generated_text\":\"Hello world\",\"details\":{\"finish_reason\":\"eos_token\",\"generated_tokens\":3}}\n\n"), 5)
	checkNoError(t, rec)
	checkEvents(t, rec, "text:Hello", "text: world", "text:</s>")

	rec = feedSSE(p, sseBody(`{"error":"Request failed during generation: Server error: CUDA OOM","error_type":"generation"}`), 0)
	checkError(t, rec, 502, record.ErrSSE, "Request failed during generation: Server error: CUDA OOM")

	for _, body := range []string{`{"generated_text":"Hello world"}`, ` [{"generated_text":"Hello world"}]`} {
		rec = record.New()
		p.Body("application/json", []byte(body), 3, rec)
		checkEvents(t, rec, "text:Hello world")
	}
	rec = record.New()
	p.Body("application/json", []byte(`{"error":"Input validation error","error_type":"validation"}`), 3, rec)
	checkError(t, rec, 502, errAPI, "Input validation error")
}

func TestEmbeddingsParse(t *testing.T) {
	p := newEndpoint(t, "nim_embeddings", mArgs).NewParser()
	rec := record.New()
	p.Body("application/json", []byte(`{"object":"list","data":[{"object":"embedding","embedding":[0.1],"index":0}],"model":"m","usage":{"prompt_tokens":4,"total_tokens":4}}`), 1, rec)
	checkEvents(t, rec, "embeddings:1")
	rec = record.New()
	p.Body("application/json", []byte(`{"data":[]}`), 1, rec)
	checkEvents(t, rec)
	checkNoError(t, rec)
	rec = record.New()
	p.Body("application/json", []byte(`{"data":[{"object":"embedding"},{"object":"other"}]}`), 1, rec)
	checkError(t, rec, 0, record.ErrParse, "embeddings response: data[1] is not an embedding object")
	checkEvents(t, rec)
}

func TestRankingsParse(t *testing.T) {
	cases := []struct {
		endpoint, body string
		want           []string
		prompt         int64
	}{
		{"nim_rankings", `{"rankings":[{"index":1,"logit":2.5},{"index":0,"logit":-1.0}]}`, []string{"rankings:2"}, -1},
		{"nim_rankings", `{"rankings":[]}`, nil, -1},
		{"cohere_rankings", `{"id":"r","results":[{"index":1,"relevance_score":0.9},3,{"index":0,"relevance_score":0.1}],"meta":{"api_version":{"version":"2"},"billed_units":{"search_units":1},"tokens":{"input_tokens":12,"output_tokens":0}}}`, []string{"rankings:2"}, 12},
		{"hf_tei_rankings", `[{"index":0,"score":0.99},{"index":1,"score":0.01},{"index":2,"score":0.5}]`, []string{"rankings:3"}, -1},
		{"hf_tei_rankings", `{"results":[{"index":0,"score":0.99}]}`, []string{"rankings:1"}, -1},
		{"hf_tei_rankings", `[]`, nil, -1},
		{"cohere_rankings", `[{"index":0}]`, nil, -1},
	}
	for _, c := range cases {
		rec := record.New()
		newEndpoint(t, c.endpoint, mArgs).NewParser().Body("application/json", []byte(c.body), 1, rec)
		checkNoError(t, rec)
		checkEvents(t, rec, c.want...)
		if rec.Usage.PromptTokens != c.prompt {
			t.Errorf("%s %s: prompt tokens %d, want %d", c.endpoint, c.body, rec.Usage.PromptTokens, c.prompt)
		}
	}
}

func TestImageParse(t *testing.T) {
	p := newEndpoint(t, "image_generation", mArgs).NewParser()
	rec := feedSSE(p, sseBody(
		"event: image_generation.partial_image\ndata: {\"type\":\"image_generation.partial_image\",\"b64_json\":\"iVBORw0KGgo=\",\"partial_image_index\":0}",
		"event: image_generation.completed\ndata: {\"type\":\"image_generation.completed\",\"b64_json\":\"iVBORw0KGgoAAA=\",\"usage\":{\"input_tokens\":50,\"output_tokens\":4160,\"total_tokens\":4210}}",
	), 0)
	checkEvents(t, rec, "images:1", "images:1")
	if rec.Usage != usage(50, 4160, 4210, -1, -1, -1, 4160) {
		t.Errorf("usage %+v", rec.Usage)
	}
	rec = record.New()
	p.Body("application/json", []byte(`{"created":1,"data":[{"b64_json":"AAA="},{"url":"https://x/y.png","revised_prompt":"a cat"}]}`), 1, rec)
	checkEvents(t, rec, "images:2")
}

func TestSolidoParse(t *testing.T) {
	rec := record.New()
	newEndpoint(t, "solido_rag", mArgs).NewParser().Body("application/json",
		[]byte(`{"content":"Use the SDE tool.","sources":[{"title":"doc1"}]}`), 1, rec)
	checkEvents(t, rec, "text:Use the SDE tool.")
}

func TestResponsesStream(t *testing.T) {
	ev := func(typ, data string) string { return "event: " + typ + "\ndata: " + data }
	body := sseBody(
		ev("response.created", `{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[],"usage":null}}`),
		ev("response.in_progress", `{"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_1","status":"in_progress"}}`),
		ev("response.output_item.added", `{"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[]}}`),
		ev("response.reasoning_summary_text.delta", `{"type":"response.reasoning_summary_text.delta","sequence_number":3,"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"Thinking"}`),
		ev("response.reasoning_text.delta", `{"type":"response.reasoning_text.delta","sequence_number":4,"item_id":"rs_1","output_index":0,"content_index":0,"delta":" hard"}`),
		ev("response.output_item.added", `{"type":"response.output_item.added","sequence_number":5,"output_index":1,"item":{"id":"msg_1","type":"message","role":"assistant","content":[]}}`),
		ev("response.content_part.added", `{"type":"response.content_part.added","sequence_number":6,"item_id":"msg_1","output_index":1,"content_index":0,"part":{"type":"output_text","text":""}}`),
		ev("response.output_text.delta", `{"type":"response.output_text.delta","sequence_number":7,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"Hello"}`),
		ev("response.output_text.delta", `{"type":"response.output_text.delta","sequence_number":8,"item_id":"msg_1","output_index":1,"content_index":0,"delta":" world"}`),
		ev("response.output_text.done", `{"type":"response.output_text.done","sequence_number":9,"item_id":"msg_1","output_index":1,"content_index":0,"text":"Hello world"}`),
		// A part that was never streamed as deltas: its done text counts.
		ev("response.output_text.done", `{"type":"response.output_text.done","sequence_number":10,"item_id":"msg_1","output_index":1,"content_index":1,"text":"Extra"}`),
		ev("response.output_item.added", `{"type":"response.output_item.added","sequence_number":11,"output_index":2,"item":{"id":"fc_1","type":"function_call","name":"get_weather","arguments":""}}`),
		ev("response.function_call_arguments.delta", `{"type":"response.function_call_arguments.delta","sequence_number":12,"item_id":"fc_1","output_index":2,"delta":"{\"city\":"}`),
		ev("response.function_call_arguments.delta", `{"type":"response.function_call_arguments.delta","sequence_number":13,"item_id":"fc_1","output_index":2,"delta":"\"Paris\"}"}`),
		ev("response.function_call_arguments.done", `{"type":"response.function_call_arguments.done","sequence_number":14,"item_id":"fc_1","output_index":2,"arguments":"{\"city\":\"Paris\"}"}`),
		ev("response.completed", `{"type":"response.completed","sequence_number":15,"response":{"id":"resp_1","object":"response","status":"completed","usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":2},"output_tokens":20,"output_tokens_details":{"reasoning_tokens":5},"total_tokens":30}}}`),
	)
	rec := feedSSE(newEndpoint(t, "responses", mArgs).NewParser(), body, 50)
	checkNoError(t, rec)
	checkEvents(t, rec, "reasoning:Thinking|", "reasoning: hard|", "text:Hello", "text: world", "placeholder",
		"text:Extra", `tool:{"city":`, `tool:"Paris"}`, "usage")
	if rec.Usage != usage(10, 20, 30, 5, 2, -1, -1) {
		t.Errorf("usage %+v", rec.Usage)
	}
	// Placeholders count as content but carry no text.
	if ph := rec.Responses[4]; !ph.Kind.IsContent() || ph.HasOutputText() {
		t.Errorf("placeholder %+v", ph)
	}

	rec = feedSSE(newEndpoint(t, "responses", mArgs).NewParser(), sseBody(
		ev("error", `{"type":"error","code":"server_error","message":"The server had an error","param":null,"sequence_number":3}`)), 0)
	// `event: error` without a comment takes the message from the data.
	checkError(t, rec, 502, record.ErrSSE, "The server had an error")
	rec = feedSSE(newEndpoint(t, "responses", mArgs).NewParser(), sseBody(
		`{"type":"error","code":"rate_limit_exceeded","message":"Slow down"}`), 0)
	checkError(t, rec, 502, record.ErrSSE, "Slow down")
	rec = feedSSE(newEndpoint(t, "responses", mArgs).NewParser(), sseBody(
		ev("response.failed", `{"type":"response.failed","response":{"id":"r","status":"failed","error":{"code":"server_error","message":"model crashed"}}}`)), 0)
	checkError(t, rec, 502, record.ErrSSE, "model crashed")
}

func TestResponsesBody(t *testing.T) {
	p := newEndpoint(t, "responses", mArgs).NewParser()
	rec := record.New()
	p.Body("application/json", []byte(`{"id":"resp_1","object":"response","status":"completed","error":null,
		"output":[{"type":"reasoning","id":"rs","summary":[{"type":"summary_text","text":"Plan."}]},
		{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hi ","annotations":[]},{"type":"refusal","refusal":"no"},{"type":"output_text","text":"there"}]},
		{"type":"function_call","name":"f","arguments":"{}","call_id":"c"}],
		"usage":{"input_tokens":3,"output_tokens":9,"total_tokens":12}}`), 4, rec)
	checkNoError(t, rec)
	checkEvents(t, rec, "reasoning:Plan.|Hi theref{}")
	if rec.Usage != usage(3, 9, 12, -1, -1, -1, 9) {
		t.Errorf("usage %+v", rec.Usage)
	}
	rec = record.New()
	p.Body("application/json", []byte(`{"object":"response","output":[],"output_text":"fallback"}`), 4, rec)
	checkEvents(t, rec, "text:fallback")
	rec = record.New()
	p.Body("application/json", []byte(`{"object":"response","output":[{"type":"function_call","name":"g","arguments":"{\"x\":1}"}]}`), 4, rec)
	checkEvents(t, rec, `tool:g{"x":1}`)
}

func TestMessagesStream(t *testing.T) {
	ev := func(typ, data string) string { return "event: " + typ + "\ndata: " + data }
	body := sseBody(
		ev("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":5,"output_tokens":1}}}`),
		ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`),
		ev("ping", `{"type": "ping"}`),
		ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me see"}}`),
		ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}`),
		ev("content_block_stop", `{"type":"content_block_stop","index":0}`),
		ev("content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`),
		ev("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hello"}}`),
		ev("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"!\n"}}`),
		ev("content_block_stop", `{"type":"content_block_stop","index":1}`),
		ev("content_block_start", `{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}`),
		ev("content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Paris\"}"}}`),
		ev("content_block_stop", `{"type":"content_block_stop","index":2}`),
		ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":15}}`),
		ev("message_stop", `{"type":"message_stop"}`),
	)
	rec := feedSSE(newEndpoint(t, "messages", mArgs).NewParser(), body, 33)
	checkNoError(t, rec)
	checkEvents(t, rec, "usage", "reasoning:Let me see|", "text:Hello", "text:!\n", `tool:{"city": "Paris"}`, "usage")
	// message_delta reports only output tokens: the input side is kept from
	// message_start (25 + 5 cache read + 0 cache creation).
	if rec.Usage != usage(30, 15, -1, -1, 5, 0, -1) {
		t.Errorf("usage %+v", rec.Usage)
	}
	rec = feedSSE(newEndpoint(t, "messages", mArgs).NewParser(), sseBody(
		ev("error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)), 0)
	checkError(t, rec, 502, record.ErrSSE, "Overloaded")
}

func TestMessagesBody(t *testing.T) {
	rec := record.New()
	newEndpoint(t, "messages", mArgs).NewParser().Body("application/json", []byte(`{"id":"msg_1","type":"message","role":"assistant","model":"claude",
		"content":[{"type":"thinking","thinking":"Hmm.","signature":"x"},{"type":"text","text":"Sure."},{"type":"tool_use","id":"t","name":"calc","input":{"a": 1}}],
		"stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":6}}`), 2, rec)
	checkNoError(t, rec)
	checkEvents(t, rec, `reasoning:Hmm.|Sure.calc{"a": 1}`)
	if rec.Usage != usage(10, 6, -1, -1, -1, -1, 6) {
		t.Errorf("usage %+v", rec.Usage)
	}
	rec = record.New()
	newEndpoint(t, "messages", mArgs).NewParser().Body("application/json",
		[]byte(`{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: must be >= 1"}}`), 2, rec)
	checkError(t, rec, 502, errAPI, "max_tokens: must be >= 1")
}
