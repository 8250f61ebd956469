package builtins

import (
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/interp"
)

// DocEntry is one documented name of the script API.
type DocEntry struct {
	Name      string // e.g. "run", "dist.normal", "endpoint.chat", "@stdlib//slo.star"
	Signature string
	Doc       string
	Args      []Kwarg
	Section   string
	// Common are arguments every plugin of the entry's category takes
	// (an endpoint's url, model, ...), documented once on the category's
	// entry; CommonOf names that entry ("endpoint").
	Common   []Kwarg
	CommonOf string
}

// AllArgs are the entry's own arguments followed by the common ones.
func (e DocEntry) AllArgs() []Kwarg {
	return append(append([]Kwarg(nil), e.Args...), e.Common...)
}

// coreDocs documents the plain helpers and engine builtins; plugin
// constructors and stdlib modules are documented from the registry and the
// modules' own docstrings.
func coreDocs() []DocEntry {
	dur := func(name, unit string) DocEntry {
		return DocEntry{Name: name, Signature: name + "(n)", Section: "Values", Doc: "A duration of n " + unit + " (n may be a float). Durations add, subtract, compare, scale by numbers, divide into ratios, and expose .ns, .us, .ms, .s."}
	}
	return []DocEntry{
		{Name: "run", Signature: "run(**kwargs) -> result", Section: "Benchmarks", Args: runKwargs(),
			Doc: "Runs one benchmark step and returns its result: r.metrics.<tag>.<stat> (time statistics are durations), r.request_throughput, r.output_token_throughput, r.goodput, r.request_count, r.error_count, r.error_rate, r.duration, r.valid, r.verdict (reasons, issue_delay, scheduled_rate, achieved_rate, late, dropped), r.thresholds (each: metric, expr, passed, stat, actual — a duration for time metrics, None when nothing was measured —, unit, message), r.thresholds_passed, r.errors, r.artifact_dir, r.files, r.seed, r.token_source, r.warnings, r.phases (a multi-phase run's profiling phases by name, each a result of its own). Under `loadstar inspect` nothing is sent: the step is validated and recorded, and a placeholder result (r.planned == True, numbers zero) is returned."},
		{Name: "sweep", Signature: "sweep(base, grid = None, zip = None, **kwargs) -> sweep_result", Section: "Benchmarks", Args: sweepKwargs(),
			Doc: "Runs base over a grid or a zip of parameter values, one artifact subdirectory per step (named <param>_<value>, e.g. concurrency_8; a plugin swept whole, grid = {\"timing\": [timing.concurrency(concurrency = 8), ...]}, is named by the arguments that differ: concurrency_8), and writes sweep_summary.csv and sweep_summary.json (one row per step with the headline metrics, rounded to 6 significant digits in the CSV; mean, std and a confidence interval when repeat > 1). A sweep that Ctrl-C or a failing step ends still writes the summary of the steps that finished, marked incomplete (\"complete\": false and the reason in the JSON; the other steps as rows with no trials and the error \"not finished: ...\"). Returns struct(steps = [struct(name, values, result, results, error)], dir, summary_csv, summary_json, stopped_early)."},
		{Name: "search", Signature: "search(base, lo, objectives = None, **kwargs) -> search_result", Section: "Benchmarks", Args: searchKwargs(),
			Doc: "Finds the largest knob value (request rate, concurrency, ...) for which the objectives hold: probes lo, then brackets by doubling while they hold, then bisects to the tolerance. Every probe is reported and written to search_history.{csv,json}. Returns struct(best, converged, result, probes = [struct(value, passed, phase, reasons, result)], dir)."},
		{Name: "threshold", Signature: "threshold(metric, expr, abort_on_fail = False)", Section: "Benchmarks",
			Doc: "A pass/fail check for run(thresholds = [...]). expr is `stat op value`: stat one of avg, min, max, std, sum, count, value, med, p1, p5, p10, p25, p50, p75, p90, p95, p99 (or p(N)); op one of <, <=, >, >=, ==, !=; value a number in the metric's display unit, a duration (\"500ms\", \"2s\") for time metrics, or a percentage (\"1%\"). Single-value metrics (request_throughput, goodput, request_error_rate) use `value`. A bad expression or an unknown metric fails at this line. A failed threshold makes `loadstar run` exit with code 5; with abort_on_fail the script stops at the failing run."},
		{Name: "load_results", Signature: "load_results(dir) -> result | [result]", Section: "Benchmarks",
			Doc: "Reads an earlier run from its artifact directory (profile_export_aiperf.json, loadstar's or AIPerf's) and returns the same result as run() did: r.metrics.<tag>.<stat>, r.request_throughput, r.valid, r.errors, ... A directory holding several runs (a sweep, trials) gives a list of results. Relative paths are from the working directory, as artifact_dir."},
		{Name: "compare", Signature: "compare(base, new, thresholds = [], alpha = 0.05, min_change = 0.02) -> comparison", Section: "Benchmarks",
			Doc: "Compares two runs (artifact directories or run() results), as `loadstar compare`: every headline metric with its change in percent and whether the change is beyond noise (Welch's t-test over trials when both sides have several; else Mann-Whitney U over batches of consecutive requests — over single requests, or the quantiles' confidence intervals, when there are too few; p-values Holm-adjusted; a change under min_change is never significant). See docs/results.md. thresholds are limits like [\"ttft.p99=+5%\"] or {\"output_token_throughput\": \"-3%\"}; a crossed limit makes the script exit with code 12 at its end. Returns struct(rows = [struct(metric, stat, header, unit, base, new, change_pct, test, p_value, significant, better, limit, crossed)], significant, crossed, passed, summary, text)."},
		{Name: "mock.server", Signature: "mock.server(**kwargs) -> struct(url, gpu_url, stats, close)", Section: "Benchmarks", Args: MockKwargs(),
			Doc: "Starts the embedded mock LLM server on a free 127.0.0.1 port for the rest of the script (stopped when it ends) and returns its url, gpu_url (its DCGM-like GPU exporter with gpus=N, else None), a stats() function (requests, by_path, max_in_flight, prompt_tokens, completion_tokens) and close(). It speaks every endpoint's API; see docs/mock.md."},
		dur("ns", "nanoseconds"), dur("us", "microseconds"), dur("ms", "milliseconds"), dur("s", "seconds"), dur("minutes", "minutes"),
		{Name: "duration", Signature: "duration(text_or_seconds)", Section: "Values", Doc: "Parses \"1m30s\"-style text (or a number of seconds) into a duration. Wherever a duration is expected, such a string works too."},
		{Name: "dist.normal", Signature: "dist.normal(mean, stddev = 0)", Section: "Values", Doc: "Normal distribution (lengths are rounded and clamped to at least 1)."},
		{Name: "dist.uniform", Signature: "dist.uniform(lo, hi)", Section: "Values", Doc: "Uniform distribution on [lo, hi]."},
		{Name: "dist.fixed", Signature: "dist.fixed(value)", Section: "Values", Doc: "Always value. A plain number means the same wherever a distribution is expected."},
		{Name: "dist.mix", Signature: "dist.mix([(weight, dist), ...])", Section: "Values", Doc: "Picks one alternative by weight per draw, e.g. a mix of (isl, osl) shapes."},
		{Name: "tokenizer.tiktoken", Signature: "tokenizer.tiktoken(encoding = \"o200k_base\")", Section: "Values", Doc: "A built-in tiktoken encoding: o200k_base (GPT-4o, AIPerf's `builtin`) or cl100k_base."},
		{Name: "tokenizer.file", Signature: "tokenizer.file(path)", Section: "Values", Doc: "A Hugging Face tokenizer.json (or a directory holding one), relative to the calling file."},
		{Name: "dataset.file", Signature: "dataset.file(path, type = None, **kwargs)", Section: "Values", Doc: "Shorthand for dataset.custom(path = path, type = type, ...), with path relative to the calling file. Types: single_turn, multi_turn, random_pool, mooncake_trace, inputs_json (auto-detected when omitted)."},
		{Name: "env", Signature: "env(name, default = <required>, secret = <auto>)", Section: "Values", Doc: "Reads the environment variable name. Unset (or empty) without a default is an error naming the variable (exit code 2); with a default the text is converted to the default's type, as vars.get. A secret (secret = True; by default names that look secret: *_API_KEY, *TOKEN, *SECRET*, *PASSWORD*) is a value that prints as <redacted> everywhere — print(), plugin values, inspect, logs, artifacts — joins strings with + into another secret (\"Bearer \" + key), and is given to plugin arguments as is: endpoint.chat(api_key = env(\"OPENAI_API_KEY\"), ...)."},
		{Name: "struct", Signature: "struct(**fields)", Section: "Values", Doc: "An immutable record with the given fields."},
		{Name: "vars", Signature: "vars", Section: "Values", Doc: "The --var key=value flags, read like a frozen dict whose values are the text given (vars[\"model\"], \"url\" in vars); vars.get(name, default) converts the text to the default's type (int, float, bool, string, list, dict, duration): vars.get(\"rate\", 10). A value that does not convert is an error naming the variable."},
		{Name: "print", Signature: "print(*args, sep = \" \")", Section: "Values", Doc: "Writes its arguments, separated by spaces, as one plain line on stdout, whatever the log level (progress and logs go to stderr). Under `loadstar inspect` the lines are debug log lines instead: the results printed there are placeholders."},
		{Name: "format", Signature: "format(value, spec = \"\")", Section: "Values", Doc: "Formats a number, string or duration with Python's format-spec mini-language, [[fill]align][sign][#][0][width][,|_][.precision][type]: format(3.14159, \".2f\") is \"3.14\", format(0.051, \".1%\") \"5.1%\", format(1234567, \",\") \"1,234,567\", format(42, \">6\") \"    42\", format(\"ttft\", \"<12\") pads to 12. A duration formats as its readable text, precision being the digits after the point (format(ms(54.17), \".1\") is \"54.2ms\"); format its number in a unit with format(d.ms, \".3f\"). Without a spec it is str(value)."},
		{Name: "fail", Signature: "fail(msg)", Section: "Values", Doc: "Stops the script with an error (exit code 3)."},
		{Name: "json", Signature: "json.encode(v), json.decode(s), json.indent(s)", Section: "Values", Doc: "JSON conversion (go.starlark.net/lib/json)."},
		{Name: "math", Signature: "math.sqrt(x), math.pow(x, y), math.log(x), ...", Section: "Values", Doc: "Floating-point functions (go.starlark.net/lib/math)."},
	}
}

