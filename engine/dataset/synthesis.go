package dataset

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/loadstar/loadstar/engine/ordered"
)

// Synthesis rescales a token-count trace (AIPerf's --synthesis-* options
// and `synthesize`): its rate, its prompt and answer lengths, and how much
// its prompts share, keeping everything else — the order, the sessions, the
// shape of the prefix tree.
//
// A row's hash ids split into its shared prefix (the leading blocks some
// other row also starts with) and its own tail. PrefixLen stretches every
// shared prefix: shared block p becomes the blocks j with ⌊j/PrefixLen⌋ = p,
// so rows that shared k blocks now share ⌈k·PrefixLen⌉ and the tree keeps
// its branches. PromptLen scales each row's own tail (at least one block
// stays). PrefixRoots spreads the sessions over that many disjoint copies
// of the tree (a row shares only with rows of its copy), dividing reuse.
// Speedup divides timestamps and think times; OutputLen scales answer
// lengths. Rows whose new prompt exceeds MaxISL are dropped; answers are
// capped at MaxOSL. All multipliers at 1 give the same trace with its hash
// ids renumbered.
type Synthesis struct {
	Speedup     float64 // > 0; 1 = the trace's rate
	PrefixLen   float64 // > 0
	PrefixRoots int     // >= 1
	PromptLen   float64 // > 0
	OutputLen   float64 // > 0
	MaxISL      int     // 0 = no limit
	MaxOSL      int     // 0 = no limit
	Seed        uint64  // draws the copy of each session (PrefixRoots > 1)
}

// NoSynthesis is the identity: every multiplier 1.
func NoSynthesis() Synthesis {
	return Synthesis{Speedup: 1, PrefixLen: 1, PrefixRoots: 1, PromptLen: 1, OutputLen: 1}
}

// Validate checks the parameters; errors name AIPerf's option.
func (s Synthesis) Validate() error {
	var errs []error
	positive := func(name string, v float64) {
		if !(v > 0) || math.IsInf(v, 0) {
			errs = append(errs, fmt.Errorf("%s must be a number > 0, got %v", name, v))
		}
	}
	positive("speedup ratio", s.Speedup)
	positive("prefix length multiplier", s.PrefixLen)
	positive("prompt length multiplier", s.PromptLen)
	positive("output length multiplier", s.OutputLen)
	if s.PrefixRoots < 1 {
		errs = append(errs, fmt.Errorf("prefix root multiplier must be >= 1, got %d", s.PrefixRoots))
	}
	if s.MaxISL < 0 || s.MaxOSL < 0 {
		errs = append(errs, errors.New("max ISL and max OSL must be >= 1 when given"))
	}
	return errors.Join(errs...)
}

// IsIdentity reports whether s leaves a trace as it is (up to hash-id
// numbering).
func (s Synthesis) IsIdentity() bool {
	return s.Speedup == 1 && s.PrefixLen == 1 && s.PrefixRoots <= 1 && s.PromptLen == 1 && s.OutputLen == 1 && s.MaxISL == 0 && s.MaxOSL == 0
}

// prefixNode is a node of the trace's prefix tree: one hash id after its
// parent's path, with the number of rows whose ids start with that path.
type prefixNode struct {
	rows     int
	children map[int64]*prefixNode
}

