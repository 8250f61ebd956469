package tokenizer

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// countingFunc counts its calls: a cache that returned a stored count
// made no call.
type countingFunc struct{ calls atomic.Int64 }

func (f *countingFunc) count(b []byte) int {
	f.calls.Add(1)
	return len(b)*7 + 1 // any pure function of the content
}

// Cached counts every text as the tokenizer does, however often and in
// whatever order the texts come, through Count and CountBytes alike, with
// the default size and with a cache so small that it evicts all the time.
func TestCachedMatchesUncached(t *testing.T) {
	o200k, err := Builtin("o200k_base")
	if err != nil {
		t.Fatal(err)
	}
	texts := paritySamples(600, "", " ", "\n", strings.Repeat("漢", 300), strings.Repeat("a b ", 3000))
	for _, tc := range []struct {
		name string
		tok  Tokenizer
		opts []CacheOption
	}{
		{"o200k", o200k, nil},
		{"o200k-tiny", o200k, []CacheOption{CacheEntries(4)}},
		{"tokenizer.json", tinyByteLevel(t), []CacheOption{CacheEntries(16)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := make([]int, len(texts))
			for i, s := range texts {
				want[i] = tc.tok.Count(s)
			}
			cached := Cached(tc.tok, tc.opts...)
			bc := cached.(ByteCounter)
			r := rand.New(rand.NewPCG(1, 2))
			for k := 0; k < 8*len(texts); k++ {
				i := r.IntN(len(texts))
				if k%3 == 0 {
					i = k % 10 // a few texts repeat often
				}
				got := cached.Count(texts[i])
				if k%2 == 1 {
					got = bc.CountBytes([]byte(texts[i]))
				}
				if got != want[i] {
					t.Fatalf("text %d %q: cached count %d, tokenizer %d", i, texts[i], got, want[i])
				}
			}
		})
	}
}

// A hit compares the whole text: texts whose hashes are all equal (and
// fall into one set) still get their own counts.
func TestCountCacheHashCollision(t *testing.T) {
	c := NewCountCache(CacheEntries(8))
	c.hash = func([]byte) uint64 { return 0x5eed_0000_0000_0007 }
	var f countingFunc
	texts := []string{"a", "b", "ab", "ba", "a ", "abc", "xyz", ""}
	for round := range 5 {
		for _, s := range texts {
			if got, want := c.Count([]byte(s), f.count), len(s)*7+1; got != want {
				t.Fatalf("round %d %q: %d, want %d", round, s, got, want)
			}
			if got, want := c.CountString(s, func(s string) int { return len(s)*7 + 1 }), len(s)*7+1; got != want {
				t.Fatalf("round %d %q (string): %d, want %d", round, s, got, want)
			}
		}
	}
}

// The cache enters a text on its second sighting and serves it from then
// on; a text over the length limit is counted every time.
func TestCountCacheAdmissionAndLimit(t *testing.T) {
	c := NewCountCache(CacheMaxText(16))
	var f countingFunc
	short := []byte("sixteen bytes ok") // exactly the limit
	long := []byte("seventeen bytes !")
	for range 5 {
		c.Count(short, f.count)
	}
	if n := f.calls.Load(); n != 2 {
		t.Errorf("a text of the limit's length counted %d times in 5, want 2 (first sight, entry)", n)
	}
	f.calls.Store(0)
	for range 5 {
		c.Count(long, f.count)
	}
	if n := f.calls.Load(); n != 5 {
		t.Errorf("a text over the limit counted %d times in 5, want 5 (never cached)", n)
	}
}

// Texts seen once never enter, so a flood of them leaves the repeating
// texts cached.
func TestCountCacheKeepsRepeatsUnderUniqueTexts(t *testing.T) {
	c := NewCountCache(CacheEntries(64))
	var f countingFunc
	repeat := [][]byte{[]byte("the prompt"), []byte("the answer"), []byte("another prompt")}
	for range 2 {
		for _, r := range repeat {
			c.Count(r, f.count)
		}
	}
	for i := range 100_000 {
		c.Count(fmt.Appendf(nil, "unique text %d", i), f.count)
	}
	f.calls.Store(0)
	for _, r := range repeat {
		c.Count(r, f.count)
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("%d of %d repeating texts were counted again after 100,000 texts seen once", n, len(repeat))
	}
}

