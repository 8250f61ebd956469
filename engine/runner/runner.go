// Package runner executes one benchmark step (a config.Benchmark): it builds
// the components from the plugin registry — endpoint, transport, dataset,
// timing strategy, URL selection —, runs the optional warmup phase and the
// profiling phase, hands every finished record to the metrics side without
// blocking the senders, watches the client's own health, and returns the
// step's results.Summary.
//
//	reg, err := catalog.New()             // every class the engine builds
//	sum, err := runner.Run(ctx, reg, cfg, rt)
//
// Failed requests never fail a run: every failure is a record. Run returns an
// error only when the step cannot start (invalid plan, a plugin that cannot
// be built, a dataset that cannot be composed) or its results cannot be
// produced. Cancelling ctx (Ctrl-C) stops sending, cancels the requests in
// flight at once (recorded as cancelled, with ctx's cause), keeps
// everything measured and marks the results as cancelled; planning under
// a cancelled ctx fails with exit code errext.Interrupted.
//
// Plan builds and validates everything without sending (loadstar inspect).
//
// The runner renders and writes nothing. What a step produces goes to what
// the caller attaches: WithRecordSink receives every record with its
// metrics (artifact streams), WithObserver the progress (progress
// displays, live threshold checks), and the caller renders the Summary Run
// returns (summary files, console report). internal/outputs assembles the
// loadstar binary's outputs this way.
package runner

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/timing"
	"github.com/loadstar/loadstar/engine/tokenizer"
	"github.com/loadstar/loadstar/internal/metrics"
	"github.com/loadstar/loadstar/internal/transport"
)

// Option configures Run and Plan.
type Option func(*options)

type options struct {
	clk       clock.Clock
	log       *slog.Logger
	observers []Observer
	sinks     []metrics.RecordSink
	dataset   dataset.Dataset
	shard     *ShardSetup
	// began is when the profiling phase actually began on the run's clock
	// (after waiting for a fixed start; later when the start had passed).
	began int64
	// host replaces the machine's limits (tests).
	host *machine
}

func (o *options) machine() machine {
	if o.host != nil {
		return *o.host
	}
	return thisMachine()
}

// WithClock stamps every time on clk (default a new timing.PreciseClock per
// run: a real clock whose SleepUntil is accurate to microseconds).
func WithClock(clk clock.Clock) Option { return func(o *options) { o.clk = clk } }

// WithLogger logs progress and warnings to l (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithObserver reports progress to obs every ProgressInterval and at every
// phase change (progress displays, live threshold checks). Several
// observers may be given.
func WithObserver(obs Observer) Option {
	return func(o *options) { o.observers = append(o.observers, obs) }
}

// RecordSink receives every finished record with its metrics while the
// step runs, warmup records included (record.Warmup): the per-record
// outputs a caller constructs (internal/outputs writes
// profile_export.jsonl and Parquet from it). WriteRecord is called from one
// goroutine; the row and the record it points to are valid only during the
// call (the runner reuses them). A slow sink slows the metrics side, never
// the senders. A sink may also implement Flush(), called every second.
type RecordSink interface {
	WriteRecord(row *results.RecordRow)
}

// WithRecordSink hands every finished record with its metrics to s (see
// RecordSink). Several sinks may be given.
func WithRecordSink(s RecordSink) Option {
	return func(o *options) { o.sinks = append(o.sinks, s) }
}

// notify reports p to every observer.
func (o *options) notify(p Progress) {
	for _, obs := range o.observers {
		obs.Progress(p)
	}
}

// phaseEdge tells the PhaseObservers that phase ph starts (or ended).
func (o *options) phaseEdge(ph record.Phase, starting bool) {
	for _, obs := range o.observers {
		if po, ok := obs.(PhaseObserver); ok {
			if starting {
				po.PhaseStart(ph)
			} else {
				po.PhaseEnd(ph)
			}
		}
	}
}

// WithDataset uses ds instead of composing cfg.Dataset (a sweep reusing one
// dataset across steps, tests).
func WithDataset(ds dataset.Dataset) Option { return func(o *options) { o.dataset = ds } }

