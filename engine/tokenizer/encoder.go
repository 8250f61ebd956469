package tokenizer

import (
	"hash/maphash"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// encoder is the one Tokenizer implementation: added-token splitting,
// normalization, pre-tokenization, then BPE per piece with a piece cache.
type encoder struct {
	name      string
	m         *model
	added     *addedTokens // nil when the tokenizer has none (tiktoken)
	normalize func(string) string
	pre       stage
	// spmSplit: a SentencePiece-style piece may be cut before every ▁ that
	// follows another character, because no token spans such a boundary
	// (checked when loading). This keeps pieces short and cacheable.
	spmSplit string
	decode   func(tokens []string) string
	cache    pieceCache
	// fast, when set, is the whole pre-tokenization (pre is one isolated
	// split by this scanner, with no added tokens, normalizer or ▁ cuts):
	// Count then walks the pieces in a plain loop (countFast).
	fast *fastSplit
	// heavy admits the goroutines tokenizing a text of heavyText bytes or
	// more: GOMAXPROCS-1 at once, created on first use.
	heavy     chan struct{}
	heavyOnce sync.Once
}

// heavyText is the text size from which tokenizing takes one of
// GOMAXPROCS-1 slots, so that counting huge answers (a hostile server's
// 64 MiB stream takes tens of seconds of CPU) never occupies every
// processor: one stays free for the goroutines that send requests and
// stamp their reads.
const heavyText = 64 << 10

// admit waits for a heavy-text slot when text needs one and returns the
// function releasing it.
func (e *encoder) admit(text string) func() {
	if len(text) < heavyText {
		return func() {}
	}
	procs := runtime.GOMAXPROCS(0)
	if procs < 2 {
		return func() {}
	}
	e.heavyOnce.Do(func() { e.heavy = make(chan struct{}, procs-1) })
	e.heavy <- struct{}{}
	return func() { <-e.heavy }
}

var (
	_ Tokenizer   = (*encoder)(nil)
	_ ByteCounter = (*encoder)(nil)
)

func (e *encoder) Name() string { return e.name }

// Encode returns the token ids of text, without special tokens.
func (e *encoder) Encode(text string) []int {
	defer e.admit(text)()
	ids := make([]int, 0, len(text)/3+1)
	var sc *mergeScratch
	e.pieces(text, func(piece string, addedID int) {
		if addedID >= 0 {
			ids = append(ids, addedID)
			return
		}
		if len(piece) <= maxCachedPiece {
			ids = append(ids, e.pieceIDs(piece)...)
			return
		}
		if sc == nil {
			sc = &mergeScratch{}
		}
		ids = e.m.encodePiece(ids, piece, sc)
	})
	return ids
}

// Count returns the number of tokens of text. Its working memory is
// bounded whatever the text: long pieces are counted part by part
// (maxMergePiece) without keeping their ids.
func (e *encoder) Count(text string) int {
	defer e.admit(text)()
	if e.fast != nil && e.added == nil && e.normalize == nil && e.spmSplit == "" {
		return e.countFast(text)
	}
	n := 0
	var sc *mergeScratch
	e.pieces(text, func(piece string, addedID int) {
		if addedID >= 0 {
			n++
			return
		}
		if len(piece) <= maxCachedPiece {
			n += len(e.pieceIDs(piece))
			return
		}
		if sc == nil {
			sc = &mergeScratch{}
		}
		n += e.m.countPiece(piece, sc)
	})
	return n
}

// CountBytes implements ByteCounter. Counting never keeps the text (the
// piece cache stores copies), so a view of text serves as the string.
func (e *encoder) CountBytes(text []byte) int {
	return e.Count(unsafe.String(unsafe.SliceData(text), len(text)))
}

// countFast is Count for an encoder whose pre-tokenization is e.fast
// alone: the pieces splitStage(e.fast.matches, splitIsolated) yields (each
// match, and the text between matches), counted without closures, and a
// piece that is itself a token without the cache (tiktoken's rule: it is
// one token).
func (e *encoder) countFast(s string) int {
	n, prev := 0, 0
	var sc *mergeScratch
	for i := 0; i < len(s); {
		end := e.fast.matchAt(s, i)
		if end <= i {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			continue
		}
		if i > prev {
			n += e.pieceCount(s[prev:i], &sc)
		}
		n += e.pieceCount(s[i:end], &sc)
		i, prev = end, end
	}
	if prev < len(s) {
		n += e.pieceCount(s[prev:], &sc)
	}
	return n
}

// pieceCount is the token count of one piece as Count's general path
// takes it: long pieces part by part in bounded memory (*sc made on
// first need).
func (e *encoder) pieceCount(piece string, sc **mergeScratch) int {
	if e.m.rule == rankByConcatenation {
		if _, ok := e.m.ids.get(piece); ok {
			return 1
		}
	}
	if len(piece) <= maxCachedPiece {
		return len(e.pieceIDs(piece))
	}
	if *sc == nil {
		*sc = &mergeScratch{}
	}
	return e.m.countPiece(piece, *sc)
}

// Pieces calls yield with each pre-token piece of text and its token ids.
// The ids are shared and must not be modified. Encoding text is the
// concatenation of the pieces' ids.
func (e *encoder) Pieces(text string, yield func(piece string, ids []int)) {
	var one [1]int
	e.pieces(text, func(piece string, addedID int) {
		if addedID >= 0 {
			one[0] = addedID
			yield(piece, one[:])
			return
		}
		yield(piece, e.pieceIDs(piece))
	})
}

// Decode returns the text of ids. Unknown ids are skipped.
func (e *encoder) Decode(ids []int) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if id >= 0 && id < e.m.tokens.len() {
			toks = append(toks, e.m.tokens.at(id))
		}
	}
	return e.decode(toks)
}

