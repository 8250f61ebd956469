package dataset

import (
	"fmt"
	"math/rand/v2"
	"sync"
)

// Sampling strategies (category dataset_sampler).
const (
	Sequential = "sequential"
	Random     = "random"
	Shuffle    = "shuffle"
)

// Strategy is a SamplerFactory for one named strategy (what the
// dataset_sampler plugins build).
type Strategy string

// NewSampler binds the strategy to a dataset size and seed.
func (s Strategy) NewSampler(size int, seed uint64) (Sampler, error) {
	return NewSampler(string(s), size, seed)
}

// NewSampler returns the named strategy over size conversations:
//
//   - sequential: 0, 1, ..., size-1, 0, 1, ... (wraps)
//   - random: uniform with replacement
//   - shuffle: a random permutation, reshuffled after each full pass
//
// The random strategies are reproducible from seed. Samplers are safe for
// concurrent use.
func NewSampler(strategy string, size int, seed uint64) (Sampler, error) {
	if size <= 0 {
		return nil, fmt.Errorf("sampler %s: the dataset is empty", strategy)
	}
	r := stream(seed, "sampler", 0)
	switch strategy {
	case Sequential:
		return &sequential{n: size}, nil
	case Random:
		return &random{n: size, r: r}, nil
	case Shuffle:
		return &shuffle{perm: make([]int, size), r: r, pos: size}, nil
	}
	return nil, fmt.Errorf("unknown sampler %q (want sequential, random or shuffle)", strategy)
}

type sequential struct {
	mu   sync.Mutex
	n, i int
}

func (s *sequential) Next() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.i
	s.i = (s.i + 1) % s.n
	return i
}

type random struct {
	mu sync.Mutex
	n  int
	r  *rand.Rand
}

func (s *random) Next() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.IntN(s.n)
}

type shuffle struct {
	mu   sync.Mutex
	perm []int
	pos  int
	r    *rand.Rand
}

func (s *shuffle) Next() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pos == len(s.perm) {
		for i := range s.perm {
			s.perm[i] = i
		}
		s.r.Shuffle(len(s.perm), func(i, j int) { s.perm[i], s.perm[j] = s.perm[j], s.perm[i] })
		s.pos = 0
	}
	i := s.perm[s.pos]
	s.pos++
	return i
}
