package outputs

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/runner"
	"github.com/loadstar/loadstar/internal/export"
	"github.com/loadstar/loadstar/internal/metrics"
)

// artifacts are the files of one step: the exporters the plan selects,
// their directory, and the record streams among them. It is the step's
// record sink (runner.RecordSink): WriteRecord and Flush are called from
// the metrics pipeline's one folding goroutine, finish once at the end.
//
// Spoolable streams (profile_export.jsonl, Parquet) get their records
// through a spool: kept compactly during the run, written when it ends,
// or every second while the run is slow (see Flush). The others (the raw
// export, which needs each record's payload and answer) get each record
// as it comes.
type artifacts struct {
	// mu serializes the record streams between the folding goroutine and
	// flushForExit (a second Ctrl-C), after which exiting drops records.
	mu        sync.Mutex
	exiting   bool
	target    *export.Target
	exporters []export.Exporter // in run order, the JSON summary last
	streams   []recordStream
	inputs    *export.Inputs
	log       *slog.Logger
	// spool holds the spooled streams' records not yet written (nil when
	// no stream is spooled); sinceFlush counts the records since the last
	// Flush.
	spool      *spool
	schema     results.RecordSchema
	sinceFlush int
	// stopDrain asks the drain RecordsDone started to stop at a record's
	// end (an immediate exit).
	stopDrain atomic.Bool
}

// recordStream is a record exporter and whether it has failed: a failed
// stream gets no further records and is aborted at the end. A spooled one
// gets its records from the spool; a readable one (export.Flusher) can be
// read before its end, so it is worth writing when the step will not finish.
type recordStream struct {
	export.RecordExporter
	failed, spooled, readable bool
}

// openArtifacts resolves the plan's exporters (cfg.Output.Exporters, or the
// defaults of its export level), creates dir and begins the record streams.
func openArtifacts(cfg *config.Benchmark, dir string, schema results.RecordSchema, log *slog.Logger) (*artifacts, error) {
	a := &artifacts{target: &export.Target{Dir: dir, Prefix: cfg.Output.Prefix, Config: cfg}, log: log, schema: schema}
	if err := a.resolve(cfg); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("outputs: artifact directory: %w", err)
	}
	for i := range a.streams {
		s := &a.streams[i]
		if err := s.Begin(a.target, &a.schema); err != nil {
			a.abortStreams(a.streams[:i])
			return nil, fmt.Errorf("outputs: %s export: %w", s.Kind(), err)
		}
		_, s.spooled = s.RecordExporter.(export.Spoolable)
		_, s.readable = s.RecordExporter.(export.Flusher)
		if s.spooled && a.spool == nil {
			sp, err := openSpool(dir, &a.schema)
			if err != nil {
				a.abortStreams(a.streams[:i+1])
				return nil, fmt.Errorf("outputs: %w", err)
			}
			a.spool = sp
		}
	}
	return a, nil
}

func (a *artifacts) abortStreams(streams []recordStream) {
	for _, s := range streams {
		if ab, ok := s.RecordExporter.(export.Aborter); ok {
			ab.Abort()
		}
	}
}

// resolve builds the exporters by name; the JSON summary goes last so it
// can list every other artifact.
func (a *artifacts) resolve(cfg *config.Benchmark) error {
	names := cfg.Output.Exporters
	if names == nil {
		for _, b := range export.Builtins() {
			if b.Default(cfg.Output.ExportLevel, cfg.Output.SliceDuration > 0) {
				names = append(names, b.Name)
			}
		}
	}
	var last []export.Exporter
	for _, n := range names {
		e, err := export.New(n)
		if err != nil {
			return fmt.Errorf("outputs: %w", err)
		}
		if e.Kind() == export.KindJSON {
			last = append(last, e)
			continue
		}
		a.exporters = append(a.exporters, e)
		if re, ok := e.(export.RecordExporter); ok {
			a.streams = append(a.streams, recordStream{RecordExporter: re})
		}
		switch in := e.(type) {
		case export.Inputs:
			a.inputs = &in
		case *export.Inputs:
			a.inputs = in
		}
	}
	a.exporters = append(a.exporters, last...)
	return nil
}

