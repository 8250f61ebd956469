package endpoint

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/loadstar/loadstar/engine/record"
)

// This file is the single pass of the hot parsers (chat, completions, TGI
// stream events): it walks a response object once, descending into the
// members it needs (choices[0], its delta or message, usage, TGI's token)
// instead of skipping them whole and walking them again, each nested walk
// returning its end index for the outer one to go on from, and finds a key
// by its first 8 bytes (nameSet).
//
// It takes plain JSON only: one comma between members, unescaped keys,
// literals made of letters, digits, '+', '-' and '.'. On anything else it
// gives up, having recorded nothing, and the parser runs the lenient scan
// of jsonscan.go, which stays the reference: on plain JSON both read the
// same values (a value walked member by member here ends where skipValue's
// bracket count ends it, because a plain literal holds no quote or
// bracket), and FuzzPlainScanMatchesLenient checks that they agree.

// nameSet finds the index of a member name with one multiplication and
// one comparison: a key's first 8 bytes (the walk has them in a register
// already) and its length pick its slot, and the multiplier is chosen so
// that no two names share one.
type nameSet struct {
	names []string
	mul   uint64
	slot  [nameSlots]nameSlot
}

type nameSlot struct {
	word uint64 // keyWord of the name
	n    int    // its length; -1 when the slot is empty
	k    int    // its index + 1
}

const nameSlots = 128 // a power of two: hash takes the top 7 bits

func newNameSet(names []string) *nameSet {
	mul := uint64(0x9E3779B97F4A7C15)
next:
	for try := 0; try < 1000; try, mul = try+1, mul+0x2545F4914F6CDD1E {
		s := &nameSet{names: names, mul: mul | 1}
		for k := range s.slot {
			s.slot[k].n = -1
		}
		for k, n := range names {
			w := keyWord([]byte(n))
			sl := &s.slot[s.hash(w, len(n))]
			if sl.n >= 0 {
				continue next
			}
			*sl = nameSlot{word: w, n: len(n), k: k + 1}
		}
		return s
	}
	// Only a name listed twice gets here (TestNameSets builds every set).
	panic(fmt.Sprintf("endpoint: no collision-free name set for %q", names))
}

// keyWord is the first 8 bytes of key, little endian, zero past its end.
func keyWord(key []byte) uint64 {
	var w uint64
	for i := min(len(key), 8) - 1; i >= 0; i-- {
		w = w<<8 | uint64(key[i])
	}
	return w
}

func (s *nameSet) hash(word uint64, n int) uint64 {
	return ((word ^ uint64(n)<<56) * s.mul) >> (64 - 7)
}

// index returns the index of key (whose keyWord is word) in the set, or -1.
func (s *nameSet) index(key []byte, word uint64) int {
	sl := &s.slot[s.hash(word, len(key))]
	if sl.n != len(key) || sl.word != word {
		return -1
	}
	if len(key) > 8 && string(key[8:]) != s.names[sl.k-1][8:] {
		return -1
	}
	return sl.k - 1
}

// Byte classes of a plain literal (a number, true, false or null).
const (
	litPart = iota
	litEnd  // a delimiter or whitespace ends it
	litBad  // not plain: the lenient scan reads it differently
)

var literalClass = func() (t [256]uint8) {
	for c := range t {
		t[c] = litBad
	}
	for _, c := range []byte(",}] \t\r\n") {
		t[c] = litEnd
	}
	for _, c := range []byte("+-.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		t[c] = litPart
	}
	return t
}()

// skipPlain returns the index just past the value at b[i] as skipValue
// does, or -1 when the value is malformed or a literal that is not plain.
// The string loop is scanString's, written out here to save a call per
// value.
func skipPlain(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		i++
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			q, s := zeroBytes(x^(swarLo*'"')), zeroBytes(x^(swarLo*'\\'))
			if q|s == 0 {
				i += 8
				continue
			}
			low := (q | s) & -(q | s)
			i += bits.TrailingZeros64(low) >> 3
			if q&low != 0 {
				return i + 1
			}
			i += 2
		}
		end, _ := scanString(b, i-1) // the last bytes (b[i-1] may be any byte)
		return end
	case '{', '[':
		return skipValue(b, i)
	}
	for j := i; j < len(b); j++ {
		switch literalClass[b[j]] {
		case litEnd:
			if j == i {
				return -1
			}
			return j
		case litBad:
			return -1
		}
	}
	return -1 // runs to the end: the object around it is unterminated
}

