package results

import (
	"math"
	"strings"
	"time"
)

// ServerMetrics is what the server's own Prometheus endpoints (and NVIDIA
// DCGM exporters) reported while a step ran, scraped by engine/servermetrics.
// Statistics cover the profiling phase (the window); counter and histogram
// values are increases over it, measured from the last scrape before it.
// docs/server-metrics.md describes every part.
type ServerMetrics struct {
	// Start and End bound the collection (first to last scrape, wall clock).
	Start, End time.Time
	// WindowStart and WindowEnd bound the profiling phase.
	WindowStart, WindowEnd time.Time
	// Endpoints are every scraped URL, server endpoints first.
	Endpoints []ServerEndpoint
	// Families are the metrics of the server endpoints by name (AIPerf's
	// server_metrics_export.json), counters named without "_total".
	Families []ServerFamily
	// Figures are the named server figures (kv_cache_usage, ...) found in
	// the families, in the order of the view table.
	Figures []ServerFigure
	// GPUs are the GPUs the DCGM exporters reported, by endpoint then index.
	GPUs []GPU
	// Reconciliation compares the client's figures with the server's.
	Reconciliation []ReconcileCheck
	// Warnings are scrape failures and limits hit; none of them disturbed
	// the load.
	Warnings []string
}

// Endpoint kinds.
const (
	EndpointServer = "server" // an inference server's /metrics
	EndpointGPU    = "gpu"    // a DCGM exporter
)

// ServerEndpoint is one scraped URL and how scraping it went (AIPerf's
// summary.endpoint_info).
type ServerEndpoint struct {
	URL  string
	Kind string // EndpointServer or EndpointGPU
	// Successful is true when at least one scrape parsed.
	Successful bool
	// TotalFetches counts HTTP fetches that returned a body; UniqueUpdates
	// those whose body changed since the previous one.
	TotalFetches, UniqueUpdates int
	// FirstFetchNs ... LastUpdateNs are wall-clock Unix ns.
	FirstFetchNs, LastFetchNs, FirstUpdateNs, LastUpdateNs int64
	AvgFetchLatencyMs                                      float64
	// AvgUpdateIntervalMs and MedianUpdateIntervalMs are NaN with fewer
	// than two updates.
	AvgUpdateIntervalMs, MedianUpdateIntervalMs float64
	// Errors counts failed scrapes by message.
	Errors []ServerError
	// Disabled says why scraping this endpoint stopped ("" when it did not).
	Disabled string
}

// DurationSeconds is the time from the first to the last unique update.
func (e *ServerEndpoint) DurationSeconds() float64 {
	return float64(e.LastUpdateNs-e.FirstUpdateNs) / 1e9
}

// ServerError is one kind of scrape failure and how often it happened.
type ServerError struct {
	Message string
	Count   int
}

// Prometheus metric types as AIPerf names them.
const (
	TypeGauge     = "gauge"
	TypeCounter   = "counter"
	TypeHistogram = "histogram"
	TypeUnknown   = "unknown" // untyped in the exposition
)

// ServerFamily is one metric name with every series it had.
type ServerFamily struct {
	Name string
	Type string // TypeGauge, TypeCounter, TypeHistogram or TypeUnknown
	Help string
	// Unit is inferred from the name and help text as AIPerf does; "" when
	// none applies.
	Unit   string
	Series []ServerSeries // by endpoint, then labels
}

// Label is one Prometheus label.
type Label struct{ Name, Value string }

