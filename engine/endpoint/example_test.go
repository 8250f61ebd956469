package endpoint_test

import (
	"fmt"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// The path of one request through an endpoint, as the runner drives it:
// build the plugin, format the body, read the streamed answer.
func Example() {
	v, err := endpoint.Classes()["Chat"].Build("endpoint.chat", plugin.Args{
		"url": []string{"localhost:8000/v1"}, "model": []string{"llama"}, "streaming": true,
	})
	if err != nil {
		panic(err)
	}
	ep := v.(endpoint.Endpoint)
	settings := v.(endpoint.Configured).Settings()

	turn := dataset.NewTurn()
	turn.Texts = []dataset.Named{{Contents: []string{"Say hi"}}}
	turn.MaxTokens = 8
	body, _ := ep.FormatPayload(&endpoint.Request{Turns: []dataset.Turn{turn}})
	fmt.Println(settings.URLs[0])
	fmt.Println(string(body))

	rec := record.New()
	parser := ep.NewParser()
	var r sse.Reader
	r.Feed([]byte(`data: {"object":"chat.completion.chunk","choices":[{"delta":{"role":"assistant","content":null}}]}

data: {"object":"chat.completion.chunk","choices":[{"delta":{"content":"Hi"}}]}

data: {"object":"chat.completion.chunk","choices":[{"delta":{"content":" there"}}]}

data: {"object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}

data: [DONE]

`), 1_000_000, func(m *sse.Message) { parser.Message(m, rec) })
	fmt.Printf("%q, %d responses, %d completion tokens\n", rec.Output, len(rec.Responses), rec.Usage.CompletionTokens)
	// Output:
	// http://localhost:8000/v1/chat/completions
	// {"messages":[{"role":"user","content":"Say hi"}],"model":"llama","stream":true,"max_completion_tokens":8,"stream_options":{"include_usage":true}}
	// "Hi there", 3 responses, 2 completion tokens
}

// A JSON template: placeholders standing as values become JSON values,
// placeholders inside a string are spliced in escaped.
func ExampleTemplate() {
	v, _ := endpoint.Classes()["Template"].Build("endpoint.template", plugin.Args{
		"url":            []string{"http://10.0.0.5:9000/infer"},
		"model":          []string{"m"},
		"body":           `{"model": {{model}}, "prompt": "Q: {{text}}", "inputs": {{texts}}, "max": {{max_tokens}}}`,
		"response_field": "outputs[0].text",
	})
	ep := v.(endpoint.Endpoint)
	turn := dataset.NewTurn()
	turn.Texts = []dataset.Named{{Contents: []string{`say "hi"`, "second"}}}
	body, _ := ep.FormatPayload(&endpoint.Request{Turns: []dataset.Turn{turn}})
	fmt.Println(v.(endpoint.Configured).Settings().URLs[0])
	fmt.Println(string(body))

	rec := record.New()
	ep.NewParser().Body("application/json", []byte(`{"outputs":[{"text":"hi!"}]}`), 1, rec)
	fmt.Printf("%q\n", rec.Output)
	// Output:
	// http://10.0.0.5:9000/infer
	// {"model":"m","prompt":"Q: say \"hi\"","inputs":["say \"hi\"","second"],"max":null}
	// "hi!"
}

// ErrorFromStatus turns a non-2xx answer into the record's error, reading
// the API's own message when the body is an error JSON.
func ExampleErrorFromStatus() {
	e := endpoint.ErrorFromStatus(429, "", []byte(`{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`))
	fmt.Printf("%d | %s | %s\n", e.Code, e.Type, e.Message)
	e = endpoint.ErrorFromStatus(502, "Bad Gateway", []byte("<html>upstream down</html>\n"))
	fmt.Printf("%d | %s | %s\n", e.Code, e.Type, e.Message)
	// Output:
	// 429 | Too Many Requests | Rate limit reached
	// 502 | Bad Gateway | <html>upstream down</html>
}
