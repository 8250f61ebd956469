package dataset

import (
	"context"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/tokenizer"
)

func builtin(t testing.TB, name string) tokenizer.Tokenizer {
	tok, err := tokenizer.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestSyntheticExactLengths: 10,000 prompts with lengths from 1 to ~1200
// tokens all re-encode to exactly their drawn length.
func TestSyntheticExactLengths(t *testing.T) {
	for _, name := range []string{"o200k_base", "cl100k_base"} {
		n := 10000
		if name == "cl100k_base" || testing.Short() {
			n = 2000
		}
		tok := builtin(t, name)
		s := &Synthetic{ISL: dist.Uniform{Lo: 1, Hi: 1200}, Entries: n}
		ds, err := s.Compose(context.Background(), &Env{Tokenizer: tok, Seed: 42})
		if err != nil {
			t.Fatal(err)
		}
		if ds.Len() != n {
			t.Fatalf("Len = %d", ds.Len())
		}
		exact := 0
		for i := 0; i < ds.Len(); i++ {
			turn := &ds.Conversation(i).Turns[0]
			text := turn.FirstText()
			if got := tok.Count(text); got == turn.InputTokens {
				exact++
			} else if exact+5 > i {
				t.Errorf("%s: prompt %d: %d tokens, want %d", name, i, got, turn.InputTokens)
			}
			if strings.HasPrefix(text, " ") {
				t.Errorf("prompt %d starts with a space", i)
			}
		}
		if exact != n {
			t.Errorf("%s: %d of %d prompts exact", name, exact, n)
		}
	}
}

func TestSyntheticReproducible(t *testing.T) {
	tok := builtin(t, "o200k_base")
	s := &Synthetic{ISL: dist.Normal{Mu: 200, Sigma: 50}, OSL: dist.Fixed{V: 64}, Entries: 30,
		Turns: dist.Uniform{Lo: 1, Hi: 4}, TurnDelay: dist.Normal{Mu: 500, Sigma: 100},
		Images: 1, ImageWidth: dist.Fixed{V: 8}, ImageHeight: dist.Fixed{V: 8}}
	compose := func(seed uint64) Dataset {
		ds, err := s.Compose(context.Background(), &Env{Tokenizer: tok, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	a, b, c := compose(7), compose(7), compose(8)
	same := func(x, y Dataset) bool {
		for i := 0; i < x.Len(); i++ {
			if !reflect.DeepEqual(x.Conversation(i), y.Conversation(i)) {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("same seed gave different datasets")
	}
	if same(a, c) {
		t.Error("different seeds gave the same dataset")
	}
	// Per-concern streams: turning images off keeps the prompts.
	s2 := *s
	s2.Images = 0
	d, _ := s2.Compose(context.Background(), &Env{Tokenizer: tok, Seed: 7})
	for i := 0; i < a.Len(); i++ {
		if a.Conversation(i).Turns[0].FirstText() != d.Conversation(i).Turns[0].FirstText() {
			t.Fatalf("conversation %d: prompt changed when images were turned off", i)
		}
	}
	multi := 0
	for i := 0; i < a.Len(); i++ {
		conv := a.Conversation(i)
		for k, turn := range conv.Turns {
			if turn.MaxTokens != 64 {
				t.Errorf("max tokens %d", turn.MaxTokens)
			}
			if (k > 0) != turn.HasDelay {
				t.Errorf("turn %d: HasDelay=%v", k, turn.HasDelay)
			}
			if len(turn.Images) != 1 || !strings.HasPrefix(turn.Images[0].Contents[0], "data:image/png;base64,") {
				t.Errorf("images: %v", turn.Images)
			}
		}
		if len(conv.Turns) > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Error("no multi-turn conversations from turns=uniform(1, 4)")
	}
	if InfoOf(a).Sampler != Shuffle {
		t.Errorf("default sampler %q", InfoOf(a).Sampler)
	}
}

func TestSyntheticPrefixSystemContext(t *testing.T) {
	tok := builtin(t, "o200k_base")
	s := &Synthetic{ISL: dist.Fixed{V: 100}, Entries: 40, PrefixPrompts: 3, PrefixLength: 50, UserContextLength: 20}
	ds, err := s.Compose(context.Background(), &Env{Tokenizer: tok, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	prefixes := map[string]bool{}
	for i := 0; i < ds.Len(); i++ {
		c := ds.Conversation(i)
		text := c.Turns[0].FirstText()
		if n := tok.Count(text); n != 150 || c.Turns[0].InputTokens != 150 {
			t.Errorf("prompt %d: %d tokens (InputTokens %d), want 150", i, n, c.Turns[0].InputTokens)
		}
		ids := tok.Encode(text)
		prefixes[tok.Decode(ids[:50])] = true
		if tok.Count(c.UserContext) != 20 {
			t.Errorf("user context %d tokens", tok.Count(c.UserContext))
		}
	}
	if len(prefixes) != 3 {
		t.Errorf("%d distinct 50-token prefixes, want 3", len(prefixes))
	}
	s = &Synthetic{Entries: 5, SystemPromptLength: 77}
	ds, _ = s.Compose(context.Background(), &Env{Tokenizer: tok, Seed: 1})
	if sp := ds.Conversation(0).SystemPrompt; tok.Count(sp) != 77 || ds.Conversation(4).SystemPrompt != sp {
		t.Errorf("system prompt not shared or not 77 tokens")
	}
	bad := &Synthetic{PrefixPrompts: 2, PrefixLength: 10, SystemPromptLength: 5}
	if _, err := bad.Compose(context.Background(), &Env{Tokenizer: tok}); err == nil || !strings.Contains(err.Error(), "prefix") {
		t.Errorf("system prompt with prefix pool: %v", err)
	}
}

func TestSyntheticSequenceAndAudio(t *testing.T) {
	tok := builtin(t, "o200k_base")
	seq, _ := dist.ParseSequence("64,16:50;256,32:50")
	s := &Synthetic{Sequence: &seq, Entries: 50, Audios: 1, AudioDuration: dist.Fixed{V: 0.1}}
	ds, err := s.Compose(context.Background(), &Env{Tokenizer: tok, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < ds.Len(); i++ {
		turn := ds.Conversation(i).Turns[0]
		if !(turn.InputTokens == 64 && turn.MaxTokens == 16 || turn.InputTokens == 256 && turn.MaxTokens == 32) {
			t.Errorf("pair (%d, %d) not from the sequence distribution", turn.InputTokens, turn.MaxTokens)
		}
		a := turn.Audios[0].Contents[0]
		format, b64, _ := strings.Cut(a, ",")
		data, err := base64.StdEncoding.DecodeString(b64)
		if format != "wav" || err != nil || string(data[:4]) != "RIFF" || len(data) != 44+2*1600 {
			t.Errorf("audio: %s %v len %d", format, err, len(data))
		}
	}
}

func TestSyntheticRankings(t *testing.T) {
	tok := builtin(t, "o200k_base")
	s := &SyntheticRankings{Entries: 10, Passages: dist.Fixed{V: 3}, PassageLength: dist.Fixed{V: 40}, QueryLength: dist.Fixed{V: 12}}
	ds, err := s.Compose(context.Background(), &Env{Tokenizer: tok, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	turn := ds.Conversation(0).Turns[0]
	if len(turn.Texts) != 2 || turn.Texts[0].Name != "query" || turn.Texts[1].Name != "passages" || len(turn.Texts[1].Contents) != 3 {
		t.Fatalf("texts %+v", turn.Texts)
	}
	if tok.Count(turn.Texts[0].Contents[0]) != 12 || tok.Count(turn.Texts[1].Contents[2]) != 40 || turn.InputTokens != 132 {
		t.Errorf("lengths wrong")
	}
	// A rankings endpoint turns the plain synthetic composer into rankings.
	ds, _ = (&Synthetic{ISL: dist.Fixed{V: 20}, Entries: 2}).Compose(context.Background(), &Env{Tokenizer: tok, Rankings: true})
	if ds.Conversation(0).Turns[0].Texts[0].Name != "query" {
		t.Errorf("rankings env did not compose rankings")
	}
}

func BenchmarkSyntheticCompose(b *testing.B) {
	tok := builtin(b, "o200k_base")
	for i := 0; i < b.N; i++ {
		if _, err := (&Synthetic{Entries: 1000}).Compose(context.Background(), &Env{Tokenizer: tok, Seed: uint64(i)}); err != nil {
			b.Fatal(err)
		}
	}
}
