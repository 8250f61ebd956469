package servermetrics

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/loadstar/loadstar/engine/results"
)

// span is one time slice of the window.
type span struct {
	start, end int64 // wall ns
	complete   bool
}

// window is what every summary of the collection shares.
type window struct {
	start, end int64
	seconds    float64
	spans      []span
}

func (c *Collector) window() window {
	w := window{start: c.windowStart.Load(), end: c.windowNs.Load()}
	w.seconds = float64(w.end-w.start) / 1e9
	if d := int64(c.cfg.SliceDuration); d > 0 && w.end > w.start {
		for s := w.start; s < w.end; s += d {
			w.spans = append(w.spans, span{start: s, end: min(s+d, w.end), complete: s+d <= w.end})
		}
	}
	return w
}

// summarize builds the results once every endpoint goroutine has ended.
func (c *Collector) summarize() *results.ServerMetrics {
	w := c.window()
	sm := &results.ServerMetrics{Start: c.start, End: time.Now(),
		WindowStart: time.Unix(0, w.start), WindowEnd: time.Unix(0, w.end)}
	for _, e := range c.eps {
		sm.Endpoints = append(sm.Endpoints, e.info())
	}
	byName := map[string]*results.ServerFamily{}
	for _, e := range c.eps {
		if e.kind != results.EndpointServer {
			continue
		}
		for _, fam := range e.families {
			for _, s := range fam.order {
				rs, ok := e.seriesResult(fam, s, w)
				if !ok {
					continue
				}
				rf := byName[fam.name]
				if rf == nil {
					rf = &results.ServerFamily{Name: fam.name, Type: fam.typ, Help: fam.help, Unit: InferUnit(fam.name, fam.help)}
					byName[fam.name] = rf
				}
				rf.Series = append(rf.Series, rs)
			}
		}
	}
	for _, f := range byName {
		sort.SliceStable(f.Series, func(i, j int) bool {
			a, b := &f.Series[i], &f.Series[j]
			if a.Endpoint != b.Endpoint {
				return a.Endpoint < b.Endpoint
			}
			return results.LabelString(a.Labels) < results.LabelString(b.Labels)
		})
		sm.Families = append(sm.Families, *f)
	}
	sort.Slice(sm.Families, func(i, j int) bool { return sm.Families[i].Name < sm.Families[j].Name })
	sm.Figures = c.figures(w)
	sm.GPUs = c.gpus(w)
	sm.Warnings = c.endpointWarnings()
	return sm
}

// endpointWarnings lists what went wrong at each endpoint, then the
// collector's own warnings.
func (c *Collector) endpointWarnings() []string {
	var out []string
	for _, e := range c.eps {
		if e.quiet {
			continue
		}
		for _, er := range e.errs {
			msg := fmt.Sprintf("server metrics: %s: %s", e.url, er.Message)
			if er.Count > 1 || e.fetches > 0 {
				msg += fmt.Sprintf(" (%d of %d scrapes)", er.Count, er.Count+e.fetches)
			}
			if e.disabled == er.Message {
				msg += "; no metrics from it in this run"
			}
			out = append(out, msg)
		}
		if e.switched != "" {
			out = append(out, "server metrics: "+e.switched)
		}
		if e.capHit {
			out = append(out, fmt.Sprintf("server metrics: %s: more than %d series; further series were not kept", e.url, c.cfg.MaxSeries))
		}
	}
	c.mu.Lock()
	out = append(out, c.warnings...)
	c.mu.Unlock()
	return out
}

