package metrics

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
)

// ResultsProcessor folds processed records into results. Implementations
// are plugins of category results_processor.
type ResultsProcessor interface {
	// ProcessResult sees every processed record once, on one goroutine, in
	// arrival order. It must not retain rec or v.
	ProcessResult(rec *record.Record, v *Values) error
	// Summarize adds the processor's results to s at the end of the run;
	// s.Info and s.Config are set.
	Summarize(ctx context.Context, s *results.Summary) error
}

// sliceDigits is the HDR precision of per-slice histograms, used only when
// a run exceeds the exact-stats limit with slicing on.
const sliceDigits = 2

// MetricResults is the built-in results processor (plugin metric_results):
// it stores what each record contributes in compact columns, keeps HDR
// histograms for live views and for runs beyond the exact-stats limit, and
// computes AIPerf's statistics, aggregates, derived metrics, goodput, time
// slices and loadstar's validity verdict.
type MetricResults struct {
	// phase is the phase whose records this processor summarizes; with
	// byIndex, only those of the multi-phase run's phase index.
	phase   record.Phase
	byIndex bool
	index   int
	// cancelOn: the plan cancels requests, so cancelled_request_count is
	// reported even when none was.
	cancelOn bool
	app      Applicability
	slos     []slo
	limit    int
	slice    time.Duration
	iclOn    bool

	mu sync.Mutex // guards everything below against live reads

	rows   validRows
	errs   errorRows
	icl    column[int64]
	nICL   int
	iclHit bool // ICL exceeded the limit: its stats come from iclHist

	hist    [NumRecordMetrics]*histogram
	iclHist *histogram
	// While the rows hold every value, the histograms are filled from them
	// only when something reads the histograms (fill): recording each
	// record's values as they came cost a cache miss per metric and record
	// in the run, for live views read a few times a second. histRows and
	// histErrs are how many valid and error rows each metric's histogram
	// holds; histICL how many inter-chunk gaps.
	histRows, histErrs [NumRecordMetrics]int
	histICL            int
	// ids are the metrics that apply to the run (derive's), liveIDs those
	// of them Live reads.
	ids, liveIDs []int
	// Beyond the limit, values wait to be recorded into the histograms, a
	// metric at a time (flushHist). npend counts the records they are
	// from. The fill uses pend as its scratch space.
	pend    [NumRecordMetrics][]float64
	pendICL []float64
	npend   int
	approx  bool // rows exceeded the limit: columns freed, stats from histograms
	slices  map[int]*sliceAcc
	origin  int64

	valid, errors, good int64
	minStart, maxEnd    int64 // wall ns over valid records
	lastEnd             int64 // wall ns: the latest end of any record
	outputTokens        float64

	// AIPerf's aggregate counters.
	streamed, cancelled, sessions int64
	usageDiscrepancies            int64
	oslMismatches                 int64
	// Thresholds of the usage and OSL-mismatch warnings (AIPerf's
	// environment defaults, see Thresholds).
	thresholds Thresholds

	// Schedule bookkeeping over every sent profiling request.
	sent                  int64
	firstStart, lastStart int64
	scheduled             int64
	firstSched, lastSched int64
	late                  int64
	// wallOffset turns the monotonic times above into wall-clock ns.
	wallOffset int64

	errGroups    errorGroups
	usageMissing int64
	usageClamped int64
	reasoning    bool
}

// validRows are the stored bases of valid records, one entry per record:
// the start (wall ns), latency and TTFT as int64 ns, token counts as int32,
// and the rest relative to a value the row already has (relColumn), which
// costs nothing while rows equal it and 4 bytes a row once one differs.
// Connection phases (DNS, connect, TLS) happen on few requests and live in
// sparse maps.
type validRows struct {
	n                      int
	withTTFT               int // rows with a first token: up to 10 sweep events, not 2
	latency, ttft, start   column[int64]
	out, reas, isl         column[int32]
	ttst, ttfo, issueDelay relColumn
	full, creditLag        relColumn
	requested, firstChunk  relColumn
	usage                  [6]relColumn
	good                   column[int8]
	tr                     traceRows
}

// traceRows store the HTTP phases of valid records.
type traceRows struct {
	on                     column[int8]
	blocked, sendStart     relColumn
	sending                relColumn
	firstByte, lastByte    relColumn
	sent, received, chunks column[int32]
	dns, connect, tls      sparse
}

// sparse holds the rows whose value is not 0; the rest are 0.
type sparse map[int]int64

func (s *sparse) set(i int, v int64) {
	if v == 0 {
		return
	}
	if *s == nil {
		*s = sparse{}
	}
	(*s)[i] = v
}

// errorRows are the stored bases of error records: what error metrics and
// the concurrency curve need.
type errorRows struct {
	n          int
	isl        column[int32]
	issueDelay relColumn
	start      column[int64] // wall ns
	end        relColumn     // ns from start
}

// sliceAcc accumulates one time slice once the run is beyond the exact limit.
type sliceAcc struct {
	hist                [NumRecordMetrics]*histogram
	valid, errors, good int64
}

