package endpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/jmespath/go-jmespath"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// Template is the endpoint for APIs no built-in speaks: the body comes from
// a user template and the answer is read with a JMESPath expression (or
// auto-detected). No path is appended to the URL unless custom_path is set.
//
// The body is either a Starlark function receiving the request variables as
// a dict and returning the body (a dict, or a JSON string), or a JSON
// template string with {{placeholders}}:
//
//	endpoint.template(url="http://host:9000/infer", model="m",
//	    body='{"model": {{model}}, "inputs": {{texts}}, "params": {"max": {{max_tokens}}}}',
//	    response_field="outputs[0].text")
//
// Placeholders name a variable, optionally followed by .field or [index]
// steps and an ignored `|tojson` filter (so AIPerf's Jinja templates using
// `{{ text|tojson }}` work unchanged). A placeholder standing as a JSON value
// is replaced by the variable's JSON encoding; inside a JSON string literal
// ("Question: {{text}}") it is spliced in as escaped string content.
// The variables (all from the turn being sent) are:
//
//	text, texts        first text (null if none), all texts
//	image, images      first image URL, all image URLs (same for audio(s), video(s))
//	query, queries     first / all texts named "query" (or "queries")
//	passage, passages  first / all texts named "passages" (or "passage")
//	texts_by_name      {name: [texts]} (also images_, audios_, videos_by_name)
//	model              the request's model
//	max_tokens         requested output tokens, null when unset
//	role               the turn's role ("user" when unset)
//	stream             whether the endpoint streams
//	turn_index         index of the turn in its conversation
//	turn, turns        the turn, and the history, as {role, texts, images, audios, videos, max_tokens}
//	system_prompt, user_context   the conversation's, null when unset
//	request_info       {conversation_id, turn_index, model, stream}
//
// The named template "nv-embedqa" is {"text": {{texts}}}. A body that is
// neither JSON nor a named template is read as a file path. The rendered
// body must be JSON; then the extras and the turn's extra body are merged
// into it (it must then be an object).
type Template struct {
	base
	tmpl *jsonTemplate
	fn   plugin.Func
	mu   sync.Mutex // serialises fn: a script callable is not reentrant

	field *responsePath // nil: auto-detect
}

var templateParams = []plugin.Param{
	{Name: "body", Type: plugin.TAny,
		Doc: "The request body: a function(request) returning a dict or JSON string, a JSON template string with {{placeholders}} (see the template endpoint's docs), a named template (\"nv-embedqa\"), or the path of a template file."},
	{Name: "response_field", Type: plugin.TString,
		Doc: "JMESPath expression selecting the answer in each response JSON (e.g. \"choices[0].delta.content\"); strings are text, number lists embeddings, object lists rankings. Unset or \"text\": auto-detect."},
}

// namedTemplates are the built-in templates selectable by name.
var namedTemplates = map[string]string{
	"nv-embedqa": `{"text": {{texts}}}`,
}

func newTemplate(s *Settings, args plugin.Args) (any, error) {
	t := &Template{base: base{s}}
	var src any = s.PayloadTemplate
	if args.Has("body") {
		src = args["body"]
	}
	switch b := src.(type) {
	case nil:
		return nil, errors.New("body: required: a function(request) or a JSON template string with {{placeholders}}")
	case plugin.Func:
		t.fn = b
	case string:
		text, err := templateText(b)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		tmpl, err := compileTemplate(text)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		t.tmpl = tmpl
	default:
		return nil, fmt.Errorf("body: expected a function or a string, got %T", src)
	}
	var err error
	if t.field, err = responseFieldArg(s, args); err != nil {
		return nil, err
	}
	return t, nil
}

// responseFieldArg compiles the response_field argument (else the
// reserved extra key); nil means auto-detect.
func responseFieldArg(s *Settings, args plugin.Args) (*responsePath, error) {
	field := s.ResponseField // the reserved extra key, unless given
	if args.Has("response_field") {
		field = args.String("response_field")
	}
	if field == "" || field == "text" {
		return nil, nil
	}
	p, err := compileResponsePath(field)
	if err != nil {
		return nil, fmt.Errorf("response_field: %w", err)
	}
	return p, nil
}

