package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
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
	"github.com/loadstar/loadstar/internal/export"
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
	// ArtifactDir overrides the artifact directory ("" = as AIPerf names it,
	// see export.ArtifactDir). Stimulus overrides the stimulus part of that
	// name ("" = derived from the plan's timing).
	ArtifactDir, Stimulus string
	Logger                *slog.Logger
	// Version is the loadstar version written into the artifacts.
	Version string
	// Release, when set, receives each record once the pipeline is done
	// with it (to reuse it); otherwise records are left to the collector.
	Release func(*record.Record)
	// Workers is the number of record-processing goroutines (0 = up to 4,
	// 1 when no client tokenization is needed).
	Workers int
	// Plugins built by the runner from the registry. Nil means the
	// built-ins: RecordProcessors = metric_record; ResultsProcessors are
	// run after the built-in metric_results; Exporters = the plan's
	// exporter names (or the defaults of its export level).
	RecordProcessors  []RecordProcessor
	ResultsProcessors []ResultsProcessor
	Exporters         []export.Exporter
}

// Pipeline turns a step's records into its Summary and artifacts: record
// metrics on a small worker pool (tokenization happens here, off the
// request path), then one goroutine folding results and streaming the
// per-record exports. Memory stays flat: records are released as soon as
// they are processed, and what remains per request is a few integers.
//
// The runner calls Add from one goroutine and Finish once at the end.
type Pipeline struct {
	cfg         *config.Benchmark
	setup       Setup
	app         Applicability
	log         *slog.Logger
	target      *export.Target
	tokenSource string
	version     string

	recordProcs  []RecordProcessor
	resultProcs  []ResultsProcessor
	results      *MetricResults
	exporters    []export.Exporter
	recExporters []export.RecordExporter
	failed       map[export.RecordExporter]bool
	inputs       *export.Inputs
	schema       export.RecordSchema

	in   chan *record.Record
	out  chan processed
	wg   sync.WaitGroup
	done chan struct{}
	pool sync.Pool

	closed   atomic.Bool
	late     atomic.Int64 // records added after Finish
	procErrs atomic.Int64

	// Owned by the results goroutine.
	row     export.RecordRow
	metrics []export.MetricValue
	icl     []float64
}

type processed struct {
	rec *record.Record
	v   *Values
}

// queueLen bounds the records waiting between stages.
const queueLen = 1024

