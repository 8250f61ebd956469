package tokenizer

import (
	"container/heap"
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
	tokens []string
	ids    map[string]int32
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

// encodePiece appends the ids of one pre-token piece to dst.
func (m *model) encodePiece(dst []int, piece string) []int {
	if piece == "" {
		return dst
	}
	if id, ok := m.ids[piece]; ok && (m.rule == rankByConcatenation || m.ignoreMerge) {
		return append(dst, int(id))
	}
	var buf [64]symbol
	syms := m.initial(buf[:0], piece)
	if len(syms) >= heapThreshold {
		syms = m.mergeHeap(syms, piece)
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
		id, ok := m.ids[piece[i:i+n]]
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
		r, ok := m.ids[piece[a.start:b.end]]
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

type candidate struct {
	rank        int32
	left, right int32
	lver, rver  int32
	id          int32
}

type candidates []candidate

func (h candidates) Len() int { return len(h) }
func (h candidates) Less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].left < h[j].left
}
func (h candidates) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *candidates) Push(x any)   { *h = append(*h, x.(candidate)) }
func (h *candidates) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// mergeHeap is mergeScan in O(n log n) for long pieces (long CJK runs,
// whitespace runs, SentencePiece sections).
func (m *model) mergeHeap(syms []symbol, piece string) []symbol {
	n := len(syms)
	for i := range syms {
		syms[i].prev, syms[i].next = int32(i-1), int32(i+1)
	}
	syms[n-1].next = -1
	h := make(candidates, 0, n)
	push := func(l int32) {
		if l < 0 || syms[l].next < 0 {
			return
		}
		r := syms[l].next
		if rank, id, ok := m.pair(piece, &syms[l], &syms[r]); ok {
			heap.Push(&h, candidate{rank: rank, left: l, right: r, lver: syms[l].ver, rver: syms[r].ver, id: id})
		}
	}
	for i := 0; i+1 < n; i++ {
		push(int32(i))
	}
	for len(h) > 0 {
		c := heap.Pop(&h).(candidate)
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