// templateText resolves a body string: a named template, inline JSON, or a
// file path.
func templateText(src string) (string, error) {
	if named, ok := namedTemplates[src]; ok {
		return named, nil
	}
	trimmed := strings.TrimSpace(src)
	if trimmed == "" {
		return "", errors.New("empty template")
	}
	if c := trimmed[0]; c == '{' || c == '[' || c == '"' {
		return src, nil
	}
	data, err := os.ReadFile(trimmed)
	if err != nil {
		return "", fmt.Errorf("%q is neither a JSON template, a named template (nv-embedqa) nor a readable file: %v", abbrev(trimmed), err)
	}
	return string(data), nil
}

// FormatPayload renders the template (or calls the function) with the
// request variables, then merges the extras and the turn's extra body.
func (t *Template) FormatPayload(req *Request) ([]byte, error) {
	if len(req.Turns) == 0 {
		return nil, errNoTurns
	}
	last := req.Last()
	var rendered []byte
	if t.fn != nil {
		vars := templateVars(req, t.s, nil)
		t.mu.Lock()
		out, err := t.fn(vars)
		t.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("template body function: %w", err)
		}
		switch x := out.(type) {
		case *ordered.Map:
			body := x.Clone()
			mergeExtras(body, t.s, last)
			return encode(body)
		case string:
			rendered = []byte(x)
		case []byte:
			rendered = x
		default:
			return nil, fmt.Errorf("template body function must return a dict or a JSON string, got %T", out)
		}
	} else {
		var err error
		rendered, err = t.tmpl.render(templateVars(req, t.s, t.tmpl.uses))
		if err != nil {
			return nil, err
		}
	}
	if !json.Valid(rendered) {
		return nil, fmt.Errorf("template output is not valid JSON: %s", abbrev(string(rendered)))
	}
	if t.s.Extra.Len() == 0 && last.ExtraBody.Len() == 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, rendered); err != nil {
			return nil, fmt.Errorf("template output: %w", err)
		}
		return buf.Bytes(), nil
	}
	body := ordered.New(8)
	if err := body.UnmarshalJSON(rendered); err != nil {
		return nil, fmt.Errorf("template output must be a JSON object to merge extras into: %v", err)
	}
	mergeExtras(body, t.s, last)
	return encode(body)
}

// templateVars builds the request variables; when uses is non-nil only the
// named ones are computed.
func templateVars(req *Request, s *Settings, uses map[string]bool) *ordered.Map {
	want := func(name string) bool { return uses == nil || uses[name] }
	t := req.Last()
	v := ordered.New(24)
	first := func(list []string) any {
		if len(list) == 0 {
			return nil
		}
		return list[0]
	}
	modal := func(one, many string, groups []dataset.Named, byName string) {
		if want(one) || want(many) {
			list := flat(groups)
			if want(one) {
				v.Set(one, first(list))
			}
			if want(many) {
				v.Set(many, toAny(list))
			}
		}
		if want(byName) {
			m := ordered.New(len(groups))
			for _, g := range groups {
				prev, _ := m.Get(g.Name)
				list, _ := prev.([]any)
				m.Set(g.Name, append(list, toAny(g.Contents)...))
			}
			v.Set(byName, m)
		}
	}
	modal("text", "texts", t.Texts, "texts_by_name")
	modal("image", "images", t.Images, "images_by_name")
	modal("audio", "audios", t.Audios, "audios_by_name")
	modal("video", "videos", t.Videos, "videos_by_name")
	if want("query") || want("queries") {
		q, _ := named(t.Texts, "query", "queries")
		v.Set("query", first(q))
		v.Set("queries", toAny(q))
	}
	if want("passage") || want("passages") {
		p, _ := named(t.Texts, "passages", "passage")
		v.Set("passage", first(p))
		v.Set("passages", toAny(p))
	}
	model := s.Model(req)
	v.Set("model", model)
	if n := maxTokens(t); n >= 0 {
		v.Set("max_tokens", n)
	} else {
		v.Set("max_tokens", nil)
	}
	v.Set("role", role(t))
	v.Set("stream", s.Streaming)
	v.Set("turn_index", req.TurnIndex)
	if want("turn") {
		v.Set("turn", turnDict(t))
	}
	if want("turns") {
		turns := make([]any, len(req.Turns))
		for i := range req.Turns {
			turns[i] = turnDict(&req.Turns[i])
		}
		v.Set("turns", turns)
	}
	var sys, ctx any
	convID := ""
	if c := req.Conversation; c != nil {
		convID = c.ID
		if c.SystemPrompt != "" {
			sys = c.SystemPrompt
		}
		if c.UserContext != "" {
			ctx = c.UserContext
		}
	}
	v.Set("system_prompt", sys)
	v.Set("user_context", ctx)
	if want("request_info") {
		v.Set("request_info", ordered.FromPairs("conversation_id", convID,
			"turn_index", req.TurnIndex, "model", model, "stream", s.Streaming))
	}
	return v
}

