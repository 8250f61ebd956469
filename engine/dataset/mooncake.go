package dataset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/loadstar/loadstar/engine/ordered"
)

// defaultBlockSize is the tokens per hash id of Mooncake traces.
const defaultBlockSize = 512

type mooncakeLoader struct{}

func (mooncakeLoader) DefaultSampler() string { return Sequential }
func (mooncakeLoader) tokenTrace()            {}
func (mooncakeLoader) Detect(s *Sample) bool {
	return !s.IsDir && !s.Document && hasAny(s.Keys, "input_length", "hash_ids", "text_input", "messages", "payload")
}

type traceRecord struct {
	Timestamp    *float64        `json:"timestamp"`
	InputLength  *int            `json:"input_length"`
	OutputLength *int            `json:"output_length"`
	HashIDs      []int64         `json:"hash_ids"`
	TextInput    *string         `json:"text_input"`
	Messages     json.RawMessage `json:"messages"`
	Tools        json.RawMessage `json:"tools"`
	Payload      json.RawMessage `json:"payload"`
	Delay        *float64        `json:"delay"`
	SessionID    json.RawMessage `json:"session_id"`
	Extra        json.RawMessage `json:"extra"`
	Type         string          `json:"type"`
}

const traceFields = "timestamp, input_length, output_length, hash_ids, text_input, messages, tools, payload, delay, session_id, extra"

// traceTurn is one trace row kept compactly: a synthesized prompt is only
// its length and hash ids until the turn is asked for.
type traceTurn struct {
	ts, delay      float64
	hasTS, hasDel  bool
	inLen, outLen  int32
	hashLo, hashHi int32 // range in the hash arena
	line           int32
	reset          bool // sent without the session's history (a self-contained row)
	text           string
	messages       []any
	tools          any
	payload        []byte
	extra          *ordered.Map
}

type traceSession struct {
	id     string
	lo, hi int32 // range in turns after grouping
}