// seriesResult summarises one series over the window; false when it had no
// sample there.
func (e *endpoint) seriesResult(fam *family, s *series, w window) (results.ServerSeries, bool) {
	rs := results.ServerSeries{Endpoint: e.url, Labels: s.labels}
	switch fam.typ {
	case results.TypeGauge, results.TypeUnknown:
		rs.Gauge = gaugeStats(s.gaugeRuns(0, len(e.frames)))
		if rs.Gauge == nil {
			return rs, false
		}
	case results.TypeCounter:
		if !s.win {
			return rs, false
		}
		rs.Counter = &results.CounterStats{Total: s.inc}
		if w.seconds > 0 {
			rs.Counter.Rate = s.inc / w.seconds
		}
	case results.TypeHistogram:
		if !s.win || len(s.lastBuckets) == 0 {
			return rs, false
		}
		rs.Histogram = s.histogramStats(w.seconds)
	}
	rs.Slices = e.seriesSlices(fam.typ, s, w)
	if rs.Counter != nil {
		counterSpread(rs.Counter, rs.Slices)
	}
	return rs, true
}

// seriesSlices summarises a series per time slice.
func (e *endpoint) seriesSlices(typ string, s *series, w window) []results.ServerSlice {
	if len(w.spans) == 0 {
		return nil
	}
	out := make([]results.ServerSlice, len(w.spans))
	for j, sp := range w.spans {
		sl := results.ServerSlice{StartNs: sp.start, EndNs: sp.end, Complete: sp.complete}
		secs := float64(sp.end-sp.start) / 1e9
		switch typ {
		case results.TypeGauge, results.TypeUnknown:
			from, to := e.frameRange(sp, j)
			if g := gaugeStats(s.gaugeRuns(from, to)); g != nil {
				sl.Avg, sl.Min, sl.Max = g.Avg, g.Min, g.Max
			} else {
				sl.Avg, sl.Min, sl.Max = nan, nan, nan
			}
		case results.TypeCounter:
			a, b := s.sliceMarks(j)
			sl.Total = b.inc - a.inc
			if secs > 0 {
				sl.Rate = sl.Total / secs
			}
		case results.TypeHistogram:
			a, b := s.sliceMarks(j)
			sl.Count, sl.Sum = b.inc-a.inc, b.sum-a.sum
			if sl.Count > 0 {
				sl.Avg = sl.Sum / sl.Count
			}
			inc := make([]float64, len(b.buckets))
			for i := range inc {
				inc[i] = b.buckets[i]
				if i < len(a.buckets) {
					inc[i] -= a.buckets[i]
				}
			}
			sl.Buckets = s.bucketsOf(inc)
		}
		out[j] = sl
	}
	return out
}

// sliceMarks returns the cumulative increase at the start and the end of
// slice j.
func (s *series) sliceMarks(j int) (mark, mark) {
	final := mark{inc: s.inc, sum: s.incSum, buckets: s.incBuckets}
	at := func(k int) mark { // start of slice k
		if k == 0 {
			return mark{}
		}
		if k-1 < len(s.bounds) {
			return s.bounds[k-1]
		}
		return final
	}
	return at(j), at(j + 1)
}

// frameRange returns the window frames [from, to) taken in sp.
func (e *endpoint) frameRange(sp span, j int) (int, int) {
	from := sort.Search(len(e.frames), func(i int) bool { return e.frames[i] >= sp.start })
	if j == 0 {
		from = 0 // the first slice keeps the first scrape, however early
	}
	to := sort.Search(len(e.frames), func(i int) bool { return e.frames[i] >= sp.end })
	if !sp.complete {
		to = len(e.frames) // the last, partial slice keeps the final scrape
	}
	return from, to
}

// counterSpread sets the rate spread of a counter from its complete slices
// (AIPerf: partial slices are left out of rate_avg ... rate_std).
func counterSpread(c *results.CounterStats, slices []results.ServerSlice) {
	var rates []float64
	for _, sl := range slices {
		if sl.Complete {
			rates = append(rates, sl.Rate)
		}
	}
	if len(rates) == 0 {
		return
	}
	c.HasRates = true
	c.RateAvg, c.RateStd = meanStd(rates)
	c.RateMin, c.RateMax = math.Inf(1), math.Inf(-1)
	for _, r := range rates {
		c.RateMin, c.RateMax = math.Min(c.RateMin, r), math.Max(c.RateMax, r)
	}
}
