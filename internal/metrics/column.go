package metrics

import "math"

// chunkLen is the length of one column chunk. Chunks avoid the copy (and
// the momentary 2× memory) of growing one large slice.
const chunkLen = 1 << 14

// absent64 marks an absent int64 value in a column.
const absent64 = math.MinInt64

// absent32 marks an absent int32 value in a column.
const absent32 = math.MinInt32

// column is an append-only, chunked sequence of integers, one per stored
// record. A column that never receives a present value allocates nothing:
// it is materialised (backfilled with absent) on its first present value.
type column[T int64 | int32 | int8] struct {
	chunks [][]T
	absent T
	used   bool
}

// set stores v as the value of row i, where i is the next row (rows are
// appended in order; every column is called for every row).
func (c *column[T]) set(i int, v T) {
	if !c.used {
		if v == c.absent {
			return
		}
		c.used = true
		for j := 0; j < i; j++ {
			c.put(j, c.absent)
		}
	}
	c.put(i, v)
}

func (c *column[T]) put(i int, v T) {
	if i/chunkLen == len(c.chunks) {
		c.chunks = append(c.chunks, make([]T, 0, chunkLen))
	}
	ch := &c.chunks[i/chunkLen]
	*ch = append(*ch, v)
}

// get returns row i's value (absent for an unused column).
func (c *column[T]) get(i int) T {
	if !c.used {
		return c.absent
	}
	return c.chunks[i/chunkLen][i%chunkLen]
}

func (c *column[T]) free() { c.chunks, c.used = nil, false }

func newCol64() column[int64] { return column[int64]{absent: absent64} }
func newCol32() column[int32] { return column[int32]{absent: absent32} }
func newCol8() column[int8]   { return column[int8]{absent: math.MinInt8} }

// to32 narrows a token count to a column value (absent for negative).
func to32(v int64) int32 {
	switch {
	case v < 0:
		return absent32
	case v > math.MaxInt32:
		return math.MaxInt32
	}
	return int32(v)
}

func from32(v int32) int64 {
	if v == absent32 {
		return -1
	}
	return int64(v)
}

// relColumn stores an int64 per row as an int32 relative to an expected
// value the row already has (TTFO to TTFT, usage prompt tokens to ISL, …),
// so the common case — equal, or absent when the expected value is — costs
// nothing until a row differs, and a differing row costs 4 bytes. Values
// beyond int32 go to an overflow map; they are rare (a gap of more than
// 2.1 s), and exact either way.
type relColumn struct {
	c    column[int32]
	over map[int]int64
}

const (
	relSame   = math.MinInt32     // equals the expected value (or both absent)
	relAbsent = math.MinInt32 + 1 // absent while the expected value is present
	relOver   = math.MinInt32 + 2 // in the overflow map
)

func newRel() relColumn { return relColumn{c: column[int32]{absent: relSame}} }

// set stores row i's value v (ok = present) given the expected e (eok).
func (r *relColumn) set(i int, v int64, ok bool, e int64, eok bool) {
	var code int64
	switch {
	case ok == eok && (!ok || v == e):
		r.c.set(i, relSame)
		return
	case !ok:
		r.c.set(i, relAbsent)
		return
	case eok:
		code = v - e
	default:
		code = v
	}
	if code <= relOver || code > math.MaxInt32 {
		if r.over == nil {
			r.over = map[int]int64{}
		}
		r.over[i] = v
		r.c.set(i, relOver)
		return
	}
	r.c.set(i, int32(code))
}

// get returns row i's value given the same expected value set saw.
func (r *relColumn) get(i int, e int64, eok bool) (int64, bool) {
	switch code := r.c.get(i); code {
	case relSame:
		return e, eok
	case relAbsent:
		return 0, false
	case relOver:
		return r.over[i], true
	default:
		if eok {
			return e + int64(code), true
		}
		return int64(code), true
	}
}

func (r *relColumn) free() { r.c.free(); r.over = nil }
