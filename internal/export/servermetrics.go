package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/servermetrics"
)

// ServerMetricsSchemaVersion is the schema of server_metrics_export.json
// and .csv written (AIPerf's).
const ServerMetricsSchemaVersion = "1.0"

// Server-metrics artifact kinds (keys of Summary.Files).
const (
	KindServerMetricsJSON    = "server_metrics_json"
	KindServerMetricsCSV     = "server_metrics_csv"
	KindServerMetricsJSONL   = "server_metrics_jsonl"
	KindServerMetricsParquet = "server_metrics_parquet"
	KindGPUTelemetryJSONL    = "gpu_telemetry_jsonl"
)

// ServerMetricsPath is where a server-metrics artifact goes: AIPerf's
// server_metrics_export.<ext> and gpu_telemetry_export.jsonl, or
// <prefix>_server_metrics.<ext> and <prefix>_gpu_telemetry.jsonl when the
// profile_export files are renamed.
func ServerMetricsPath(dir, prefix, kind string) string {
	base, ext := "server_metrics", ""
	switch kind {
	case KindServerMetricsJSON:
		ext = ".json"
	case KindServerMetricsCSV:
		ext = ".csv"
	case KindServerMetricsJSONL:
		ext = ".jsonl"
	case KindServerMetricsParquet:
		ext = ".parquet"
	case KindGPUTelemetryJSONL:
		base, ext = "gpu_telemetry", ".jsonl"
	}
	p := strings.TrimSuffix(prefix, filepath.Ext(prefix))
	if prefix != "" && !knownExt(filepath.Ext(prefix)) {
		p = prefix
	}
	if p == "" {
		return filepath.Join(dir, base+"_export"+ext)
	}
	return filepath.Join(dir, p+"_"+base+ext)
}

// ServerMetricsJSON renders the server metrics of sum in the layout of
// AIPerf's server_metrics_export.json: summary (endpoints and how scraping
// went), metrics by name with one entry per endpoint and label set, and
// input_config; loadstar's named figures, reconciliation and warnings follow
// in a "loadstar" block. It returns nil when nothing was scraped.
func ServerMetricsJSON(sum *results.Summary) ([]byte, error) {
	sm := sum.Server
	if !hasServerData(sm) {
		return nil, nil
	}
	m := ordered.New(8)
	m.Set("schema_version", ServerMetricsSchemaVersion)
	m.Set("aiperf_version", "loadstar "+or(sum.Version, "dev"))
	if sum.Info.BenchmarkID != "" {
		m.Set("benchmark_id", sum.Info.BenchmarkID)
	}
	m.Set("summary", serverSummary(sm))
	metrics := ordered.New(len(sm.Families))
	for i := range sm.Families {
		metrics.Set(sm.Families[i].Name, familyJSON(&sm.Families[i]))
	}
	m.Set("metrics", metrics)
	if sum.Config != nil || sum.InputConfig != nil {
		m.Set("input_config", inputConfigOf(sum))
	}
	m.Set("loadstar", serverLoadstarBlock(sm))
	return indentJSON(m, "server metrics JSON")
}

// hasServerData reports whether anything was scraped from a server endpoint.
func hasServerData(sm *results.ServerMetrics) bool {
	if sm == nil {
		return false
	}
	for _, e := range sm.Endpoints {
		if e.Kind == results.EndpointServer && e.Successful {
			return true
		}
	}
	return false
}