// Apply returns the synthesized rows (in the input's order, without the
// dropped ones) and how many rows MaxISL dropped. block is the tokens per
// hash id.
func (s Synthesis) Apply(rows []TraceRow, block int) ([]TraceRow, int, error) {
	if err := s.Validate(); err != nil {
		return nil, 0, err
	}
	if block < 1 {
		return nil, 0, fmt.Errorf("block size must be >= 1, got %d", block)
	}
	root := &prefixNode{children: map[int64]*prefixNode{}}
	for _, r := range rows {
		n := root
		for _, h := range r.HashIDs {
			c := n.children[h]
			if c == nil {
				c = &prefixNode{children: map[int64]*prefixNode{}}
				n.children[h] = c
			}
			c.rows++
			n = c
		}
	}
	type blockKey struct {
		node *prefixNode
		sub  int
	}
	ids := map[blockKey]int64{}
	var next int64
	roots := map[string]int64{}
	rootOf := func(r *TraceRow, i int) int64 {
		if s.PrefixRoots <= 1 {
			return 0
		}
		key := r.Session
		if key == "" {
			key = "\x00row" + strconv.Itoa(i)
		}
		if v, ok := roots[key]; ok {
			return v
		}
		v := int64(stream(s.Seed, "synthesis_root", uint64(len(roots))).IntN(s.PrefixRoots))
		roots[key] = v
		return v
	}
	out := make([]TraceRow, 0, len(rows))
	dropped := 0
	for i := range rows {
		r := rows[i]
		copyOf := rootOf(&r, i)
		nr := r
		nr.HashIDs = nil
		switch {
		case len(r.HashIDs) > 0:
			last := r.InputLength - (len(r.HashIDs)-1)*block // the final block's tokens
			// The shared prefix: the leading blocks another row starts with too.
			path := make([]*prefixNode, 0, len(r.HashIDs))
			n := root
			for _, h := range r.HashIDs {
				n = n.children[h]
				path = append(path, n)
			}
			k := 0
			for k < len(path) && path[k].rows > 1 {
				k++
			}
			var newIDs []int64
			for j := 0; ; j++ {
				p := int(math.Floor(float64(j)/s.PrefixLen + 1e-9))
				if p >= k {
					break
				}
				sub := j - int(math.Ceil(float64(p)*s.PrefixLen-1e-9))
				key := blockKey{path[p], sub}
				id, ok := ids[key]
				if !ok {
					id, next = next, next+1
					ids[key] = id
				}
				newIDs = append(newIDs, id)
			}
			if own := len(r.HashIDs) - k; own > 0 {
				m := max(1, int(math.Round(float64(own)*s.PromptLen)))
				for range m {
					newIDs = append(newIDs, next)
					next++
				}
			}
			if len(newIDs) == 0 { // a prefix shrunk to nothing: keep one block
				newIDs = append(newIDs, next)
				next++
			}
			for j := range newIDs {
				newIDs[j] = newIDs[j]*int64(s.PrefixRoots) + copyOf
			}
			nr.HashIDs = newIDs
			nr.InputLength = (len(newIDs)-1)*block + last
		case r.InputLength > 0:
			nr.InputLength = max(1, int(math.Round(float64(r.InputLength)*s.PromptLen)))
		}
		if r.OutputLength > 0 {
			nr.OutputLength = max(1, int(math.Round(float64(r.OutputLength)*s.OutputLen)))
			if s.MaxOSL > 0 {
				nr.OutputLength = min(nr.OutputLength, s.MaxOSL)
			}
		}
		if s.MaxISL > 0 && nr.InputLength > s.MaxISL {
			dropped++
			continue
		}
		if r.HasTimestamp {
			nr.TimestampMs = r.TimestampMs / s.Speedup
		}
		if r.HasDelay {
			nr.DelayMs = r.DelayMs / s.Speedup
		}
		out = append(out, nr)
	}
	return out, dropped, nil
}

// synthesisKeys are the keys of a synthesis dict, AIPerf's option names.
var synthesisKeys = []string{"speedup_ratio", "prefix_len_multiplier", "prefix_root_multiplier", "prompt_len_multiplier",
	"output_len_multiplier", "max_isl", "max_osl"}

// SynthesisFromMap reads a synthesis dict (dataset.custom(synthesis=...)):
// AIPerf's option names without "synthesis_", any subset.
func SynthesisFromMap(m *ordered.Map) (Synthesis, error) {
	s := NoSynthesis()
	for _, k := range m.Keys() {
		v, _ := m.Get(k)
		var f float64
		switch x := v.(type) {
		case int64:
			f = float64(x)
		case float64:
			f = x
		default:
			return s, fmt.Errorf("%s: want a number, got %v", k, v)
		}
		whole := func() (int, error) {
			if f != math.Trunc(f) {
				return 0, fmt.Errorf("%s: want a whole number, got %v", k, f)
			}
			return int(f), nil
		}
		var err error
		switch k {
		case "speedup_ratio":
			s.Speedup = f
		case "prefix_len_multiplier":
			s.PrefixLen = f
		case "prompt_len_multiplier":
			s.PromptLen = f
		case "output_len_multiplier":
			s.OutputLen = f
		case "prefix_root_multiplier":
			s.PrefixRoots, err = whole()
		case "max_isl":
			s.MaxISL, err = whole()
		case "max_osl":
			s.MaxOSL, err = whole()
		default:
			return s, fmt.Errorf("unknown key %q (want %s)", k, strings.Join(synthesisKeys, ", "))
		}
		if err != nil {
			return s, err
		}
	}
	return s, s.Validate()
}
