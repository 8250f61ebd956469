package tokenizer

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	tiktoken "github.com/tiktoken-go/tokenizer"
)

// The split patterns of OpenAI's encodings (tiktoken's pat_str).
const (
	cl100kPattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	o200kPattern  = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

var builtins = map[string]struct {
	encoding tiktoken.Encoding
	pattern  string
}{
	"cl100k_base": {tiktoken.Cl100kBase, cl100kPattern},
	"o200k_base":  {tiktoken.O200kBase, o200kPattern},
}

// DefaultBuiltin is the encoding used when none is chosen: the one AIPerf's
// offline "builtin" tokenizer uses.
const DefaultBuiltin = "o200k_base"

var (
	builtinMu    sync.Mutex
	builtinCache = map[string]*encoder{}
)

// BuiltinNames lists the embedded encodings.
func BuiltinNames() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Builtin returns an embedded tiktoken encoding ("cl100k_base",
// "o200k_base"). Special tokens in text are encoded as ordinary text, as
// tiktoken's encode_ordinary does. The first call for an encoding builds its
// tables (about a quarter of a second); later calls share them.
func Builtin(name string) (Tokenizer, error) {
	b, ok := builtins[name]
	if !ok {
		return nil, fmt.Errorf("unknown built-in tokenizer %q (choose %s)", name, strings.Join(BuiltinNames(), ", "))
	}
	builtinMu.Lock()
	defer builtinMu.Unlock()
	if e, ok := builtinCache[name]; ok {
		return e, nil
	}
	codec, err := tiktoken.Get(b.encoding)
	if err != nil {
		return nil, fmt.Errorf("built-in tokenizer %s: %w", name, err)
	}
	// The codec's vocabulary is private; decoding each rank recovers it.
	m := &model{rule: rankByConcatenation, unkID: -1}
	m.ids.init(200_000)
	tokens := make([]string, 0, 200_000)
	for id := 0; ; id++ {
		s, err := codec.Decode([]uint{uint(id)})
		if err != nil || s == "" {
			break
		}
		tokens = append(tokens, s)
		m.ids.set(s, int32(id))
	}
	m.tokens = newTokenTable(tokens)
	for c := 0; c < 256; c++ {
		id, ok := m.ids.get(string([]byte{byte(c)}))
		if !ok {
			return nil, fmt.Errorf("built-in tokenizer %s: no token for byte 0x%02X", name, c)
		}
		m.byteID[c] = id
	}
	split, err := regexMatcher(b.pattern)
	if err != nil {
		return nil, err
	}
	e := &encoder{
		name:   name,
		m:      m,
		pre:    splitStage(split, splitIsolated, false),
		decode: func(t []string) string { return strings.ToValidUTF8(strings.Join(t, ""), "\uFFFD") },
	}
	if f, ok := fastSplitFor(b.pattern); ok {
		e.fast = &f // the same pieces as pre, for Count's direct loop
	}
	builtinCache[name] = e
	return e, nil
}
