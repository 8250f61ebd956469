package dist

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// SequencePair is one weighted (input length, output length) alternative.
type SequencePair struct {
	ISL, OSL Dist
	Weight   float64 // percent
}

// Sequence draws (ISL, OSL) pairs jointly: AIPerf's --sequence-distribution.
type Sequence struct{ Pairs []SequencePair }

// Sample picks a pair by weight and samples both lengths from it.
func (q Sequence) Sample(r *rand.Rand) (isl, osl float64) {
	total := 0.0
	for _, p := range q.Pairs {
		total += p.Weight
	}
	x := r.Float64() * total
	for _, p := range q.Pairs {
		if x < p.Weight {
			return p.ISL.Sample(r), p.OSL.Sample(r)
		}
		x -= p.Weight
	}
	p := q.Pairs[len(q.Pairs)-1]
	return p.ISL.Sample(r), p.OSL.Sample(r)
}

// String renders q in the syntax ParseSequence reads.
func (q Sequence) String() string {
	parts := make([]string, len(q.Pairs))
	for i, p := range q.Pairs {
		parts[i] = lengthString(p.ISL) + "," + lengthString(p.OSL) + ":" + num(p.Weight)
	}
	return strings.Join(parts, ";")
}

func lengthString(d Dist) string {
	switch x := d.(type) {
	case Fixed:
		return num(x.V)
	case Normal:
		if x.Sigma == 0 {
			return num(x.Mu)
		}
		return num(x.Mu) + "|" + num(x.Sigma)
	}
	return d.String()
}

// ParseSequence reads AIPerf's sequence distribution syntax: pairs
// "ISL,OSL:percent" separated by ";", each length optionally "mean|stddev";
// the percents must add up to 100.
//
//	ParseSequence("128,64:30;2048|100,256|20:70")
func ParseSequence(s string) (Sequence, error) {
	var q Sequence
	total := 0.0
	for i, item := range strings.Split(s, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		lengths, pct, ok := strings.Cut(item, ":")
		if !ok {
			return q, fmt.Errorf("sequence distribution %q: pair %d %q: want ISL,OSL:percent", s, i+1, item)
		}
		islS, oslS, ok := strings.Cut(lengths, ",")
		if !ok {
			return q, fmt.Errorf("sequence distribution %q: pair %d %q: want ISL,OSL:percent", s, i+1, item)
		}
		isl, err := parseLength(islS)
		if err != nil {
			return q, fmt.Errorf("sequence distribution %q: pair %d: ISL: %w", s, i+1, err)
		}
		osl, err := parseLength(oslS)
		if err != nil {
			return q, fmt.Errorf("sequence distribution %q: pair %d: OSL: %w", s, i+1, err)
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || w <= 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return q, fmt.Errorf("sequence distribution %q: pair %d: percent %q must be a number > 0", s, i+1, pct)
		}
		total += w
		q.Pairs = append(q.Pairs, SequencePair{ISL: isl, OSL: osl, Weight: w})
	}
	if len(q.Pairs) == 0 {
		return q, fmt.Errorf("sequence distribution %q: no ISL,OSL:percent pairs", s)
	}
	if math.Abs(total-100) > 1e-6 {
		return q, fmt.Errorf("sequence distribution %q: percents add up to %v, want 100", s, total)
	}
	return q, nil
}

func parseLength(s string) (Dist, error) {
	mean, sd, hasSD := strings.Cut(strings.TrimSpace(s), "|")
	mu, err := strconv.ParseFloat(strings.TrimSpace(mean), 64)
	if err != nil || mu < 0 || math.IsNaN(mu) || math.IsInf(mu, 0) {
		return nil, fmt.Errorf("%q is not a length >= 0", mean)
	}
	if !hasSD {
		return Fixed{mu}, nil
	}
	sigma, err := strconv.ParseFloat(strings.TrimSpace(sd), 64)
	if err != nil {
		return nil, fmt.Errorf("stddev %q is not a number", sd)
	}
	return NewNormal(mu, sigma)
}
