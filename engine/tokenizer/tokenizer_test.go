package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	tiktoken "github.com/tiktoken-go/tokenizer"
)

// newlineGap finds whitespace runs with a newline after other whitespace
// ("\n \n"). tiktoken-go's generated regex splits them differently from
// backtracking engines (Python's tiktoken, transformers.js), which keep
// "\n \n" as one piece, and the vocabularies have tokens for such pieces; the
// parity test against transformers.js covers them.
var newlineGap = regexp.MustCompile(`[\r\n][^\S\r\n]+[\r\n]`)

// The built-in encodings run loadstar's own BPE over the ranks of
// tiktoken-go; tiktoken-go's codec is an independent reference.
func TestBuiltinMatchesTiktokenGo(t *testing.T) {
	var samples []string
	for _, s := range paritySamples(2000, "", " ", "Hello world", strings.Repeat(" ", 200), strings.Repeat("漢", 300), "<|endoftext|>") {
		if !newlineGap.MatchString(s) {
			samples = append(samples, s)
		}
	}
	for _, c := range []struct {
		name string
		enc  tiktoken.Encoding
	}{{"cl100k_base", tiktoken.Cl100kBase}, {"o200k_base", tiktoken.O200kBase}} {
		tok, err := Builtin(c.name)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := tiktoken.Get(c.enc)
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		for _, s := range samples {
			want, _, err := ref.Encode(s)
			if err != nil {
				t.Fatal(err)
			}
			got := tok.Encode(s)
			same := len(got) == len(want)
			for i := 0; same && i < len(got); i++ {
				same = got[i] == int(want[i])
			}
			if !same {
				bad++
				if bad <= 3 {
					t.Errorf("%s %q:\n got  %v\n want %v", c.name, s, got, want)
				}
			}
			if tok.Count(s) != len(want) {
				t.Errorf("%s: Count(%q) = %d, want %d", c.name, s, tok.Count(s), len(want))
			}
			if d := tok.Decode(got); d != s {
				t.Errorf("%s: Decode(Encode(%q)) = %q", c.name, s, d)
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d strings differ from tiktoken-go", c.name, bad, len(samples))
		}
	}
}

func TestBuiltinKnownIDs(t *testing.T) {
	// Ids from OpenAI's tiktoken for these well-known strings.
	tok, err := Builtin("cl100k_base")
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("hello world"); len(got) != 2 || got[0] != 15339 || got[1] != 1917 {
		t.Errorf("cl100k_base hello world = %v, want [15339 1917]", got)
	}
	o, _ := Builtin("o200k_base")
	if got := o.Encode("hello world"); len(got) != 2 || got[0] != 24912 || got[1] != 2375 {
		t.Errorf("o200k_base hello world = %v, want [24912 2375]", got)
	}
	if o.Name() != "o200k_base" {
		t.Errorf("Name() = %q", o.Name())
	}
}

func TestBuiltinAndFileErrors(t *testing.T) {
	tok, err := Builtin("cl100k_base")
	if err != nil || tok.Name() != "cl100k_base" {
		t.Fatalf("cl100k: %v %v", tok, err)
	}
	if _, err := Builtin("p99k"); err == nil || !strings.Contains(err.Error(), "p99k") || !strings.Contains(err.Error(), "o200k_base") {
		t.Errorf("unknown builtin: %v", err)
	}
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing", "tokenizer.json")
	if _, err := FromFile(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"model":{"type":"WordPiece","vocab":{"a":0}}}`), 0o644)
	if _, err := FromFile(bad); err == nil || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), "WordPiece") {
		t.Errorf("unsupported model: %v", err)
	}
	os.WriteFile(bad, []byte(`{"model":`), 0o644)
	if _, err := FromFile(bad); err == nil || !strings.Contains(err.Error(), "not a tokenizer.json") {
		t.Errorf("truncated: %v", err)
	}
}

// tinyByteLevel is a hand-written GPT-2 style tokenizer.json.
func tinyByteLevel(t *testing.T) Tokenizer {
	vocab := map[string]int{}
	alphabet := make([]rune, 0, 256)
	for r, b := range byteDecoder {
		_ = b
		alphabet = append(alphabet, r)
	}
	for r, b := range byteDecoder {
		vocab[string(r)] = int(b)
	}
	_ = alphabet
	vocab["he"] = 256
	vocab["ll"] = 257
	vocab["hell"] = 258
	vocab["hello"] = 259
	vocab["Ġw"] = 260
	js := `{"added_tokens":[{"id":300,"content":"<|x|>","lstrip":false,"rstrip":true}],
	"normalizer":null,
	"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
	"decoder":{"type":"ByteLevel"},
	"model":{"type":"BPE","vocab":` + mustJSON(vocab) + `,"merges":["h e","l l","he ll","hell o","Ġ w"]}}`
	tok, err := fromJSON("tiny", []byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestByteLevelMerges(t *testing.T) {
	tok := tinyByteLevel(t)
	cases := []struct {
		in   string
		want []int
	}{
		{"hello", []int{259}},
		{"hell", []int{258}},
		{"hello world", []int{259, 260, 'o', 'r', 'l', 'd'}},
		{"ll he", []int{257, byteID(' '), 256}}, // " he" is one piece; "Ġ he" is no merge
		{"hello<|x|>   hello", []int{259, 300, 259}},
	}
	for _, c := range cases {
		if got := tok.Encode(c.in); !equalIDs(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	if got := tok.Decode([]int{259, 300, 260}); got != "hello<|x|> w" {
		t.Errorf("Decode = %q", got)
	}
}

// byteID is the id of a byte in tinyByteLevel (ids equal byte values).
func byteID(b byte) int { return int(b) }

func TestSentencePieceByteFallback(t *testing.T) {
	vocab := map[string]int{"<unk>": 0, "▁": 1, "a": 2, "b": 3, "▁a": 4, "ab": 5, "▁ab": 6}
	for b := 0; b < 256; b++ {
		vocab[fmt.Sprintf("<0x%02X>", b)] = 10 + b
	}
	js := `{"normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]},
	"pre_tokenizer":null,
	"decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
	"model":{"type":"BPE","byte_fallback":true,"unk_token":"<unk>","vocab":` + mustJSON(vocab) + `,"merges":["a b","▁ a","▁ ab","▁a b"]}}`
	tok, err := fromJSON("spm", []byte(js))
	if err != nil {
		t.Fatal(err)
	}
	got := tok.Encode("ab ab é")
	want := []int{6, 6, 1, 10 + 0xC3, 10 + 0xA9}
	if !equalIDs(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if d := tok.Decode(got); d != "ab ab é" {
		t.Errorf("Decode = %q", d)
	}
}

func TestLongPiecesUseHeap(t *testing.T) {
	// Pieces above heapThreshold take the heap path; both paths must agree.
	tok, _ := Builtin("o200k_base")
	e := tok.(*encoder)
	for _, s := range []string{strings.Repeat("漢字", 200), strings.Repeat(" ", 1000), strings.Repeat("abcabd", 100)} {
		var scan, hp []int
		for _, sym := range e.m.mergeScan(e.m.initial(nil, s), s) {
			scan = e.m.appendSymbol(scan, s, sym)
		}
		for _, sym := range e.m.mergeHeap(e.m.initial(nil, s), s, nil) {
			hp = e.m.appendSymbol(hp, s, sym)
		}
		if !equalIDs(scan, hp) {
			t.Errorf("scan and heap differ on %q...: %v vs %v", s[:12], scan, hp)
		}
	}
}

func BenchmarkCountO200k(b *testing.B) {
	tok, _ := Builtin("o200k_base")
	text := strings.Repeat("The quick brown fox jumps over the lazy dog, 12345 times; 你好世界! ", 200)
	tok.Count(text)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok.Count(text)
	}
}

func BenchmarkEncodeO200kUncached(b *testing.B) {
	tok, _ := Builtin("o200k_base")
	text := strings.Repeat("The quick brown fox jumps over the lazy dog, 12345 times; 你好世界! ", 200)
	b.SetBytes(int64(len(text)))
	for i := 0; i < b.N; i++ {
		tok.(*encoder).cache = pieceCache{}
		tok.Encode(text)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// unbrokenRun is n bytes of lowercase letters without a break: one
// pre-token piece for every built-in pattern.
func unbrokenRun(n int) string {
	b := make([]byte, n)
	x := uint32(1)
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = 'a' + byte(x>>24)%26
	}
	return string(b)
}

// One unbroken run of characters is merged in bounded parts: tokenizing it
// allocates about as much as its ids, not ~120 bytes per input byte (1.2
// GB for a 10 MB answer before), and the parts' ids are the piece's.
func TestLongPieceBoundedMemory(t *testing.T) {
	tok, _ := Builtin("o200k_base")
	s := unbrokenRun(1 << 20)
	var n int
	allocs := allocated(func() { n = tok.Count(s) })
	if limit := uint64(4 << 20); allocs > limit {
		t.Errorf("Count of a 1 MiB unbroken run allocated %d MiB, want under %d MiB", allocs>>20, limit>>20)
	}
	ids := tok.Encode(s)
	if len(ids) != n {
		t.Errorf("Count %d != len(Encode) %d", n, len(ids))
	}
	if d := tok.Decode(ids); d != s {
		t.Error("Decode(Encode(run)) differs from the run")
	}
	if got := allocated(func() { tok.Encode(s) }); got > uint64(len(ids))*8*4+4<<20 {
		t.Errorf("Encode allocated %d MiB for %d ids", got>>20, len(ids))
	}
	// A run of exactly maxMergePiece bytes is one part: merged whole.
	e := tok.(*encoder)
	whole := unbrokenRun(maxMergePiece)
	var ref []int
	for _, sym := range e.m.mergeHeap(e.m.initial(nil, whole), whole, nil) {
		ref = e.m.appendSymbol(ref, whole, sym)
	}
	if got := tok.Encode(whole); !equalIDs(got, ref) {
		t.Errorf("a %d-byte piece must be merged whole", maxMergePiece)
	}
	// Longer: the concatenation of its parts, cut at character boundaries.
	cjk := strings.Repeat("漢字", maxMergePiece/3)
	if d := tok.Decode(tok.Encode(cjk)); d != cjk {
		t.Error("a long CJK run must be cut at character boundaries")
	}
}

// allocated returns the bytes allocated while f ran (runtime/metrics).
func allocated(f func()) uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	f()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// Huge texts take one of GOMAXPROCS-1 slots: with every slot taken, a
// count waits; small texts never do.
func TestHeavyTextsLeaveAProcessor(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one processor: no slot to keep free")
	}
	tok, _ := Builtin("cl100k_base")
	e := tok.(*encoder)
	release := make([]func(), 0, runtime.GOMAXPROCS(0)-1)
	big := strings.Repeat("word ", heavyText/5+1)
	for range runtime.GOMAXPROCS(0) - 1 {
		release = append(release, e.admit(big))
	}
	if tok.Count("small text") != 2 {
		t.Fatal("a small text must not wait for a slot")
	}
	done := make(chan int)
	go func() { done <- tok.Count(big) }()
	select {
	case <-done:
		t.Fatal("a huge text was tokenized while every slot was taken")
	case <-time.After(time.Second):
	}
	release[0]()
	n := <-done
	for _, r := range release[1:] {
		r()
	}
	if want := heavyText/5 + 2; n != want { // "word", then " word" each, then " "
		t.Fatalf("Count = %d, want %d", n, want)
	}
}

// Tokenizing a huge answer costs time linear in its size.
func BenchmarkCountUnbrokenRun(b *testing.B) {
	tok, _ := Builtin("o200k_base")
	for _, n := range []int{256 << 10, 1 << 20, 4 << 20} {
		s := unbrokenRun(n)
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				tok.Count(s)
			}
		})
	}
}

// TestCountFastMatchesPieces holds Count's direct loop (countFast) to the
// general path's pieces on every sample, those with newline runs and
// invalid UTF-8 included.
func TestCountFastMatchesPieces(t *testing.T) {
	for _, name := range []string{"cl100k_base", "o200k_base"} {
		tok, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		e := tok.(*encoder)
		if e.fast == nil {
			t.Fatalf("%s: Count has no direct loop", name)
		}
		for _, s := range paritySamples(2000, "\n\n", "a\n\n b\r\n", "\xff\xfe bad \xc3", "  \t x ", "it's 12345 o'clock", "x\u00a0\u2028y") {
			if got, want := e.countFast(s), len(e.Encode(s)); got != want {
				t.Errorf("%s: countFast(%q) = %d, pieces give %d", name, s, got, want)
			}
		}
	}
}

// BenchmarkGCCycleO200k is one forced garbage collection with the o200k
// tokenizer loaded: the cost its tables add to every cycle of a run
// (tiktoken-go's own vocabulary map, which the tables are built from,
// stays in memory and is part of it).
//
//	GOMAXPROCS=1 go test ./engine/tokenizer -run '^$' -bench GCCycle
func BenchmarkGCCycleO200k(b *testing.B) {
	tok, err := Builtin("o200k_base")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		runtime.GC()
	}
	runtime.KeepAlive(tok)
}
