package aiperfcli

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/redact"
	"github.com/loadstar/loadstar/internal/sweep"
)

// kwarg is one keyword argument of a rendered run() call: its name and its
// Starlark expression.
type kwarg struct {
	Name, Expr string
}

// renderer renders a plan as Starlark. Secrets never appear in its output:
// each becomes a call _secret("<name>") that reads --var <name>=... when
// the scenario runs; secrets lists their names.
type renderer struct {
	// urlVar renders every endpoint's url argument as this identifier
	// (the embedded mock's address, known only when the scenario runs).
	urlVar  string
	secrets []string
}

// runKwargs renders cfg as the keyword arguments of a run() call that
// builds the same config.Benchmark, in run()'s documentation order
// (`loadstar doc run`; a test keeps them in step), leaving out what equals
// run()'s defaults. CLICommand has no run() argument: a scenario's steps
// record where they were called instead.
func (r *renderer) runKwargs(cfg *config.Benchmark) []kwarg {
	var out []kwarg
	add := func(name, expr string) { out = append(out, kwarg{name, expr}) }
	def := config.Defaults()
	if cfg.Endpoint != nil {
		add("endpoint", r.spec(cfg.Endpoint))
	}
	if cfg.Dataset != nil {
		add("dataset", r.spec(cfg.Dataset))
	}
	if cfg.Timing != nil {
		add("timing", r.spec(cfg.Timing))
	}
	if cfg.Stop.Requests > 0 {
		add("requests", strconv.Itoa(cfg.Stop.Requests))
	}
	if cfg.Stop.Sessions > 0 {
		add("sessions", strconv.Itoa(cfg.Stop.Sessions))
	}
	if cfg.Stop.Duration > 0 {
		add("duration", durationLit(cfg.Stop.Duration))
	}
	if cfg.Grace != def.Grace {
		add("grace", durationLit(cfg.Grace))
	}
	if cfg.Warmup != nil {
		add("warmup", r.warmup(cfg.Warmup))
	}
	if len(cfg.Phases) > 0 {
		add("phases", r.phases(cfg.Phases))
	}
	if cfg.Prefill.Concurrency > 0 {
		add("prefill_concurrency", strconv.Itoa(cfg.Prefill.Concurrency))
	}
	if cfg.Prefill.Ramp > 0 {
		add("prefill_ramp", durationLit(cfg.Prefill.Ramp))
	}
	if c := cfg.Cancel; c.Percent > 0 {
		expr := fmt.Sprintf("{%q: %s", "percent", floatLit(c.Percent))
		if c.Delay > 0 {
			expr += fmt.Sprintf(", %q: %s", "delay", durationLit(c.Delay))
		}
		add("cancel", expr+"}")
	}
	if len(cfg.SLOs) > 0 {
		add("slos", slosLit(cfg.SLOs))
	}
	if len(cfg.Thresholds) > 0 {
		parts := make([]string, len(cfg.Thresholds))
		for i, t := range cfg.Thresholds {
			parts[i] = fmt.Sprintf("%q: %q", t.Metric, t.Expr)
		}
		add("thresholds", "{"+strings.Join(parts, ", ")+"}")
	}
	if f := cfg.Abort.FailedRequestThreshold; f != nil {
		add("failed_request_threshold", floatLit(*f))
	}
	if !cfg.Abort.Unreachable {
		add("abort_unreachable", "False")
	}
	if w := cfg.WaitForModel; w.Timeout > 0 {
		expr := durationLit(w.Timeout)
		if w != (config.WaitForModel{Timeout: w.Timeout, Mode: def.WaitForModel.Mode, Interval: def.WaitForModel.Interval}) {
			expr = fmt.Sprintf("{%q: %s, %q: %q, %q: %s}", "timeout", durationLit(w.Timeout), "mode", w.Mode, "interval", durationLit(w.Interval))
		}
		add("wait_for_model", expr)
	}
	if cfg.SeedSet {
		add("seed", strconv.FormatUint(cfg.Seed, 10))
	}
	if cfg.Tokenizer.Kind != "" {
		add("tokenizer", cfg.Tokenizer.String())
	}
	if cfg.ServerTokenCount {
		add("server_token_count", "True")
	}
	for _, c := range []struct {
		name string
		spec *plugin.Spec
	}{{"sampler", cfg.Sampler}, {"transport", cfg.Transport}, {"url_selection", cfg.URLSelection}} {
		if c.spec != nil {
			add(c.name, r.spec(c.spec))
		}
	}
	return append(out, outputKwargs(cfg, def)...)
}

