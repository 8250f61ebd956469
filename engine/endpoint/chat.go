package endpoint

import (
	"strings"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// base carries the settings every built-in endpoint shares.
type base struct{ s *Settings }

// Settings implements Configured.
func (b *base) Settings() *Settings { return b.s }

// Chat is the OpenAI Chat Completions endpoint (/v1/chat/completions).
type Chat struct {
	base
	perChunkUsage bool
}

func newChat(s *Settings, args plugin.Args) (any, error) {
	if err := s.requireModel(); err != nil {
		return nil, err
	}
	return &Chat{base: base{s}, perChunkUsage: args.Bool("per_chunk_usage")}, nil
}

var chatParams = []plugin.Param{
	{Name: "per_chunk_usage", Type: plugin.TBool, Default: false,
		Doc: "Ask the server for usage on every streamed chunk (stream_options.continuous_usage_stats, vLLM); with server token counts, ITL then excludes the tokens of the first chunk."},
}

// FormatPayload builds the chat body (wire.md §5): messages, model, stream,
// tools, max_completion_tokens (or max_tokens), extras, the turn's extra
// body, then stream_options.
func (c *Chat) FormatPayload(req *Request) ([]byte, error) {
	if len(req.Turns) == 0 {
		return nil, errNoTurns
	}
	last := req.Last()
	msgs, err := c.messages(req)
	if err != nil {
		return nil, err
	}
	body := ordered.New(8)
	body.Set("messages", msgs)
	body.Set("model", c.s.Model(req))
	body.Set("stream", c.s.Streaming)
	if last.Tools != nil {
		body.Set("tools", last.Tools)
	}
	if n := maxTokens(last); n >= 0 {
		if c.s.UseLegacyMaxTokens {
			body.Set("max_tokens", n)
		} else {
			body.Set("max_completion_tokens", n)
		}
	}
	mergeExtras(body, c.s, last)
	if c.perChunkUsage {
		applyStreamOptions(body, "continuous_usage_stats")
	} else {
		applyStreamOptions(body)
	}
	return encode(body)
}

// messages lists the system message (the conversation's system prompt,
// merged with a leading system turn), the user context message, then one
// message per turn.
func (c *Chat) messages(req *Request) ([]any, error) {
	var prefix []any
	turns := req.Turns
	if conv := req.Conversation; conv != nil {
		if conv.SystemPrompt != "" {
			sys := conv.SystemPrompt
			// A dataset's own leading system turn is merged into the
			// configured system prompt rather than sent twice.
			if len(turns) > 0 && turns[0].Role == "system" && turns[0].RawMessages == nil &&
				len(flat(turns[0].Images))+len(flat(turns[0].Audios))+len(flat(turns[0].Videos)) == 0 {
				if txt := strings.Join(nonEmpty(flat(turns[0].Texts)), "\n"); txt != "" {
					sys += "\n\n" + txt
				}
				turns = turns[1:]
			}
			prefix = append(prefix, ordered.FromPairs("role", "system", "content", sys))
		}
		if conv.UserContext != "" {
			prefix = append(prefix, ordered.FromPairs("role", "user", "content", conv.UserContext))
		}
	}
	sub := *req
	sub.Turns = turns
	return turnMessages(&sub, prefix, func(t *dataset.Turn) (any, error) {
		content, err := chatContent(t, "text", false)
		if err != nil {
			return nil, err
		}
		return ordered.FromPairs("role", role(t), "content", content), nil
	})
}

// NewParser returns a chat response parser.
func (c *Chat) NewParser() Parser { return &chatParser{} }

// chatParser reads chat.completion bodies and chat.completion.chunk events.
// The runner keeps one per request in flight (it is Reusable): scratch
// slices and the room for one chunk's shape.
type chatParser struct {
	content, reasoning, tools []byte // decode scratch
	shape                     chunkShape
}

var (
	chatChoiceNames = []string{"delta", "message"}
	chatDeltaNames  = []string{"content", "reasoning_content", "reasoning", "tool_calls"}
	toolCallNames   = []string{"function"}
	functionNames   = []string{"name", "arguments"}

	chatChoiceSet = newNameSet(chatChoiceNames)
	chatDeltaSet  = newNameSet(chatDeltaNames)
)

// Reusable marks chatParser as one that reads response after response.
func (p *chatParser) Reusable() {}

func (p *chatParser) Message(m *sse.Message, rec *record.Record) {
	d, ok := streamData(m, rec)
	if !ok {
		return
	}
	if p.shape.add(d, m.PerfNs, rec) {
		return // the last plain chunk but for its text
	}
	if raw, kind, ok := p.read(d, m.PerfNs, rec, record.ErrSSE); ok {
		p.shape.learn(d, raw, kind)
	}
}

func (p *chatParser) Body(contentType string, body []byte, perfNs int64, rec *record.Record) {
	if isEventStream(contentType) {
		bodyAsStream(p, body, perfNs, rec)
		return
	}
	p.parse(body, perfNs, rec, errAPI)
}

// parse handles one chat JSON object (wire.md §5 chat): reasoning first,
// else tool calls, else content; usage kept alongside. One pass reads
// plain JSON; anything else goes to parseLenient, which reads the same.
func (p *chatParser) parse(obj []byte, perfNs int64, rec *record.Record, errType string) {
	p.read(obj, perfNs, rec, errType)
}

// read is parse that also reports (plain) when obj was read in one pass
// and what it did depends on one string of its delta alone, whose raw token
// (quotes included, a part of obj) is str: another chunk that differs only
// inside that string adds its text as kind (chunkShape). That string is
// the content when no reasoning is there; or the reasoning (either name)
// when the content is empty, and then only a non-empty one.
func (p *chatParser) read(obj []byte, perfNs int64, rec *record.Record, errType string) (str []byte, kind record.Kind, plain bool) {
	var s choicesScan
	if !s.scan(obj, chatChoiceSet, chatDeltaSet) {
		p.parseLenient(obj, perfNs, rec, errType)
		return nil, 0, false
	}
	if checkPayloadError(s.top[3], obj, errType, rec) {
		return nil, 0, false
	}
	added := false
	k := chatAnswer(s.top[0], s.choice[0] != nil)
	if k >= 0 && isObject(s.choice[k]) {
		added = p.message(&s.inner[k], perfNs, rec)
	}
	if s.usageOK {
		setUsage(rec, perfNs, s.usage, added)
		return nil, 0, false
	}
	if k != 0 || !isObject(s.choice[0]) {
		return nil, 0, false
	}
	f := &s.inner[0] // content, reasoning_content, reasoning, tool_calls
	if isArray(f[0]) || isArray(f[3]) {
		return nil, 0, false
	}
	switch {
	case isString(f[0]) && !isString(f[1]) && !isString(f[2]):
		return f[0], record.KindText, true
	case !noText(f[0]):
		return nil, 0, false // content beside reasoning: both are added
	case isString(f[1]) && !noText(f[1]):
		return f[1], record.KindReasoning, true
	case noText(f[1]) && isString(f[2]):
		return f[2], record.KindReasoning, true
	}
	return nil, 0, false
}

// noText reports a member that message reads as no text: absent, null or
// the empty string.
func noText(raw []byte) bool {
	return raw == nil || string(raw) == "null" || string(raw) == `""`
}

// parseLenient is parse by the lenient scan of jsonscan.go.
func (p *chatParser) parseLenient(obj []byte, perfNs int64, rec *record.Record, errType string) {
	var top [4][]byte
	if !fields(obj, choicesTopNames, top[:]) {
		return
	}
	if checkPayloadError(top[3], obj, errType, rec) {
		return
	}
	added := false
	if choice := firstElem(top[1]); choice != nil {
		var ch [2][]byte
		elemFields(choice, chatChoiceNames, ch[:])
		if k := chatAnswer(top[0], ch[0] != nil); k >= 0 && isObject(ch[k]) {
			var f [4][]byte
			fields(ch[k], chatDeltaNames, f[:])
			added = p.message(&f, perfNs, rec)
		}
	}
	if isObject(top[2]) {
		if u, ok := parseUsage(top[2]); ok {
			setUsage(rec, perfNs, u, added)
		}
	}
}

// chatAnswer says which member of the first choice holds the answer: 0 for
// delta, 1 for message, -1 for neither. The object decides; a missing
// object is tolerated (some proxies drop it) by taking whichever is
// present, delta first.
func chatAnswer(object []byte, hasDelta bool) int {
	switch {
	case stringEq(object, "chat.completion.chunk"):
		return 0
	case stringEq(object, "chat.completion"):
		return 1
	case object == nil:
		if hasDelta {
			return 0
		}
		return 1
	}
	return -1
}

// message extracts one delta or message object, given its members named
// by chatDeltaNames; it reports whether a content response was added.
func (p *chatParser) message(f *[4][]byte, perfNs int64, rec *record.Record) bool {
	content, _ := stringValue(f[0], &p.content)
	if isArray(f[0]) {
		// Some servers answer with a list of content parts.
		p.content = appendParts(p.content[:0], f[0], "text")
		content = p.content
	}
	reasoning, _ := stringValue(f[1], &p.reasoning)
	if len(reasoning) == 0 {
		reasoning, _ = stringValue(f[2], &p.reasoning)
	}
	if len(reasoning) > 0 {
		rec.AddText(perfNs, record.KindReasoning, content, reasoning)
		return true
	}
	if isArray(f[3]) {
		if tools := p.toolText(f[3], content); len(tools) > len(content) {
			rec.AddText(perfNs, record.KindToolCall, tools, nil)
			return true
		}
	}
	if len(content) > 0 {
		rec.AddText(perfNs, record.KindText, content, nil)
		return true
	}
	return false
}

// toolText returns content followed by every tool call's function name and
// arguments, in order.
func (p *chatParser) toolText(calls []byte, content []byte) []byte {
	out := append(p.tools[:0], content...)
	it, _ := newArrIter(calls)
	for {
		call, ok := it.next()
		if !ok {
			break
		}
		var fn [1][]byte
		fields(call, toolCallNames, fn[:])
		var nf [2][]byte
		fields(fn[0], functionNames, nf[:])
		out = appendText(out, nf[0])
		out = appendText(out, nf[1])
	}
	p.tools = out
	return out
}

// isEventStream reports whether a Content-Type names an SSE stream, in any
// ASCII letter case (no other character lowers to one of its letters), without
// lowering a copy: it runs on every body.
func isEventStream(contentType string) bool {
	const sse = "text/event-stream"
	for i := 0; i+len(sse) <= len(contentType); i++ {
		j := 0
		for j < len(sse) && lowerASCII(contentType[i+j]) == sse[j] {
			j++
		}
		if j == len(sse) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// bodyAsStream parses an SSE body that arrived whole (a server that streams
// although streaming was not requested) message by message.
func bodyAsStream(p Parser, body []byte, perfNs int64, rec *record.Record) {
	var r sse.Reader
	fn := func(m *sse.Message) { p.Message(m, rec) }
	r.Feed(body, perfNs, fn)
	r.Close(perfNs, fn)
}

// appendText appends a JSON value as text: a string decoded, null nothing,
// anything else (e.g. arguments sent as an object) as its raw JSON.
func appendText(dst, raw []byte) []byte {
	if len(raw) == 0 || string(raw) == "null" {
		return dst
	}
	if isString(raw) {
		out, ok := appendString(dst, raw)
		if ok {
			return out
		}
		return dst
	}
	return append(dst, raw...)
}
