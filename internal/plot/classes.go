package plot

import (
	"fmt"

	"github.com/loadstar/loadstar/engine/plugin"
)

// builtin are loadstar's charts, keyed by the Go name of their manifest
// class (go:internal/plot.<Key>). Their plugin names (file stems), display
// names (the titles drawn here) and modes are in engine/plugin/plugins.yaml;
// a test checks that the two agree.
var builtin = map[string]Chart{
	"TTFTOverTime": OverTime{Title: "TTFT Per Request Over Time", Tag: "time_to_first_token", Label: "Time to first token"},
	"ITLOverTime":  OverTime{Title: "Inter-Token Latency Per Request Over Time", Tag: "inter_token_latency", Label: "Inter-token latency"},
	"LatencyOverTime": OverTime{Title: "Request Latency Over Time with Percentiles", Tag: "request_latency",
		Label: "Request latency", Percentiles: true},
	"DispersedThroughputOverTime": Spread{Title: "Dispersed Output Token Throughput Over Time",
		Label: "Output token throughput (tokens/sec)", Tokens: true},
	"ConcurrencyOverTime": Spread{Title: "Requests In Flight Over Time", Label: "Requests in flight"},
	"TTFTHistogram":       Histogram{Title: "Time to First Token Distribution", Tag: "time_to_first_token", Label: "Time to first token"},
	"ITLHistogram":        Histogram{Title: "Inter-Token Latency Distribution", Tag: "inter_token_latency", Label: "Inter-token latency"},
	"LatencyHistogram":    Histogram{Title: "Request Latency Distribution", Tag: "request_latency", Label: "Request latency"},
	"TimeslicesTTFT":      Timeslices{Title: "Time to First Token Across Time Slices", Tag: "time_to_first_token", Label: "Time to first token"},
	"TimeslicesITL":       Timeslices{Title: "Inter Token Latency Across Time Slices", Tag: "inter_token_latency", Label: "Inter-token latency"},
	"TimeslicesThroughput": Timeslices{Title: "Request Throughput Across Time Slices", Tag: "request_throughput",
		Label: "Request throughput"},
	"TimeslicesLatency": Timeslices{Title: "Request Latency Across Time Slices", Tag: "request_latency", Label: "Request latency"},

	"TTFTVsThroughput": XYChart{Title: "TTFT vs Throughput",
		XTag: "time_to_first_token", XStat: "avg", XLabel: "Time to first token, average (ms)",
		YTag: "request_throughput", YStat: "avg", YLabel: "Request throughput (requests/sec)"},
	"LatencyVsLoad": LoadChart{Title: "Request Latency vs Load", YLabel: "Request latency (ms)", Series: []LoadSeries{
		{Tag: "request_latency", Stat: "p50", Label: "p50"},
		{Tag: "request_latency", Stat: "p90", Label: "p90", Dashed: true},
		{Tag: "request_latency", Stat: "p99", Label: "p99", Dashed: true}}},
	"GoodputVsRate": LoadChart{Title: "Goodput vs Load", YLabel: "Requests per second", Series: []LoadSeries{
		{Tag: "goodput", Stat: "avg", Label: "goodput"},
		{Tag: "request_throughput", Stat: "avg", Label: "request throughput", Dashed: true}}},
	"ParetoThroughputVsInteractivity": XYChart{Title: "Pareto Curve: Token Throughput vs Interactivity",
		XTag: "output_token_throughput", XStat: "avg", XLabel: "Output token throughput (tokens/sec)",
		YTag: "output_token_throughput_per_user", YStat: "avg", YLabel: "Output token throughput per user (tokens/sec/user)",
		XBetter: 1, YBetter: 1, Pareto: true},
	"ParetoThroughputVsLatency": XYChart{Title: "Pareto Curve: Token Throughput vs Latency",
		XTag: "request_latency", XStat: "avg", XLabel: "Request latency, average (ms)",
		YTag: "output_token_throughput", YStat: "avg", YLabel: "Output token throughput (tokens/sec)",
		XBetter: -1, YBetter: 1, Pareto: true},
}

// Classes returns the plot plugins of this package, keyed by the Go name
// of their manifest class path (go:internal/plot.<Key>).
func Classes() map[string]*plugin.Class {
	out := make(map[string]*plugin.Class, len(builtin))
	for key, c := range builtin {
		out[key] = &plugin.Class{New: func(plugin.Args) (any, error) { return c, nil }}
	}
	return out
}

// Charts builds the charts of specs from reg (category plot), or every
// registered chart when no spec is given, with their plugin names (the file
// stems) and modes (the category field of their metadata).
func Charts(reg *plugin.Registry, specs ...*plugin.Spec) ([]Named, error) {
	if len(specs) == 0 {
		for _, e := range reg.All(plugin.Plot) {
			specs = append(specs, &plugin.Spec{Category: plugin.Plot, Name: e.Name})
		}
	}
	out := make([]Named, 0, len(specs))
	for _, s := range specs {
		v, err := reg.Build(s)
		if err != nil {
			return nil, err
		}
		c, ok := v.(Chart)
		if !ok {
			return nil, fmt.Errorf("plot.%s: %T does not implement internal/plot.Chart", s.Name, v)
		}
		md, err := reg.PlotMetadata(s.Name)
		if err != nil {
			return nil, err
		}
		mode := Mode(md.Category)
		if mode != SingleRun && mode != MultiRun {
			return nil, fmt.Errorf("plot.%s: metadata category %q: expected %s or %s", s.Name, md.Category, SingleRun, MultiRun)
		}
		name, _ := reg.Lookup(plugin.Plot, s.Name)
		out = append(out, Named{Name: name.Name, Mode: mode, Chart: c})
	}
	return out, nil
}