// warmup renders a warmup phase: a request count alone, or a dict.
func (r *renderer) warmup(w *config.Warmup) string {
	if w.Stop.Sessions == 0 && w.Stop.Duration == 0 && w.Grace == 0 && w.Timing == nil && w.Prefill == (config.Prefill{}) && w.Stop.Requests > 0 {
		return strconv.Itoa(w.Stop.Requests)
	}
	var parts []string
	if w.Stop.Requests > 0 {
		parts = append(parts, fmt.Sprintf("%q: %d", "requests", w.Stop.Requests))
	}
	if w.Stop.Sessions > 0 {
		parts = append(parts, fmt.Sprintf("%q: %d", "sessions", w.Stop.Sessions))
	}
	if w.Stop.Duration > 0 {
		parts = append(parts, fmt.Sprintf("%q: %s", "duration", durationLit(w.Stop.Duration)))
	}
	if w.Grace != 0 {
		parts = append(parts, fmt.Sprintf("%q: %s", "grace", durationLit(w.Grace)))
	}
	if w.Timing != nil {
		parts = append(parts, fmt.Sprintf("%q: %s", "timing", r.spec(w.Timing)))
	}
	if w.Prefill.Concurrency > 0 {
		parts = append(parts, fmt.Sprintf("%q: %d", "prefill_concurrency", w.Prefill.Concurrency))
	}
	if w.Prefill.Ramp > 0 {
		parts = append(parts, fmt.Sprintf("%q: %s", "prefill_ramp", durationLit(w.Prefill.Ramp)))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// phases renders a multi-phase run's phases as run()'s list of dicts.
func (r *renderer) phases(phs []config.Phase) string {
	items := make([]string, len(phs))
	for i, ph := range phs {
		parts := []string{fmt.Sprintf("%q: %q", "name", ph.Name)}
		if ph.Warmup {
			parts = append(parts, fmt.Sprintf("%q: True", "warmup"))
		}
		if ph.Timing != nil {
			parts = append(parts, fmt.Sprintf("%q: %s", "timing", r.spec(ph.Timing)))
		}
		if ph.Stop.Requests > 0 {
			parts = append(parts, fmt.Sprintf("%q: %d", "requests", ph.Stop.Requests))
		}
		if ph.Stop.Sessions > 0 {
			parts = append(parts, fmt.Sprintf("%q: %d", "sessions", ph.Stop.Sessions))
		}
		if ph.Stop.Duration > 0 {
			parts = append(parts, fmt.Sprintf("%q: %s", "duration", durationLit(ph.Stop.Duration)))
		}
		if ph.Grace > 0 {
			parts = append(parts, fmt.Sprintf("%q: %s", "grace", durationLit(ph.Grace)))
		}
		items[i] = "{" + strings.Join(parts, ", ") + "}"
	}
	return "[" + strings.Join(items, ", ") + "]"
}

// slosLit renders goodput objectives as run()'s slos dict.
func slosLit(slos []config.SLO) string {
	parts := make([]string, len(slos))
	for i, s := range slos {
		expr, ok := strings.CutPrefix(s.Source, s.Metric+" ")
		if !ok || expr == "" {
			expr = s.Op + " " + strconv.FormatFloat(s.Threshold, 'g', -1, 64) + "ns"
		}
		parts[i] = fmt.Sprintf("%q: %q", s.Metric, expr)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// outputKwargs renders the output, UI, validity and name arguments that
// differ from run()'s defaults.
func outputKwargs(cfg *config.Benchmark, def config.Benchmark) []kwarg {
	var out []kwarg
	add := func(name, expr string) { out = append(out, kwarg{name, expr}) }
	o := cfg.Output
	if o.ArtifactDir != "" {
		add("artifact_dir", strconv.Quote(o.ArtifactDir))
	}
	if o.Overwrite {
		add("overwrite", "True")
	}
	if o.Plots {
		add("plots", "True")
	}
	if o.Prefix != "" {
		add("export_prefix", strconv.Quote(o.Prefix))
	}
	if o.ExportLevel != "" && o.ExportLevel != def.Output.ExportLevel {
		add("export_level", strconv.Quote(o.ExportLevel))
	}
	if o.SliceDuration > 0 {
		add("slice_duration", durationLit(o.SliceDuration))
	}
	if sm := serverMetricsLit(&cfg.ServerMetrics); sm != "" {
		add("server_metrics", sm)
	}
	if cfg.UI != "" && cfg.UI != def.UI {
		add("ui", strconv.Quote(cfg.UI))
	}
	if v := cfg.Validity; v != def.Validity {
		add("validity", v.Starlark())
	}
	if cfg.Name != "" {
		add("name", strconv.Quote(cfg.Name))
	}
	return out
}

// spec renders a plugin spec as its constructor call, arguments sorted by
// name as plugin.Spec.String does, secrets replaced by _secret(...).
func (r *renderer) spec(s *plugin.Spec) string {
	names := make([]string, 0, len(s.Args))
	for k := range s.Args {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		v := s.Args[k]
		var expr string
		switch {
		case k == "url" && s.Category == plugin.Endpoint && r.urlVar != "":
			expr = r.urlVar
		case plugin.IsSecretName(k), hidesSecret(k, v):
			expr = r.secret(k)
		default:
			if l, ok := v.([]string); ok && len(l) == 1 {
				v = l[0] // a list-of-strings parameter takes one string as a one-element list
			}
			expr = r.value(k, v)
		}
		parts[i] = k + " = " + expr
	}
	return fmt.Sprintf("%s.%s(%s)", plugin.Namespace(s.Category), s.Name, strings.Join(parts, ", "))
}

// hidesSecret reports whether a string argument (or a list of them) holds a
// secret in a URL: a password or a secret query parameter.
func hidesSecret(name string, v any) bool {
	switch x := v.(type) {
	case string:
		return redact.URL(x) != x || (strings.Contains(strings.ToLower(name), "header") && redact.HeaderLine(x) != x)
	case []string:
		for _, s := range x {
			if hidesSecret(name, s) {
				return true
			}
		}
	}
	return false
}

// isSecretEntry reports whether the entry k of the dict argument named arg
// is a secret: a secret header of a headers dict, a secret url_params
// parameter, or a credential-looking value.
func isSecretEntry(arg, k string, v any) bool {
	s, _ := v.(string)
	switch {
	case strings.Contains(strings.ToLower(arg), "header"):
		return redact.Header(k, s) == redact.Redacted
	case arg == "url_params":
		return redact.IsSecretParam(k)
	}
	return redact.LooksLikeCredential(s) || hidesSecret(k, v)
}

func (r *renderer) secret(name string) string {
	n := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(name, "_"))
	for _, s := range r.secrets {
		if s == n {
			return fmt.Sprintf("_secret(%q)", n)
		}
	}
	r.secrets = append(r.secrets, n)
	return fmt.Sprintf("_secret(%q)", n)
}

// value renders a plugin argument value (the Go types of plugin.ParamType)
// as a Starlark literal that converts back to the same value.
func (r *renderer) value(key string, v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return strconv.Quote(x)
	case bool:
		return boolLit(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return floatLit(x)
	case time.Duration:
		return durationLit(x)
	case dist.Fixed:
		return numLit(x.V)
	case dist.Normal:
		return fmt.Sprintf("dist.normal(%s, %s)", numLit(x.Mu), numLit(x.Sigma))
	case dist.Dist:
		return x.String()
	case *plugin.Spec:
		return r.spec(x)
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = r.value("", e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *ordered.Map:
		parts := make([]string, 0, x.Len())
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			expr := r.value(k, e)
			if plugin.IsSecretName(k) || isSecretEntry(key, k, e) {
				expr = r.secret(key + "_" + k)
			}
			parts = append(parts, strconv.Quote(k)+": "+expr)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

func boolLit(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// floatLit renders a float so that Starlark reads a float back.
func floatLit(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return `float("inf")`
	case math.IsInf(f, -1):
		return `float("-inf")`
	case math.IsNaN(f):
		return `float("nan")`
	}
	s := numLit(f)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// numLit renders a number plainly (integral values without a point), for
// places that accept an int or a float alike (distributions).
func numLit(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	if a := math.Abs(f); a >= 1e-4 && a < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func durationLit(d time.Duration) string { return strconv.Quote(d.String()) }

// sentinel marks where a swept parameter's value lands in the rendered
// template benchmark.
type sentinel struct {
	param string
	lit   string // the literal to replace by the parameter's name
}

// sentinelValue returns a value for param i of kind k that no flag is
// likely to hold, and its literal as the renderer writes it.
func sentinelValue(param string, k listKind, i int) (any, string) {
	if k == intList {
		n := int64(987_651 + 10*i)
		return n, strconv.FormatInt(n, 10)
	}
	x := 987_651.125 + float64(10*i)
	if param == "benchmark_duration" {
		return x, durationLit(seconds(x))
	}
	return x, numLit(x)
}

// buildTemplate builds the benchmark with sentinel values for the swept
// parameters (emission renders it and names the parameters).
func (b *builder) buildTemplate(params []sweep.Param, fixed values) error {
	v := values{}
	for k, x := range fixed {
		v[k] = x
	}
	for i, p := range params {
		var kind listKind
		for _, l := range listFlags {
			if l.param == p.Name {
				kind = l.kind
			}
		}
		val, lit := sentinelValue(p.Name, kind, i)
		v[p.Name] = val
		b.plan.sentinels = append(b.plan.sentinels, sentinel{p.Name, lit})
	}
	cfg, err := b.benchmark(v)
	if err != nil {
		return err
	}
	b.plan.template = cfg
	return nil
}

// replaceLiteral replaces whole-token occurrences of lit in s by name.
func replaceLiteral(s, lit, name string) (string, int) {
	var out strings.Builder
	n := 0
	for {
		i := strings.Index(s, lit)
		if i < 0 {
			out.WriteString(s)
			return out.String(), n
		}
		end := i + len(lit)
		before := byte(' ')
		if i > 0 {
			before = s[i-1]
		}
		after := byte(' ')
		if end < len(s) {
			after = s[end]
		}
		whole := lit[0] == '"' || !(isWordByte(before) || before == '.') && !(isWordByte(after) || after == '.')
		out.WriteString(s[:i])
		if whole {
			out.WriteString(name)
			n++
		} else {
			out.WriteString(lit)
		}
		s = s[end:]
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Scenario renders the plan as a .star scenario that builds the same
// benchmarks: run(...) for one benchmark, a loop of run() for repeated
// trials, sweep(...) for comma lists. Secrets are read from --var.
func (p *Plan) Scenario() (string, error) {
	r := &renderer{}
	if p.Mock != nil {
		r.urlVar = "url"
	}
	var body string
	switch {
	case len(p.params) == 0 && p.trials < 2:
		body = "run(\n" + indentKwargs(r.runKwargs(p.cells[0].Config), "    ") + ")\n"
	case len(p.params) == 0:
		body = p.trialsScenario(r)
	default:
		var err error
		if body, err = p.sweepScenario(r); err != nil {
			return "", err
		}
	}
	return p.scenarioHeader(r) + body, nil
}

// indentKwargs renders keyword arguments one per line.
func indentKwargs(kw []kwarg, indent string) string {
	var s strings.Builder
	for _, k := range kw {
		fmt.Fprintf(&s, "%s%s = %s,\n", indent, k.Name, k.Expr)
	}
	return s.String()
}

// scenarioHeader renders what precedes the benchmarks: where the scenario
// comes from, how to run it, the _secret helper and the embedded mock.
func (p *Plan) scenarioHeader(r *renderer) string {
	var out strings.Builder
	if p.command != "" {
		cmd := p.command
		for _, flag := range []string{" --emit-scenario=true", " --emit-scenario"} {
			cmd = strings.Replace(cmd, flag, "", 1)
		}
		fmt.Fprintf(&out, "# Generated by `loadstar profile --emit-scenario`: the benchmark of\n#   %s\n", cmd)
	} else {
		out.WriteString("# Generated by `loadstar profile --emit-scenario`.\n")
	}
	out.WriteString("# Run it with `loadstar run <this file>")
	for _, s := range r.secrets {
		fmt.Fprintf(&out, " --var %s=...", s)
	}
	out.WriteString("`.\n")
	if p.cells[0].Config.Stop == (config.Stop{}) {
		out.WriteString("# No stop condition is given: the runner applies AIPerf's default (a trace is sent once,\n# otherwise max(10, 2 x concurrency) requests).\n")
	}
	out.WriteString("\n")
	if len(r.secrets) > 0 {
		out.WriteString(`def _secret(name):
    """A secret given when the scenario runs (--var name=...); secrets are never written into scenarios."""
    if name not in vars:
        fail("this scenario needs --var %s=... (a secret of the original command line)" % name)
    return str(vars[name])

`)
	}
	if p.Mock != nil {
		out.WriteString("# No --url was given: benchmark the embedded mock server (--var url=http://host:port to use another).\n")
		fmt.Fprintf(&out, "url = vars.get(\"url\") or mock.server(%s).url\n\n", mockArgs(*p.Mock))
	}
	return out.String()
}

// trialsScenario renders repeated trials of one benchmark as a loop of run().
func (p *Plan) trialsScenario(r *renderer) string {
	var body strings.Builder
	cfg := p.cells[0].Config
	body.WriteString("kwargs = dict(\n" + indentKwargs(r.runKwargs(cfg), "    ") + ")\n\n")
	fmt.Fprintf(&body, "# %d trials in %s/profile_runs/run_NNNN/ (loadstar profile also writes\n# %s/aggregate/ with the confidence intervals over the trials).\n",
		p.trials, p.baseDir, p.baseDir)
	dirs := make([]string, p.trials)
	for t := range dirs {
		dirs[t] = strconv.Quote(trialDir(p.baseDir, t+1))
	}
	fmt.Fprintf(&body, "trial_dirs = [%s]\n", strings.Join(dirs, ", "))
	body.WriteString("for i, run_dir in enumerate(trial_dirs):\n    trial = i + 1\n")
	body.WriteString("    step = dict(kwargs, artifact_dir = run_dir)\n")
	if cfg.Warmup != nil && !p.warmupEveryTrial {
		body.WriteString("    if trial > 1:\n        step.pop(\"warmup\")  # warm up before the first trial only, as AIPerf does\n")
	}
	if p.varySeed {
		fmt.Fprintf(&body, "    step[\"seed\"] = %d + trial - 1\n", cfg.Seed)
	}
	body.WriteString("    run(**step)\n")
	return body.String()
}

// sweepKwargs splits the template benchmark's run() arguments into those
// common to every cell and those that vary with the swept parameters (the
// sentinels replaced by the parameters' names).
func (p *Plan) sweepKwargs(r *renderer) (common, varying []kwarg, err error) {
	for _, k := range r.runKwargs(p.template) {
		expr := k.Expr
		changed := 0
		for _, s := range p.sentinels {
			var n int
			expr, n = replaceLiteral(expr, s.lit, s.param)
			changed += n
		}
		for _, s := range p.sentinels {
			if strings.Contains(expr, strings.Trim(s.lit, `"`)) {
				return nil, nil, errext.Errorf(errext.Generic, "emit-scenario: the value of --%s appears in %s in a form the scenario cannot express", flagOf(s.param), k.Name)
			}
		}
		if changed > 0 {
			varying = append(varying, kwarg{k.Name, expr})
		} else {
			common = append(common, k)
		}
	}
	if p.seedPerStep {
		// Step i of the sweep draws from seed+i (AIPerf's default).
		kept := common[:0]
		for _, k := range common {
			if k.Name != "seed" {
				kept = append(kept, k)
			}
		}
		common = kept
		varying = append(varying, kwarg{"seed", fmt.Sprintf("%d + _STEPS.index(%s)", p.template.Seed, tupleLit(p.paramNames()))})
	}
	used := map[string]bool{}
	for _, k := range varying {
		for _, s := range p.sentinels {
			if _, n := replaceLiteral(k.Expr, s.param, s.param); n > 0 {
				used[s.param] = true
			}
		}
	}
	for _, prm := range p.params {
		if !used[prm.Name] {
			return nil, nil, errext.Errorf(errext.Generic, "emit-scenario: swept --%s does not reach the benchmark", flagOf(prm.Name))
		}
	}
	return common, varying, nil
}

// paramNames are the names of the swept parameters.
func (p *Plan) paramNames() []string {
	names := make([]string, len(p.params))
	for i, prm := range p.params {
		names[i] = prm.Name
	}
	return names
}

// sweepScenario renders a sweep: the arguments common to every cell, a
// step function of the swept parameters for the rest, and the sweep() call.
func (p *Plan) sweepScenario(r *renderer) (string, error) {
	common, varying, err := p.sweepKwargs(r)
	if err != nil {
		return "", err
	}
	names := p.paramNames()
	var b strings.Builder
	b.WriteString("common = dict(\n" + indentKwargs(common, "    ") + ")\n\n")
	if p.seedPerStep {
		tuples := make([]string, len(p.cells))
		for i, c := range p.cells {
			vals := make([]string, len(c.Values))
			for j, v := range c.Values {
				vals[j] = r.value("", v.Value)
			}
			tuples[i] = tupleLit(vals)
		}
		fmt.Fprintf(&b, "# The sweep's steps in order: step i is seeded with seed + i, as AIPerf does\n# (--parameter-sweep-same-seed gives every step the same seed).\n_STEPS = [%s]\n\n", strings.Join(tuples, ", "))
	}
	fmt.Fprintf(&b, "def step(%s):\n", strings.Join(names, ", "))
	b.WriteString("    return dict(\n        common,\n" + indentKwargs(varying, "        ") + "    )\n\n")
	var lists []string
	for _, prm := range p.params {
		vals := make([]string, len(prm.Values))
		for i, v := range prm.Values {
			vals[i] = r.value("", v)
		}
		lists = append(lists, fmt.Sprintf("%q: [%s]", prm.Name, strings.Join(vals, ", ")))
	}
	mode := "grid"
	if p.sweepMode == sweep.Zip {
		mode = "zip"
	}
	fmt.Fprintf(&b, "sweep(\n    step,\n    %s = {%s},\n    artifact_dir = %s,\n", mode, strings.Join(lists, ", "), strconv.Quote(p.baseDir))
	if p.trials > 1 {
		fmt.Fprintf(&b, "    repeat = %d,\n    confidence = %s,\n", p.trials, floatLit(p.confidence))
	}
	if p.cooldown > 0 {
		fmt.Fprintf(&b, "    cooldown = %s,\n", durationLit(p.cooldown))
	}
	b.WriteString(")\n")
	return b.String(), nil
}

// tupleLit renders a Starlark tuple of the given expressions.
func tupleLit(items []string) string {
	if len(items) == 1 {
		return "(" + items[0] + ",)"
	}
	return "(" + strings.Join(items, ", ") + ")"
}

// mockArgs renders the mock.server() arguments that differ from its defaults.
func mockArgs(c mock.Config) string {
	d := mock.DefaultConfig()
	var parts []string
	if c.TTFT != d.TTFT {
		parts = append(parts, "ttft = "+durationLit(c.TTFT))
	}
	if c.ITL != d.ITL {
		parts = append(parts, "itl = "+durationLit(c.ITL))
	}
	if c.Fast {
		parts = append(parts, "fast = True")
	}
	if c.Seed != d.Seed {
		parts = append(parts, "seed = "+strconv.FormatInt(c.Seed, 10))
	}
	if c.OutputRule != d.OutputRule && c.OutputRule != "" {
		parts = append(parts, "output = "+strconv.Quote(string(c.OutputRule)))
	}
	return strings.Join(parts, ", ")
}

// cleanDir keeps directory names as filepath.Join would write them.
func cleanDir(d string) string {
	if d == "" {
		return ""
	}
	return filepath.Clean(d)
}
