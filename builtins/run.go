package builtins

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/runner"
	"github.com/loadstar/loadstar/internal/metrics"
	"github.com/loadstar/loadstar/interp"
)

// Kwarg documents and applies one keyword argument of run() (and of the
// sweep/search bases, which are run() keyword sets). The same table feeds
// `loadstar doc`.
type Kwarg struct {
	Name    string
	Type    string
	Default string
	Doc     string
	apply   func(thread *starlark.Thread, b *config.Benchmark, v starlark.Value) error
}

func specArg(cat plugin.Category, dst **plugin.Spec) func(*starlark.Thread, *config.Benchmark, starlark.Value) error {
	return func(_ *starlark.Thread, _ *config.Benchmark, v starlark.Value) error {
		s, ok := SpecOf(v)
		if !ok {
			return fmt.Errorf("want a %s plugin such as %s.<name>(...), got %s", cat, plugin.Namespace(cat), v.Type())
		}
		if s.Category != cat {
			return fmt.Errorf("want a %s plugin (%s.<name>(...)), got %s", cat, plugin.Namespace(cat), s.String())
		}
		*dst = s
		return nil
	}
}

// runKwargs are the keyword arguments of run(), in documentation order.
func runKwargs() []Kwarg {
	return []Kwarg{
		{Name: "endpoint", Type: "endpoint", Default: "required", Doc: "The API to benchmark: endpoint.chat(url=..., model=..., streaming=True), endpoint.completions(...), ...",
			apply: func(t *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
				return specArg(plugin.Endpoint, &b.Endpoint)(t, b, v)
			}},
		{Name: "dataset", Type: "dataset | list[dict]", Default: "dataset.synthetic()", Doc: "What to send: dataset.synthetic(...), dataset.file(path), dataset.synthetic_rankings(...), or a list of records ({\"text\": ...} or {\"session_id\": ..., \"turns\": [...]}).",
			apply: func(t *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
				if l, ok := v.(*starlark.List); ok {
					recs, err := fromScript(l)
					if err != nil {
						return err
					}
					b.Dataset = &plugin.Spec{Category: plugin.DatasetComposer, Name: "custom", Args: plugin.Args{"records": recs}}
					return nil
				}
				return specArg(plugin.DatasetComposer, &b.Dataset)(t, b, v)
			}},
		{Name: "timing", Type: "timing", Default: "timing.concurrency(concurrency = 1)", Doc: "The load: timing.concurrency(concurrency = 8), timing.request_rate(rate=20, arrival=arrival.poisson()), timing.fixed_schedule(), timing.user_centric_rate(...).",
			apply: func(t *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
				return specArg(plugin.TimingStrategy, &b.Timing)(t, b, v)
			}},
		{Name: "requests", Type: "int", Default: "unset", Doc: "Stop after sending this many requests.",
			apply: intField(func(b *config.Benchmark) *int { return &b.Stop.Requests })},
		{Name: "sessions", Type: "int", Default: "unset", Doc: "Stop after starting this many conversations (multi-turn).",
			apply: intField(func(b *config.Benchmark) *int { return &b.Stop.Sessions })},
		{Name: "duration", Type: "duration", Default: "unset", Doc: "Stop issuing after this long (then wait up to grace for requests in flight).",
			apply: durationField("duration", func(b *config.Benchmark) *time.Duration { return &b.Stop.Duration })},
		{Name: "grace", Type: "duration", Default: "30s", Doc: "After a duration stop, how long requests in flight may finish before they are cancelled.",
			apply: durationField("grace", func(b *config.Benchmark) *time.Duration { return &b.Grace })},
		{Name: "warmup", Type: "int | dict", Default: "none", Doc: "A warmup phase excluded from results: a request count, or {\"requests\": n, \"duration\": d, \"sessions\": n, \"timing\": timing..., \"grace\": d, \"prefill_concurrency\": n, \"prefill_ramp\": d} (the prefill cap defaults to the run's).",
			apply: applyWarmup},
		{Name: "phases", Type: "list[dict]", Default: "none", Doc: "Several phases run one after the other instead of one profiling phase (and requests, sessions, duration, warmup): each {\"name\": ..., \"timing\": timing..., \"requests\": n, \"sessions\": n, \"duration\": d, \"grace\": d, \"warmup\": True/False}, timing defaulting to the run's. Every profiling phase gets its own results block (r.phases[name], \"phases\" in the JSON export); the run's results cover them all.",
			apply: applyPhases},
		{Name: "prefill_concurrency", Type: "int", Default: "none", Doc: "At most this many requests waiting for their first token at once, whatever the timing (AIPerf --prefill-concurrency): the rest queue, and the wait shows as issue delay. Needs a streaming endpoint.",
			apply: intField(func(b *config.Benchmark) *int { return &b.Prefill.Concurrency })},
		{Name: "prefill_ramp", Type: "duration", Default: "none", Doc: "Ramp prefill_concurrency from 1 to its value over this long.",
			apply: durationField("prefill_ramp", func(b *config.Benchmark) *time.Duration { return &b.Prefill.Ramp })},
		{Name: "cancel", Type: "dict", Default: "none", Doc: "Cancel a share of requests after they are sent (recorded as code 499): {\"percent\": 10, \"delay\": \"500ms\"}.",
			apply: applyCancel},
		{Name: "slos", Type: "dict", Default: "none", Doc: "Per-request objectives for goodput, by metric: {\"time_to_first_token\": \"<= 500ms\", \"inter_token_latency\": \"<= 50ms\"}.",
			apply: applySLOs},
		{Name: "thresholds", Type: "dict | list", Default: "none", Doc: "Pass/fail checks on the results (exit code 5 when one fails): {\"time_to_first_token\": \"p99 < 500ms\"} or [threshold(...), ...].",
			apply: applyThresholds},
		{Name: "failed_request_threshold", Type: "float", Default: "none", Doc: "Abort the run (exit code 13) once more than this share (0–1) of its requests failed, checked from the max(concurrency, 10)th finished request on; what was measured is written (AIPerf's --failed-request-threshold).",
			apply: func(_ *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
				f, ok := starlark.AsFloat(v)
				if !ok {
					return fmt.Errorf("want a number from 0 to 1, got %s", v.Type())
				}
				b.Abort.FailedRequestThreshold = &f
				return nil
			}},
		{Name: "abort_unreachable", Type: "bool", Default: "True", Doc: "Abort the run (exit code 13) when its first max(concurrency, 10) requests all failed to connect and none succeeded, instead of running its whole length at 100 % errors.",
			apply: boolField(func(b *config.Benchmark) *bool { return &b.Abort.Unreachable })},
		{Name: "wait_for_model", Type: "duration | dict", Default: "none", Doc: "Before sending, wait until the server answers, up to this long: a timeout, or {\"timeout\": \"5m\", \"mode\": \"inference\" (a one-token request) | \"models\" (GET /v1/models lists the model) | \"both\", \"interval\": \"5s\"}. Not ready in time: exit code 13 (AIPerf's --wait-for-model-*).",
			apply: applyWaitForModel},
		{Name: "seed", Type: "int", Default: "random (reported)", Doc: "Seed of the arrival schedule and the dataset; the same seed reproduces both.",
			apply: func(_ *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
				n, err := intValue(v)
				if err != nil {
					return err
				}
				b.Seed, b.SeedSet = uint64(n), true
				return nil
			}},
		{Name: "tokenizer", Type: "tokenizer", Default: "tokenizer.tiktoken(\"o200k_base\")", Doc: "How tokens are counted: tokenizer.tiktoken(name) or tokenizer.file(path).",
			apply: func(_ *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
				t, ok := v.(Tokenizer)
				if !ok {
					return fmt.Errorf("want tokenizer.tiktoken(...) or tokenizer.file(...), got %s", v.Type())
				}
				b.Tokenizer = t.Cfg
				return nil
			}},
		{Name: "server_token_count", Type: "bool", Default: "False", Doc: "Take token counts from the server's usage instead of the tokenizer.",
			apply: boolField(func(b *config.Benchmark) *bool { return &b.ServerTokenCount })},
		{Name: "sampler", Type: "sampler", Default: "the dataset's", Doc: "Order of dataset entries: sampler.sequential(), sampler.random(), sampler.shuffle().",
			apply: func(t *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
				return specArg(plugin.DatasetSampler, &b.Sampler)(t, b, v)
			}},
		{Name: "transport", Type: "transport", Default: "transport.http()", Doc: "HTTP client options: transport.http(connect_timeout=..., insecure=...).",
			apply: func(t *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
				return specArg(plugin.Transport, &b.Transport)(t, b, v)
			}},
		{Name: "url_selection", Type: "url_selection", Default: "url_selection.round_robin()", Doc: "How sessions are spread over several endpoint URLs.",
			apply: func(t *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
				return specArg(plugin.URLSelectionStrategy, &b.URLSelection)(t, b, v)
			}},
		{Name: "artifact_dir", Type: "string", Default: "artifacts/<model>-<kind>-<endpoint>-<load>/", Doc: "Where artifact files go (used as given).",
			apply: stringField(func(b *config.Benchmark) *string { return &b.Output.ArtifactDir })},
		{Name: "overwrite", Type: "bool", Default: "False", Doc: "Replace the files of an existing artifact directory; otherwise a run whose directory holds an earlier run writes beside it (<dir>-2, <dir>-3, ...) and says where.",
			apply: boolField(func(b *config.Benchmark) *bool { return &b.Output.Overwrite })},
		{Name: "plots", Type: "bool", Default: "False", Doc: "Draw the run's charts (PNG, SVG) and its HTML report into <artifact_dir>/plots when it ends (loadstar plot; docs/results.md).",
			apply: boolField(func(b *config.Benchmark) *bool { return &b.Output.Plots })},
		{Name: "export_prefix", Type: "string", Default: "profile_export", Doc: "Renames every profile_export* file (AIPerf --profile-export-prefix).",
			apply: stringField(func(b *config.Benchmark) *string { return &b.Output.Prefix })},
		{Name: "export_level", Type: "string", Default: "\"records\"", Doc: "\"summary\", \"records\" (per-request JSONL) or \"raw\" (also raw request/response JSONL).",
			apply: stringField(func(b *config.Benchmark) *string { return &b.Output.ExportLevel })},
		{Name: "slice_duration", Type: "duration", Default: "none", Doc: "Also report results per time slice of this length.",
			apply: durationField("slice_duration", func(b *config.Benchmark) *time.Duration { return &b.Output.SliceDuration })},
		{Name: "server_metrics", Type: "bool | dict", Default: "True", Doc: "Scrape the server's own Prometheus metrics while the step runs (its <base_url>/metrics every 333 ms, as AIPerf does) and join them to the results as r.server: False turns it off; a dict sets {\"urls\": [extra endpoints], \"interval\": \"333ms\", \"formats\": [\"json\", \"csv\", \"jsonl\", \"parquet\"], \"gpu\": [DCGM exporter URLs] or False, \"tolerance\": 5}. See docs/server-metrics.md.",
			apply: applyServerMetrics},
		{Name: "ui", Type: "string", Default: "\"auto\"", Doc: "Progress display: \"dashboard\" (full-screen live view), \"simple\" (progress bar), \"none\" (log lines) or \"auto\" (the dashboard on a terminal, else none).",
			apply: stringField(func(b *config.Benchmark) *string { return &b.UI })},
		{Name: "validity", Type: "dict", Default: config.DefaultValidity().Starlark(), Doc: "When an open-loop run is INVALID: max_rate_shortfall_pct (achieved vs drawn rate), the p99 issue-delay limit (max_issue_delay_p99, or derived: the larger of issue_delay_gap_fraction of the mean inter-arrival gap and issue_delay_latency_fraction of the median latency, at least min_issue_delay_p99); a closed loop is never INVALID for its issue delay. {\"fail_on_invalid\": True} exits with code 11 on an INVALID run.",
			apply: applyValidity},
		{Name: "name", Type: "string", Default: "\"\"", Doc: "A label for this step (shown in reports and sweep summaries).",
			apply: stringField(func(b *config.Benchmark) *string { return &b.Name })},
	}
}

