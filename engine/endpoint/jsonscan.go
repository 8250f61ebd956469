package endpoint

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is a small allocation-free JSON scanner for the parsing hot path:
// parsers locate the few fields they need by walking raw bytes instead of
// unmarshalling every chunk. Values are returned as raw JSON slices of the
// input; strings are decoded on demand with appendString.
//
// The scanner is lenient about JSON it does not look at (it only finds the
// ends of skipped values) but never reads out of bounds: malformed input makes
// the walk stop, which callers treat as "no data".

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	// Compact JSON has no whitespace: one comparison finds that out.
	for i < len(b) && b[i] <= ' ' && isSpace(b[i]) {
		i++
	}
	return i
}

// trimJSON trims JSON whitespace from both ends of b.
func trimJSON(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

// skipString returns the index just past the string starting at b[i] == '"',
// or -1 when it is unterminated.
func skipString(b []byte, i int) int {
	end, _ := scanString(b, i)
	return end
}

// scanString is skipString that also reports whether the string holds a
// backslash. It looks at 8 bytes at a time for a quote or a backslash
// (SWAR), the hot loop of every parse.
func scanString(b []byte, i int) (end int, escaped bool) {
	i++
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		q, s := zeroBytes(x^(swarLo*'"')), zeroBytes(x^(swarLo*'\\'))
		if q|s == 0 {
			i += 8
			continue
		}
		// The lowest set bit of each mask is exact, so the lowest of both
		// says which byte comes first without loading it again.
		low := (q | s) & -(q | s)
		i += bits.TrailingZeros64(low) >> 3
		if q&low != 0 {
			return i + 1, escaped
		}
		escaped = true
		i += 2 // a backslash and the byte it escapes
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i + 1, escaped
		case '\\':
			escaped = true
			i++
		}
	}
	return -1, escaped
}

const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

// zeroBytes has the high bit set in each byte of x (little endian) that may
// be zero; the lowest set bit is always exact (a false one needs a borrow
// from a true zero byte below it).
func zeroBytes(x uint64) uint64 { return (x - swarLo) &^ x & swarHi }

// skipValue returns the index just past the JSON value starting at b[i]
// (whitespace already skipped), or -1 when it is malformed or truncated.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				if i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	case '}', ']', ',', ':':
		return -1
	}
	// Number or literal: runs to the next delimiter.
	j := i
	for j < len(b) {
		c := b[j]
		if c == ',' || c == '}' || c == ']' || isSpace(c) {
			break
		}
		j++
	}
	return j
}

// objIter walks the members of one JSON object.
type objIter struct {
	b   []byte
	i   int
	bad bool
	// open: b may continue after the object (a first array element taken
	// with firstElem), so bytes after its closing brace are not checked.
	open bool
}

// newObjIter starts walking obj, which must be a JSON object (possibly
// surrounded by whitespace). ok is false when it is not an object.
func newObjIter(obj []byte) (objIter, bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return objIter{}, false
	}
	return objIter{b: obj, i: i + 1}, true
}

// next returns the next member: key is the raw key (without quotes, escapes
// undecoded) and val the raw value. ok is false at the end or on bad input
// (then it.bad is set).
func (it *objIter) next() (key, val []byte, ok bool) {
	b := it.b
	i := skipSpace(b, it.i)
	if i < len(b) && b[i] == ',' {
		i = skipSpace(b, i+1)
	}
	if i >= len(b) || b[i] == '}' {
		// Anything but whitespace after the closing brace is not JSON.
		it.bad = i >= len(b) || (!it.open && skipSpace(b, i+1) != len(b))
		it.i = len(b)
		return nil, nil, false
	}
	if b[i] != '"' {
		it.bad, it.i = true, len(b)
		return nil, nil, false
	}
	end := skipString(b, i)
	if end < 0 {
		it.bad, it.i = true, len(b)
		return nil, nil, false
	}
	key = b[i+1 : end-1]
	i = skipSpace(b, end)
	if i >= len(b) || b[i] != ':' {
		it.bad, it.i = true, len(b)
		return nil, nil, false
	}
	i = skipSpace(b, i+1)
	end = skipValue(b, i)
	if end < 0 {
		it.bad, it.i = true, len(b)
		return nil, nil, false
	}
	it.i = end
	return key, b[i:end], true
}

