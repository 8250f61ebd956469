package mock

import (
	"math"
	"strings"
	"testing"

	tiktoken "github.com/tiktoken-go/tokenizer"

	"github.com/loadstar/loadstar/engine/tokenizer"
)

func codecs(t *testing.T) map[string]tiktoken.Codec {
	t.Helper()
	out := map[string]tiktoken.Codec{}
	for _, e := range []tiktoken.Encoding{tiktoken.O200kBase, tiktoken.Cl100kBase} {
		c, err := tiktoken.Get(e)
		if err != nil {
			t.Fatal(err)
		}
		out[string(e)] = c
	}
	return out
}

func TestVocabSingleTokens(t *testing.T) {
	for name, c := range codecs(t) {
		for i, w := range vocab {
			if n, err := c.Count(w); err != nil || n != 1 {
				t.Errorf("%s: vocab[%d] %q is %d tokens, want 1", name, i, w, n)
			}
		}
	}
	seen := map[string]bool{}
	for i, w := range vocab {
		if seen[w] {
			t.Errorf("vocab[%d] %q is repeated", i, w)
		}
		seen[w] = true
	}
	for i, w := range vocab[:numWords] {
		if !strings.HasPrefix(w, " ") || strings.TrimSpace(w) != strings.ToLower(strings.TrimSpace(w)) {
			t.Errorf("word %d %q: want a leading space and lower case", i, w)
		}
	}
	if numWords < 400 {
		t.Errorf("only %d words", numWords)
	}
}

// A client that tokenizes the mock's text must count exactly the tokens the
// mock reported: output_sequence_length == completion_tokens.
func TestGeneratedTextCountsExactly(t *testing.T) {
	cs := codecs(t)
	lengths := []int{1, 2, 3, 7, 16, 64, 200, 1000}
	if testing.Short() {
		lengths = lengths[:6]
	}
	for seed := uint64(0); seed < 20; seed++ {
		for _, n := range lengths {
			text := string(appendText(nil, genTokens(nil, n, mix(seed, uint64(n)))))
			for name, c := range cs {
				if got, _ := c.Count(text); got != n {
					t.Fatalf("%s: seed %d: %d tokens generated, %d counted in %q", name, seed, n, got, text)
				}
			}
		}
	}
	// The same with loadstar's own tokenizer (what the client counts with).
	for _, name := range []string{"o200k_base", "cl100k_base"} {
		tok, err := tokenizer.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		for seed := uint64(0); seed < 5; seed++ {
			text := string(appendText(nil, genTokens(nil, 300, seed)))
			if got := tok.Count(text); got != 300 {
				t.Fatalf("engine/tokenizer %s: 300 tokens generated, %d counted", name, got)
			}
		}
	}
}

func TestGenTokensPunctuation(t *testing.T) {
	toks := genTokens(nil, 5000, 42)
	punct := 0
	for i, tk := range toks {
		if int(tk) >= numWords {
			punct++
			if i == 0 || int(toks[i-1]) >= numWords {
				t.Fatalf("punctuation at %d follows punctuation or starts the text", i)
			}
		}
	}
	if punct < 300 || punct > 700 {
		t.Fatalf("%d punctuation tokens in 5000, want about one in ten words", punct)
	}
}

func TestCountChars(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
	}{
		{"", 0},
		{"a", 1},
		{"abcd", 1},
		{"abcde", 2},
		{"Hello world", 3},       // "Hello " (extended to the space), "worl", "d"
		{"ééééé", 2},             // characters, not bytes
		{"the cat sat on it", 5}, // "the ", "cat ", "sat ", "on i", "t"
	} {
		if got := countChars(tc.s); got != tc.want {
			t.Errorf("countChars(%q) = %d, want %d", tc.s, got, tc.want)
		}
		if ref := refCount(tc.s); ref != tc.want {
			t.Errorf("reference count of %q = %d, want %d", tc.s, ref, tc.want)
		}
	}
	if got := countChars("abcde"); got != 2 {
		t.Errorf("countChars(abcde) = %d", got)
	}
	if got := countChars(strings.Repeat("x", 400)); got != 100 {
		t.Errorf("400 characters: %d tokens, want 100", got)
	}
}

// refCount is AIPerf's chunking rule written plainly.
func refCount(s string) int {
	r := []rune(s)
	n := 0
	for i := 0; i < len(r); {
		end := min(i+4, len(r))
		if end < len(r) && r[end] != ' ' {
			for j := end; j < min(end+2, len(r)); j++ {
				if r[j] == ' ' {
					end = j + 1
					break
				}
			}
		}
		n++
		i = end
	}
	return n
}

func TestRNG(t *testing.T) {
	r := rng{s: 7}
	var sum, sq float64
	const n = 20000
	for range n {
		z := r.norm()
		sum += z
		sq += z * z
	}
	if mean, v := sum/n, sq/n; math.Abs(mean) > 0.05 || math.Abs(v-1) > 0.05 {
		t.Fatalf("normal draws: mean %v variance %v", mean, v)
	}
}
