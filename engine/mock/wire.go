package mock

import (
	"strconv"
	"unicode/utf8"
)

// Frames and bodies are built by appending bytes: the mock answers tens of
// thousands of requests per second and must never be the bottleneck. JSON is
// compact, in the key order real servers use.

// appendHead appends what a stream sends right after the headers, before the
// first token (Anthropic message_start, Responses response.created, …).
func (p *plan) appendHead(b []byte) []byte {
	if f := apis[p.api].head; f != nil {
		return f(p, b)
	}
	return b
}

// appendToken appends the frame(s) of token i.
func (p *plan) appendToken(b []byte, i int) []byte {
	if f := apis[p.api].token; f != nil {
		return f(p, b, i)
	}
	return b
}

// appendTail appends what follows the last token (usage, [DONE], stop events).
func (p *plan) appendTail(b []byte) []byte {
	if f := apis[p.api].tail; f != nil {
		return f(p, b)
	}
	return b
}

// appendBody appends the whole non-streaming body.
func (p *plan) appendBody(b []byte) []byte { return apis[p.api].body(p, b) }

func appendInt(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }

// appendJSONString appends s as a JSON string: UTF-8 kept literal, no HTML
// escaping, invalid bytes replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendQuotedTokens appends the tokens' text as a JSON string. Vocab
// entries need no escaping.
func appendQuotedTokens(b []byte, toks []uint16) []byte {
	b = append(b, '"')
	b = appendText(b, toks)
	return append(b, '"')
}

// ---- OpenAI chat completions ----

const fingerprint = `"system_fingerprint":"fp_loadstar_mock",`

func (p *plan) chatPrefix(b []byte) []byte {
	b = append(b, `data: {"id":"chatcmpl-`...)
	b = append(b, p.id[:]...)
	b = append(b, `","object":"chat.completion.chunk","created":`...)
	b = strconv.AppendInt(b, p.created, 10)
	b = append(b, `,"model":`...)
	b = append(b, p.modelJSON...)
	b = append(b, ',')
	return append(b, fingerprint...)
}

func (p *plan) chatChunk(b []byte, i int) []byte {
	b = p.chatPrefix(b)
	b = append(b, `"choices":[{"index":0,"delta":{`...)
	if i == 0 {
		b = append(b, `"role":"assistant",`...)
	}
	if i < p.reasoning {
		b = append(b, `"reasoning_content":"`...)
	} else {
		b = append(b, `"content":"`...)
	}
	b = append(b, vocab[p.toks[i]]...)
	b = append(b, `"},"logprobs":null,"finish_reason":`...)
	if i == p.n()-1 {
		b = append(b, '"')
		b = append(b, p.finish...)
		b = append(b, '"')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, "}]"...)
	if p.in.continuousUsage { // vLLM's per-chunk usage
		b = append(b, `,"usage":`...)
		b = p.usage(b, i+1, min(i+1, p.reasoning))
	}
	return append(b, "}\n\n"...)
}

func (p *plan) chatTail(b []byte) []byte {
	if p.n() == 0 { // no token carried the finish reason
		b = p.chatPrefix(b)
		b = append(b, `"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":"`...)
		b = append(b, p.finish...)
		b = append(b, "\"}]}\n\n"...)
	}
	if p.in.includeUsage {
		b = p.chatPrefix(b)
		b = append(b, `"choices":[],"usage":`...)
		b = p.usage(b, p.n(), p.reasoning)
		b = append(b, "}\n\n"...)
	}
	return append(b, "data: [DONE]\n\n"...)
}

// usage appends an OpenAI usage object for `completion` output tokens of
// which `reasoning` are reasoning tokens.
func (p *plan) usage(b []byte, completion, reasoning int) []byte {
	b = append(b, `{"prompt_tokens":`...)
	b = appendInt(b, p.promptTokens)
	b = append(b, `,"completion_tokens":`...)
	b = appendInt(b, completion)
	b = append(b, `,"total_tokens":`...)
	b = appendInt(b, p.promptTokens+completion)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":`...)
	b = appendInt(b, reasoning)
	return append(b, "}}"...)
}

func (p *plan) chatBody(b []byte) []byte {
	b = append(b, `{"id":"chatcmpl-`...)
	b = append(b, p.id[:]...)
	b = append(b, `","object":"chat.completion","created":`...)
	b = strconv.AppendInt(b, p.created, 10)
	b = append(b, `,"model":`...)
	b = append(b, p.modelJSON...)
	b = append(b, ',')
	b = append(b, fingerprint...)
	b = append(b, `"choices":[{"index":0,"message":{"role":"assistant","content":`...)
	b = appendQuotedTokens(b, p.content())
	if p.reasoning > 0 {
		b = append(b, `,"reasoning_content":`...)
		b = appendQuotedTokens(b, p.toks[:p.reasoning])
	}
	b = append(b, `},"logprobs":null,"finish_reason":"`...)
	b = append(b, p.finish...)
	b = append(b, `"}],"usage":`...)
	b = p.usage(b, p.n(), p.reasoning)
	return append(b, '}')
}

