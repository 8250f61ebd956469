package dataset

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The custom dataset formats (category custom_dataset_loader).
const (
	SingleTurn    = "single_turn"
	MultiTurn     = "multi_turn"
	RandomPool    = "random_pool"
	MooncakeTrace = "mooncake_trace"
	InputsJSON    = "inputs_json"
)

// builtinLoaders returns this package's loaders by name.
func builtinLoaders() map[string]Loader {
	return map[string]Loader{
		SingleTurn:    singleTurnLoader{},
		MultiTurn:     multiTurnLoader{},
		RandomPool:    randomPoolLoader{},
		MooncakeTrace: mooncakeLoader{},
		InputsJSON:    inputsJSONLoader{},
		BailianTrace:  bailianLoader{},
		BurstGPTTrace: burstGPTLoader{},
		ShareGPT:      shareGPTLoader{},
		RawPayload:    rawPayloadLoader{},
	}
}

// detectOrder is the order auto-detection tries the formats in: the most
// specific first (a Bailian row also has input_length and hash_ids; a
// request body has messages like a Mooncake row).
var detectOrder = []string{InputsJSON, MultiTurn, BailianTrace, RawPayload, MooncakeTrace, SingleTurn, ShareGPT, BurstGPTTrace, RandomPool}

func hasAny(keys map[string]bool, names ...string) bool {
	for _, n := range names {
		if keys[n] {
			return true
		}
	}
	return false
}

// ---- single_turn ----

type singleTurnLoader struct{}

func (singleTurnLoader) DefaultSampler() string { return Sequential }
func (singleTurnLoader) Detect(s *Sample) bool {
	return !s.IsDir && !s.Document && !s.Keys["turns"] &&
		hasAny(s.Keys, "text", "texts", "image", "images", "audio", "audios", "video", "videos")
}

