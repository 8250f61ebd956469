package tokenizer

import (
	"hash/maphash"
	"math/bits"
	"unsafe"
)

// A vocabulary of 200,000 tokens held as Go strings in a map[string]int32
// and a []string is 400,000 pointers that every garbage collection cycle
// traces, for the run's whole life: a forced GC with o200k loaded took
// 16 ms, 4.7 ms with the two tables below (BenchmarkGCCycleO200k), which
// keep the same data in a few pointer-free arrays that the collector skips.

// tokenTable is the text of every token id: one byte arena and offsets.
type tokenTable struct {
	text []byte
	off  []uint32 // token id's text is text[off[id]:off[id+1]]
}

func newTokenTable(tokens []string) tokenTable {
	size := 0
	for _, s := range tokens {
		size += len(s)
	}
	t := tokenTable{text: make([]byte, 0, size), off: make([]uint32, 1, len(tokens)+1)}
	for _, s := range tokens {
		t.text = append(t.text, s...)
		t.off = append(t.off, uint32(len(t.text)))
	}
	return t
}

// len is the number of ids.
func (t *tokenTable) len() int { return len(t.off) - 1 }

// at is id's text: a view of the arena, which never changes once built.
func (t *tokenTable) at(id int) string {
	b := t.text[t.off[id]:t.off[id+1]]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// vocabIndex finds a token's id by its text: open addressing with linear
// probing over one byte arena of keys. Slots hold the key's place and id
// beside a hash tag, so a look-up reads one slot and compares the key's
// bytes only when tag and length agree. At most half the slots are used.
type vocabIndex struct {
	seed  uint64
	text  []byte // the keys, back to back
	slots []vocabSlot
	mask  uint64
	n     int
}

type vocabSlot struct {
	tag      uint32 // the hash's high half
	len, off uint32 // the key is text[off:off+len]
	id1      uint32 // id + 1; 0 marks an empty slot
}

// init empties x and sizes it for n keys.
func (x *vocabIndex) init(n int) {
	*x = vocabIndex{seed: maphash.Bytes(maphash.MakeSeed(), nil) | 1}
	x.resize(max(n, 8))
}

func (x *vocabIndex) resize(n int) {
	size := 1 << bits.Len(uint(2*n-1)) // a power of two ≥ 2n
	old := x.slots
	x.slots, x.mask = make([]vocabSlot, size), uint64(size-1)
	for _, s := range old {
		if s.id1 != 0 {
			h := x.hash(unsafe.String(unsafe.SliceData(x.text[s.off:]), s.len))
			i := h & x.mask
			for x.slots[i].id1 != 0 {
				i = (i + 1) & x.mask
			}
			x.slots[i] = s
		}
	}
}

// get returns the id of token s.
func (x *vocabIndex) get(s string) (int32, bool) {
	h := x.hash(s)
	tag := uint32(h >> 32)
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		sl := &x.slots[i]
		if sl.id1 == 0 {
			return 0, false
		}
		if sl.tag == tag && int(sl.len) == len(s) && string(x.text[sl.off:sl.off+sl.len]) == s {
			return int32(sl.id1 - 1), true
		}
	}
}

// set makes s the key of id, replacing an earlier id of s (as a map
// assignment does).
func (x *vocabIndex) set(s string, id int32) {
	h := x.hash(s)
	tag := uint32(h >> 32)
	i := h & x.mask
	for ; x.slots[i].id1 != 0; i = (i + 1) & x.mask {
		sl := &x.slots[i]
		if sl.tag == tag && int(sl.len) == len(s) && string(x.text[sl.off:sl.off+sl.len]) == s {
			sl.id1 = uint32(id) + 1
			return
		}
	}
	x.slots[i] = vocabSlot{tag: tag, len: uint32(len(s)), off: uint32(len(x.text)), id1: uint32(id) + 1}
	x.text = append(x.text, s...)
	if x.n++; 2*x.n > len(x.slots) {
		x.resize(x.n)
	}
}

// hash is a seeded multiply-mix hash (wyhash's construction) inlined for
// the short strings that tokens are: a maphash call costs as much as the
// rest of the look-up. The table is fixed once built, so the look-ups of
// hostile text cannot lengthen its probe sequences.
func (x *vocabIndex) hash(s string) uint64 {
	const m1, m2 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db
	n := len(s)
	seed := x.seed
	var a, b uint64
	switch {
	case n == 0:
	case n < 4:
		a = uint64(s[0])<<16 | uint64(s[n>>1])<<8 | uint64(s[n-1])
	case n <= 8:
		a, b = uint64(le32(s)), uint64(le32(s[n-4:]))
	case n <= 16:
		a, b = le64(s), le64(s[n-8:])
	default:
		for t := s; len(t) > 16; t = t[16:] {
			seed = mix(le64(t)^m2, le64(t[8:])^seed)
		}
		a, b = le64(s[n-16:]), le64(s[n-8:])
	}
	return mix(m1^uint64(n), mix(a^m2, b^seed))
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func le32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