func stringField(field func(*config.Benchmark) *string) func(*starlark.Thread, *config.Benchmark, starlark.Value) error {
	return func(_ *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
		s, ok := starlark.AsString(v)
		if !ok {
			return fmt.Errorf("want a string, got %s", v.Type())
		}
		*field(b) = s
		return nil
	}
}

func boolField(field func(*config.Benchmark) *bool) func(*starlark.Thread, *config.Benchmark, starlark.Value) error {
	return func(_ *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
		x, ok := v.(starlark.Bool)
		if !ok {
			return fmt.Errorf("want True or False, got %s", v.Type())
		}
		*field(b) = bool(x)
		return nil
	}
}

func intField(field func(*config.Benchmark) *int) func(*starlark.Thread, *config.Benchmark, starlark.Value) error {
	return func(_ *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
		n, err := intValue(v)
		*field(b) = n
		return err
	}
}

// durationField parses a duration argument named name into field.
func durationField(name string, field func(*config.Benchmark) *time.Duration) func(*starlark.Thread, *config.Benchmark, starlark.Value) error {
	return func(_ *starlark.Thread, b *config.Benchmark, v starlark.Value) (err error) {
		*field(b), err = asDuration(v, name)
		return err
	}
}

func intValue(v starlark.Value) (int, error) {
	i, ok := v.(starlark.Int)
	if !ok {
		return 0, fmt.Errorf("want an int, got %s", v.Type())
	}
	n, ok := i.Int64()
	if !ok || n < 0 || n > 1<<40 {
		return 0, fmt.Errorf("want a non-negative int, got %s", i)
	}
	return int(n), nil
}

