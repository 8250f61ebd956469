package mock

import "strconv"

// APIs whose streams are named events ("event: NAME\ndata: {...}\n\n"):
// Anthropic Messages and OpenAI Responses.

// ---- Anthropic Messages ----

func (p *plan) anthropicStop() string {
	if p.finish == "length" {
		return "max_tokens"
	}
	return "end_turn"
}

// signature stands for the opaque signature of a thinking block.
func (p *plan) signature(b []byte) []byte {
	b = append(b, `"sig_`...)
	b = append(b, p.id[:]...)
	return append(b, '"')
}

func (p *plan) messagesUsage(b []byte, output int) []byte {
	b = append(b, `{"input_tokens":`...)
	b = appendInt(b, p.promptTokens)
	b = append(b, `,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":`...)
	b = appendInt(b, output)
	return append(b, '}')
}

func blockStart(b []byte, index int, thinking bool) []byte {
	b = append(b, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":"...)
	b = appendInt(b, index)
	if thinking {
		b = append(b, `,"content_block":{"type":"thinking","thinking":"","signature":""}}`...)
	} else {
		b = append(b, `,"content_block":{"type":"text","text":""}}`...)
	}
	return append(b, "\n\n"...)
}

func blockStop(b []byte, index int) []byte {
	b = append(b, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":"...)
	b = appendInt(b, index)
	return append(b, "}\n\n"...)
}

func (p *plan) signatureDelta(b []byte) []byte {
	b = append(b, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":"...)
	b = p.signature(b)
	return append(b, "}}\n\n"...)
}