// NewMetricResults returns the results processor. limit <= 0 means
// DefaultExactStatsLimit; slice > 0 enables time slices.
func NewMetricResults(app Applicability, slos []slo, limit int, slice time.Duration) *MetricResults {
	if limit <= 0 {
		limit = DefaultExactStatsLimit
	}
	m := &MetricResults{app: app, slos: slos, limit: limit, slice: slice, iclOn: app.Applies(iclDef.Flags),
		icl: newCol64(), errGroups: newErrorGroups()}
	r := &m.rows
	r.latency, r.ttft, r.start = newCol64(), newCol64(), newCol64()
	r.out, r.reas, r.isl = newCol32(), newCol32(), newCol32()
	r.ttst, r.ttfo, r.issueDelay, r.firstChunk = newRel(), newRel(), newRel(), newRel()
	r.full, r.creditLag, r.requested = newRel(), newRel(), newRel()
	for i := range r.usage {
		r.usage[i] = newRel()
	}
	r.good = newCol8()
	t := &r.tr
	t.on = newCol8()
	t.blocked, t.sendStart, t.sending, t.firstByte, t.lastByte = newRel(), newRel(), newRel(), newRel(), newRel()
	t.sent, t.received, t.chunks = newCol32(), newCol32(), newCol32()
	m.errs = errorRows{isl: newCol32(), issueDelay: newRel(), start: newCol64(), end: newRel()}
	m.thresholds = DefaultThresholds()
	for id := range recordDefs {
		if app.Applies(recordDefs[id].Flags) {
			m.ids = append(m.ids, id)
			if id == TTFT || id == RequestLatency || id == ITL {
				m.liveIDs = append(m.liveIDs, id)
			}
		}
	}
	return m
}

