package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/tokenizer"
)

// Setup is what the runner knows about a step besides its plan.
type Setup struct {
	// Endpoint is the endpoint plugin's metadata (capabilities, title);
	// EndpointType its plugin name ("chat").
	Endpoint     plugin.EndpointMetadata
	EndpointType string
	// Streaming is the endpoint's effective streaming setting.
	Streaming bool
	// Tokenizer counts tokens client-side; it may be nil when the plan uses
	// server token counts or the endpoint neither produces tokens nor
	// tokenizes input.
	Tokenizer tokenizer.Tokenizer
	Logger    *slog.Logger
	// Version is the loadstar version reported in the Summary.
	Version string
	// Release, when set, receives each record once the pipeline is done
	// with it (to reuse it); otherwise records are left to the collector.
	Release func(*record.Record)
	// Workers is the number of record-processing goroutines (0 = up to 4,
	// 1 when no client tokenization is needed).
	Workers int
	// RecordProcessors replace the built-in metric_record processor when
	// set; ResultsProcessors run after the built-in metric_results.
	RecordProcessors  []RecordProcessor
	ResultsProcessors []ResultsProcessor
	// Sinks receive every record with its metrics once processed (the
	// per-record artifacts); see RecordSink.
	Sinks []RecordSink
	// Getenv reads AIPerf's METRICS environment variables (warning
	// thresholds); nil means os.Getenv.
	Getenv func(string) string
}

// RecordSink receives each processed record with its metrics in display
// units: the per-record outputs (profile_export.jsonl, Parquet) that the
// caller constructs. WriteRecord is called from one goroutine, in the order
// records are folded; the row is valid only during the call. A sink that
// buffers may also implement Flush() (called every second from the same
// goroutine), and RecordsDone(), called once by Finish after the last
// WriteRecord and before the results are computed (a sink can finish its
// files meanwhile). A sink handles
// its own failures: the pipeline computes metrics, it never exports.
type RecordSink interface {
	WriteRecord(row *results.RecordRow)
}

// Pipeline turns a step's records into its Summary: record metrics on a
// small worker pool (tokenization happens here, off the request path),
// then one goroutine folding results and handing each record with its
// metrics to the sinks. Memory stays flat: records are released as soon as
// they are processed, and what remains per request is a few integers.
//
// The runner calls Add from one goroutine and Finish once at the end.
type Pipeline struct {
	cfg         *config.Benchmark
	setup       Setup
	app         Applicability
	log         *slog.Logger
	tokenSource string
	version     string

	recordProcs []RecordProcessor
	resultProcs []ResultsProcessor
	results     *MetricResults
	// phaseInfo is each phase's run information (multi-phase runs), by
	// config.Phases index, set by PhaseDone.
	phaseInfo []results.RunInfo
	sinks     []RecordSink
	flushers  []interface{ Flush() }

	in      chan *batch
	out     chan *batch
	wg      sync.WaitGroup
	done    chan struct{}
	pool    sync.Pool // *Values
	batches sync.Pool // *batch

	closed   atomic.Bool
	late     atomic.Int64 // records added after Finish
	procErrs atomic.Int64

	// Owned by the results goroutine.
	row     results.RecordRow
	metrics []results.MetricValue
	icl     []float64
}

// batch is records going through the stages together, with their values
// once processed: a hand-over between goroutines costs a wake-up, which
// costs more than a record's metrics, so records travel in batches.
type batch struct {
	recs []*record.Record
	vals []*Values
}

const (
	// batchLen is the most records in one batch: the unit the workers
	// share out.
	batchLen = 32
	// queueLen bounds the batches waiting between stages.
	queueLen = 64
)

// Check validates the plan's metric settings against the step (SLOs that
// the endpoint measures, a tokenizer when token counts are the client's)
// without starting anything: the runner calls it when it plans a step, so
// that a step that cannot be measured fails before any output is opened.
func Check(cfg *config.Benchmark, s Setup) error {
	_, err := prepare(cfg, nil, s)
	return err
}

// NewPipeline validates the plan's metric settings (see Check) and starts
// the processing goroutines. rt may be nil.
func NewPipeline(cfg *config.Benchmark, rt *config.Runtime, s Setup) (*Pipeline, error) {
	p, err := prepare(cfg, rt, s)
	if err != nil {
		return nil, err
	}
	workers := s.Workers
	if workers <= 0 {
		workers = 1
		if (p.app.ProducesTokens || p.app.TokenizesInput) && !cfg.ServerTokenCount {
			workers = min(runtime.GOMAXPROCS(0), 4)
		}
	}
	p.pool.New = func() any { return &Values{} }
	p.batches.New = func() any {
		return &batch{recs: make([]*record.Record, 0, batchLen), vals: make([]*Values, 0, batchLen)}
	}
	p.in = make(chan *batch, queueLen)
	p.out = make(chan *batch, queueLen)
	p.wg.Add(workers)
	for range workers {
		go p.work()
	}
	go p.fold()
	return p, nil
}