// ---- OpenAI completions ----

func (p *plan) completionPrefix(b []byte) []byte {
	b = append(b, `data: {"id":"cmpl-`...)
	b = append(b, p.id[:]...)
	b = append(b, `","object":"text_completion","created":`...)
	b = strconv.AppendInt(b, p.created, 10)
	b = append(b, `,"model":`...)
	b = append(b, p.modelJSON...)
	b = append(b, ',')
	return append(b, fingerprint...)
}

func (p *plan) completionChunk(b []byte, i int) []byte {
	b = p.completionPrefix(b)
	b = append(b, `"choices":[{"index":0,"text":"`...)
	b = append(b, vocab[p.toks[i]]...)
	b = append(b, `","logprobs":null,"finish_reason":`...)
	if i == p.n()-1 {
		b = append(b, '"')
		b = append(b, p.finish...)
		b = append(b, '"')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, "}]"...)
	if p.in.continuousUsage {
		b = append(b, `,"usage":`...)
		b = p.usage(b, i+1, 0)
	}
	return append(b, "}\n\n"...)
}

func (p *plan) completionTail(b []byte) []byte {
	if p.n() == 0 {
		b = p.completionPrefix(b)
		b = append(b, `"choices":[{"index":0,"text":"","logprobs":null,"finish_reason":"`...)
		b = append(b, p.finish...)
		b = append(b, "\"}]}\n\n"...)
	}
	if p.in.includeUsage {
		b = p.completionPrefix(b)
		b = append(b, `"choices":[],"usage":`...)
		b = p.usage(b, p.n(), 0)
		b = append(b, "}\n\n"...)
	}
	return append(b, "data: [DONE]\n\n"...)
}

func (p *plan) completionBody(b []byte) []byte {
	b = append(b, `{"id":"cmpl-`...)
	b = append(b, p.id[:]...)
	b = append(b, `","object":"text_completion","created":`...)
	b = strconv.AppendInt(b, p.created, 10)
	b = append(b, `,"model":`...)
	b = append(b, p.modelJSON...)
	b = append(b, ',')
	b = append(b, fingerprint...)
	b = append(b, `"choices":[{"index":0,"text":`...)
	b = appendQuotedTokens(b, p.toks)
	b = append(b, `,"logprobs":null,"finish_reason":"`...)
	b = append(b, p.finish...)
	b = append(b, `"}],"usage":`...)
	b = p.usage(b, p.n(), 0)
	return append(b, '}')
}

// ---- Hugging Face TGI ----

// tgiFinish maps the finish reason to TGI's names.
func (p *plan) tgiFinish() string {
	if p.finish == "length" {
		return "length"
	}
	return "eos_token"
}

// tgiFrame is one /generate_stream event. TGI writes "data:" without a
// space and sends no [DONE]; the last event carries generated_text.
func (p *plan) tgiFrame(b []byte, i int) []byte {
	t := p.toks[i]
	b = append(b, `data:{"index":`...)
	b = appendInt(b, i)
	b = append(b, `,"token":{"id":`...)
	b = appendInt(b, int(t))
	b = append(b, `,"text":"`...)
	b = append(b, vocab[t]...)
	b = append(b, `","logprob":-`...)
	b = strconv.AppendFloat(b, float64(t%97+1)/100, 'f', 2, 64)
	b = append(b, `,"special":false},"top_tokens":null,"generated_text":`...)
	if i == p.n()-1 {
		b = appendQuotedTokens(b, p.toks)
		b = append(b, `,"details":{"finish_reason":"`...)
		b = append(b, p.tgiFinish()...)
		b = append(b, `","generated_tokens":`...)
		b = appendInt(b, p.n())
		b = append(b, `,"input_length":`...)
		b = appendInt(b, p.promptTokens)
		b = append(b, `,"seed":null}`...)
	} else {
		b = append(b, `null,"details":null`...)
	}
	return append(b, "}\n\n"...)
}

func (p *plan) tgiBody(b []byte) []byte {
	b = append(b, `{"generated_text":`...)
	b = appendQuotedTokens(b, p.toks)
	if p.in.details {
		b = append(b, `,"details":{"finish_reason":"`...)
		b = append(b, p.tgiFinish()...)
		b = append(b, `","generated_tokens":`...)
		b = appendInt(b, p.n())
		b = append(b, `,"input_length":`...)
		b = appendInt(b, p.promptTokens)
		b = append(b, `,"seed":null,"prefill":[],"tokens":[]}`...)
	}
	return append(b, '}')
}
