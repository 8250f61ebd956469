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
