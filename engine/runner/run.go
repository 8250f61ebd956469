package runner

import (
	"context"
	"errors"
	"fmt"
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
	client, err := st.transport.Open(transportClock(clk), st.inFlight())
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
		queue.drain(col.AddBatch)
	}()
	closeQueue := sync.OnceFunc(func() { queue.close(); colWG.Wait() })
	defer closeQueue()

	info := results.RunInfo{BenchmarkID: st.benchmarkID(o), Seed: st.Seed, EndpointType: st.Config.Endpoint.Name,
		Endpoint: st.Settings.Metadata, Streaming: st.Settings.Streaming,
		Concurrency: st.Profiling.Load.Concurrency, ScheduledRate: st.Profiling.Load.Rate,
		OpenLoop: st.Profiling.Load.OpenLoop, Arrival: arrivalOf(st.Profiling.Load)}
	o.log.Info("benchmark starting", "endpoint", st.Config.Endpoint.Name, "url", st.Settings.ShownURLs(","),
		"load", st.Profiling.Load.Description, "seed", st.Seed)
	if err := st.waitForModel(ctx, o, client); err != nil {
		return nil, err
	}

	var health results.ClientHealth
	var rep *timing.Report // the (last) profiling phase's
	if len(st.Phases) > 0 {
		if rep, health, err = st.runPhases(ctx, o, clk, snd, sampler, col, &info); err != nil {
			return nil, err
		}
	} else if rep, health, err = st.runWarmupAndProfiling(ctx, o, clk, snd, sampler, col, &info); err != nil {
		return nil, err
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

// inFlight is the most requests the step keeps in flight (0 = unbounded:
// an open loop), which sizes the transport's pools.
func (st *Step) inFlight() int {
	plans := []*timing.Plan{st.Profiling, st.Warmup}
	for _, ph := range st.Phases {
		plans = append(plans, ph.Plan)
	}
	n := 0
	for _, pl := range plans {
		if pl == nil {
			continue
		}
		if pl.Load.Concurrency == 0 {
			return 0
		}
		n = max(n, pl.Load.Concurrency)
	}
	return n
}

// runWarmupAndProfiling runs the optional warmup, then the profiling
// phase, and fills info with the profiling phase's bounds and counts.
func (st *Step) runWarmupAndProfiling(ctx context.Context, o *options, clk clock.Clock, snd *sender, sampler interface{ Next() int },
	col *metrics.Pipeline, info *results.RunInfo) (*timing.Report, results.ClientHealth, error) {
	var health results.ClientHealth
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
		rep, _, err := st.runPhase(ctx, o, clk, snd, sampler, col, record.Warmup, 0, phaseEdges{}, st.WarmupStrategy, st.Warmup, w.Stop, grace, start)
		if err != nil {
			return nil, health, err
		}
		o.log.Info("warmup done", "requests", rep.Issued, "stop", rep.Stop)
	}
	if ctx.Err() != nil {
		return nil, health, nil
	}
	start := time.Now()
	rep, health, err := st.runPhase(ctx, o, clk, snd, sampler, col, record.Profiling, 0, phaseEdges{}, st.Strategy, st.Profiling, st.Stop, st.Config.Grace,
		monoAt(clk, st.profilingStart(o)))
	end := time.Now()
	if err != nil {
		return nil, health, err
	}
	info.Start, info.End = start, end
	info.Issued, info.Dropped = int(rep.Issued), int(rep.Dropped)
	if info.ScheduledRate == 0 {
		info.ScheduledRate = scheduledRate(rep) // a trace: its schedule's
	}
	o.log.Info("profiling done", "requests", rep.Issued, "dropped", rep.Dropped, "stop", rep.Stop)
	return rep, health, nil
}

