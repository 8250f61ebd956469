package tokenizer

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestFastSplitMatchesRegex checks the hand-written scanners against
// regexp2 running the original patterns, on random strings built from
// characters that sit on every class boundary of the patterns.
func TestFastSplitMatchesRegex(t *testing.T) {
	pool := []string{
		"a", "Z", "é", "ǅ", "ʰ", "漢", "ー", "\u0301", "\u0903", "ß", "İ", "ſ", "K",
		"0", "٣", "Ⅻ", "½", "²",
		" ", "  ", "\t", "\n", "\r", "\r\n", "\v", "\f", "\u0085", "\u00a0", "\u2028", "\u3000", "\u200b", "\ufeff",
		"'", "'s", "'S", "'re", "'RE", "'ll", "'Ll", "'ve", "'d", "'m", "'t", "'x",
		"!", ".", "/", "//", "-", "(", "🎉", "👍🏽", "€", "_", "\ufffd",
		"word", "Word", "WORD", "wORD", "McDonald", "HTTPServer", " the", " The",
		"123", "12345", "\n\n", " \n", "\n ", " \n \n",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range []struct{ name, pattern string }{
		{"cl100k", cl100kPattern}, {"qwen", qwenPattern}, {"o200k", o200kPattern},
	} {
		fast, ok := fastMatcher(p.pattern)
		if !ok {
			t.Fatalf("%s: no fast matcher", p.name)
		}
		slow, err := regexp2Matcher(p.pattern)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < 20000; n++ {
			var b strings.Builder
			for k := r.IntN(12); k >= 0; k-- {
				b.WriteString(pool[r.IntN(len(pool))])
			}
			s := b.String()
			var got, want [][2]int
			fast(s, func(a, e int) { got = append(got, [2]int{a, e}) })
			slow(s, func(a, e int) { want = append(want, [2]int{a, e}) })
			if !equalSpans(got, want) {
				t.Fatalf("%s: %q:\n fast  %v\n regex %v", p.name, s, spans(s, got), spans(s, want))
			}
		}
	}
}

func equalSpans(a, b [][2]int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func spans(s string, sp [][2]int) []string {
	out := make([]string, len(sp))
	for i, p := range sp {
		out[i] = s[p[0]:p[1]]
	}
	return out
}
