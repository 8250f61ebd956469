// Package config holds the two configurations of a run, kept apart as
// AIPerf keeps its UserConfig and ServiceConfig apart:
//
//   - Benchmark: what to measure (endpoint, dataset, load, stop conditions,
//     SLOs, outputs). A scenario's run(...) call and `loadstar profile` flags
//     both produce one; it is the plan the engine executes.
//   - Runtime: how this process behaves (logging, limits, terminal, plugin
//     and library search paths). It never changes what is measured.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/redact"
)

// Benchmark is one benchmark step: the validated plan of a run.
type Benchmark struct {
	// Name labels the step (a sweep cell, a search probe); "" for a plain run.
	Name string

	// Components, each a plugin choice with its arguments.
	Endpoint     *plugin.Spec // category endpoint; args include url, model, streaming, api_key, ...
	Transport    *plugin.Spec // category transport; nil = http with defaults
	Dataset      *plugin.Spec // category dataset_composer; nil = synthetic with defaults
	Sampler      *plugin.Spec // category dataset_sampler; nil = the composer's default
	Timing       *plugin.Spec // category timing_strategy; nil = concurrency 1
	URLSelection *plugin.Spec // category url_selection_strategy; nil = round_robin
	Tokenizer    Tokenizer

	Stop   Stop
	Grace  time.Duration // in-flight wait after a duration stop; default 30 s
	Warmup *Warmup       // nil = no warmup
	Cancel Cancellation
	// Prefill caps the requests waiting for their first token.
	Prefill Prefill
	// Phases, when given, replace the single profiling phase (and Stop,
	// Warmup): they run one after the other, each with its own load and
	// stop conditions; every profiling phase gets its own results block
	// (results.Summary.Phases) besides the run's, which covers them all.
	Phases []Phase

	// SLOs drive goodput: a request is good when it meets every one.
	SLOs []SLO
	// Thresholds are pass/fail assertions on the results (exit code 5).
	Thresholds []Threshold
	Validity   Validity
	// Abort stops the run early when the server fails (exit code 13).
	Abort Abort
	// WaitForModel waits, before the run, until the server answers.
	WaitForModel WaitForModel

	// Seed makes the schedule and the dataset reproducible. When SeedSet is
	// false a seed is drawn at start and reported in the results.
	Seed    uint64
	SeedSet bool

	// ServerTokenCount takes token counts from the server's usage instead of
	// the client tokenizer.
	ServerTokenCount bool

	Output Output
	// ServerMetrics configures scraping the server's own metrics.
	ServerMetrics ServerMetrics
	// UI names a `ui` plugin; "" or "auto" picks by terminal detection.
	UI string

	// CLICommand is the command line or scenario call that produced this plan
	// (secrets redacted), exported as run_info.cli_command.
	CLICommand string
}

// Tokenizer selects how text is counted in tokens.
type Tokenizer struct {
	// Kind is "tiktoken" (built-in encoding Name), "file" (a Hugging Face
	// tokenizer.json at Path) or "" (auto: built-in o200k_base).
	Kind string
	Name string
	Path string
}

// String renders the tokenizer as its Starlark constructor.
func (t Tokenizer) String() string {
	switch t.Kind {
	case "file":
		return fmt.Sprintf("tokenizer.file(%q)", t.Path)
	case "tiktoken":
		return fmt.Sprintf("tokenizer.tiktoken(%q)", t.Name)
	}
	return `tokenizer.tiktoken("o200k_base")`
}

// Stop conditions: the profiling phase stops issuing at the first one met.
// At least one must be set.
type Stop struct {
	Requests int           // requests sent (0 = unset)
	Sessions int           // conversations started (0 = unset)
	Duration time.Duration // wall time of the phase (0 = unset)
}

// describe renders the stop conditions for input_config.
func (s Stop) describe() *ordered.Map {
	stop := ordered.New(3)
	if s.Requests > 0 {
		stop.Set("requests", s.Requests)
	}
	if s.Sessions > 0 {
		stop.Set("sessions", s.Sessions)
	}
	if s.Duration > 0 {
		stop.Set("duration_sec", s.Duration.Seconds())
	}
	return stop
}

// IsSet reports whether any stop condition is given.
func (s Stop) IsSet() bool { return s.Requests > 0 || s.Sessions > 0 || s.Duration > 0 }

