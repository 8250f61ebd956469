package dataset

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
)

// ShareGPT is the ShareGPT conversation format (a JSON list of
// {"id", "conversations": [{"from": "human"|"gpt", "value": ...}]}).
const ShareGPT = "sharegpt"

// The sequence filter AIPerf adopts from vLLM's benchmark datasets: a
// prompt of 4 to 1024 tokens, an answer of at least 4, both together at
// most 2048.
const (
	shareGPTMinLen    = 4
	shareGPTMaxPrompt = 1024
	shareGPTMaxTotal  = 2048
)

// shareGPTLoader reads a local ShareGPT file (AIPerf's --public-dataset
// sharegpt downloads the same file): every human message followed by a gpt
// message is one turn of the conversation, multi-turn kept, asking for as
// many tokens as the recorded answer has. A conversation with a pair
// outside the filter is left out whole, as AIPerf does.
type shareGPTLoader struct{}

func (shareGPTLoader) DefaultSampler() string { return Sequential }
func (shareGPTLoader) Detect(s *Sample) bool {
	return s.Array && s.Keys["conversations"]
}

type shareGPTEntry struct {
	ID            json.RawMessage `json:"id"`
	Conversations []struct {
		From  string `json:"from"`
		Value string `json:"value"`
	} `json:"conversations"`
}

// pairs returns the (prompt, answer) pairs of an entry: each human message
// directly followed by a gpt message; without roles, the first two values.
func (e *shareGPTEntry) pairs() [][2]string {
	msgs := e.Conversations
	if len(msgs) < 2 {
		return nil
	}
	roles := false
	for _, m := range msgs {
		if m.From == "human" || m.From == "gpt" {
			roles = true
			break
		}
	}
	if !roles {
		if msgs[0].Value == "" || msgs[1].Value == "" {
			return nil
		}
		return [][2]string{{msgs[0].Value, msgs[1].Value}}
	}
	var role []int
	for i, m := range msgs {
		if m.From == "human" || m.From == "gpt" {
			role = append(role, i)
		}
	}
	var out [][2]string
	for k := 0; k+1 < len(role); {
		a, b := msgs[role[k]], msgs[role[k+1]]
		if a.From == "human" && b.From == "gpt" {
			if a.Value != "" && b.Value != "" {
				out = append(out, [2]string{a.Value, b.Value})
			}
			k += 2
		} else {
			k++
		}
	}
	return out
}

// Load reads the list one entry at a time.
func (shareGPTLoader) Load(ctx context.Context, req *LoadRequest) (Dataset, error) {
	if req.Env == nil || req.Env.Tokenizer == nil {
		return nil, fmt.Errorf("%s: sharegpt needs a tokenizer (prompt and answer lengths)", req.Path)
	}
	tok := req.Env.Tokenizer
	f, err := os.Open(req.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: sharegpt (byte %d): %s", req.Path, dec.InputOffset(), fmt.Sprintf(format, args...))
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, fail("expected a JSON list of conversations")
	}
	var convs []Conversation
	entries, skipped := 0, 0
	for dec.More() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var e shareGPTEntry
		if err := dec.Decode(&e); err != nil {
			return nil, fail("entry %d: %v", entries, jsonError(err, "id, conversations"))
		}
		entries++
		pairs := e.pairs()
		turns := make([]Turn, 0, len(pairs))
		for _, p := range pairs {
			in, out := tok.Count(p[0]), tok.Count(p[1])
			if in < shareGPTMinLen || in > shareGPTMaxPrompt || out < shareGPTMinLen || in+out > shareGPTMaxTotal {
				turns = nil
				break
			}
			t := NewTurn()
			t.Texts = []Named{{Name: "text", Contents: []string{p[0]}}}
			t.MaxTokens, t.InputTokens = out, in
			turns = append(turns, t)
		}
		if len(turns) == 0 {
			skipped++
			continue
		}
		key, err := sessionKey(e.ID)
		if err != nil {
			key = ""
		}
		convs = append(convs, Conversation{ID: sessionName(key, len(convs)), Turns: turns})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fail("%v", err)
	}
	if len(convs) == 0 {
		return nil, fmt.Errorf("%s: none of the %d conversations has a human/gpt pair within the length filter (prompt %d-%d tokens, answer >= %d, both <= %d)",
			req.Path, entries, shareGPTMinLen, shareGPTMaxPrompt, shareGPTMinLen, shareGPTMaxTotal)
	}
	if skipped > 0 && req.Env.Log != nil {
		req.Env.Log.Info("sharegpt: conversations left out by the length filter", "file", req.Path, "kept", len(convs), "left_out", skipped)
	}
	return NewSet(convs, Info{Sampler: Sequential, Source: req.Path}), nil
}
