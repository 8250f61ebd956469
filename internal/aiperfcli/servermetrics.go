package aiperfcli

import (
	"fmt"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/servermetrics"
)

// optionalList is a flag with zero or more values (AIPerf's
// `--server-metrics [URL ...]`): the values until the next flag.
type optionalList struct {
	Given  bool
	Values []string
}

// Decode implements kong.MapperValue.
func (o *optionalList) Decode(ctx *kong.DecodeContext) error {
	o.Given = true
	for {
		t := ctx.Scan.Peek()
		if t.IsEOL() || !t.IsValue() {
			return nil
		}
		o.Values = append(o.Values, ctx.Scan.Pop().String())
	}
}

// serverMetricsConfig reads the server-metrics flags: URLs are checked
// here, so a bad one is a usage error naming its flag.
func serverMetricsConfig(f *Flags) (config.ServerMetrics, error) {
	sm := config.ServerMetrics{Off: f.NoServerMetrics, GPUOff: f.NoGPUTelemetry}
	bad := func(flag, format string, args ...any) error {
		return errext.Errorf(errext.Usage, "--%s: %s", flag, fmt.Sprintf(format, args...))
	}
	if f.NoServerMetrics && f.ServerMetrics.Given {
		return sm, bad("server-metrics", "not with --no-server-metrics")
	}
	for _, u := range f.ServerMetrics.Values {
		if _, err := servermetrics.NormalizeURL(u); err != nil {
			return sm, bad("server-metrics", "%v", err)
		}
		sm.URLs = append(sm.URLs, u)
	}
	for _, v := range f.ServerMetricsFormats {
		for _, x := range strings.Split(v, ",") {
			x = strings.ToLower(strings.TrimSpace(x))
			ok := false
			for _, k := range config.ServerMetricsFormats {
				ok = ok || x == k
			}
			if !ok {
				return sm, bad("server-metrics-formats", "unknown format %q (want json, csv, jsonl or parquet)", x)
			}
			sm.Formats = append(sm.Formats, x)
		}
	}
	for _, v := range f.GPUTelemetry.Values {
		switch {
		case v == "dashboard":
			continue // AIPerf's live GPU view; the console report has the table
		case v == "pynvml" || v == "amdsmi" || strings.HasSuffix(v, ".csv"):
			return sm, bad("gpu-telemetry", "%s is not supported: loadstar reads NVIDIA DCGM exporter endpoints", v)
		}
		if _, err := servermetrics.NormalizeURL(v); err != nil {
			return sm, bad("gpu-telemetry", "%v", err)
		}
		sm.GPU = append(sm.GPU, v)
	}
	if f.NoGPUTelemetry && len(sm.GPU) > 0 {
		return sm, bad("gpu-telemetry", "not with --no-gpu-telemetry")
	}
	return sm, nil
}

// serverMetricsLit renders run()'s server_metrics argument ("" for the
// default).
func serverMetricsLit(sm *config.ServerMetrics) string {
	if sm.Off {
		return "False"
	}
	list := func(xs []string) string {
		q := make([]string, len(xs))
		for i, x := range xs {
			q[i] = fmt.Sprintf("%q", x)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	var parts []string
	if len(sm.URLs) > 0 {
		parts = append(parts, fmt.Sprintf("%q: %s", "urls", list(sm.URLs)))
	}
	if sm.Formats != nil {
		parts = append(parts, fmt.Sprintf("%q: %s", "formats", list(sm.Formats)))
	}
	if sm.GPUOff {
		parts = append(parts, fmt.Sprintf("%q: False", "gpu"))
	} else if len(sm.GPU) > 0 {
		parts = append(parts, fmt.Sprintf("%q: %s", "gpu", list(sm.GPU)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