// pluginDocs documents every plugin constructor of every non-internal category.
func pluginDocs(reg *plugin.Registry) []DocEntry {
	var out []DocEntry
	for _, c := range reg.Categories() {
		if c.Internal {
			continue
		}
		section := "Plugins: " + c.Namespace + " (" + string(c.Name) + ")"
		names := reg.Names(c.Name)
		catDoc := strings.TrimSpace(c.Description)
		if len(names) == 0 {
			catDoc += "\n\nNo plugins of this category are registered in this build; external packages can add them (docs/plugins.md)."
		}
		catAt := len(out)
		out = append(out, DocEntry{Name: c.Namespace, Section: section, Signature: c.Namespace + ".<name>(**kwargs)  # " + strings.Join(names, ", "), Doc: catDoc})
		first := len(out)
		for _, e := range reg.All(c.Name) {
			name := c.Namespace + "." + e.Name
			d := DocEntry{Name: name, Section: section, Doc: strings.TrimSpace(e.Description)}
			class, err := e.Resolve()
			if err != nil {
				d.Signature = name + "(...)"
				d.Doc += "\n(unavailable: " + err.Error() + ")"
				out = append(out, d)
				continue
			}
			var sig []string
			for _, p := range class.Params {
				def := "None"
				if p.Required {
					def = "required"
				} else if p.Default != nil {
					def = plugin.FormatValue(p.Name, p.Default)
				}
				sig = append(sig, p.Name)
				doc := p.Doc
				if len(p.Choices) > 0 {
					doc += " One of: " + strings.Join(p.Choices, ", ") + "."
				}
				d.Args = append(d.Args, Kwarg{Name: p.Name, Type: p.Describe(), Default: def, Doc: doc})
			}
			d.Signature = name + "(" + strings.Join(sig, ", ") + ")"
			out = append(out, d)
		}
		shareCommonArgs(&out[catAt], out[first:])
	}
	return out
}

