package mock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"reflect"
	"strconv"
	"strings"
)

// input is what the mock needs from a request body, whatever its API.
type input struct {
	model           string
	stream          bool
	includeUsage    bool
	continuousUsage bool
	maxTokens       int // -1: none requested
	minTokens       int // -1: none requested
	ignoreEOS       bool
	effort          string // reasoning effort, "" when not given
	thinking        bool   // Anthropic thinking enabled
	thinkingBudget  int    // Anthropic thinking budget, -1 when not given
	details         bool   // TGI parameters.details
	text            []byte // the prompt text: counted, hashed
	promptTokens    int    // -1: count text; else given token ids
	// embeddings
	inputs     []string
	dimensions int
	base64     bool
	// rankings
	query      string
	passages   []string
	topN       int
	returnText bool
	// images
	n             int
	urlFormat     bool
	partialImages int
	size, quality string
	// solido
	filters json.RawMessage
	// contentType is the request's Content-Type (multipart bodies need
	// its boundary).
	contentType string
}

func (in *input) reset() {
	*in = input{text: in.text[:0], inputs: in.inputs[:0], passages: in.passages[:0], contentType: in.contentType,
		maxTokens: -1, minTokens: -1, thinkingBudget: -1, promptTokens: -1}
}

// badRequest is a client error answered with HTTP 400.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error {
	return &badRequest{msg: fmt.Sprintf(format, args...)}
}

// decode unmarshals body into v, describing errors in the request's terms.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badf("request body is empty (expected a JSON object)")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return badf("request body: expected %s, got %s", kindOf(te.Type), te.Value)
			}
			return badf("field %q: expected %s, got %s", te.Field, kindOf(te.Type), te.Value)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return badf("request body is not valid JSON at byte %d: %v", se.Offset, se)
		}
		return badf("request body: %v", err)
	}
	return nil
}

func kindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Name() == "RawMessage" {
			return "a JSON value"
		}
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Float64, reflect.Float32:
		return "a number"
	}
	return t.String()
}

