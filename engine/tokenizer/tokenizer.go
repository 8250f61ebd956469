// Package tokenizer counts and produces tokens the way the server will:
// built-in tiktoken encodings (cl100k_base, o200k_base) embedded in the
// binary, and Hugging Face tokenizer.json files loaded from a path.
// Tokenization is never on the request hot path.
package tokenizer

// Tokenizer encodes text without special tokens (as AIPerf does).
// Implementations are safe for concurrent use.
type Tokenizer interface {
	// Name identifies the tokenizer ("o200k_base", a file path, ...).
	Name() string
	// Encode returns the token ids of text, without special tokens.
	Encode(text string) []int
	// Decode returns the text of ids.
	Decode(ids []int) string
	// Count returns len(Encode(text)), possibly without building the slice.
	Count(text string) int
}
