package profile

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/loadstar/loadstar/engine/plugin"
)

// optionalValue is a flag that may or may not be followed by a value
// (AIPerf's `--server-metrics [URL ...]`): it takes the next argument only
// when that is not another flag.
type optionalValue struct {
	Given bool
	Value string
}

// Decode implements kong.MapperValue.
func (o *optionalValue) Decode(ctx *kong.DecodeContext) error {
	o.Given = true
	if t := ctx.Scan.Peek(); !t.IsEOL() && t.IsValue() {
		o.Value = ctx.Scan.Pop().String()
	}
	return nil
}

// unsupportedReasons say why loadstar does not honour an AIPerf flag.
var unsupportedReasons = map[string]string{
	"config":                            "AIPerf YAML configs are not read; write a scenario instead (--emit-scenario prints one for these flags)",
	"wait-for-model-timeout":            "loadstar does not poll the server before a run; start it first (requests that fail are recorded as errors)",
	"wait-for-model-mode":               "see --wait-for-model-timeout",
	"wait-for-model-interval":           "see --wait-for-model-timeout",
	"reset-kv-cache":                    "loadstar does not call server admin endpoints",
	"reset-kv-cache-timeout-seconds":    "see --reset-kv-cache",
	"reset-kv-cache-path":               "see --reset-kv-cache",
	"server-profiler":                   "loadstar does not call the server's /start_profile and /stop_profile",
	"server-metrics":                    "loadstar does not scrape server metrics (Prometheus) yet",
	"gpu-telemetry":                     "loadstar does not collect GPU telemetry (DCGM, NVML)",
	"network-latency-automatic":         "loadstar does not measure network latency separately",
	"network-latency-mean":              "see --network-latency-automatic",
	"network-latency-ping-interval":     "see --network-latency-automatic",
	"export-http-trace":                 "per-request HTTP trace data is not exported (--export-level raw writes the raw requests and responses)",
	"show-trace-timing":                 "see --export-http-trace",
	"export-outputs-json":               "outputs.json is not written (--export-level raw keeps every response)",
	"record-processors":                 "loadstar computes metrics in one process",
	"variant":                           "named variants are not supported; write a scenario with sweep() or several run() calls",
	"search-space":                      "adaptive search is done with search() in a scenario",
	"search-metric":                     "see --search-space",
	"search-recipe":                     "see --search-space",
	"search-sla":                        "see --search-space",
	"convergence-metric":                "convergence-based early stopping is not supported; set --num-profile-runs",
	"video-batch-size":                  "loadstar does not generate video inputs",
	"video-duration":                    "loadstar does not generate video inputs",
	"video-fps":                         "loadstar does not generate video inputs",
	"video-width":                       "loadstar does not generate video inputs",
	"video-height":                      "loadstar does not generate video inputs",
	"image-source":                      "synthetic images are random noise; pass image files in a dataset file instead",
	"synthesis-speedup-ratio":           "trace synthesis is not supported (a scenario's timing.fixed_schedule(speedup=...) replays a trace faster)",
	"synthesis-prefix-len-multiplier":   "trace synthesis is not supported",
	"synthesis-prefix-root-multiplier":  "trace synthesis is not supported",
	"synthesis-prompt-len-multiplier":   "trace synthesis is not supported",
	"synthesis-max-isl":                 "trace synthesis is not supported",
	"synthesis-max-osl":                 "trace synthesis is not supported",
	"accuracy-benchmark":                "accuracy benchmarks are not supported",
	"mlflow-tracking-uri":               "MLflow export is not supported",
	"wandb-project":                     "Weights & Biases export is not supported",
	"otel-endpoint":                     "OpenTelemetry export is not supported",
	"prefill-concurrency":               "loadstar's timing strategies have no prefill-slot limit",
	"prefill-concurrency-ramp-duration": "loadstar's timing strategies have no prefill-slot limit",
	"warmup-prefill-concurrency":        "loadstar's timing strategies have no prefill-slot limit",
}