// arrIter walks the elements of one JSON array.
type arrIter struct {
	b   []byte
	i   int
	bad bool
}

func newArrIter(arr []byte) (arrIter, bool) {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return arrIter{}, false
	}
	return arrIter{b: arr, i: i + 1}, true
}

func (it *arrIter) next() (val []byte, ok bool) {
	b := it.b
	i := skipSpace(b, it.i)
	if i < len(b) && b[i] == ',' {
		i = skipSpace(b, i+1)
	}
	if i >= len(b) || b[i] == ']' {
		it.i = len(b)
		it.bad = i >= len(b)
		return nil, false
	}
	end := skipValue(b, i)
	if end < 0 {
		it.bad, it.i = true, len(b)
		return nil, false
	}
	it.i = end
	return b[i:end], true
}

// keyIs compares a raw object key with name, decoding escapes if present.
func keyIs(raw []byte, name string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == name
	}
	var buf [64]byte
	dec, ok := appendUnescaped(buf[:0], raw)
	return ok && string(dec) == name
}

// matchField sets out[k] to val when the member named key is names[k] and
// out[k] is still unset. The key is unescaped once, not once per name:
// usage objects are matched against two dozen names.
func matchField(key, val []byte, names []string, out [][]byte) {
	var buf [64]byte
	if bytes.IndexByte(key, '\\') >= 0 {
		dec, ok := appendUnescaped(buf[:0], key)
		if !ok {
			return
		}
		key = dec
	}
	for k, name := range names {
		if out[k] == nil && string(key) == name {
			out[k] = val
			return
		}
	}
}

// fields fills out[k] with the raw value of member names[k] of obj (nil when
// absent; the first occurrence wins). It reports whether obj is an object.
func fields(obj []byte, names []string, out [][]byte) bool {
	for k := range out {
		out[k] = nil
	}
	it, ok := newObjIter(obj)
	if !ok {
		return false
	}
	for {
		key, val, ok := it.next()
		if !ok {
			return !it.bad
		}
		matchField(key, val, names, out)
	}
}

// elemFields is fields for the object returned by firstElem: it stops at
// the object's closing brace, so the element is walked once.
func elemFields(elem []byte, names []string, out [][]byte) bool {
	for k := range out {
		out[k] = nil
	}
	it, ok := newObjIter(elem)
	if !ok {
		return false
	}
	it.open = true
	for {
		key, val, ok := it.next()
		if !ok {
			return !it.bad
		}
		matchField(key, val, names, out)
	}
}

// firstElem returns arr from the start of its first element to the end of
// arr (unbounded, for elemFields), or nil when arr is not a non-empty array.
func firstElem(arr []byte) []byte {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return nil
	}
	i = skipSpace(arr, i+1)
	if i >= len(arr) || arr[i] == ']' {
		return nil
	}
	return arr[i:]
}

// field returns the raw value of member name of obj, or nil.
func field(obj []byte, name string) []byte {
	it, ok := newObjIter(obj)
	if !ok {
		return nil
	}
	for {
		key, val, ok := it.next()
		if !ok {
			return nil
		}
		if keyIs(key, name) {
			return val
		}
	}
}

// index returns the raw element i of arr, or nil.
func index(arr []byte, i int) []byte {
	it, ok := newArrIter(arr)
	if !ok {
		return nil
	}
	for n := 0; ; n++ {
		v, ok := it.next()
		if !ok {
			return nil
		}
		if n == i {
			return v
		}
	}
}

