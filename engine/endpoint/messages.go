package endpoint

import (
	"errors"
	"fmt"
	"strings"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// Defaults of the messages endpoint.
const (
	defaultAnthropicVersion  = "2023-06-01"
	defaultMessagesMaxTokens = 1024
)

// Messages is the Anthropic Messages API endpoint (/v1/messages).
type Messages struct {
	base
	version          string
	defaultMaxTokens int64
}

var messagesParams = []plugin.Param{
	{Name: "anthropic_version", Type: plugin.TString, Default: defaultAnthropicVersion,
		Doc: "Value of the anthropic-version header."},
	{Name: "default_max_tokens", Type: plugin.TInt, Default: int64(defaultMessagesMaxTokens),
		Doc: "max_tokens sent when the dataset turn sets none (the Messages API requires one)."},
}

func newMessages(s *Settings, args plugin.Args) (any, error) {
	if err := s.requireModel(); err != nil {
		return nil, err
	}
	m := &Messages{base: base{s},
		version:          args.String("anthropic_version"),
		defaultMaxTokens: args.Int("default_max_tokens")}
	if m.defaultMaxTokens < 1 {
		return nil, fmt.Errorf("default_max_tokens: must be >= 1, got %d", m.defaultMaxTokens)
	}
	if strings.ContainsAny(m.version, "\r\n") {
		return nil, errors.New("anthropic_version: contains a line break")
	}
	s.wire = m
	return m, nil
}

// Headers implements Wire: x-api-key (when a key is set) and
// anthropic-version replace the Bearer header.
func (m *Messages) Headers(apiKey string) ([][2]string, bool) {
	h := [][2]string{{"anthropic-version", m.version}}
	if apiKey == "" {
		return h, false
	}
	return append(h, [2]string{"x-api-key", apiKey}), true
}

// FormatPayload builds {messages, model, max_tokens, stream, system, tools},
// then the extras and the turn's extra body. The conversation's system
// prompt and any system-role turns go to `system`; the user context is the
// first user message. Content is a bare string for one text, else text and
// image parts (data URLs as base64 sources, other URLs as url sources).
func (m *Messages) FormatPayload(req *Request) ([]byte, error) {
	if len(req.Turns) == 0 {
		return nil, errNoTurns
	}
	last := req.Last()
	var system []string
	var prefix []any
	if conv := req.Conversation; conv != nil {
		if conv.SystemPrompt != "" {
			system = append(system, conv.SystemPrompt)
		}
		if conv.UserContext != "" {
			prefix = append(prefix, ordered.FromPairs("role", "user", "content", conv.UserContext))
		}
	}
	// System-role turns have no place in Anthropic's messages list.
	sub := *req
	sub.Turns = make([]dataset.Turn, 0, len(req.Turns))
	for _, t := range req.Turns {
		if t.Role == "system" && t.RawMessages == nil {
			if txt := strings.Join(nonEmpty(flat(t.Texts)), "\n"); txt != "" {
				system = append(system, txt)
			}
			continue
		}
		sub.Turns = append(sub.Turns, t)
	}
	msgs, err := turnMessages(&sub, prefix, func(t *dataset.Turn) (any, error) {
		content, err := anthropicContent(t)
		if err != nil {
			return nil, err
		}
		return ordered.FromPairs("role", role(t), "content", content), nil
	})
	if err != nil {
		return nil, err
	}
	body := ordered.New(8)
	body.Set("messages", msgs)
	body.Set("model", m.s.Model(req))
	if n := maxTokens(last); n >= 0 {
		body.Set("max_tokens", n)
	} else {
		body.Set("max_tokens", m.defaultMaxTokens)
	}
	body.Set("stream", m.s.Streaming)
	if len(system) > 0 {
		body.Set("system", strings.Join(system, "\n\n"))
	}
	if last.Tools != nil {
		body.Set("tools", last.Tools)
	}
	mergeExtras(body, m.s, last)
	return encode(body)
}

func anthropicContent(t *dataset.Turn) (any, error) {
	texts, images := flat(t.Texts), flat(t.Images)
	if len(flat(t.Audios)) > 0 || len(flat(t.Videos)) > 0 {
		return nil, errors.New("the messages endpoint accepts text and images only (the turn has audio or video)")
	}
	if len(texts) == 1 && len(images) == 0 {
		return texts[0], nil
	}
	parts := make([]any, 0, len(texts)+len(images))
	for _, s := range texts {
		if s != "" {
			parts = append(parts, ordered.FromPairs("type", "text", "text", s))
		}
	}
	for _, s := range images {
		if s == "" {
			continue
		}
		var source *ordered.Map
		if rest, ok := strings.CutPrefix(s, "data:"); ok {
			meta, data, ok := strings.Cut(rest, ",")
			mediaType, enc, _ := strings.Cut(meta, ";")
			if !ok || enc != "base64" {
				return nil, fmt.Errorf("image data URL must be base64 encoded, got %q", abbrev(s))
			}
			source = ordered.FromPairs("type", "base64", "media_type", mediaType, "data", data)
		} else {
			source = ordered.FromPairs("type", "url", "url", s)
		}
		parts = append(parts, ordered.FromPairs("type", "image", "source", source))
	}
	if len(parts) == 0 {
		return "", nil
	}
	return parts, nil
}

// NewParser returns a parser for one response (it merges the usage of
// message_start and message_delta).
func (m *Messages) NewParser() Parser { return &messagesParser{} }

type messagesParser struct {
	text  []byte
	shape chunkShape
}

var (
	messagesEventNames = []string{"type", "delta", "message", "usage", "error", "content"}
	anthropicDelta     = []string{"type", "text", "thinking", "partial_json"}
	anthropicBlock     = []string{"type", "text", "thinking", "name", "input"}
)

// Message handles one stream event: content_block_delta text_delta →
// text, thinking_delta → reasoning, input_json_delta → tool text;
// message_start.message.usage and message_delta.usage → usage; error events
// fail the record; ping and block start/stop carry nothing.
func (p *messagesParser) Message(m *sse.Message, rec *record.Record) {
	d, ok := streamData(m, rec)
	if !ok {
		return
	}
	if p.shape.add(d, m.PerfNs, rec) {
		return // the last delta but for its text (chunkShape)
	}
	var f [6][]byte
	if !fields(d, messagesEventNames, f[:]) {
		return
	}
	if checkPayloadError(f[4], d, record.ErrSSE, rec) {
		return
	}
	typ := m.Event
	if isString(f[0]) {
		typ = f[0][1 : len(f[0])-1]
	}
	switch string(typ) {
	case "content_block_delta":
		var dl [4][]byte
		fields(f[1], anthropicDelta, dl[:])
		// The delta's string is the shape's hole when the event's type is
		// in the data (not only the event name, which a shape cannot see).
		var str []byte
		var kind record.Kind
		switch {
		case stringEq(dl[0], "text_delta"):
			str, kind = dl[1], record.KindText
			if t, _ := stringValue(dl[1], &p.text); len(t) > 0 {
				rec.AddText(m.PerfNs, record.KindText, t, nil)
			}
		case stringEq(dl[0], "thinking_delta"):
			str, kind = dl[2], record.KindReasoning
			if t, _ := stringValue(dl[2], &p.text); len(t) > 0 {
				rec.AddText(m.PerfNs, record.KindReasoning, nil, t)
			}
		case stringEq(dl[0], "input_json_delta"):
			str, kind = dl[3], record.KindToolCall
			if t, _ := stringValue(dl[3], &p.text); len(t) > 0 {
				rec.AddText(m.PerfNs, record.KindToolCall, t, nil)
			}
		}
		if isString(f[0]) && isString(str) {
			p.shape.learn(d, str, kind)
		}
	case "message_start":
		p.usage(field(f[2], "usage"), m.PerfNs, rec)
	case "message_delta":
		p.usage(f[3], m.PerfNs, rec)
	case "message":
		p.whole(d, f[:], m.PerfNs, rec)
	}
}

func (p *messagesParser) usage(raw []byte, perfNs int64, rec *record.Record) {
	if !isObject(raw) {
		return
	}
	if u, ok := parseUsage(raw); ok {
		setUsage(rec, perfNs, mergeUsage(u, rec.Usage), false)
	}
}

// Body reads a whole `type: "message"`: thinking, then text, then tool_use
// name + the JSON of its input.
func (p *messagesParser) Body(contentType string, body []byte, perfNs int64, rec *record.Record) {
	if isEventStream(contentType) {
		bodyAsStream(p, body, perfNs, rec)
		return
	}
	var f [6][]byte
	if !fields(body, messagesEventNames, f[:]) {
		return
	}
	if checkPayloadError(f[4], body, errAPI, rec) {
		return
	}
	p.whole(body, f[:], perfNs, rec)
}

func (p *messagesParser) whole(obj []byte, f [][]byte, perfNs int64, rec *record.Record) {
	var thinking, text, tools []byte
	it, ok := newArrIter(f[5])
	for ok {
		block, more := it.next()
		if !more {
			break
		}
		var b [5][]byte
		fields(block, anthropicBlock, b[:])
		switch {
		case stringEq(b[0], "thinking"):
			thinking = appendText(thinking, b[2])
		case stringEq(b[0], "text"):
			text = appendText(text, b[1])
		case stringEq(b[0], "tool_use"):
			tools = appendText(tools, b[3])
			tools = appendText(tools, trimJSON(b[4]))
		}
	}
	added := true
	switch {
	case len(thinking) > 0:
		rec.AddText(perfNs, record.KindReasoning, append(text, tools...), thinking)
	case len(tools) > 0:
		rec.AddText(perfNs, record.KindToolCall, append(text, tools...), nil)
	case len(text) > 0:
		rec.AddText(perfNs, record.KindText, text, nil)
	default:
		added = false
	}
	if isObject(f[3]) {
		if u, ok := parseUsage(f[3]); ok {
			setUsage(rec, perfNs, u, added)
		}
	}
}
