// Package results is the outcome of one benchmark step: every metric's
// statistics, the error summary, the validity verdict and where the
// artifacts went. The metrics layer builds a Summary; exporters, the console,
// scripts (run() results) and sweeps read it.
package results

import (
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
)

// Stats are AIPerf's statistics of one record metric, in display units.
// Percentiles use linear interpolation over all values (numpy's default)
// unless Approx is set, in which case they come from an HDR histogram with
// the stated precision.
type Stats struct {
	Avg, Min, Max, Sum, Std                   float64
	P1, P5, P10, P25, P50, P75, P90, P95, P99 float64
	Count                                     int64
	// Approx is true when the values exceeded the exact-stats memory limit
	// and the percentiles are HDR-derived; Precision is their relative error.
	Approx    bool
	Precision float64
}

// Kind is how a metric is computed.
type Kind uint8

const (
	// RecordMetric: one value per request; exported with full Stats.
	RecordMetric Kind = iota + 1
	// AggregateMetric: folded over records (counts, min/max timestamps).
	AggregateMetric
	// DerivedMetric: computed from other metrics (throughputs, goodput).
	DerivedMetric
)

// Metric is one metric's result.
type Metric struct {
	Tag          string
	Header       string // e.g. "Time to First Token"
	ShortHeader  string // e.g. "TTFT"
	Unit         string // display unit, e.g. "ms"
	Kind         Kind
	Flags        uint64
	DisplayOrder int // 0 = not on the main console table
	Group        string
	// Stats is set for record metrics; Value for aggregate and derived ones.
	Stats *Stats
	Value float64
	// Integer is true when the metric's values are whole numbers in its
	// display unit (token counts, request counts): min, max and sum are then
	// written without decimals, as AIPerf writes Python ints.
	Integer bool
}

// ErrorGroup is one row of the error summary.
type ErrorGroup struct {
	Details record.ErrorDetails
	Count   int
}

// Verdict is the LoadGen-style validity of the run.
type Verdict struct {
	Valid   bool
	Reasons []string // why it is INVALID; empty when valid
	// OpenLoop is true when the load follows a schedule (request rate,
	// trace, user-centric rate): only then can the client fall behind it.
	OpenLoop bool
	// Arrival names the schedule's arrival process ("Poisson", "gamma",
	// "constant", "trace", ...), "" for closed loop.
	Arrival string
	// IssueDelay summarises actual − scheduled send times (ms).
	IssueDelay *Stats
	// ScheduledRate is the plan's request rate (req/s), 0 for closed loop.
	ScheduledRate float64
	// AchievedRate is requests issued per second over the issuing window.
	AchievedRate float64
	// Late counts requests issued later than LateThresholdMs after their
	// schedule; Dropped counts scheduled requests never sent.
	Late, Dropped int
	// LateThresholdMs is the lateness (ms) beyond which a request counts
	// as late: the open-loop issue-delay limit of the run.
	LateThresholdMs float64
	// Issued counts requests sent in the profiling phase; Scheduled the
	// arrivals the schedule drew for them (issued + dropped).
	Issued, Scheduled int
	// ScheduleRate is the rate of the schedule actually planned for the
	// issued requests ((n-1) / (last − first scheduled time)); the
	// shortfall compares AchievedRate with it, so a Poisson schedule's own
	// randomness is not mistaken for the client falling behind.
	ScheduleRate float64
	// ShortfallPct is 100·(1 − AchievedRate/ScheduleRate), 0 when unscheduled.
	ShortfallPct float64
	// Limits are the thresholds the run was judged against.
	Limits VerdictLimits
	// Schedule says in one sentence what was asked and what happened, e.g.
	// "target 10 req/s (Poisson, 300 arrivals drawn: 10.58 req/s), sent
	// 10.58 req/s, 0 late".
	Schedule string
}

// VerdictLimits are the resolved thresholds of a verdict, in the units the
// reasons print.
type VerdictLimits struct {
	// MaxRateShortfallPct: the achieved rate may fall short of the drawn
	// schedule by this much (%).
	MaxRateShortfallPct float64
	// MaxIssueDelayP99Ms: the open-loop p99 issue delay allowed (ms),
	// resolved from the mean inter-arrival gap and the measured latencies.
	MaxIssueDelayP99Ms float64
	// MeanGapMs is the schedule's mean inter-arrival gap (ms); LatencyP50Ms
	// the median request latency the limit was scaled by.
	MeanGapMs, LatencyP50Ms float64
}

