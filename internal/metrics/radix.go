package metrics

import (
	"math"
	"math/bits"
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
func sortFloats(vals []float64) { sortFloatsWith(vals, nil) }

// sortFloatsWith is sortFloats keeping its scratch buffer in *scratch
// (when not nil) for the next sort: the end of a run sorts a dozen
// metrics' values of the same length, and a buffer each was a dozen
// times 8 MB of garbage at a million requests.
func sortFloatsWith(vals []float64, scratch *[]uint64) {
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
	var dst []uint64
	if scratch != nil && cap(*scratch) >= m {
		dst = (*scratch)[:m]
	} else {
		dst = make([]uint64, m)
		if scratch != nil {
			*scratch = dst
		}
	}
	src := keys[:m]
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

// flagMin is the length up to which sortByKey sorts by insertion.
const flagMin = 32

// sortByKey sorts s ascending by key, in place: a most significant digit
// first radix sort (American flag sort) that, unlike sortFloats, needs no
// scratch memory (the sweep's events of a million-request run take 144 MB
// on their own), and insertion sort for short buckets. Each digit is the 8
// highest bits in which a bucket's keys still differ. Equal keys keep no
// particular order, as with slices.SortFunc; the same input always gives
// the same output.
func sortByKey[T any](s []T, key func(*T) uint64) {
	flagSort(s, key, 56)
}

func flagSort[T any](s []T, key func(*T) uint64, shift uint) {
	if len(s) <= flagMin {
		insertionByKey(s, key)
		return
	}
	var count [256]int
	for {
		for i := range s {
			count[byte(key(&s[i])>>shift)]++
		}
		k0 := key(&s[0])
		if count[byte(k0>>shift)] < len(s) {
			break
		}
		// One bucket holds everything: go to the highest 8 bits in which
		// keys differ, if any.
		var diff uint64
		for i := range s {
			diff |= key(&s[i]) ^ k0
		}
		diff &= 1<<shift - 1 // the bytes from shift up agree
		if diff == 0 {
			return
		}
		count = [256]int{}
		shift = uint(max(bits.Len64(diff)-8, 0))
	}
	var next, end [256]int
	off := 0
	for b, c := range count {
		next[b], off = off, off+c
		end[b] = off
	}
	for b := range next {
		for next[b] < end[b] {
			d := byte(key(&s[next[b]]) >> shift)
			if int(d) == b {
				next[b]++
				continue
			}
			s[next[b]], s[next[d]] = s[next[d]], s[next[b]]
			next[d]++
		}
	}
	if shift == 0 {
		return
	}
	// The next digit starts where this one does at the latest: a bucket's
	// keys agree from shift up.
	next8 := uint(max(int(shift)-8, 0))
	start := 0
	for _, c := range count {
		if c > 1 {
			flagSort(s[start:start+c], key, next8)
		}
		start += c
	}
}

func insertionByKey[T any](s []T, key func(*T) uint64) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && key(&s[j]) < key(&s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
