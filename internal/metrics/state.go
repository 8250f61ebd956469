package metrics

import (
	"fmt"
	"math"
	"sort"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/loadstar/loadstar/engine/record"
)

// StateFormat is the version of State's layout; a merge refuses another.
const StateFormat = 1

// State is what a MetricResults holds, in a form that can be written to a
// file and merged with the states of the other shards of a sharded
// benchmark (loadstar merge, docs/distributed.md). Below the exact-stats
// limit it carries every record's stored values, so the merged statistics
// are exactly those of one process that saw every shard's records; beyond
// the limit it carries HDR histograms (hdrhistogram-go's V2 compressed
// encoding) per metric and per time slice, with exact moments.
//
// A State is taken once, at the end of the run, from the stores the run
// kept anyway: it costs nothing per record.
type State struct {
	Format int
	Phase  record.Phase
	Setup  StateSetup

	Valid, Errors, Good int64
	// MinStart, MaxEnd and LastEnd are wall-clock ns.
	MinStart, MaxEnd, LastEnd int64
	OutputTokens              float64

	Streamed, Cancelled, Sessions     int64
	UsageDiscrepancies, OSLMismatches int64
	UsageMissing, UsageClamped        int64
	Reasoning                         bool

	// Schedule bookkeeping: every sent request, starts and schedules in
	// wall-clock ns.
	Sent, Scheduled, Late int64
	FirstStart, LastStart int64
	FirstSched, LastSched int64

	ErrorGroups []StateError

	// Approx: the run went beyond the exact-stats limit; Rows and
	// ErrorRows are empty and the statistics come from Hist and Slices.
	Approx bool
	// Rows are the valid records' stored values, column by column
	// (baseFields order), with their start (wall ns) and SLO outcome.
	RowStart []int64
	RowGood  []int8
	Rows     [][]int64
	// ErrorRows are the failed records': ISL, issue delay, start (wall ns)
	// and end (ns after start); absent values are math.MinInt64.
	ErrISL, ErrIssueDelay, ErrStart, ErrEnd []int64
	// ICL holds the inter-chunk gaps (ns) while under the limit.
	ICL    []int64
	ICLHit bool

	Hist    []StateHist // one per record metric with values, by tag
	ICLHist *StateHist
	// Slices are the per-window accumulators beyond the limit, windows of
	// Setup.SliceNs from SliceOrigin (wall ns).
	SliceOrigin int64
	Slices      []StateSlice
}

// StateSetup is how the processor was configured.
type StateSetup struct {
	App        Applicability
	SLOs       []StateSLO
	Limit      int
	SliceNs    int64
	CancelOn   bool
	Thresholds Thresholds
}

// StateSLO is one compiled SLO.
type StateSLO struct {
	Tag       string
	AtLeast   bool
	Threshold float64
}

// StateError is one error group.
type StateError struct {
	Details record.ErrorDetails
	Count   int
}

// StateHist is one metric's histogram with its exact moments.
type StateHist struct {
	Tag                           string
	Encoded                       []byte // hdrhistogram-go V2 compressed encoding
	Scale                         float64
	N                             int64
	Sum, Min, Max, Mean, M2, Comp float64
}

// StateSlice is one time window's accumulator.
type StateSlice struct {
	Index               int
	Valid, Errors, Good int64
	Hist                []StateHist
}

// baseFields is the number of values a stored row carries (see flatten).
const baseFields = 31

func flatten(b *base, out []int64) {
	tr := &b.tr
	on := int64(0)
	if tr.on {
		on = 1
	}
	copy(out, []int64{b.latency, b.ttft, b.ttst, b.ttfo, b.full, b.issueDelay, b.creditLag,
		b.out, b.reas, b.isl, b.requested, b.firstChunk,
		b.usage[0], b.usage[1], b.usage[2], b.usage[3], b.usage[4], b.usage[5],
		on, tr.blocked, tr.dns, tr.connect, tr.tls, tr.sendStart, tr.sending, tr.firstByte, tr.lastByte,
		tr.sent, tr.received, tr.chunks, 0})
}

func unflatten(v []int64) base {
	b := base{latency: v[0], ttft: v[1], ttst: v[2], ttfo: v[3], full: v[4], issueDelay: v[5], creditLag: v[6],
		out: v[7], reas: v[8], isl: v[9], requested: v[10], firstChunk: v[11]}
	copy(b.usage[:], v[12:18])
	b.tr = httpTrace{on: v[18] == 1, blocked: v[19], dns: v[20], connect: v[21], tls: v[22], sendStart: v[23],
		sending: v[24], firstByte: v[25], lastByte: v[26], sent: v[27], received: v[28], chunks: v[29]}
	return b
}

