package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/timing"
	"github.com/loadstar/loadstar/internal/metrics"
)

// ProgressInterval is how often an Observer hears from a running step.
const ProgressInterval = 250 * time.Millisecond

// Observer follows a running step (progress UIs). Calls of Progress never
// overlap: each returns before the next starts (with a happens-before edge),
// so an observer needs no lock.
type Observer interface {
	Progress(p Progress)
}

// PhaseObserver is an Observer that also hears, on the phase's own
// goroutine, when a phase is about to start (before its clock starts and
// before anything is sent) and when it has ended (every request of it
// finished). A server-metrics collector scrapes there, so what the server
// counted between the two is exactly the phase's work. Both must return
// quickly; the phase waits for them.
type PhaseObserver interface {
	Observer
	PhaseStart(ph record.Phase)
	PhaseEnd(ph record.Phase)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Progress)

// Progress implements Observer.
func (f ObserverFunc) Progress(p Progress) { f(p) }

// Progress is a snapshot of a running step.
type Progress struct {
	Step  *Step
	Phase record.Phase
	// Plan is the current phase's plan: expected requests and duration.
	Plan *timing.Plan
	// Elapsed is the time since the phase started.
	Elapsed time.Duration
	// Sent counts requests sent in the phase; Completed those finished, of
	// which Errors failed and Cancelled were cancelled.
	Sent, Completed, Errors, Cancelled int64
	// Done is true in the last report of a phase.
	Done bool
	// Stopping is true once the step's context is cancelled (Ctrl-C,
	// SIGTERM, an abort): sending has stopped and the requests in flight
	// are being cancelled.
	Stopping bool
	// Metrics are the running counters and medians (profiling records
	// only).
	Metrics *metrics.Live
	// LiveMetrics computes the running statistics of every metric so far
	// (HDR-derived; profiling records only). Computing them costs a pass
	// over the histograms: call it only when needed (live threshold checks).
	LiveMetrics func() []results.Metric
	// LiveErrors returns the error summary so far (profiling records only),
	// largest groups first.
	LiveErrors func() []results.ErrorGroup
}

// InFlight is the number of requests sent but not finished.
func (p Progress) InFlight() int64 { return p.Sent - p.Completed }

// Run builds cfg from reg (see Plan), executes it and returns its results.
func Run(ctx context.Context, reg *plugin.Registry, cfg *config.Benchmark, rt *config.Runtime, opts ...Option) (*results.Summary, error) {
	o := newOptions(opts)
	st, err := build(ctx, reg, cfg, rt, o)
	if err != nil {
		return nil, err
	}
	return st.run(ctx, o)
}

// Run executes a built step (see Plan).
func (st *Step) Run(ctx context.Context, opts ...Option) (*results.Summary, error) {
	return st.run(ctx, newOptions(opts))
}

