// Package endpoint holds the endpoint plugins: each knows how to build one
// request body from dataset turns and how to read the server's answer back
// into a record (tokens, text, usage, errors). The wire rules they follow
// are in docs/wire.md.
package endpoint

import (
	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// Request is what an endpoint formats: the conversation so far.
type Request struct {
	// Turns is the history up to and including the turn being sent; earlier
	// assistant answers appear as turns with Role "assistant".
	Turns []dataset.Turn
	// Conversation is the dataset conversation (system prompt, user context).
	Conversation *dataset.Conversation
	// TurnIndex is the index of the turn being sent within Conversation.
	TurnIndex int
	// Model is the resolved model name for this request.
	Model string
}

// Last returns the turn being sent.
func (r *Request) Last() *dataset.Turn { return &r.Turns[len(r.Turns)-1] }

// Endpoint formats requests and creates response parsers.
type Endpoint interface {
	// FormatPayload returns the exact request body for req.
	FormatPayload(req *Request) ([]byte, error)
	// NewParser returns a parser for one response. Stateless endpoints may
	// return a shared parser.
	NewParser() Parser
}

// Parser reads one response into a record. Implementations append responses
// with rec.AddText / AddItems / AddUsage and report failures with
// rec.SetError; they must not retain the byte slices they are given.
type Parser interface {
	// Message handles one SSE message of a streaming response.
	Message(m *sse.Message, rec *record.Record)
	// Body handles a whole non-SSE body received at perfNs.
	Body(contentType string, body []byte, perfNs int64, rec *record.Record)
}

// Reusable is implemented by parsers that carry nothing from one response
// to the next but scratch space and a remembered chunk shape (which is
// checked byte for byte before it is used). The runner keeps one such
// parser per request in flight instead of making one per request.
type Reusable interface {
	Parser
	Reusable()
}

// Wire is optional: endpoints that need more than the defaults (Accept
// header from streaming, Content-Type application/json, Bearer auth)
// implement it.
type Wire interface {
	// Headers returns extra request headers, e.g. Anthropic's x-api-key and
	// anthropic-version; apiKey is "" when none was configured. When it
	// returns auth headers the transport does not add Authorization: Bearer.
	Headers(apiKey string) (headers [][2]string, handlesAuth bool)
}

// Configured is implemented by every endpoint built from the common
// parameters (NewSettings): the runner reads where and how to send from its
// Settings — URLs, streaming mode, models, timeout — and builds each
// request's headers with Settings.AppendHeaders.
type Configured interface {
	Settings() *Settings
}

// CountedInput returns the input sequence length of the payload formatted
// for r when the dataset already knows it, else -1. The ISL is the token
// count of every text the payload carries, joined by a space (AIPerf's
// compute_input_token_count); the composer's count of the turn being sent
// is that number only when the payload carries that turn's single text and
// nothing else to tokenize: no system prompt or user context, no earlier
// turns, no tools, no raw messages. Any other payload is tokenized by the
// metrics side.
func (r *Request) CountedInput() int {
	if len(r.Turns) != 1 {
		return -1
	}
	t := &r.Turns[0]
	if t.InputTokens < 0 || t.Tools != nil || len(t.RawMessages) > 0 || len(t.RawPayload) > 0 {
		return -1
	}
	if c := r.Conversation; c != nil && (c.SystemPrompt != "" || c.UserContext != "") {
		return -1
	}
	texts := 0
	for _, g := range t.Texts {
		texts += len(g.Contents)
	}
	if texts != 1 {
		return -1
	}
	return t.InputTokens
}
