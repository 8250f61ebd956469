package metrics

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// payloadText extracts the input text of a wire payload for ISL, following
// AIPerf (metrics.md §3): chat message contents and text parts of every role,
// tool-call names and arguments, the tools schema (name, description, JSON
// of the parameters), Responses instructions and input, completions prompt,
// embeddings input, rankings query and passages/documents/texts, TGI inputs,
// Anthropic system blocks. Texts are joined by one space. Integer lists are
// pre-tokenised input: their length is returned as pre. ok is false when
// nothing could be extracted (ISL is then absent).
func payloadText(payload []byte) (text string, pre int, ok bool) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil {
		return "", 0, false
	}
	w := &textWalker{}
	for _, key := range []string{"system", "instructions"} {
		w.content(top[key])
	}
	w.messages(top["messages"])
	for _, key := range []string{"input", "prompt", "inputs"} {
		w.inputs(top[key])
	}
	w.query(top["query"])
	for _, key := range []string{"passages", "documents", "texts"} {
		w.inputs(top[key])
	}
	w.tools(top["tools"])
	if !w.found {
		return "", 0, false
	}
	return strings.Join(w.texts, " "), w.pre, true
}

type textWalker struct {
	texts []string
	pre   int
	found bool
}

func (w *textWalker) add(s string) {
	w.found = true
	w.texts = append(w.texts, s)
}

func kind(raw json.RawMessage) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func str(raw json.RawMessage) (string, bool) {
	if kind(raw) != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func array(raw json.RawMessage) []json.RawMessage {
	if kind(raw) != '[' {
		return nil
	}
	var a []json.RawMessage
	if json.Unmarshal(raw, &a) != nil {
		return nil
	}
	return a
}

func object(raw json.RawMessage) map[string]json.RawMessage {
	if kind(raw) != '{' {
		return nil
	}
	var o map[string]json.RawMessage
	if json.Unmarshal(raw, &o) != nil {
		return nil
	}
	return o
}

// content handles a message content: a string or a list of parts.
func (w *textWalker) content(raw json.RawMessage) {
	if s, ok := str(raw); ok {
		w.add(s)
		return
	}
	for _, part := range array(raw) {
		if s, ok := str(part); ok {
			w.add(s)
			continue
		}
		p := object(part)
		if p == nil {
			continue
		}
		if s, ok := str(p["text"]); ok {
			w.add(s)
			continue
		}
		typ, _ := str(p["type"])
		switch typ {
		case "tool_use": // Anthropic tool call block
			if s, ok := str(p["name"]); ok {
				w.add(s)
			}
			if in := p["input"]; len(in) > 0 {
				w.add(pythonJSON(in))
			}
		case "tool_result":
			w.content(p["content"])
		}
	}
}

func (w *textWalker) messages(raw json.RawMessage) {
	for _, m := range array(raw) {
		msg := object(m)
		if msg == nil {
			continue
		}
		w.content(msg["content"])
		for _, tc := range array(msg["tool_calls"]) {
			call := object(tc)
			fn := object(call["function"])
			if fn == nil {
				continue
			}
			if s, ok := str(fn["name"]); ok {
				w.add(s)
			}
			if s, ok := str(fn["arguments"]); ok {
				w.add(s)
			}
		}
	}
}

// inputs handles prompt/input/inputs/passages: a string, a list of strings,
// a list of integers (pre-tokenised), a list of such lists, Responses input
// items ({role, content}) or objects with a text field.
func (w *textWalker) inputs(raw json.RawMessage) {
	switch kind(raw) {
	case '"':
		s, _ := str(raw)
		w.add(s)
	case '[':
		items := array(raw)
		if ints, ok := intList(items); ok {
			w.found = true
			w.pre += ints
			return
		}
		for _, it := range items {
			switch kind(it) {
			case '"', '[':
				w.inputs(it)
			case '{':
				o := object(it)
				if c, ok := o["content"]; ok {
					w.content(c)
				} else if s, ok := str(o["text"]); ok {
					w.add(s)
				}
			}
		}
	}
}

// intList reports whether items are all integers, and how many.
func intList(items []json.RawMessage) (int, bool) {
	if len(items) == 0 {
		return 0, false
	}
	for _, it := range items {
		if k := kind(it); k != '-' && (k < '0' || k > '9') {
			return 0, false
		}
	}
	return len(items), true
}

func (w *textWalker) query(raw json.RawMessage) {
	if s, ok := str(raw); ok {
		w.add(s)
		return
	}
	if o := object(raw); o != nil {
		if s, ok := str(o["text"]); ok {
			w.add(s)
		}
	}
}

// tools adds each tool's name, description and JSON parameters (chat's
// {"type":"function","function":{...}}, or flat Responses/Anthropic tools).
func (w *textWalker) tools(raw json.RawMessage) {
	for _, t := range array(raw) {
		tool := object(t)
		if fn := object(tool["function"]); fn != nil {
			tool = fn
		}
		if tool == nil {
			continue
		}
		if s, ok := str(tool["name"]); ok {
			w.add(s)
		}
		if s, ok := str(tool["description"]); ok {
			w.add(s)
		}
		for _, key := range []string{"parameters", "input_schema"} {
			if p := tool[key]; len(p) > 0 && kind(p) != 'n' {
				w.add(pythonJSON(p))
				break
			}
		}
	}
}

// pythonJSON renders a JSON value as Python's json.dumps does by default
// (", " and ": " separators, non-ASCII escaped), keeping key order, so the
// tool schema text tokenizes as AIPerf's does.
func pythonJSON(raw json.RawMessage) string {
	var compact bytes.Buffer
	if json.Compact(&compact, raw) != nil {
		return string(raw)
	}
	src := compact.Bytes()
	var out strings.Builder
	out.Grow(len(src) + len(src)/8)
	inStr := false
	for i := 0; i < len(src); {
		c := src[i]
		if inStr {
			switch {
			case c == '\\':
				// Keep escapes as they are, but normalise \/ as Python would.
				if i+1 < len(src) && src[i+1] == '/' {
					out.WriteByte('/')
				} else if i+1 < len(src) {
					out.Write(src[i : i+2])
				}
				i += 2
				continue
			case c == '"':
				inStr = false
				out.WriteByte(c)
			case c >= utf8.RuneSelf:
				r, size := utf8.DecodeRune(src[i:])
				writeUnicodeEscape(&out, r)
				i += size
				continue
			default:
				out.WriteByte(c)
			}
			i++
			continue
		}
		switch c {
		case '"':
			inStr = true
			out.WriteByte(c)
		case ',':
			out.WriteString(", ")
		case ':':
			out.WriteString(": ")
		default:
			out.WriteByte(c)
		}
		i++
	}
	return out.String()
}

func writeUnicodeEscape(out *strings.Builder, r rune) {
	hex := func(v rune) {
		s := strconv.FormatInt(int64(v), 16)
		out.WriteString(`\u`)
		out.WriteString(strings.Repeat("0", 4-len(s)))
		out.WriteString(s)
	}
	if r > 0xFFFF {
		r1, r2 := utf16.EncodeRune(r)
		hex(r1)
		hex(r2)
		return
	}
	hex(r)
}
