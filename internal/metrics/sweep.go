package metrics

import (
	"math"

	"github.com/loadstar/loadstar/engine/results"
)

// AIPerf's effective and active metrics (its docs/reference/
// effective-vs-active-metrics.md, src/aiperf/metrics/accumulator_sweeps.py):
// step functions of time built by a sweep over every request's phases —
// prefill [start, first token), decode [first token, end) — and summarised
// time-weighted. Effective metrics average over the whole run window (first
// start to last end); active metrics only over the time their phase had a
// request in flight. Concurrency counts every request, failed ones
// included (a request that hung before failing held a slot); the phase
// curves need a first token, so only streamed successes have them.
//
// Throughputs spread each request's tokens evenly over its phase (AIPerf's
// request-level sweep; it replays inter-chunk timing instead when its list
// backend keeps every chunk): prefill ISL / (TTFT), decode OSL / (end −
// first token).

// curve identifies one swept quantity.
type curve uint8

const (
	curveConc curve = iota
	curveDecConc
	curvePreConc
	curveDecTP
	curvePreTP
	numCurves
)

// sweepMetric is one effective or active metric: which curves it reads and
// which mask restricts an active one.
type sweepMetric struct {
	def    Def
	value  func(c *[numCurves]float64) float64
	active curve // the phase concurrency that must be > 0 (active metrics)
	masked bool
}

func sweepDef(tag, header, unit string, group string) Def {
	return Def{Tag: tag, Header: header, ShortHeader: header, BaseUnit: unit, Unit: unit, Scale: 1,
		Kind: results.DerivedMetric, Flags: NoIndividualRecords | NoConsole | StreamingTokensOnly, Group: group}
}

func perUserOf(tp, conc curve) func(c *[numCurves]float64) float64 {
	return func(c *[numCurves]float64) float64 {
		if c[conc] > 0 {
			return c[tp] / c[conc]
		}
		return 0
	}
}

func curveOf(k curve) func(c *[numCurves]float64) float64 {
	return func(c *[numCurves]float64) float64 { return c[k] }
}

func totalTP(c *[numCurves]float64) float64 { return c[curveDecTP] + c[curvePreTP] }

// sweepMetrics are the family, in AIPerf's names.
var sweepMetrics = []sweepMetric{
	{def: concDef("effective_concurrency", "Effective Concurrency"), value: curveOf(curveConc)},
	{def: sweepDef("effective_decode_concurrency", "Effective Decode Concurrency", unitRequests, GroupEffective), value: curveOf(curveDecConc)},
	{def: sweepDef("effective_prefill_concurrency", "Effective Prefill Concurrency", unitRequests, GroupEffective), value: curveOf(curvePreConc)},
	{def: sweepDef("effective_decode_throughput", "Effective Decode Throughput", unitTokPerSec, GroupEffective), value: curveOf(curveDecTP)},
	{def: sweepDef("effective_prefill_throughput", "Effective Prefill Throughput", unitTokPerSec, GroupEffective), value: curveOf(curvePreTP)},
	{def: sweepDef("effective_total_throughput", "Effective Total Throughput", unitTokPerSec, GroupEffective), value: totalTP},
	{def: sweepDef("effective_decode_throughput_per_user", "Effective Decode Throughput Per User", unitTokPerUser, GroupEffective), value: perUserOf(curveDecTP, curveDecConc)},
	{def: sweepDef("effective_prefill_throughput_per_user", "Effective Prefill Throughput Per User", unitTokPerUser, GroupEffective), value: perUserOf(curvePreTP, curvePreConc)},
	{def: sweepDef("active_decode_throughput", "Active Decode Throughput", unitTokPerSec, GroupActive), value: curveOf(curveDecTP), masked: true, active: curveDecConc},
	{def: sweepDef("active_prefill_throughput", "Active Prefill Throughput", unitTokPerSec, GroupActive), value: curveOf(curvePreTP), masked: true, active: curvePreConc},
	{def: sweepDef("active_total_throughput", "Active Total Throughput", unitTokPerSec, GroupActive), value: totalTP, masked: true, active: curveConc},
	{def: sweepDef("active_decode_throughput_per_user", "Active Decode Throughput Per User", unitTokPerUser, GroupActive), value: perUserOf(curveDecTP, curveDecConc), masked: true, active: curveDecConc},
	{def: sweepDef("active_prefill_throughput_per_user", "Active Prefill Throughput Per User", unitTokPerUser, GroupActive), value: perUserOf(curvePreTP, curvePreConc), masked: true, active: curvePreConc},
}

