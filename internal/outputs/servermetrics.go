package outputs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/runner"
	"github.com/loadstar/loadstar/engine/servermetrics"
	"github.com/loadstar/loadstar/internal/export"
)

// defaultGPUEndpoints are AIPerf's default DCGM exporter ports, tried
// quietly on every run unless GPU telemetry is off.
var defaultGPUEndpoints = []string{"http://localhost:9400/metrics", "http://localhost:9401/metrics"}

// serverScrape scrapes the step's servers while it runs: a PhaseObserver
// that opens the collection window at the profiling phase's edges, and the
// files the collection streams to.
type serverScrape struct {
	cfg     *config.ServerMetrics
	c       *servermetrics.Collector
	jsonl   *export.ServerMetricsJSONL
	gpu     *export.GPUTelemetryJSONL
	parquet *export.ServerMetricsParquet
	dir     string
	prefix  string
}

// scrapeTargets are the URLs a step scrapes: every distinct server behind
// the endpoint's URLs and the configured extras; the configured GPU
// exporters and, quietly, the default DCGM ports.
func scrapeTargets(st *runner.Step) (server, gpu, quiet []string, err error) {
	sm := &st.Config.ServerMetrics
	seen := map[string]bool{}
	add := func(list *[]string, u string) {
		if !seen[u] {
			seen[u] = true
			*list = append(*list, u)
		}
	}
	for _, u := range st.Settings.URLs {
		m, err := servermetrics.MetricsURL(u)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("server_metrics: endpoint URL: %w", err)
		}
		add(&server, m)
	}
	for _, u := range sm.URLs {
		n, err := servermetrics.NormalizeURL(u)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("server_metrics.urls: %w", err)
		}
		add(&server, n)
	}
	if sm.GPUOff {
		return server, nil, nil, nil
	}
	for _, u := range sm.GPU {
		n, err := servermetrics.NormalizeURL(u)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("server_metrics.gpu: %w", err)
		}
		add(&gpu, n)
	}
	for _, u := range defaultGPUEndpoints {
		if !seen[u] {
			add(&gpu, u)
			quiet = append(quiet, u)
		}
	}
	return server, gpu, quiet, nil
}

// startServerScrape starts scraping for a planned step (nil when off).
// The time-series files go to dir.
func startServerScrape(ctx context.Context, st *runner.Step, dir string, log *slog.Logger) (*serverScrape, error) {
	sm := &st.Config.ServerMetrics
	if sm.Off {
		return nil, nil
	}
	server, gpu, quiet, err := scrapeTargets(st)
	if err != nil {
		return nil, err
	}
	s := &serverScrape{cfg: sm, dir: dir, prefix: st.Config.Output.Prefix}
	var sinks []servermetrics.Sink
	if sm.WantsFormat("jsonl") {
		if s.jsonl, err = export.OpenServerMetricsJSONL(export.ServerMetricsPath(dir, s.prefix, export.KindServerMetricsJSONL)); err != nil {
			return nil, err
		}
		sinks = append(sinks, s.jsonl)
	}
	if sm.WantsFormat("parquet") {
		s.parquet = export.OpenServerMetricsParquet(export.ServerMetricsPath(dir, s.prefix, export.KindServerMetricsParquet))
		sinks = append(sinks, s.parquet)
	}
	if len(gpu) > 0 {
		if s.gpu, err = export.OpenGPUTelemetryJSONL(export.ServerMetricsPath(dir, s.prefix, export.KindGPUTelemetryJSONL)); err != nil {
			return nil, err
		}
		sinks = append(sinks, s.gpu)
	}
	s.c = servermetrics.Start(ctx, servermetrics.Config{Server: server, GPU: gpu, Quiet: quiet,
		Interval: sm.Interval, SliceDuration: st.Config.Output.SliceDuration, Sinks: sinks, Logger: log})
	return s, nil
}

// Progress implements runner.Observer.
func (s *serverScrape) Progress(runner.Progress) {}

// PhaseStart implements runner.PhaseObserver: the profiling phase's
// reference scrape.
func (s *serverScrape) PhaseStart(ph record.Phase) {
	if ph == record.Profiling {
		s.c.BeginWindow()
	}
}

// PhaseEnd implements runner.PhaseObserver: the profiling phase's last scrape.
func (s *serverScrape) PhaseEnd(ph record.Phase) {
	if ph == record.Profiling {
		s.c.EndWindow()
	}
}

// finish stops scraping, joins what the servers reported to sum (with the
// client-vs-server reconciliation) and writes the server-metrics files.
func (s *serverScrape) finish(sum *results.Summary) error {
	sm := s.c.Stop()
	sum.Server = sm
	sm.Reconciliation = servermetrics.Reconcile(sum, sm, s.cfg.TolerancePct)
	if sum.Files == nil {
		sum.Files = map[string]string{}
	}
	var errs []error
	keep := func(kind, path string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("outputs: %s: %w", kind, err))
		} else if path != "" {
			sum.Files[kind] = path
		}
	}
	for _, f := range []struct {
		format, kind string
		render       func(*results.Summary) ([]byte, error)
	}{{"json", export.KindServerMetricsJSON, export.ServerMetricsJSON}, {"csv", export.KindServerMetricsCSV, export.ServerMetricsCSV}} {
		if !s.cfg.WantsFormat(f.format) {
			continue
		}
		data, err := f.render(sum)
		if err != nil || data == nil {
			keep(f.kind, "", err)
			continue
		}
		path := export.ServerMetricsPath(s.dir, s.prefix, f.kind)
		keep(f.kind, path, export.WriteFileAtomic(path, data))
	}
	if s.jsonl != nil {
		path, err := s.jsonl.Close()
		keep(export.KindServerMetricsJSONL, path, err)
	}
	if s.gpu != nil {
		path, err := s.gpu.Close()
		keep(export.KindGPUTelemetryJSONL, path, err)
	}
	if s.parquet != nil {
		path, notes, err := s.parquet.Finish(sum)
		keep(export.KindServerMetricsParquet, path, err)
		sm.Warnings = append(sm.Warnings, notes...)
	}
	return errors.Join(errs...)
}

// abort stops scraping for a step that ended without results.
func (s *serverScrape) abort() {
	s.c.Stop()
	if s.jsonl != nil {
		_, _ = s.jsonl.Close()
	}
	if s.gpu != nil {
		_, _ = s.gpu.Close()
	}
	if s.parquet != nil {
		s.parquet.Abort()
	}
}