func dictItems(v starlark.Value, what string) ([]starlark.Tuple, error) {
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("want a dict for %s, got %s", what, v.Type())
	}
	return d.Items(), nil
}

func applyWarmup(thread *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
	w := &config.Warmup{}
	if _, ok := v.(starlark.Int); ok {
		n, err := intValue(v)
		if err != nil {
			return err
		}
		w.Stop.Requests = n
		b.Warmup = w
		return nil
	}
	items, err := dictItems(v, "warmup (or give a request count)")
	if err != nil {
		return err
	}
	for _, kv := range items {
		k, _ := starlark.AsString(kv[0])
		var err error
		switch k {
		case "requests":
			w.Stop.Requests, err = intValue(kv[1])
		case "sessions":
			w.Stop.Sessions, err = intValue(kv[1])
		case "duration":
			w.Stop.Duration, err = asDuration(kv[1], "warmup.duration")
		case "grace":
			w.Grace, err = asDuration(kv[1], "warmup.grace")
		case "timing":
			err = specArg(plugin.TimingStrategy, &w.Timing)(thread, b, kv[1])
		case "prefill_concurrency":
			w.Prefill.Concurrency, err = intValue(kv[1])
		case "prefill_ramp":
			w.Prefill.Ramp, err = asDuration(kv[1], "warmup.prefill_ramp")
		default:
			err = fmt.Errorf("unknown key %q (want requests, sessions, duration, grace, timing, prefill_concurrency, prefill_ramp)", k)
		}
		if err != nil {
			return fmt.Errorf("warmup.%s: %w", k, err)
		}
	}
	b.Warmup = w
	return nil
}