// Step is a built benchmark step: what Plan reports and Run executes.
type Step struct {
	Config  *config.Benchmark
	Runtime *config.Runtime
	// Seed is the step's seed: cfg.Seed, or one drawn when it was unset.
	Seed uint64

	Endpoint  endpoint.Endpoint
	Settings  *endpoint.Settings
	Tokenizer tokenizer.Tokenizer
	Dataset   dataset.Dataset
	Info      dataset.Info

	Strategy       timing.Strategy
	WarmupStrategy timing.Strategy // nil without warmup
	// Profiling and Warmup are the phases' plans (Warmup nil without one).
	Profiling *timing.Plan
	Warmup    *timing.Plan
	// Stop is the profiling phase's stop conditions after defaults.
	Stop config.Stop
	// Phases are the plans of a multi-phase run (config.Phases), in order;
	// Strategy, Profiling and Stop are then its first profiling phase's.
	Phases []PhasePlan

	Registry *plugin.Registry
	Log      *slog.Logger

	transport   transport.Transport
	urlSelector timing.URLSelector
	samplerSpec *plugin.Spec
	// shard is the process's part of the load (zero: all of it).
	shard config.Shard
}

// PhasePlan is one phase of a multi-phase run, built and planned.
type PhasePlan struct {
	Config   config.Phase
	Strategy timing.Strategy
	Plan     *timing.Plan
}

// Describe renders the step for people: one line per fact, as loadstar
// inspect prints it.
func (s *Step) Describe() string {
	var b strings.Builder
	if s.Config.Name != "" {
		fmt.Fprintf(&b, "step %s\n", s.Config.Name)
	}
	fmt.Fprintf(&b, "endpoint   %s %s", s.Config.Endpoint.Name, s.Settings.ShownURLs(", "))
	if len(s.Settings.Models) > 0 {
		fmt.Fprintf(&b, " (model %s)", strings.Join(s.Settings.Models, ", "))
	}
	if s.Settings.Streaming {
		b.WriteString(", streaming")
	}
	b.WriteString("\n")
	src := s.Info.Source
	if src == "" {
		src = "dataset"
	}
	fmt.Fprintf(&b, "dataset    %s: %d conversations\n", src, s.Dataset.Len())
	phase := func(name string, st timing.Strategy, pl *timing.Plan) {
		fmt.Fprintf(&b, "%-10s %s — %s; %s\n", name, st, pl.Load.Description, describePlan(pl))
	}
	switch {
	case len(s.Phases) > 0:
		for _, ph := range s.Phases {
			label := ph.Config.Name
			if ph.Config.Warmup {
				label += " (warmup)"
			}
			phase(label, ph.Strategy, ph.Plan)
		}
	default:
		if s.Warmup != nil {
			phase("warmup", s.WarmupStrategy, s.Warmup)
		}
		phase("profiling", s.Strategy, s.Profiling)
	}
	seed := fmt.Sprint(s.Seed)
	if !s.Config.SeedSet {
		seed += " (drawn; pass seed= to reproduce)"
	}
	fmt.Fprintf(&b, "seed       %s\n", seed)
	return b.String()
}

func describePlan(pl *timing.Plan) string {
	var parts []string
	if pl.Requests >= 0 {
		parts = append(parts, fmt.Sprintf("%d requests", pl.Requests))
	} else {
		parts = append(parts, "requests unknown")
	}
	if pl.Duration > 0 {
		parts = append(parts, "about "+pl.Duration.Round(time.Millisecond).String())
	}
	if pl.Bound != "" {
		parts = append(parts, "until the "+pl.Bound+" stop")
	}
	return strings.Join(parts, ", ")
}

// Plan builds every component of cfg from reg and plans its phases without
// sending anything: the dataset is composed, plugins are built and their
// arguments checked. The registry is required: engine/catalog.New binds
// every class the engine builds.
func Plan(ctx context.Context, reg *plugin.Registry, cfg *config.Benchmark, rt *config.Runtime, opts ...Option) (*Step, error) {
	return build(ctx, reg, cfg, rt, newOptions(opts))
}

