package dataset

import (
	_ "embed"
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/loadstar/loadstar/engine/tokenizer"
)

//go:embed corpus/sherlock.txt
var corpusText string

// TextGen builds texts of an exact token length from the embedded corpus
// (The Adventures of Sherlock Holmes, public domain).
//
// Why the lengths are exact: the corpus is cut into units, each a space, a
// word and what follows up to the next space-before-a-letter (" Holmes,",
// " said.\n\nIt"). Every BPE pre-tokenizer in use starts a new piece at a
// space followed by a letter (and SentencePiece models never merge across
// "▁" + letter, which the tokenizer package checks), so a text made of
// whole units encodes to the sum of the units' token counts. Each unit is
// counted once, in context ("The" + unit minus "The"), and once as the start
// of a text with its space dropped. A prompt of N tokens takes units from a
// random corpus offset while they fit, then completes the count with
// one-token units (" the", " of", ...). Composers re-encode every prompt and
// retry from another offset should a count ever differ.
type TextGen struct {
	tok     tokenizer.Tokenizer
	units   []textUnit
	fillers []int32 // one token after other text
	starts  []int32 // one token at the start of a text
}

type unitCounts struct{ delta, first int32 }

type textUnit struct {
	start, end   int32 // corpus offsets; corpusText[start] == ' '
	delta, first int32 // tokens after other text / at the start of a text
}

// NewTextGen indexes the corpus for tok (a few tens of milliseconds).
func NewTextGen(tok tokenizer.Tokenizer) (*TextGen, error) {
	if tok == nil {
		return nil, fmt.Errorf("synthetic text: no tokenizer")
	}
	g := &TextGen{tok: tok}
	seen := map[string]unitCounts{}
	const anchor = "The"
	base := tok.Count(anchor)
	prev := -1
	for i := 0; i < len(corpusText)-1; i++ {
		if corpusText[i] != ' ' {
			continue
		}
		r, _ := utf8.DecodeRuneInString(corpusText[i+1:])
		if !unicode.IsLetter(r) {
			continue
		}
		if prev >= 0 {
			g.addUnit(prev, i, seen, anchor, base)
		}
		prev = i
	}
	if len(g.fillers) == 0 || len(g.starts) == 0 {
		return nil, fmt.Errorf("synthetic text: tokenizer %s has no one-token words to complete prompts with", tok.Name())
	}
	return g, nil
}

func (g *TextGen) addUnit(start, end int, seen map[string]unitCounts, anchor string, base int) {
	s := corpusText[start:end]
	c, ok := seen[s]
	if !ok {
		c.delta = int32(g.tok.Count(anchor+s) - base)
		c.first = int32(g.tok.Count(s[1:]))
		seen[s] = c
	}
	if c.delta <= 0 || c.first <= 0 {
		return
	}
	idx := int32(len(g.units))
	g.units = append(g.units, textUnit{start: int32(start), end: int32(end), delta: c.delta, first: c.first})
	if c.delta == 1 {
		g.fillers = append(g.fillers, idx)
	}
	if c.first == 1 {
		g.starts = append(g.starts, idx)
	}
}

// Tokenizer returns the tokenizer the lengths are counted with.
func (g *TextGen) Tokenizer() tokenizer.Tokenizer { return g.tok }

// Build appends to b a text of n tokens drawn with r. atStart says whether
// the text begins a message (no leading space) or continues one (starts
// with a space, e.g. after a prefix or another block).
func (g *TextGen) Build(b *strings.Builder, r *rand.Rand, n int, atStart bool) {
	first := atStart
	write := func(u textUnit) int {
		s := corpusText[u.start:u.end]
		c := u.delta
		if first {
			s, c = s[1:], u.first
		}
		b.WriteString(s)
		first = false
		return int(c)
	}
	total := 0
	for i := r.IntN(len(g.units)); total < n; i = (i + 1) % len(g.units) {
		u := g.units[i]
		c := u.delta
		if first {
			c = u.first
		}
		if total+int(c) > n {
			break
		}
		total += write(u)
	}
	for total < n {
		pool := g.fillers
		if first {
			pool = g.starts
		}
		total += write(g.units[pool[r.IntN(len(pool))]])
	}
}

// Text returns a text of exactly n tokens, verified by encoding it; a text
// whose count differs (never seen with the supported tokenizers) is rebuilt
// from another offset.
func (g *TextGen) Text(r *rand.Rand, n int) (string, error) {
	if n <= 0 {
		return "", nil
	}
	var b strings.Builder
	for try := 0; try < 8; try++ {
		b.Reset()
		g.Build(&b, r, n, true)
		if g.tok.Count(b.String()) == n {
			return b.String(), nil
		}
	}
	return "", fmt.Errorf("synthetic text: could not build a prompt of exactly %d tokens with tokenizer %s", n, g.tok.Name())
}

// Continue returns prefix followed by a continuation, the whole exactly n
// tokens (n >= Count(prefix)), verified like Text.
func (g *TextGen) Continue(r *rand.Rand, prefix string, prefixTokens, n int) (string, error) {
	if prefix == "" {
		return g.Text(r, n)
	}
	var b strings.Builder
	for try := 0; try < 8; try++ {
		b.Reset()
		b.WriteString(prefix)
		g.Build(&b, r, n-prefixTokens, false)
		if g.tok.Count(b.String()) == n {
			return b.String(), nil
		}
	}
	return "", fmt.Errorf("synthetic text: could not build a prompt of exactly %d tokens after a %d-token prefix with tokenizer %s", n, prefixTokens, g.tok.Name())
}