func (st *Step) run(ctx context.Context, o *options) (*results.Summary, error) {
	queue := newRecordQueue()
	setup := st.metricsSetup()
	setup.Release, setup.Sinks = queue.recycle, o.sinks
	col, err := metrics.NewPipeline(st.Config, st.Runtime, setup)
	if err != nil {
		return nil, invalid(err)
	}
	clk := o.clk
	if clk == nil {
		clk = timing.NewClock()
		if o.shard != nil && !o.shard.StartAt.IsZero() {
			// Times are positive on a clock: a shard arriving after the
			// common start must still stamp its schedule from there.
			clk = timing.NewClockSince(max(time.Since(o.shard.StartAt), 0) + time.Second)
		}
	}
	sampler, err := st.newSampler()
	if err != nil {
		return nil, err
	}
	inFlight := st.Profiling.Load.Concurrency
	if st.Warmup != nil {
		inFlight = max(inFlight, st.Warmup.Load.Concurrency)
		if st.Warmup.Load.Concurrency == 0 {
			inFlight = 0
		}
	}
	if st.Profiling.Load.Concurrency == 0 {
		inFlight = 0
	}
	client, err := st.transport.Open(clk, inFlight)
	if err != nil {
		return nil, invalid(err)
	}
	defer client.Close()

	snd := newSender(clk, st.Endpoint, st.Settings, client, queue, st.Dataset.Len())
	// The failure watch aborts the run (runCtx) when the server fails;
	// the run then ends as on Ctrl-C.
	ctx, abortRun := context.WithCancelCause(ctx)
	defer abortRun(nil)
	snd.watch = newFailureWatch(st.Config.Abort, st.Profiling.Load.Concurrency, abortRun)
	var colWG sync.WaitGroup
	colWG.Add(1)
	go func() {
		defer colWG.Done()
		queue.drain(col.Add)
	}()
	closeQueue := sync.OnceFunc(func() { queue.close(); colWG.Wait() })
	defer closeQueue()

	info := results.RunInfo{BenchmarkID: st.benchmarkID(o), Seed: st.Seed, EndpointType: st.Config.Endpoint.Name,
		Endpoint: st.Settings.Metadata, Streaming: st.Settings.Streaming,
		Concurrency: st.Profiling.Load.Concurrency, ScheduledRate: st.Profiling.Load.Rate,
		OpenLoop: st.Profiling.Load.OpenLoop, Arrival: arrivalOf(st.Profiling.Load)}
	o.log.Info("benchmark starting", "endpoint", st.Config.Endpoint.Name, "url", strings.Join(st.Settings.URLs, ","),
		"load", st.Profiling.Load.Description, "seed", st.Seed)
	if err := st.waitForModel(ctx, o, client); err != nil {
		return nil, err
	}

	if st.Warmup != nil {
		w := st.Config.Warmup
		grace := w.Grace
		if grace == 0 {
			grace = -1 // warmup waits for its requests (AIPerf: infinite grace)
		}
		var start *int64
		if o.shard != nil {
			start = monoAt(clk, o.shard.StartAt)
		}
		rep, _, err := st.phase(ctx, o, clk, snd, sampler, col, record.Warmup, st.WarmupStrategy, st.Warmup, w.Stop, grace, start)
		if err != nil {
			return nil, err
		}
		o.log.Info("warmup done", "requests", rep.Issued, "stop", rep.Stop)
	}
	var rep *timing.Report
	var health results.ClientHealth
	if ctx.Err() == nil {
		var start, end time.Time
		start = time.Now()
		rep, health, err = st.phase(ctx, o, clk, snd, sampler, col, record.Profiling, st.Strategy, st.Profiling, st.Stop, st.Config.Grace,
			monoAt(clk, st.profilingStart(o)))
		end = time.Now()
		if err != nil {
			return nil, err
		}
		info.Start, info.End = start, end
		info.Issued, info.Dropped = int(rep.Issued), int(rep.Dropped)
		if info.ScheduledRate == 0 && rep.Load.OpenLoop && rep.Issued+rep.Dropped > 1 && rep.LastScheduledNs > rep.FirstScheduledNs {
			// A trace has no nominal rate: its schedule's is the target.
			info.ScheduledRate = float64(rep.Issued+rep.Dropped-1) / (float64(rep.LastScheduledNs-rep.FirstScheduledNs) / 1e9)
		}
		o.log.Info("profiling done", "requests", rep.Issued, "dropped", rep.Dropped, "stop", rep.Stop)
	}
	info.WasCancelled = ctx.Err() != nil
	unprocessed := 0
	if info.WasCancelled {
		info.CancelCause = context.Cause(ctx).Error()
		// Interrupted: the metrics side gets a moment for its backlog, then
		// the records it has not reached are left out (and said so).
		unprocessed = queue.closeWithin(interruptDrain, &colWG)
	}
	info.Aborted = snd.watch.aborted()
	closeQueue()
	health.RecordBacklog = queue.peakDepth()
	info.Health = &health
	sum, err := col.Finish(context.WithoutCancel(ctx), info)
	if sum != nil {
		sum.Info.Warnings = append(sum.Info.Warnings, snd.watch.warnings()...)
		for _, w := range sum.Info.Warnings {
			o.log.Warn(w)
		}
	}
	if sum != nil && unprocessed > 0 {
		note := fmt.Sprintf("%d finished requests were not processed: the run was interrupted while the metrics side was %s behind", unprocessed, interruptDrain)
		o.log.Warn(note)
		sum.Notes = append(sum.Notes, note)
	}
	if sum != nil {
		if sum.Shard = st.shardResult(o, clk, rep); sum.Shard != nil {
			ms, serr := col.State()
			if serr != nil {
				err = errors.Join(err, serr)
			}
			sum.Shard.Mergeable = ms
		}
	}
	return sum, err
}

// arrivalOf names a load's arrival process: the arrival pattern of a
// request rate, "trace" for a fixed schedule, "user-centric" for users.
func arrivalOf(l timing.Load) string {
	switch l.Mode {
	case "fixed_schedule":
		return "trace"
	case "user_centric_rate":
		return "user-centric"
	}
	return l.Arrival
}