// ProcessResult implements ResultsProcessor. Records of another phase
// than the processor's (warmup records, for the profiling results) are
// ignored.
func (m *MetricResults) ProcessResult(rec *record.Record, v *Values) error {
	if rec.Phase != m.phase || m.byIndex && rec.PhaseIndex != m.index {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.schedule(rec)
	if end := rec.StartWallNs + (rec.EndNs - rec.StartNs); rec.EndNs > rec.StartNs && end > m.lastEnd {
		m.lastEnd = end
	}
	if rec.Cancelled {
		m.cancelled++
	}
	if !v.Valid {
		m.addErrorRecord(rec, v)
		return nil
	}
	m.countValid(rec, v)
	isGood := len(m.slos) > 0 && good(m.slos, &v.V)
	if isGood {
		m.good++
	}
	if m.iclOn {
		m.addICL(v.ICL)
	}
	if !m.approx && m.rows.n >= m.limit {
		m.goApprox()
	}
	if m.approx {
		m.pendValues(v)
		if s := m.sliceOf(rec.StartWallNs); s != nil {
			s.valid++
			if isGood {
				s.good++
			}
			s.record(v)
		}
		return nil
	}
	if r, i := &m.rows, m.rows.n; len(m.slos) > 0 && m.slice > 0 {
		g := int8(0)
		if isGood {
			g = 1
		}
		r.good.set(i, g)
	}
	m.rows.add(rec.StartWallNs, &v.b)
	m.catchUp()
	return nil
}

// pendValues queues a record's values for the histograms (beyond the limit:
// the rows are gone, so they are recorded as they come).
func (m *MetricResults) pendValues(v *Values) {
	for id := range v.V {
		if x := v.V[id]; !math.IsNaN(x) {
			m.pend[id] = append(m.pend[id], x)
		}
	}
	if m.npend++; m.npend >= pendRecords {
		m.flushHist()
	}
}

// addErrorRecord counts a failed record and stores what error metrics and
// the concurrency curve need.
func (m *MetricResults) addErrorRecord(rec *record.Record, v *Values) {
	b := &v.b
	m.errors++
	m.addError(rec.Error)
	if m.approx {
		m.pendValues(v)
		if s := m.sliceOf(rec.StartWallNs); s != nil {
			s.errors++
			s.record(v)
		}
		return
	}
	i := m.errs.n
	m.errs.isl.set(i, to32(b.isl))
	m.errs.issueDelay.set(i, b.issueDelay, b.issueDelay != absent64, 0, false)
	m.errs.start.set(i, rec.StartWallNs)
	m.errs.end.set(i, rec.EndNs-rec.StartNs, rec.StartNs > 0 && rec.EndNs >= rec.StartNs, 0, false)
	m.errs.n++
}

// countValid folds a valid record into the run's counters and bounds.
func (m *MetricResults) countValid(rec *record.Record, v *Values) {
	b := &v.b
	m.valid++
	if v.UsageMissing {
		m.usageMissing++
	}
	if v.UsageClamped {
		m.usageClamped++
	}
	if b.reas > 0 {
		m.reasoning = true
	}
	if rec.Streamed && m.app.Streaming {
		m.streamed++
	}
	if rec.NumTurns > 0 && rec.TurnIndex == rec.NumTurns-1 {
		m.sessions++ // the final turn of a conversation completed its session
	}
	if m.thresholds.usageDiscrepancy(&v.V) {
		m.usageDiscrepancies++
	}
	if m.thresholds.oslMismatch(b) {
		m.oslMismatches++
	}
	if x := v.V[OSL]; !math.IsNaN(x) {
		m.outputTokens += x
	}
	end := rec.StartWallNs + b.latency
	if m.valid == 1 || rec.StartWallNs < m.minStart {
		m.minStart = rec.StartWallNs
	}
	if m.valid == 1 || end > m.maxEnd {
		m.maxEnd = end
	}
}

// addICL keeps a record's inter-chunk gaps, exactly up to the limit.
func (m *MetricResults) addICL(icl []float64) {
	for k, g := range icl {
		if !m.iclHit && m.nICL >= m.limit {
			// Beyond the limit the histogram takes the gaps as they come.
			m.fillICL(m.nICL)
			m.iclHit = true
			m.icl.free()
		}
		if m.iclHit {
			m.pendICL = append(m.pendICL, icl[k:]...)
			return
		}
		m.icl.set(m.nICL, int64(g))
		m.nICL++
	}
}

// pendRecords is how many records' values wait before they are recorded
// into the histograms. Recording 256 records' at once took a few hundred
// microseconds in one stretch: on a client pinned to one core that held up
// the schedule's next release (Poisson p99 issue delay 0.41 against 0.25 ms
// with 32, 2,000 streamed req/s).
const pendRecords = 32

// syncHist brings the histograms of metrics ids (and, with all, the
// inter-chunk gaps') up to every record processed so far. Everything that
// reads the histograms calls it first (under m.mu).
func (m *MetricResults) syncHist(ids []int, all bool) {
	m.flushHist()
	if m.approx {
		return // the rows are gone: every value went through pend
	}
	m.fillTo(ids, m.rows.n, m.errs.n)
	if all && !m.iclHit {
		m.fillICL(m.nICL)
	}
}

// catchUpFrom is the share of the limit from which the histograms are
// filled as the rows grow (catchUp), so that they are complete when the
// rows reach the limit and are freed: filling millions of rows at that
// moment would stall the metrics side for seconds.
const catchUpFrom = 0.75

// catchUp fills the histograms from the rows a few rows per record once the
// rows near the limit: from catchUpFrom of it, 1/(1-catchUpFrom) rows per
// record, in chunks every fillEvery records.
func (m *MetricResults) catchUp() {
	const fillEvery = 16
	n := m.rows.n
	if n%fillEvery != 0 || float64(n) < catchUpFrom*float64(m.limit) {
		return
	}
	k := int(1 / (1 - catchUpFrom))
	if to := n - (k-1)*(m.limit-n); to > 0 {
		m.fillTo(m.ids, to, m.errs.n)
	}
	if m.iclOn && !m.iclHit {
		if to := m.nICL - (k-1)*(m.limit-m.nICL); to > 0 {
			m.fillICL(to)
		}
	}
}

// fillChunk is how many rows are decoded before their values are recorded,
// a metric at a time.
const fillChunk = 256

// fillTo records into the histograms of metrics ids the values of the valid
// rows below rows and the error rows below errs that they do not hold yet:
// the values derive computed for those records (value of the stored bases).
func (m *MetricResults) fillTo(ids []int, rows, errs int) {
	m.fillRows(ids, rows, true)
	m.fillRows(ids, errs, false)
}

func (m *MetricResults) fillRows(ids []int, upto int, valid bool) {
	at := &m.histRows
	if !valid {
		at = &m.histErrs
	}
	from := upto
	for _, id := range ids {
		from = min(from, at[id])
	}
	for lo := from; lo < upto; lo += fillChunk {
		hi := min(lo+fillChunk, upto)
		for i := lo; i < hi; i++ {
			var b base
			if valid {
				b = m.rows.base(i)
			} else {
				b = m.errs.base(i)
			}
			for _, id := range ids {
				if i < at[id] {
					continue
				}
				if x := value(&b, valid, id); !math.IsNaN(x) {
					m.pend[id] = append(m.pend[id], x)
				}
			}
		}
		for _, id := range ids {
			if len(m.pend[id]) > 0 {
				m.histOf(id).recordBatch(m.pend[id])
				m.pend[id] = m.pend[id][:0]
			}
			at[id] = max(at[id], hi)
		}
	}
}

// fillICL records the stored inter-chunk gaps below upto that the
// histogram does not hold yet.
func (m *MetricResults) fillICL(upto int) {
	for lo := m.histICL; lo < upto; lo += fillChunk {
		hi := min(lo+fillChunk, upto)
		for i := lo; i < hi; i++ {
			m.pendICL = append(m.pendICL, float64(m.icl.get(i)))
		}
		m.iclHistogram().recordBatch(m.pendICL)
		m.pendICL = m.pendICL[:0]
		m.histICL = hi
	}
}

// filled marks every stored row and gap as held by the histograms (merged
// shards: their histograms came with their rows).
func (m *MetricResults) filled() {
	for id := range m.histRows {
		m.histRows[id], m.histErrs[id] = m.rows.n, m.errs.n
	}
	m.histICL = m.nICL
}

// flushHist records the values waiting beyond the limit into the
// histograms.
func (m *MetricResults) flushHist() {
	for id := range m.pend {
		if len(m.pend[id]) > 0 {
			m.histOf(id).recordBatch(m.pend[id])
			m.pend[id] = m.pend[id][:0]
		}
	}
	if len(m.pendICL) > 0 {
		m.iclHistogram().recordBatch(m.pendICL)
		m.pendICL = m.pendICL[:0]
	}
	m.npend = 0
}

func (m *MetricResults) histOf(id int) *histogram {
	if m.hist[id] == nil {
		m.hist[id] = newHistogram(recordDefs[id].BaseUnit, hdrDigits)
	}
	return m.hist[id]
}

func (m *MetricResults) iclHistogram() *histogram {
	if m.iclHist == nil {
		m.iclHist = newHistogram(unitNs, hdrDigits)
	}
	return m.iclHist
}

// schedule tracks issue times and schedules of every sent request.
func (m *MetricResults) schedule(rec *record.Record) {
	if rec.StartNs <= 0 {
		return // never sent (e.g. the payload could not be built)
	}
	if m.sent == 0 {
		// The run's monotonic clock against the wall clock, for merging
		// shards (State): fixed for the run, taken once.
		m.wallOffset = rec.StartWallNs - rec.StartNs
	}
	if m.sent == 0 || rec.StartNs < m.firstStart {
		m.firstStart = rec.StartNs
	}
	if m.sent == 0 || rec.StartNs > m.lastStart {
		m.lastStart = rec.StartNs
	}
	m.sent++
	if rec.ScheduledNs <= 0 {
		return
	}
	if m.scheduled == 0 || rec.ScheduledNs < m.firstSched {
		m.firstSched = rec.ScheduledNs
	}
	if m.scheduled == 0 || rec.ScheduledNs > m.lastSched {
		m.lastSched = rec.ScheduledNs
	}
	m.scheduled++
	if rec.StartNs-rec.ScheduledNs > int64(time.Millisecond) {
		m.late++
	}
}

func (m *MetricResults) addError(e *record.ErrorDetails) {
	m.errGroups.add(e)
}

// goApprox switches to histogram statistics: per-slice accumulators are
// backfilled from the columns, then the columns are freed.
func (m *MetricResults) goApprox() {
	m.syncHist(m.ids, false)
	m.approx = true
	if m.slice > 0 {
		m.slices = map[int]*sliceAcc{}
		m.origin = m.sliceOrigin()
		var v Values
		for i := 0; i < m.rows.n; i++ {
			v.Reset()
			v.Valid = true
			v.b = m.rows.base(i)
			derive(&v.b, m.app, &v)
			s := m.sliceOf(m.rows.start.get(i))
			s.valid++
			if m.rows.good.get(i) == 1 {
				s.good++
			}
			s.record(&v)
		}
		for i := 0; i < m.errs.n; i++ {
			v.Reset()
			v.b = m.errs.base(i)
			derive(&v.b, m.app, &v)
			s := m.sliceOf(m.errs.start.get(i))
			s.errors++
			s.record(&v)
		}
	}
	m.freeColumns()
}

// freeColumns drops the stored rows (statistics now come from histograms).
func (m *MetricResults) freeColumns() {
	r := &m.rows
	for _, c := range []*column[int64]{&r.latency, &r.ttft, &r.start} {
		c.free()
	}
	for _, c := range []*column[int32]{&r.out, &r.reas, &r.isl} {
		c.free()
	}
	for _, c := range []*relColumn{&r.ttst, &r.ttfo, &r.issueDelay, &r.firstChunk, &r.full, &r.creditLag, &r.requested} {
		c.free()
	}
	for k := range r.usage {
		r.usage[k].free()
	}
	r.good.free()
	r.tr.free()
	m.errs.isl.free()
	m.errs.issueDelay.free()
	m.errs.start.free()
	m.errs.end.free()
}

func (m *MetricResults) sliceOrigin() int64 {
	first := true
	var o int64
	for i := 0; i < m.rows.n; i++ {
		if s := m.rows.start.get(i); first || s < o {
			o, first = s, false
		}
	}
	for i := 0; i < m.errs.n; i++ {
		if s := m.errs.start.get(i); first || s < o {
			o, first = s, false
		}
	}
	return o
}

// sliceOf returns the accumulator of the slice holding wall time t
// (approximate mode only).
func (m *MetricResults) sliceOf(t int64) *sliceAcc {
	if m.slice <= 0 {
		return nil
	}
	k := int(max(t-m.origin, 0) / int64(m.slice))
	s := m.slices[k]
	if s == nil {
		s = &sliceAcc{}
		m.slices[k] = s
	}
	return s
}

func (s *sliceAcc) record(v *Values) {
	for id := range v.V {
		if x := v.V[id]; !math.IsNaN(x) {
			if s.hist[id] == nil {
				s.hist[id] = newHistogram(recordDefs[id].BaseUnit, sliceDigits)
			}
			s.hist[id].record(x)
		}
	}
}

// expected values of the relative columns, from what the row already has.
func usageExpected(b *base, k int) (int64, bool) {
	switch k {
	case 0: // prompt tokens: the ISL
		return b.isl, b.isl >= 0
	case 1: // completion tokens: output + reasoning
		if b.out < 0 && b.reas < 0 {
			return 0, false
		}
		return max(b.out, 0) + max(b.reas, 0), true
	case 2: // total: prompt + completion
		if b.usage[0] < 0 || b.usage[1] < 0 {
			return 0, false
		}
		return b.usage[0] + b.usage[1], true
	case 3: // reasoning tokens
		return b.reas, b.reas >= 0
	}
	return 0, false
}

// add appends the bases b of a record started at wall time start as the
// next row.
func (r *validRows) add(start int64, b *base) {
	i := r.n
	r.start.set(i, start)
	r.latency.set(i, b.latency)
	r.ttft.set(i, b.ttft)
	r.out.set(i, to32(b.out))
	r.reas.set(i, to32(b.reas))
	r.isl.set(i, to32(b.isl))
	r.ttst.set(i, b.ttst, b.ttst != absent64, 0, false)
	r.ttfo.set(i, b.ttfo, b.ttfo != absent64, b.ttft, b.ttft != absent64)
	r.issueDelay.set(i, b.issueDelay, b.issueDelay != absent64, 0, false)
	r.full.set(i, b.full, b.full != absent64, b.latency, b.latency != absent64)
	r.creditLag.set(i, b.creditLag, b.creditLag != absent64, b.issueDelay, b.issueDelay != absent64)
	e, eok := oslExpected(b)
	r.requested.set(i, b.requested, b.requested >= 0, e, eok)
	r.firstChunk.set(i, b.firstChunk, b.firstChunk >= 0, 0, false)
	for k := range r.usage {
		e, eok := usageExpected(b, k)
		r.usage[k].set(i, b.usage[k], b.usage[k] >= 0, e, eok)
	}
	r.tr.add(i, b)
	if b.ttft != absent64 {
		r.withTTFT++
	}
	r.n++
}

// oslExpected is what the requested output length usually equals: the
// output sequence length (servers that honour max tokens).
func oslExpected(b *base) (int64, bool) {
	if b.out < 0 && b.reas < 0 {
		return 0, false
	}
	return max(b.out, 0) + max(b.reas, 0), true
}

// firstByteExpected is where the first body byte usually arrives: with the
// first token of a stream, with the whole answer otherwise.
func firstByteExpected(b *base) (int64, bool) {
	if b.ttft != absent64 {
		return b.ttft, true
	}
	return b.latency, b.latency != absent64
}

// add stores row i's phases. Every column gets a value for every row (an
// unstamped record stores zeros, which cost nothing in relative columns).
func (t *traceRows) add(i int, b *base) {
	tr := &b.tr
	t.sendStart.set(i, tr.sendStart, tr.on, tr.blocked+tr.dns+tr.connect+tr.tls, true)
	t.blocked.set(i, tr.blocked, true, 0, true)
	t.sending.set(i, tr.sending, true, 0, true)
	e, eok := firstByteExpected(b)
	t.firstByte.set(i, tr.firstByte, tr.on && tr.firstByte != absent64, e, eok)
	t.lastByte.set(i, tr.lastByte, tr.on && tr.lastByte != absent64, b.full, b.full != absent64)
	t.sent.set(i, to32(tr.sent))
	t.received.set(i, to32(tr.received))
	t.chunks.set(i, to32(tr.chunks))
	t.dns.set(i, tr.dns)
	t.connect.set(i, tr.connect)
	t.tls.set(i, tr.tls)
}

func (t *traceRows) get(i int, b *base) {
	tr := &b.tr
	tr.blocked = countOf(t.blocked.get(i, 0, true))
	tr.dns, tr.connect, tr.tls = t.dns[i], t.connect[i], t.tls[i]
	ss, ok := t.sendStart.get(i, tr.blocked+tr.dns+tr.connect+tr.tls, true)
	if !ok {
		*tr = httpTrace{}
		return
	}
	tr.on, tr.sendStart = true, ss
	tr.sending, _ = t.sending.get(i, 0, true)
	e, eok := firstByteExpected(b)
	tr.firstByte = timeOf(t.firstByte.get(i, e, eok))
	tr.lastByte = timeOf(t.lastByte.get(i, b.full, b.full != absent64))
	tr.sent, tr.received, tr.chunks = from32(t.sent.get(i)), from32(t.received.get(i)), from32(t.chunks.get(i))
}

func (t *traceRows) free() {
	for _, c := range []*relColumn{&t.blocked, &t.sendStart, &t.sending, &t.firstByte, &t.lastByte} {
		c.free()
	}
	for _, c := range []*column[int32]{&t.sent, &t.received, &t.chunks} {
		c.free()
	}
	t.dns, t.connect, t.tls = nil, nil, nil
}

func (r *validRows) base(i int) base {
	b := emptyBase
	b.latency, b.ttft = r.latency.get(i), r.ttft.get(i)
	b.out, b.reas, b.isl = from32(r.out.get(i)), from32(r.reas.get(i)), from32(r.isl.get(i))
	b.ttst = timeOf(r.ttst.get(i, 0, false))
	b.ttfo = timeOf(r.ttfo.get(i, b.ttft, b.ttft != absent64))
	b.issueDelay = timeOf(r.issueDelay.get(i, 0, false))
	b.full = timeOf(r.full.get(i, b.latency, b.latency != absent64))
	b.creditLag = timeOf(r.creditLag.get(i, b.issueDelay, b.issueDelay != absent64))
	e, eok := oslExpected(&b)
	b.requested = countOf(r.requested.get(i, e, eok))
	b.firstChunk = countOf(r.firstChunk.get(i, 0, false))
	for k := range r.usage {
		e, eok := usageExpected(&b, k)
		b.usage[k] = countOf(r.usage[k].get(i, e, eok))
	}
	r.tr.get(i, &b)
	return b
}

func timeOf(v int64, ok bool) int64 {
	if !ok {
		return absent64
	}
	return v
}

func countOf(v int64, ok bool) int64 {
	if !ok {
		return -1
	}
	return v
}

func (r *errorRows) base(i int) base {
	b := emptyBase
	b.isl = from32(r.isl.get(i))
	b.issueDelay = timeOf(r.issueDelay.get(i, 0, false))
	return b
}

// group is the statistics of a set of records: the run or one slice.
type group struct {
	// counted: the counters below are known (the whole run, not a slice).
	counted, cancelOn                 bool
	streamed, cancelled, sessions     int64
	usageDiscrepancies, oslMismatches int64
	stats                             [NumRecordMetrics]*results.Stats
	adjusted                          []*results.Stats // by index into adjusted
	icl                               *results.Stats
	valid, errors, good               int64
	durationNs                        float64 // 0 = no duration
}

// Summarize implements ResultsProcessor: it fills s.Metrics, s.Errors,
// s.Verdict, s.Timeslices, s.Warnings and s.Notes (s.WarmupMetrics for a
// warmup processor).
func (m *MetricResults) Summarize(ctx context.Context, s *results.Summary) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.flushHist()
	if m.phase == record.Warmup {
		if m.valid+m.errors > 0 {
			g := m.runGroup()
			s.WarmupMetrics = g.metrics(len(m.slos) > 0, m.app)
		}
		return nil
	}
	g := m.runGroup()
	s.Metrics = g.metrics(len(m.slos) > 0, m.app)
	if !m.approx {
		s.Metrics = append(s.Metrics, m.sweeps()...)
		sort.Slice(s.Metrics, func(i, j int) bool { return s.Metrics[i].Tag < s.Metrics[j].Tag })
	}
	s.Errors = m.errorGroups()
	s.Verdict = m.verdict(s, &g.stats)
	if m.slice > 0 {
		s.Timeslices = m.timeslices()
	}
	s.ExactStatsLimit = m.limit
	s.Warnings = append(s.Warnings, m.thresholds.warnings(m.valid, m.usageDiscrepancies, m.oslMismatches, g.stats[OSLMismatchDiff])...)
	if m.usageMissing > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d of %d successful requests carried no usage: their server token counts are absent", m.usageMissing, m.valid))
	}
	if m.usageClamped > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d requests reported fewer completion than reasoning tokens: their output token count was clamped to 0", m.usageClamped))
	}
	if m.approx || m.iclHit {
		s.Notes = append(s.Notes, fmt.Sprintf("more than %d values per metric: percentiles are HDR-derived (relative error <= %g); count, sum, avg, min, max and std are exact; the effective and active metrics need every record and are left out", m.limit, hdrPrecision))
	}
	return nil
}

