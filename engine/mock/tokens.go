package mock

import (
	"unicode"
	"unicode/utf8"

	"github.com/loadstar/loadstar/engine/tokenizer"
)

// countChars counts tokens as AIPerf's mock does without a tokenizer: chunks
// of 4 characters, a chunk extended to end after whitespace found within the
// next 2 characters so that chunks break at word boundaries.
func countChars(s string) int {
	if s == "" {
		return 0
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return countChunks(len(s), func(i int) bool { return isSpaceASCII(s[i]) })
	}
	r := []rune(s)
	return countChunks(len(r), func(i int) bool { return unicode.IsSpace(r[i]) })
}

func countChunks(n int, space func(int) bool) int {
	count := 0
	for i := 0; i < n; {
		end := min(i+4, n)
		if end < n && !space(end) {
			for j := end; j < min(end+2, n); j++ {
				if space(j) {
					end = j + 1
					break
				}
			}
		}
		count++
		i = end
	}
	return count
}

func isSpaceASCII(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// Tiktoken returns a built-in tiktoken encoding ("o200k_base" or
// "cl100k_base") for Config.InputTokenizer: the same tokenizer loadstar's
// client counts with.
func Tiktoken(encoding string) (tokenizer.Tokenizer, error) {
	return tokenizer.Builtin(encoding)
}