// shareCommonArgs moves the arguments every plugin of a category takes
// alike (same name, type, default and meaning) to the category's entry, so
// the reference states them once instead of once per plugin.
func shareCommonArgs(cat *DocEntry, plugins []DocEntry) {
	if len(plugins) < 2 {
		return
	}
	var common []Kwarg
	for _, a := range plugins[0].Args {
		everywhere := true
		for _, p := range plugins[1:] {
			found := false
			for _, b := range p.Args {
				if b.Name == a.Name && b.Type == a.Type && b.Default == a.Default && b.Doc == a.Doc {
					found = true
					break
				}
			}
			everywhere = everywhere && found
		}
		if everywhere {
			common = append(common, a)
		}
	}
	if len(common) < 2 {
		return
	}
	isCommon := map[string]bool{}
	for _, a := range common {
		isCommon[a.Name] = true
	}
	cat.Args = common
	cat.Doc += fmt.Sprintf("\n\nEvery %s.<name> takes the arguments below; each plugin's entry lists its own.", cat.Name)
	for i := range plugins {
		var own []Kwarg
		for _, a := range plugins[i].Args {
			if !isCommon[a.Name] {
				own = append(own, a)
			}
		}
		plugins[i].Args, plugins[i].Common, plugins[i].CommonOf = own, common, cat.Name
	}
}