// pieces splits text into added tokens (addedID >= 0) and pre-token pieces.
func (e *encoder) pieces(text string, yield func(piece string, addedID int)) {
	if e.added == nil {
		e.section(text, true, yield)
		return
	}
	first := true
	e.added.split(text, func(s string, id int) {
		if id >= 0 {
			yield(s, id)
		} else {
			e.section(s, first, yield)
		}
		first = false
	})
}

func (e *encoder) section(s string, first bool, yield func(string, int)) {
	if e.normalize != nil {
		s = e.normalize(s)
	}
	if s == "" {
		return
	}
	e.pre(s, first, func(p string, _ bool) {
		if e.spmSplit == "" {
			yield(p, -1)
			return
		}
		start := 0
		for i := len(e.spmSplit); i < len(p); {
			j := strings.Index(p[i:], e.spmSplit)
			if j < 0 {
				break
			}
			at := i + j
			if !strings.HasSuffix(p[:at], e.spmSplit) {
				yield(p[start:at], -1)
				start = at
			}
			i = at + len(e.spmSplit)
		}
		yield(p[start:], -1)
	})
}

// pieceIDs encodes one piece through the cache.
func (e *encoder) pieceIDs(piece string) []int {
	if ids, ok := e.cache.get(piece); ok {
		return ids
	}
	ids := e.m.encodePiece(nil, piece, nil)
	e.cache.put(piece, ids)
	return ids
}

// pieceCache remembers the ids of short pieces. Natural text repeats its
// words, so most pieces hit; memory is bounded by clearing a full shard.
type pieceCache struct {
	seed   maphash.Seed
	once   sync.Once
	shards [32]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[string][]int
}

const (
	maxCachedPiece   = 128     // bytes
	maxShardEntries  = 1 << 15 // 32 shards: about 1M pieces at most
	cacheShardsCount = 32
)

func (c *pieceCache) shard(piece string) *cacheShard {
	c.once.Do(func() { c.seed = maphash.MakeSeed() })
	return &c.shards[maphash.String(c.seed, piece)%cacheShardsCount]
}

func (c *pieceCache) get(piece string) ([]int, bool) {
	if len(piece) > maxCachedPiece {
		return nil, false
	}
	s := c.shard(piece)
	s.mu.RLock()
	ids, ok := s.m[piece]
	s.mu.RUnlock()
	return ids, ok
}

func (c *pieceCache) put(piece string, ids []int) {
	if len(piece) > maxCachedPiece {
		return
	}
	s := c.shard(piece)
	s.mu.Lock()
	if s.m == nil || len(s.m) >= maxShardEntries {
		s.m = make(map[string][]int, 256)
	}
	// Clone: piece points into the caller's text, which must not be pinned.
	s.m[strings.Clone(piece)] = ids
	s.mu.Unlock()
}

// addedTokens finds added tokens in raw text, longest match first, as
// transformers.js and Hugging Face tokenizers do.
type addedTokens struct {
	byFirst map[byte][]addedToken // candidates by first byte, longest first
}

type addedToken struct {
	content        string
	id             int
	lstrip, rstrip bool
}

func newAddedTokens(list []addedToken) *addedTokens {
	if len(list) == 0 {
		return nil
	}
	a := &addedTokens{byFirst: map[byte][]addedToken{}}
	for _, t := range list {
		if t.content == "" {
			continue
		}
		b := t.content[0]
		l := append(a.byFirst[b], t)
		for i := len(l) - 1; i > 0 && len(l[i].content) > len(l[i-1].content); i-- {
			l[i], l[i-1] = l[i-1], l[i]
		}
		a.byFirst[b] = l
	}
	return a
}

// split yields the text between added tokens (id -1) and the added tokens,
// applying their lstrip/rstrip to the neighbouring text.
func (a *addedTokens) split(text string, yield func(s string, id int)) {
	start := 0
	pendingRstrip := false
	emitText := func(s string, lstrip bool) {
		if pendingRstrip {
			s = strings.TrimLeft(s, " \t\n\r\v\f")
			pendingRstrip = false
		}
		if lstrip {
			s = strings.TrimRight(s, " \t\n\r\v\f")
		}
		if s != "" {
			yield(s, -1)
		}
	}
	for i := 0; i < len(text); {
		var hit *addedToken
		for k, t := range a.byFirst[text[i]] {
			if strings.HasPrefix(text[i:], t.content) {
				hit = &a.byFirst[text[i]][k]
				break
			}
		}
		if hit == nil {
			i++
			continue
		}
		emitText(text[start:i], hit.lstrip)
		yield(hit.content, hit.id)
		pendingRstrip = hit.rstrip
		i += len(hit.content)
		start = i
	}
	emitText(text[start:], false)
}