// interruptDrain is how long an interrupted step's metrics side may keep
// processing the records already finished before they are left out.
const interruptDrain = time.Second

// phase runs one phase: it releases requests through the strategy, and when
// issuing ends (stop condition or ctx) waits for requests in flight — up to
// grace after a duration stop or cancellation (grace < 0: no limit) —,
// cancelling the rest. at, when set, is the phase's start on clk (shards
// starting together): the phase waits for it, and its schedule starts there
// even when it is already past.
func (st *Step) phase(ctx context.Context, o *options, clk clock.Clock, snd *sender, sampler interface{ Next() int },
	col *metrics.Pipeline, ph record.Phase, strat timing.Strategy, pl *timing.Plan, stop config.Stop, grace time.Duration,
	at *int64) (*timing.Report, results.ClientHealth, error) {
	if at != nil {
		if wait := time.Duration(*at - clk.Now()); wait > 0 {
			o.log.Info("waiting for the shards' common start", "phase", ph, "in", wait.Round(time.Millisecond))
		} else if wait < -time.Millisecond {
			o.log.Warn("the shards' common start has passed: this shard's requests due since then go late", "phase", ph, "late", (-wait).Round(time.Millisecond))
		}
		_ = clk.SleepUntil(ctx, *at) // on Ctrl-C the strategy finds ctx done
	}
	if ph == record.Profiling {
		o.began = clk.Now()
	}
	sendCtx, cancelSend := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelSend(nil)
	snd.setContext(sendCtx)
	o.phaseEdge(ph, true)
	base := snd.counts.snapshot()
	mon := startMonitor()
	start := time.Now()
	if at != nil {
		start = start.Add(-time.Duration(clk.Now() - *at)) // the phase began at `at`, late or not
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // grace watchdog
		defer wg.Done()
		st.watchGrace(ctx, done, cancelSend, start, stop.Duration, grace)
	}()
	if len(o.observers) > 0 {
		// The first report goes out before the ticker starts and the last
		// after it stopped, so reports never overlap (Observer's contract).
		o.notify(st.progress(ctx, col, ph, pl, start, snd, base, false))
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(ProgressInterval)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					o.notify(st.progress(ctx, col, ph, pl, start, snd, base, false))
				}
			}
		}()
	}

	env := st.env(sampler, stop, ph, snd)
	env.Clock = clk
	env.NewSessionID = snd.ids.next
	if at != nil {
		env.Start, env.FixedStart = *at, true
	}
	rep, err := strat.Run(ctx, env)
	o.phaseEdge(ph, false)
	close(done)
	wg.Wait()
	health := mon.stop()
	o.notify(st.progress(ctx, col, ph, pl, start, snd, base, true))
	if err != nil {
		return nil, health, invalid(err)
	}
	return rep, health, nil
}

// watchGrace cancels the requests still in flight grace after the phase's
// duration ends (grace < 0: never), and at once when ctx is cancelled
// (Ctrl-C, SIGTERM, an abort): an interrupted run stops within moments
// whatever its grace period, its requests in flight recorded as cancelled
// with ctx's cause.
func (st *Step) watchGrace(ctx context.Context, done <-chan struct{}, cancel context.CancelCauseFunc,
	start time.Time, dur, grace time.Duration) {
	var end <-chan time.Time
	if dur > 0 && grace >= 0 {
		t := time.NewTimer(time.Until(start.Add(dur + grace)))
		defer t.Stop()
		end = t.C
	}
	select {
	case <-done:
	case <-end:
		cancel(errGraceExpired)
	case <-ctx.Done():
		cancel(context.Cause(ctx))
	}
}

func (st *Step) progress(ctx context.Context, col *metrics.Pipeline, ph record.Phase, pl *timing.Plan, start time.Time, snd *sender, base countSnapshot, done bool) Progress {
	c := snd.counts.snapshot()
	p := Progress{Step: st, Phase: ph, Plan: pl, Elapsed: time.Since(start), Done: done, Stopping: ctx.Err() != nil,
		Sent: c.sent - base.sent, Completed: c.done - base.done,
		Errors: c.errors - base.errors, Cancelled: c.cancelled - base.cancelled}
	live := col.Live()
	p.Metrics, p.LiveMetrics, p.LiveErrors = &live, col.LiveMetrics, col.LiveErrors
	return p
}
