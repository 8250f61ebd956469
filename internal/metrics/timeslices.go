package metrics

import (
	"sort"

	"github.com/loadstar/loadstar/engine/results"
)

// timeslices computes per-window results: exactly from the columns, or
// from the per-slice histograms beyond the exact-stats limit. Windows start
// at the first request's start; the last one may be partial.
func (m *MetricResults) timeslices() []results.Timeslice {
	if m.rows.n+m.errs.n == 0 && len(m.slices) == 0 {
		return nil
	}
	width := int64(m.slice)
	var groups []group
	if m.approx {
		maxK := -1
		for k := range m.slices {
			maxK = max(maxK, k)
		}
		groups = make([]group, maxK+1)
		for k, acc := range m.slices {
			g := &groups[k]
			g.valid, g.errors, g.good = acc.valid, acc.errors, acc.good
			for id, h := range acc.hist {
				if h != nil && h.mom.n > 0 && m.app.Applies(recordDefs[id].Flags) {
					st := h.stats(recordDefs[id].Scale)
					g.stats[id] = &st
				}
			}
			g.approxAdjusted(&acc.hist)
		}
	} else {
		m.origin = m.sliceOrigin()
		idx := func(t int64) int { return int(max(t-m.origin, 0) / width) }
		sel := map[int][]int32{}
		errSel := map[int][]int32{}
		maxK := 0
		for i := 0; i < m.rows.n; i++ {
			k := idx(m.rows.start.get(i))
			sel[k] = append(sel[k], int32(i))
			maxK = max(maxK, k)
		}
		for i := 0; i < m.errs.n; i++ {
			k := idx(m.errs.start.get(i))
			errSel[k] = append(errSel[k], int32(i))
			maxK = max(maxK, k)
		}
		groups = make([]group, maxK+1)
		for k := range groups {
			g := &groups[k]
			g.valid, g.errors = int64(len(sel[k])), int64(len(errSel[k]))
			if g.valid+g.errors == 0 {
				continue
			}
			for _, i := range sel[k] {
				if m.rows.good.get(int(i)) == 1 {
					g.good++
				}
			}
			// Empty selections must not mean "all rows".
			vs, es := sel[k], errSel[k]
			if vs == nil {
				vs = []int32{}
			}
			if es == nil {
				es = []int32{}
			}
			m.exactStats(g, vs, es)
		}
	}
	end := max(m.lastEnd, m.maxEnd)
	out := make([]results.Timeslice, len(groups))
	keys := make([]int, len(groups))
	for k := range keys {
		keys[k] = k
	}
	sort.Ints(keys)
	for _, k := range keys {
		g := &groups[k]
		start := m.origin + int64(k)*width
		stop := start + width
		complete := true
		if k == len(groups)-1 && end < stop && end > start {
			stop, complete = end, false
		}
		g.durationNs = float64(stop - start)
		out[k] = results.Timeslice{Index: k, StartNs: start, EndNs: stop, Complete: complete,
			Metrics: g.metrics(len(m.slos) > 0, m.app)}
	}
	return out
}