// runPhases runs the phases of a multi-phase run one after the other.
// Each profiling phase's bounds, load and counts go to its results block
// (col.PhaseDone); info gets the whole: from the first profiling phase's
// start to the last one's end, their requests summed, and their scheduled
// rate when every one follows a schedule.
func (st *Step) runPhases(ctx context.Context, o *options, clk clock.Clock, snd *sender, sampler interface{ Next() int },
	col *metrics.Pipeline, info *results.RunInfo) (*timing.Report, results.ClientHealth, error) {
	var health results.ClientHealth
	var last *timing.Report
	var scheduled int64
	var spanNs float64
	openLoop := true
	firstProf, lastProf := -1, -1
	for i, ph := range st.Phases {
		if !ph.Config.Warmup {
			lastProf = i
			if firstProf < 0 {
				firstProf = i
			}
		}
	}
	windowOpen := false
	defer func() {
		if windowOpen { // interrupted between profiling phases
			o.phaseEdge(record.Profiling, false)
		}
	}()
	for i, ph := range st.Phases {
		if ctx.Err() != nil {
			break
		}
		kind, grace := record.Profiling, ph.Config.Grace
		if ph.Config.Warmup {
			kind = record.Warmup
			if grace == 0 {
				grace = -1 // a warmup waits for its requests
			}
		} else if grace == 0 {
			grace = st.Config.Grace
		}
		start := time.Now()
		// The observers (server scrapes) see one profiling window: from the
		// first profiling phase's start to the last one's end.
		edges := phaseEdges{noStart: !ph.Config.Warmup && i != firstProf, noEnd: !ph.Config.Warmup && i != lastProf}
		var at *int64
		if i == 0 && o.shard != nil {
			at = monoAt(clk, o.shard.StartAt) // shards start together
		}
		rep, h, err := st.runPhase(ctx, o, clk, snd, sampler, col, kind, i, edges, ph.Strategy, ph.Plan, ph.Config.Stop, grace, at)
		end := time.Now()
		if !ph.Config.Warmup {
			windowOpen = i != lastProf
		}
		if err != nil {
			return nil, health, err
		}
		o.log.Info("phase done", "phase", ph.Config.Name, "requests", rep.Issued, "dropped", rep.Dropped, "stop", rep.Stop)
		if ph.Config.Warmup {
			continue
		}
		last = rep
		pi := results.RunInfo{Start: start, End: end, Issued: int(rep.Issued), Dropped: int(rep.Dropped),
			Concurrency: rep.Load.Concurrency, ScheduledRate: scheduledRate(rep), OpenLoop: rep.Load.OpenLoop,
			Arrival: arrivalOf(rep.Load), WasCancelled: ctx.Err() != nil}
		hc := h
		pi.Health = &hc
		col.PhaseDone(i, pi)
		if info.Start.IsZero() {
			info.Start = start
		}
		info.End = end
		info.Issued += pi.Issued
		info.Dropped += pi.Dropped
		openLoop = openLoop && rep.Load.OpenLoop
		scheduled += rep.Issued + rep.Dropped
		spanNs += float64(rep.EndNs - rep.StartNs)
		health = worseHealth(health, h)
	}
	info.OpenLoop, info.ScheduledRate, info.Arrival = openLoop, 0, "phases"
	if openLoop && spanNs > 0 {
		info.ScheduledRate = float64(scheduled) / (spanNs / 1e9)
	}
	return last, health, nil
}

// scheduledRate is a phase's target rate: its nominal one, else (a trace)
// its schedule's.
func scheduledRate(rep *timing.Report) float64 {
	if rep.Load.Rate > 0 || !rep.Load.OpenLoop {
		return rep.Load.Rate
	}
	if n := rep.Issued + rep.Dropped; n > 1 && rep.LastScheduledNs > rep.FirstScheduledNs {
		return float64(n-1) / (float64(rep.LastScheduledNs-rep.FirstScheduledNs) / 1e9)
	}
	return 0
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

// transportClock is the clock the transport stamps on: the run's own, or
// under a timing.PreciseClock the clock.Real it waits on (the same
// readings; only its SleepUntil differs, which the transport does not
// use). The HTTP transport recognises a clock.Real and turns its readings
// into socket deadlines from one origin, instead of reading the wall clock
// once more per request.
func transportClock(clk clock.Clock) clock.Clock {
	if pc, ok := clk.(*timing.PreciseClock); ok {
		return pc.Real
	}
	return clk
}

// interruptDrain is how long an interrupted step's metrics side may keep
// processing the records already finished before they are left out.
const interruptDrain = time.Second

// phaseEdges silences a phase's start or end for the PhaseObservers.
type phaseEdges struct{ noStart, noEnd bool }

// runPhase runs one phase (idx: its index in a multi-phase run): it releases requests through the strategy, and when
// issuing ends (stop condition or ctx) waits for requests in flight — up to
// grace after a duration stop or cancellation (grace < 0: no limit) —,
// cancelling the rest. at, when set, is the phase's start on clk (shards
// starting together): the phase waits for it, and its schedule starts there
// even when it is already past.
func (st *Step) runPhase(ctx context.Context, o *options, clk clock.Clock, snd *sender, sampler interface{ Next() int },
	col *metrics.Pipeline, ph record.Phase, idx int, edges phaseEdges, strat timing.Strategy, pl *timing.Plan, stop config.Stop,
	grace time.Duration, at *int64) (*timing.Report, results.ClientHealth, error) {
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
	if !edges.noStart {
		o.phaseEdge(ph, true)
	}
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
	env.Clock, env.PhaseIndex = clk, idx
	env.NewSessionID = snd.ids.next
	env.ReuseSessions = true // the sender keeps no session or credit past Send
	if at != nil {
		env.Start, env.FixedStart = *at, true
	}
	rep, err := strat.Run(ctx, env)
	if !edges.noEnd {
		o.phaseEdge(ph, false)
	}
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

// worseHealth combines the client's self-measurement over two phases: each
// figure's worse value.
func worseHealth(a, b results.ClientHealth) results.ClientHealth {
	a.CPUShare, a.CPUs, a.GCShare = max(a.CPUShare, b.CPUShare), max(a.CPUs, b.CPUs), max(a.GCShare, b.GCShare)
	a.GCPauseP99, a.GCPauseMax = max(a.GCPauseP99, b.GCPauseP99), max(a.GCPauseMax, b.GCPauseMax)
	a.SchedLatencyP99, a.RecordBacklog = max(a.SchedLatencyP99, b.SchedLatencyP99), max(a.RecordBacklog, b.RecordBacklog)
	a.StealShare = max(a.StealShare, b.StealShare)
	return a
}