func (p *plan) messagesHead(b []byte) []byte {
	b = append(b, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_"...)
	b = append(b, p.id[:]...)
	b = append(b, `","type":"message","role":"assistant","model":`...)
	b = append(b, p.modelJSON...)
	b = append(b, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	b = p.messagesUsage(b, 1)
	b = append(b, "}}\n\n"...)
	b = blockStart(b, 0, p.reasoning > 0)
	return append(b, "event: ping\ndata: {\"type\":\"ping\"}\n\n"...)
}

func (p *plan) messagesToken(b []byte, i int) []byte {
	index := 0
	if p.reasoning > 0 {
		if i == p.reasoning { // thinking ends, the answer starts
			b = p.signatureDelta(b)
			b = blockStop(b, 0)
			b = blockStart(b, 1, false)
		}
		if i >= p.reasoning {
			index = 1
		}
	}
	b = append(b, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":"...)
	b = appendInt(b, index)
	if i < p.reasoning {
		b = append(b, `,"delta":{"type":"thinking_delta","thinking":"`...)
	} else {
		b = append(b, `,"delta":{"type":"text_delta","text":"`...)
	}
	b = append(b, vocab[p.toks[i]]...)
	return append(b, "\"}}\n\n"...)
}

func (p *plan) messagesTail(b []byte) []byte {
	switch {
	case p.reasoning == 0:
		b = blockStop(b, 0)
	case p.reasoning == p.n(): // thinking only
		b = p.signatureDelta(b)
		b = blockStop(b, 0)
	default:
		b = blockStop(b, 1)
	}
	b = append(b, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\""...)
	b = append(b, p.anthropicStop()...)
	b = append(b, `","stop_sequence":null},"usage":{"output_tokens":`...)
	b = appendInt(b, p.n())
	b = append(b, "}}\n\n"...)
	return append(b, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"...)
}

func (p *plan) messagesBody(b []byte) []byte {
	b = append(b, `{"id":"msg_`...)
	b = append(b, p.id[:]...)
	b = append(b, `","type":"message","role":"assistant","model":`...)
	b = append(b, p.modelJSON...)
	b = append(b, `,"content":[`...)
	if p.reasoning > 0 {
		b = append(b, `{"type":"thinking","thinking":`...)
		b = appendQuotedTokens(b, p.toks[:p.reasoning])
		b = append(b, `,"signature":`...)
		b = p.signature(b)
		b = append(b, "},"...)
	}
	b = append(b, `{"type":"text","text":`...)
	b = appendQuotedTokens(b, p.content())
	b = append(b, `}],"stop_reason":"`...)
	b = append(b, p.anthropicStop()...)
	b = append(b, `","stop_sequence":null,"usage":`...)
	b = p.messagesUsage(b, p.n())
	return append(b, '}')
}

// ---- OpenAI Responses ----

// event starts a Responses event: the event line and the data object up to
// its sequence number; the caller appends the rest and "}\n\n".
func (p *plan) event(b []byte, typ string) []byte {
	b = append(b, "event: "...)
	b = append(b, typ...)
	b = append(b, "\ndata: {\"type\":\""...)
	b = append(b, typ...)
	b = append(b, `","sequence_number":`...)
	b = appendInt(b, p.evSeq)
	p.evSeq++
	return b
}

func (p *plan) itemID(b []byte, reasoning bool) []byte {
	if reasoning {
		b = append(b, `"rs_`...)
	} else {
		b = append(b, `"msg_`...)
	}
	b = append(b, p.id[:]...)
	return append(b, '"')
}

// messageIndex is the output index of the message item.
func (p *plan) messageIndex() int {
	if p.reasoning > 0 {
		return 1
	}
	return 0
}

func (p *plan) responsesUsage(b []byte) []byte {
	b = append(b, `{"input_tokens":`...)
	b = appendInt(b, p.promptTokens)
	b = append(b, `,"input_tokens_details":{"cached_tokens":0},"output_tokens":`...)
	b = appendInt(b, p.n())
	b = append(b, `,"output_tokens_details":{"reasoning_tokens":`...)
	b = appendInt(b, p.reasoning)
	b = append(b, `},"total_tokens":`...)
	b = appendInt(b, p.promptTokens+p.n())
	return append(b, '}')
}

func (p *plan) reasoningItem(b []byte, done bool) []byte {
	b = append(b, `{"id":`...)
	b = p.itemID(b, true)
	b = append(b, `,"type":"reasoning","summary":[`...)
	if done {
		b = append(b, `{"type":"summary_text","text":`...)
		b = appendQuotedTokens(b, p.toks[:p.reasoning])
		b = append(b, `}],"content":[{"type":"reasoning_text","text":`...)
		b = appendQuotedTokens(b, p.toks[:p.reasoning])
		return append(b, "}]}"...)
	}
	return append(b, `],"content":[]}`...)
}

func (p *plan) outputTextPart(b []byte, done bool) []byte {
	b = append(b, `{"type":"output_text","annotations":[],"logprobs":[],"text":`...)
	if done {
		b = appendQuotedTokens(b, p.content())
	} else {
		b = append(b, `""`...)
	}
	return append(b, '}')
}

func (p *plan) messageItem(b []byte, done bool) []byte {
	b = append(b, `{"id":`...)
	b = p.itemID(b, false)
	if done {
		b = append(b, `,"type":"message","status":"completed","role":"assistant","content":[`...)
		b = p.outputTextPart(b, true)
		return append(b, "]}"...)
	}
	return append(b, `,"type":"message","status":"in_progress","role":"assistant","content":[]}`...)
}

// responseObject is the Responses API response resource.
func (p *plan) responseObject(b []byte, done bool) []byte {
	b = append(b, `{"id":"resp_`...)
	b = append(b, p.id[:]...)
	b = append(b, `","object":"response","created_at":`...)
	b = strconv.AppendInt(b, p.created, 10)
	if done {
		b = append(b, `,"status":"completed"`...)
	} else {
		b = append(b, `,"status":"in_progress"`...)
	}
	b = append(b, `,"background":false,"error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":`...)
	if p.in.maxTokens >= 0 {
		b = appendInt(b, p.in.maxTokens)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"model":`...)
	b = append(b, p.modelJSON...)
	b = append(b, `,"output":[`...)
	if done {
		if p.reasoning > 0 {
			b = p.reasoningItem(b, true)
			b = append(b, ',')
		}
		b = p.messageItem(b, true)
	}
	b = append(b, `],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":`...)
	if p.in.effort != "" {
		b = appendJSONString(b, p.in.effort)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"summary":null},"store":false,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":`...)
	if done {
		b = p.responsesUsage(b)
	} else {
		b = append(b, "null"...)
	}
	return append(b, `,"metadata":{}}`...)
}

func (p *plan) responsesHead(b []byte) []byte {
	b = p.event(b, "response.created")
	b = append(b, `,"response":`...)
	b = p.responseObject(b, false)
	b = append(b, "}\n\n"...)
	b = p.event(b, "response.in_progress")
	b = append(b, `,"response":`...)
	b = p.responseObject(b, false)
	return append(b, "}\n\n"...)
}

// itemRef appends the item_id/output_index/content_index triple.
func (p *plan) itemRef(b []byte, reasoning bool) []byte {
	b = append(b, `,"item_id":`...)
	b = p.itemID(b, reasoning)
	b = append(b, `,"output_index":`...)
	if reasoning {
		b = append(b, '0')
	} else {
		b = appendInt(b, p.messageIndex())
	}
	return append(b, `,"content_index":0`...)
}

func (p *plan) openReasoning(b []byte) []byte {
	b = p.event(b, "response.output_item.added")
	b = append(b, `,"output_index":0,"item":`...)
	b = p.reasoningItem(b, false)
	b = append(b, "}\n\n"...)
	b = p.event(b, "response.content_part.added")
	b = p.itemRef(b, true)
	b = append(b, `,"part":{"type":"reasoning_text","text":""}}`+"\n\n"...)
	return b
}

func (p *plan) closeReasoning(b []byte) []byte {
	b = p.event(b, "response.reasoning_text.done")
	b = p.itemRef(b, true)
	b = append(b, `,"text":`...)
	b = appendQuotedTokens(b, p.toks[:p.reasoning])
	b = append(b, "}\n\n"...)
	b = p.event(b, "response.content_part.done")
	b = p.itemRef(b, true)
	b = append(b, `,"part":{"type":"reasoning_text","text":`...)
	b = appendQuotedTokens(b, p.toks[:p.reasoning])
	b = append(b, "}}\n\n"...)
	b = p.event(b, "response.output_item.done")
	b = append(b, `,"output_index":0,"item":`...)
	b = p.reasoningItem(b, true)
	return append(b, "}\n\n"...)
}

func (p *plan) openMessage(b []byte) []byte {
	b = p.event(b, "response.output_item.added")
	b = append(b, `,"output_index":`...)
	b = appendInt(b, p.messageIndex())
	b = append(b, `,"item":`...)
	b = p.messageItem(b, false)
	b = append(b, "}\n\n"...)
	b = p.event(b, "response.content_part.added")
	b = p.itemRef(b, false)
	b = append(b, `,"part":`...)
	b = p.outputTextPart(b, false)
	return append(b, "}\n\n"...)
}

func (p *plan) responsesToken(b []byte, i int) []byte {
	if i == 0 && p.reasoning > 0 {
		b = p.openReasoning(b)
	}
	if i == p.reasoning {
		if p.reasoning > 0 {
			b = p.closeReasoning(b)
		}
		b = p.openMessage(b)
	}
	if i < p.reasoning {
		b = p.event(b, "response.reasoning_text.delta")
		b = p.itemRef(b, true)
	} else {
		b = p.event(b, "response.output_text.delta")
		b = p.itemRef(b, false)
	}
	b = append(b, `,"delta":"`...)
	b = append(b, vocab[p.toks[i]]...)
	if i < p.reasoning {
		return append(b, "\"}\n\n"...)
	}
	return append(b, "\",\"logprobs\":[]}\n\n"...)
}

func (p *plan) responsesTail(b []byte) []byte {
	if p.reasoning == p.n() { // no answer token opened the message
		if p.reasoning > 0 {
			b = p.closeReasoning(b)
		}
		b = p.openMessage(b)
	}
	b = p.event(b, "response.output_text.done")
	b = p.itemRef(b, false)
	b = append(b, `,"text":`...)
	b = appendQuotedTokens(b, p.content())
	b = append(b, ",\"logprobs\":[]}\n\n"...)
	b = p.event(b, "response.content_part.done")
	b = p.itemRef(b, false)
	b = append(b, `,"part":`...)
	b = p.outputTextPart(b, true)
	b = append(b, "}\n\n"...)
	b = p.event(b, "response.output_item.done")
	b = append(b, `,"output_index":`...)
	b = appendInt(b, p.messageIndex())
	b = append(b, `,"item":`...)
	b = p.messageItem(b, true)
	b = append(b, "}\n\n"...)
	b = p.event(b, "response.completed")
	b = append(b, `,"response":`...)
	b = p.responseObject(b, true)
	return append(b, "}\n\n"...)
}

func (p *plan) responsesBody(b []byte) []byte { return p.responseObject(b, true) }