func prepare(cfg *config.Benchmark, rt *config.Runtime, s Setup) (*Pipeline, error) {
	if cfg == nil {
		return nil, errors.New("metrics: no benchmark configuration")
	}
	p := &Pipeline{cfg: cfg, setup: s, log: s.Logger, done: make(chan struct{}), version: s.Version, sinks: s.Sinks}
	if p.log == nil {
		p.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if p.version == "" {
		p.version = buildVersion()
	}
	p.app = ApplicabilityOf(s.Endpoint, s.Streaming)
	p.app.ServerTokens = cfg.ServerTokenCount
	switch {
	case !p.app.ProducesTokens && !p.app.TokenizesInput:
		p.tokenSource = "none"
	case cfg.ServerTokenCount:
		p.tokenSource = "server"
	case s.Tokenizer == nil:
		return nil, errors.New("metrics: client-side token counts need a tokenizer; configure tokenizer=... or server_token_count=True")
	default:
		p.tokenSource = "client:" + s.Tokenizer.Name()
	}
	slos, err := compileSLOs(cfg.SLOs, p.app)
	if err != nil {
		return nil, err
	}
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	th, err := ThresholdsFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	limit := 0
	if rt != nil {
		limit = rt.ExactStatsLimit
	}
	p.results = NewMetricResults(p.app, slos, limit, cfg.Output.SliceDuration)
	p.results.thresholds, p.results.cancelOn = th, cfg.Cancel.Percent > 0
	p.recordProcs = s.RecordProcessors
	if p.recordProcs == nil {
		rm := NewRecordMetrics(p.app, cfg.ServerTokenCount, s.Tokenizer).WithPerChunkUsage(perChunkUsage(cfg))
		p.recordProcs = []RecordProcessor{rm}
	}
	p.resultProcs = append([]ResultsProcessor{p.results}, s.ResultsProcessors...)
	if cfg.Warmup != nil {
		// AIPerf's warmup_metrics: the same metrics over the warmup
		// requests alone.
		w := NewMetricResults(p.app, slos, limit, 0)
		w.phase, w.thresholds = record.Warmup, th
		p.resultProcs = append(p.resultProcs, w)
	}
	p.phaseInfo = make([]results.RunInfo, len(cfg.Phases))
	for i, ph := range cfg.Phases {
		if ph.Warmup {
			continue
		}
		// Each profiling phase's results block: the same metrics over the
		// phase's requests alone.
		mr := NewMetricResults(p.app, slos, limit, 0)
		mr.byIndex, mr.index, mr.thresholds, mr.cancelOn = true, i, th, p.results.cancelOn
		p.resultProcs = append(p.resultProcs, &phaseProc{MetricResults: mr, name: ph.Name, info: &p.phaseInfo[i]})
	}
	for _, sk := range p.sinks {
		if f, ok := sk.(interface{ Flush() }); ok {
			p.flushers = append(p.flushers, f)
		}
	}
	return p, nil
}

// perChunkUsage reports whether the plan's endpoint asks for usage on
// every streamed chunk (chat's per_chunk_usage, AIPerf's --per-chunk-usage).
func perChunkUsage(cfg *config.Benchmark) bool {
	if cfg.Endpoint == nil {
		return false
	}
	on, _ := cfg.Endpoint.Args["per_chunk_usage"].(bool)
	return on
}

// ApplicabilityOf is the metric selection of an endpoint with the given
// capabilities and streaming setting.
func ApplicabilityOf(ep plugin.EndpointMetadata, streaming bool) Applicability {
	return Applicability{Streaming: streaming, ProducesTokens: ep.ProducesTokens, TokenizesInput: ep.TokenizesInput}
}

// Schema lists the per-record metrics a step with applicability app
// produces, in the order RecordRow.Metrics lists them.
func Schema(app Applicability) results.RecordSchema {
	var s results.RecordSchema
	for id := range recordDefs {
		if d := &recordDefs[id]; app.Applies(d.Flags) && !d.Flags.Has(NoIndividualRecords) {
			s.Metrics = append(s.Metrics, results.Column{Tag: d.Tag, Unit: d.Unit, Integer: d.Integer, Own: d.Flags.Has(Loadstar)})
		}
	}
	s.ICL = app.Applies(iclDef.Flags)
	s.ICLUnit = iclDef.Unit
	return s
}

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Add hands a finished record to the pipeline, which owns it from now on.
// It blocks only when processing falls a queue behind. Call Add and AddBatch
// from one goroutine, never after Finish.
func (p *Pipeline) Add(rec *record.Record) {
	p.AddBatch([]*record.Record{rec})
}

// AddBatch hands finished records to the pipeline, which owns them from now
// on (recs itself stays the caller's). Handing over many records at once
// costs one wake-up of the processing goroutines instead of one each.
func (p *Pipeline) AddBatch(recs []*record.Record) {
	if p.closed.Load() {
		p.late.Add(int64(len(recs)))
		for _, rec := range recs {
			p.release(rec)
		}
		return
	}
	for len(recs) > 0 {
		n := min(len(recs), batchLen)
		b := p.batches.Get().(*batch)
		b.recs = append(b.recs[:0], recs[:n]...)
		p.in <- b
		recs = recs[n:]
	}
}

// State returns the mergeable state of the profiling results (a shard's
// part of a sharded benchmark), once Finish has returned.
func (p *Pipeline) State() (*State, error) { return p.results.State() }

// Live returns the running counters and medians for progress displays.
func (p *Pipeline) Live() Live { return p.results.Live() }

// LiveMetrics returns the running statistics (see MetricResults.LiveMetrics).
func (p *Pipeline) LiveMetrics() []results.Metric { return p.results.LiveMetrics() }

// LiveErrors returns the error summary so far (see MetricResults.LiveErrors).
func (p *Pipeline) LiveErrors() []results.ErrorGroup { return p.results.LiveErrors() }

func (p *Pipeline) release(rec *record.Record) {
	if p.setup.Release != nil {
		p.setup.Release(rec)
	}
}

// yieldEvery is how many records the processing goroutines handle in a row
// before they let others run. Receiving from a channel that holds records
// never yields, and on a client pinned to one core a backlog worked off in
// one stretch would hold up the schedule's next release by as long.
const yieldEvery = 32

// work computes record metrics.
func (p *Pipeline) work() {
	defer p.wg.Done()
	n := 0
	for b := range p.in {
		b.vals = b.vals[:0]
		for _, rec := range b.recs {
			if n++; n%yieldEvery == 0 {
				runtime.Gosched()
			}
			v := p.pool.Get().(*Values)
			for _, rp := range p.recordProcs {
				if err := rp.ProcessRecord(rec, v); err != nil {
					if p.procErrs.Add(1) == 1 {
						p.log.Warn("record processor failed", "error", err)
					}
				}
			}
			b.vals = append(b.vals, v)
		}
		p.out <- b
	}
}

// idleFlush is how long the record streams may sit buffered while no
// record arrives.
const idleFlush = time.Second

// fold runs the results processors and the record exporters.
func (p *Pipeline) fold() {
	defer close(p.done)
	tick := time.NewTicker(idleFlush)
	defer tick.Stop()
	n := 0
	for {
		var b *batch
		var ok bool
		select {
		case b, ok = <-p.out:
			if !ok {
				return
			}
		case <-tick.C:
			p.flushStreams()
			continue
		}
		for i, rec := range b.recs {
			if n++; n%yieldEvery == 0 {
				runtime.Gosched()
			}
			p.foldOne(rec, b.vals[i])
			b.recs[i], b.vals[i] = nil, nil
		}
		p.batches.Put(b)
	}
}

// foldOne runs the results processors and the sinks on one record, then
// lets go of it.
func (p *Pipeline) foldOne(rec *record.Record, v *Values) {
	for _, rp := range p.resultProcs {
		if err := rp.ProcessResult(rec, v); err != nil {
			if p.procErrs.Add(1) == 1 {
				p.log.Warn("results processor failed", "error", err)
			}
		}
	}
	if len(p.sinks) > 0 {
		p.sinkRecord(rec, v)
	}
	p.release(rec)
	p.pool.Put(v)
}

// flushStreams lets buffering sinks push what they hold.
func (p *Pipeline) flushStreams() {
	for _, f := range p.flushers {
		f.Flush()
	}
}

// sinkRecord hands the record with its present metrics, in display units,
// to every sink. The row and its slices are reused from record to record.
func (p *Pipeline) sinkRecord(rec *record.Record, v *Values) {
	p.metrics = p.metrics[:0]
	for i := range sinkDefs {
		d := &sinkDefs[i]
		x := v.V[d.id]
		if x != x { // NaN: absent
			continue
		}
		p.metrics = append(p.metrics, results.MetricValue{Tag: d.tag, Unit: d.unit, Value: x * d.scale, Integer: d.integer,
			Own: d.own})
	}
	p.icl = p.icl[:0]
	for _, g := range v.ICL {
		p.icl = append(p.icl, g*iclDef.Scale)
	}
	p.row = results.RecordRow{Rec: rec, Metrics: p.metrics, ICL: p.icl}
	for _, sk := range p.sinks {
		sk.WriteRecord(&p.row)
	}
}

// sinkDef is what a record's row needs of a record metric's Def: the
// per-record loop reads these few bytes instead of every Def.
type sinkDef struct {
	id           int
	tag, unit    string
	scale        float64
	integer, own bool
}

// sinkDefs are the record metrics that go into records' rows, in order.
var sinkDefs = func() (out []sinkDef) {
	for id := range recordDefs {
		if d := &recordDefs[id]; !d.Flags.Has(NoIndividualRecords) {
			out = append(out, sinkDef{id: id, tag: d.Tag, unit: d.Unit, scale: d.Scale, integer: d.Integer, own: d.Flags.Has(Loadstar)})
		}
	}
	return out
}()

// PhaseDone records what the runner knows of phase i of a multi-phase run
// (its bounds, load, issued and dropped requests) for its results block.
// Call it before Finish, from the goroutine that calls Finish.
func (p *Pipeline) PhaseDone(i int, info results.RunInfo) {
	if i >= 0 && i < len(p.phaseInfo) {
		p.phaseInfo[i] = info
	}
}

// phaseProc summarizes one profiling phase of a multi-phase run into
// Summary.Phases.
type phaseProc struct {
	*MetricResults
	name string
	info *results.RunInfo
}

// Summarize implements ResultsProcessor.
func (pp *phaseProc) Summarize(ctx context.Context, s *results.Summary) error {
	info := *pp.info
	info.BenchmarkID, info.Seed, info.EndpointType, info.Endpoint = s.Info.BenchmarkID, s.Info.Seed, s.Info.EndpointType, s.Info.Endpoint
	info.Streaming, info.ArtifactDir = s.Info.Streaming, s.Info.ArtifactDir
	sub := &results.Summary{Info: info, Config: s.Config, TokenSource: s.TokenSource, Version: s.Version}
	if err := pp.MetricResults.Summarize(ctx, sub); err != nil {
		return err
	}
	s.Phases = append(s.Phases, results.PhaseResult{Name: pp.name, Info: sub.Info, Metrics: sub.Metrics,
		Errors: sub.Errors, Verdict: sub.Verdict, Warnings: sub.Warnings, Notes: sub.Notes})
	return nil
}

// Finish drains the records added so far and computes the Summary.
// info.WasCancelled (Ctrl-C) is carried into it; everything measured is
// still summarized. Results-processor errors are returned joined, with the
// Summary.
func (p *Pipeline) Finish(ctx context.Context, info results.RunInfo) (*results.Summary, error) {
	if p.closed.Swap(true) {
		return nil, errors.New("metrics: Finish called twice")
	}
	close(p.in)
	p.wg.Wait()
	close(p.out)
	<-p.done
	for _, sk := range p.sinks {
		if d, ok := sk.(interface{ RecordsDone() }); ok {
			d.RecordsDone()
		}
	}

	if info.EndpointType == "" {
		info.EndpointType = p.setup.EndpointType
	}
	if info.Endpoint == (plugin.EndpointMetadata{}) {
		info.Endpoint = p.setup.Endpoint
	}
	if !info.Streaming {
		info.Streaming = p.setup.Streaming
	}
	sum := &results.Summary{Info: info, Config: p.cfg, TokenSource: p.tokenSource, Version: p.version}
	var errs []error
	for _, rp := range p.resultProcs {
		if err := rp.Summarize(ctx, sum); err != nil {
			errs = append(errs, err)
		}
	}
	if n := p.procErrs.Load(); n > 0 {
		sum.Notes = append(sum.Notes, fmt.Sprintf("%d record processing errors (see the log)", n))
	}
	if n := p.late.Load(); n > 0 {
		sum.Notes = append(sum.Notes, fmt.Sprintf("%d records arrived after the results were computed and were not counted", n))
	}
	return sum, errors.Join(errs...)
}
