package runner

import (
	"bytes"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"time"

	"github.com/loadstar/loadstar/engine/results"
)

// monitor measures the client's own health over a phase: CPU use, GC pauses
// and goroutine scheduling latency (runtime/metrics), and the machine's
// steal time.
type monitor struct {
	wall    time.Time
	cpu     time.Duration
	gc      *metrics.Float64Histogram
	sched   *metrics.Float64Histogram
	rcpu    runtimeCPU
	ticks   cpuTicks
	ticksOK bool // /proc/stat was read at the start
}

// runtimeCPU is the runtime's estimate of CPU seconds spent (cumulative).
type runtimeCPU struct{ gc, total, idle float64 }

// monitorSamples: GC pauses, scheduling latency, and the runtime's CPU
// accounting (GC, total, idle), whose shares are taken within the runtime's
// own estimate so a share can never exceed the whole.
var monitorSamples = []string{"/gc/pauses:seconds", "/sched/latencies:seconds", "/cpu/classes/gc/total:cpu-seconds",
	"/cpu/classes/total:cpu-seconds", "/cpu/classes/idle:cpu-seconds"}

func startMonitor() *monitor {
	m := &monitor{wall: time.Now(), cpu: processCPU()}
	m.gc, m.sched, m.rcpu = readRuntime()
	m.ticks, m.ticksOK = readCPUTicks()
	return m
}

func readRuntime() (gc, sched *metrics.Float64Histogram, c runtimeCPU) {
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
	for i, dst := range []*float64{&c.gc, &c.total, &c.idle} {
		if v := s[2+i].Value; v.Kind() == metrics.KindFloat64 {
			*dst = v.Float64()
		}
	}
	return gc, sched, c
}

// stop returns what the client measured about itself since the monitor
// started; the metrics side judges which of it matters (warnings).
func (m *monitor) stop() results.ClientHealth {
	wall := time.Since(m.wall)
	h := results.ClientHealth{CPUs: runtime.GOMAXPROCS(0)}
	cpu := processCPU() - m.cpu
	if wall > 0 {
		h.CPUShare = float64(cpu) / (float64(wall) * float64(h.CPUs))
	}
	gc, sched, rc := readRuntime()
	h.GCPauseP99, h.GCPauseMax = histDelta(m.gc, gc, 0.99)
	h.SchedLatencyP99, _ = histDelta(m.sched, sched, 0.99)
	h.GCShare = gcShare(m.rcpu, rc)
	if t, ok := readCPUTicks(); ok && m.ticksOK {
		h.StealShare = stealShare(m.ticks, t)
	}
	return h
}

// cpuTicks is the machine's CPU time in clock ticks (/proc/stat's first
// line): all of it, and what the hypervisor stole for other virtual
// machines while this one had work to run.
type cpuTicks struct{ total, steal uint64 }

// readCPUTicks reads /proc/stat; ok is false where there is none (systems
// other than Linux, a sandbox without /proc).
func readCPUTicks() (cpuTicks, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTicks{}, false
	}
	return parseCPUTicks(b)
}

// parseCPUTicks reads the "cpu" line: user nice system idle iowait irq
// softirq steal, then guest times that user already holds (proc(5)).
func parseCPUTicks(b []byte) (cpuTicks, bool) {
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	f := bytes.Fields(line)
	if len(f) < 9 || string(f[0]) != "cpu" {
		return cpuTicks{}, false
	}
	var t cpuTicks
	for i, s := range f[1:9] {
		v, err := strconv.ParseUint(string(s), 10, 64)
		if err != nil {
			return cpuTicks{}, false
		}
		t.total += v
		if i == 7 {
			t.steal = v
		}
	}
	return t, true
}

// stealShare is the share of the machine's CPU time stolen between two
// readings (0..1).
func stealShare(a, b cpuTicks) float64 {
	if b.total <= a.total || b.steal <= a.steal {
		return 0
	}
	return min(float64(b.steal-a.steal)/float64(b.total-a.total), 1)
}

// gcShare is the garbage collector's share of the CPU time the runtime
// spent working between two readings: GC / (total − idle), both from the
// runtime's own estimate, so the share is within [0, 1].
func gcShare(a, b runtimeCPU) float64 {
	gc, used := b.gc-a.gc, (b.total-a.total)-(b.idle-a.idle)
	if used <= 0 || gc <= 0 {
		return 0
	}
	return min(gc/used, 1)
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