// stdlibDocs documents the embedded library from the modules' docstrings
// (read by parsing, without executing them).
func stdlibDocs(stdlib fs.FS) []DocEntry {
	var out []DocEntry
	if stdlib == nil {
		return nil
	}
	files, _ := fs.Glob(stdlib, "*.star")
	sort.Strings(files)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.star") { // the library's own tests
			continue
		}
		src, err := fs.ReadFile(stdlib, f)
		if err != nil {
			continue
		}
		d := DocEntry{Name: "@stdlib//" + f, Signature: fmt.Sprintf("load(\"@stdlib//%s\", ...)", f), Section: "Standard library"}
		file, err := interp.FileOptions.Parse(f, src, 0)
		if err == nil && len(file.Stmts) > 0 {
			if es, ok := file.Stmts[0].(*syntax.ExprStmt); ok {
				if lit, ok := es.X.(*syntax.Literal); ok {
					if s, ok := lit.Value.(string); ok {
						d.Doc = strings.TrimSpace(s)
					}
				}
			}
			var funcs []string
			for _, st := range file.Stmts {
				if def, ok := st.(*syntax.DefStmt); ok && !strings.HasPrefix(def.Name.Name, "__") {
					doc := ""
					if len(def.Body) > 0 {
						if es, ok := def.Body[0].(*syntax.ExprStmt); ok {
							if lit, ok := es.X.(*syntax.Literal); ok {
								doc, _ = lit.Value.(string)
							}
						}
					}
					if doc != "" {
						funcs = append(funcs, fmt.Sprintf("%s: %s", strings.TrimPrefix(def.Name.Name, "_"), strings.TrimSpace(doc)))
					}
				}
			}
			if len(funcs) > 0 {
				d.Doc += "\n\nFunctions:\n- " + strings.Join(funcs, "\n- ")
			}
		}
		out = append(out, d)
	}
	return out
}

// Reference returns the documentation of the whole script API.
func Reference(reg *plugin.Registry, stdlib fs.FS) []DocEntry {
	all := coreDocs()
	all = append(all, pluginDocs(reg)...)
	all = append(all, stdlibDocs(stdlib)...)
	return all
}

// FindDoc returns the entries whose name is name, or starts with name + "."
// (a whole namespace: `loadstar doc endpoint`).
func FindDoc(entries []DocEntry, name string) []DocEntry {
	var out []DocEntry
	for _, e := range entries {
		if e.Name == name || strings.HasPrefix(e.Name, name+".") || e.Name == "@stdlib//"+name || e.Name == "@stdlib//"+name+".star" {
			out = append(out, e)
		}
	}
	return out
}

// WriteMarkdown renders entries as the scenario language reference.
func WriteMarkdown(w io.Writer, entries []DocEntry, title bool) {
	if title {
		fmt.Fprint(w, "# Scenario language reference\n\n")
		fmt.Fprint(w, "Generated by `loadstar doc --markdown` from the same metadata the builtins are built from; ")
		fmt.Fprint(w, "`go test ./cmd/loadstar` fails when this file is stale (refresh: `go run ./cmd/loadstar doc --markdown > docs/scenarios.md`).\n\n")
		fmt.Fprint(w, "A scenario is a Starlark file. Every benchmark component is a plugin constructor (`endpoint.chat(...)`, ")
		fmt.Fprint(w, "`timing.request_rate(...)`, ...) whose result is passed to `run()`; constructors take keyword arguments only, ")
		fmt.Fprint(w, "and `None` means \"not given\". Durations may be written as strings (`\"250ms\"`) or built with `ms()`/`s()`.\n")
	}
	section := ""
	for _, e := range entries {
		if title && e.Section != section {
			section = e.Section
			fmt.Fprintf(w, "\n## %s\n", section)
		}
		fmt.Fprintf(w, "\n### `%s`\n\n", e.Name)
		fmt.Fprintf(w, "```\n%s\n```\n\n", e.Signature)
		if e.Doc != "" {
			fmt.Fprintf(w, "%s\n", e.Doc)
		}
		args := e.Args
		if !title { // one entry alone: every argument it takes
			args = e.AllArgs()
		}
		if len(args) > 0 {
			fmt.Fprint(w, "\n| argument | type | default | meaning |\n|---|---|---|---|\n")
			for _, a := range args {
				fmt.Fprintf(w, "| `%s` | %s | %s | %s |\n", a.Name, mdCell(a.Type), mdCell(a.Default), mdCell(a.Doc))
			}
		}
		if title && len(e.Common) > 0 {
			fmt.Fprintf(w, "\nAlso the arguments every `%s.<name>` takes (see [`%s`](#%s)): %s.\n", e.CommonOf, e.CommonOf, e.CommonOf, argNames(e.Common))
		}
	}
}

func argNames(args []Kwarg) string {
	names := make([]string, len(args))
	for i, a := range args {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

// undocumented reports predeclared names without a DocEntry (a test keeps
// the reference complete).
func undocumented(predeclared starlark.StringDict, entries []DocEntry) []string {
	have := map[string]bool{}
	for _, e := range entries {
		have[e.Name] = true
		if i := strings.Index(e.Name, "."); i > 0 {
			have[e.Name[:i]] = true
		}
	}
	var missing []string
	for name := range predeclared {
		if !have[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	return missing
}
