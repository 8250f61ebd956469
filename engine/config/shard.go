package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is this process's part of a benchmark split over Count processes
// (loadstar run --shard Index/Count, or JOB_COMPLETION_INDEX in a Kubernetes
// Indexed Job). Every shard plans the same steps from the same seed and
// sends only its own part of each step's load, so the union of the shards is
// the single-process benchmark; docs/distributed.md says how each timing
// strategy is split. The zero value is the whole benchmark.
type Shard struct {
	Index, Count int
}

// Whole reports whether the shard is the whole benchmark (no split).
func (s Shard) Whole() bool { return s.Count <= 1 }

// String renders the shard as --shard takes it ("2/4"); "" for the whole.
func (s Shard) String() string {
	if s.Whole() {
		return ""
	}
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

// Validate checks 0 <= Index < Count.
func (s Shard) Validate() error {
	if s.Count < 0 || (s.Count > 0 && (s.Index < 0 || s.Index >= s.Count)) || (s.Count == 0 && s.Index != 0) {
		return fmt.Errorf("shard %d/%d: the index must be in 0..count-1", s.Index, s.Count)
	}
	return nil
}

// ParseShard reads "i/N" (shard i of N, from 0).
func ParseShard(text string) (Shard, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(text), "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 {
		return Shard{}, fmt.Errorf("shard %q: want INDEX/COUNT with COUNT >= 1, e.g. 0/4", text)
	}
	s := Shard{Index: i, Count: n}
	if err := s.Validate(); err != nil {
		return Shard{}, err
	}
	return s, nil
}