// member reads the next member of an object: at b[i] is the space after
// its '{' (first) or after the previous member's value. It returns the
// member's raw key, the key's keyWord and the index of its value. At the
// closing brace key is nil and next is the index just past it; on input
// the single pass does not take, key is nil and next is -1. (A function
// rather than an iterator: its results stay in registers.)
func member(b []byte, i int, first bool) (key []byte, word uint64, next int) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return nil, 0, -1
	}
	switch {
	case b[i] == '}':
		return nil, 0, i + 1
	case first:
	case b[i] == ',':
		i = skipSpace(b, i+1)
	default:
		return nil, 0, -1
	}
	if i >= len(b) || b[i] != '"' {
		return nil, 0, -1
	}
	// The key's closing quote, as scanString finds it; a backslash gives
	// up. The first 8 bytes are kept for nameSet.index.
	start, end := i+1, -1
	if start+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[start:])
		q, s := zeroBytes(x^(swarLo*'"')), zeroBytes(x^(swarLo*'\\'))
		word = x
		if q|s != 0 {
			// A short key (most are): it ends in this word.
			if low := (q | s) & -(q | s); q&low != 0 {
				n := bits.TrailingZeros64(low) >> 3
				end = start + n + 1
				word &= 1<<(8*n) - 1
			}
		} else if start+16 <= len(b) {
			// A key of 8 to 15 bytes ends in the second word.
			x := binary.LittleEndian.Uint64(b[start+8:])
			q, s := zeroBytes(x^(swarLo*'"')), zeroBytes(x^(swarLo*'\\'))
			if low := (q | s) & -(q | s); q&low != 0 {
				end = start + 8 + bits.TrailingZeros64(low)>>3 + 1
			} else if q|s == 0 {
				end = longKeyEnd(b, start+15)
			}
		} else {
			end = longKeyEnd(b, start+7)
		}
	} else if e, esc := scanString(b, i); !esc && e >= 0 {
		end = e
		word = keyWord(b[start : end-1])
	}
	if end < 0 {
		return nil, 0, -1
	}
	key = b[start : end-1] // not nil, even when empty
	i = skipSpace(b, end)
	if i >= len(b) || b[i] != ':' {
		return nil, 0, -1
	}
	return key, word, skipSpace(b, i+1)
}

// longKeyEnd returns the end of a key whose bytes up to b[i] hold no quote
// or backslash, or -1 when it is unterminated or escaped.
func longKeyEnd(b []byte, i int) int {
	if e, esc := scanString(b, i); !esc {
		return e // b[i] is no quote: scanString starts after it
	}
	return -1
}

// choicesScan is what one pass over a chat or completions object finds:
// the first occurrence of each of choicesTopNames; in the first element of
// "choices", the first occurrence of each choice name and, for those that
// are objects, of each inner name; and usage already read.
type choicesScan struct {
	top     [4][]byte // object, choices, usage, error
	choice  [2][]byte
	inner   [2][4][]byte
	usage   record.Usage
	usageOK bool // top[2] is an object holding a recognised count
}

var (
	choicesTopNames = []string{"object", "choices", "usage", "error"}
	choicesTopSet   = newNameSet(choicesTopNames)
	usageSet        = newNameSet(usageNames)
)

// scan walks obj (a whole message or body) once, looking for choiceNames
// (at most 2) in the first choice and for innerNames (at most 4, or nil)
// in those of them that are objects. It returns false when obj is not
// plain JSON: nothing was recorded and the caller runs the lenient scan.
func (s *choicesScan) scan(obj []byte, choiceNames, innerNames *nameSet) bool {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return false
	}
	i++
	for first := true; ; first = false {
		key, word, vi := member(obj, i, first)
		if key == nil {
			// Anything but whitespace after the closing brace is not JSON.
			return vi >= 0 && skipSpace(obj, vi) == len(obj)
		}
		k := choicesTopSet.index(key, word)
		switch {
		case k < 0 || s.top[k] != nil:
			i = skipPlain(obj, vi)
		case vi >= len(obj):
			return false
		case k == 1 && obj[vi] == '[':
			i = s.walkChoices(obj, vi, choiceNames, innerNames)
		case k == 2 && obj[vi] == '{':
			i = s.walkUsage(obj, vi)
		default:
			i = skipPlain(obj, vi)
		}
		if i < 0 {
			return false
		}
		if k >= 0 && s.top[k] == nil {
			s.top[k] = obj[vi:i]
		}
	}
}

