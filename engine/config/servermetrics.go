package config

import (
	"fmt"
	"time"

	"github.com/loadstar/loadstar/engine/ordered"
)

// ServerMetrics configures scraping the servers' Prometheus endpoints and
// GPU telemetry while a step runs (docs/server-metrics.md). The zero value
// is AIPerf's default: the endpoint's own <base_url>/metrics every 333 ms,
// the DCGM exporter ports on localhost tried, JSON and CSV written.
type ServerMetrics struct {
	// Off turns scraping off (AIPerf --no-server-metrics).
	Off bool
	// URLs are Prometheus endpoints scraped besides the endpoint's own
	// (AIPerf --server-metrics URL ...).
	URLs []string
	// Interval between scrapes; 0 means 333 ms.
	Interval time.Duration
	// Formats are the files written, of ServerMetricsFormats; nil means
	// json and csv (jsonl and parquet are time series, written on request).
	Formats []string
	// GPU are NVIDIA DCGM exporter endpoints (AIPerf --gpu-telemetry URL ...),
	// scraped besides the default ports localhost:9400 and :9401.
	GPU []string
	// GPUOff turns GPU telemetry off, the default ports included (AIPerf
	// --no-gpu-telemetry).
	GPUOff bool
	// TolerancePct is how far client and server figures may differ before
	// the reconciliation flags them; 0 means 5.
	TolerancePct float64
}

// ServerMetricsFormats are the files server metrics can be written to.
var ServerMetricsFormats = []string{"json", "csv", "jsonl", "parquet"}

// DefaultServerMetricsFormats are written when Formats is nil.
var DefaultServerMetricsFormats = []string{"json", "csv"}

// WantsFormat reports whether format f is to be written.
func (s *ServerMetrics) WantsFormat(f string) bool {
	formats := s.Formats
	if formats == nil {
		formats = DefaultServerMetricsFormats
	}
	for _, x := range formats {
		if x == f {
			return true
		}
	}
	return false
}

// validate checks the fields; errors name them as server_metrics.<key>.
func (s *ServerMetrics) validate() []error {
	var errs []error
	if s.Interval < 0 {
		errs = append(errs, fmt.Errorf("server_metrics.interval: must be >= 0, got %s", s.Interval))
	}
	if s.TolerancePct < 0 {
		errs = append(errs, fmt.Errorf("server_metrics.tolerance: must be >= 0, got %v", s.TolerancePct))
	}
	for _, f := range s.Formats {
		ok := false
		for _, k := range ServerMetricsFormats {
			ok = ok || f == k
		}
		if !ok {
			errs = append(errs, fmt.Errorf("server_metrics.formats: unknown format %q (want json, csv, jsonl or parquet)", f))
		}
	}
	return errs
}

// describe renders the settings that differ from the default for
// input_config (nil when all are default, false when scraping is off).
func (s *ServerMetrics) describe() any {
	if s.Off {
		return false
	}
	m := ordered.New(6)
	if len(s.URLs) > 0 {
		m.Set("urls", append([]string(nil), s.URLs...))
	}
	if s.Interval > 0 {
		m.Set("interval", s.Interval.String())
	}
	if s.Formats != nil {
		m.Set("formats", append([]string(nil), s.Formats...))
	}
	if s.GPUOff {
		m.Set("gpu", false)
	} else if len(s.GPU) > 0 {
		m.Set("gpu", append([]string(nil), s.GPU...))
	}
	if s.TolerancePct > 0 {
		m.Set("tolerance", s.TolerancePct)
	}
	if m.Len() == 0 {
		return nil
	}
	return m
}
