package tokenizer

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// stage is one pre-tokenizer step: it cuts s into pieces and yields them in
// order. first is true for the first piece of the text (Metaspace's
// prepend_scheme "first").
type stage func(s string, first bool, yield func(piece string, first bool))

// compose chains stages: every piece of one stage is cut again by the next.
func compose(stages []stage) stage {
	switch len(stages) {
	case 0:
		return func(s string, first bool, yield func(string, bool)) { yield(s, first) }
	case 1:
		return stages[0]
	}
	head, tail := stages[0], compose(stages[1:])
	return func(s string, first bool, yield func(string, bool)) {
		head(s, first, func(p string, f bool) { tail(p, f, yield) })
	}
}

// splitBehavior is what a Split pre-tokenizer does with the matched text
// (Hugging Face SplitDelimiterBehavior).
type splitBehavior uint8

const (
	splitIsolated splitBehavior = iota
	splitRemoved
	splitMergedWithPrevious
	splitMergedWithNext
	splitContiguous
)

func parseBehavior(s string) (splitBehavior, error) {
	switch strings.ToLower(s) {
	case "isolated", "":
		return splitIsolated, nil
	case "removed":
		return splitRemoved, nil
	case "mergedwithprevious":
		return splitMergedWithPrevious, nil
	case "mergedwithnext":
		return splitMergedWithNext, nil
	case "contiguous":
		return splitContiguous, nil
	}
	return 0, fmt.Errorf("unknown split behavior %q (want Isolated, Removed, MergedWithPrevious, MergedWithNext or Contiguous)", s)
}

// matcher finds the [start, end) byte ranges of the delimiters in s.
type matcher func(s string, yield func(start, end int))

// regexMatcher runs a regexp2 pattern (lookarounds and \p classes, as the
// tokenizer.json patterns need) and reports byte offsets.
func regexMatcher(pattern string) (matcher, error) {
	if m, ok := fastMatcher(pattern); ok {
		return m, nil
	}
	return regexp2Matcher(pattern)
}

func regexp2Matcher(pattern string) (matcher, error) {
	// regexp2's default (.NET) semantics match Oniguruma's, which Hugging
	// Face tokenizers use: \s is Unicode White_Space, \p{L} etc. are
	// Unicode categories, lookarounds work.
	re, err := regexp2.Compile(pattern, regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("pre-tokenizer pattern %q: %w", pattern, err)
	}
	return func(s string, yield func(start, end int)) {
		runes := []rune(s)
		var offs []int // rune index -> byte offset, only for non-ASCII text
		if len(runes) != len(s) {
			offs = make([]int, 0, len(runes)+1)
			for i := 0; i < len(s); {
				offs = append(offs, i)
				_, n := utf8.DecodeRuneInString(s[i:])
				i += n
			}
			offs = append(offs, len(s))
		}
		byteAt := func(r int) int {
			if offs == nil {
				return r
			}
			return offs[r]
		}
		m, err := re.FindRunesMatch(runes)
		for err == nil && m != nil {
			if m.Length > 0 {
				yield(byteAt(m.Index), byteAt(m.Index+m.Length))
			}
			m, err = re.FindNextMatch(m)
		}
	}, nil
}

// literalMatcher matches every occurrence of a fixed string.
func literalMatcher(lit string) matcher {
	return func(s string, yield func(start, end int)) {
		if lit == "" {
			return
		}
		for i := 0; i <= len(s)-len(lit); {
			j := strings.Index(s[i:], lit)
			if j < 0 {
				return
			}
			yield(i+j, i+j+len(lit))
			i += j + len(lit)
		}
	}
}

// splitStage cuts text at the delimiters found by match, as Hugging Face's
// Split pre-tokenizer does.
func splitStage(match matcher, behavior splitBehavior, invert bool) stage {
	return func(s string, first bool, yield func(string, bool)) {
		type part struct {
			start, end int
			delim      bool
		}
		var buf [32]part
		parts := buf[:0]
		prev := 0
		match(s, func(start, end int) {
			if start > prev {
				parts = append(parts, part{prev, start, invert})
			}
			parts = append(parts, part{start, end, !invert})
			prev = end
		})
		if prev < len(s) {
			parts = append(parts, part{prev, len(s), invert})
		}
		emit := func(start, end int) {
			if end > start {
				yield(s[start:end], first)
				first = false
			}
		}
		switch behavior {
		case splitIsolated:
			for _, p := range parts {
				emit(p.start, p.end)
			}
		case splitRemoved:
			for _, p := range parts {
				if !p.delim {
					emit(p.start, p.end)
				}
			}
		case splitMergedWithPrevious:
			start := 0
			for i, p := range parts {
				if p.delim || i == len(parts)-1 {
					emit(start, p.end)
					start = p.end
				}
			}
		case splitMergedWithNext:
			start := 0
			for _, p := range parts {
				if p.delim && p.start > start {
					emit(start, p.start)
					start = p.start
				}
			}
			emit(start, len(s))
		case splitContiguous:
			start := 0
			for i, p := range parts {
				if i+1 < len(parts) && parts[i+1].delim == p.delim {
					continue
				}
				emit(start, p.end)
				start = p.end
			}
		}
	}
}

// gpt2Pattern is the regex ByteLevel(use_regex=true) applies.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// byteLevelStage is Hugging Face's ByteLevel pre-tokenizer. The byte to
// printable-character mapping is not applied: vocabularies are converted
// back to raw bytes when loaded.
func byteLevelStage(addPrefixSpace, useRegex bool) (stage, error) {
	var split stage
	if useRegex {
		m, err := regexMatcher(gpt2Pattern)
		if err != nil {
			return nil, err
		}
		split = splitStage(m, splitIsolated, false)
	}
	return func(s string, first bool, yield func(string, bool)) {
		if addPrefixSpace && !strings.HasPrefix(s, " ") {
			s = " " + s
		}
		if split == nil {
			yield(s, first)
			return
		}
		split(s, first, yield)
	}, nil
}

// metaspaceStage is Hugging Face's Metaspace pre-tokenizer: spaces become
// the replacement character (▁), which is prepended per prepend_scheme;
// with split, each word (starting at ▁) is its own piece.
func metaspaceStage(replacement string, prepend string, split bool) stage {
	return func(s string, first bool, yield func(string, bool)) {
		s = strings.ReplaceAll(s, " ", replacement)
		if !strings.HasPrefix(s, replacement) && (prepend == "always" || prepend == "first" && first) {
			s = replacement + s
		}
		if !split {
			yield(s, first)
			return
		}
		start := 0
		for i := len(replacement); i <= len(s)-len(replacement); {
			j := strings.Index(s[i:], replacement)
			if j < 0 {
				break
			}
			if i+j > start {
				yield(s[start:i+j], first)
				first = false
			}
			start = i + j
			i = start + len(replacement)
		}
		if start < len(s) {
			yield(s[start:], first)
		}
	}
}

// digitsStage is Hugging Face's Digits pre-tokenizer.
func digitsStage(individual bool) stage {
	return func(s string, first bool, yield func(string, bool)) {
		start := 0
		inDigits := false
		emit := func(end int) {
			if end > start {
				yield(s[start:end], first)
				first = false
			}
			start = end
		}
		for i, r := range s {
			d := unicode.IsNumber(r)
			switch {
			case d && individual:
				emit(i)
				emit(i + utf8.RuneLen(r))
			case d != inDigits:
				emit(i)
			}
			inDigits = d
		}
		emit(len(s))
	}
}