// writeInputs writes inputs.json from the step's payloads when the inputs
// exporter is selected.
func (a *artifacts) writeInputs(st *runner.Step) error {
	if a.inputs == nil {
		return nil
	}
	return a.inputs.Write(a.target, inputSessions(st.Payloads()))
}

func inputSessions(p iter.Seq2[runner.SessionPayloads, error]) iter.Seq2[export.InputSession, error] {
	return func(yield func(export.InputSession, error) bool) {
		for s, err := range p {
			if !yield(export.InputSession(s), err) {
				return
			}
		}
	}
}

// sinks is the artifacts as the metrics pipeline's record sinks: none when
// no record stream is written, so that the pipeline skips building rows.
func (a *artifacts) sinks() []metrics.RecordSink {
	if len(a.streams) == 0 {
		return nil
	}
	return []metrics.RecordSink{a}
}

// WriteRecord implements runner.RecordSink.
func (a *artifacts) WriteRecord(row *results.RecordRow) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.exiting {
		return
	}
	a.sinceFlush++
	spool := false
	for i := range a.streams {
		s := &a.streams[i]
		switch {
		case s.failed:
		case s.spooled:
			spool = true
		default:
			if err := s.RecordExporter.WriteRecord(row); err != nil {
				a.fail(s, err)
			}
		}
	}
	if spool && a.spool != nil { // nil once the step's files are written
		if err := a.spool.append(row); err != nil {
			a.failSpooled(err)
		}
	}
}

// drainBelow is the record rate (per Flush, that is per second) under
// which Flush drains the spool during the run: writing that many records
// costs a few milliseconds, spread by drain's yields, so slow runs keep
// their record files current (tail -f, a killed process) while fast ones
// spend their CPU on sending.
const drainBelow = 1000

// Flush pushes records to their files (runner.RecordSink's optional
// Flush, called every second): the spooled ones too when fewer than
// drainBelow records came since the last call.
func (a *artifacts) Flush() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.exiting {
		return
	}
	if a.sinceFlush < drainBelow {
		a.drain(drainDuringRun)
	}
	a.sinceFlush = 0
	a.flush()
}

// RecordsDone starts writing the spooled records to their files as soon
// as the step's last record is in (the metrics pipeline calls it before it
// computes the step's results): the two are independent and both take a
// while after a long run, so on a machine with a core to spare the files
// are written while the statistics are computed. The writing holds mu:
// finish and abort wait for it (or, if they come first, write the records
// themselves and leave it nothing); an immediate exit stops it at a
// record's end first.
func (a *artifacts) RecordsDone() {
	go func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if !a.exiting {
			a.drain(drainMode{stop: &a.stopDrain})
		}
	}()
}

// flushForExit writes what the record streams hold to their files before
// the process exits at once (a second Ctrl-C); records that come later are
// dropped, so that no half-written one follows.
func (a *artifacts) flushForExit() {
	a.stopDrain.Store(true)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.drain(drainForExit)
	a.flush()
	a.exiting = true
}

func (a *artifacts) flush() {
	for i := range a.streams {
		s := &a.streams[i]
		if f, ok := s.RecordExporter.(export.Flusher); ok && !s.failed {
			if err := f.Flush(); err != nil {
				a.fail(s, err)
			}
		}
	}
}

// drainYield is how many records drain writes between yields during the
// run, and between looks at the clock before an immediate exit.
const drainYield = 16

// drainMode is how drain runs. During the run it lets other goroutines run
// every drainYield records, so that a single-core client's schedule is not
// held up behind it. When the step will not finish (a failure, an
// immediate exit) it writes only the readable streams: a Parquet file
// without its footer is dropped anyway. Before an immediate exit it stops
// at a record's end once limit has passed; a drain that runs beside the
// results' computation (RecordsDone) stops there once stop is set.
type drainMode struct {
	yield, readableOnly bool
	limit               time.Duration
	stop                *atomic.Bool
}

