package tokenizer

import (
	"fmt"
	"strings"
	"testing"
)

// The index answers as a map[string]int32 would: every key of every
// length (the hash reads 0-3, 4-8, 9-16 and longer keys differently),
// keys that differ only in their last byte or by a trailing NUL, the empty
// key, replaced ids, and growth from a small start.
func TestVocabIndexMatchesMap(t *testing.T) {
	want := map[string]int32{}
	var keys []string
	for n := 0; n <= 40; n++ {
		base := strings.Repeat("ab", n)[:n]
		keys = append(keys, base, base+"\x00", base+"z")
	}
	for i := range 5000 {
		keys = append(keys, fmt.Sprintf(" word%d", i), fmt.Sprintf("%d", i*7919))
	}
	var x vocabIndex
	x.init(4)
	for i, k := range keys {
		want[k] = int32(i)
		x.set(k, int32(i))
	}
	for i, k := range keys[:200] { // replace some ids
		want[k] = int32(100_000 + i)
		x.set(k, int32(100_000+i))
	}
	for k, id := range want {
		if got, ok := x.get(k); !ok || got != id {
			t.Fatalf("get(%q) = %d, %v; want %d", k, got, ok, id)
		}
	}
	for _, k := range []string{"absent", "ab\x00\x00", strings.Repeat("ab", 30) + "!", " word5000", "-1"} {
		if id, ok := x.get(k); ok {
			t.Errorf("get(%q) = %d for a key never set", k, id)
		}
	}
	if x.n != len(want) {
		t.Errorf("%d keys counted, want %d", x.n, len(want))
	}
}

func TestTokenTable(t *testing.T) {
	tokens := []string{"a", "", "hello", " world", "漢"}
	tt := newTokenTable(tokens)
	if tt.len() != len(tokens) {
		t.Fatalf("len %d, want %d", tt.len(), len(tokens))
	}
	for id, s := range tokens {
		if got := tt.at(id); got != s {
			t.Errorf("at(%d) = %q, want %q", id, got, s)
		}
	}
}
