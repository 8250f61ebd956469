package servermetrics

import (
	"math"
	"sort"

	"github.com/loadstar/loadstar/engine/results"
)

// match is one series of a figure's source metric.
type match struct {
	e *endpoint
	s *series
}

// find returns the window series of the family named name with type typ
// (gauge also matches unknown) at every endpoint.
func (c *Collector) find(name string, typ string) []match {
	var out []match
	for _, e := range c.eps {
		fam := e.families[name]
		if fam == nil {
			continue
		}
		if fam.typ != typ && !(typ == results.TypeGauge && fam.typ == results.TypeUnknown) {
			continue
		}
		for _, s := range fam.order {
			if s.win || len(s.runs) > 0 {
				out = append(out, match{e, s})
			}
		}
	}
	return out
}

// readType is the metric type a read needs.
func readType(r Read) string {
	switch r {
	case ReadGauge:
		return results.TypeGauge
	case ReadIncrease, ReadRate, ReadRatio:
		return results.TypeCounter
	}
	return results.TypeHistogram
}

// figures resolves every view to its first source with data.
func (c *Collector) figures(w window) []results.ServerFigure {
	var out []results.ServerFigure
	for _, v := range Views {
		for _, src := range v.Sources {
			if f, ok := c.figure(v, src, w); ok {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

func (c *Collector) figure(v View, src Source, w window) (results.ServerFigure, bool) {
	f := results.ServerFigure{Name: v.Name, Header: v.Header, Unit: v.Unit, Kind: v.Kind, Server: src.Server, Source: src.Metric}
	ms := c.find(src.Metric, readType(src.Read))
	if len(ms) == 0 {
		return f, false
	}
	switch src.Read {
	case ReadGauge:
		times, vals := combineGauges(ms, v.Combine, src.Scale)
		if len(vals) == 0 {
			return f, false
		}
		gaugeFigure(&f, times, vals, w)
	case ReadIncrease, ReadRate, ReadHistogramSum, ReadHistogramSumRate:
		totalFigure(&f, ms, src, w)
	case ReadRatio:
		over := c.find(src.Over, results.TypeCounter)
		if len(over) == 0 || sumInc(over, -1) == 0 {
			return f, false
		}
		f.Source = src.Metric + " / " + src.Over
		f.Value = src.Scale * sumInc(ms, -1) / sumInc(over, -1)
		for j, sp := range w.spans {
			fs := results.FigureSlice{StartNs: sp.start, EndNs: sp.end, Complete: sp.complete, Value: nan, Min: nan, Max: nan,
				P50: nan, P99: nan, Count: nan, HasValue: true}
			if d := sumInc(over, j); d > 0 {
				fs.Value = src.Scale * sumInc(ms, j) / d
			}
			f.Slices = append(f.Slices, fs)
		}
	case ReadDistribution:
		if !distributionFigure(&f, ms, src.Scale, w) {
			return f, false
		}
	}
	return f, true
}

// sumInc adds the series' increases over the window (slice < 0) or over
// time slice slice.
func sumInc(ms []match, slice int) float64 {
	t := 0.0
	for _, m := range ms {
		if slice < 0 {
			t += m.s.inc
			continue
		}
		a, b := m.s.sliceMarks(slice)
		t += b.inc - a.inc
	}
	return t
}

func sumIncSum(ms []match, slice int) float64 {
	t := 0.0
	for _, m := range ms {
		if slice < 0 {
			t += m.s.incSum
			continue
		}
		a, b := m.s.sliceMarks(slice)
		t += b.sum - a.sum
	}
	return t
}

// totalFigure is a counter's (or a histogram sum's) increase or rate.
func totalFigure(f *results.ServerFigure, ms []match, src Source, w window) {
	total := func(slice int) float64 {
		if src.Read == ReadHistogramSum || src.Read == ReadHistogramSumRate {
			return sumIncSum(ms, slice)
		}
		return sumInc(ms, slice)
	}
	rate := src.Read == ReadRate || src.Read == ReadHistogramSumRate
	f.Value = src.Scale * total(-1)
	if rate {
		f.Value = 0
		if w.seconds > 0 {
			f.Value = src.Scale * total(-1) / w.seconds
		}
	}
	for j, sp := range w.spans {
		fs := results.FigureSlice{StartNs: sp.start, EndNs: sp.end, Complete: sp.complete, Min: nan, Max: nan,
			P50: nan, P99: nan, Count: nan, HasValue: true}
		fs.Value = src.Scale * total(j)
		if secs := float64(sp.end-sp.start) / 1e9; rate && secs > 0 {
			fs.Value /= secs
		}
		f.Slices = append(f.Slices, fs)
	}
}

// combineGauges merges the gauge series of ms into one series: at every
// scrape of any endpoint, each series' latest value, combined by how.
func combineGauges(ms []match, how Combine, scale float64) (times []int64, vals []float64) {
	type event struct {
		t     int64
		e     *endpoint
		frame int
	}
	dense := map[*series][]float64{}
	var events []event
	seenEp := map[*endpoint]bool{}
	for _, m := range ms {
		dense[m.s] = m.s.dense(len(m.e.frames))
		if !seenEp[m.e] {
			seenEp[m.e] = true
			for i, t := range m.e.frames {
				events = append(events, event{t, m.e, i})
			}
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].t < events[j].t })
	last := make([]float64, len(ms))
	for i := range last {
		last[i] = nan
	}
	for _, ev := range events {
		for i, m := range ms {
			if m.e == ev.e {
				if v := dense[m.s][ev.frame]; !math.IsNaN(v) {
					last[i] = v
				}
			}
		}
		x, n := 0.0, 0
		for _, v := range last {
			if math.IsNaN(v) {
				continue
			}
			switch {
			case n == 0:
				x = v
			case how == Max:
				x = math.Max(x, v)
			default:
				x += v
			}
			n++
		}
		if n == 0 {
			continue
		}
		if how == Mean {
			x /= float64(n)
		}
		times = append(times, ev.t)
		vals = append(vals, x*scale)
	}
	return times, vals
}

// gaugeFigure summarises combined gauge samples: statistics for a gauge
// figure, the average for a total figure.
func gaugeFigure(f *results.ServerFigure, times []int64, vals []float64, w window) {
	runs := make([]weighted, len(vals))
	for i, v := range vals {
		runs[i] = weighted{v: v, n: 1}
	}
	g := gaugeStats(runs)
	if f.Kind == results.FigureTotal {
		f.Value = g.Avg
	} else {
		f.Stats = statsOfGauge(g)
	}
	for j, sp := range w.spans {
		fs := results.FigureSlice{StartNs: sp.start, EndNs: sp.end, Complete: sp.complete, Value: nan, Min: nan, Max: nan,
			P50: nan, P99: nan, Count: nan, HasValue: true}
		var in []weighted
		for i, t := range times {
			if (t >= sp.start || j == 0) && (t < sp.end || !sp.complete) {
				in = append(in, weighted{v: vals[i], n: 1})
			}
		}
		if s := gaugeStats(in); s != nil {
			fs.Value, fs.Min, fs.Max = s.Avg, s.Min, s.Max
			fs.HasStats = f.Kind == results.FigureGauge
		}
		f.Slices = append(f.Slices, fs)
	}
}

func statsOfGauge(g *results.GaugeStats) *results.Stats {
	return &results.Stats{Avg: g.Avg, Min: g.Min, Max: g.Max, Std: g.Std, Sum: g.Avg * float64(g.Count),
		P1: g.P1, P5: g.P5, P10: g.P10, P25: g.P25, P50: g.P50, P75: g.P75, P90: g.P90, P95: g.P95, P99: g.P99,
		Count: int64(g.Count)}
}

// distributionFigure merges the histogram series of ms (those sharing the
// most common bucket layout) into the server's distribution.
func distributionFigure(f *results.ServerFigure, ms []match, scale float64, w window) bool {
	layouts := map[string][]match{}
	best := ""
	for _, m := range ms {
		if len(m.s.lastBuckets) == 0 {
			continue
		}
		k := layoutKey(m.s.lastBuckets)
		layouts[k] = append(layouts[k], m)
		if best == "" || len(layouts[k]) > len(layouts[best]) {
			best = k
		}
	}
	group := layouts[best]
	if len(group) == 0 {
		return false
	}
	merged := func(slice int) *results.HistogramStats {
		h := &results.HistogramStats{Buckets: make([]results.Bucket, len(group[0].s.lastBuckets))}
		for i, b := range group[0].s.lastBuckets {
			h.Buckets[i].Le = b.Le
		}
		for _, m := range group {
			a, b := mark{}, mark{inc: m.s.inc, sum: m.s.incSum, buckets: m.s.incBuckets}
			if slice >= 0 {
				a, b = m.s.sliceMarks(slice)
			}
			h.Count += b.inc - a.inc
			h.Sum += b.sum - a.sum
			for i := range h.Buckets {
				if i < len(b.buckets) {
					h.Buckets[i].Count += b.buckets[i]
				}
				if i < len(a.buckets) {
					h.Buckets[i].Count -= a.buckets[i]
				}
			}
		}
		if h.Count > 0 {
			h.Avg = h.Sum / h.Count
			histogramEstimates(h)
		}
		return h
	}
	h := merged(-1)
	f.Stats = &results.Stats{Avg: h.Avg * scale, Min: nan, Max: nan, Std: nan, Sum: h.Sum * scale, Count: int64(math.Round(h.Count)),
		P1: h.P1 * scale, P5: h.P5 * scale, P10: h.P10 * scale, P25: h.P25 * scale, P50: h.P50 * scale,
		P75: h.P75 * scale, P90: h.P90 * scale, P95: h.P95 * scale, P99: h.P99 * scale}
	if h.Count == 0 {
		f.Stats.Avg, f.Stats.P1, f.Stats.P5, f.Stats.P10, f.Stats.P25 = nan, nan, nan, nan, nan
		f.Stats.P50, f.Stats.P75, f.Stats.P90, f.Stats.P95, f.Stats.P99 = nan, nan, nan, nan, nan
	}
	for j, sp := range w.spans {
		s := merged(j)
		fs := results.FigureSlice{StartNs: sp.start, EndNs: sp.end, Complete: sp.complete, Value: nan, Min: nan, Max: nan,
			P50: nan, P99: nan, Count: s.Count, HasStats: true}
		if s.Count > 0 {
			fs.Value, fs.P50, fs.P99 = s.Avg*scale, s.P50*scale, s.P99*scale
		}
		f.Slices = append(f.Slices, fs)
	}
	return true
}

func layoutKey(bs []results.Bucket) string {
	b := make([]byte, 0, 8*len(bs))
	for _, x := range bs {
		b = append(b, FormatLe(x.Le)...)
		b = append(b, ',')
	}
	return string(b)
}
