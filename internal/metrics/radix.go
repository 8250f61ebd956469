package metrics

import (
	"math"
	"slices"
	"unsafe"
)

// radixMin is the length from which sortFloats sorts by radix: below it
// the comparison sort is as fast and needs no scratch buffer.
const radixMin = 4096

// sortFloats sorts vals ascending as slices.Sort does (NaNs first). The
// end-of-run statistics sort every metric's values; for long runs a least
// significant byte first radix sort of the values' bits is several times
// faster than comparing, and it skips the byte positions all values share
// (the high bytes of latencies of one magnitude, token counts that never
// change). It needs a scratch buffer as long as vals.
func sortFloats(vals []float64) {
	n := len(vals)
	if n < radixMin {
		slices.Sort(vals)
		return
	}
	// The keys take vals' own memory: a key orders as its value does.
	keys := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(vals))), n)
	m := 0
	for _, v := range vals {
		if v != v {
			continue // NaNs go first, after the sort
		}
		keys[m] = floatKey(v)
		m++
	}
	nan := n - m
	src, dst := keys[:m], make([]uint64, m)
	var counts [8][256]int
	for _, k := range src {
		for d := range counts {
			counts[d][byte(k>>(8*d))]++
		}
	}
	for d := range counts {
		c, shift := &counts[d], 8*d
		if m == 0 || c[byte(src[0]>>shift)] == m {
			continue // every key has the same byte here
		}
		off := 0
		for i, x := range c {
			c[i], off = off, off+x
		}
		for _, k := range src {
			b := byte(k >> shift)
			dst[c[b]] = k
			c[b]++
		}
		src, dst = dst, src
	}
	// Back to values, after the NaNs (from the end: vals[nan+i] is at or
	// after keys[i] in the same memory).
	for i := m - 1; i >= 0; i-- {
		vals[nan+i] = keyFloat(src[i])
	}
	for i := range nan {
		vals[i] = math.NaN()
	}
}

// floatKey maps v to an integer that orders as v does: a negative value's
// bits are inverted, a positive value's sign bit is set.
func floatKey(v float64) uint64 {
	b := math.Float64bits(v)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

func keyFloat(k uint64) float64 {
	if k>>63 == 1 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}