// NewPipeline validates the plan's metric settings, resolves the artifact
// directory and exporters, opens the streaming exports and starts the
// processing goroutines. rt may be nil.
func NewPipeline(cfg *config.Benchmark, rt *config.Runtime, s Setup) (*Pipeline, error) {
	if cfg == nil {
		return nil, errors.New("metrics: no benchmark configuration")
	}
	p := &Pipeline{cfg: cfg, setup: s, log: s.Logger, done: make(chan struct{}), version: s.Version,
		failed: map[export.RecordExporter]bool{}}
	if p.log == nil {
		p.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if p.version == "" {
		p.version = buildVersion()
	}
	p.app = Applicability{Streaming: s.Streaming, ProducesTokens: s.Endpoint.ProducesTokens, TokenizesInput: s.Endpoint.TokenizesInput}
	needTokens := p.app.ProducesTokens || p.app.TokenizesInput
	switch {
	case !needTokens:
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
	limit := 0
	if rt != nil {
		limit = rt.ExactStatsLimit
	}
	p.results = NewMetricResults(p.app, slos, limit, cfg.Output.SliceDuration)
	p.recordProcs = s.RecordProcessors
	if p.recordProcs == nil {
		p.recordProcs = []RecordProcessor{NewRecordMetrics(p.app, cfg.ServerTokenCount, s.Tokenizer)}
	}
	p.resultProcs = append([]ResultsProcessor{p.results}, s.ResultsProcessors...)

	dir := s.ArtifactDir
	if dir == "" {
		dir = export.ArtifactDir(cfg, s.Endpoint.ServiceKind, s.EndpointType, s.Stimulus)
	}
	p.target = &export.Target{Dir: dir, Prefix: cfg.Output.Prefix, Config: cfg}
	if err := p.resolveExporters(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("metrics: artifact directory: %w", err)
	}
	p.schema = p.recordSchema()
	for i, re := range p.recExporters {
		if err := re.Begin(p.target, &p.schema); err != nil {
			for _, prev := range p.recExporters[:i] {
				if a, ok := prev.(export.Aborter); ok {
					a.Abort()
				}
			}
			return nil, fmt.Errorf("metrics: %s export: %w", re.Kind(), err)
		}
	}

	workers := s.Workers
	if workers <= 0 {
		workers = 1
		if needTokens && !cfg.ServerTokenCount {
			workers = min(runtime.GOMAXPROCS(0), 4)
		}
	}
	p.pool.New = func() any { return &Values{} }
	p.in = make(chan *record.Record, queueLen)
	p.out = make(chan processed, queueLen)
	p.wg.Add(workers)
	for range workers {
		go p.work()
	}
	go p.fold()
	return p, nil
}

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// resolveExporters picks the exporters: the runner's, the plan's names, or
// the defaults of the export level.
func (p *Pipeline) resolveExporters() error {
	exps := p.setup.Exporters
	if exps == nil {
		names := p.cfg.Output.Exporters
		if names == nil {
			for _, b := range export.Builtins() {
				if b.Default(p.cfg.Output.ExportLevel, p.cfg.Output.SliceDuration > 0) {
					names = append(names, b.Name)
				}
			}
		}
		for _, n := range names {
			e, err := export.New(n)
			if err != nil {
				return fmt.Errorf("metrics: %w", err)
			}
			exps = append(exps, e)
		}
	}
	// The JSON summary goes last so it can list every other artifact.
	var last []export.Exporter
	for _, e := range exps {
		if e.Kind() == export.KindJSON {
			last = append(last, e)
			continue
		}
		p.exporters = append(p.exporters, e)
		if re, ok := e.(export.RecordExporter); ok {
			p.recExporters = append(p.recExporters, re)
		}
		switch in := e.(type) {
		case export.Inputs:
			p.inputs = &in
		case *export.Inputs:
			p.inputs = in
		}
	}
	p.exporters = append(p.exporters, last...)
	return nil
}

func (p *Pipeline) recordSchema() export.RecordSchema {
	var s export.RecordSchema
	for id := range recordDefs {
		if d := &recordDefs[id]; p.app.Applies(d.Flags) {
			s.Metrics = append(s.Metrics, export.Column{Tag: d.Tag, Unit: d.Unit, Integer: d.Integer})
		}
	}
	s.ICL = p.app.Applies(iclDef.Flags)
	s.ICLUnit = iclDef.Unit
	return s
}

// Dir returns the artifact directory.
func (p *Pipeline) Dir() string { return p.target.Dir }

// TokenSource says where token counts come from: "server",
// "client:<tokenizer>" or "none".
func (p *Pipeline) TokenSource() string { return p.tokenSource }

// WriteInputs writes inputs.json from the dataset's payloads (one session
// per conversation, payloads in send order) when the inputs exporter is
// enabled. The runner calls it before the run.
func (p *Pipeline) WriteInputs(sessions iter.Seq2[export.InputSession, error]) error {
	if p.inputs == nil {
		return nil
	}
	return p.inputs.Write(p.target, sessions)
}

// Add hands a finished record to the pipeline, which owns it from now on.
// It blocks only when processing falls a queue behind. Call Add from one
// goroutine, never after Finish.
func (p *Pipeline) Add(rec *record.Record) {
	if p.closed.Load() {
		p.late.Add(1)
		p.release(rec)
		return
	}
	p.in <- rec
}

// Live returns the running counters and medians for progress displays.
func (p *Pipeline) Live() Live { return p.results.Live() }

// LiveMetrics returns the running statistics (see MetricResults.LiveMetrics).
func (p *Pipeline) LiveMetrics() []results.Metric { return p.results.LiveMetrics() }

func (p *Pipeline) release(rec *record.Record) {
	if p.setup.Release != nil {
		p.setup.Release(rec)
	}
}

// work computes record metrics.
func (p *Pipeline) work() {
	defer p.wg.Done()
	for rec := range p.in {
		v := p.pool.Get().(*Values)
		for _, rp := range p.recordProcs {
			if err := rp.ProcessRecord(rec, v); err != nil {
				if p.procErrs.Add(1) == 1 {
					p.log.Warn("record processor failed", "error", err)
				}
			}
		}
		p.out <- processed{rec, v}
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
	for {
		var it processed
		var ok bool
		select {
		case it, ok = <-p.out:
			if !ok {
				return
			}
		case <-tick.C:
			p.flushStreams()
			continue
		}
		for _, rp := range p.resultProcs {
			if err := rp.ProcessResult(it.rec, it.v); err != nil {
				if p.procErrs.Add(1) == 1 {
					p.log.Warn("results processor failed", "error", err)
				}
			}
		}
		if len(p.recExporters) > 0 {
			p.exportRecord(it.rec, it.v)
		}
		p.release(it.rec)
		p.pool.Put(it.v)
	}
}

// flushStreams pushes buffered record lines to their files.
func (p *Pipeline) flushStreams() {
	for _, re := range p.recExporters {
		if f, ok := re.(export.Flusher); ok && !p.failed[re] {
			if err := f.Flush(); err != nil {
				p.failed[re] = true
				p.log.Error("record export failed; later records are not written to it", "kind", re.Kind(), "error", err)
			}
		}
	}
}

func (p *Pipeline) exportRecord(rec *record.Record, v *Values) {
	p.metrics = p.metrics[:0]
	for id := range v.V {
		x := v.V[id]
		if x != x { // NaN: absent
			continue
		}
		d := &recordDefs[id]
		p.metrics = append(p.metrics, export.MetricValue{Tag: d.Tag, Unit: d.Unit, Value: x * d.Scale, Integer: d.Integer})
	}
	p.icl = p.icl[:0]
	for _, g := range v.ICL {
		p.icl = append(p.icl, g*iclDef.Scale)
	}
	p.row = export.RecordRow{Rec: rec, Metrics: p.metrics, ICL: p.icl}
	for _, re := range p.recExporters {
		if p.failed[re] {
			continue
		}
		if err := re.WriteRecord(&p.row); err != nil {
			p.failed[re] = true
			p.log.Error("record export failed; later records are not written to it", "kind", re.Kind(), "error", err)
		}
	}
}

// Finish drains the records added so far, computes the Summary and writes
// every artifact. info.WasCancelled (Ctrl-C) is reported in the artifacts;
// everything measured is still written. Export errors are returned joined,
// with the Summary.
func (p *Pipeline) Finish(ctx context.Context, info results.RunInfo) (*results.Summary, error) {
	if p.closed.Swap(true) {
		return nil, errors.New("metrics: Finish called twice")
	}
	close(p.in)
	p.wg.Wait()
	close(p.out)
	<-p.done

	if info.EndpointType == "" {
		info.EndpointType = p.setup.EndpointType
	}
	if info.Endpoint == (plugin.EndpointMetadata{}) {
		info.Endpoint = p.setup.Endpoint
	}
	info.ArtifactDir = p.target.Dir
	if !info.Streaming {
		info.Streaming = p.setup.Streaming
	}
	sum := &results.Summary{Info: info, Config: p.cfg, TokenSource: p.tokenSource, Version: p.version,
		Files: map[string]string{}}
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
	for _, e := range p.exporters {
		if re, ok := e.(export.RecordExporter); ok && p.failed[re] {
			if a, ok := e.(export.Aborter); ok {
				a.Abort()
			}
			errs = append(errs, fmt.Errorf("metrics: %s export failed during the run", e.Kind()))
			continue
		}
		if e.Kind() == export.KindJSON {
			sum.Files[export.KindJSON] = p.target.Path(export.KindJSON)
		}
		path, err := e.Export(ctx, p.target, sum)
		if err != nil {
			errs = append(errs, fmt.Errorf("metrics: %s export: %w", e.Kind(), err))
			delete(sum.Files, e.Kind())
			continue
		}
		if path != "" {
			sum.Files[e.Kind()] = path
		}
	}
	return sum, errors.Join(errs...)
}