// concDef is effective_concurrency: it needs no first token, so it exists
// for every endpoint.
func concDef(tag, header string) Def {
	d := sweepDef(tag, header, unitRequests, GroupEffective)
	d.Flags &^= StreamingTokensOnly
	return d
}

func sweepDefs() []Def {
	out := make([]Def, len(sweepMetrics))
	for i, m := range sweepMetrics {
		out[i] = m.def
	}
	return out
}

// event changes curve k by delta at time t. Both are packed in tk: t in
// ns after the sweep's origin (its earliest start) shifted left by
// curveBits, k below it. An event takes 16 bytes instead of 24 (a million
// streamed requests make ten million of them) and sorts by its time as a
// plain integer.
type event struct {
	tk    uint64
	delta float64
}

// curveBits holds a curve; the array's length is negative, and the build
// fails, if numCurves outgrows it.
const curveBits = 3

var _ [1<<curveBits - numCurves]struct{}

// mkEvent is an event at t ns after the origin (t >= 0).
func mkEvent(t int64, k curve, delta float64) event {
	return event{tk: uint64(t)<<curveBits | uint64(k), delta: delta}
}

func (e *event) t() int64 { return int64(e.tk >> curveBits) }
func (e *event) k() curve { return curve(e.tk & (1<<curveBits - 1)) }

// sweeps computes the effective and active metrics from the stored rows.
func (m *MetricResults) sweeps() []results.Metric {
	ev := m.sweepEvents()
	if len(ev) < 2 {
		return nil
	}
	sortByKey(ev, func(e *event) uint64 { return e.tk })
	// One metric at a time: a run of a million requests has millions of
	// segments per metric, and holding every metric's at once took a
	// gigabyte at the end of such a run. The buffer is made once, at the
	// most any metric needs (one segment between each two event times): one
	// grown by appends allocated five times its final size (Go grows a
	// large slice by a quarter), 160 MB at the end of a run of a million
	// non-streaming requests.
	segs := make([]segment, 0, distinctTimes(ev)-1)
	var out []results.Metric
	for _, sm := range sweepMetrics {
		if !m.app.Applies(sm.def.Flags) {
			continue
		}
		if sm.def.Flags.Has(StreamingTokensOnly) && m.streamed == 0 {
			continue // no first token anywhere: no phase curves
		}
		if segs = sweepSegments(ev, &sm, segs[:0]); len(segs) == 0 {
			continue
		}
		st := weightedStats(segs)
		mt := sm.def.metric()
		mt.Stats = &st
		out = append(out, mt)
	}
	return out
}

// distinctTimes counts the event times of ev (sorted).
func distinctTimes(ev []event) int {
	n := 0
	for i := range ev {
		if i == 0 || ev[i].t() != ev[i-1].t() {
			n++
		}
	}
	return n
}

// sweepSegments appends to segs the level of sm between each two event
// times of ev (sorted).
func sweepSegments(ev []event, sm *sweepMetric, segs []segment) []segment {
	var c [numCurves]float64
	for i := 0; i < len(ev); {
		t := ev[i].t()
		for ; i < len(ev) && ev[i].t() == t; i++ {
			c[ev[i].k()] += ev[i].delta
		}
		if i == len(ev) {
			break
		}
		if sm.masked && !(c[sm.active] > 0.5) {
			continue
		}
		segs = append(segs, segment{v: sm.value(&c), d: float64(ev[i].t() - t)})
	}
	return segs
}