// Prefill caps the requests waiting for their first token (AIPerf
// --prefill-concurrency): whatever the strategy, a released request first
// takes one of Concurrency prefill slots and gives it back when the first
// token of its answer arrives (timing.Credit.FirstToken), or when it ends
// without one. A request that finds every slot taken waits; it keeps its scheduled
// time, so the wait shows in its issue delay (held back: CreditNs is when it
// got the slot). With Ramp the cap rises linearly from 1 to Concurrency over
// that time, as AIPerf's --prefill-concurrency-ramp-duration.
//
// Detecting the first token needs a streamed answer; for a non-streamed one
// the slot is held until the answer is complete.
//
//	cfg.Prefill = config.Prefill{Concurrency: 4, Ramp: 30 * time.Second}
type Prefill struct {
	Concurrency int // 0 = no cap
	Ramp        time.Duration
}

// String renders the cap for run descriptions, e.g. "prefill concurrency
// 4, ramped from 1 over 30s"; "" without a cap.
func (pf Prefill) String() string {
	if pf.Concurrency <= 0 {
		return ""
	}
	s := fmt.Sprintf("prefill concurrency %d", pf.Concurrency)
	if pf.Ramp > 0 {
		s += ", ramped from 1 over " + pf.Ramp.String()
	}
	return s
}

// Describe renders the cap for input_config.
func (pf Prefill) Describe() *ordered.Map {
	m := ordered.FromPairs("concurrency", pf.Concurrency)
	if pf.Ramp > 0 {
		m.Set("ramp_duration_sec", pf.Ramp.Seconds())
	}
	return m
}

// Validate checks the cap's values.
func (pf Prefill) Validate() error {
	if pf.Concurrency < 0 {
		return fmt.Errorf("prefill concurrency must be >= 0, got %d", pf.Concurrency)
	}
	if pf.Ramp < 0 {
		return fmt.Errorf("prefill ramp must be >= 0, got %s", pf.Ramp)
	}
	if pf.Ramp > 0 && pf.Concurrency == 0 {
		return errors.New("a prefill ramp needs a prefill concurrency")
	}
	return nil
}

// Phase is one stage of a multi-phase run (Benchmark.Phases): a warmup,
// whose records are excluded from the results, or a profiling phase with
// its own results block.
//
//	cfg.Phases = []config.Phase{
//		{Name: "warmup", Warmup: true, Stop: config.Stop{Requests: 20}},
//		{Name: "steady", Timing: rate(5), Stop: config.Stop{Duration: time.Minute}},
//		{Name: "burst", Timing: rate(50), Stop: config.Stop{Duration: 10 * time.Second}},
//	}
type Phase struct {
	Name   string
	Warmup bool
	// Timing is the phase's load; nil = the run's timing.
	Timing *plugin.Spec
	Stop   Stop
	// Grace is how long requests in flight may finish after a duration
	// stop; 0 = the run's grace (a warmup waits for its requests).
	Grace time.Duration
}

// validatePhases checks the phases of a multi-phase run.
func (b *Benchmark) validatePhases(bad func(field, format string, args ...any)) {
	if len(b.Phases) == 0 {
		return
	}
	if b.Stop.IsSet() || b.Warmup != nil {
		bad("phases", "replace requests, sessions, duration and warmup: give the stop conditions and warmups as phases")
	}
	seen := map[string]bool{}
	profiling := 0
	for i, ph := range b.Phases {
		field := fmt.Sprintf("phases[%d]", i)
		switch {
		case strings.TrimSpace(ph.Name) == "":
			bad(field, "needs a name")
		case seen[ph.Name]:
			bad(field, "name %q is used twice", ph.Name)
		}
		seen[ph.Name] = true
		if !ph.Stop.IsSet() {
			bad(field, "needs requests, sessions or duration")
		}
		if ph.Stop.Requests > 0 && ph.Stop.Sessions > 0 {
			bad(field, "give requests or sessions, not both")
		}
		if ph.Grace < 0 {
			bad(field+".grace", "must be >= 0, got %s", ph.Grace)
		}
		if !ph.Warmup {
			profiling++
		}
	}
	if profiling == 0 {
		bad("phases", "need at least one profiling phase (warmup = False)")
	}
}

