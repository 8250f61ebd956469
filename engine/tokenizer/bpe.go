package tokenizer

import (
	"unicode/utf8"
)

// mergeRule says how adjacent symbols of a piece combine.
type mergeRule uint8

const (
	// rankByConcatenation is tiktoken's rule: two adjacent symbols merge when
	// their concatenated bytes are a token; the lowest token rank goes first.
	rankByConcatenation mergeRule = iota
	// rankByMergeList is Hugging Face's rule: a pair merges only when it is
	// listed in `merges`; the earliest listed pair goes first.
	rankByMergeList
)

// model is a BPE vocabulary with its merge rule. It is immutable once built.
type model struct {
	rule mergeRule
	// tokens maps token id to its text: raw bytes for byte-level models and
	// tiktoken, the vocabulary string (with ▁) for SentencePiece-style ones.
	tokens tokenTable
	ids    vocabIndex
	// merges (rankByMergeList) maps leftID<<32|rightID to rank<<32|mergedID.
	merges map[uint64]uint64
	// byteLevel models start from single bytes (every byte is a token);
	// the others start from UTF-8 characters.
	byteLevel   bool
	byteID      [256]int32
	ignoreMerge bool // a piece that is itself a token is not split (Llama 3)
	byteFallbk  bool // unknown characters become <0xXX> tokens
	fallbackID  [256]int32
	unkID       int32 // -1 = none
	fuseUnk     bool
}

// symbol is one current part of a piece during merging: piece[start:end].
type symbol struct {
	start, end int32
	id         int32 // -1 = character not in the vocabulary
	prev, next int32 // neighbour indexes, -1 at the ends (heap variant)
	ver        int32 // bumped when the symbol changes or dies (heap variant)
}

// heapThreshold is the piece length (in symbols) from which merging uses a
// priority queue: the simple scan is quadratic but faster for short pieces.
const heapThreshold = 96

// maxMergePiece bounds the bytes of a piece merged at once. A longer piece
// (one unbroken run of letters, whitespace or CJK characters, which natural
// text never has) is merged in consecutive parts of at most this size, cut
// at character boundaries, as Meta's Llama 3 reference tokenizer splits
// runs longer than 25,000 characters before encoding: the merge then costs
// time linear in the input and working memory bounded by the part, instead
// of about 120 bytes of heap per input byte for one 10 MB run. Counts only
// differ from an unbounded merge at the cuts, a token or so per 25 KB.
const maxMergePiece = 25_000

// mergeScratch holds the buffers of the heap merge, reused from part to
// part of long pieces.
type mergeScratch struct {
	syms []symbol
	heap candidates
	ids  []int
}

// encodePiece appends the ids of one pre-token piece to dst. sc, when not
// nil, lends the merge its buffers.
func (m *model) encodePiece(dst []int, piece string, sc *mergeScratch) []int {
	for len(piece) > maxMergePiece {
		cut := maxMergePiece
		for cut > 0 && !utf8.RuneStart(piece[cut]) {
			cut--
		}
		if cut == 0 {
			cut = maxMergePiece // not UTF-8: byte-level models take any cut
		}
		dst = m.encodePart(dst, piece[:cut], sc)
		piece = piece[cut:]
	}
	return m.encodePart(dst, piece, sc)
}

// countPiece returns len(encodePiece(nil, piece, sc)) keeping at most one
// part's ids.
func (m *model) countPiece(piece string, sc *mergeScratch) int {
	n := 0
	for len(piece) > 0 {
		cut := min(len(piece), maxMergePiece)
		for cut < len(piece) && cut > 0 && !utf8.RuneStart(piece[cut]) {
			cut--
		}
		if cut == 0 {
			cut = min(len(piece), maxMergePiece)
		}
		sc.ids = m.encodePart(sc.ids[:0], piece[:cut], sc)
		n += len(sc.ids)
		piece = piece[cut:]
	}
	return n
}

// encodePart merges one piece of at most maxMergePiece bytes.
func (m *model) encodePart(dst []int, piece string, sc *mergeScratch) []int {
	if piece == "" {
		return dst
	}
	if id, ok := m.ids.get(piece); ok && (m.rule == rankByConcatenation || m.ignoreMerge) {
		return append(dst, int(id))
	}
	var buf [64]symbol
	syms := buf[:0]
	if len(piece) > len(buf) {
		// At most one symbol per byte: allocate once, never grow.
		if sc != nil && cap(sc.syms) >= len(piece) {
			syms = sc.syms[:0]
		} else {
			syms = make([]symbol, 0, len(piece))
			if sc != nil {
				sc.syms = syms
			}
		}
	}
	syms = m.initial(syms, piece)
	if len(syms) >= heapThreshold {
		var h *candidates
		if sc != nil {
			h = &sc.heap
		}
		syms = m.mergeHeap(syms, piece, h)
	} else {
		syms = m.mergeScan(syms, piece)
	}
	prevUnk := false
	for _, s := range syms {
		if s.id < 0 && !m.canFallback(piece, s) {
			if m.unkID >= 0 && !(m.fuseUnk && prevUnk) {
				dst = append(dst, int(m.unkID))
			}
			prevUnk = true
			continue
		}
		prevUnk = false
		dst = m.appendSymbol(dst, piece, s)
	}
	return dst
}

func (m *model) initial(syms []symbol, piece string) []symbol {
	if m.byteLevel || m.rule == rankByConcatenation {
		for i := 0; i < len(piece); i++ {
			syms = append(syms, symbol{start: int32(i), end: int32(i + 1), id: m.byteID[piece[i]]})
		}
		return syms
	}
	for i := 0; i < len(piece); {
		_, n := utf8.DecodeRuneInString(piece[i:])
		id, ok := m.ids.get(piece[i : i+n])
		if !ok {
			id = -1
		}
		syms = append(syms, symbol{start: int32(i), end: int32(i + n), id: id})
		i += n
	}
	return syms
}