// walkChoices walks the array at b[i], its first element with walkChoice
// when it is an object. It returns the index just past the array, or -1.
func (s *choicesScan) walkChoices(b []byte, i int, names, inner *nameSet) int {
	for n := 0; ; n++ {
		i = skipSpace(b, i+1) // past '[' or ','
		if i >= len(b) {
			return -1
		}
		if n == 0 && b[i] == ']' {
			return i + 1
		}
		if n == 0 && b[i] == '{' {
			i = s.walkChoice(b, i, names, inner)
		} else {
			i = skipPlain(b, i)
		}
		if i < 0 {
			return -1
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case ']':
			return i + 1
		case ',':
		default:
			return -1
		}
	}
}

// walkChoice reads the object at b[i] into s.choice and s.inner and
// returns the index just past it, or -1.
func (s *choicesScan) walkChoice(b []byte, i int, names, inner *nameSet) int {
	i++
	for first := true; ; first = false {
		key, word, vi := member(b, i, first)
		if key == nil {
			return vi
		}
		k := names.index(key, word)
		switch {
		case k < 0 || s.choice[k] != nil:
			i = skipPlain(b, vi)
		case inner != nil && vi < len(b) && b[vi] == '{':
			i = walkMembers(b, vi, inner, s.inner[k][:])
			if i >= 0 {
				s.choice[k] = b[vi:i]
			}
		default:
			i = skipPlain(b, vi)
			if i >= 0 {
				s.choice[k] = b[vi:i]
			}
		}
		if i < 0 {
			return -1
		}
	}
}

// walkUsage reads the usage object at b[i] as parseUsage does and returns
// the index just past it, or -1.
func (s *choicesScan) walkUsage(b []byte, i int) int {
	var m usageMembers
	i++
	for first := true; ; first = false {
		key, word, vi := member(b, i, first)
		if key == nil {
			if vi >= 0 {
				s.usage, s.usageOK = usageFrom(&m)
			}
			return vi
		}
		if i = skipPlain(b, vi); i < 0 {
			return -1
		}
		if k := usageSet.index(key, word); k >= 0 && m.set&(1<<k) == 0 {
			m.set |= 1 << k
			m.v[k] = b[vi:i]
		}
	}
}

// scanMembers is the single pass for a flat message: it reads the first
// occurrence of each name of set in the object obj into out and, when
// member sub of them is an object, the first occurrence of each name of
// subSet in it into subOut. It returns false when obj is not plain JSON
// (out and subOut then hold partial results: the caller starts over with
// the lenient scan, whose fields clears them).
func scanMembers(obj []byte, set *nameSet, out [][]byte, sub int, subSet *nameSet, subOut [][]byte) bool {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return false
	}
	i++
	for first := true; ; first = false {
		key, word, vi := member(obj, i, first)
		if key == nil {
			// Anything but whitespace after the closing brace is not JSON.
			return vi >= 0 && skipSpace(obj, vi) == len(obj)
		}
		k := set.index(key, word)
		if k == sub && out[k] == nil && vi < len(obj) && obj[vi] == '{' {
			i = walkMembers(obj, vi, subSet, subOut)
		} else {
			i = skipPlain(obj, vi)
		}
		if i < 0 {
			return false
		}
		if k >= 0 && out[k] == nil {
			out[k] = obj[vi:i]
		}
	}
}

// walkMembers reads the first occurrence of each name of set in the object
// at b[i] into out and returns the index just past it, or -1.
func walkMembers(b []byte, i int, set *nameSet, out [][]byte) int {
	i++
	for first := true; ; first = false {
		key, word, vi := member(b, i, first)
		if key == nil {
			return vi
		}
		if i = skipPlain(b, vi); i < 0 {
			return -1
		}
		if k := set.index(key, word); k >= 0 && out[k] == nil {
			out[k] = b[vi:i]
		}
	}
}