// Workers share one cache (the metrics pipeline's record workers do);
// run with -race. A tiny cache makes inserts and evictions race.
func TestCountCacheConcurrent(t *testing.T) {
	tok, err := Builtin("o200k_base")
	if err != nil {
		t.Fatal(err)
	}
	texts := paritySamples(64)
	want := make([]int, len(texts))
	for i, s := range texts {
		want[i] = tok.Count(s)
	}
	for _, entries := range []int{4, 1024} {
		cached := Cached(tok, CacheEntries(entries)).(ByteCounter)
		var wg sync.WaitGroup
		var bad atomic.Int64
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(w), 3))
				for range 3000 {
					i := r.IntN(len(texts))
					if cached.CountBytes([]byte(texts[i])) != want[i] {
						bad.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		if n := bad.Load(); n != 0 {
			t.Errorf("%d entries: %d wrong counts under concurrent use", entries, n)
		}
	}
}

// A hit allocates nothing, and neither does a text seen for the first time.
func TestCountCacheAllocations(t *testing.T) {
	tok, err := Builtin("o200k_base")
	if err != nil {
		t.Fatal(err)
	}
	bc := Cached(tok).(ByteCounter)
	hit := []byte(" the same answer, counted again and again")
	bc.CountBytes(hit)
	bc.CountBytes(hit)
	if a := testing.AllocsPerRun(100, func() { bc.CountBytes(hit) }); a != 0 {
		t.Errorf("a hit allocates %.1f times, want 0", a)
	}
	var texts [][]byte
	for i := range 200 {
		texts = append(texts, fmt.Appendf(nil, " answer number %d", i))
	}
	for _, s := range texts { // warm the piece cache: only the count cache is measured
		tok.(ByteCounter).CountBytes(s)
	}
	i := 0
	if a := testing.AllocsPerRun(100, func() { bc.CountBytes(texts[i]); i++ }); a != 0 {
		t.Errorf("a text seen once allocates %.1f times, want 0", a)
	}
}

func TestCachedKeepsTheTokenizer(t *testing.T) {
	tok, err := Builtin("o200k_base")
	if err != nil {
		t.Fatal(err)
	}
	c := Cached(tok)
	if Cached(c) != c {
		t.Error("Cached of a cached tokenizer wraps it again")
	}
	if c.Name() != "o200k_base" {
		t.Errorf("Name %q, want o200k_base", c.Name())
	}
	if _, ok := c.(PieceEncoder); !ok {
		t.Error("Cached of a PieceEncoder is not one")
	}
	if got := c.Decode(c.Encode("Hello, world")); got != "Hello, world" {
		t.Errorf("Decode(Encode) = %q", got)
	}
	var n int
	c.(PieceEncoder).Pieces("Hello, world", func(_ string, ids []int) { n += len(ids) })
	if n != 3 {
		t.Errorf("Pieces yielded %d ids, want 3", n)
	}
	var plain Tokenizer = wordCounter{}
	cp := Cached(plain)
	if _, ok := cp.(PieceEncoder); ok {
		t.Error("Cached of a tokenizer without Pieces has Pieces")
	}
	if got := cp.(ByteCounter).CountBytes([]byte("two words")); got != 2 {
		t.Errorf("CountBytes through Count = %d, want 2", got)
	}
}

// wordCounter is a Tokenizer without CountBytes or Pieces.
type wordCounter struct{}

func (wordCounter) Name() string          { return "words" }
func (wordCounter) Encode(s string) []int { return make([]int, len(strings.Fields(s))) }
func (wordCounter) Decode([]int) string   { return "" }
func (wordCounter) Count(s string) int    { return len(strings.Fields(s)) }

// BenchmarkCachedCount is one count of a 16-word answer through the
// cache: hit (the same text again) and miss (a different text every time,
// against BenchmarkCountO200k for the same texts uncached).
func BenchmarkCachedCount(b *testing.B) {
	tok, err := Builtin("o200k_base")
	if err != nil {
		b.Fatal(err)
	}
	texts := make([][]byte, 1<<16)
	for i := range texts {
		texts[i] = fmt.Appendf(nil, " map son remain time shirt president window money want wood time. happy bed window stop %d", i)
	}
	for _, c := range []struct {
		name string
		bc   ByteCounter
		n    int
	}{
		{"hit", Cached(tok).(ByteCounter), 1},
		{"miss", Cached(tok).(ByteCounter), len(texts)},
		{"uncached", tok.(ByteCounter), len(texts)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				c.bc.CountBytes(texts[i%c.n])
			}
		})
	}
}

// docs/reliability.md states the cache's bounds; they are the defaults.
func TestCacheBoundsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/reliability.md")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("| token counts kept by content | %d,%03d texts of up to %d KiB each",
		defaultCacheEntries/1000, defaultCacheEntries%1000, defaultCacheMaxText>>10)
	if !strings.Contains(string(doc), want) {
		t.Errorf("docs/reliability.md lacks %q (the defaults of NewCountCache)", want)
	}
}