var (
	drainAll       = drainMode{}
	drainDuringRun = drainMode{yield: true}
	drainForAbort  = drainMode{readableOnly: true}
	drainForExit   = drainMode{readableOnly: true, limit: ExitDrainLimit}
)

// ExitDrainLimit bounds how long a second Ctrl-C's flush writes spooled
// records, so that it ends on a whole line before the command's own limit
// for an immediate exit (cmd/loadstar's exitFlushLimit is derived from it).
const ExitDrainLimit = 1500 * time.Millisecond

// drain writes the spooled records to the spooled streams (see drainMode).
func (a *artifacts) drain(mode drainMode) {
	if a.spool == nil || !a.spool.pending() {
		return
	}
	n, until := 0, time.Now().Add(mode.limit)
	err := a.spool.drain(func(row *results.RecordRow) bool {
		for i := range a.streams {
			s := &a.streams[i]
			if !s.spooled || s.failed || mode.readableOnly && !s.readable {
				continue
			}
			if err := s.RecordExporter.WriteRecord(row); err != nil {
				a.fail(s, err)
			}
		}
		if n++; n%drainYield == 0 {
			if mode.yield {
				runtime.Gosched()
			}
			if mode.limit > 0 && time.Now().After(until) {
				return false
			}
			if mode.stop != nil && mode.stop.Load() {
				return false
			}
		}
		return true
	})
	if err != nil {
		a.failSpooled(err)
	}
}

// failSpooled fails every spooled stream (the spool could not be written
// or read).
func (a *artifacts) failSpooled(err error) {
	for i := range a.streams {
		if s := &a.streams[i]; s.spooled && !s.failed {
			a.fail(s, err)
		}
	}
}

func (a *artifacts) fail(s *recordStream, err error) {
	s.failed = true
	a.log.Error("record export failed; later records are not written to it", "kind", s.Kind(), "error", err)
}

// finish writes every artifact of sum and records them in sum.Files and
// sum.Info.ArtifactDir. A stream that failed during the run is aborted
// and reported; the other artifacts are still written. Errors are joined.
func (a *artifacts) finish(ctx context.Context, sum *results.Summary) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closeSpool(drainAll)
	sum.Info.ArtifactDir = a.target.Dir
	if sum.Files == nil {
		sum.Files = map[string]string{}
	}
	failed := map[export.Exporter]bool{}
	for _, s := range a.streams {
		if s.failed {
			failed[s.RecordExporter] = true
		}
	}
	var errs []error
	for _, e := range a.exporters {
		if failed[e] {
			if ab, ok := e.(export.Aborter); ok {
				ab.Abort()
			}
			errs = append(errs, fmt.Errorf("outputs: %s export failed during the run", e.Kind()))
			continue
		}
		if e.Kind() == export.KindJSON {
			sum.Files[export.KindJSON] = a.target.Path(export.KindJSON)
		}
		path, err := e.Export(ctx, a.target, sum)
		if err != nil {
			errs = append(errs, fmt.Errorf("outputs: %s export: %w", e.Kind(), err))
			delete(sum.Files, e.Kind())
			continue
		}
		if path != "" {
			sum.Files[e.Kind()] = path
		}
	}
	return errors.Join(errs...)
}

// abort closes the record streams of a step that ended without results.
// What was spooled is written first: the JSONL keeps every record.
func (a *artifacts) abort() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closeSpool(drainForAbort)
	a.abortStreams(a.streams)
}

// closeSpool writes what the spool holds to the streams and removes it.
func (a *artifacts) closeSpool(mode drainMode) {
	if a.spool == nil {
		return
	}
	a.drain(mode)
	a.spool.close()
	a.spool = nil
}
