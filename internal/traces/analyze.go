// Package traces holds loadstar's trace tools: Analyze computes what AIPerf's
// analyze-trace reports of a token-count trace (ISL/OSL distributions,
// prefix reuse, the cache hit rate an infinite prefix cache would have) and
// what a load model needs besides (arrival rate over time, burstiness,
// session shape); Write prints it and writes it as JSON, and WriteTrace
// writes rows as Mooncake JSONL (the output of `loadstar synthesize`).
//
//	rows, format, _ := dataset.ReadTrace(ctx, "trace.jsonl", "")
//	a := traces.Analyze(rows, traces.Options{BlockSize: dataset.DefaultBlockSize(format)})
//	a.Print(os.Stdout)
package traces

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/dataset"
)

// Stats is AIPerf's MetricStats: mean, population standard deviation, and
// linear-interpolation percentiles (numpy's defaults).
type Stats struct {
	Mean   float64 `json:"mean"`
	StdDev float64 `json:"std_dev"`
	Min    float64 `json:"min"`
	P25    float64 `json:"p25"`
	Median float64 `json:"median"`
	P75    float64 `json:"p75"`
	Max    float64 `json:"max"`
}

// statsOf returns the statistics of xs, nil when there are none.
func statsOf(xs []float64) *Stats {
	if len(xs) == 0 {
		return nil
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	mean := 0.0
	for _, x := range s {
		mean += x
	}
	mean /= float64(len(s))
	v := 0.0
	for _, x := range s {
		v += (x - mean) * (x - mean)
	}
	return &Stats{Mean: mean, StdDev: math.Sqrt(v / float64(len(s))), Min: s[0], P25: percentile(s, 25),
		Median: percentile(s, 50), P75: percentile(s, 75), Max: s[len(s)-1]}
}

// percentile is numpy's linear interpolation on sorted values.
func percentile(sorted []float64, p float64) float64 {
	pos := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (pos-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// Analysis is the report of one trace. The first fields are AIPerf's
// AnalysisStats, with its JSON names; the rest are loadstar's.
type Analysis struct {
	TotalRequests           int     `json:"total_requests"`
	UniquePrefixes          int     `json:"unique_prefixes"`
	NumPrefixGroups         int     `json:"num_prefix_groups"`
	CacheHitRate            float64 `json:"cache_hit_rate"`
	MinISL                  int     `json:"min_isl"`
	MaxISL                  int     `json:"max_isl"`
	AvgISL                  float64 `json:"avg_isl"`
	MinOSL                  int     `json:"min_osl"`
	MaxOSL                  int     `json:"max_osl"`
	AvgOSL                  float64 `json:"avg_osl"`
	PrefixReuseRatio        float64 `json:"prefix_reuse_ratio"`
	ISLStats                *Stats  `json:"isl_stats"`
	OSLStats                *Stats  `json:"osl_stats"`
	ContextLengthStats      *Stats  `json:"context_length_stats"`
	UniquePromptLengthStats *Stats  `json:"unique_prompt_length_stats"`
	HitRateStats            *Stats  `json:"hit_rate_stats"`

	File      string    `json:"file,omitempty"`
	Format    string    `json:"format,omitempty"`
	BlockSize int       `json:"block_size"`
	Arrivals  *Arrivals `json:"arrivals"`
	Sessions  Sessions  `json:"sessions"`
}

// Arrivals describes when requests come: the timestamped rows' rate over
// the trace and per window, and how bursty the gaps are.
type Arrivals struct {
	Requests int `json:"timestamped_requests"`
	// DurationSec is from the first to the last timestamp; Rate is
	// (requests − 1) / duration.
	DurationSec float64 `json:"duration_sec"`
	Rate        float64 `json:"rate"`
	// WindowSec is the width of Windows; PeakRate the busiest window's rate.
	WindowSec float64  `json:"window_sec"`
	Windows   []Window `json:"windows"`
	PeakRate  float64  `json:"peak_window_rate"`
	// Gaps are the inter-arrival times (seconds) in time order; GapCV their
	// coefficient of variation: 1 for Poisson arrivals, 0 for a constant
	// rate, above 1 for bursts. GammaSmoothness is 1/CV², the
	// arrival.gamma(smoothness=...) (vLLM --burstiness) that draws gaps this
	// variable.
	Gaps            *Stats  `json:"inter_arrival_sec"`
	GapCV           float64 `json:"inter_arrival_cv"`
	GammaSmoothness float64 `json:"gamma_smoothness"`
	// Dispersion is the variance/mean ratio of the window counts: 1 for
	// Poisson arrivals, above 1 when they bunch at the window's scale.
	Dispersion float64 `json:"count_dispersion"`
}

// Window is one window of the arrival rate.
type Window struct {
	StartSec float64 `json:"start_sec"`
	Requests int     `json:"requests"`
	Rate     float64 `json:"rate"`
}

// Sessions describes the conversations: how many turns, the think time
// between turns (a row's delay, else the gap between the turns'
// timestamps) and how long a multi-turn session lasts.
type Sessions struct {
	Count           int    `json:"count"`
	MultiTurn       int    `json:"multi_turn"`
	TurnsPerSession *Stats `json:"turns_per_session"`
	ThinkTimeMs     *Stats `json:"think_time_ms"`
	DurationSec     *Stats `json:"duration_sec"`
}

// Options configure Analyze.
type Options struct {
	// BlockSize is the tokens per hash id (dataset.DefaultBlockSize of the
	// format when 0).
	BlockSize int
	// Window is the width of the arrival-rate windows; 0 picks the smallest
	// of 1 s, 10 s, 1 min, 10 min and 1 h that gives at most 60 windows.
	Window time.Duration
	// File and Format label the report.
	File, Format string
}

// Analyze computes the report of rows (in file order, as AIPerf's analyzer
// reads them).
func Analyze(rows []dataset.TraceRow, o Options) *Analysis {
	block := o.BlockSize
	if block <= 0 {
		block = dataset.DefaultBlockSize(o.Format)
	}
	a := &Analysis{TotalRequests: len(rows), File: o.File, Format: o.Format, BlockSize: block}
	a.lengths(rows)
	a.prefixes(rows, block)
	a.Arrivals = arrivals(rows, o.Window)
	a.Sessions = sessionsOf(rows)
	return a
}

// lengths fills the ISL and OSL figures (a row without an output length
// counts as 0, as AIPerf's analyzer has it).
func (a *Analysis) lengths(rows []dataset.TraceRow) {
	if len(rows) == 0 {
		return
	}
	isl := make([]float64, len(rows))
	osl := make([]float64, len(rows))
	a.MinISL, a.MinOSL = math.MaxInt, math.MaxInt
	for i, r := range rows {
		out := max(r.OutputLength, 0)
		isl[i], osl[i] = float64(r.InputLength), float64(out)
		a.MinISL, a.MaxISL = min(a.MinISL, r.InputLength), max(a.MaxISL, r.InputLength)
		a.MinOSL, a.MaxOSL = min(a.MinOSL, out), max(a.MaxOSL, out)
	}
	a.ISLStats, a.OSLStats = statsOf(isl), statsOf(osl)
	a.AvgISL, a.AvgOSL = a.ISLStats.Mean, a.OSLStats.Mean
}

// prefixes fills the prefix figures: distinct prefixes and their reuse,
// shared first blocks, the context (blocks at a position some other row
// has the same id at) and unique lengths, and per-row hit rates of an
// infinite cache filled in file order.
func (a *Analysis) prefixes(rows []dataset.TraceRow, block int) {
	type pos struct {
		at int
		id int64
	}
	prefixCount := map[string]int{}
	posCount := map[pos]int{}
	firstBlock := map[int64]int{}
	var key strings.Builder
	for _, r := range rows {
		key.Reset()
		for i, h := range r.HashIDs {
			key.WriteString(strconv.FormatInt(h, 10))
			key.WriteByte(',')
			prefixCount[key.String()]++
			posCount[pos{i, h}]++
		}
		if len(r.HashIDs) > 0 {
			firstBlock[r.HashIDs[0]]++
		}
	}
	a.UniquePrefixes = len(prefixCount)
	reused, total := 0, 0
	for _, c := range prefixCount {
		total += c
		if c > 1 {
			reused += c
		}
	}
	if total > 0 {
		a.PrefixReuseRatio = float64(reused) / float64(total)
	}
	for _, c := range firstBlock {
		if c > 1 {
			a.NumPrefixGroups++
		}
	}
	context := make([]float64, len(rows))
	unique := make([]float64, len(rows))
	seen := map[int64]bool{}
	var hits []float64
	for i, r := range rows {
		if len(r.HashIDs) == 0 {
			unique[i] = float64(r.InputLength)
		} else {
			repeated := 0
			for p, h := range r.HashIDs {
				if posCount[pos{p, h}] > 1 {
					repeated++
				}
			}
			if repeated == len(r.HashIDs) {
				context[i] = float64(r.InputLength)
			} else {
				context[i] = float64(repeated * block)
				unique[i] = float64(r.InputLength - repeated*block)
			}
			first := len(r.HashIDs)
			for p, h := range r.HashIDs {
				if !seen[h] {
					first = p
					break
				}
			}
			hits = append(hits, float64(first)/float64(len(r.HashIDs)))
			for _, h := range r.HashIDs {
				seen[h] = true
			}
		}
	}
	a.ContextLengthStats, a.UniquePromptLengthStats = statsOf(context), statsOf(unique)
	a.HitRateStats = statsOf(hits)
	if a.HitRateStats != nil {
		a.CacheHitRate = a.HitRateStats.Mean
	}
}

// arrivals describes the timestamped rows' arrivals, nil without any.
func arrivals(rows []dataset.TraceRow, window time.Duration) *Arrivals {
	var ts []float64
	for _, r := range rows {
		if r.HasTimestamp {
			ts = append(ts, r.TimestampMs/1000)
		}
	}
	if len(ts) == 0 {
		return nil
	}
	sort.Float64s(ts)
	ar := &Arrivals{Requests: len(ts), DurationSec: ts[len(ts)-1] - ts[0]}
	if ar.DurationSec > 0 {
		ar.Rate = float64(len(ts)-1) / ar.DurationSec
	}
	if len(ts) > 1 {
		gaps := make([]float64, len(ts)-1)
		for i := range gaps {
			gaps[i] = ts[i+1] - ts[i]
		}
		ar.Gaps = statsOf(gaps)
		if ar.Gaps.Mean > 0 {
			ar.GapCV = ar.Gaps.StdDev / ar.Gaps.Mean
			if ar.GapCV > 0 {
				ar.GammaSmoothness = 1 / (ar.GapCV * ar.GapCV)
			}
		}
	}
	w := window.Seconds()
	if w <= 0 {
		w = 3600
		for _, c := range []float64{1, 10, 60, 600, 3600} {
			if ar.DurationSec/c < 60 {
				w = c
				break
			}
		}
	}
	ar.WindowSec = w
	n := int(math.Floor(ar.DurationSec/w)) + 1
	counts := make([]float64, n)
	for _, t := range ts {
		counts[min(int(math.Floor((t-ts[0])/w)), n-1)]++
	}
	for i, c := range counts {
		ar.Windows = append(ar.Windows, Window{StartSec: float64(i) * w, Requests: int(c), Rate: c / w})
		ar.PeakRate = max(ar.PeakRate, c/w)
	}
	if st := statsOf(counts); st != nil && st.Mean > 0 && n > 1 {
		ar.Dispersion = st.StdDev * st.StdDev * float64(n) / float64(n-1) / st.Mean
	}
	return ar
}

// sessionsOf describes the sessions: rows with the same session id form
// one (in file order); a row without one is a session of its own.
func sessionsOf(rows []dataset.TraceRow) Sessions {
	type session struct{ rows []int }
	byID := map[string]int{}
	var list []session
	for i, r := range rows {
		k, ok := byID[r.Session]
		if !ok || r.Session == "" {
			k = len(list)
			list = append(list, session{})
			if r.Session != "" {
				byID[r.Session] = k
			}
		}
		list[k].rows = append(list[k].rows, i)
	}
	s := Sessions{Count: len(list)}
	var turns, think, dur []float64
	for _, se := range list {
		sort.SliceStable(se.rows, func(a, b int) bool { return rows[se.rows[a]].Turn < rows[se.rows[b]].Turn })
		turns = append(turns, float64(len(se.rows)))
		if len(se.rows) < 2 {
			continue
		}
		s.MultiTurn++
		first, last := rows[se.rows[0]], rows[se.rows[len(se.rows)-1]]
		if first.HasTimestamp && last.HasTimestamp {
			dur = append(dur, (last.TimestampMs-first.TimestampMs)/1000)
		}
		for k := 1; k < len(se.rows); k++ {
			r, prev := rows[se.rows[k]], rows[se.rows[k-1]]
			switch {
			case r.HasDelay:
				think = append(think, r.DelayMs)
			case r.HasTimestamp && prev.HasTimestamp:
				think = append(think, r.TimestampMs-prev.TimestampMs)
			}
		}
	}
	s.TurnsPerSession, s.ThinkTimeMs, s.DurationSec = statsOf(turns), statsOf(think), statsOf(dur)
	return s
}