// Warmup is a phase run before profiling whose records are excluded.
type Warmup struct {
	Stop   Stop
	Timing *plugin.Spec // nil = the profiling timing
	Grace  time.Duration
	// Prefill is the warmup's prefill cap; a zero field takes the run's
	// (AIPerf: --warmup-prefill-concurrency falls back to the profiling one).
	Prefill Prefill
}

// WarmupPrefill is the prefill cap of the warmup phase: its own values,
// else the run's.
func (b *Benchmark) WarmupPrefill() Prefill {
	pf := b.Prefill
	if b.Warmup == nil {
		return pf
	}
	if w := b.Warmup.Prefill; w.Concurrency > 0 {
		pf.Concurrency = w.Concurrency
	}
	if w := b.Warmup.Prefill; w.Ramp > 0 {
		pf.Ramp = w.Ramp
	}
	return pf
}

// Cancellation cancels a share of requests after a delay (code 499).
type Cancellation struct {
	Percent float64       // (0, 100]; 0 = off
	Delay   time.Duration // after the body is fully sent
}

// SLO is one goodput objective on a record metric, in the metric's base unit
// (ns for latencies). Op is "<=" or ">=" (derived from the metric's
// larger-is-better flag when parsed from AIPerf syntax).
type SLO struct {
	Metric    string
	Op        string
	Threshold float64
	// Source is the text the user wrote, for messages.
	Source string
}

// Threshold is a pass/fail assertion on an aggregated result, e.g.
// metric "time_to_first_token", expression "p99 < 500ms".
type Threshold struct {
	Metric      string
	Expr        string
	AbortOnFail bool
	// Where locates the definition (file:line) for messages.
	Where string
}

// Abort stops a run early, as Ctrl-C does (sending stops, requests in
// flight get the grace period, everything measured is written), when its
// requests fail (docs/reliability.md).
type Abort struct {
	// FailedRequestThreshold, when set (0–1), aborts the profiling phase
	// once more than this share of its finished requests failed, checked
	// from the max(concurrency, 10)th one on (AIPerf's
	// --failed-request-threshold). nil = never.
	FailedRequestThreshold *float64
	// Unreachable aborts the run when the first max(concurrency, 10)
	// finished requests all failed to connect (connection refused, no
	// such host, TLS handshake failure, no file descriptor left) and none
	// succeeded: the server is not there.
	Unreachable bool
}

// WaitForModel waits until the server answers before the run starts
// (AIPerf's --wait-for-model-*). Timeout 0 = do not wait.
type WaitForModel struct {
	Timeout time.Duration
	// Mode is "inference" (a one-token request through the endpoint, the
	// default), "models" (GET /v1/models lists the model) or "both".
	Mode string
	// Interval is the pause between attempts (default 5 s).
	Interval time.Duration
}

// Wait-for-model modes.
const (
	WaitInference = "inference"
	WaitModels    = "models"
	WaitBoth      = "both"
)

// Validity configures the LoadGen-style verdict (docs/metrics.md, "The
// run's verdict"). Only an open-loop run (a schedule of arrivals) can miss
// its schedule: a closed loop reports its issue delay but is never INVALID
// for it.
type Validity struct {
	// MaxRateShortfallPct marks an open-loop run INVALID when the achieved
	// request rate falls short of the drawn schedule's by more than this
	// percentage (default 1) — beyond what the accepted lateness explains.
	MaxRateShortfallPct float64
	// MaxIssueDelayP99, when set, is the open-loop p99 issue delay allowed,
	// replacing the limit derived from the schedule and the latencies.
	MaxIssueDelayP99 time.Duration
	// IssueDelayGapFraction and IssueDelayLatencyFraction derive the
	// open-loop issue-delay limit when MaxIssueDelayP99 is unset: the p99
	// issue delay may reach the larger of this fraction of the mean
	// inter-arrival gap (the schedule keeps its shape) and this fraction of
	// the median request latency (latency from the schedule barely moves),
	// and never less than MinIssueDelayP99 (an OS timer's accuracy under
	// load). Defaults 0.25, 0.05 and 1 ms.
	IssueDelayGapFraction     float64
	IssueDelayLatencyFraction float64
	MinIssueDelayP99          time.Duration
	// FailOnInvalid makes an INVALID run exit with errext.InvalidRun.
	FailOnInvalid bool
}