// Load reads one turn per line; lines sharing a session_id form one
// conversation sent in order, each turn without the earlier ones as history
// (ResetContext), as AIPerf does.
func (singleTurnLoader) Load(ctx context.Context, req *LoadRequest) (Dataset, error) {
	dir := filepath.Dir(req.Path)
	var convs []Conversation
	bySession := map[string]int{}
	timestamps := false
	err := eachLine(ctx, req.Path, func(line []byte, n int) error {
		var rec turnRecord
		if err := decodeStrict(line, &rec, turnFields); err != nil {
			return lineError(req.Path, n, err)
		}
		if rec.Type != "" && rec.Type != SingleTurn {
			return lineError(req.Path, n, fmt.Errorf("field \"type\": %q in a single_turn file", rec.Type))
		}
		t, err := rec.turn(dir, true)
		if err != nil {
			return lineError(req.Path, n, err)
		}
		timestamps = timestamps || t.HasTimestamp
		key, err := sessionKey(rec.SessionID)
		if err != nil {
			return lineError(req.Path, n, err)
		}
		if key != "" {
			if i, ok := bySession[key]; ok {
				t.ResetContext = true
				convs[i].Turns = append(convs[i].Turns, t)
				return nil
			}
			bySession[key] = len(convs)
		}
		convs = append(convs, Conversation{ID: sessionName(key, len(convs)), Turns: []Turn{t}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(convs) == 0 {
		return nil, fmt.Errorf("%s: no records", req.Path)
	}
	return NewSet(convs, Info{Sampler: Sequential, Timestamps: timestamps, Source: req.Path}), nil
}

// ---- multi_turn ----

type multiTurnLoader struct{}

func (multiTurnLoader) DefaultSampler() string { return Sequential }
func (multiTurnLoader) Detect(s *Sample) bool  { return !s.IsDir && !s.Document && s.Keys["turns"] }

type multiTurnRecord struct {
	Type      string            `json:"type"`
	SessionID json.RawMessage   `json:"session_id"`
	Turns     []json.RawMessage `json:"turns"`
}

// Load reads one conversation per line: {"session_id", "turns": [...]}.
func (multiTurnLoader) Load(ctx context.Context, req *LoadRequest) (Dataset, error) {
	dir := filepath.Dir(req.Path)
	var convs []Conversation
	timestamps := false
	err := eachLine(ctx, req.Path, func(line []byte, n int) error {
		var rec multiTurnRecord
		if err := decodeStrict(line, &rec, "session_id, turns"); err != nil {
			return lineError(req.Path, n, err)
		}
		if rec.Type != "" && rec.Type != MultiTurn {
			return lineError(req.Path, n, fmt.Errorf("field \"type\": %q in a multi_turn file", rec.Type))
		}
		if len(rec.Turns) == 0 {
			return lineError(req.Path, n, fmt.Errorf("field \"turns\": needs at least one turn"))
		}
		key, err := sessionKey(rec.SessionID)
		if err != nil {
			return lineError(req.Path, n, err)
		}
		conv := Conversation{ID: sessionName(key, len(convs)), Turns: make([]Turn, len(rec.Turns))}
		for k, raw := range rec.Turns {
			var tr turnRecord
			if err := decodeStrict(raw, &tr, turnFields); err != nil {
				return lineError(req.Path, n, fmt.Errorf("turns[%d]: %w", k, err))
			}
			if len(tr.SessionID) > 0 {
				return lineError(req.Path, n, fmt.Errorf("turns[%d]: field \"session_id\" belongs on the conversation, not a turn", k))
			}
			if conv.Turns[k], err = tr.turn(dir, true); err != nil {
				return lineError(req.Path, n, fmt.Errorf("turns[%d]: %w", k, err))
			}
			timestamps = timestamps || conv.Turns[k].HasTimestamp
		}
		convs = append(convs, conv)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(convs) == 0 {
		return nil, fmt.Errorf("%s: no records", req.Path)
	}
	return NewSet(convs, Info{Sampler: Sequential, Timestamps: timestamps, Source: req.Path}), nil
}

// ---- random_pool ----

type randomPoolLoader struct{}

func (randomPoolLoader) DefaultSampler() string { return Shuffle }
func (randomPoolLoader) Detect(s *Sample) bool  { return s.IsDir }

// Load reads a pool of single-turn records (a file, or a directory with one
// pool per file) and composes Entries conversations (default 100) by
// drawing, with replacement, one record from each pool and merging them
// into one turn (e.g. queries.jsonl + passages.jsonl).
func (randomPoolLoader) Load(ctx context.Context, req *LoadRequest) (Dataset, error) {
	files := []string{req.Path}
	if st, err := os.Stat(req.Path); err == nil && st.IsDir() {
		entries, err := os.ReadDir(req.Path)
		if err != nil {
			return nil, err
		}
		files = files[:0]
		for _, e := range entries {
			if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				files = append(files, filepath.Join(req.Path, e.Name()))
			}
		}
		sort.Strings(files)
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: random_pool directory has no files", req.Path)
		}
	}
	pools := make([][]Turn, len(files))
	for i, f := range files {
		dir := filepath.Dir(f)
		err := eachLine(ctx, f, func(line []byte, n int) error {
			var rec turnRecord
			if err := decodeStrict(line, &rec, turnFields); err != nil {
				return lineError(f, n, err)
			}
			if rec.Type != "" && rec.Type != RandomPool {
				return lineError(f, n, fmt.Errorf("field \"type\": %q in a random_pool file", rec.Type))
			}
			if len(rec.SessionID) > 0 || rec.Timestamp != nil || rec.Delay != nil {
				return lineError(f, n, fmt.Errorf("fields \"session_id\", \"timestamp\" and \"delay\" are not allowed in a random_pool (records are drawn at random)"))
			}
			t, err := rec.turn(dir, false)
			if err != nil {
				return lineError(f, n, err)
			}
			pools[i] = append(pools[i], t)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(pools[i]) == 0 {
			return nil, fmt.Errorf("%s: no records", f)
		}
	}
	entries := req.Entries
	if entries <= 0 {
		entries = 100
	}
	var seed uint64
	if req.Env != nil {
		seed = req.Env.Seed
	}
	r := stream(seed, "random_pool", 0)
	convs := make([]Conversation, entries)
	for i := range convs {
		t := NewTurn()
		for _, pool := range pools {
			p := &pool[r.IntN(len(pool))]
			t.Texts = append(t.Texts, p.Texts...)
			t.Images = append(t.Images, p.Images...)
			t.Audios = append(t.Audios, p.Audios...)
			t.Videos = append(t.Videos, p.Videos...)
			if p.MaxTokens >= 0 {
				t.MaxTokens = p.MaxTokens
			}
			if p.Role != "" {
				t.Role = p.Role
			}
			if p.ExtraBody != nil {
				if t.ExtraBody == nil {
					t.ExtraBody = p.ExtraBody.Clone()
				} else {
					t.ExtraBody.Merge(p.ExtraBody)
				}
			}
		}
		convs[i] = Conversation{ID: "session_" + strconv.Itoa(i), Turns: []Turn{t}}
	}
	return NewSet(convs, Info{Sampler: Shuffle, Source: req.Path}), nil
}

// ---- inputs_json ----

type inputsJSONLoader struct{}

func (inputsJSONLoader) DefaultSampler() string { return Sequential }
func (inputsJSONLoader) Detect(s *Sample) bool  { return s.Document && s.Keys["data"] }

// Load replays an inputs.json written by loadstar or AIPerf:
// {"data": [{"session_id": ..., "payloads": [<request body>, ...]}]}. Each
// payload is sent verbatim (Turn.RawPayload). The document is decoded one
// session at a time.
func (inputsJSONLoader) Load(ctx context.Context, req *LoadRequest) (Dataset, error) {
	f, err := os.Open(req.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: inputs_json (byte %d): %s", req.Path, dec.InputOffset(), fmt.Sprintf(format, args...))
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fail("expected a JSON object {\"data\": [...]}")
	}
	var convs []Conversation
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail("%v", err)
		}
		if tok != "data" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, fail("%v", err)
			}
			continue
		}
		found = true
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return nil, fail("field \"data\": expected a list of sessions")
		}
		for dec.More() {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			var s struct {
				SessionID json.RawMessage   `json:"session_id"`
				Payloads  []json.RawMessage `json:"payloads"`
			}
			if err := dec.Decode(&s); err != nil {
				return nil, fail("data[%d]: %v", len(convs), jsonError(err, "session_id, payloads"))
			}
			key, err := sessionKey(s.SessionID)
			if err != nil {
				return nil, fail("data[%d]: %v", len(convs), err)
			}
			if len(s.Payloads) == 0 {
				return nil, fail("data[%d]: field \"payloads\": needs at least one request body", len(convs))
			}
			conv := Conversation{ID: sessionName(key, len(convs)), Turns: make([]Turn, len(s.Payloads))}
			for k, p := range s.Payloads {
				if len(p) == 0 || p[0] != '{' {
					return nil, fail("data[%d].payloads[%d]: expected a JSON object", len(convs), k)
				}
				t := NewTurn()
				t.RawPayload = compactJSON(p)
				conv.Turns[k] = t
			}
			convs = append(convs, conv)
		}
		if _, err := dec.Token(); err != nil {
			return nil, fail("%v", err)
		}
	}
	if !found {
		return nil, fail("missing field \"data\"")
	}
	if len(convs) == 0 {
		return nil, fail("field \"data\" has no sessions")
	}
	return NewSet(convs, Info{Sampler: Sequential, Source: req.Path}), nil
}

func compactJSON(raw json.RawMessage) []byte {
	var b bytes.Buffer
	b.Grow(len(raw))
	if err := json.Compact(&b, raw); err != nil {
		return append([]byte(nil), raw...)
	}
	return b.Bytes()
}