// runGroup computes the statistics of every record of the phase.
func (m *MetricResults) runGroup() group {
	g := group{valid: m.valid, errors: m.errors, good: m.good, counted: true, cancelOn: m.cancelOn,
		streamed: m.streamed, cancelled: m.cancelled, sessions: m.sessions,
		usageDiscrepancies: m.usageDiscrepancies, oslMismatches: m.oslMismatches}
	if m.valid > 0 && m.maxEnd > m.minStart {
		g.durationNs = float64(m.maxEnd - m.minStart)
	}
	if m.approx {
		for id, h := range m.hist {
			if h != nil && h.mom.n > 0 && m.app.Applies(recordDefs[id].Flags) {
				st := h.stats(recordDefs[id].Scale)
				g.stats[id] = &st
			}
		}
		g.approxAdjusted(&m.hist)
	} else {
		m.exactStats(&g, nil, nil)
	}
	if m.iclOn {
		switch {
		case m.iclHit && m.iclHist != nil:
			st := m.iclHist.stats(iclDef.Scale)
			g.icl = &st
		case m.nICL > 0:
			buf := make([]float64, 0, m.nICL)
			for i := 0; i < m.nICL; i++ {
				buf = append(buf, float64(m.icl.get(i)))
			}
			st := ExactStats(buf, iclDef.Scale)
			g.icl = &st
		}
	}
	return g
}

