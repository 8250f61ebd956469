package dataset

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// longNumber finds numbers of five digits or more: lengths that would make
// a fuzzed row build a prompt of millions of tokens when its conversation
// is asked for (a legitimate, bounded, but slow request).
var longNumber = regexp.MustCompile(`[0-9]{5}`)

// FuzzJSONLLoaders gives arbitrary bytes to every JSONL loader (and to
// detection): each either loads a dataset or fails with an error that names
// the file — no panic, no length wrapped to another value. Small datasets
// have their conversations built too.
func FuzzJSONLLoaders(f *testing.F) {
	for _, s := range []string{
		`{"text": "hello", "output_length": 5}`,
		`{"session_id": "a", "turns": [{"text": "hi"}, {"text": "more", "delay": 10}]}`,
		`{"timestamp": 0, "input_length": 600, "output_length": 3, "hash_ids": [1, 2]}` + "\n" + `{"timestamp": 5, "text_input": "x"}`,
		`{"chat_id": 1, "parent_chat_id": -1, "timestamp": 0.5, "input_length": 20, "output_length": 2, "type": "text", "turn": 1, "hash_ids": [7]}`,
		`{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}`,
		`{"texts": [{"name": "q", "contents": ["a", "b"]}]}`,
		`{"input_length": 4294967297, "output_length": 4294967297}`,
		`{"data": [{"payload": [{"messages": []}]}]}`,
	} {
		for typ := range uint8(len(fuzzLoaderTypes)) {
			f.Add([]byte(s), typ)
		}
	}
	tok := builtin(f, "o200k_base")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, typ uint8) {
		path := filepath.Join(dir, "fuzz.jsonl")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c := &Custom{Path: path, Type: fuzzLoaderTypes[int(typ)%len(fuzzLoaderTypes)]}
		ds, err := c.Compose(context.Background(), &Env{Tokenizer: tok, Seed: 1, BaseDir: dir})
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.jsonl") && !strings.Contains(err.Error(), "custom_dataset") {
				t.Fatalf("%s: error does not name the file: %v", c.Type, err)
			}
			return
		}
		if ds.Len() <= 0 {
			t.Fatalf("%s: a dataset of %d conversations without an error", c.Type, ds.Len())
		}
		if longNumber.Match(data) {
			return
		}
		for i := range min(ds.Len(), 8) {
			conv := ds.Conversation(i)
			if conv == nil {
				t.Fatalf("%s: conversation %d is nil", c.Type, i)
			}
			for _, turn := range conv.Turns {
				if turn.MaxTokens < 0 && turn.MaxTokens != -1 {
					t.Fatalf("%s: conversation %d asks for %d tokens", c.Type, i, turn.MaxTokens)
				}
			}
		}
	})
}

// fuzzLoaderTypes are the formats FuzzJSONLLoaders tries ("" detects).
var fuzzLoaderTypes = []string{"", SingleTurn, MultiTurn, RandomPool, MooncakeTrace, BailianTrace, RawPayload, InputsJSON}