// ClientHealth is what the client measured about itself during the
// profiling phase; the verdict turns it into warnings where it matters.
type ClientHealth struct {
	// CPUShare is process CPU time over wall time × CPUs (0..1).
	CPUShare float64
	CPUs     int
	// GCShare is the garbage collector's share of the CPU time the process
	// used (0..1); GCPauseP99 and GCPauseMax are stop-the-world pauses.
	GCShare                float64
	GCPauseP99, GCPauseMax time.Duration
	// SchedLatencyP99 is how long runnable goroutines waited for a CPU.
	SchedLatencyP99 time.Duration
	// RecordBacklog is the most finished records that waited for the
	// metrics side at once.
	RecordBacklog int
	// StealShare is the share of the machine's CPU time the hypervisor
	// gave to other virtual machines while this one had work to run
	// (Linux's steal time, 0..1; 0 on bare metal and where the system does
	// not report it). Every timestamp taken on the machine, the client's
	// and an embedded server's, can hold such pauses.
	StealShare float64
}

// ThresholdResult is the outcome of one threshold.
type ThresholdResult struct {
	Threshold config.Threshold
	Passed    bool
	// Actual is the value of statistic Stat that was compared, in Unit
	// (the metric's display unit); Stat is "" when nothing could be
	// compared (the metric was not computed: Message says why).
	Actual  float64
	Stat    string
	Unit    string
	Message string
}

// RunInfo is what the engine reports about a run besides its records.
type RunInfo struct {
	BenchmarkID  string
	Seed         uint64
	EndpointType string
	Endpoint     plugin.EndpointMetadata
	Streaming    bool
	// Start and End are the wall-clock bounds of the profiling phase.
	Start, End time.Time
	// ScheduledRate is the planned request rate (0 for closed loop).
	ScheduledRate float64
	// Issued counts requests sent in the profiling phase; Dropped counts
	// schedule slots never issued (stop, cancellation, Ctrl-C).
	Issued, Dropped int
	WasCancelled    bool
	// CancelCause says why a cancelled run stopped ("" when it finished):
	// an interrupt, or the threshold that aborted it.
	CancelCause string
	// OpenLoop is true when the profiling load follows a schedule;
	// Arrival names its arrival process (see Verdict).
	OpenLoop bool
	Arrival  string
	// Aborted says why the run was stopped early because the server failed
	// (config.Abort); "" otherwise. WasCancelled is then true too.
	Aborted string
	// Health is the client's self-measurement (nil when not measured).
	Health *ClientHealth
	// Warnings are client self-monitoring notes (CPU, GC, scheduler lag)
	// that apply to the results; the verdict writes them from Health.
	Warnings []string
	// ArtifactDir is where the artifacts are written.
	ArtifactDir string
	// Concurrency is the configured concurrency (0 if none), for naming and
	// energy-per-user style metrics.
	Concurrency int
}

// Timeslice is the result of one time window of a run (--slice-duration).
type Timeslice struct {
	Index int
	// StartNs and EndNs bound the window in wall-clock Unix ns.
	StartNs, EndNs int64
	// Complete is false for a window cut short by the end of the run.
	Complete bool
	Metrics  []Metric // sorted by tag
}

// Summary is the outcome of one benchmark step.
type Summary struct {
	Info    RunInfo
	Config  *config.Benchmark
	Metrics []Metric // sorted by tag
	// WarmupMetrics are the metrics of the warmup phase's requests alone
	// (AIPerf's warmup_metrics); nil without warmup.
	WarmupMetrics []Metric
	Errors        []ErrorGroup
	Verdict       Verdict
	// Warnings are AIPerf's result warnings (token-count discrepancy,
	// output-length mismatch) when their thresholds are crossed.
	Warnings []string
	// TokenSource is "server" or "client:<tokenizer name>".
	TokenSource string
	Thresholds  []ThresholdResult
	// Files maps an artifact kind ("json", "csv", "jsonl", ...) to its path.
	Files map[string]string

	// Timeslices holds per-window results when slicing is on.
	Timeslices []Timeslice
	// Version is the loadstar version that produced the summary.
	Version string
	// ExactStatsLimit is the number of values per metric kept for exact
	// percentiles; metrics with more values have Stats.Approx set.
	ExactStatsLimit int
	// Notes are measurement caveats found while processing records (e.g.
	// records without server usage under server token counts).
	Notes []string
	// Server is what the server's metrics endpoints reported during the
	// step (nil when scraping was off or found nothing).
	Server *ServerMetrics
	// Shard is set when the step ran as one shard of a sharded benchmark.
	Shard *Shard
	// Shards are the shards a merged run joined (loadstar merge), by index.
	Shards []Shard
	// InputConfig is the run's input_config as JSON when Config does not
	// hold the whole plan (a merged run): the artifacts write it as is.
	InputConfig []byte
	// Phases are the results blocks of a multi-phase run's profiling
	// phases (config.Benchmark.Phases), in order; the Summary's own
	// metrics cover them all.
	Phases []PhaseResult
}

// PhaseResult is the results block of one profiling phase of a
// multi-phase run: the run's figures over the phase's requests alone, with
// the phase's own bounds, load and verdict.
type PhaseResult struct {
	Name     string
	Info     RunInfo
	Metrics  []Metric // sorted by tag
	Errors   []ErrorGroup
	Verdict  Verdict
	Warnings []string
	Notes    []string
}

