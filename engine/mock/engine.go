package mock

import (
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// kvBlock is the KV-cache block size in tokens (vLLM's default).
const kvBlock = 16

// DefaultKVCacheTokens is the mock's KV-cache capacity when Config names
// none: 65,536 blocks of 16 tokens, about what one 80 GB GPU holds for a
// small model.
const DefaultKVCacheTokens = 1 << 20

// engineModel is the mock's model of an inference engine's scheduler, the
// part vLLM's /metrics describes: requests are admitted into the running
// batch (at most MaxRunning, and only while the KV cache can hold every
// running request's prompt and answer), the others wait in a FIFO queue;
// the KV cache in use grows with each running request's prompt and the
// tokens it has generated so far. Counters and histograms record what the
// engine did. Every number comes from the mock's real traffic.
type engineModel struct {
	maxRunning int // 0: no limit
	kvTokens   int

	mu       sync.Mutex
	running  map[*plan]struct{} // the plan holds its own entry (p.run)
	queue    []*engineWaiter
	reserved int // tokens reserved by running requests (block-rounded)
	// busySince is when the batch last became non-empty; busyTotal the
	// time it was non-empty before.
	busySince time.Time
	busyTotal time.Duration

	promptTokens, generationTokens, preemptions atomic.Int64
	finished                                    [3]atomic.Int64 // by finishReasons
	ttft, itl, e2e, queueTime, prefill, decode  *atomicHistogram
	promptHist, generationHist                  *atomicHistogram
}

// engineEntry is a running request as the KV-cache model sees it; it
// lives in the (pooled) plan, so running a request allocates nothing.
type engineEntry struct {
	admitted time.Time
	prompt   int
	n        int
	ttft     time.Duration
	itl      time.Duration
	reserve  int
}

// engineWaiter is a queued request.
type engineWaiter struct {
	p     *plan
	need  int
	ready chan struct{} // closed once admitted
}

// finishReasons are vllm:request_success's finished_reason values.
var finishReasons = [3]string{"stop", "length", "abort"}

// vLLM's histogram buckets (vllm/v1/metrics/loggers.py).
var (
	ttftBuckets    = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0}
	itlBuckets     = []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0}
	requestBuckets = []float64{0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0}
	tokenBuckets   = oneTwoFive(32768)
)

// oneTwoFive is vLLM's build_1_2_5_buckets: 1, 2, 5, 10, 20, 50, ... ≤ max.
func oneTwoFive(maxValue float64) []float64 {
	var out []float64
	for e := 1.0; ; e *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if m*e > maxValue {
				return out
			}
			out = append(out, m*e)
		}
	}
}

func newEngineModel(maxRunning, kvTokens int) *engineModel {
	return &engineModel{maxRunning: maxRunning, kvTokens: kvTokens, running: map[*plan]struct{}{},
		ttft: newAtomicHistogram(ttftBuckets), itl: newAtomicHistogram(itlBuckets), e2e: newAtomicHistogram(requestBuckets),
		queueTime: newAtomicHistogram(requestBuckets), prefill: newAtomicHistogram(requestBuckets),
		decode: newAtomicHistogram(requestBuckets), promptHist: newAtomicHistogram(tokenBuckets),
		generationHist: newAtomicHistogram(tokenBuckets)}
}

// blocks rounds tokens up to whole KV blocks (in tokens).
func blocks(tokens int) int { return (tokens + kvBlock - 1) / kvBlock * kvBlock }

// fits reports whether a request needing need tokens can run now.
func (m *engineModel) fits(need int) bool {
	if m.maxRunning > 0 && len(m.running) >= m.maxRunning {
		return false
	}
	return len(m.running) == 0 || m.reserved+need <= m.kvTokens
}

// admit puts p in the running batch, waiting in the queue while the batch
// is full or the KV cache could not hold p's prompt and answer. A request
// that has to wait for KV-cache room is counted as preempted (vLLM would
// have to evict it when the cache ran out). done cuts the wait short (the
// server closing). It returns how long p waited.
func (m *engineModel) admit(p *plan, done <-chan struct{}) time.Duration {
	need := blocks(p.promptTokens + p.n())
	m.mu.Lock()
	if len(m.queue) == 0 && m.fits(need) {
		m.start(p, need)
		m.mu.Unlock()
		return 0
	}
	w := &engineWaiter{p: p, need: need, ready: make(chan struct{})}
	if m.maxRunning == 0 || len(m.running) < m.maxRunning {
		m.preemptions.Add(1) // it waits for KV-cache room, not for a batch slot
	}
	m.queue = append(m.queue, w)
	m.mu.Unlock()
	began := time.Now()
	select {
	case <-w.ready:
	case <-done:
		m.mu.Lock()
		for i, x := range m.queue {
			if x == w {
				m.queue = append(m.queue[:i], m.queue[i+1:]...)
				break
			}
		}
		select {
		case <-w.ready: // admitted meanwhile
		default:
			m.start(p, need)
		}
		m.mu.Unlock()
	}
	return time.Since(began)
}