func newOptions(opts []Option) *options {
	o := &options{}
	for _, f := range opts {
		f(o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	return o
}

// interrupted is the error of a step that ctx stopped before it ran: its
// cause (an errext.Interrupt from Ctrl-C) with exit code Interrupted.
func interrupted(ctx context.Context) error {
	return errext.WithExitCode(fmt.Errorf("stopped before the step ran: %w", context.Cause(ctx)), errext.Interrupted)
}

// invalid marks a configuration error.
func invalid(err error) error {
	if err == nil || errext.ExitCodeOf(err) != errext.Generic {
		return err
	}
	return errext.WithExitCode(err, errext.InvalidConfig)
}

func build(ctx context.Context, reg *plugin.Registry, cfg *config.Benchmark, rt *config.Runtime, o *options) (*Step, error) {
	if reg == nil {
		return nil, errors.New("runner: no plugin registry (build one with engine/catalog.New)")
	}
	if cfg == nil {
		return nil, invalid(errors.New("runner: no benchmark"))
	}
	if ctx.Err() != nil {
		return nil, interrupted(ctx)
	}
	if err := cfg.Validate(); err != nil {
		return nil, invalid(err)
	}
	if rt == nil {
		rt = &config.Runtime{}
	}
	st := &Step{Config: cfg, Runtime: rt, Registry: reg, Log: o.log, Seed: cfg.Seed, samplerSpec: cfg.Sampler}
	if !cfg.SeedSet {
		st.Seed = drawSeed()
	}
	if err := st.buildClient(); err != nil {
		return nil, err
	}
	if err := checkConcurrency(cfg, st.transport, o.machine()); err != nil {
		return nil, invalid(err)
	}
	var err error
	if st.Tokenizer, err = loadTokenizer(cfg.Tokenizer); err != nil {
		return nil, invalid(err)
	}
	if err := metrics.Check(cfg, st.metricsSetup()); err != nil {
		return nil, invalid(err)
	}
	if o.dataset != nil {
		st.Dataset = o.dataset
	} else if st.Dataset, err = compose(ctx, cfg, st, o); err != nil {
		return nil, err
	}
	if st.Dataset.Len() == 0 {
		return nil, invalid(errors.New("dataset: no conversations to send"))
	}
	st.Info = dataset.InfoOf(st.Dataset)
	if err := st.planPhases(o); err != nil {
		return nil, err
	}
	return st, nil
}

// buildClient builds what sends: the endpoint, the transport (default:
// http with its defaults) and the URL selection (default: round robin).
func (st *Step) buildClient() error {
	cfg, reg := st.Config, st.Registry
	v, err := reg.Build(cfg.Endpoint)
	if err != nil {
		return invalid(err)
	}
	ep, ok := v.(endpoint.Endpoint)
	if !ok {
		return invalid(fmt.Errorf("endpoint %s: %T is not an endpoint", cfg.Endpoint.Name, v))
	}
	conf, ok := v.(endpoint.Configured)
	if !ok || conf.Settings() == nil || len(conf.Settings().URLs) == 0 {
		return invalid(fmt.Errorf("endpoint %s: no URL to send to", cfg.Endpoint.Name))
	}
	st.Endpoint, st.Settings = ep, conf.Settings()

	if cfg.Transport == nil {
		c := transport.DefaultConfig()
		st.transport = &c
	} else {
		v, err := reg.Build(cfg.Transport)
		if err != nil {
			return invalid(err)
		}
		if st.transport, ok = v.(transport.Transport); !ok {
			return invalid(fmt.Errorf("transport %s: %T is not a transport", cfg.Transport.Name, v))
		}
	}

	if cfg.URLSelection == nil {
		st.urlSelector = &timing.RoundRobin{}
		return nil
	}
	if v, err = reg.Build(cfg.URLSelection); err != nil {
		return invalid(err)
	}
	if st.urlSelector, ok = v.(timing.URLSelector); !ok {
		return invalid(fmt.Errorf("url_selection %s: %T is not a URL selector", cfg.URLSelection.Name, v))
	}
	return nil
}

// planPhases builds the timing strategies and plans the phases: the
// profiling strategy (a timestamped trace replays its schedule when none is
// chosen, AIPerf's mode priority) with its stop conditions, defaulted when
// none is given, and the optional warmup.
func (st *Step) planPhases(o *options) error {
	cfg := st.Config
	if len(cfg.Phases) > 0 {
		return st.planMultiPhase()
	}
	var err error
	if st.Strategy, err = strategy(st.Registry, cfg.Timing, st.Info.Timestamps); err != nil {
		return err
	}
	if o.shard != nil {
		st.shard = o.shard.Shard
		if err := st.checkShard(o); err != nil {
			return err
		}
	}
	st.Stop = cfg.Stop
	if st.Profiling, err = st.plan(st.Strategy, st.Stop, record.Profiling); err != nil {
		return err
	}
	if !st.Stop.IsSet() {
		st.Stop = defaultStop(st.Profiling, st.Dataset, st.Info)
		if st.Profiling, err = st.plan(st.Strategy, st.Stop, record.Profiling); err != nil {
			return err
		}
	}
	w := cfg.Warmup
	if w == nil {
		return nil
	}
	st.WarmupStrategy = st.Strategy
	if w.Timing != nil {
		if st.WarmupStrategy, err = strategy(st.Registry, w.Timing, false); err != nil {
			return err
		}
	}
	if err := st.checkShard(o); err != nil {
		return err
	}
	st.Warmup, err = st.plan(st.WarmupStrategy, w.Stop, record.Warmup)
	return err
}

// metricsSetup is what the metrics pipeline needs to know about the step.
func (st *Step) metricsSetup() metrics.Setup {
	return metrics.Setup{Endpoint: st.Settings.Metadata, EndpointType: st.Config.Endpoint.Name,
		Streaming: st.Settings.Streaming, Tokenizer: st.Tokenizer, Logger: st.Log}
}

// RecordSchema lists the per-record metrics the step's records carry
// (RecordRow.Metrics), for record sinks with a fixed schema.
func (st *Step) RecordSchema() results.RecordSchema {
	return metrics.Schema(metrics.ApplicabilityOf(st.Settings.Metadata, st.Settings.Streaming))
}

// defaultStop is AIPerf's default request count when no stop condition is
// given: a trace is sent once; a strategy with a length of its own (a rate
// series) runs that long; otherwise max(10, 2·concurrency) requests.
func defaultStop(pl *timing.Plan, ds dataset.Dataset, info dataset.Info) config.Stop {
	if pl.Load.Mode == "fixed_schedule" {
		return config.Stop{} // the schedule's end stops it
	}
	if pl.DefaultStop.IsSet() {
		return pl.DefaultStop // the strategy's own length (a rate series)
	}
	if info.Timestamps {
		return config.Stop{Requests: ds.Len()}
	}
	return config.Stop{Requests: max(10, 2*pl.Load.Concurrency)}
}

func (st *Step) plan(s timing.Strategy, stop config.Stop, ph record.Phase) (*timing.Plan, error) {
	env := st.env(nil, stop, ph, nil)
	pl, err := s.Plan(env)
	if err != nil {
		return nil, invalid(err)
	}
	if env.Prefill.Concurrency > 0 {
		if !st.Settings.Streaming {
			return nil, invalid(fmt.Errorf("prefill_concurrency needs a streamed answer (streaming = True): the first token is what frees a prefill slot"))
		}
		pl.Load.Description += ", " + env.Prefill.String()
	}
	return pl, nil
}

// planMultiPhase builds and plans each phase of a multi-phase run; the
// first profiling phase stands for the run where one plan is asked for.
func (st *Step) planMultiPhase() error {
	cfg := st.Config
	st.Phases = make([]PhasePlan, len(cfg.Phases))
	for i, ph := range cfg.Phases {
		spec := ph.Timing
		if spec == nil {
			spec = cfg.Timing
		}
		strat, err := strategy(st.Registry, spec, st.Info.Timestamps && spec == nil)
		if err != nil {
			return fmt.Errorf("phase %s: %w", ph.Name, err)
		}
		kind := record.Profiling
		if ph.Warmup {
			kind = record.Warmup
		}
		pl, err := st.plan(strat, ph.Stop, kind)
		if err != nil {
			return fmt.Errorf("phase %s: %w", ph.Name, err)
		}
		st.Phases[i] = PhasePlan{Config: ph, Strategy: strat, Plan: pl}
		if !ph.Warmup && st.Profiling == nil {
			st.Strategy, st.Profiling, st.Stop = strat, pl, ph.Stop
		}
	}
	return nil
}

// env is the timing environment of one phase.
func (st *Step) env(sampler dataset.Sampler, stop config.Stop, ph record.Phase, snd timing.Sender) *timing.Env {
	seed := st.Seed
	if ph == record.Warmup {
		seed ^= 0x9e3779b97f4a7c15 // warmup draws its own schedule
	}
	cancel, prefill := st.Config.Cancel, st.Config.Prefill
	if ph == record.Warmup {
		cancel = config.Cancellation{}
		prefill = st.Config.WarmupPrefill()
	}
	return &timing.Env{Seed: seed, Phase: ph, Stop: stop, Cancel: cancel, Prefill: prefill, Dataset: st.Dataset, Sampler: sampler,
		URLs: len(st.Settings.URLs), URLSelector: st.urlSelector, Sender: snd, Build: st.Registry.Build, Shard: st.shard}
}

func strategy(reg *plugin.Registry, spec *plugin.Spec, trace bool) (timing.Strategy, error) {
	if spec == nil {
		if trace {
			return timing.NewFixedSchedule(false, 0, 0, false, false, 1, 0)
		}
		return timing.NewConcurrency(1, nil)
	}
	v, err := reg.Build(spec)
	if err != nil {
		return nil, invalid(err)
	}
	s, ok := v.(timing.Strategy)
	if !ok {
		return nil, invalid(fmt.Errorf("timing %s: %T is not a timing strategy", spec.Name, v))
	}
	return s, nil
}

// newSampler builds the session sampler of a run.
func (st *Step) newSampler() (dataset.Sampler, error) {
	seed := splitmix(st.Seed ^ 0x5a5a5a5a)
	if st.samplerSpec != nil {
		v, err := st.Registry.Build(st.samplerSpec)
		if err != nil {
			return nil, invalid(err)
		}
		switch f := v.(type) {
		case dataset.SamplerFactory:
			smp, err := f.NewSampler(st.Dataset.Len(), seed)
			return smp, invalid(err)
		case dataset.Sampler:
			return f, nil
		}
		return nil, invalid(fmt.Errorf("sampler %s: %T is not a dataset sampler", st.samplerSpec.Name, v))
	}
	name := st.Info.Sampler
	if name == "" {
		name = dataset.Sequential
	}
	s, err := dataset.NewSampler(name, st.Dataset.Len(), seed)
	return s, invalid(err)
}

func compose(ctx context.Context, cfg *config.Benchmark, st *Step, o *options) (dataset.Dataset, error) {
	spec := cfg.Dataset
	if spec == nil {
		spec = &plugin.Spec{Category: plugin.DatasetComposer, Name: "synthetic"}
	}
	v, err := st.Registry.Build(spec)
	if err != nil {
		return nil, invalid(err)
	}
	comp, ok := v.(dataset.Composer)
	if !ok {
		return nil, invalid(fmt.Errorf("dataset %s: %T is not a dataset composer", spec.Name, v))
	}
	env := &dataset.Env{Tokenizer: st.Tokenizer, Seed: st.Seed, Log: o.log,
		Rankings: strings.Contains(cfg.Endpoint.Name, "rankings"),
		Loader: func(name string) (dataset.Loader, error) {
			v, err := st.Registry.Build(&plugin.Spec{Category: plugin.CustomDatasetLoader, Name: name})
			if err != nil {
				return nil, err
			}
			l, ok := v.(dataset.Loader)
			if !ok {
				return nil, fmt.Errorf("loader %s: %T is not a dataset loader", name, v)
			}
			return l, nil
		}}
	ds, err := comp.Compose(ctx, env)
	if err != nil {
		if ctx.Err() != nil {
			return nil, interrupted(ctx)
		}
		return nil, invalid(fmt.Errorf("dataset %s: %w", spec.Name, err))
	}
	return ds, nil
}

// loadTokenizer builds the tokenizer a benchmark selects: Kind "tiktoken"
// uses the built-in encoding Name, "file" loads the Hugging Face
// tokenizer.json at Path (builtins resolve it against the scenario's
// directory), and "" is the default built-in o200k_base.
func loadTokenizer(t config.Tokenizer) (tokenizer.Tokenizer, error) {
	switch t.Kind {
	case "":
		return tokenizer.Builtin(tokenizer.DefaultBuiltin)
	case "tiktoken":
		name := t.Name
		if name == "" {
			name = tokenizer.DefaultBuiltin
		}
		return tokenizer.Builtin(name)
	case "file":
		if t.Path == "" {
			return nil, errors.New("tokenizer.file: path is empty")
		}
		return tokenizer.FromFile(t.Path)
	}
	return nil, fmt.Errorf("tokenizer: unknown kind %q (want \"tiktoken\" or \"file\")", t.Kind)
}

func drawSeed() uint64 {
	var b [8]byte
	if _, err := crand.Read(b[:]); err != nil {
		return uint64(time.Now().UnixNano())
	}
	return binary.LittleEndian.Uint64(b[:]) >> 1 // keep it a positive int64 for exports
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