// exactStats computes each record metric's exact statistics over the
// stored rows (all rows when sel is nil) and error rows (errSel). Rows are
// decoded once per batch of metrics, each metric's values collected in its
// own buffer.
func (m *MetricResults) exactStats(g *group, sel, errSel []int32) {
	nv, ne := m.rows.n, m.errs.n
	if sel != nil {
		nv = len(sel)
	}
	if errSel != nil {
		ne = len(errSel)
	}
	if g.adjusted == nil {
		g.adjusted = make([]*results.Stats, len(adjusted))
	}
	var ids []int
	for id := range recordDefs {
		if m.app.Applies(recordDefs[id].Flags) {
			ids = append(ids, id)
		}
	}
	// Four metrics' values at a time: a million requests' values take 8 MB
	// a metric, and eight buffers plus each sort's own scratch made the
	// end of such a run grow the heap by 213 MB (now 84 MB; the extra
	// passes over the rows cost about 5 % of BenchmarkSummarize).
	const batch = 4
	bufs := make([][]float64, batch)
	var scratch []uint64 // the sort's, shared by the metrics
	for from := 0; from < len(ids); from += batch {
		part := ids[from:min(from+batch, len(ids))]
		for k := range part {
			if bufs[k] == nil {
				bufs[k] = make([]float64, 0, nv+ne)
			}
			bufs[k] = bufs[k][:0]
		}
		for j := 0; j < nv; j++ {
			i := j
			if sel != nil {
				i = int(sel[j])
			}
			b := m.rows.base(i)
			for k, id := range part {
				if x := value(&b, true, id); id != ErrorISL && !math.IsNaN(x) {
					bufs[k] = append(bufs[k], x)
				}
			}
		}
		for j := 0; j < ne; j++ {
			i := j
			if errSel != nil {
				i = int(errSel[j])
			}
			b := m.errs.base(i)
			for k, id := range part {
				if id != ErrorISL && id != IssueDelay {
					continue
				}
				if x := value(&b, false, id); !math.IsNaN(x) {
					bufs[k] = append(bufs[k], x)
				}
			}
		}
		for k, id := range part {
			g.setStats(id, bufs[k], &scratch)
		}
	}
}