// State returns the processor's mergeable state.
func (m *MetricResults) State() (*State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncHist(m.ids, true)
	s := &State{Format: StateFormat, Phase: m.phase,
		Setup: StateSetup{App: m.app, Limit: m.limit, SliceNs: int64(m.slice), CancelOn: m.cancelOn, Thresholds: m.thresholds},
		Valid: m.valid, Errors: m.errors, Good: m.good, MinStart: m.minStart, MaxEnd: m.maxEnd, LastEnd: m.lastEnd,
		OutputTokens: m.outputTokens, Streamed: m.streamed, Cancelled: m.cancelled, Sessions: m.sessions,
		UsageDiscrepancies: m.usageDiscrepancies, OSLMismatches: m.oslMismatches,
		UsageMissing: m.usageMissing, UsageClamped: m.usageClamped, Reasoning: m.reasoning,
		Sent: m.sent, Scheduled: m.scheduled, Late: m.late,
		FirstStart: m.firstStart + m.wallOffset, LastStart: m.lastStart + m.wallOffset,
		FirstSched: m.firstSched + m.wallOffset, LastSched: m.lastSched + m.wallOffset,
		Approx: m.approx, ICLHit: m.iclHit, SliceOrigin: m.origin}
	for _, o := range m.slos {
		s.Setup.SLOs = append(s.Setup.SLOs, StateSLO{Tag: recordDefs[o.id].Tag, AtLeast: o.atLeast, Threshold: o.threshold})
	}
	for _, g := range m.errGroups.rows() {
		s.ErrorGroups = append(s.ErrorGroups, StateError{Details: g.Details, Count: g.Count})
	}
	sort.Slice(s.ErrorGroups, func(i, j int) bool {
		return fmt.Sprint(s.ErrorGroups[i].Details) < fmt.Sprint(s.ErrorGroups[j].Details)
	})
	if !m.approx {
		s.Rows = make([][]int64, baseFields)
		for k := range s.Rows {
			s.Rows[k] = make([]int64, m.rows.n)
		}
		s.RowStart = make([]int64, m.rows.n)
		s.RowGood = make([]int8, m.rows.n)
		row := make([]int64, baseFields)
		for i := 0; i < m.rows.n; i++ {
			b := m.rows.base(i)
			flatten(&b, row)
			for k, v := range row {
				s.Rows[k][i] = v
			}
			s.RowStart[i] = m.rows.start.get(i)
			s.RowGood[i] = m.rows.good.get(i)
		}
		for i := 0; i < m.errs.n; i++ {
			b := m.errs.base(i)
			s.ErrISL = append(s.ErrISL, b.isl)
			s.ErrIssueDelay = append(s.ErrIssueDelay, b.issueDelay)
			s.ErrStart = append(s.ErrStart, m.errs.start.get(i))
			s.ErrEnd = append(s.ErrEnd, timeOf(m.errs.end.get(i, 0, false)))
		}
		if !m.iclHit {
			for i := 0; i < m.nICL; i++ {
				s.ICL = append(s.ICL, m.icl.get(i))
			}
		}
	}
	var err error
	if s.Hist, err = histStates(m.hist[:]); err != nil {
		return nil, err
	}
	if m.iclHist != nil {
		h, err := m.iclHist.state("")
		if err != nil {
			return nil, err
		}
		s.ICLHist = &h
	}
	for k, acc := range m.slices {
		hs, err := histStates(acc.hist[:])
		if err != nil {
			return nil, err
		}
		s.Slices = append(s.Slices, StateSlice{Index: k, Valid: acc.valid, Errors: acc.errors, Good: acc.good, Hist: hs})
	}
	sort.Slice(s.Slices, func(i, j int) bool { return s.Slices[i].Index < s.Slices[j].Index })
	return s, nil
}