// arrayLen counts the elements of arr; -1 when arr is not an array.
func arrayLen(arr []byte) int {
	it, ok := newArrIter(arr)
	if !ok {
		return -1
	}
	n := 0
	for {
		if _, ok := it.next(); !ok {
			if it.bad {
				return -1
			}
			return n
		}
		n++
	}
}

func isString(v []byte) bool { return len(v) >= 2 && v[0] == '"' }
func isObject(v []byte) bool { return len(v) >= 2 && v[0] == '{' }
func isArray(v []byte) bool  { return len(v) >= 2 && v[0] == '[' }
func isNumber(v []byte) bool {
	return len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))
}

// stringEq reports whether raw is a JSON string equal to s (which holds no
// backslash). Escapes only lengthen a string, so one as long as s plus its
// quotes is compared as it is, and a shorter one never matches.
func stringEq(raw []byte, s string) bool {
	switch {
	case !isString(raw) || len(raw) < len(s)+2:
		return false
	case len(raw) == len(s)+2:
		return string(raw[1:len(raw)-1]) == s
	}
	return keyIs(raw[1:len(raw)-1], s)
}

// appendString appends the decoded value of the JSON string raw (with its
// quotes) to dst. ok is false when raw is not a valid JSON string.
func appendString(dst, raw []byte) ([]byte, bool) {
	if !isString(raw) || raw[len(raw)-1] != '"' {
		return dst, false
	}
	return appendUnescaped(dst, raw[1:len(raw)-1])
}

// stringValue returns the decoded JSON string raw. When it holds no escapes
// the result aliases raw; otherwise it is decoded into *scratch (reused).
func stringValue(raw []byte, scratch *[]byte) ([]byte, bool) {
	if !isString(raw) || raw[len(raw)-1] != '"' {
		return nil, false
	}
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return s, true
	}
	buf, ok := appendUnescaped((*scratch)[:0], s)
	*scratch = buf
	return buf, ok
}

// appendUnescaped decodes the JSON string body s (no quotes) onto dst.
// Unpaired surrogates become U+FFFD, as Go's encoding/json does.
func appendUnescaped(dst, s []byte) ([]byte, bool) {
	for len(s) > 0 {
		i := bytes.IndexByte(s, '\\')
		if i < 0 {
			return append(dst, s...), true
		}
		dst = append(dst, s[:i]...)
		s = s[i:]
		if len(s) < 2 {
			return dst, false
		}
		switch s[1] {
		case '"', '\\', '/':
			dst = append(dst, s[1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(s[2:])
			if !ok {
				return dst, false
			}
			s = s[6:]
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
					if v, ok := hex4(s[2:]); ok {
						r2 = v
					}
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					s = s[6:]
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			return dst, false
		}
		s = s[2:]
	}
	return dst, true
}

func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// intValue parses a JSON number that holds an integer (an integral float such
// as 12.0 is accepted, as servers sometimes send counts that way).
func intValue(raw []byte) (int64, bool) {
	if !isNumber(raw) {
		return 0, false
	}
	var n int64
	neg := raw[0] == '-'
	digits := raw
	if neg {
		digits = raw[1:]
	}
	plain := len(digits) > 0 && len(digits) <= 18
	for _, c := range digits {
		if c < '0' || c > '9' {
			plain = false
			break
		}
		n = n*10 + int64(c-'0')
	}
	if plain {
		if neg {
			n = -n
		}
		return n, true
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != float64(int64(f)) {
		return 0, false
	}
	return int64(f), true
}

// truthy applies Python's truthiness to a raw JSON value: null, false, 0,
// "", [] and {} are false.
func truthy(raw []byte) bool {
	raw = trimJSON(raw)
	if len(raw) == 0 {
		return false
	}
	switch raw[0] {
	case 'n', 'f':
		return false
	case 't':
		return true
	case '"':
		return len(raw) > 2
	case '[', '{':
		return len(trimJSON(raw[1:len(raw)-1])) > 0
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	return err == nil && f != 0
}