func turnDict(t *dataset.Turn) *ordered.Map {
	var mt any
	if n := maxTokens(t); n >= 0 {
		mt = n
	}
	return ordered.FromPairs("role", role(t), "texts", toAny(flat(t.Texts)),
		"images", toAny(flat(t.Images)), "audios", toAny(flat(t.Audios)),
		"videos", toAny(flat(t.Videos)), "max_tokens", mt)
}

// templateVarNames are the variables a template may reference.
var templateVarNames = map[string]bool{
	"text": true, "texts": true, "image": true, "images": true, "audio": true, "audios": true,
	"video": true, "videos": true, "query": true, "queries": true, "passage": true, "passages": true,
	"texts_by_name": true, "images_by_name": true, "audios_by_name": true, "videos_by_name": true,
	"model": true, "max_tokens": true, "role": true, "stream": true, "turn_index": true,
	"turn": true, "turns": true, "system_prompt": true, "user_context": true, "request_info": true,
}

// jsonTemplate is a compiled JSON template: literal text and placeholders.
type jsonTemplate struct {
	segs []tmplSeg
	uses map[string]bool
}

type tmplSeg struct {
	lit      string
	path     []pathStep // placeholder when non-nil
	inString bool       // inside a JSON string literal
	src      string     // placeholder text, for errors
}

// compileTemplate splits text into literals and placeholders, tracking
// whether each placeholder sits inside a JSON string.
func compileTemplate(text string) (*jsonTemplate, error) {
	t := &jsonTemplate{uses: map[string]bool{}}
	inString, escaped := false, false
	lit := strings.Builder{}
	line := 1
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\n' {
			line++
		}
		if c == '{' && strings.HasPrefix(text[i:], "{{") {
			end := strings.Index(text[i+2:], "}}")
			if end < 0 {
				return nil, fmt.Errorf("line %d: unclosed placeholder %q", line, abbrev(text[i:]))
			}
			src := text[i+2 : i+2+end]
			expr := strings.TrimSpace(src)
			if f, ok := strings.CutSuffix(expr, "tojson"); ok {
				if f2, ok := strings.CutSuffix(strings.TrimSpace(f), "|"); ok {
					expr = strings.TrimSpace(f2)
				}
			}
			path, err := parseSimplePath(expr)
			if err != nil {
				return nil, fmt.Errorf("line %d: placeholder {{%s}}: %v", line, src, err)
			}
			if !templateVarNames[path[0].key] {
				return nil, fmt.Errorf("line %d: placeholder {{%s}}: unknown variable %q (known: %s)", line, src, path[0].key, knownVars())
			}
			t.uses[path[0].key] = true
			t.segs = append(t.segs, tmplSeg{lit: lit.String()}, tmplSeg{path: path, inString: inString, src: expr})
			lit.Reset()
			i += 2 + end + 1
			continue
		}
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		}
		lit.WriteByte(c)
	}
	t.segs = append(t.segs, tmplSeg{lit: lit.String()})
	return t, nil
}

func knownVars() string {
	names := []string{"text", "texts", "image", "images", "audio", "audios", "video", "videos",
		"query", "queries", "passage", "passages", "texts_by_name", "images_by_name", "audios_by_name",
		"videos_by_name", "model", "max_tokens", "role", "stream", "turn_index", "turn", "turns",
		"system_prompt", "user_context", "request_info"}
	return strings.Join(names, ", ")
}

func (t *jsonTemplate) render(vars *ordered.Map) ([]byte, error) {
	out := make([]byte, 0, 256)
	for _, s := range t.segs {
		if s.path == nil {
			out = append(out, s.lit...)
			continue
		}
		v, _ := evalPath(vars, s.path)
		js, err := jsonValue(v)
		if err != nil {
			return nil, fmt.Errorf("template placeholder {{%s}}: %v", s.src, err)
		}
		if !s.inString {
			out = append(out, js...)
			continue
		}
		if str, ok := v.(string); ok {
			js, _ = jsonValue(str)
		} else {
			js, _ = jsonValue(string(js))
		}
		out = append(out, js[1:len(js)-1]...) // string content without quotes
	}
	return out, nil
}