// setStats computes metric id's statistics (and its failure-adjusted
// distribution) from its values; it sorts buf (with scratch, kept for the
// next metric).
func (g *group) setStats(id int, buf []float64, scratch *[]uint64) {
	if len(buf) == 0 {
		return
	}
	st := exactStatsWith(buf, recordDefs[id].Scale, scratch)
	g.stats[id] = &st
	if k := adjustedIndex(id); k >= 0 && g.errors > 0 {
		adj := adjustedStats(len(buf), g.errors, func(r int) float64 { return buf[r] }, recordDefs[id].Scale)
		g.adjusted[k] = &adj
	}
}

func adjustedIndex(id int) int {
	for k, a := range adjusted {
		if a.id == id {
			return k
		}
	}
	return -1
}

// approxAdjusted fills the failure-adjusted stats from histograms.
func (g *group) approxAdjusted(hist *[NumRecordMetrics]*histogram) {
	if g.errors == 0 {
		return
	}
	if g.adjusted == nil {
		g.adjusted = make([]*results.Stats, len(adjusted))
	}
	for k, a := range adjusted {
		h := hist[a.id]
		if h == nil || h.mom.n == 0 || g.stats[a.id] == nil {
			continue
		}
		n := int(h.mom.n)
		adj := adjustedStats(n, g.errors, func(r int) float64 {
			if n == 1 {
				return h.mom.min
			}
			return min(max(h.quantile(100*float64(r)/float64(n-1)), h.mom.min), h.mom.max)
		}, recordDefs[a.id].Scale)
		adj.Approx, adj.Precision = true, math.Pow(10, -float64(h.h.SignificantFigures()))
		g.adjusted[k] = &adj
	}
}

