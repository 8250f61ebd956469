package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// The split patterns of cl100k_base, o200k_base, Llama 3 and Qwen 2/3 are
// matched by hand-written scanners that give the same pieces as the regex
// (checked against regexp2 in TestFastSplitMatchesRegex) about ten times
// faster; any other pattern runs through regexp2.

const qwenPattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// fastMatcher returns a hand-written matcher for a known pattern.
func fastMatcher(pattern string) (matcher, bool) {
	f, ok := fastSplitFor(pattern)
	if !ok {
		return nil, false
	}
	return f.matches, true
}

// fastSplitFor returns the hand-written scanner of a known pattern.
func fastSplitFor(pattern string) (fastSplit, bool) {
	switch pattern {
	case cl100kPattern:
		return fastSplit{maxDigits: 3}, true
	case qwenPattern:
		return fastSplit{maxDigits: 1}, true
	case o200kPattern:
		return fastSplit{maxDigits: 3, o200k: true}, true
	}
	return fastSplit{}, false
}

type fastSplit struct {
	o200k     bool
	maxDigits int
}

func (f fastSplit) matches(s string, yield func(start, end int)) {
	for i := 0; i < len(s); {
		e := f.matchAt(s, i)
		if e <= i {
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
			continue
		}
		yield(i, e)
		i = e
	}
}

func isL(r rune) bool { return unicode.IsLetter(r) }
func isN(r rune) bool { return unicode.IsNumber(r) }
func isS(r rune) bool { return unicode.IsSpace(r) }

// isPrefix is [^\r\n\p{L}\p{N}].
func isPrefix(r rune) bool { return r != '\r' && r != '\n' && !isL(r) && !isN(r) }

// isUpperish is [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], isLowerish [\p{Ll}\p{Lm}\p{Lo}\p{M}].
func isUpperish(r rune) bool {
	if r < utf8.RuneSelf {
		return 'A' <= r && r <= 'Z'
	}
	return unicode.In(r, unicode.Lu, unicode.Lt, unicode.Lm, unicode.Lo, unicode.M)
}
func isLowerish(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z'
	}
	return unicode.In(r, unicode.Ll, unicode.Lm, unicode.Lo, unicode.M)
}

// matchAt returns the end of the match starting at i, or i if none.
func (f fastSplit) matchAt(s string, i int) int {
	r0, n0 := utf8.DecodeRuneInString(s[i:])
	if !f.o200k {
		// (?i:'s|'t|'re|'ve|'m|'ll|'d)
		if r0 == '\'' {
			if e := contraction(s, i); e > i {
				return e
			}
		}
		// [^\r\n\p{L}\p{N}]?\p{L}+
		if isPrefix(r0) {
			if e := run(s, i+n0, isL); e > i+n0 {
				return e
			}
		}
		if isL(r0) {
			return run(s, i, isL)
		}
	} else {
		starts := [2]int{-1, i}
		if isPrefix(r0) {
			starts[0] = i + n0
		}
		// [^\r\n\p{L}\p{N}]?[Upper]*[Lower]+(contraction)?
		for _, p := range starts {
			if p >= 0 {
				if e := upperStarLowerPlus(s, p); e >= 0 {
					return withContraction(s, e)
				}
			}
		}
		// [^\r\n\p{L}\p{N}]?[Upper]+[Lower]*(contraction)?
		for _, p := range starts {
			if p >= 0 {
				if u := runUpper(s, p); u > p {
					return withContraction(s, runLower(s, u))
				}
			}
		}
	}
	// \p{N}{1,maxDigits}
	if isN(r0) {
		e := i
		for k := 0; k < f.maxDigits && e < len(s); k++ {
			r, n := utf8.DecodeRuneInString(s[e:])
			if !isN(r) {
				break
			}
			e += n
		}
		return e
	}
	// " ?[^\s\p{L}\p{N}]+[\r\n]*" ([\r\n/]* for o200k)
	j := i
	if r0 == ' ' {
		j++
	}
	if k := run(s, j, func(r rune) bool { return !isS(r) && !isL(r) && !isN(r) }); k > j {
		for k < len(s) && (s[k] == '\r' || s[k] == '\n' || f.o200k && s[k] == '/') {
			k++
		}
		return k
	}
	if !isS(r0) {
		return i
	}
	// \s*[\r\n]+ : through the last newline of the whitespace run.
	w := run(s, i, isS)
	for k := w - 1; k >= i; k-- {
		if s[k] == '\r' || s[k] == '\n' {
			return k + 1
		}
	}
	// \s+(?!\S) : the run, less its last character unless the text ends.
	if w == len(s) {
		return w
	}
	if _, n := utf8.DecodeLastRuneInString(s[i:w]); w-n > i {
		return w - n
	}
	// \s+
	return w
}

// run returns the end of the longest run of characters from i that are in.
// runUpper and runLower are run(s, i, isUpperish) and run(s, i,
// isLowerish) with ASCII letters taken a byte at a time (the only ASCII
// runes either accepts), the common case of every word.
func runUpper(s string, i int) int {
	for i < len(s) && 'A' <= s[i] && s[i] <= 'Z' {
		i++
	}
	if i < len(s) && s[i] >= utf8.RuneSelf {
		return run(s, i, isUpperish)
	}
	return i
}

func runLower(s string, i int) int {
	for i < len(s) && 'a' <= s[i] && s[i] <= 'z' {
		i++
	}
	if i < len(s) && s[i] >= utf8.RuneSelf {
		return run(s, i, isLowerish)
	}
	return i
}

func run(s string, i int, in func(rune) bool) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !in(r) {
			break
		}
		i += n
	}
	return i
}

// upperStarLowerPlus matches [Upper]*[Lower]+ at p with the regex's
// backtracking: the longest upper run that still leaves a lower character.
func upperStarLowerPlus(s string, p int) int {
	q := runUpper(s, p)
	for {
		if e := runLower(s, q); e > q {
			return e
		}
		if q == p {
			return -1
		}
		_, n := utf8.DecodeLastRuneInString(s[p:q])
		q -= n
	}
}

func withContraction(s string, e int) int {
	if e < len(s) && s[e] == '\'' {
		if c := contraction(s, e); c > e {
			return c
		}
	}
	return e
}

// contraction matches (?i:'s|'t|'re|'ve|'m|'ll|'d) at i (s[i] == '\”).
func contraction(s string, i int) int {
	j := i + 1
	lower := func(k int) (rune, int) {
		if k >= len(s) {
			return 0, 0
		}
		r, n := utf8.DecodeRuneInString(s[k:])
		return unicode.ToLower(r), n
	}
	c, n := lower(j)
	switch c {
	case 's', 't', 'm', 'd':
		return j + n
	case 'r', 'v':
		if c2, n2 := lower(j + n); c2 == 'e' {
			return j + n + n2
		}
	case 'l':
		if c2, n2 := lower(j + n); c2 == 'l' {
			return j + n + n2
		}
	}
	return i
}