type streamOptions struct {
	IncludeUsage         bool `json:"include_usage"`
	ContinuousUsageStats bool `json:"continuous_usage_stats"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type chatRequest struct {
	Model               string         `json:"model"`
	Messages            []chatMessage  `json:"messages"`
	Stream              bool           `json:"stream"`
	StreamOptions       *streamOptions `json:"stream_options"`
	MaxTokens           *int           `json:"max_tokens"`
	MaxCompletionTokens *int           `json:"max_completion_tokens"`
	MinTokens           *int           `json:"min_tokens"`
	IgnoreEOS           bool           `json:"ignore_eos"`
	ReasoningEffort     string         `json:"reasoning_effort"`
}

type completionRequest struct {
	Model         string          `json:"model"`
	Prompt        json.RawMessage `json:"prompt"`
	Stream        bool            `json:"stream"`
	StreamOptions *streamOptions  `json:"stream_options"`
	MaxTokens     *int            `json:"max_tokens"`
	MinTokens     *int            `json:"min_tokens"`
	IgnoreEOS     bool            `json:"ignore_eos"`
}

type tgiRequest struct {
	Model      string          `json:"model"`
	Inputs     json.RawMessage `json:"inputs"`
	Stream     bool            `json:"stream"`
	Parameters struct {
		MaxNewTokens *int `json:"max_new_tokens"`
		MinTokens    *int `json:"min_new_tokens"`
		IgnoreEOS    bool `json:"ignore_eos"`
		Details      bool `json:"details"`
	} `json:"parameters"`
}

type messagesRequest struct {
	Model     string          `json:"model"`
	Messages  []chatMessage   `json:"messages"`
	System    json.RawMessage `json:"system"`
	MaxTokens *int            `json:"max_tokens"`
	Stream    bool            `json:"stream"`
	Thinking  *struct {
		Type         string `json:"type"`
		BudgetTokens *int   `json:"budget_tokens"`
	} `json:"thinking"`
}

type responsesRequest struct {
	Model           string          `json:"model"`
	Input           json.RawMessage `json:"input"`
	Instructions    string          `json:"instructions"`
	MaxOutputTokens *int            `json:"max_output_tokens"`
	Stream          bool            `json:"stream"`
	Reasoning       *struct {
		Effort string `json:"effort"`
	} `json:"reasoning"`
}

type solidoRequest struct {
	Query          json.RawMessage `json:"query"`
	Filters        json.RawMessage `json:"filters"`
	InferenceModel string          `json:"inference_model"`
	Model          string          `json:"model"`
}

type embeddingsRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     int             `json:"dimensions"`
}

type rankingRequest struct {
	Model      string                  `json:"model"`
	Query      json.RawMessage         `json:"query"`
	Passages   []struct{ Text string } `json:"passages"`  // NIM
	Documents  json.RawMessage         `json:"documents"` // Cohere
	Texts      []string                `json:"texts"`     // TEI
	TopN       int                     `json:"top_n"`
	ReturnText bool                    `json:"return_text"`
}

type imagesRequest struct {
	Model          string `json:"model"`
	Prompt         string `json:"prompt"`
	N              *int   `json:"n"`
	ResponseFormat string `json:"response_format"`
	Stream         bool   `json:"stream"`
	PartialImages  int    `json:"partial_images"`
	Size           string `json:"size"`
	Quality        string `json:"quality"`
}

// parse fills in from body for API a.
func (in *input) parse(a api, body []byte) error {
	if err := apis[a].parse(in, body); err != nil {
		return err
	}
	if in.maxTokens < -1 {
		return badf("maximum output tokens: %d is negative", in.maxTokens)
	}
	return nil
}

func (in *input) parseChat(body []byte) error {
	var r chatRequest
	if err := decode(body, &r); err != nil {
		return err
	}
	if len(r.Messages) == 0 {
		return badf("field \"messages\": expected a non-empty array of messages")
	}
	for i, m := range r.Messages {
		if err := in.appendContent(m.Content, fmt.Sprintf("messages[%d].content", i)); err != nil {
			return err
		}
	}
	in.model, in.stream, in.ignoreEOS, in.effort = r.Model, r.Stream, r.IgnoreEOS, r.ReasoningEffort
	if r.StreamOptions != nil {
		in.includeUsage, in.continuousUsage = r.StreamOptions.IncludeUsage, r.StreamOptions.ContinuousUsageStats
	}
	in.maxTokens = firstInt(r.MaxCompletionTokens, r.MaxTokens)
	in.minTokens = firstInt(r.MinTokens)
	return nil
}

func (in *input) parseCompletion(body []byte) error {
	var r completionRequest
	if err := decode(body, &r); err != nil {
		return err
	}
	if err := in.appendPrompt(r.Prompt, "prompt"); err != nil {
		return err
	}
	in.model, in.stream, in.ignoreEOS = r.Model, r.Stream, r.IgnoreEOS
	if r.StreamOptions != nil {
		in.includeUsage, in.continuousUsage = r.StreamOptions.IncludeUsage, r.StreamOptions.ContinuousUsageStats
	}
	in.maxTokens, in.minTokens = firstInt(r.MaxTokens), firstInt(r.MinTokens)
	return nil
}

func (in *input) parseTGI(body []byte) error {
	var r tgiRequest
	if err := decode(body, &r); err != nil {
		return err
	}
	if err := in.appendPrompt(r.Inputs, "inputs"); err != nil {
		return err
	}
	in.model = r.Model
	in.maxTokens, in.minTokens = firstInt(r.Parameters.MaxNewTokens), firstInt(r.Parameters.MinTokens)
	in.ignoreEOS, in.details = r.Parameters.IgnoreEOS, r.Parameters.Details
	return nil
}

// parseTGIStream reads a /generate_stream request, which always streams.
func (in *input) parseTGIStream(body []byte) error {
	if err := in.parseTGI(body); err != nil {
		return err
	}
	in.stream = true
	return nil
}

func (in *input) parseMessages(body []byte) error {
	var r messagesRequest
	if err := decode(body, &r); err != nil {
		return err
	}
	if len(r.Messages) == 0 {
		return badf("field \"messages\": expected a non-empty array of messages")
	}
	if err := in.appendContent(r.System, "system"); err != nil {
		return err
	}
	for i, m := range r.Messages {
		if err := in.appendContent(m.Content, fmt.Sprintf("messages[%d].content", i)); err != nil {
			return err
		}
	}
	in.model, in.stream, in.maxTokens = r.Model, r.Stream, firstInt(r.MaxTokens)
	if r.Thinking != nil {
		switch r.Thinking.Type {
		case "enabled":
			in.thinking = true
			in.thinkingBudget = firstInt(r.Thinking.BudgetTokens)
		case "disabled":
			in.effort = "none" // even for a reasoning model name
		}
	}
	return nil
}

func (in *input) parseResponses(body []byte) error {
	var r responsesRequest
	if err := decode(body, &r); err != nil {
		return err
	}
	in.appendText(r.Instructions)
	if err := in.appendResponsesInput(r.Input); err != nil {
		return err
	}
	in.model, in.stream, in.maxTokens = r.Model, r.Stream, firstInt(r.MaxOutputTokens)
	if r.Reasoning != nil {
		in.effort = r.Reasoning.Effort
	}
	return nil
}

func (in *input) parseSolido(body []byte) error {
	var r solidoRequest
	if err := decode(body, &r); err != nil {
		return err
	}
	if err := in.appendPrompt(r.Query, "query"); err != nil {
		return err
	}
	in.model, in.filters = r.InferenceModel, r.Filters
	if in.model == "" {
		in.model = r.Model
	}
	return nil
}

func (in *input) parseEmbeddings(body []byte) error {
	var r embeddingsRequest
	if err := decode(body, &r); err != nil {
		return err
	}
	if err := in.parseEmbeddingInput(r.Input); err != nil {
		return err
	}
	if r.Dimensions < 0 || r.Dimensions > 65536 {
		return badf("field \"dimensions\": %d is out of range (expected 1 to 65536)", r.Dimensions)
	}
	switch r.EncodingFormat {
	case "", "float":
	case "base64":
		in.base64 = true
	default:
		return badf("field \"encoding_format\": %q is not supported (expected \"float\" or \"base64\")", r.EncodingFormat)
	}
	in.model, in.dimensions = r.Model, r.Dimensions
	if in.dimensions == 0 {
		in.dimensions = 768
	}
	return nil
}

func (in *input) parseImages(body []byte) error {
	var r imagesRequest
	if err := decode(body, &r); err != nil {
		return err
	}
	if r.Prompt == "" {
		return badf("field \"prompt\": expected a non-empty string")
	}
	in.appendText(r.Prompt)
	in.model, in.stream, in.urlFormat = r.Model, r.Stream, r.ResponseFormat == "url"
	in.n = 1
	if r.N != nil {
		if *r.N < 1 || *r.N > 16 {
			return badf("field \"n\": %d is out of range (expected 1 to 16)", *r.N)
		}
		in.n = *r.N
	}
	if r.PartialImages < 0 || r.PartialImages > 3 {
		return badf("field \"partial_images\": %d is out of range (expected 0 to 3)", r.PartialImages)
	}
	in.partialImages, in.size, in.quality = r.PartialImages, r.Size, r.Quality
	return nil
}

// NIM ranking sends {"query":{"text":Q},"passages":[{"text":P}]}.
func (in *input) parseNIMRanking(body []byte) error {
	return in.parseRanking(body, "passages", func(r *rankingRequest) error {
		for _, p := range r.Passages {
			in.passages = append(in.passages, p.Text)
		}
		return nil
	})
}

// TEI rerank sends {"query":Q,"texts":[P]}.
func (in *input) parseTEIRerank(body []byte) error {
	return in.parseRanking(body, "texts", func(r *rankingRequest) error {
		in.passages = append(in.passages, r.Texts...)
		return nil
	})
}

// Cohere rerank sends {"query":Q,"documents":[P or {"text":P}]}.
func (in *input) parseCohereRerank(body []byte) error {
	return in.parseRanking(body, "documents", func(r *rankingRequest) error {
		if len(r.Documents) == 0 || string(r.Documents) == "null" {
			return nil
		}
		var docs []json.RawMessage
		if err := json.Unmarshal(r.Documents, &docs); err != nil {
			return badf("field \"documents\": expected an array")
		}
		for i, d := range docs {
			var s string
			if len(d) > 0 && d[0] == '{' {
				var q struct{ Text string }
				if err := json.Unmarshal(d, &q); err != nil {
					return badf("field \"documents[%d]\": %v", i, err)
				}
				s = q.Text
			} else if err := json.Unmarshal(d, &s); err != nil {
				return badf("field \"documents[%d]\": expected a string or {\"text\": string}", i)
			}
			in.passages = append(in.passages, s)
		}
		return nil
	})
}

// parseRanking reads the query every ranking API has, then the passages
// with the API's own passages function; field names the passages in errors.
func (in *input) parseRanking(body []byte, field string, passages func(r *rankingRequest) error) error {
	var r rankingRequest
	if err := decode(body, &r); err != nil {
		return err
	}
	in.model, in.topN, in.returnText = r.Model, r.TopN, r.ReturnText
	// NIM sends {"query":{"text":Q}}; Cohere and TEI a bare string.
	var q struct{ Text string }
	switch {
	case len(r.Query) == 0 || string(r.Query) == "null":
		return badf("field \"query\": missing (expected the query text)")
	case r.Query[0] == '"':
		if err := json.Unmarshal(r.Query, &in.query); err != nil {
			return badf("field \"query\": %v", err)
		}
	case r.Query[0] == '{':
		if err := json.Unmarshal(r.Query, &q); err != nil {
			return badf("field \"query\": expected {\"text\": ...}: %v", err)
		}
		in.query = q.Text
	default:
		return badf("field \"query\": expected a string or {\"text\": string}")
	}
	if err := passages(&r); err != nil {
		return err
	}
	if len(in.passages) == 0 {
		return badf("field %q: expected a non-empty array", field)
	}
	in.appendText(in.query)
	for _, p := range in.passages {
		in.appendText(p)
	}
	return nil
}

func firstInt(ps ...*int) int {
	for _, p := range ps {
		if p != nil {
			return *p
		}
	}
	return -1
}

// appendText adds one piece of prompt text, newline-separated.
func (in *input) appendText(s string) {
	if s == "" {
		return
	}
	if len(in.text) > 0 {
		in.text = append(in.text, '\n')
	}
	in.text = append(in.text, s...)
}

// contentPart is a chat/messages/responses content part; only text counts.
type contentPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// appendContent adds a message content: a string or a list of parts.
func (in *input) appendContent(raw json.RawMessage, field string) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return badf("field %q: %v", field, err)
		}
		in.appendText(s)
	case '[':
		var parts []contentPart
		if err := json.Unmarshal(raw, &parts); err != nil {
			return badf("field %q: expected a string or an array of content parts", field)
		}
		for _, p := range parts {
			in.appendText(p.Text)
		}
	default:
		return badf("field %q: expected a string or an array of content parts", field)
	}
	return nil
}

// appendPrompt adds a prompt: a string, a list of strings, or token ids.
func (in *input) appendPrompt(raw json.RawMessage, field string) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return badf("field %q: missing (expected a string or an array of strings)", field)
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return badf("field %q: %v", field, err)
		}
		in.appendText(s)
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return badf("field %q: expected a string or an array of strings", field)
	}
	for i, it := range items {
		var s string
		if err := json.Unmarshal(it, &s); err == nil {
			in.appendText(s)
			continue
		}
		var n float64
		if err := json.Unmarshal(it, &n); err == nil { // token ids
			in.promptTokens = max(in.promptTokens, 0) + 1
			continue
		}
		var ids []int
		if err := json.Unmarshal(it, &ids); err == nil {
			in.promptTokens = max(in.promptTokens, 0) + len(ids)
			continue
		}
		return badf("field \"%s[%d]\": expected a string or token ids", field, i)
	}
	return nil
}

// appendResponsesInput adds a Responses API input: a string or a list of
// items (messages with string or part content).
func (in *input) appendResponsesInput(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return badf("field \"input\": missing (expected a string or an array of input items)")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return badf("field \"input\": %v", err)
		}
		in.appendText(s)
		return nil
	}
	var items []chatMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return badf("field \"input\": expected a string or an array of input items")
	}
	for i, it := range items {
		if err := in.appendContent(it.Content, fmt.Sprintf("input[%d].content", i)); err != nil {
			return err
		}
	}
	return nil
}

// parseEmbeddingInput reads a string, a list of strings, or token ids.
func (in *input) parseEmbeddingInput(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return badf("field \"input\": missing (expected a string or an array of strings)")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return badf("field \"input\": %v", err)
		}
		in.inputs = append(in.inputs, s)
		in.appendText(s)
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return badf("field \"input\": expected a string or an array of strings")
	}
	if len(items) == 0 {
		return badf("field \"input\": expected a non-empty array")
	}
	for i, it := range items {
		var s string
		if err := json.Unmarshal(it, &s); err == nil {
			in.inputs = append(in.inputs, s)
			in.appendText(s)
			continue
		}
		var ids []int
		if err := json.Unmarshal(it, &ids); err == nil { // one input of token ids
			in.inputs = append(in.inputs, strings.Trim(string(it), "[]"))
			in.promptTokens = max(in.promptTokens, 0) + len(ids)
			continue
		}
		var n float64
		if err := json.Unmarshal(it, &n); err == nil { // the whole input is one id list
			in.promptTokens = max(in.promptTokens, 0) + 1
			if i == 0 {
				in.inputs = append(in.inputs, strings.Trim(string(raw), "[]"))
			}
			continue
		}
		return badf("field \"input[%d]\": expected a string or token ids", i)
	}
	return nil
}

// parseImageEdit reads OpenAI's image edit upload: multipart/form-data with
// prompt, an image file (or SGLang's url field), and optional model, n and
// response_format.
func (in *input) parseImageEdit(body []byte) error {
	mt, params, err := mime.ParseMediaType(in.contentType)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return badf("Content-Type: expected multipart/form-data with a boundary, got %q", in.contentType)
	}
	form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(32 << 20)
	if err != nil {
		return badf("multipart body: %v", err)
	}
	defer form.RemoveAll()
	value := func(k string) string {
		if v := form.Value[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	prompt := value("prompt")
	if prompt == "" {
		return badf("field \"prompt\": expected a non-empty string")
	}
	if len(form.File["image"]) == 0 && len(form.File["image[]"]) == 0 && value("url") == "" {
		return badf("field \"image\": expected an image file (or url)")
	}
	in.appendText(prompt)
	in.model, in.urlFormat, in.n = value("model"), value("response_format") == "url", 1
	if v := value("n"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 16 {
			return badf("field \"n\": %q is out of range (expected 1 to 16)", v)
		}
		in.n = n
	}
	in.size = value("size")
	return nil
}
