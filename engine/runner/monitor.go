package runner

import (
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"syscall"
	"time"
)

// Self-monitoring thresholds: beyond them the client may be the bottleneck
// (AIPerf warns at 85 % worker CPU and 25 ms event-loop lag; a Go client can
// hold itself to far less).
const (
	maxCPUShare      = 0.85
	maxGCPauseP99    = time.Millisecond
	maxGCShare       = 0.01
	maxSchedLatency  = time.Millisecond
	maxClientLagP99  = time.Millisecond
	maxRecordBacklog = 10_000
)

// log2Hist is a lock-free histogram of non-negative ns values in power-of-two
// buckets: cheap enough to feed from every sender, precise enough (×2) for
// the self-monitoring warnings.
type log2Hist struct{ b [64]atomic.Int64 }

func (h *log2Hist) add(v int64) {
	if v < 0 {
		v = 0
	}
	h.b[bits.Len64(uint64(v))].Add(1)
}

// quantile returns an upper bound of the q-quantile (0 when empty).
func (h *log2Hist) quantile(q float64) time.Duration {
	var n int64
	for i := range h.b {
		n += h.b[i].Load()
	}
	if n == 0 {
		return 0
	}
	want := int64(math.Ceil(q * float64(n)))
	var seen int64
	for i := range h.b {
		seen += h.b[i].Load()
		if seen >= want {
			if i == 0 {
				return 0
			}
			return time.Duration(uint64(1) << i)
		}
	}
	return time.Duration(math.MaxInt64)
}

// monitor measures the client's own health over a phase: CPU use, GC pauses
// and goroutine scheduling latency (runtime/metrics).
type monitor struct {
	wall  time.Time
	cpu   time.Duration
	gc    *metrics.Float64Histogram
	sched *metrics.Float64Histogram
	gcCPU float64
}

var monitorSamples = []string{"/gc/pauses:seconds", "/sched/latencies:seconds", "/cpu/classes/gc/total:cpu-seconds"}

func startMonitor() *monitor {
	m := &monitor{wall: time.Now(), cpu: processCPU()}
	m.gc, m.sched, m.gcCPU = readRuntime()
	return m
}

func readRuntime() (gc, sched *metrics.Float64Histogram, gcCPU float64) {
	s := make([]metrics.Sample, len(monitorSamples))
	for i, n := range monitorSamples {
		s[i].Name = n
	}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindFloat64Histogram {
		gc = s[0].Value.Float64Histogram()
	}
	if s[1].Value.Kind() == metrics.KindFloat64Histogram {
		sched = s[1].Value.Float64Histogram()
	}
	if s[2].Value.Kind() == metrics.KindFloat64 {
		gcCPU = s[2].Value.Float64()
	}
	return gc, sched, gcCPU
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clientHealth is what the client measured about itself during a phase.
type clientHealth struct {
	Wall time.Duration
	// CPUShare is process CPU time over wall time × GOMAXPROCS.
	CPUShare float64
	CPUs     int
	// GCPauseP99 and GCPauseMax are stop-the-world pause times; GCShare the
	// share of CPU time spent in the garbage collector.
	GCPauseP99, GCPauseMax time.Duration
	GCShare                float64
	// SchedLatencyP99 is how long runnable goroutines waited for a CPU.
	SchedLatencyP99 time.Duration
	// ClientLagP99 bounds how long requests took to leave the client after
	// the strategy released them (StartNs − CreditNs).
	ClientLagP99 time.Duration
	// RecordBacklog is the most finished records that waited for the
	// metrics side at once.
	RecordBacklog int
}

func (m *monitor) stop() clientHealth {
	h := clientHealth{Wall: time.Since(m.wall), CPUs: runtime.GOMAXPROCS(0)}
	cpu := processCPU() - m.cpu
	if h.Wall > 0 {
		h.CPUShare = float64(cpu) / (float64(h.Wall) * float64(h.CPUs))
	}
	gc, sched, gcCPU := readRuntime()
	h.GCPauseP99, h.GCPauseMax = histDelta(m.gc, gc, 0.99)
	h.SchedLatencyP99, _ = histDelta(m.sched, sched, 0.99)
	if cpu > 0 {
		h.GCShare = (gcCPU - m.gcCPU) / cpu.Seconds()
	}
	return h
}

// histDelta returns the q-quantile and maximum (bucket upper bounds) of the
// values added to a cumulative runtime histogram between a and b.
func histDelta(a, b *metrics.Float64Histogram, q float64) (quant, maxv time.Duration) {
	if a == nil || b == nil || len(a.Counts) != len(b.Counts) {
		return 0, 0
	}
	var n uint64
	for i := range b.Counts {
		n += b.Counts[i] - a.Counts[i]
	}
	if n == 0 {
		return 0, 0
	}
	upper := func(i int) time.Duration {
		v := b.Buckets[i+1]
		if math.IsInf(v, 1) {
			v = b.Buckets[i]
		}
		return time.Duration(v * 1e9)
	}
	want := uint64(math.Ceil(q * float64(n)))
	var seen uint64
	quantSet := false
	for i := range b.Counts {
		d := b.Counts[i] - a.Counts[i]
		if d == 0 {
			continue
		}
		seen += d
		if !quantSet && seen >= want {
			quant, quantSet = upper(i), true
		}
		maxv = upper(i)
	}
	return quant, maxv
}

// Warnings says in words where the client may have been the bottleneck.
func (h clientHealth) Warnings() []string {
	var w []string
	if h.CPUShare > maxCPUShare {
		w = append(w, fmt.Sprintf("the client used %.0f%% of its %d CPUs: it may be the bottleneck (give it more CPUs or lower the load)", 100*h.CPUShare, h.CPUs))
	}
	if h.GCPauseP99 > maxGCPauseP99 {
		w = append(w, fmt.Sprintf("garbage-collection pauses reached %s (p99 %s): request timestamps may be late by as much", h.GCPauseMax, h.GCPauseP99))
	}
	if h.GCShare > maxGCShare && h.CPUShare > 0.5 {
		w = append(w, fmt.Sprintf("the garbage collector took %.1f%% of the client's CPU time", 100*h.GCShare))
	}
	if h.SchedLatencyP99 > maxSchedLatency {
		w = append(w, fmt.Sprintf("goroutines waited up to %s (p99) for a CPU: the client is CPU-starved and its timestamps may lag", h.SchedLatencyP99))
	}
	if h.ClientLagP99 > maxClientLagP99 {
		w = append(w, fmt.Sprintf("requests left the client up to %s (p99) after their release: the client is falling behind its schedule", h.ClientLagP99))
	}
	if h.RecordBacklog > maxRecordBacklog {
		w = append(w, fmt.Sprintf("up to %d finished records waited for the metrics side: record processing is slower than the request rate", h.RecordBacklog))
	}
	return w
}