// metrics turns a group into result metrics, sorted by tag.
func (g *group) metrics(sloOn bool, app Applicability) []results.Metric {
	var out []results.Metric
	for id, st := range g.stats {
		if st != nil {
			d := recordDefs[id]
			mt := d.metric()
			mt.Stats = st
			out = append(out, mt)
		}
	}
	if g.icl != nil {
		mt := iclDef.metric()
		mt.Stats = g.icl
		out = append(out, mt)
	}
	for k, st := range g.adjusted {
		if st != nil {
			mt := adjusted[k].def.metric()
			mt.Stats = st
			out = append(out, mt)
		}
	}
	add := func(d *Def, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		mt := d.metric()
		mt.Value = v * d.Scale
		out = append(out, mt)
	}
	sum := func(id int) float64 {
		if st := g.stats[id]; st != nil {
			return st.Sum
		}
		return math.NaN()
	}
	dur := math.NaN()
	if g.durationNs > 0 {
		dur = g.durationNs
	}
	rate := func(n float64) float64 { return n / (dur / 1e9) }

	if g.valid > 0 {
		add(&defRequestCount, float64(g.valid))
	}
	if g.errors > 0 {
		add(&defErrorRequestCount, float64(g.errors))
	}
	if g.counted {
		g.counters(add, app, rate)
	}
	total := float64(g.valid + g.errors)
	add(&defCompletedCount, total)
	if total > 0 {
		add(&defErrorRate, 100*float64(g.errors)/total)
	}
	add(&defBenchmarkDuration, dur)
	if g.valid > 0 {
		add(&defRequestThroughput, rate(float64(g.valid)))
	}
	tOSL, tISL := sum(OSL), sum(ISL)
	add(&defTotalOSL, tOSL)
	add(&defTotalISL, tISL)
	add(&defTotalOutputTokens, sum(OutputTokenCount))
	add(&defTotalReasoning, sum(ReasoningTokenCount))
	add(&defTotalErrorISL, sum(ErrorISL))
	if app.ProducesTokens {
		add(&defOutputThroughput, rate(tOSL))
		add(&defTotalThroughput, rate(tISL+tOSL))
	}
	if app.TokenizesInput {
		add(&defInputThroughput, rate(tISL))
	}
	for _, u := range usageTotals {
		add(u.def, sum(u.id))
	}
	if p, c := sum(UsagePrompt), sum(UsageCacheRead); p > 0 {
		add(&defCacheReadPct, 100*c/p)
	}
	if sloOn {
		if g.valid > 0 {
			add(&defGoodRequestCount, float64(g.good))
			add(&defGoodput, rate(float64(g.good)))
		}
		frac := 0.0
		if total > 0 {
			frac = float64(g.good) / total
		}
		add(&defGoodFraction, frac)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tag < out[j].Tag })
	return out
}