// pair returns the rank and merged id of two adjacent symbols.
func (m *model) pair(piece string, a, b *symbol) (rank, id int32, ok bool) {
	if a.id < 0 || b.id < 0 {
		return 0, 0, false
	}
	if m.rule == rankByConcatenation {
		r, ok := m.ids.get(piece[a.start:b.end])
		return r, r, ok
	}
	v, ok := m.merges[uint64(uint32(a.id))<<32|uint64(uint32(b.id))]
	return int32(v >> 32), int32(uint32(v)), ok
}

const noRank = int32(1<<31 - 1)

// mergeScan merges by repeatedly taking the lowest-ranked adjacent pair,
// leftmost first, keeping each pair's rank cached.
func (m *model) mergeScan(syms []symbol, piece string) []symbol {
	if len(syms) < 2 {
		return syms
	}
	var rbuf [64]int32
	ranks := rbuf[:0]
	var ibuf [64]int32
	merged := ibuf[:0]
	for i := 0; i+1 < len(syms); i++ {
		r, id, ok := m.pair(piece, &syms[i], &syms[i+1])
		if !ok {
			r = noRank
		}
		ranks = append(ranks, r)
		merged = append(merged, id)
	}
	for {
		best := -1
		bestRank := noRank
		for i, r := range ranks {
			if r < bestRank {
				best, bestRank = i, r
			}
		}
		if best < 0 {
			return syms
		}
		syms[best].end = syms[best+1].end
		syms[best].id = merged[best]
		syms = append(syms[:best+1], syms[best+2:]...)
		ranks = append(ranks[:best], ranks[best+1:]...)
		merged = append(merged[:best], merged[best+1:]...)
		if best > 0 {
			r, id, ok := m.pair(piece, &syms[best-1], &syms[best])
			if !ok {
				r = noRank
			}
			ranks[best-1], merged[best-1] = r, id
		}
		if best < len(ranks) {
			r, id, ok := m.pair(piece, &syms[best], &syms[best+1])
			if !ok {
				r = noRank
			}
			ranks[best], merged[best] = r, id
		}
	}
}

// candidate is a mergeable pair; key orders candidates by rank, then
// leftmost first (rank<<32 | left).
type candidate struct {
	key         uint64
	left, right int32
	lver, rver  int32
	id          int32
}

func (c *candidate) before(d *candidate) bool { return c.key < d.key }

// candidates is a binary min-heap ordered by (rank, left), typed so that a
// push allocates nothing beyond the slice's growth (container/heap boxes
// every element in an interface).
type candidates []candidate

func (h *candidates) push(c candidate) {
	*h = append(*h, c)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q[i].before(&q[parent]) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (h *candidates) pop() candidate {
	q := *h
	top := q[0]
	n := len(q) - 1
	q[0] = q[n]
	q = q[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && q[r].before(&q[l]) {
			j = r
		}
		if !q[j].before(&q[i]) {
			break
		}
		q[i], q[j] = q[j], q[i]
		i = j
	}
	*h = q
	return top
}

// mergeHeap is mergeScan in O(n log n) for long pieces (long CJK runs,
// whitespace runs, SentencePiece sections). scratch, when not nil, lends
// its heap's storage and keeps it for the next call.
func (m *model) mergeHeap(syms []symbol, piece string, scratch *candidates) []symbol {
	n := len(syms)
	for i := range syms {
		syms[i].prev, syms[i].next = int32(i-1), int32(i+1)
	}
	syms[n-1].next = -1
	var h candidates
	if scratch != nil {
		h = (*scratch)[:0]
		defer func() { *scratch = h[:0] }()
	}
	if cap(h) < n {
		h = make(candidates, 0, n)
	}
	push := func(l int32) {
		if l < 0 || syms[l].next < 0 {
			return
		}
		r := syms[l].next
		if rank, id, ok := m.pair(piece, &syms[l], &syms[r]); ok {
			h.push(candidate{key: uint64(uint32(rank))<<32 | uint64(uint32(l)), left: l, right: r, lver: syms[l].ver, rver: syms[r].ver, id: id})
		}
	}
	for i := 0; i+1 < n; i++ {
		push(int32(i))
	}
	for len(h) > 0 {
		c := h.pop()
		l, r := &syms[c.left], &syms[c.right]
		if l.ver != c.lver || r.ver != c.rver || l.next != c.right {
			continue
		}
		l.end, l.id = r.end, c.id
		l.ver++
		r.ver++
		r.id = -2 // dead
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = c.left
		}
		push(l.prev)
		push(c.left)
	}
	out := syms[:0]
	for i := int32(0); i >= 0; i = syms[i].next {
		out = append(out, syms[i])
	}
	return out
}

// canFallback reports whether an unknown symbol can be spelled with
// <0xXX> byte tokens (all of them must exist, as transformers.js checks).
func (m *model) canFallback(piece string, s symbol) bool {
	if !m.byteFallbk {
		return false
	}
	for i := s.start; i < s.end; i++ {
		if m.fallbackID[piece[i]] < 0 {
			return false
		}
	}
	return true
}

// appendSymbol appends a known symbol's id, or the byte tokens of an
// unknown one that canFallback accepted.
func (m *model) appendSymbol(dst []int, piece string, s symbol) []int {
	if s.id >= 0 {
		return append(dst, int(s.id))
	}
	for i := s.start; i < s.end; i++ {
		dst = append(dst, int(m.fallbackID[piece[i]]))
	}
	return dst
}
