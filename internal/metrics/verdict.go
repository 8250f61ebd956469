package metrics

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/results"
)

// verdict computes the LoadGen-style validity of the run (docs/metrics.md,
// "The run's verdict"). Only an open-loop run — arrivals drawn from a
// schedule (request_rate, fixed_schedule, user_centric_rate) — can fall
// behind its schedule; a closed loop (concurrency, where the next send
// waits for a finished request) reports its issue delay and is never
// INVALID for it. An open-loop run is INVALID when
//
//   - its p99 issue delay exceeds the lateness limit: the larger of a
//     fraction of the mean inter-arrival gap (the arrivals keep their
//     shape) and a fraction of the median request latency (latency from
//     the schedule barely moves), at least a floor (an OS timer's accuracy
//     under load); or Validity.MaxIssueDelayP99 when set;
//   - its achieved issue rate falls short of the drawn schedule's by more
//     than Validity.MaxRateShortfallPct and more than the accepted lateness
//     explains (the limit over the schedule's span plus the limit).
//
// Any run is INVALID when scheduled requests were dropped, when it was
// cancelled, or when no request succeeded.
func (m *MetricResults) verdict(s *results.Summary, stats *[NumRecordMetrics]*results.Stats) results.Verdict {
	lim := validity(s.Config)
	info := s.Info
	v := results.Verdict{OpenLoop: info.OpenLoop, Arrival: arrivalName(info.Arrival), IssueDelay: stats[IssueDelay],
		ScheduledRate: info.ScheduledRate, Dropped: info.Dropped, Issued: info.Issued}
	if v.Issued == 0 {
		v.Issued = int(m.sent)
	}
	v.Scheduled = v.Issued + v.Dropped
	if m.sent >= 2 && m.lastStart > m.firstStart {
		v.AchievedRate = float64(m.sent-1) / (float64(m.lastStart-m.firstStart) / 1e9)
	}
	if m.scheduled >= 2 && m.lastSched > m.firstSched {
		v.ScheduleRate = float64(m.scheduled-1) / (float64(m.lastSched-m.firstSched) / 1e9)
		v.Limits.MeanGapMs = 1e3 / v.ScheduleRate
	}
	if v.ScheduleRate > 0 && v.AchievedRate > 0 {
		v.ShortfallPct = 100 * (1 - v.AchievedRate/v.ScheduleRate)
	}
	if st := stats[RequestLatency]; st != nil {
		v.Limits.LatencyP50Ms = st.P50
	}
	v.Limits.MaxRateShortfallPct = lim.MaxRateShortfallPct
	v.Limits.MaxIssueDelayP99Ms = lateLimitMs(lim, v.Limits)
	v.LateThresholdMs = v.Limits.MaxIssueDelayP99Ms
	v.Late = m.countLate(v.LateThresholdMs)
	var reasons []string
	if v.OpenLoop {
		reasons = openLoopReasons(&v, m.firstSched, m.lastSched)
	}
	if info.Dropped > 0 {
		reasons = append(reasons, fmt.Sprintf("%s scheduled requests were never sent", results.Count(int64(info.Dropped))))
	}
	if info.WasCancelled {
		_, why := s.Complete()
		reasons = append(reasons, "the run did not finish ("+why+")")
	}
	if m.valid == 0 {
		if m.errors > 0 {
			reasons = append(reasons, fmt.Sprintf("no request succeeded (%s failed)", results.Count(m.errors)))
		} else {
			reasons = append(reasons, "no request completed")
		}
	}
	v.Reasons = reasons
	v.Valid = len(reasons) == 0
	v.Schedule = scheduleSentence(&v, info.Concurrency)
	s.Info.Warnings = healthWarnings(info.Health, stats, m.app.Streaming)
	return v
}