// LiveErrors returns the error summary so far, largest groups first (live
// displays).
func (m *MetricResults) LiveErrors() []results.ErrorGroup {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.errorGroups()
}

// counters adds AIPerf's counting metrics of the whole run.
func (g *group) counters(add func(*Def, float64), app Applicability, rate func(float64) float64) {
	if app.Applies(defStreamedRequestCount.Flags) {
		add(&defStreamedRequestCount, float64(g.streamed))
	}
	if g.cancelOn || g.cancelled > 0 {
		add(&defCancelledCount, float64(g.cancelled))
	}
	if g.valid > 0 {
		add(&defSessionCount, float64(g.sessions))
		add(&defSessionThroughput, rate(float64(g.sessions))*3600)
	}
	if g.stats[UsagePromptDiff] != nil || g.stats[UsageCompletionDiff] != nil {
		add(&defUsageDiscrepancies, float64(g.usageDiscrepancies))
	}
	if g.stats[OSLMismatchDiff] != nil {
		add(&defOSLMismatchCount, float64(g.oslMismatches))
	}
}

// errorGroups returns the error summary, largest groups first.
func (m *MetricResults) errorGroups() []results.ErrorGroup {
	out := m.errGroups.rows()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Details.Code != b.Details.Code {
			return a.Details.Code < b.Details.Code
		}
		if a.Details.Type != b.Details.Type {
			return a.Details.Type < b.Details.Type
		}
		return a.Details.Message < b.Details.Message
	})
	return out
}

// Live is a consistent snapshot of the running counters for progress UIs.
type Live struct {
	Valid, Errors, Good int64
	// OutputTokens is the sum of output sequence lengths so far.
	OutputTokens float64
	// Medians in ms (NaN until known).
	TTFTP50Ms, LatencyP50Ms, ITLP50Ms float64
}

// LiveMetrics returns the running statistics of every record metric seen so
// far (HDR-derived, marked Approx) and the request counts and error rate:
// what thresholds with abort_on_fail are checked against while a run goes.
func (m *MetricResults) LiveMetrics() []results.Metric {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncHist(m.ids, true)
	var out []results.Metric
	for id, h := range m.hist {
		if h == nil || h.mom.n == 0 {
			continue
		}
		d := recordDefs[id]
		st := h.stats(d.Scale)
		out = append(out, results.Metric{Tag: d.Tag, Header: d.Header, ShortHeader: d.ShortHeader, Unit: d.Unit,
			Kind: results.RecordMetric, Flags: uint64(d.Flags), Stats: &st})
	}
	out = append(out,
		results.Metric{Tag: "request_count", Unit: "requests", Kind: results.AggregateMetric, Value: float64(m.valid)},
		results.Metric{Tag: "error_request_count", Unit: "requests", Kind: results.AggregateMetric, Value: float64(m.errors)})
	if total := m.valid + m.errors; total > 0 {
		out = append(out, results.Metric{Tag: "request_error_rate", Unit: "%", Kind: results.DerivedMetric, Value: 100 * float64(m.errors) / float64(total)})
	}
	return out
}

// Live returns the current counters and HDR medians.
func (m *MetricResults) Live() Live {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncHist(m.liveIDs, false)
	med := func(id int) float64 {
		if h := m.hist[id]; h != nil && h.mom.n > 0 {
			return h.quantile(50) * recordDefs[id].Scale
		}
		return math.NaN()
	}
	return Live{Valid: m.valid, Errors: m.errors, Good: m.good, OutputTokens: m.outputTokens,
		TTFTP50Ms: med(TTFT), LatencyP50Ms: med(RequestLatency), ITLP50Ms: med(ITL)}
}