// LabelString renders labels as {a="x",b="y"} ("" without labels).
func LabelString(ls []Label) string {
	if len(ls) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range ls {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.Name)
		b.WriteString(`="`)
		b.WriteString(l.Value)
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// ServerSeries is one endpoint + label set of a family. Exactly one of
// Gauge, Counter and Histogram is set, by the family's type (unknown
// families are gauges).
type ServerSeries struct {
	Endpoint  string
	Labels    []Label // sorted by name
	Gauge     *GaugeStats
	Counter   *CounterStats
	Histogram *HistogramStats
	// Slices are per-time-slice statistics when slicing is on.
	Slices []ServerSlice
}

// GaugeStats summarise the samples of a gauge in the window. Std is the
// sample standard deviation; percentiles are exact (linear interpolation).
type GaugeStats struct {
	Avg, Min, Max, Std                        float64
	P1, P5, P10, P25, P50, P75, P90, P95, P99 float64
	Count                                     int
}

// CounterStats are a counter's increase over the window. The Rate* spread
// comes from complete time slices (HasRates false without slicing).
type CounterStats struct {
	Total, Rate                        float64
	RateAvg, RateMin, RateMax, RateStd float64
	HasRates                           bool
}

// HistogramStats are a histogram's increase over the window: the server's
// own distribution of what it observed then. Percentiles are estimated from
// the bucket increases by linear interpolation within a bucket, as
// Prometheus' histogram_quantile does.
type HistogramStats struct {
	Count, Sum, Avg, CountRate, SumRate       float64
	P1, P5, P10, P25, P50, P75, P90, P95, P99 float64
	// Buckets are cumulative increases by upper bound, +Inf last.
	Buckets []Bucket
}

// Bucket is one cumulative histogram bucket.
type Bucket struct {
	Le    float64
	Count float64
}

// ServerSlice is one time slice of a series: gauge Avg/Min/Max, counter
// Total/Rate or histogram Count/Sum/Avg/Buckets, by the series' type.
type ServerSlice struct {
	StartNs, EndNs int64
	Complete       bool
	Avg, Min, Max  float64
	Total, Rate    float64
	Count, Sum     float64
	Buckets        []Bucket
}

// FigureKind is how a named server figure is summarised.
type FigureKind uint8

const (
	// FigureGauge has statistics of its samples (avg, min, max, p50, ...).
	FigureGauge FigureKind = iota + 1
	// FigureTotal has one value: an increase (tokens, preemptions) or a
	// rate (tokens/sec) over the window.
	FigureTotal
	// FigureDistribution has estimated percentiles, avg, count and sum of a
	// server histogram; min and max are unknown (NaN).
	FigureDistribution
)

// ServerFigure is one named server figure (docs/server-metrics.md), read
// from the first server metric that provides it.
type ServerFigure struct {
	Name   string // e.g. "kv_cache_usage"; scripts read r.server.kv_cache_usage
	Header string // e.g. "KV-Cache Usage"
	Unit   string // display unit: %, ms, tokens, tokens/sec, requests, W, ...
	Kind   FigureKind
	// Server names the view that matched (vllm, sglang, trtllm, tgi,
	// llamacpp, dynamo, dcgm); Source the metric(s) it was read from.
	Server, Source string
	// Stats is set for gauges and distributions; Value for totals.
	Stats *Stats
	Value float64
	// Slices are the figure per time slice (Value or Stats.Avg/Min/Max).
	Slices []FigureSlice
}

// FigureSlice is a figure in one time slice.
type FigureSlice struct {
	StartNs, EndNs     int64
	Value              float64 // totals, or a gauge's average
	Min, Max           float64 // gauges; NaN otherwise
	Complete           bool
	P50, P99, Count    float64 // distributions; NaN otherwise
	HasValue, HasStats bool
}

// Metric returns the figure as a Metric (tag "server.<name>"), for
// thresholds and reports.
func (f *ServerFigure) Metric() *Metric {
	m := &Metric{Tag: ServerPrefix + f.Name, Header: "Server " + f.Header, Unit: f.Unit, Group: "server"}
	if f.Kind == FigureTotal {
		m.Kind, m.Value = DerivedMetric, f.Value
	} else {
		m.Kind, m.Stats = RecordMetric, f.Stats
	}
	return m
}

// ServerPrefix starts the tag of every server figure in thresholds and
// reports: "server.kv_cache_usage".
const ServerPrefix = "server."

// Figure returns the named figure, or nil.
func (s *ServerMetrics) Figure(name string) *ServerFigure {
	if s == nil {
		return nil
	}
	for i := range s.Figures {
		if s.Figures[i].Name == name {
			return &s.Figures[i]
		}
	}
	return nil
}

// Family returns the family with name, or nil.
func (s *ServerMetrics) Family(name string) *ServerFamily {
	if s == nil {
		return nil
	}
	for i := range s.Families {
		if s.Families[i].Name == name {
			return &s.Families[i]
		}
	}
	return nil
}

// GPU is one GPU reported by a DCGM exporter, with its metrics under
// AIPerf's names (nvidia_power_usage, nvidia_gpu_utilization, ...).
type GPU struct {
	Endpoint string
	Index    int
	UUID     string
	Name     string // model name, e.g. "NVIDIA H100 80GB HBM3"
	Hostname string
	PCIBusID string
	Metrics  []GPUMetric
}

// GPUMetric is one telemetry metric of a GPU: gauge statistics over the
// window; for counters (energy, violations, XID) Delta is the increase.
type GPUMetric struct {
	Name    string // AIPerf's field name, e.g. "nvidia_power_usage"
	Header  string // e.g. "GPU Power Usage"
	Unit    string // e.g. "W"
	Source  string // the DCGM field, e.g. "DCGM_FI_DEV_POWER_USAGE"
	Stats   Stats
	Counter bool
	Delta   float64
}

// Metric returns the GPU metric named name, or nil.
func (g *GPU) Metric(name string) *GPUMetric {
	for i := range g.Metrics {
		if g.Metrics[i].Name == name {
			return &g.Metrics[i]
		}
	}
	return nil
}

// ReconcileCheck compares one client figure with the server's own.
type ReconcileCheck struct {
	// Name says what is compared, e.g. "output_tokens", "ttft_p50".
	Name   string
	Client float64
	Server float64
	Unit   string
	// DiffPct is 100·(server − client)/client (NaN when client is 0 and the
	// server is not).
	DiffPct      float64
	TolerancePct float64
	// OK is false when |DiffPct| exceeds TolerancePct.
	OK bool
	// Source names the server metric compared; Note explains a skip or a
	// known cause of disagreement.
	Source, Note string
}

// Flagged reports whether any reconciliation check disagrees beyond its
// tolerance.
func (s *ServerMetrics) Flagged() []ReconcileCheck {
	if s == nil {
		return nil
	}
	var out []ReconcileCheck
	for _, c := range s.Reconciliation {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// DiffPct is 100·(server − client)/client: 0 when both are 0, NaN when only
// the client is 0.
func DiffPct(client, server float64) float64 {
	if client == 0 {
		if server == 0 {
			return 0
		}
		return math.NaN()
	}
	return 100 * (server - client) / client
}