func applyWaitForModel(_ *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
	w := &b.WaitForModel
	if _, ok := v.(*starlark.Dict); !ok {
		d, err := asDuration(v, "wait_for_model")
		w.Timeout = d
		return err
	}
	items, _ := dictItems(v, "wait_for_model")
	for _, kv := range items {
		k, _ := starlark.AsString(kv[0])
		var err error
		switch k {
		case "timeout":
			w.Timeout, err = asDuration(kv[1], "wait_for_model.timeout")
		case "interval":
			w.Interval, err = asDuration(kv[1], "wait_for_model.interval")
		case "mode":
			var ok bool
			if w.Mode, ok = starlark.AsString(kv[1]); !ok {
				err = fmt.Errorf("wait_for_model.mode: want a string, got %s", kv[1].Type())
			}
		default:
			err = fmt.Errorf("wait_for_model: unknown key %q (want timeout, mode, interval)", k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func applyPhases(thread *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
	l, ok := v.(*starlark.List)
	if !ok {
		return fmt.Errorf("want a list of dicts, got %s", v.Type())
	}
	for i := range l.Len() {
		items, err := dictItems(l.Index(i), fmt.Sprintf("phases[%d]", i))
		if err != nil {
			return err
		}
		ph := config.Phase{Name: fmt.Sprintf("phase%d", i+1)}
		for _, kv := range items {
			k, _ := starlark.AsString(kv[0])
			var err error
			switch k {
			case "name":
				s, ok := starlark.AsString(kv[1])
				if !ok {
					err = fmt.Errorf("want a string, got %s", kv[1].Type())
				}
				ph.Name = s
			case "warmup":
				w, ok := kv[1].(starlark.Bool)
				if !ok {
					err = fmt.Errorf("want True or False, got %s", kv[1].Type())
				}
				ph.Warmup = bool(w)
			case "requests":
				ph.Stop.Requests, err = intValue(kv[1])
			case "sessions":
				ph.Stop.Sessions, err = intValue(kv[1])
			case "duration":
				ph.Stop.Duration, err = asDuration(kv[1], "duration")
			case "grace":
				ph.Grace, err = asDuration(kv[1], "grace")
			case "timing":
				err = specArg(plugin.TimingStrategy, &ph.Timing)(thread, b, kv[1])
			default:
				err = fmt.Errorf("unknown key %q (want name, warmup, timing, requests, sessions, duration, grace)", k)
			}
			if err != nil {
				return fmt.Errorf("phases[%d].%s: %w", i, k, err)
			}
		}
		b.Phases = append(b.Phases, ph)
	}
	return nil
}

func applyCancel(_ *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
	items, err := dictItems(v, "cancel")
	if err != nil {
		return err
	}
	for _, kv := range items {
		k, _ := starlark.AsString(kv[0])
		switch k {
		case "percent":
			f, ok := starlark.AsFloat(kv[1])
			if !ok {
				return fmt.Errorf("cancel.percent: want a number, got %s", kv[1].Type())
			}
			b.Cancel.Percent = f
		case "delay":
			d, err := asDuration(kv[1], "cancel.delay")
			if err != nil {
				return err
			}
			b.Cancel.Delay = d
		default:
			return fmt.Errorf("cancel: unknown key %q (want percent, delay)", k)
		}
	}
	return nil
}

func applySLOs(_ *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
	items, err := dictItems(v, "slos")
	if err != nil {
		return err
	}
	for _, kv := range items {
		tag, ok := starlark.AsString(kv[0])
		if !ok {
			return fmt.Errorf("slos: keys are metric names, got %s", kv[0].Type())
		}
		expr := ""
		switch x := kv[1].(type) {
		case starlark.String:
			expr = string(x)
		case starlark.Int, starlark.Float:
			expr = x.String()
		case Duration:
			expr = time.Duration(x).String()
		default:
			return fmt.Errorf("slos[%q]: want a string like \"<= 500ms\", got %s", tag, x.Type())
		}
		slo, err := metrics.ParseSLO(tag, expr)
		if err != nil {
			return fmt.Errorf("slos[%q]: %w", tag, err)
		}
		b.SLOs = append(b.SLOs, slo)
	}
	return nil
}

func applyThresholds(thread *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
	add := func(metric string, expr starlark.Value) error {
		switch x := expr.(type) {
		case starlark.String:
			t, err := NewThreshold(thread, metric, string(x), false)
			if err != nil {
				return err
			}
			b.Thresholds = append(b.Thresholds, t)
		case *starlark.List:
			for i := 0; i < x.Len(); i++ {
				s, ok := starlark.AsString(x.Index(i))
				if !ok {
					return fmt.Errorf("thresholds[%q][%d]: want a string like \"p99 < 500ms\", got %s", metric, i, x.Index(i).Type())
				}
				t, err := NewThreshold(thread, metric, s, false)
				if err != nil {
					return err
				}
				b.Thresholds = append(b.Thresholds, t)
			}
		default:
			return fmt.Errorf("thresholds[%q]: want a string or a list of strings, got %s", metric, expr.Type())
		}
		return nil
	}
	switch x := v.(type) {
	case *starlark.Dict:
		for _, kv := range x.Items() {
			metric, ok := starlark.AsString(kv[0])
			if !ok {
				return fmt.Errorf("thresholds: keys are metric names, got %s", kv[0].Type())
			}
			if err := add(metric, kv[1]); err != nil {
				return err
			}
		}
	case *starlark.List:
		for i := 0; i < x.Len(); i++ {
			t, ok := x.Index(i).(*ThresholdValue)
			if !ok {
				return fmt.Errorf("thresholds[%d]: want threshold(metric, expr), got %s", i, x.Index(i).Type())
			}
			b.Thresholds = append(b.Thresholds, t.T)
		}
	default:
		return fmt.Errorf("want a dict {metric: expr} or a list of threshold(...), got %s", v.Type())
	}
	return nil
}

func applyValidity(_ *starlark.Thread, b *config.Benchmark, v starlark.Value) error {
	items, err := dictItems(v, "validity")
	if err != nil {
		return err
	}
	for _, kv := range items {
		k, _ := starlark.AsString(kv[0])
		var err error
		switch k {
		case "max_rate_shortfall_pct":
			err = validityNumber(kv[1], k, &b.Validity.MaxRateShortfallPct)
		case "issue_delay_gap_fraction":
			err = validityNumber(kv[1], k, &b.Validity.IssueDelayGapFraction)
		case "issue_delay_latency_fraction":
			err = validityNumber(kv[1], k, &b.Validity.IssueDelayLatencyFraction)
		case "max_issue_delay_p99":
			b.Validity.MaxIssueDelayP99, err = asDuration(kv[1], "validity.max_issue_delay_p99")
		case "min_issue_delay_p99":
			b.Validity.MinIssueDelayP99, err = asDuration(kv[1], "validity.min_issue_delay_p99")
		case "fail_on_invalid":
			x, ok := kv[1].(starlark.Bool)
			if !ok {
				return fmt.Errorf("validity.%s: want True or False", k)
			}
			b.Validity.FailOnInvalid = bool(x)
		default:
			return fmt.Errorf("validity: unknown key %q (want %s)", k, strings.Join(validityKeys, ", "))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// validityKeys are the keys of run()'s validity dict.
var validityKeys = []string{"max_rate_shortfall_pct", "max_issue_delay_p99", "issue_delay_gap_fraction",
	"issue_delay_latency_fraction", "min_issue_delay_p99", "fail_on_invalid"}

func validityNumber(v starlark.Value, key string, dst *float64) error {
	f, ok := starlark.AsFloat(v)
	if !ok || f < 0 {
		return fmt.Errorf("validity.%s: want a number >= 0, got %s", key, v)
	}
	*dst = f
	return nil
}

// benchmarkFromKwargs builds the plan of one step from run() keyword
// arguments. Errors name the argument and carry errext.InvalidConfig.
func benchmarkFromKwargs(thread *starlark.Thread, fnName string, kwargs []starlark.Tuple) (*config.Benchmark, error) {
	table := map[string]Kwarg{}
	for _, k := range runKwargs() {
		table[k.Name] = k
	}
	b := config.Defaults()
	for _, kv := range kwargs {
		name := string(kv[0].(starlark.String))
		k, ok := table[name]
		if !ok {
			return nil, unknownArg(fnName, name, kwargNames())
		}
		if kv[1] == starlark.None {
			continue
		}
		if err := k.apply(thread, &b, kv[1]); err != nil {
			if msg := err.Error(); strings.HasPrefix(msg, name) { // already names it: slos["ttft"], warmup.requests
				return nil, errext.Errorf(errext.InvalidConfig, "%s: %v", fnName, err)
			}
			return nil, errext.Errorf(errext.InvalidConfig, "%s: %s: %v", fnName, name, err)
		}
	}
	if err := b.Validate(); err != nil {
		return nil, errext.Errorf(errext.InvalidConfig, "%s: %v", fnName, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if thread.CallStackDepth() > 1 {
		b.CLICommand = fmt.Sprintf("%s at %s", fnName, thread.CallFrame(1).Pos)
	}
	return &b, nil
}

func kwargNames() []string {
	var names []string
	for _, k := range runKwargs() {
		names = append(names, k.Name)
	}
	sort.Strings(names)
	return names
}

// runBuiltin implements run(**kwargs) -> result.
func runBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 {
		return nil, errext.Errorf(errext.InvalidConfig, "run: takes keyword arguments only (endpoint=..., dataset=..., timing=..., requests=...)")
	}
	cfg, err := benchmarkFromKwargs(thread, "run", kwargs)
	if err != nil {
		return nil, err
	}
	return RunStep(thread, cfg)
}

// RunStep executes (or, in dry-run mode, plans) one step and returns its
// result value. sweep and search call it for every step.
func RunStep(thread *starlark.Thread, cfg *config.Benchmark) (*Result, error) {
	env, err := envOf(thread)
	if err != nil {
		return nil, err
	}
	ctx := interp.ContextOf(thread)
	where := ""
	if thread.CallStackDepth() > 1 {
		where = thread.CallFrame(1).Pos.String()
	}
	if cfg.Output.ArtifactDir == "" && env.ArtifactRoot != "" {
		cfg.Output.Root = env.ArtifactRoot
	}
	cfg.Output.ArtifactDir = env.artifactPath(cfg.Output.ArtifactDir)
	if env.DryRun {
		desc := ""
		if env.PlanStep != nil {
			d, err := env.PlanStep(ctx, cfg)
			if err != nil {
				return nil, withCode(err, errext.InvalidConfig)
			}
			desc = d
		}
		env.record(PlannedStep{Where: where, Config: cfg, Description: desc})
		return &Result{placeholder: true, units: metricUnit}, nil
	}
	if env.Execute == nil {
		return nil, errNoEnv
	}
	var opts []runner.Option
	var abort *abortOnFail
	if a := newAbortOnFail(ctx, cfg.Thresholds); a != nil {
		abort = a
		ctx = a.ctx
		opts = append(opts, runner.WithObserver(a))
		defer a.cancel(nil)
	}
	sum, err := env.Execute(ctx, cfg, opts...)
	if err != nil {
		if interp.ContextOf(thread).Err() != nil && sum == nil {
			return nil, withCode(err, errext.Interrupted)
		}
		return nil, withCode(err, errext.InvalidConfig)
	}
	if sum.Info.Aborted != "" {
		env.noteThresholds(sum.Thresholds)
		return nil, errext.WithHint(errext.Errorf(errext.RunAborted, "run aborted: %s (what was measured is in %s)", sum.Info.Aborted, sum.Info.ArtifactDir),
			runner.AbortHint(sum.Info.Aborted))
	}
	if abort != nil {
		if msg := abort.fired(); msg != "" {
			env.noteThresholds(sum.Thresholds)
			return nil, errext.Errorf(errext.ThresholdsFailed, "run aborted: %s (artifacts: %s)", msg, sum.Info.ArtifactDir)
		}
	}
	if len(sum.Thresholds) == 0 && len(cfg.Thresholds) > 0 {
		for _, t := range cfg.Thresholds {
			sum.Thresholds = append(sum.Thresholds, results.EvaluateThreshold(sum, t))
		}
	}
	env.noteThresholds(sum.Thresholds)
	for _, t := range sum.Thresholds {
		if !t.Passed && t.Threshold.AbortOnFail {
			return nil, errext.Errorf(errext.ThresholdsFailed, "threshold failed (abort_on_fail): %s", t.Message)
		}
	}
	if cfg.Validity.FailOnInvalid && !sum.Verdict.Valid {
		return nil, errext.Errorf(errext.InvalidRun, "run INVALID: %s", strings.Join(sum.Verdict.Reasons, "; "))
	}
	env.noteOutcome(sum)
	return NewResult(sum), nil
}

// withCode keeps an error's exit code or gives it code.
func withCode(err error, code errext.ExitCode) error {
	if errext.ExitCodeOf(err) != errext.Generic {
		return err
	}
	var se *interp.ScriptError
	if errors.As(err, &se) {
		return err
	}
	return errext.WithExitCode(err, code)
}

func metricUnit(tag string) (string, bool) {
	d, ok := metrics.Lookup(tag)
	return d.Unit, ok
}
