package metrics

import (
	"github.com/loadstar/loadstar/engine/plugin"
)

// Classes returns the record_processor and results_processor plugins of
// this package, keyed by the Go name of their manifest class path
// (go:internal/metrics.<Key>). NewPipeline builds both itself from the run's
// endpoint and plan; the classes let a registry build them standalone
// (tools that re-process records) with the applicability given as arguments.
func Classes() map[string]*plugin.Class {
	return map[string]*plugin.Class{
		"RecordMetrics": {
			Params: []plugin.Param{
				{Name: "streaming", Type: plugin.TBool, Default: true, Doc: "Compute the streaming-only metrics (TTFT, ITL, ...)."},
				{Name: "produces_tokens", Type: plugin.TBool, Default: true, Doc: "Compute the metrics of token-producing endpoints (OSL, throughputs)."},
				{Name: "tokenizes_input", Type: plugin.TBool, Default: true, Doc: "Compute the input-length metrics (ISL)."},
				{Name: "server_token_count", Type: plugin.TBool, Default: true,
					Doc: "Take token counts from the server's usage (without a tokenizer, the only source)."},
			},
			New: func(a plugin.Args) (any, error) {
				app := Applicability{Streaming: a.Bool("streaming"), ProducesTokens: a.Bool("produces_tokens"),
					TokenizesInput: a.Bool("tokenizes_input")}
				return NewRecordMetrics(app, a.Bool("server_token_count"), nil), nil
			},
		},
		"MetricResults": {
			Params: []plugin.Param{
				{Name: "streaming", Type: plugin.TBool, Default: true, Doc: "Report the streaming-only metrics."},
				{Name: "produces_tokens", Type: plugin.TBool, Default: true, Doc: "Report the metrics of token-producing endpoints."},
				{Name: "tokenizes_input", Type: plugin.TBool, Default: true, Doc: "Report the input-length metrics."},
				{Name: "exact_stats_limit", Type: plugin.TInt, Default: int64(DefaultExactStatsLimit),
					Doc: "Values per metric kept for exact percentiles; beyond it percentiles come from HDR histograms."},
				{Name: "slice_duration", Type: plugin.TDuration, Default: nil, Doc: "Width of time slices; unset = no slices."},
			},
			New: func(a plugin.Args) (any, error) {
				app := Applicability{Streaming: a.Bool("streaming"), ProducesTokens: a.Bool("produces_tokens"),
					TokenizesInput: a.Bool("tokenizes_input")}
				return NewMetricResults(app, nil, int(a.Int("exact_stats_limit")), a.Duration("slice_duration")), nil
			},
		},
	}
}
