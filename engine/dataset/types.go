// Package dataset builds what a benchmark sends: conversations of turns,
// synthesized token-exactly or loaded from files, and the samplers and stores
// that hand them to the timing strategy.
package dataset

import "github.com/loadstar/loadstar/engine/ordered"

// Named is one named group of modality contents (AIPerf's `{name, contents}`).
// Text contents are strings; image/video contents are URLs or data URLs;
// audio contents are "FORMAT,BASE64" strings or data:audio URLs.
type Named struct {
	Name     string
	Contents []string
}

// Turn is one request's worth of input.
type Turn struct {
	Role   string // "" means "user"
	Texts  []Named
	Images []Named
	Audios []Named
	Videos []Named

	Model     string // overrides the endpoint's model when set
	MaxTokens int    // requested output length; -1 = not set

	// TimestampMs is the absolute send time in a trace (fixed schedule);
	// DelayMs the think time after the previous turn's answer.
	TimestampMs  float64
	HasTimestamp bool
	DelayMs      float64
	HasDelay     bool

	ExtraBody    *ordered.Map // merged last into the payload
	ExtraHeaders [][2]string
	Tools        any   // raw tools (JSON value), chat/responses/messages
	RawMessages  []any // messages spliced as-is (trace `messages`)
	RawPayload   []byte
	ResetContext bool

	// InputTokens is the exact input length when the composer built the
	// prompt to a token count; -1 when unknown.
	InputTokens int
}

// NewTurn returns a user turn with every optional field absent.
func NewTurn() Turn { return Turn{MaxTokens: -1, InputTokens: -1} }

// FirstText returns the first text content, or "".
func (t *Turn) FirstText() string {
	for _, n := range t.Texts {
		for _, c := range n.Contents {
			return c
		}
	}
	return ""
}

// Conversation is a session: turns sent in order on one correlation id.
type Conversation struct {
	ID           string
	Turns        []Turn
	SystemPrompt string // shared system prompt, "" if none
	UserContext  string // per-user context prompt, "" if none
}

// Dataset is the pool of conversations a benchmark draws from.
type Dataset interface {
	// Len returns the number of conversations.
	Len() int
	// Conversation returns conversation i, 0 <= i < Len(). The result is
	// shared and must not be modified.
	Conversation(i int) *Conversation
}

// Sampler chooses which conversation is sent next.
type Sampler interface {
	// Next returns the index of the next conversation.
	Next() int
}