// DefaultValidity returns the default thresholds of the verdict.
func DefaultValidity() Validity {
	return Validity{MaxRateShortfallPct: 1, IssueDelayGapFraction: 0.25, IssueDelayLatencyFraction: 0.05,
		MinIssueDelayP99: time.Millisecond}
}

// Starlark renders v as the run() argument that sets it, e.g.
// {"max_rate_shortfall_pct": 1, "issue_delay_gap_fraction": 0.25, ...}.
func (v Validity) Starlark() string {
	num := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	parts := []string{
		fmt.Sprintf("%q: %s", "max_rate_shortfall_pct", num(v.MaxRateShortfallPct)),
	}
	if v.MaxIssueDelayP99 > 0 {
		parts = append(parts, fmt.Sprintf("%q: %q", "max_issue_delay_p99", v.MaxIssueDelayP99.String()))
	}
	parts = append(parts,
		fmt.Sprintf("%q: %s", "issue_delay_gap_fraction", num(v.IssueDelayGapFraction)),
		fmt.Sprintf("%q: %s", "issue_delay_latency_fraction", num(v.IssueDelayLatencyFraction)),
		fmt.Sprintf("%q: %q", "min_issue_delay_p99", v.MinIssueDelayP99.String()))
	if v.FailOnInvalid {
		parts = append(parts, fmt.Sprintf("%q: True", "fail_on_invalid"))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// Output configures artifacts.
type Output struct {
	// ArtifactDir, when set, is used as-is. Otherwise artifacts go to
	// Root/<model>-<service_kind>-<endpoint>-<stimulus>/ as AIPerf names them.
	ArtifactDir string
	Root        string // default "artifacts"
	// Prefix renames every profile_export* file (AIPerf --profile-export-prefix).
	Prefix string
	// ExportLevel is "summary", "records" (default) or "raw".
	ExportLevel string
	// SliceDuration enables time-sliced results when > 0.
	SliceDuration time.Duration
	// Exporters lists the data_exporter plugins to run; nil = all defaults.
	Exporters []string
	// Console lists the console_exporter plugins to run; nil = all defaults.
	Console []string
	// Overwrite replaces the files of an existing artifact directory;
	// otherwise a run whose directory holds files writes beside it (dir-2,
	// dir-3, ...) and says so.
	Overwrite bool
	// Plots draws the run's charts and HTML report into <dir>/plots once
	// its artifacts are written (run(plots = True), profile --auto-plot).
	Plots bool
}

// Defaults returns a Benchmark with every default applied and nothing chosen.
func Defaults() Benchmark {
	return Benchmark{
		Grace:        30 * time.Second,
		Validity:     DefaultValidity(),
		Abort:        Abort{Unreachable: true},
		WaitForModel: WaitForModel{Mode: WaitInference, Interval: 5 * time.Second},
		Output:       Output{Root: "artifacts", ExportLevel: "records"},
		UI:           "auto",
	}
}

// Validate checks the plan's own fields. Plugin arguments are checked by the
// registry when components are built. Errors name the field.
func (b *Benchmark) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if b.Endpoint == nil {
		bad("endpoint", "required: e.g. endpoint.chat(url=..., model=...)")
	}
	if b.Stop.Requests < 0 {
		bad("requests", "must be >= 0, got %d", b.Stop.Requests)
	}
	if b.Stop.Sessions < 0 {
		bad("sessions", "must be >= 0, got %d", b.Stop.Sessions)
	}
	if b.Stop.Requests > 0 && b.Stop.Sessions > 0 {
		bad("sessions", "give requests or sessions, not both")
	}
	if b.Stop.Duration < 0 {
		bad("duration", "must be >= 0, got %s", b.Stop.Duration)
	}
	if p := b.Output.Prefix; p != "" && !isFileName(p) {
		bad("export_prefix", "%q is not a file name: the export files are written inside the artifact directory, so the prefix may not hold / or \\ nor be . or .. (choose the directory with artifact_dir)", p)
	}
	errs = append(errs, b.ServerMetrics.validate()...)
	if b.Grace < 0 {
		bad("grace", "must be >= 0, got %s", b.Grace)
	}
	if b.Cancel.Percent < 0 || b.Cancel.Percent > 100 {
		bad("cancel.percent", "must be in (0, 100], got %v", b.Cancel.Percent)
	}
	if b.Cancel.Delay < 0 {
		bad("cancel.delay", "must be >= 0, got %s", b.Cancel.Delay)
	}
	if b.Cancel.Delay > 0 && b.Cancel.Percent == 0 {
		bad("cancel.delay", "needs cancel.percent")
	}
	if w := b.Warmup; w != nil && !w.Stop.IsSet() {
		bad("warmup", "needs requests, sessions or duration")
	}
	b.validatePhases(bad)
	if err := b.Prefill.Validate(); err != nil {
		bad("prefill_concurrency", "%v", err)
	}
	if b.Warmup != nil {
		if err := b.WarmupPrefill().Validate(); err != nil {
			bad("warmup.prefill_concurrency", "%v", err)
		}
	}
	for _, s := range b.SLOs {
		if s.Op != "<=" && s.Op != ">=" {
			bad("slos", "%s: operator must be <= or >=, got %q", s.Metric, s.Op)
		}
	}
	switch b.Output.ExportLevel {
	case "", "summary", "records", "raw":
	default:
		bad("export_level", "must be summary, records or raw, got %q", b.Output.ExportLevel)
	}
	if f := b.Abort.FailedRequestThreshold; f != nil && !(*f >= 0 && *f <= 1) {
		bad("failed_request_threshold", "must be a ratio from 0 to 1, got %v", *f)
	}
	if w := b.WaitForModel; w.Timeout < 0 {
		bad("wait_for_model.timeout", "must be >= 0, got %s", w.Timeout)
	} else if w.Timeout > 0 {
		switch w.Mode {
		case WaitInference, WaitModels, WaitBoth:
		default:
			bad("wait_for_model.mode", "must be inference, models or both, got %q", w.Mode)
		}
		if w.Interval <= 0 {
			bad("wait_for_model.interval", "must be > 0, got %s", w.Interval)
		}
	}
	if v := b.Validity; v.MaxRateShortfallPct < 0 {
		bad("validity.max_rate_shortfall_pct", "must be >= 0")
	} else if v.MaxIssueDelayP99 < 0 || v.MinIssueDelayP99 < 0 {
		bad("validity.max_issue_delay_p99", "must be >= 0")
	} else if v.IssueDelayGapFraction < 0 || v.IssueDelayLatencyFraction < 0 {
		bad("validity.issue_delay_gap_fraction", "fractions must be >= 0")
	}
	return errors.Join(errs...)
}

// isFileName reports whether s names a file in a directory, not a path
// that could lead out of it.
func isFileName(s string) bool {
	return s != "." && s != ".." && !strings.ContainsAny(s, "/\\\x00") && filepath.Base(s) == s
}

// Describe returns the resolved configuration as an ordered JSON-able map,
// secrets redacted: the `input_config` block of the artifacts.
func (b *Benchmark) Describe() *ordered.Map {
	m := ordered.New(16)
	spec := func(key string, s *plugin.Spec) {
		if s == nil {
			return
		}
		sm := ordered.FromPairs("type", s.Name)
		for _, k := range sortedKeys(s.Args) {
			sm.Set(k, describeValue(k, s.Args[k]))
		}
		m.Set(key, sm)
	}
	if b.Name != "" {
		m.Set("name", b.Name)
	}
	spec("endpoint", b.Endpoint)
	spec("transport", b.Transport)
	spec("dataset", b.Dataset)
	spec("sampler", b.Sampler)
	spec("timing", b.Timing)
	spec("url_selection", b.URLSelection)
	m.Set("tokenizer", b.Tokenizer.String())
	m.Set("stop", b.Stop.describe())
	m.Set("grace_period_sec", b.Grace.Seconds())
	if w := b.Warmup; w != nil {
		wm := ordered.New(4)
		if w.Stop.Requests > 0 {
			wm.Set("requests", w.Stop.Requests)
		}
		if w.Stop.Sessions > 0 {
			wm.Set("sessions", w.Stop.Sessions)
		}
		if w.Stop.Duration > 0 {
			wm.Set("duration_sec", w.Stop.Duration.Seconds())
		}
		if w.Timing != nil {
			wm.Set("timing", w.Timing.String())
		}
		if w.Prefill != (Prefill{}) {
			wm.Set("prefill", b.WarmupPrefill().Describe())
		}
		m.Set("warmup", wm)
	}
	if f := b.Abort.FailedRequestThreshold; f != nil {
		m.Set("failed_request_threshold", *f)
	}
	if w := b.WaitForModel; w.Timeout > 0 {
		m.Set("wait_for_model", ordered.FromPairs("timeout_sec", w.Timeout.Seconds(), "mode", w.Mode, "interval_sec", w.Interval.Seconds()))
	}
	if b.Prefill.Concurrency > 0 {
		m.Set("prefill", b.Prefill.Describe())
	}
	if len(b.Phases) > 0 {
		phases := make([]any, len(b.Phases))
		for i, ph := range b.Phases {
			pm := ordered.FromPairs("name", ph.Name, "warmup", ph.Warmup)
			if ph.Timing != nil {
				pm.Set("timing", ph.Timing.String())
			}
			pm.Set("stop", ph.Stop.describe())
			if ph.Grace > 0 {
				pm.Set("grace_period_sec", ph.Grace.Seconds())
			}
			phases[i] = pm
		}
		m.Set("phases", phases)
	}
	if b.Cancel.Percent > 0 {
		m.Set("cancellation", ordered.FromPairs("percent", b.Cancel.Percent, "delay_sec", b.Cancel.Delay.Seconds()))
	}
	if len(b.SLOs) > 0 {
		slos := ordered.New(len(b.SLOs))
		for _, s := range b.SLOs {
			slos.Set(s.Metric, s.Op+" "+fmt.Sprint(s.Threshold))
		}
		m.Set("slos", slos)
	}
	if b.SeedSet {
		m.Set("random_seed", b.Seed)
	}
	m.Set("server_token_count", b.ServerTokenCount)
	if sm := b.ServerMetrics.describe(); sm != nil {
		m.Set("server_metrics", sm)
	}
	return m
}

func describeValue(name string, v any) any {
	return describeIn(name, v, false)
}

// describeIn is describeValue inside a headers argument (inHeaders: keys are
// header names, strings "Name: value" lines) or not; secrets are hidden by
// package redact's rules.
func describeIn(name string, v any, inHeaders bool) any {
	if redact.IsSecretName(name) {
		return redact.Redacted
	}
	inHeaders = inHeaders || strings.Contains(strings.ToLower(name), "header")
	params := name == "url_params"
	switch x := v.(type) {
	case string:
		// A header line may come in any list ("api-key: sk-…"), and a
		// URL in any argument.
		return redact.HeaderLine(redact.URL(x))
	case plugin.Secret:
		return redact.Redacted
	case time.Duration:
		return x.String()
	case *plugin.Spec:
		return x.String()
	case *ordered.Map:
		c := ordered.New(x.Len())
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			switch s, isStr := e.(string); {
			case inHeaders && isStr:
				c.Set(k, redact.Header(k, s))
			case inHeaders && redact.IsSecretHeader(k), params && redact.IsSecretParam(k):
				c.Set(k, redact.Redacted)
			default:
				c.Set(k, describeIn(k, e, inHeaders))
			}
		}
		return c
	case plugin.Func:
		return "<function>"
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = describeIn("", e, inHeaders)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = describeIn("", e, inHeaders)
		}
		return out
	case fmt.Stringer:
		return x.String()
	}
	return v
}

// Runtime is how this process runs (AIPerf's ServiceConfig).
type Runtime struct {
	LogLevel  slog.Level
	LogFormat string // "text" or "json"
	// MaxSteps bounds Starlark execution steps of the top-level script (0 = interp.DefaultMaxSteps).
	MaxSteps uint64
	// DryRun makes run() record steps instead of sending (loadstar inspect).
	DryRun bool
	// Overwrite lets every run of the process replace an existing artifact
	// directory's files (--overwrite), as Output.Overwrite does for one.
	Overwrite bool
	// Interactive is true when stdout is a terminal (UI and colour choice).
	Interactive bool
	NoColor     bool
	// Vars are the script variables from --var.
	Vars map[string]string
	// Libs maps library root names (@name//) to directories.
	Libs map[string]string
	// PluginDirs are extra plugin package folders (--plugins, LOADSTAR_PLUGINS).
	PluginDirs []string
	// ExactStatsLimit is the number of values per metric kept for exact
	// percentiles before switching to HDR histograms (0 = interp.DefaultMaxSteps).
	ExactStatsLimit int
	// Shard is this process's part of every step (loadstar run --shard);
	// zero: the whole benchmark.
	Shard Shard
}

func sortedKeys(a plugin.Args) []string {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