// Load reads a Mooncake-style trace. Rows with input_length get a prompt of
// exactly that many tokens; with hash_ids the prompt is built block by
// block, each hash id standing for the same block text wherever it
// appears, so rows sharing a hash-id prefix share a text prefix (the KV-cache
// reuse the trace records). Prompts are built when a conversation is asked
// for, so memory holds only the compact rows.
func (mooncakeLoader) Load(ctx context.Context, req *LoadRequest) (Dataset, error) {
	if req.Synthesis != nil {
		return synthesizedMooncake(ctx, req)
	}
	block := req.BlockSize
	if block <= 0 {
		block = defaultBlockSize
	}
	var (
		turns     []traceTurn
		sessionOf []int32
		sessions  []traceSession
		bySession = map[string]int32{}
		arena     []int64
		synth     bool
		hasTS     bool
	)
	err := eachLine(ctx, req.Path, func(line []byte, n int) error {
		var rec traceRecord
		if err := decodeStrict(line, &rec, traceFields); err != nil {
			return lineError(req.Path, n, err)
		}
		t, err := rec.compact(block, &arena)
		if err != nil {
			return lineError(req.Path, n, err)
		}
		t.line = int32(n)
		synth = synth || t.inLen > 0
		hasTS = hasTS || t.hasTS
		key, err := sessionKey(rec.SessionID)
		if err != nil {
			return lineError(req.Path, n, err)
		}
		s, ok := bySession[key]
		if !ok || key == "" {
			s = int32(len(sessions))
			sessions = append(sessions, traceSession{id: sessionName(key, len(sessions))})
			if key != "" {
				bySession[key] = s
			}
		}
		turns = append(turns, t)
		sessionOf = append(sessionOf, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(turns) == 0 {
		return nil, fmt.Errorf("%s: no records", req.Path)
	}
	// Group each session's rows together, keeping file order within it.
	order := make([]int32, len(turns))
	for i := range order {
		order[i] = int32(i)
	}
	sort.SliceStable(order, func(a, b int) bool { return sessionOf[order[a]] < sessionOf[order[b]] })
	grouped := make([]traceTurn, len(turns))
	for i, j := range order {
		grouped[i] = turns[j]
		s := &sessions[sessionOf[j]]
		if i == 0 || sessionOf[order[i-1]] != sessionOf[j] {
			s.lo = int32(i)
		}
		s.hi = int32(i + 1)
	}
	turns = nil
	var gen *TextGen
	var seed uint64
	if req.Env != nil {
		seed = req.Env.Seed
	}
	if synth {
		if req.Env == nil || req.Env.Tokenizer == nil {
			return nil, fmt.Errorf("%s: trace rows with input_length need a tokenizer", req.Path)
		}
		if gen, err = NewTextGen(req.Env.Tokenizer); err != nil {
			return nil, err
		}
	}
	tr := &trace{turns: grouped, sessions: sessions, arena: arena, block: block, gen: gen, seed: seed}
	return newLazySet(len(sessions), tr.conversation, Info{Sampler: Sequential, Timestamps: hasTS, Source: req.Path}), nil
}

func (rec *traceRecord) compact(block int, arena *[]int64) (traceTurn, error) {
	t := traceTurn{outLen: -1}
	if rec.Type != "" && rec.Type != MooncakeTrace {
		return t, fmt.Errorf("field \"type\": %q in a mooncake_trace file", rec.Type)
	}
	has := func(r json.RawMessage) bool { return len(r) > 0 && string(r) != "null" }
	inputs := 0
	for _, ok := range []bool{rec.InputLength != nil, rec.TextInput != nil, has(rec.Messages), has(rec.Payload)} {
		if ok {
			inputs++
		}
	}
	if inputs != 1 {
		return t, fmt.Errorf("give exactly one of input_length, text_input, messages, payload (got %d)", inputs)
	}
	if len(rec.HashIDs) > 0 && rec.InputLength == nil {
		return t, fmt.Errorf("field \"hash_ids\": needs input_length")
	}
	if has(rec.Tools) && !has(rec.Messages) {
		return t, fmt.Errorf("field \"tools\": only with messages")
	}
	if rec.Timestamp != nil {
		if *rec.Timestamp < 0 {
			return t, fmt.Errorf("field \"timestamp\": must be >= 0 (milliseconds), got %v", *rec.Timestamp)
		}
		t.ts, t.hasTS = *rec.Timestamp, true
	}
	if rec.Delay != nil {
		if *rec.Delay < 0 {
			return t, fmt.Errorf("field \"delay\": must be >= 0 (milliseconds), got %v", *rec.Delay)
		}
		t.delay, t.hasDel = *rec.Delay, true
	}
	if err := tokenLengthsFit(deref(rec.InputLength), deref(rec.OutputLength)); err != nil {
		return t, err
	}
	if rec.OutputLength != nil {
		if *rec.OutputLength < 0 {
			return t, fmt.Errorf("field \"output_length\": must be >= 0, got %d", *rec.OutputLength)
		}
		t.outLen = int32(*rec.OutputLength)
	}
	switch {
	case rec.InputLength != nil:
		in := *rec.InputLength
		if in <= 0 {
			return t, fmt.Errorf("field \"input_length\": must be > 0, got %d", in)
		}
		if k := len(rec.HashIDs); k > 0 && in <= (k-1)*block {
			return t, fmt.Errorf("field \"input_length\": %d tokens cannot hold %d hash_ids of %d-token blocks (needs more than %d)", in, k, block, (k-1)*block)
		}
		t.inLen = int32(in)
		t.hashLo = int32(len(*arena))
		*arena = append(*arena, rec.HashIDs...)
		t.hashHi = int32(len(*arena))
	case rec.TextInput != nil:
		t.text = *rec.TextInput
	case has(rec.Messages):
		v, err := ordered.Decode(rec.Messages)
		list, ok := v.([]any)
		if err != nil || !ok {
			return t, fmt.Errorf("field \"messages\": expected a list of message objects")
		}
		t.messages = list
		if has(rec.Tools) {
			if t.tools, err = ordered.Decode(rec.Tools); err != nil {
				return t, fmt.Errorf("field \"tools\": %v", err)
			}
		}
	default:
		if rec.Payload[0] != '{' {
			return t, fmt.Errorf("field \"payload\": expected a JSON object (the request body)")
		}
		t.payload = compactJSON(rec.Payload)
	}
	var err error
	if t.extra, err = extraMap(rec.Extra); err != nil {
		return t, err
	}
	return t, nil
}

// deref is *p, or 0 when p is nil.
func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

type trace struct {
	turns    []traceTurn
	sessions []traceSession
	arena    []int64
	block    int
	gen      *TextGen
	seed     uint64
}

func (tr *trace) conversation(i int) *Conversation {
	s := tr.sessions[i]
	conv := &Conversation{ID: s.id, Turns: make([]Turn, 0, s.hi-s.lo)}
	for k := s.lo; k < s.hi; k++ {
		tt := &tr.turns[k]
		t := NewTurn()
		t.TimestampMs, t.HasTimestamp = tt.ts, tt.hasTS
		t.DelayMs, t.HasDelay = tt.delay, tt.hasDel
		t.MaxTokens = int(tt.outLen)
		t.ExtraBody = tt.extra
		t.ResetContext = tt.reset
		switch {
		case tt.inLen > 0:
			t.Texts = []Named{{Name: "text", Contents: []string{tr.prompt(tt)}}}
			t.InputTokens = int(tt.inLen)
		case tt.text != "":
			t.Texts = []Named{{Name: "text", Contents: []string{tt.text}}}
		case tt.messages != nil:
			t.RawMessages, t.Tools = tt.messages, tt.tools
		default:
			t.RawPayload = tt.payload
		}
		conv.Turns = append(conv.Turns, t)
	}
	return conv
}

// prompt builds a row's text. A block of hash id h is always the same
// text: drawn from the stream of h, sized to the block (a partial last
// block, to what remains, from a stream of its own).
func (tr *trace) prompt(t *traceTurn) string {
	var b strings.Builder
	ids := tr.arena[t.hashLo:t.hashHi]
	if len(ids) == 0 {
		tr.gen.Build(&b, stream(tr.seed, "trace_prompt", uint64(t.line)), int(t.inLen), true)
		return b.String()
	}
	b.Grow(int(t.inLen) * 5)
	for j, h := range ids {
		n := tr.block
		if j == len(ids)-1 {
			n = int(t.inLen) - (len(ids)-1)*tr.block
		}
		// A whole block is the same text wherever its id appears, the last
		// block of a row included; a partial last block has its own.
		r := stream(tr.seed, "hash_block", uint64(h))
		if n != tr.block {
			r = stream(tr.seed, fmt.Sprintf("hash_tail/%d", n), uint64(h))
		}
		tr.gen.Build(&b, r, n, j == 0)
	}
	return b.String()
}

// synthesizedMooncake loads a Mooncake trace rescaled by req.Synthesis: it
// must be all token-count rows (input_length), since text, messages and
// payloads cannot be rescaled.
func synthesizedMooncake(ctx context.Context, req *LoadRequest) (Dataset, error) {
	rows, _, err := ReadTrace(ctx, req.Path, MooncakeTrace)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.InputLength <= 0 {
			return nil, lineError(req.Path, r.Line, errors.New("synthesis needs input_length on every row (text_input, messages and payload rows cannot be rescaled)"))
		}
	}
	return loadTokenTrace(req, rows, MooncakeTrace)
}