// scheduleSentence says what was asked and what happened, in words a user
// reads once.
func scheduleSentence(v *results.Verdict, concurrency int) string {
	if !v.OpenLoop {
		load := "closed loop"
		if concurrency > 0 {
			load = fmt.Sprintf("closed loop (concurrency %d)", concurrency)
		}
		return fmt.Sprintf("%s: sent %s req/s, each as a request finished; issue delay is reported, not judged",
			load, results.Num(v.AchievedRate))
	}
	drawn := v.Arrival
	if drawn == "" {
		drawn = "schedule"
	}
	var b strings.Builder
	if v.ScheduledRate > 0 {
		fmt.Fprintf(&b, "target %s req/s (%s, %s arrivals drawn", results.Setting(v.ScheduledRate), drawn, results.Count(int64(v.Scheduled)))
	} else {
		fmt.Fprintf(&b, "%s (%s arrivals", drawn, results.Count(int64(v.Scheduled)))
	}
	if v.ScheduleRate > 0 {
		fmt.Fprintf(&b, ": %s req/s", results.Num(v.ScheduleRate))
	}
	fmt.Fprintf(&b, "), sent %s req/s, %s late", results.Num(v.AchievedRate), results.Count(int64(v.Late)))
	if v.Dropped > 0 {
		fmt.Fprintf(&b, ", %s never sent", results.Count(int64(v.Dropped)))
	}
	return b.String()
}

// validity returns the plan's thresholds, with defaults for a plan built
// without them.
func validity(cfg *config.Benchmark) config.Validity {
	if cfg == nil || cfg.Validity == (config.Validity{}) {
		return config.DefaultValidity()
	}
	lim := cfg.Validity
	if lim.IssueDelayGapFraction == 0 && lim.IssueDelayLatencyFraction == 0 && lim.MinIssueDelayP99 == 0 && lim.MaxIssueDelayP99 == 0 {
		d := config.DefaultValidity()
		lim.IssueDelayGapFraction, lim.IssueDelayLatencyFraction, lim.MinIssueDelayP99 = d.IssueDelayGapFraction, d.IssueDelayLatencyFraction, d.MinIssueDelayP99
	}
	return lim
}

// lateLimitMs resolves the open-loop p99 issue-delay limit (ms).
func lateLimitMs(lim config.Validity, l results.VerdictLimits) float64 {
	if lim.MaxIssueDelayP99 > 0 {
		return float64(lim.MaxIssueDelayP99) / 1e6
	}
	return max(lim.IssueDelayGapFraction*l.MeanGapMs, lim.IssueDelayLatencyFraction*l.LatencyP50Ms, float64(lim.MinIssueDelayP99)/1e6)
}

// openLoopReasons judges an open-loop run against its schedule.
func openLoopReasons(v *results.Verdict, firstSched, lastSched int64) []string {
	var reasons []string
	l := v.Limits
	if st := v.IssueDelay; st != nil && st.P99 > l.MaxIssueDelayP99Ms {
		reasons = append(reasons, fmt.Sprintf("p99 issue delay %s ms exceeds the %s ms limit (%s): the client could not keep the schedule",
			results.Num(st.P99), results.Num(l.MaxIssueDelayP99Ms), limitBasis(l)))
	}
	if v.ScheduleRate > 0 && v.AchievedRate > 0 {
		// Lateness within the limit L stretches the issuing window of a
		// schedule spanning S by at most L, so it explains a shortfall of
		// L / (S + L) — never more, however short the schedule.
		allowed := l.MaxRateShortfallPct
		if span := float64(lastSched-firstSched) / 1e6; span > 0 {
			allowed = max(allowed, 100*l.MaxIssueDelayP99Ms/(span+l.MaxIssueDelayP99Ms))
		}
		if v.ShortfallPct > allowed {
			reasons = append(reasons, fmt.Sprintf("sent %s req/s, %s%% below the %s req/s the schedule drew (limit %s%%)",
				results.Num(v.AchievedRate), results.Num(v.ShortfallPct), results.Num(v.ScheduleRate), results.Num(allowed)))
		}
	}
	return reasons
}

// limitBasis says where the lateness limit came from, in words.
func limitBasis(l results.VerdictLimits) string {
	switch {
	case l.MeanGapMs > 0 && l.LatencyP50Ms > 0:
		return fmt.Sprintf("the larger share of the %s ms mean gap between arrivals and of the %s ms median latency",
			results.Num(l.MeanGapMs), results.Num(l.LatencyP50Ms))
	case l.MeanGapMs > 0:
		return fmt.Sprintf("a share of the %s ms mean gap between arrivals", results.Num(l.MeanGapMs))
	}
	return "validity limit"
}