// jsonValue encodes a JSON-like Go value compactly, UTF-8 literal, no HTML
// escaping.
func jsonValue(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// pathStep is one step of a simple path: a member key or an array index.
type pathStep struct {
	key   string
	index int
	isIdx bool
}

// parseSimplePath parses `ident(.ident|[N])*` (N >= 0).
func parseSimplePath(expr string) ([]pathStep, error) {
	var steps []pathStep
	i := 0
	ident := func() (string, bool) {
		j := i
		for j < len(expr) {
			c := expr[j]
			if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (j > i && c >= '0' && c <= '9') {
				j++
				continue
			}
			break
		}
		if j == i {
			return "", false
		}
		s := expr[i:j]
		i = j
		return s, true
	}
	name, ok := ident()
	if !ok {
		return nil, fmt.Errorf("expected a variable name, got %q", expr)
	}
	steps = append(steps, pathStep{key: name})
	for i < len(expr) {
		switch expr[i] {
		case '.':
			i++
			name, ok := ident()
			if !ok {
				return nil, fmt.Errorf("expected a field name after '.' in %q", expr)
			}
			steps = append(steps, pathStep{key: name})
		case '[':
			end := strings.IndexByte(expr[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed '[' in %q", expr)
			}
			n, err := strconv.Atoi(expr[i+1 : i+end])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("index %q in %q must be a non-negative integer", expr[i+1:i+end], expr)
			}
			steps = append(steps, pathStep{index: n, isIdx: true})
			i += end + 1
		default:
			return nil, fmt.Errorf("unexpected %q in %q", expr[i:], expr)
		}
	}
	return steps, nil
}

// evalPath applies a path to Go values (*ordered.Map, []any).
func evalPath(v any, path []pathStep) (any, bool) {
	for _, st := range path {
		switch x := v.(type) {
		case *ordered.Map:
			if st.isIdx {
				return nil, false
			}
			var ok bool
			if v, ok = x.Get(st.key); !ok {
				return nil, false
			}
		case []any:
			if !st.isIdx || st.index >= len(x) {
				return nil, false
			}
			v = x[st.index]
		default:
			return nil, false
		}
	}
	return v, true
}

// responsePath extracts the answer from a response: simple paths run on
// the raw bytes, anything else through JMESPath.
type responsePath struct {
	expr   string
	simple []pathStep
	jp     *jmespath.JMESPath
}

func compileResponsePath(expr string) (*responsePath, error) {
	if steps, err := parseSimplePath(expr); err == nil {
		return &responsePath{expr: expr, simple: steps}, nil
	}
	jp, err := jmespath.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid JMESPath expression %q: %v", expr, err)
	}
	return &responsePath{expr: expr, jp: jp}, nil
}

// find returns the raw JSON of the selected value, nil when nothing matched.
func (p *responsePath) find(obj []byte) []byte {
	if p.simple != nil {
		v := obj
		for _, st := range p.simple {
			if st.isIdx {
				v = index(v, st.index)
			} else {
				v = field(v, st.key)
			}
			if v == nil {
				return nil
			}
		}
		return v
	}
	var data any
	if err := json.Unmarshal(obj, &data); err != nil {
		return nil
	}
	res, err := p.jp.Search(data)
	if err != nil || res == nil {
		return nil
	}
	raw, err := jsonValue(res)
	if err != nil {
		return nil
	}
	return raw
}

// NewParser returns a template response parser.
func (t *Template) NewParser() Parser { return &templateParser{field: t.field} }

type templateParser struct {
	field   *responsePath
	scratch []byte
}

func (p *templateParser) Message(m *sse.Message, rec *record.Record) {
	if d, ok := streamData(m, rec); ok {
		p.parse(d, m.PerfNs, rec, record.ErrSSE)
	}
}

func (p *templateParser) Body(contentType string, body []byte, perfNs int64, rec *record.Record) {
	if isEventStream(contentType) {
		bodyAsStream(p, body, perfNs, rec)
		return
	}
	p.parse(body, perfNs, rec, errAPI)
}

// parse extracts one response: non-JSON is text as-is; JSON goes through
// response_field (strict: no match is no data) or auto-detection.
func (p *templateParser) parse(data []byte, perfNs int64, rec *record.Record, errType string) {
	data = trimJSON(data)
	if len(data) == 0 {
		return
	}
	if !json.Valid(data) {
		rec.AddText(perfNs, record.KindText, data, nil)
		return
	}
	obj := isObject(data)
	if obj {
		if checkPayloadError(field(data, "error"), data, errType, rec) {
			return
		}
	}
	var kind record.Kind
	var text []byte
	var n int
	if p.field != nil {
		if v := p.field.find(data); v != nil {
			kind, text, n = detectAnswer(v, &p.scratch, true)
		}
	} else {
		kind, text, n = detectAnswer(data, &p.scratch, false)
	}
	added := true
	switch kind {
	case record.KindText:
		rec.AddText(perfNs, kind, text, nil)
	case record.KindEmbeddings, record.KindRankings:
		rec.AddItems(perfNs, kind, n)
	default:
		added = false
	}
	if obj {
		if u, ok := ResponseUsage(data); ok {
			setUsage(rec, perfNs, u, added)
		}
	}
}

