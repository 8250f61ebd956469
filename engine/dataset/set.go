package dataset

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
)

// Set is the Dataset of this package: conversations held in memory, or
// built on demand from compact entries (traces), with an Info.
type Set struct {
	convs []Conversation
	n     int
	gen   func(i int) *Conversation
	info  Info
}

// NewSet returns a dataset of the given conversations.
func NewSet(convs []Conversation, info Info) *Set {
	return &Set{convs: convs, n: len(convs), info: info}
}

// newLazySet returns a dataset of n conversations built by gen when asked
// for; gen must be deterministic and safe for concurrent use. Traces use it
// to keep memory proportional to their compact entries rather than to the
// prompts they expand to.
func newLazySet(n int, gen func(i int) *Conversation, info Info) *Set {
	return &Set{n: n, gen: gen, info: info}
}

// Len returns the number of conversations.
func (s *Set) Len() int { return s.n }

// Conversation returns conversation i; it must not be modified.
func (s *Set) Conversation(i int) *Conversation {
	if s.gen != nil {
		return s.gen(i)
	}
	return &s.convs[i]
}

// Info describes the dataset.
func (s *Set) Info() Info { return s.info }

// InfoOf returns the Info of ds, or a default one (sequential sampler) for a
// dataset that does not describe itself.
func InfoOf(ds Dataset) Info {
	if d, ok := ds.(Described); ok {
		return d.Info()
	}
	return Info{Sampler: "sequential"}
}

// stream returns the random stream of one concern of a run: the same seed
// and concern always give the same numbers, whatever else is drawn, so
// adding images does not change the prompts (AIPerf's derived RNGs).
func stream(seed uint64, concern string, index uint64) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", concern, index)
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}
