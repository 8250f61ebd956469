package servermetrics

import (
	"math"

	"github.com/loadstar/loadstar/engine/results"
)

// phase of an endpoint's collection relative to the profiling window.
type phase uint8

const (
	beforeWindow phase = iota // scrapes only move the reference
	inWindow                  // scrapes are measured
	afterWindow               // scrapes are ignored
)

// family is what an endpoint has seen of one metric family.
type family struct {
	name, exposed, typ, help string
	series                   map[string]*series
	order                    []*series // first-seen order
}

// run is a stretch of equal gauge samples in consecutive window frames.
type run struct {
	start, n int // frame index of the first sample, number of samples
	v        float64
}

// series is the state of one label set of a family at one endpoint.
type series struct {
	labels []results.Label
	// seen is true once a value was applied; last* are the latest values.
	seen          bool
	win           bool // sampled inside the window
	last, lastSum float64
	lastBuckets   []results.Bucket
	lastFrame     int // window frame index of the latest sample, -1 before
	runs          []run
	inc, incSum   float64   // window increase (counter value / histogram count, sum)
	incBuckets    []float64 // histogram bucket increases, aligned with lastBuckets
	bounds        []mark    // cumulative increase at each time-slice start
	layoutChanged bool
}

// mark is a series' cumulative window increase at a time-slice boundary.
type mark struct {
	inc, sum float64
	buckets  []float64
}

func newSeries(labels []results.Label) *series {
	return &series{labels: labels, lastFrame: -1}
}

// apply folds one scraped value into the series. frame is the window frame
// index (-1 outside the window); fresh is true when the series is new at an
// endpoint that already had a pre-window scrape (it started from zero).
func (s *series) apply(typ string, v *Series, frame int, ph phase, fresh bool) {
	if ph == inWindow {
		s.win = true
	}
	switch typ {
	case results.TypeGauge, results.TypeUnknown:
		s.applyGauge(v.Value, frame, ph)
	case results.TypeCounter:
		if ph == inWindow {
			switch {
			case s.seen && v.Value >= s.last:
				s.inc += v.Value - s.last
			case s.seen: // reset (server restart): it counted from zero again
				s.inc += v.Value
			case fresh:
				s.inc += v.Value
			}
		}
		s.last = v.Value
	case results.TypeHistogram:
		s.applyHistogram(v, ph, fresh)
	}
	s.seen = true
}

func (s *series) applyGauge(v float64, frame int, ph phase) {
	s.last = v
	if ph != inWindow || math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	if n := len(s.runs); n > 0 {
		r := &s.runs[n-1]
		if r.v == v && r.start+r.n == frame {
			r.n++
			s.lastFrame = frame
			return
		}
	}
	s.runs = append(s.runs, run{start: frame, n: 1, v: v})
	s.lastFrame = frame
}

func (s *series) applyHistogram(v *Series, ph phase, fresh bool) {
	sameLayout := len(v.Buckets) == len(s.lastBuckets)
	for i := 0; sameLayout && i < len(v.Buckets); i++ {
		sameLayout = v.Buckets[i].Le == s.lastBuckets[i].Le
	}
	if ph == inWindow {
		switch {
		case s.seen && !sameLayout:
			// New buckets: the increase so far stays, the new layout starts
			// from this scrape.
			s.layoutChanged = true
		case s.seen && v.Count >= s.last:
			s.addHistogram(v, s.lastBuckets, s.last, s.lastSum)
		case s.seen || fresh: // reset, or created during the window
			s.addHistogram(v, nil, 0, 0)
		}
	}
	s.last, s.lastSum = v.Count, v.Sum
	s.lastBuckets = append(s.lastBuckets[:0], v.Buckets...)
}

func (s *series) addHistogram(v *Series, prev []results.Bucket, prevCount, prevSum float64) {
	if len(s.incBuckets) != len(v.Buckets) {
		if s.inc > 0 {
			s.layoutChanged = true
		}
		s.incBuckets = make([]float64, len(v.Buckets))
	}
	for i, b := range v.Buckets {
		d := b.Count
		if prev != nil {
			d -= prev[i].Count
		}
		if d > 0 {
			s.incBuckets[i] += d
		}
	}
	s.inc += v.Count - prevCount
	s.incSum += v.Sum - prevSum
}

// markSlice records the cumulative increase at the start of a time slice.
func (s *series) markSlice() {
	s.bounds = append(s.bounds, mark{inc: s.inc, sum: s.incSum, buckets: append([]float64(nil), s.incBuckets...)})
}

// histogramStats returns the series' window distribution.
func (s *series) histogramStats(seconds float64) *results.HistogramStats {
	h := &results.HistogramStats{Count: s.inc, Sum: s.incSum, Buckets: s.bucketsOf(s.incBuckets)}
	if s.inc > 0 {
		h.Avg = s.incSum / s.inc
		if seconds > 0 {
			h.CountRate, h.SumRate = s.inc/seconds, s.incSum/seconds
		}
		histogramEstimates(h)
	}
	return h
}

// bucketsOf pairs increases with the series' bucket bounds.
func (s *series) bucketsOf(inc []float64) []results.Bucket {
	out := make([]results.Bucket, len(s.lastBuckets))
	for i, b := range s.lastBuckets {
		out[i].Le = b.Le
		if i < len(inc) {
			out[i].Count = inc[i]
		}
	}
	return out
}

// gaugeRuns returns the runs of samples in frames [from, to).
func (s *series) gaugeRuns(from, to int) []weighted {
	var out []weighted
	for _, r := range s.runs {
		a, b := max(r.start, from), min(r.start+r.n, to)
		if b > a {
			out = append(out, weighted{v: r.v, n: b - a})
		}
	}
	return out
}

// dense expands the gauge runs to one value per frame (NaN without sample).
func (s *series) dense(frames int) []float64 {
	out := make([]float64, frames)
	for i := range out {
		out[i] = math.NaN()
	}
	for _, r := range s.runs {
		for k := r.start; k < r.start+r.n && k < frames; k++ {
			out[k] = r.v
		}
	}
	return out
}