func histStates(hs []*histogram) ([]StateHist, error) {
	var out []StateHist
	for id, h := range hs {
		if h == nil {
			continue
		}
		st, err := h.state(recordDefs[id].Tag)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (h *histogram) state(tag string) (StateHist, error) {
	enc, err := h.h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		return StateHist{}, fmt.Errorf("metrics: encoding the %s histogram: %w", tag, err)
	}
	m := h.mom
	return StateHist{Tag: tag, Encoded: enc, Scale: h.scale, N: m.n, Sum: m.sum, Min: m.min, Max: m.max,
		Mean: m.mean, M2: m.m2, Comp: m.comp}, nil
}

// merge adds the histogram s into h (nil: a new one). Moments combine
// with Chan et al.'s parallel variance formula.
func mergeHist(h *histogram, s StateHist) (*histogram, error) {
	dec, err := hdr.Decode(s.Encoded)
	if err != nil {
		return nil, fmt.Errorf("metrics: the %s histogram: %w", s.Tag, err)
	}
	if h == nil {
		return &histogram{h: dec, scale: s.Scale, mom: moments{n: s.N, sum: s.Sum, min: s.Min, max: s.Max, mean: s.Mean, m2: s.M2, comp: s.Comp}}, nil
	}
	if h.scale != s.Scale {
		return nil, fmt.Errorf("metrics: the %s histograms have different scales", s.Tag)
	}
	h.h.Merge(dec)
	a := &h.mom
	if s.N == 0 {
		return h, nil
	}
	if a.n == 0 {
		a.n, a.sum, a.min, a.max, a.mean, a.m2, a.comp = s.N, s.Sum, s.Min, s.Max, s.Mean, s.M2, s.Comp
		return h, nil
	}
	n := a.n + s.N
	d := s.Mean - a.mean
	a.m2 += s.M2 + d*d*float64(a.n)*float64(s.N)/float64(n)
	a.mean += d * float64(s.N) / float64(n)
	a.sum += s.Sum
	a.comp = 0
	a.min, a.max, a.n = math.Min(a.min, s.Min), math.Max(a.max, s.Max), n
	return h, nil
}

// MergeStates returns a processor holding the union of the shards'
// states, as if one process had processed every shard's records: with
// every shard exact and their rows together within the limit, its
// statistics are exactly that process's; otherwise they come from the
// merged histograms (stated in the summary's notes, as for one process
// beyond the limit).
func MergeStates(states []*State) (*MetricResults, error) {
	if len(states) == 0 {
		return nil, fmt.Errorf("metrics: no states to merge")
	}
	first := states[0]
	for _, s := range states {
		if s.Format != StateFormat {
			return nil, fmt.Errorf("metrics: state format %d, this loadstar reads %d", s.Format, StateFormat)
		}
		if s.Phase != first.Phase || fmt.Sprint(s.Setup) != fmt.Sprint(first.Setup) {
			return nil, fmt.Errorf("metrics: the shards measured differently (metrics setup %+v vs %+v)", s.Setup, first.Setup)
		}
	}
	su := first.Setup
	var slos []slo
	for _, o := range su.SLOs {
		id, ok := stateIndex(o.Tag)
		if !ok {
			return nil, fmt.Errorf("metrics: SLO on unknown metric %q", o.Tag)
		}
		slos = append(slos, slo{id: id, atLeast: o.AtLeast, threshold: o.Threshold})
	}
	m := NewMetricResults(su.App, slos, su.Limit, time.Duration(su.SliceNs))
	m.phase, m.cancelOn, m.thresholds = first.Phase, su.CancelOn, su.Thresholds
	approx := false
	var rows int64
	for _, s := range states {
		approx = approx || s.Approx
		rows += int64(len(s.RowStart))
	}
	for _, s := range states {
		m.addCounters(s)
		if err := m.addHists(s); err != nil {
			return nil, err
		}
		if !approx {
			m.addRows(s)
		}
	}
	if approx {
		m.approx = true
		m.iclHit = true
		m.mergeSlices(states)
		m.freeColumns()
	} else if m.rows.n > m.limit || m.nICL > m.limit {
		// Together the shards kept more values than one process keeps.
		if m.nICL > m.limit {
			m.iclHit = true
			m.icl.free()
		}
		if m.rows.n > m.limit {
			m.goApprox()
		}
	}
	return m, nil
}

// stateIndex is recordIndex with a found flag.
func stateIndex(tag string) (int, bool) {
	id := recordIndex(tag)
	return id, id >= 0
}

func (m *MetricResults) addCounters(s *State) {
	m.valid += s.Valid
	m.errors += s.Errors
	m.good += s.Good
	if s.Valid > 0 {
		if m.minStart == 0 || s.MinStart < m.minStart {
			m.minStart = s.MinStart
		}
		m.maxEnd = max(m.maxEnd, s.MaxEnd)
	}
	m.lastEnd = max(m.lastEnd, s.LastEnd)
	m.outputTokens += s.OutputTokens
	m.streamed += s.Streamed
	m.cancelled += s.Cancelled
	m.sessions += s.Sessions
	m.usageDiscrepancies += s.UsageDiscrepancies
	m.oslMismatches += s.OSLMismatches
	m.usageMissing += s.UsageMissing
	m.usageClamped += s.UsageClamped
	m.reasoning = m.reasoning || s.Reasoning
	if s.Sent > 0 {
		if m.sent == 0 || s.FirstStart < m.firstStart {
			m.firstStart = s.FirstStart
		}
		m.lastStart = max(m.lastStart, s.LastStart)
	}
	if s.Scheduled > 0 {
		if m.scheduled == 0 || s.FirstSched < m.firstSched {
			m.firstSched = s.FirstSched
		}
		m.lastSched = max(m.lastSched, s.LastSched)
	}
	m.sent += s.Sent
	m.scheduled += s.Scheduled
	m.late += s.Late
	for _, e := range s.ErrorGroups {
		m.errGroups.addCount(&e.Details, e.Count)
	}
}

func (m *MetricResults) addHists(s *State) error {
	m.syncHist(m.ids, true)
	for _, hs := range s.Hist {
		id, ok := stateIndex(hs.Tag)
		if !ok {
			return fmt.Errorf("metrics: a histogram of unknown metric %q", hs.Tag)
		}
		h, err := mergeHist(m.hist[id], hs)
		if err != nil {
			return err
		}
		m.hist[id] = h
	}
	if s.ICLHist != nil {
		h, err := mergeHist(m.iclHist, *s.ICLHist)
		if err != nil {
			return err
		}
		m.iclHist = h
	}
	return nil
}

func (m *MetricResults) addRows(s *State) {
	row := make([]int64, baseFields)
	for i := range s.RowStart {
		for k := range row {
			row[k] = s.Rows[k][i]
		}
		b := unflatten(row)
		if g := s.RowGood[i]; g != m.rows.good.absent {
			m.rows.good.set(m.rows.n, g)
		}
		m.rows.add(s.RowStart[i], &b)
	}
	for i := range s.ErrStart {
		j := m.errs.n
		m.errs.isl.set(j, to32(s.ErrISL[i]))
		m.errs.issueDelay.set(j, s.ErrIssueDelay[i], s.ErrIssueDelay[i] != absent64, 0, false)
		m.errs.start.set(j, s.ErrStart[i])
		m.errs.end.set(j, s.ErrEnd[i], s.ErrEnd[i] != absent64, 0, false)
		m.errs.n++
	}
	for _, g := range s.ICL {
		m.icl.set(m.nICL, g)
		m.nICL++
	}
	m.filled() // addHists merged the shard's histograms, which hold these
}

// mergeSlices joins the shards' per-window accumulators beyond the limit.
// A shard that stayed exact is binned here from its rows; a window of a
// shard whose slices began at another origin goes to the merged window
// holding its start.
func (m *MetricResults) mergeSlices(states []*State) {
	if m.slice <= 0 {
		return
	}
	m.slices = map[int]*sliceAcc{}
	first := true
	for _, s := range states {
		starts := append(append([]int64{}, s.RowStart...), s.ErrStart...)
		if s.Approx && len(s.Slices) > 0 {
			starts = append(starts, s.SliceOrigin)
		}
		for _, t := range starts {
			if first || t < m.origin {
				m.origin, first = t, false
			}
		}
	}
	width := int64(m.slice)
	for _, s := range states {
		if s.Approx {
			for _, sl := range s.Slices {
				k := int(max(s.SliceOrigin+int64(sl.Index)*width-m.origin, 0) / width)
				acc := m.sliceAt(k)
				acc.valid += sl.Valid
				acc.errors += sl.Errors
				acc.good += sl.Good
				for _, hs := range sl.Hist {
					if id, ok := stateIndex(hs.Tag); ok {
						if h, err := mergeHist(acc.hist[id], hs); err == nil {
							acc.hist[id] = h
						}
					}
				}
			}
			continue
		}
		var v Values
		row := make([]int64, baseFields)
		for i, t := range s.RowStart {
			for k := range row {
				row[k] = s.Rows[k][i]
			}
			v.Reset()
			v.Valid = true
			v.b = unflatten(row)
			derive(&v.b, m.app, &v)
			acc := m.sliceOf(t)
			acc.valid++
			if s.RowGood[i] == 1 {
				acc.good++
			}
			acc.record(&v)
		}
		for i, t := range s.ErrStart {
			v.Reset()
			v.b = emptyBase
			v.b.isl, v.b.issueDelay = s.ErrISL[i], s.ErrIssueDelay[i]
			derive(&v.b, m.app, &v)
			acc := m.sliceOf(t)
			acc.errors++
			acc.record(&v)
		}
	}
}

func (m *MetricResults) sliceAt(k int) *sliceAcc {
	s := m.slices[k]
	if s == nil {
		s = &sliceAcc{}
		m.slices[k] = s
	}
	return s
}
