package starplugin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	starjson "go.starlark.net/lib/json"
	"go.starlark.net/starlark"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// The endpoint protocol:
//
//	format_payload(request) -> dict | string
//	parse_response(response) -> dict | None
//
// request (a fresh dict per call):
//
//	model          the model of this request ("" when none is configured)
//	stream         whether the answer is streamed (the streaming argument,
//	               False when the endpoint's metadata cannot stream)
//	text           the first text of the turn being sent ("" if none)
//	max_tokens     the requested output length of that turn, or None
//	turns          the history up to and including the turn being sent:
//	               [{"role", "texts", "images", "audios", "videos",
//	                 "max_tokens", "model"}], contents as lists of strings
//	system_prompt  the conversation's system prompt, or None
//	user_context   the conversation's per-user context, or None
//	conversation_id, turn_index
//
// A returned dict is the JSON body: the endpoint's `extra` inputs and then
// the turn's extra body are merged into it (later keys win), as for the
// built-in endpoints. A returned string is sent as is.
//
// response (one per SSE message when streaming, one per body otherwise):
//
//	kind          "sse" or "body"
//	data          the SSE data field, or the whole body, as text
//	json          data decoded as JSON, or None when it is not JSON
//	event         the SSE event field, or None
//	content_type  the body's Content-Type ("" for SSE)
//	perf_ns       the time the bytes arrived (monotonic ns)
//
// SSE messages without data, "[DONE]", "null" and `event: error` are handled
// before parse_response is called, as for every built-in endpoint (an error
// event fails the request with code 502).
//
// parse_response returns None (nothing to record) or a dict of:
//
//	text       output text of this response (content)
//	reasoning  reasoning text of this response
//	usage      {"prompt_tokens", "completion_tokens", "total_tokens",
//	            "reasoning_tokens", "cached_tokens", "cache_write_tokens"};
//	           other keys are ignored, so an OpenAI usage object passes as is
//	items      number of embeddings / rankings / images, with
//	kind       "embeddings", "rankings" or "images"
//	error      a message string, or {"code", "type", "message"}: the server
//	           reported a failure
var endpointProtocol = &protocol{
	methods: []method{
		{name: "format_payload", arity: 1, args: "request"},
		{name: "parse_response", arity: 1, args: "response"},
	},
	common: endpoint.CommonParams,
	adapt:  adaptEndpoint,
}

// scriptEndpoint adapts a Starlark endpoint to endpoint.Endpoint.
type scriptEndpoint struct {
	settings *endpoint.Settings
	label    string
	format   starlark.Callable
	parse    starlark.Callable
	threads  *threadPool
}

var (
	_ endpoint.Endpoint   = (*scriptEndpoint)(nil)
	_ endpoint.Configured = (*scriptEndpoint)(nil)
	_ endpoint.Parser     = (*scriptEndpoint)(nil)
)

func adaptEndpoint(in *adaptInput) (any, error) {
	var md plugin.EndpointMetadata
	if err := decodeEntryMetadata(in.entry, &md); err != nil {
		return nil, fmt.Errorf("%s: %w", in.label, err)
	}
	s, err := endpoint.NewSettings(in.entry.Name, md, in.args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.label, err)
	}
	return &scriptEndpoint{settings: s, label: in.label, threads: in.threads,
		format: in.methods["format_payload"], parse: in.methods["parse_response"]}, nil
}

// Settings implements endpoint.Configured.
func (e *scriptEndpoint) Settings() *endpoint.Settings { return e.settings }

// NewParser implements endpoint.Endpoint; the parser is stateless.
func (e *scriptEndpoint) NewParser() endpoint.Parser { return e }

