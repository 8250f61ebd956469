// Package tokenizer counts and produces tokens the way the server will:
// built-in tiktoken encodings (cl100k_base, o200k_base) embedded in the
// binary, and Hugging Face tokenizer.json files loaded from a path.
// Tokenization is never on the request hot path, and it stays linear in
// the text with bounded working memory whatever the text: pieces longer
// than 25,000 bytes are merged in parts (maxMergePiece), and texts of 64 KiB
// or more are tokenized by at most GOMAXPROCS-1 goroutines at once
// (docs/reliability.md).
//
// One BPE engine serves both kinds. Text is split on added tokens,
// normalized, cut into pre-token pieces (the tokenizer's split regex; the
// cl100k/o200k/Llama 3/Qwen patterns by hand-written scanners, any other
// through regexp2, which has the lookaheads Go's regexp lacks), and each
// piece is merged independently; piece results are cached, so counting
// natural text mostly costs the split. Supported tokenizer.json parts:
// model BPE (merges in either serialization, ignore_merges, byte_fallback,
// unk/fuse_unk), normalizers NFC/NFD/NFKC/NFKD, Lowercase, Prepend,
// Replace, Strip, Sequence; pre-tokenizers Split, ByteLevel, Metaspace,
// Digits, Whitespace, WhitespaceSplit, Sequence; decoders ByteLevel,
// Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence. Ids match
// transformers.js exactly on the Qwen 3, Llama 3, Llama 2/Mistral and
// GPT-4o/GPT-3.5 tokenizers (TestParityTransformersJS).
//
//	tok, err := tokenizer.Builtin("o200k_base") // or tokenizer.FromFile("tokenizer.json")
//	n := tok.Count("Hello, world")              // 3
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

// ByteCounter is implemented by the tokenizers of this package: Count of a
// byte slice without copying it into a string (the count of a record's
// answer costs no allocation). The bytes are only read during the call.
type ByteCounter interface {
	CountBytes(text []byte) int
}

// PieceEncoder is implemented by the tokenizers of this package: their
// encoding of a text is the concatenation of the encodings of its
// pre-token pieces, which lets the synthetic composer build prompts of an
// exact token length from whole pieces.
type PieceEncoder interface {
	Tokenizer
	// Pieces calls yield with each piece of text in order and its ids
	// (shared; do not modify).
	Pieces(text string, yield func(piece string, ids []int))
}
