package metrics

import (
	"fmt"
	"sort"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/results"
)

// verdict computes the LoadGen-style validity of the run from the issue
// delays and issue times of every sent request (metrics.md §13):
//
//   - open loop (a scheduled rate): the achieved issue rate may fall short
//     of the schedule's own rate by at most Validity.MaxRateShortfallPct;
//   - the p99 issue delay may not exceed Validity.MaxIssueDelayP99;
//   - no scheduled request may be dropped, the run must not be cancelled,
//     and at least one request must succeed.
func (m *MetricResults) verdict(s *results.Summary, issue *results.Stats) results.Verdict {
	lim := config.DefaultValidity()
	if s.Config != nil && (s.Config.Validity != config.Validity{}) {
		lim = s.Config.Validity
	}
	info := s.Info
	v := results.Verdict{IssueDelay: issue, ScheduledRate: info.ScheduledRate, Late: int(m.late),
		Dropped: info.Dropped, Issued: info.Issued}
	if v.Issued == 0 {
		v.Issued = int(m.sent)
	}
	if m.sent >= 2 && m.lastStart > m.firstStart {
		v.AchievedRate = float64(m.sent-1) / (float64(m.lastStart-m.firstStart) / 1e9)
	}
	if m.scheduled >= 2 && m.lastSched > m.firstSched {
		v.ScheduleRate = float64(m.scheduled-1) / (float64(m.lastSched-m.firstSched) / 1e9)
	}
	if v.ScheduleRate > 0 && v.AchievedRate > 0 {
		v.ShortfallPct = 100 * (1 - v.AchievedRate/v.ScheduleRate)
	}
	var reasons []string
	if info.ScheduledRate > 0 && v.ScheduleRate > 0 && v.ShortfallPct > lim.MaxRateShortfallPct {
		reasons = append(reasons, fmt.Sprintf("achieved rate %.2f req/s is %.1f%% below the schedule's %.2f req/s (limit %g%%)",
			v.AchievedRate, v.ShortfallPct, v.ScheduleRate, lim.MaxRateShortfallPct))
	}
	if issue != nil && lim.MaxIssueDelayP99 > 0 {
		limMs := float64(lim.MaxIssueDelayP99) / 1e6
		if issue.P99 > limMs {
			reasons = append(reasons, fmt.Sprintf("p99 issue delay %.3f ms exceeds %s", issue.P99, lim.MaxIssueDelayP99))
		}
	}
	if info.Dropped > 0 {
		reasons = append(reasons, fmt.Sprintf("%d scheduled requests were never sent", info.Dropped))
	}
	if info.WasCancelled {
		reasons = append(reasons, "the run was cancelled before it finished")
	}
	if m.valid == 0 {
		if m.errors > 0 {
			reasons = append(reasons, fmt.Sprintf("no request succeeded (%d failed)", m.errors))
		} else {
			reasons = append(reasons, "no request completed")
		}
	}
	v.Reasons = reasons
	v.Valid = len(reasons) == 0
	return v
}

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