func indentJSON(m *ordered.Map, what string) ([]byte, error) {
	compact, err := m.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("export: %s: %w", what, err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		return nil, fmt.Errorf("export: %s: %w", what, err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func serverSummary(sm *results.ServerMetrics) *ordered.Map {
	var configured, successful []any
	info := ordered.New(len(sm.Endpoints))
	for _, e := range sm.Endpoints {
		if e.Kind != results.EndpointServer {
			continue
		}
		configured = append(configured, e.URL)
		if !e.Successful {
			continue
		}
		successful = append(successful, e.URL)
		b := ordered.New(10)
		b.Set("total_fetches", e.TotalFetches)
		b.Set("first_fetch_ns", e.FirstFetchNs)
		b.Set("last_fetch_ns", e.LastFetchNs)
		b.Set("avg_fetch_latency_ms", pyFloat(e.AvgFetchLatencyMs))
		b.Set("unique_updates", e.UniqueUpdates)
		b.Set("first_update_ns", e.FirstUpdateNs)
		b.Set("last_update_ns", e.LastUpdateNs)
		b.Set("duration_seconds", pyFloat(e.DurationSeconds()))
		b.Set("avg_update_interval_ms", pyFloat(e.AvgUpdateIntervalMs))
		b.Set("median_update_interval_ms", pyFloat(e.MedianUpdateIntervalMs))
		info.Set(e.URL, b)
	}
	s := ordered.New(5)
	s.Set("endpoints_configured", emptyList(configured))
	s.Set("endpoints_successful", emptyList(successful))
	s.Set("start_time", isoTime(sm.WindowStart))
	s.Set("end_time", isoTime(sm.WindowEnd))
	if info.Len() > 0 {
		s.Set("endpoint_info", info)
	}
	return s
}

func emptyList(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

func familyJSON(f *results.ServerFamily) *ordered.Map {
	b := ordered.New(4)
	b.Set("type", f.Type)
	b.Set("description", f.Help)
	if f.Unit != "" {
		b.Set("unit", f.Unit)
	}
	series := make([]any, 0, len(f.Series))
	for i := range f.Series {
		series = append(series, seriesJSON(&f.Series[i]))
	}
	b.Set("series", series)
	return b
}

func labelsJSON(ls []results.Label) *ordered.Map {
	m := ordered.New(len(ls))
	for _, l := range ls {
		m.Set(l.Name, l.Value)
	}
	return m
}

// count is a whole count as an int, anything else as a float.
func count(v float64) any { return number(v, true) }

func seriesJSON(s *results.ServerSeries) *ordered.Map {
	b := ordered.New(5)
	b.Set("endpoint_url", s.Endpoint)
	if len(s.Labels) > 0 {
		b.Set("labels", labelsJSON(s.Labels))
	}
	st := ordered.New(14)
	for _, kv := range seriesStats(s) {
		st.Set(kv.key, kv.val)
	}
	b.Set("stats", st)
	if h := s.Histogram; h != nil {
		b.Set("buckets", bucketsJSON(h.Buckets))
	}
	if len(s.Slices) > 0 {
		var sl []any
		for i := range s.Slices {
			sl = append(sl, sliceJSON(s, &s.Slices[i]))
		}
		b.Set("timeslices", sl)
	}
	return b
}

// stat is one named statistic of a series, in AIPerf's field order.
type stat struct {
	key string
	val any
}

// seriesStats are a series' stats as AIPerf writes them: gauges avg … p99,
// counters total and rate (the rate spread with time slices), histograms
// count … p99_estimate (count alone without observations).
func seriesStats(s *results.ServerSeries) []stat {
	switch {
	case s.Gauge != nil:
		g := s.Gauge
		return []stat{{"avg", pyFloat(g.Avg)}, {"min", pyFloat(g.Min)}, {"max", pyFloat(g.Max)}, {"std", pyFloat(g.Std)},
			{"p1", pyFloat(g.P1)}, {"p5", pyFloat(g.P5)}, {"p10", pyFloat(g.P10)}, {"p25", pyFloat(g.P25)},
			{"p50", pyFloat(g.P50)}, {"p75", pyFloat(g.P75)}, {"p90", pyFloat(g.P90)}, {"p95", pyFloat(g.P95)}, {"p99", pyFloat(g.P99)}}
	case s.Counter != nil:
		c := s.Counter
		out := []stat{{"total", pyFloat(c.Total)}, {"rate", pyFloat(c.Rate)}}
		if c.HasRates {
			out = append(out, stat{"rate_avg", pyFloat(c.RateAvg)}, stat{"rate_min", pyFloat(c.RateMin)},
				stat{"rate_max", pyFloat(c.RateMax)}, stat{"rate_std", pyFloat(c.RateStd)})
		}
		return out
	case s.Histogram != nil:
		h := s.Histogram
		if h.Count == 0 {
			return []stat{{"count", 0}}
		}
		return []stat{{"count", count(h.Count)}, {"sum", pyFloat(h.Sum)}, {"avg", pyFloat(h.Avg)},
			{"count_rate", pyFloat(h.CountRate)}, {"sum_rate", pyFloat(h.SumRate)},
			{"p1_estimate", pyFloat(h.P1)}, {"p5_estimate", pyFloat(h.P5)}, {"p10_estimate", pyFloat(h.P10)},
			{"p25_estimate", pyFloat(h.P25)}, {"p50_estimate", pyFloat(h.P50)}, {"p75_estimate", pyFloat(h.P75)},
			{"p90_estimate", pyFloat(h.P90)}, {"p95_estimate", pyFloat(h.P95)}, {"p99_estimate", pyFloat(h.P99)}}
	}
	return nil
}

func bucketsJSON(bs []results.Bucket) *ordered.Map {
	m := ordered.New(len(bs))
	for _, b := range bs {
		m.Set(servermetrics.FormatLe(b.Le), count(b.Count))
	}
	return m
}

func sliceJSON(s *results.ServerSeries, sl *results.ServerSlice) *ordered.Map {
	b := ordered.New(8)
	b.Set("start_ns", sl.StartNs)
	b.Set("end_ns", sl.EndNs)
	if !sl.Complete {
		b.Set("is_complete", false)
	}
	switch {
	case s.Gauge != nil:
		b.Set("avg", pyFloat(sl.Avg))
		b.Set("min", pyFloat(sl.Min))
		b.Set("max", pyFloat(sl.Max))
	case s.Counter != nil:
		b.Set("total", pyFloat(sl.Total))
		b.Set("rate", pyFloat(sl.Rate))
	case s.Histogram != nil:
		b.Set("count", count(sl.Count))
		b.Set("sum", pyFloat(sl.Sum))
		b.Set("avg", pyFloat(sl.Avg))
		b.Set("buckets", bucketsJSON(sl.Buckets))
	}
	return b
}

// serverLoadstarBlock holds what AIPerf's file has no place for: the named
// figures, the client-vs-server reconciliation and the scrape warnings.
func serverLoadstarBlock(sm *results.ServerMetrics) *ordered.Map {
	b := ordered.New(3)
	figs := ordered.New(len(sm.Figures))
	for i := range sm.Figures {
		figs.Set(sm.Figures[i].Name, FigureJSON(&sm.Figures[i]))
	}
	b.Set("figures", figs)
	var rec []any
	for _, c := range sm.Reconciliation {
		r := ordered.New(9)
		r.Set("check", c.Name)
		r.Set("client", pyFloat(c.Client))
		r.Set("server", pyFloat(c.Server))
		r.Set("unit", c.Unit)
		r.Set("diff_pct", pyFloat(c.DiffPct))
		r.Set("tolerance_pct", pyFloat(c.TolerancePct))
		r.Set("ok", c.OK)
		r.Set("source", c.Source)
		if c.Note != "" {
			r.Set("note", c.Note)
		}
		rec = append(rec, r)
	}
	b.Set("reconciliation", emptyList(rec))
	warnings := make([]any, len(sm.Warnings))
	for i, w := range sm.Warnings {
		warnings[i] = w
	}
	b.Set("warnings", warnings)
	return b
}

// FigureJSON renders a named server figure: its unit, server and source,
// then its value (totals) or statistics (gauges, distributions).
func FigureJSON(f *results.ServerFigure) *ordered.Map {
	b := ordered.New(20)
	b.Set("unit", f.Unit)
	b.Set("server", f.Server)
	b.Set("source", f.Source)
	if f.Stats == nil {
		b.Set("value", pyFloat(f.Value))
		setFigureSlices(b, f)
		return b
	}
	st := f.Stats
	for _, kv := range []stat{{"avg", pyFloat(st.Avg)}, {"p1", pyFloat(st.P1)}, {"p5", pyFloat(st.P5)}, {"p10", pyFloat(st.P10)},
		{"p25", pyFloat(st.P25)}, {"p50", pyFloat(st.P50)}, {"p75", pyFloat(st.P75)}, {"p90", pyFloat(st.P90)},
		{"p95", pyFloat(st.P95)}, {"p99", pyFloat(st.P99)}} {
		b.Set(kv.key, kv.val)
	}
	if f.Kind == results.FigureGauge {
		b.Set("min", pyFloat(st.Min))
		b.Set("max", pyFloat(st.Max))
		b.Set("std", pyFloat(st.Std))
	} else {
		b.Set("sum", pyFloat(st.Sum))
	}
	b.Set("count", st.Count)
	setFigureSlices(b, f)
	return b
}

// setFigureSlices adds a figure's time slices: its value (a gauge's avg,
// min and max; a distribution's count, p50 and p99) in each.
func setFigureSlices(b *ordered.Map, f *results.ServerFigure) {
	if len(f.Slices) == 0 {
		return
	}
	out := make([]any, len(f.Slices))
	for i, sl := range f.Slices {
		m := ordered.New(7)
		m.Set("start_ns", sl.StartNs)
		m.Set("end_ns", sl.EndNs)
		if !sl.Complete {
			m.Set("is_complete", false)
		}
		switch f.Kind {
		case results.FigureGauge:
			m.Set("avg", pyFloat(sl.Value))
			m.Set("min", pyFloat(sl.Min))
			m.Set("max", pyFloat(sl.Max))
		case results.FigureDistribution:
			m.Set("count", count(sl.Count))
			m.Set("avg", pyFloat(sl.Value))
			m.Set("p50", pyFloat(sl.P50))
			m.Set("p99", pyFloat(sl.P99))
		default:
			m.Set("value", pyFloat(sl.Value))
		}
		out[i] = m
	}
	b.Set("timeslices", out)
}