var (
	autoTextNames = []string{"text", "content", "response", "output", "result"}
	autoObjNames  = []string{"data", "embeddings", "embedding", "rankings", "results", "choices"}
)

// detectAnswer classifies a response value (wire.md §5 template
// auto-detect): non-object JSON — [[num]] embeddings, [num] one embedding,
// [object] rankings, string (or [string], joined) text; objects —
// data[0].object == "embedding" or embeddings/embedding arrays →
// embeddings; rankings/results lists → rankings; the first of text,
// content, response, output, result holding a string (or list of strings)
// → text; then choices[0].text, .message.content, .delta.content.
// selected marks a value chosen by response_field: a number or bool there
// is text too.
func detectAnswer(v []byte, scratch *[]byte, selected bool) (record.Kind, []byte, int) {
	v = trimJSON(v)
	switch {
	case isString(v):
		if s, _ := stringValue(v, scratch); len(s) > 0 {
			return record.KindText, s, 0
		}
		return 0, nil, 0
	case isArray(v):
		return detectList(v, scratch)
	case isObject(v):
	default:
		if selected && len(v) > 0 && string(v) != "null" {
			return record.KindText, v, 0
		}
		return 0, nil, 0
	}
	var f [6][]byte
	fields(v, autoObjNames, f[:])
	if first := index(f[0], 0); first != nil && stringEq(field(first, "object"), "embedding") {
		return record.KindEmbeddings, nil, max(arrayLen(f[0]), 0)
	}
	if isArray(f[1]) {
		if first := trimJSON(index(f[1], 0)); isArray(first) {
			return record.KindEmbeddings, nil, arrayLen(f[1])
		} else if isNumber(first) {
			return record.KindEmbeddings, nil, 1
		}
	}
	if isArray(f[2]) && arrayLen(f[2]) > 0 {
		return record.KindEmbeddings, nil, 1
	}
	for _, list := range [][]byte{f[3], f[4]} {
		if isArray(list) {
			if n := arrayLen(list); n > 0 {
				return record.KindRankings, nil, n
			}
		}
	}
	var t [5][]byte
	fields(v, autoTextNames, t[:])
	for _, c := range t {
		if isString(c) {
			if s, _ := stringValue(c, scratch); len(s) > 0 {
				return record.KindText, s, 0
			}
		} else if isArray(c) {
			if s, ok := joinStrings(c, scratch); ok && len(s) > 0 {
				return record.KindText, s, 0
			}
		}
	}
	if choice := index(f[5], 0); choice != nil {
		for _, c := range [][]byte{
			field(choice, "text"),
			field(field(choice, "message"), "content"),
			field(field(choice, "delta"), "content"),
		} {
			if s, _ := stringValue(c, scratch); len(s) > 0 {
				return record.KindText, s, 0
			}
		}
	}
	return 0, nil, 0
}

func detectList(v []byte, scratch *[]byte) (record.Kind, []byte, int) {
	first := trimJSON(index(v, 0))
	switch {
	case first == nil:
		return 0, nil, 0
	case isArray(first):
		return record.KindEmbeddings, nil, arrayLen(v)
	case isNumber(first):
		return record.KindEmbeddings, nil, 1
	case isObject(first):
		return record.KindRankings, nil, arrayLen(v)
	case isString(first):
		if s, ok := joinStrings(v, scratch); ok && len(s) > 0 {
			return record.KindText, s, 0
		}
	}
	return 0, nil, 0
}

// joinStrings concatenates a list of strings; ok is false when an element
// is not a string.
func joinStrings(list []byte, scratch *[]byte) ([]byte, bool) {
	out := (*scratch)[:0]
	it, ok := newArrIter(list)
	for ok {
		e, more := it.next()
		if !more {
			break
		}
		if !isString(e) {
			return nil, false
		}
		if out, ok = appendString(out, e); !ok {
			return nil, false
		}
	}
	*scratch = out
	return out, true
}