// start records p as running (m.mu held).
func (m *engineModel) start(p *plan, need int) {
	now := time.Now()
	if len(m.running) == 0 {
		m.busySince = now
	}
	p.run = engineEntry{admitted: now, prompt: p.promptTokens, n: p.n(), ttft: p.ttft, itl: p.itl, reserve: need}
	m.running[p] = struct{}{}
	m.reserved += need
}

// busy is the total time so far with at least one request running (what
// a GPU's utilisation counts).
func (m *engineModel) busy(now time.Time) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.busyTotal
	if len(m.running) > 0 {
		b += now.Sub(m.busySince)
	}
	return b
}

// release takes p out of the batch and admits queued requests in order.
func (m *engineModel) release(p *plan) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.running[p]; !ok {
		return
	}
	delete(m.running, p)
	m.reserved -= p.run.reserve
	if len(m.running) == 0 {
		m.busyTotal += time.Since(m.busySince)
	}
	for len(m.queue) > 0 && m.fits(m.queue[0].need) {
		w := m.queue[0]
		m.queue = m.queue[1:]
		m.start(w.p, w.need)
		close(w.ready)
	}
}

// generated is how many tokens a running request has produced by now,
// from its schedule (first token at TTFT, then one per ITL).
func (e *engineEntry) generated(now time.Time) int {
	since := now.Sub(e.admitted) - e.ttft
	switch {
	case since < 0 || e.n == 0:
		return 0
	case e.itl <= 0:
		return e.n
	}
	return min(e.n, 1+int(since/e.itl))
}

// snapshot reads the gauges: requests running and waiting, and the share
// of the KV cache in use now.
func (m *engineModel) snapshot(now time.Time) (running, waiting int, kvUsage float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	used := 0
	for p := range m.running {
		used += blocks(p.run.prompt + p.run.generated(now))
	}
	return len(m.running), len(m.queue), math.Min(1, float64(used)/float64(m.kvTokens))
}

// atomicHistogram is a Prometheus histogram updated without locks.
type atomicHistogram struct {
	bounds []float64
	counts []atomic.Int64 // per bucket (not cumulative); last is +Inf
	sum    atomic.Uint64  // float64 bits
}

func newAtomicHistogram(bounds []float64) *atomicHistogram {
	return &atomicHistogram{bounds: bounds, counts: make([]atomic.Int64, len(bounds)+1)}
}

// observe adds n observations of v.
func (h *atomicHistogram) observe(v float64, n int64) {
	if n <= 0 {
		return
	}
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v: le semantics
	h.counts[i].Add(n)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v*float64(n))) {
			return
		}
	}
}

// read returns cumulative bucket counts (+Inf last), the sum and the count.
func (h *atomicHistogram) read() (cum []int64, sum float64, count int64) {
	cum = make([]int64, len(h.counts))
	for i := range h.counts {
		count += h.counts[i].Load()
		cum[i] = count
	}
	return cum, math.Float64frombits(h.sum.Load()), count
}

// done records a finished request (answered, cut or abandoned) and takes
// it out of the batch.
func (m *engineModel) done(p *plan, now time.Time) {
	m.release(p)
	gen := 0
	if apis[p.api].output == outputText {
		gen = p.emitted
	}
	m.promptTokens.Add(int64(p.promptTokens))
	m.generationTokens.Add(int64(gen))
	completed := p.emitted >= p.n()
	switch {
	case !completed:
		m.finished[2].Add(1)
	case p.finish == "length":
		m.finished[1].Add(1)
	default:
		m.finished[0].Add(1)
	}
	if p.emitted > 0 || completed {
		// A stream's TTFT is when its first token actually went out, late
		// wake-ups included, as a server measures it; otherwise the schedule's.
		ttft := p.waited + p.ttft
		if !p.firstTok.IsZero() {
			ttft = p.firstTok.Sub(p.arrival)
		}
		m.ttft.observe(ttft.Seconds(), 1)
		m.prefill.observe(p.ttft.Seconds(), 1)
	}
	if p.itl == 0 && gen > 1 { // no latency: every gap is 0
		m.itl.observe(0, int64(gen-1-p.itlSeen))
	}
	e2e := now.Sub(p.arrival)
	m.e2e.observe(e2e.Seconds(), 1)
	m.queueTime.observe(p.waited.Seconds(), 1)
	m.decode.observe(max(0, e2e-p.waited-p.ttft).Seconds(), 1)
	m.promptHist.observe(float64(p.promptTokens), 1)
	m.generationHist.observe(float64(gen), 1)
}