// countLate counts requests sent more than limitMs after their schedule.
func (m *MetricResults) countLate(limitMs float64) int {
	limit := limitMs * 1e6
	if m.approx {
		h := m.hist[IssueDelay]
		if h == nil {
			return 0
		}
		n := 0
		for _, bar := range h.h.Distribution() {
			if float64(bar.From)/h.scale > limit {
				n += int(bar.Count)
			}
		}
		return n
	}
	n := 0
	for i := 0; i < m.rows.n; i++ {
		if d, ok := m.rows.issueDelay.get(i, 0, false); ok && float64(d) > limit {
			n++
		}
	}
	for i := 0; i < m.errs.n; i++ {
		if d, ok := m.errs.issueDelay.get(i, 0, false); ok && float64(d) > limit {
			n++
		}
	}
	return n
}

// arrivalName names a schedule's arrival process for people.
func arrivalName(a string) string {
	name := strings.TrimSuffix(strings.TrimPrefix(a, "arrival."), "()")
	switch {
	case name == "poisson":
		return "Poisson"
	case strings.HasPrefix(name, "gamma("):
		return "gamma, " + strings.NewReplacer("=", " ", ")", "").Replace(strings.TrimPrefix(name, "gamma("))
	}
	return name
}

// Client self-monitoring limits: beyond them the client may have shaped
// the results (AIPerf warns at 85 % worker CPU and 25 ms event-loop lag; a
// Go client can hold itself to far less). A lag warning applies when the
// lag is also at least 1 % of the median latency it would distort.
const (
	maxCPUShare      = 0.85
	maxGCShare       = 0.01
	minTimingLag     = time.Millisecond
	maxLagShare      = 0.01
	maxRecordBacklog = 10_000
	// maxStealShare: a virtual machine whose hypervisor took more than
	// this share of its CPU time paused for milliseconds at a time (a
	// Poisson run with 28 % steal had a p99 issue delay of 7 ms).
	maxStealShare = 0.05
)

// healthWarnings says in words where the client may have been the
// bottleneck, only where that applies to these results.
func healthWarnings(h *results.ClientHealth, stats *[NumRecordMetrics]*results.Stats, streaming bool) []string {
	if h == nil {
		return nil
	}
	// The latency a lag would distort: TTFT when streaming, else latency.
	ref := math.NaN()
	if st := stats[TTFT]; streaming && st != nil {
		ref = st.P50
	} else if st := stats[RequestLatency]; st != nil {
		ref = st.P50
	}
	matters := func(d time.Duration) bool {
		ms := float64(d) / 1e6
		return d > minTimingLag && !(ms < maxLagShare*ref)
	}
	var w []string
	if h.CPUShare > maxCPUShare {
		w = append(w, fmt.Sprintf("the loadstar process used %.0f%% of its %d CPUs (an embedded mock server counts too): the client may be the bottleneck; give it more CPUs or lower the load",
			100*h.CPUShare, h.CPUs))
	}
	if matters(h.GCPauseP99) {
		w = append(w, fmt.Sprintf("garbage-collection pauses reached %s ms (p99 %s ms): request timestamps may be late by as much",
			results.Num(float64(h.GCPauseMax)/1e6), results.Num(float64(h.GCPauseP99)/1e6)))
	}
	if h.GCShare > maxGCShare && h.CPUShare > 0.5 {
		w = append(w, fmt.Sprintf("the garbage collector took %.1f%% of the CPU time the client used", 100*min(h.GCShare, 1)))
	}
	if matters(h.SchedLatencyP99) {
		w = append(w, fmt.Sprintf("goroutines waited up to %s ms (p99) for a CPU: the client is CPU-starved and its timestamps may lag by as much",
			results.Num(float64(h.SchedLatencyP99)/1e6)))
	}
	if h.StealShare > maxStealShare {
		w = append(w, fmt.Sprintf("the hypervisor gave %.1f%% of this machine's CPU time to other virtual machines during the run (steal time): timestamps taken here, the client's and an embedded server's, hold pauses neither caused; measure on dedicated CPUs",
			100*h.StealShare))
	}
	if h.RecordBacklog > maxRecordBacklog {
		w = append(w, fmt.Sprintf("up to %s finished records waited for the metrics side: record processing is slower than the request rate",
			results.Count(int64(h.RecordBacklog))))
	}
	return w
}