// Summary returns the phase as a Summary of its own (metrics, errors,
// verdict; the run's configuration and token source), for what renders
// or queries one step's results.
func (p *PhaseResult) Summary(run *Summary) *Summary {
	return &Summary{Info: p.Info, Config: run.Config, Metrics: p.Metrics, Errors: p.Errors, Verdict: p.Verdict,
		Warnings: p.Warnings, Notes: p.Notes, TokenSource: run.TokenSource, Version: run.Version, ExactStatsLimit: run.ExactStatsLimit}
}

// Phase returns the results block of the phase named name, or nil.
func (s *Summary) Phase(name string) *PhaseResult {
	for i := range s.Phases {
		if s.Phases[i].Name == name {
			return &s.Phases[i]
		}
	}
	return nil
}

// Metric returns the metric with tag, or nil. A tag "server.<name>" is the
// named server figure <name> (ServerMetrics.Figures).
func (s *Summary) Metric(tag string) *Metric {
	if name, ok := strings.CutPrefix(tag, ServerPrefix); ok {
		if f := s.Server.Figure(name); f != nil {
			return f.Metric()
		}
		return nil
	}
	for i := range s.Metrics {
		if s.Metrics[i].Tag == tag {
			return &s.Metrics[i]
		}
	}
	return nil
}

// Complete reports whether the run finished as planned, and why not:
// AIPerf's is_complete / incomplete_reason.
func (s *Summary) Complete() (bool, string) {
	if !s.Info.WasCancelled {
		return true, ""
	}
	switch c := s.Info.CancelCause; {
	case strings.HasPrefix(c, "interrupted by "): // Ctrl-C, SIGTERM (errext.Interrupt)
		return false, "cancelled: " + c + " before the run finished"
	case c != "" && c != "context canceled":
		return false, "aborted: " + c
	}
	return false, "cancelled: the run was interrupted before it finished"
}

// ThresholdsPassed reports whether every threshold passed.
func (s *Summary) ThresholdsPassed() bool {
	for _, t := range s.Thresholds {
		if !t.Passed {
			return false
		}
	}
	return true
}

// StatNames are the statistics of a record metric, in AIPerf's JSON order.
var StatNames = []string{"avg", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "min", "max", "std", "count", "sum"}

// Get returns the statistic called name (avg, min, max, sum, std, count,
// p1 … p99; "median" is p50) and whether the name is known.
func (s *Stats) Get(name string) (float64, bool) {
	switch name {
	case "avg":
		return s.Avg, true
	case "min":
		return s.Min, true
	case "max":
		return s.Max, true
	case "sum":
		return s.Sum, true
	case "std":
		return s.Std, true
	case "count":
		return float64(s.Count), true
	case "p1":
		return s.P1, true
	case "p5":
		return s.P5, true
	case "p10":
		return s.P10, true
	case "p25":
		return s.P25, true
	case "p50", "median":
		return s.P50, true
	case "p75":
		return s.P75, true
	case "p90":
		return s.P90, true
	case "p95":
		return s.P95, true
	case "p99":
		return s.P99, true
	}
	return 0, false
}

// Shard describes a run that was one part of a sharded benchmark (loadstar
// run --shard i/N): every shard planned the same steps from the same seed
// and sent its own part of the load (docs/distributed.md).
type Shard struct {
	Index, Count int
	// StartAt is the wall-clock instant every shard aimed to start the
	// step's profiling phase at (zero: no common start).
	StartAt time.Time
	// Started is when this shard's profiling phase actually began, wall
	// clock: at StartAt give or take the wake-up, later when the shard
	// arrived after it (its schedule still starts at StartAt, so what was
	// due meanwhile went late, as measured).
	Started time.Time
	// ClockOffset estimates this host's clock minus the reference clock
	// named by ClockReference (the collector's URL), within
	// ±ClockOffsetError (half the round trip of the best probe);
	// ClockReference is "" when no estimate was made.
	ClockOffset, ClockOffsetError time.Duration
	ClockReference                string
	// IssueDelay is the shard's own issue delay (ms) and Requests the
	// requests it sent; Pod names the attempt that produced it (a
	// Kubernetes pod), when known. Set for the shards of a merged run.
	IssueDelay *Stats
	Requests   int
	Pod        string
	// Mergeable is the metrics side's mergeable state of the shard's
	// records (an *internal/metrics.State): the outputs write it as the
	// shard's merge file, which loadstar merge reads.
	Mergeable any
}

// Skew is how late (positive) or early this shard started against the
// common start, on its own clock; 0 without a common start.
func (s *Shard) Skew() time.Duration {
	if s == nil || s.StartAt.IsZero() || s.Started.IsZero() {
		return 0
	}
	return s.Started.Sub(s.StartAt)
}