// sweepEvents lists the phase boundaries of every stored record.
func (m *MetricResults) sweepEvents() []event {
	// Exactly the most there can be: a slice that grew by appends would
	// copy itself several times and hold two copies at its largest.
	ev := make([]event, 0, 2*m.rows.n+8*m.rows.withTTFT+2*m.errs.n)
	// Times count from the earliest start (wall ns): packed, they reach
	// 2^61 ns, 73 years after it.
	origin := int64(math.MaxInt64)
	for i := 0; i < m.rows.n; i++ {
		origin = min(origin, m.rows.start.get(i))
	}
	for i := 0; i < m.errs.n; i++ {
		origin = min(origin, m.errs.start.get(i))
	}
	for i := 0; i < m.rows.n; i++ {
		b := m.rows.base(i)
		s := m.rows.start.get(i) - origin
		if b.full == absent64 || b.full <= 0 {
			continue
		}
		e := s + b.full
		ev = append(ev, mkEvent(s, curveConc, 1), mkEvent(e, curveConc, -1))
		if b.ttft == absent64 || b.ttft < 0 || b.ttft > b.full {
			continue
		}
		g := s + b.ttft
		if g > s {
			ev = append(ev, mkEvent(s, curvePreConc, 1), mkEvent(g, curvePreConc, -1))
			if isl := tokenCount(b.isl); !math.IsNaN(isl) {
				r := isl / (float64(g-s) / 1e9)
				ev = append(ev, mkEvent(s, curvePreTP, r), mkEvent(g, curvePreTP, -r))
			}
		}
		if e > g {
			ev = append(ev, mkEvent(g, curveDecConc, 1), mkEvent(e, curveDecConc, -1))
			if n := osl(&b); !math.IsNaN(n) {
				r := n / (float64(e-g) / 1e9)
				ev = append(ev, mkEvent(g, curveDecTP, r), mkEvent(e, curveDecTP, -r))
			}
		}
	}
	for i := 0; i < m.errs.n; i++ {
		s := m.errs.start.get(i) - origin
		d, ok := m.errs.end.get(i, 0, false)
		if !ok || d <= 0 {
			continue
		}
		ev = append(ev, mkEvent(s, curveConc, 1), mkEvent(s+d, curveConc, -1))
	}
	return ev
}

// segment is a stretch of time of duration d (ns) where a curve had value v.
type segment struct{ v, d float64 }

// weightedStats are time-weighted statistics of a step function: avg and
// std weight each value by how long it held; a percentile is the smallest
// value held, together with the smaller ones, for at least that share of
// the time.
func weightedStats(segs []segment) results.Stats {
	sortByKey(segs, func(s *segment) uint64 { return floatKey(s.v) })
	var total, sum float64
	st := results.Stats{Min: math.Inf(1), Max: math.Inf(-1), Std: math.NaN()}
	for _, s := range segs {
		if s.d <= 0 {
			continue
		}
		total += s.d
		sum += s.v * s.d
		st.Min, st.Max = min(st.Min, s.v), max(st.Max, s.v)
	}
	if total <= 0 {
		return results.Stats{Avg: math.NaN(), Min: math.NaN(), Max: math.NaN(), Std: math.NaN(), Sum: math.NaN()}
	}
	st.Avg = sum / total
	var ss float64
	for _, s := range segs {
		if s.d > 0 {
			ss += s.d * (s.v - st.Avg) * (s.v - st.Avg)
		}
	}
	st.Std = math.Sqrt(ss / total)
	st.Sum = math.NaN() // a rate or a level has no meaningful sum
	ps := [len(percentiles)]*float64{&st.P1, &st.P5, &st.P10, &st.P25, &st.P50, &st.P75, &st.P90, &st.P95, &st.P99}
	k, cum := 0, 0.0
	for _, s := range segs {
		if s.d <= 0 {
			continue
		}
		cum += s.d
		for k < len(percentiles) && cum >= percentiles[k]/100*total*(1-1e-12) {
			*ps[k] = s.v
			k++
		}
	}
	for ; k < len(percentiles); k++ {
		*ps[k] = st.Max
	}
	return st
}
