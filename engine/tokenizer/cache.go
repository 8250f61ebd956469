package tokenizer

import (
	"hash/maphash"
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// CountCache remembers numbers computed from texts (token counts) by the
// texts' exact content. A benchmark sends the same texts again and again
// (a dataset of a hundred prompts, a deterministic server, the mock), so
// counting each answer and payload anew would tokenize the same bytes
// thousands of times.
//
// It is exact: a hit compares the whole text, never a hash alone, so
// Count returns what count returns for every text. Its memory is bounded:
// a fixed number of entries (CacheEntries, default 1024) in sets of 4 by
// the text's maphash, and texts longer than CacheMaxText (default 8 KiB)
// are never kept. The worst case is entries × (max text + 48) bytes, about
// 8 MiB at the defaults, plus 40 bytes of table per entry. A text enters
// only when it is seen a second time (a table of recently seen hashes
// remembers the first), so texts that never repeat cost a hash and a few
// loads, allocate nothing and never evict the texts that do repeat. A set
// evicts its oldest entry when a fifth text of the set enters.
//
// It is safe for concurrent use without locks: every slot is an atomic
// pointer to an immutable entry. Concurrent inserts into one set may drop
// or duplicate an entry, never corrupt one.
//
//	c := tokenizer.NewCountCache()
//	n := c.Count(text, tok.CountBytes) // tok.CountBytes(text), counted twice at most while text stays cached
type CountCache struct {
	seed    maphash.Seed
	slots   []atomic.Pointer[countEntry] // sets of cacheWays consecutive slots
	setMask uint64
	// seen holds the hashes of texts seen once, in pairs: a text's hash
	// goes into the first slot of its pair, the previous one moves to the
	// second (two texts that share a pair can both repeat).
	seen     []atomic.Uint64
	seenMask uint64
	maxText  int
	// hash replaces maphash in tests (to force collisions).
	hash func(text []byte) uint64
}

// countEntry is one cached text and its count; immutable once published.
type countEntry struct {
	hash uint64
	n    int
	text string
}

const cacheWays = 4

type cacheConfig struct {
	entries, maxText int
}

// CacheOption configures NewCountCache and Cached.
type CacheOption func(*cacheConfig)

// CacheEntries sets the number of texts kept (rounded up to a power of
// two, at least 4). Default 1024.
func CacheEntries(n int) CacheOption { return func(c *cacheConfig) { c.entries = n } }

// CacheMaxText sets the length in bytes above which a text is never
// cached (counted every time). Default 8 KiB.
func CacheMaxText(n int) CacheOption { return func(c *cacheConfig) { c.maxText = n } }

// Default cache size: a thousand distinct texts of up to 8 KiB.
const (
	defaultCacheEntries = 1024
	defaultCacheMaxText = 8 << 10
)

// NewCountCache returns an empty cache.
func NewCountCache(opts ...CacheOption) *CountCache {
	cfg := cacheConfig{entries: defaultCacheEntries, maxText: defaultCacheMaxText}
	for _, o := range opts {
		o(&cfg)
	}
	entries := max(cfg.entries, cacheWays)
	entries = 1 << bits.Len(uint(entries-1)) // a power of two
	return &CountCache{
		seed:     maphash.MakeSeed(),
		slots:    make([]atomic.Pointer[countEntry], entries),
		setMask:  uint64(entries/cacheWays - 1),
		seen:     make([]atomic.Uint64, 4*entries),
		seenMask: uint64(4*entries - 1),
		maxText:  cfg.maxText,
	}
}

// Count returns count(text), from the cache when text was counted before.
// count must be a pure function of the text's content (always the same
// number for the same bytes); text is only read during the call.
func (c *CountCache) Count(text []byte, count func([]byte) int) int {
	if len(text) > c.maxText {
		return count(text)
	}
	h := c.hashOf(text)
	if n, ok := c.get(h, text); ok {
		return n
	}
	n := count(text)
	c.add(h, text, n)
	return n
}

// CountString is Count for a string.
func (c *CountCache) CountString(text string, count func(string) int) int {
	b := unsafe.Slice(unsafe.StringData(text), len(text)) // only read
	return c.Count(b, func([]byte) int { return count(text) })
}

func (c *CountCache) hashOf(text []byte) uint64 {
	if c.hash != nil {
		return c.hash(text)
	}
	return maphash.Bytes(c.seed, text)
}

// get looks text up in its set. It never allocates: the comparison of a
// string with a converted byte slice does not copy.
func (c *CountCache) get(h uint64, text []byte) (int, bool) {
	set := c.slots[(h&c.setMask)*cacheWays:][:cacheWays]
	for i := range set {
		if e := set[i].Load(); e != nil && e.hash == h && e.text == string(text) {
			return e.n, true
		}
	}
	return 0, false
}

// add keeps text's count if text was seen before, else remembers its hash.
// An entry enters at the front of its set; the others move back by one and
// the last leaves.
func (c *CountCache) add(h uint64, text []byte, n int) {
	// A zero hash matches an empty seen slot: that text enters at once,
	// which costs an entry, never exactness.
	pair := c.seen[(h>>32)&c.seenMask&^1:][:2]
	if first := pair[0].Load(); first != h && pair[1].Load() != h {
		pair[1].Store(first)
		pair[0].Store(h)
		return
	}
	e := &countEntry{hash: h, n: n, text: string(text)} // a copy: text may be a view of the caller's buffer
	set := c.slots[(h&c.setMask)*cacheWays:][:cacheWays]
	for i := len(set) - 1; i > 0; i-- {
		set[i].Store(set[i-1].Load())
	}
	set[0].Store(e)
}

// Cached returns t counting through a CountCache: Count (and CountBytes,
// which the result always implements) of a text counted before costs a
// hash and a comparison instead of tokenizing it. Counts are exactly t's.
// Encode, Decode and Pieces (when t has it) are t's own. Cached of a
// tokenizer Cached returned is that tokenizer.
func Cached(t Tokenizer, opts ...CacheOption) Tokenizer {
	switch t.(type) {
	case *cachedTokenizer, *cachedPieceEncoder:
		return t
	}
	c := &cachedTokenizer{Tokenizer: t, cache: NewCountCache(opts...), count: t.Count}
	if bc, ok := t.(ByteCounter); ok {
		c.countBytes = bc.CountBytes
	} else {
		c.countBytes = func(b []byte) int { return t.Count(string(b)) }
	}
	if pe, ok := t.(PieceEncoder); ok {
		return &cachedPieceEncoder{cachedTokenizer: c, pieces: pe}
	}
	return c
}

type cachedTokenizer struct {
	Tokenizer
	cache      *CountCache
	count      func(string) int // t.Count
	countBytes func([]byte) int // t.CountBytes, or Count of a copy
}

var _ ByteCounter = (*cachedTokenizer)(nil)

// Count implements Tokenizer.
func (c *cachedTokenizer) Count(text string) int {
	return c.cache.CountString(text, c.count)
}

// CountBytes implements ByteCounter.
func (c *cachedTokenizer) CountBytes(text []byte) int {
	return c.cache.Count(text, c.countBytes)
}

// cachedPieceEncoder is Cached of a PieceEncoder (it stays one).
type cachedPieceEncoder struct {
	*cachedTokenizer
	pieces PieceEncoder
}

// Pieces implements PieceEncoder.
func (c *cachedPieceEncoder) Pieces(text string, yield func(piece string, ids []int)) {
	c.pieces.Pieces(text, yield)
}