// FormatPayload implements endpoint.Endpoint.
func (e *scriptEndpoint) FormatPayload(req *endpoint.Request) ([]byte, error) {
	out, err := e.threads.call(e.format, e.requestValue(req))
	if err != nil {
		return nil, fmt.Errorf("%s: format_payload: %s", e.label, describeEvalError(err))
	}
	switch x := out.(type) {
	case starlark.String:
		return []byte(x), nil
	case starlark.Bytes:
		return []byte(x), nil
	case *starlark.Dict:
		v, err := fromStarlark(x)
		if err != nil {
			return nil, fmt.Errorf("%s: format_payload returned a dict that is not JSON data: %w", e.label, err)
		}
		body := v.(*ordered.Map)
		body.Merge(e.settings.Extra)
		if len(req.Turns) > 0 {
			body.Merge(req.Last().ExtraBody)
		}
		b, err := body.AppendJSON(make([]byte, 0, 256))
		if err != nil {
			return nil, fmt.Errorf("%s: encoding payload: %w", e.label, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%s: format_payload must return a dict (the JSON body) or a string, got %s", e.label, out.Type())
}

func (e *scriptEndpoint) requestValue(req *endpoint.Request) *starlark.Dict {
	d := starlark.NewDict(10)
	set := func(k string, v starlark.Value) { _ = d.SetKey(starlark.String(k), v) }
	set("model", starlark.String(e.settings.Model(req)))
	set("stream", starlark.Bool(e.settings.Streaming))
	turns := make([]starlark.Value, len(req.Turns))
	for i := range req.Turns {
		turns[i] = turnValue(&req.Turns[i])
	}
	set("turns", starlark.NewList(turns))
	text, maxTokens := "", starlark.Value(starlark.None)
	if len(req.Turns) > 0 {
		last := req.Last()
		text = last.FirstText()
		if last.MaxTokens >= 0 {
			maxTokens = starlark.MakeInt(last.MaxTokens)
		}
	}
	set("text", starlark.String(text))
	set("max_tokens", maxTokens)
	sys, user := starlark.Value(starlark.None), starlark.Value(starlark.None)
	convID := ""
	if c := req.Conversation; c != nil {
		if c.SystemPrompt != "" {
			sys = starlark.String(c.SystemPrompt)
		}
		if c.UserContext != "" {
			user = starlark.String(c.UserContext)
		}
		convID = c.ID
	}
	set("system_prompt", sys)
	set("user_context", user)
	set("conversation_id", starlark.String(convID))
	set("turn_index", starlark.MakeInt(req.TurnIndex))
	return d
}

func turnValue(t *dataset.Turn) starlark.Value {
	d := starlark.NewDict(7)
	set := func(k string, v starlark.Value) { _ = d.SetKey(starlark.String(k), v) }
	role := t.Role
	if role == "" {
		role = "user"
	}
	set("role", starlark.String(role))
	set("texts", contents(t.Texts))
	set("images", contents(t.Images))
	set("audios", contents(t.Audios))
	set("videos", contents(t.Videos))
	if t.MaxTokens >= 0 {
		set("max_tokens", starlark.MakeInt(t.MaxTokens))
	} else {
		set("max_tokens", starlark.None)
	}
	set("model", starlark.String(t.Model))
	return d
}

func contents(groups []dataset.Named) *starlark.List {
	var out []starlark.Value
	for _, g := range groups {
		for _, c := range g.Contents {
			out = append(out, starlark.String(c))
		}
	}
	return starlark.NewList(out)
}

var (
	doneData   = []byte("[DONE]")
	nullData   = []byte("null")
	errorEvent = []byte("error")
)

// Message implements endpoint.Parser.
func (e *scriptEndpoint) Message(m *sse.Message, rec *record.Record) {
	if bytes.Equal(m.Event, errorEvent) {
		rec.SetError(record.CodeSSEErrorBase, record.ErrSSE, sseErrorMessage(m))
		return
	}
	if !m.HasData || bytes.Equal(m.Data, doneData) || bytes.Equal(m.Data, nullData) {
		return
	}
	event := starlark.Value(starlark.None)
	if m.Event != nil {
		event = starlark.String(m.Event)
	}
	th := e.threads.get()
	defer e.threads.put(th)
	e.parseResponse(th, responseValue(th, "sse", "", m.Data, event, m.PerfNs), m.PerfNs, rec, true)
}

// Body implements endpoint.Parser.
func (e *scriptEndpoint) Body(contentType string, body []byte, perfNs int64, rec *record.Record) {
	th := e.threads.get()
	defer e.threads.put(th)
	e.parseResponse(th, responseValue(th, "body", contentType, body, starlark.None, perfNs), perfNs, rec, false)
}

func sseErrorMessage(m *sse.Message) string {
	if len(m.Comment) > 0 {
		return string(m.Comment)
	}
	if m.HasData {
		if api, ok := endpoint.ParseAPIError(m.Data); ok && api.Message != "" {
			return api.Message
		}
		if v, err := ordered.Decode(m.Data); err == nil {
			if obj, ok := v.(*ordered.Map); ok {
				if msg, ok := obj.Get("message"); ok {
					if s, ok := msg.(string); ok {
						return s
					}
				}
			}
		}
		return strings.TrimSpace(string(m.Data))
	}
	return "Unknown error in SSE response"
}

// jsonDecode is Starlark's json.decode.
var jsonDecode = starjson.Module.Members["decode"]

func responseValue(th *starlark.Thread, kind, contentType string, data []byte, event starlark.Value, perfNs int64) *starlark.Dict {
	d := starlark.NewDict(6)
	set := func(k string, v starlark.Value) { _ = d.SetKey(starlark.String(k), v) }
	set("kind", starlark.String(kind))
	set("data", starlark.String(data))
	js := starlark.Value(starlark.None)
	if t := bytes.TrimSpace(data); len(t) > 0 && (t[0] == '{' || t[0] == '[' || t[0] == '"') {
		// json.decode builds Starlark values directly (dicts keep key order).
		if v, err := starlark.Call(th, jsonDecode, starlark.Tuple{starlark.String(t)}, nil); err == nil {
			js = v
		}
	}
	set("json", js)
	set("event", event)
	set("content_type", starlark.String(contentType))
	set("perf_ns", starlark.MakeInt64(perfNs))
	return d
}

// parseResponse calls parse_response and records what it returns.
func (e *scriptEndpoint) parseResponse(th *starlark.Thread, resp *starlark.Dict, perfNs int64, rec *record.Record, streamed bool) {
	out, err := starlark.Call(th, e.parse, starlark.Tuple{resp}, nil)
	if err != nil {
		rec.SetError(0, record.ErrParse, fmt.Sprintf("%s: parse_response: %s", e.label, describeEvalError(err)))
		return
	}
	if err := applyParsed(out, perfNs, rec, streamed); err != nil {
		rec.SetError(0, record.ErrParse, fmt.Sprintf("%s: parse_response: %v", e.label, err))
	}
}

// applyParsed records one parse_response result.
func applyParsed(out starlark.Value, perfNs int64, rec *record.Record, streamed bool) error {
	if out == starlark.None {
		return nil
	}
	d, ok := out.(*starlark.Dict)
	if !ok {
		return fmt.Errorf("must return a dict or None, got %s", out.Type())
	}
	var text, reasoning, kind string
	items := -1
	var usage *record.Usage
	for _, kv := range d.Items() {
		k, ok := kv[0].(starlark.String)
		if !ok {
			return fmt.Errorf("result keys must be strings, got %s", kv[0].Type())
		}
		v := kv[1]
		if v == starlark.None {
			continue
		}
		switch string(k) {
		case "text", "reasoning":
			s, ok := starlark.AsString(v)
			if !ok {
				return fmt.Errorf("%s must be a string, got %s", string(k), v.Type())
			}
			if k == "text" {
				text = s
			} else {
				reasoning = s
			}
		case "usage":
			u, err := usageOf(v)
			if err != nil {
				return err
			}
			usage = &u
		case "items":
			n, err := starlark.AsInt32(v)
			if err != nil || n < 0 {
				return fmt.Errorf("items must be a count >= 0, got %s", v)
			}
			items = n
		case "kind":
			s, ok := starlark.AsString(v)
			if !ok {
				return fmt.Errorf("kind must be a string, got %s", v.Type())
			}
			kind = s
		case "error":
			code, typ := 500, record.ErrParse
			if streamed {
				code, typ = record.CodeSSEErrorBase, record.ErrSSE
			}
			msg, err := errorOf(v, &code, &typ)
			if err != nil {
				return err
			}
			rec.SetError(code, typ, msg)
		default:
			return fmt.Errorf("unknown result key %q (want text, reasoning, usage, items, kind, error)", string(k))
		}
	}
	content := false
	switch {
	case items >= 0:
		var k record.Kind
		switch kind {
		case "embeddings":
			k = record.KindEmbeddings
		case "rankings":
			k = record.KindRankings
		case "images":
			k = record.KindImage
		default:
			return fmt.Errorf("items needs kind \"embeddings\", \"rankings\" or \"images\", got %q", kind)
		}
		rec.AddItems(perfNs, k, items)
		content = true
	case kind != "":
		return fmt.Errorf("kind %q without items", kind)
	case text != "" || reasoning != "":
		k := record.KindText
		if reasoning != "" {
			k = record.KindReasoning
		}
		rec.AddText(perfNs, k, []byte(text), []byte(reasoning))
		content = true
	}
	if usage != nil {
		// As the built-in parsers do: usage riding on content updates the
		// record (the first such one fixes FirstContentChunkTokens); a
		// usage-only response is appended as such.
		u := *usage
		u.FirstContentChunkTokens = rec.Usage.FirstContentChunkTokens
		if content {
			if u.FirstContentChunkTokens < 0 && u.CompletionTokens >= 0 {
				u.FirstContentChunkTokens = u.CompletionTokens
			}
			rec.Usage = u
		} else {
			rec.AddUsage(perfNs, u)
		}
	}
	return nil
}

// usageOf reads a usage dict. Known counts are taken (nested
// prompt_tokens_details.cached_tokens and
// completion_tokens_details.reasoning_tokens too, as OpenAI reports them);
// other keys are ignored, so an API's usage object can be passed through.
func usageOf(v starlark.Value) (record.Usage, error) {
	u := record.NoUsage
	d, ok := v.(*starlark.Dict)
	if !ok {
		return u, fmt.Errorf("usage must be a dict, got %s", v.Type())
	}
	count := func(k string, x starlark.Value) (int64, bool, error) {
		if x == starlark.None {
			return 0, false, nil
		}
		i, ok := x.(starlark.Int)
		if !ok {
			return 0, false, fmt.Errorf("usage.%s must be an int, got %s", k, x.Type())
		}
		n, ok := i.Int64()
		if !ok || n < 0 {
			return 0, false, fmt.Errorf("usage.%s must be a count >= 0, got %s", k, i)
		}
		return n, true, nil
	}
	fields := map[string]*int64{
		"prompt_tokens": &u.PromptTokens, "input_tokens": &u.PromptTokens,
		"completion_tokens": &u.CompletionTokens, "output_tokens": &u.CompletionTokens,
		"total_tokens": &u.TotalTokens, "reasoning_tokens": &u.ReasoningTokens,
		"cached_tokens": &u.CachedTokens, "cache_write_tokens": &u.CacheWriteTokens,
	}
	nested := map[string]string{"prompt_tokens_details": "cached_tokens", "completion_tokens_details": "reasoning_tokens"}
	for _, kv := range d.Items() {
		k, _ := starlark.AsString(kv[0])
		if dst, ok := fields[k]; ok {
			n, present, err := count(k, kv[1])
			if err != nil {
				return u, err
			}
			if present {
				*dst = n
			}
			continue
		}
		if inner, ok := nested[k]; ok {
			sub, isDict := kv[1].(*starlark.Dict)
			if !isDict {
				continue
			}
			x, found, _ := sub.Get(starlark.String(inner))
			if !found {
				continue
			}
			n, present, err := count(k+"."+inner, x)
			if err != nil {
				return u, err
			}
			if present && *fields[inner] < 0 {
				*fields[inner] = n
			}
		}
	}
	return u, nil
}

func errorOf(v starlark.Value, code *int, typ *string) (string, error) {
	if s, ok := starlark.AsString(v); ok {
		return s, nil
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return "", fmt.Errorf("error must be a string or a dict {code, type, message}, got %s", v.Type())
	}
	msg := ""
	for _, kv := range d.Items() {
		k, _ := starlark.AsString(kv[0])
		switch k {
		case "code":
			n, err := starlark.AsInt32(kv[1])
			if err != nil {
				return "", fmt.Errorf("error.code must be an int")
			}
			*code = n
		case "type":
			s, ok := starlark.AsString(kv[1])
			if !ok {
				return "", fmt.Errorf("error.type must be a string")
			}
			*typ = s
		case "message":
			s, ok := starlark.AsString(kv[1])
			if !ok {
				return "", fmt.Errorf("error.message must be a string")
			}
			msg = s
		default:
			return "", fmt.Errorf("unknown error key %q (want code, type, message)", k)
		}
	}
	return msg, nil
}

// decodeEntryMetadata decodes the entry's metadata into a typed struct.
func decodeEntryMetadata(e *plugin.Entry, out any) error {
	if e.Metadata == nil {
		return nil
	}
	b, err := e.Metadata.MarshalJSON()
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