// noOpNotes are AIPerf flags accepted because they ask for what loadstar
// does anyway; giving one prints the note.
var noOpNotes = map[string]string{
	"no-server-metrics": "--no-server-metrics: loadstar does not scrape server metrics",
	"no-gpu-telemetry":  "--no-gpu-telemetry: loadstar does not collect GPU telemetry",
	"workers-max":       "--workers-max has no effect: loadstar sends from one process and sizes its connection pool from the load",
}

// UnsupportedFlags lists the AIPerf flags loadstar rejects, with the reason
// (docs/profile.md is checked against it).
func UnsupportedFlags() map[string]string {
	out := make(map[string]string, len(unsupportedReasons))
	for k, v := range unsupportedReasons {
		out[k] = v
	}
	return out
}

// checkUnsupported fails on the first AIPerf flag loadstar cannot honour and
// notes the ones without effect.
func (b *builder) checkUnsupported() error {
	f := b.f
	if strings.TrimSpace(f.PrefillConcurrency) != "" {
		return usage("prefill-concurrency", "not supported: %s", unsupportedReasons["prefill-concurrency"])
	}
	if f.PrefillRampDuration != nil {
		return usage("prefill-concurrency-ramp-duration", "not supported: %s", unsupportedReasons["prefill-concurrency-ramp-duration"])
	}
	if strings.TrimSpace(f.WarmupPrefillConcurrency) != "" {
		return usage("warmup-prefill-concurrency", "not supported: %s", unsupportedReasons["warmup-prefill-concurrency"])
	}
	v := reflect.ValueOf(f.Unsupported)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Tag.Get("name")
		switch x := v.Field(i).Interface().(type) {
		case bool:
			if x {
				b.plan.Notes = append(b.plan.Notes, noOpNotes[name])
			}
		case optionalValue:
			if !x.Given {
				continue
			}
			if note, ok := noOpNotes[name]; ok {
				b.plan.Notes = append(b.plan.Notes, note)
				continue
			}
			return usage(name, "not supported: %s", unsupportedReasons[name])
		}
	}
	return nil
}

// RedactedCommand renders a command line for run_info.cli_command and the
// emitted scenario's header, with the API key and secret header values
// replaced by <redacted>.
func RedactedCommand(args []string) string {
	if len(args) == 0 {
		return ""
	}
	out := []string{"loadstar"}
	redactNext := ""
	for _, a := range args {
		if redactNext != "" {
			out = append(out, quoteArg(redactArg(redactNext, a)))
			redactNext = ""
			continue
		}
		name, val, hasVal := strings.Cut(a, "=")
		switch name {
		case "--api-key", "-H", "--header":
			if hasVal {
				out = append(out, name+"="+quoteArg(redactArg(name, val)))
			} else {
				out = append(out, a)
				redactNext = name
			}
			continue
		}
		if strings.HasPrefix(a, "-H") && len(a) > 2 && !strings.HasPrefix(a, "--") {
			out = append(out, "-H"+quoteArg(redactArg("-H", a[2:])))
			continue
		}
		out = append(out, quoteArg(a))
	}
	return strings.Join(out, " ")
}

func redactArg(flag, v string) string {
	if flag == "--api-key" {
		return plugin.Redacted
	}
	if strings.HasPrefix(strings.TrimSpace(v), "{") {
		for _, k := range jsonKeys(v) {
			if plugin.IsSecretName(k) {
				return plugin.Redacted
			}
		}
		return v
	}
	name, _, _ := strings.Cut(v, ":")
	if plugin.IsSecretName(strings.TrimSpace(name)) {
		return strings.TrimSpace(name) + ":" + plugin.Redacted
	}
	return v
}

// jsonKeys returns the quoted words of a JSON object text (good enough to
// spot a secret header name without parsing a possibly invalid value).
func jsonKeys(s string) []string {
	var keys []string
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			return keys
		}
		s = s[i+1:]
		j := strings.IndexByte(s, '"')
		if j < 0 {
			return keys
		}
		keys = append(keys, s[:j])
		s = s[j+1:]
	}
}

func quoteArg(a string) string {
	if a == "" || strings.ContainsAny(a, " \t\n\"'$`\\;|&<>(){}*?[]#~") {
		return strconv.Quote(a)
	}
	return a
}
