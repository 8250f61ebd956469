package builtins

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/export"
	"github.com/loadstar/loadstar/internal/sweep"
	"github.com/loadstar/loadstar/interp"
)

// scriptArg is one keyword argument of sweep() or search(): its
// documentation and the variable starlark.UnpackArgs stores it in. The one
// table feeds both the parser and `loadstar doc`: a documented default is
// the variable's initial value unless the default is computed later
// (shown, e.g. "2·lo").
type scriptArg struct {
	name, typ, doc string
	dst            any // pointer handed to starlark.UnpackArgs
	required       bool
	shown          string // the documented default when it is not the initial value
}

// unpackArgs parses args and kwargs into the table's variables.
func unpackArgs(fn string, args starlark.Tuple, kwargs []starlark.Tuple, table []scriptArg) error {
	pairs := make([]any, 0, 2*len(table))
	for _, a := range table {
		name := a.name
		if !a.required {
			name += "?"
		}
		pairs = append(pairs, name, a.dst)
	}
	return unpack(fn, args, kwargs, pairs...)
}

// docArgs documents a table of arguments.
func docArgs(table []scriptArg) []Kwarg {
	out := make([]Kwarg, len(table))
	for i, a := range table {
		def := a.shown
		switch {
		case a.required:
			def = "required"
		case def == "":
			def = initialValue(a.dst)
		}
		out[i] = Kwarg{Name: a.name, Type: a.typ, Default: def, Doc: a.doc}
	}
	return out
}

// initialValue renders the value a variable holds before parsing as a
// script literal ("none" when unset).
func initialValue(dst any) string {
	switch p := dst.(type) {
	case *int:
		return strconv.Itoa(*p)
	case *float64:
		return starlark.Float(*p).String()
	case *bool:
		return starlark.Bool(*p).String()
	case *string:
		return starlark.String(*p).String()
	case *starlark.Value:
		if *p != nil {
			return (*p).String()
		}
	case **starlark.Dict:
		if *p != nil {
			return (*p).String()
		}
	}
	return "none"
}

// sweepArgs are sweep()'s arguments, holding their defaults until parsed.
type sweepArgs struct {
	base, stopWhen, cooldown starlark.Value
	grid, zip                *starlark.Dict
	repeat                   int
	confidence               float64
	onFailure, dir, name     string
	overwrite, plots         bool
}

func newSweepArgs() *sweepArgs {
	return &sweepArgs{repeat: 1, confidence: 0.95, onFailure: "stop", name: "sweep"}
}

func (a *sweepArgs) table() []scriptArg {
	return []scriptArg{
		{name: "base", typ: "dict | function", dst: &a.base, required: true, doc: "The benchmark: a dict of run() arguments (swept names are run() arguments), or a function called with the swept values as keyword arguments that returns such a dict."},
		{name: "grid", typ: "dict", dst: &a.grid, doc: "Parameter lists combined as a Cartesian product: {\"concurrency\": [1, 2, 4]}."},
		{name: "zip", typ: "dict", dst: &a.zip, doc: "Parameter lists of equal length taken together: {\"isl\": [128, 512], \"osl\": [512, 128]}."},
		{name: "repeat", typ: "int", dst: &a.repeat, doc: "Trials per step; the summary then reports mean, std and a confidence interval."},
		{name: "confidence", typ: "float", dst: &a.confidence, doc: "Confidence level of the intervals over repeated trials."},
		{name: "on_failure", typ: "string", dst: &a.onFailure, doc: "\"stop\" re-raises a step that cannot run; \"continue\" records it and goes on."},
		{name: "stop_when", typ: "function", dst: &a.stopWhen, doc: "Called with each step's result; returning True ends the sweep early (e.g. the server saturated)."},
		{name: "cooldown", typ: "duration", dst: &a.cooldown, shown: "0", doc: "Pause between steps."},
		{name: "artifact_dir", typ: "string", dst: &a.dir, shown: "artifacts/sweep-<name or time>", doc: "Directory of the per-step subdirectories and sweep_summary.{csv,json}."},
		{name: "name", typ: "string", dst: &a.name, doc: "Label of the sweep (directory name)."},
		{name: "overwrite", typ: "bool", dst: &a.overwrite, doc: "Reuse artifact_dir when it holds an earlier sweep, replacing its files; otherwise the sweep writes beside it (<dir>-2, ...) and says where."},
		{name: "plots", typ: "bool", dst: &a.plots, doc: "Draw each step's charts into <step>/plots and the comparison charts and HTML report of the whole sweep into <dir>/plots (docs/results.md)."},
	}
}

// sweepKwargs document sweep(), from the table that parses its arguments.
func sweepKwargs() []Kwarg { return docArgs(newSweepArgs().table()) }

// searchArgs are search()'s arguments, holding their defaults until parsed.
type searchArgs struct {
	base, predicate, lo, hi, max starlark.Value
	objectives                   *starlark.Dict
	tolerance                    float64
	integer, requireValid        bool
	maxProbes                    int
	knob, dir                    string
}

func newSearchArgs() *searchArgs {
	return &searchArgs{tolerance: 0.05, maxProbes: 20, knob: "value"}
}

func (a *searchArgs) table() []scriptArg {
	return []scriptArg{
		{name: "base", typ: "function", dst: &a.base, required: true, doc: "Called with one knob value; returns a dict of run() arguments, e.g. lambda rate: dict(common, timing = timing.request_rate(rate = rate))."},
		{name: "lo", typ: "number", dst: &a.lo, required: true, doc: "First value probed; it must meet the objectives."},
		{name: "hi", typ: "number", dst: &a.hi, shown: "2·lo", doc: "First upper probe; doubled while the objectives hold (bracketing)."},
		{name: "max", typ: "number", dst: &a.max, shown: "unbounded", doc: "Largest value probed."},
		{name: "objectives", typ: "dict", dst: &a.objectives, doc: "What must hold, in threshold syntax: {\"time_to_first_token\": \"p99 <= 500ms\", \"request_error_rate\": \"value < 1%\"}."},
		{name: "predicate", typ: "function", dst: &a.predicate, doc: "Called with a probe's result; must return True for the probe to pass (with or instead of objectives)."},
		{name: "tolerance", typ: "float", dst: &a.tolerance, doc: "Stop bisecting when (fail − pass) <= tolerance · pass."},
		{name: "integer", typ: "bool", dst: &a.integer, doc: "Probe whole numbers only (concurrency); bisection ends at adjacent integers."},
		{name: "max_probes", typ: "int", dst: &a.maxProbes, doc: "Most benchmarks the search may run."},
		{name: "require_valid", typ: "bool", dst: &a.requireValid, doc: "Count an INVALID run (schedule not met) as failing."},
		{name: "knob", typ: "string", dst: &a.knob, doc: "Name of the searched quantity in reports and directory names."},
		{name: "artifact_dir", typ: "string", dst: &a.dir, shown: "artifacts/search-<knob>-<time>", doc: "Directory of the probes and search_history.{csv,json}."},
	}
}

// searchKwargs document search(), from the table that parses its arguments.
func searchKwargs() []Kwarg { return docArgs(newSearchArgs().table()) }

func scriptValueToGo(v starlark.Value) any {
	switch x := v.(type) {
	case starlark.Int:
		if i, ok := x.Int64(); ok {
			return i
		}
		return x.String()
	case starlark.Float:
		return float64(x)
	case starlark.String:
		return string(x)
	case starlark.Bool:
		return bool(x)
	case starlark.Tuple:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = scriptValueToGo(e)
		}
		return out
	case *starlark.List:
		out := make([]any, x.Len())
		for i := range out {
			out[i] = scriptValueToGo(x.Index(i))
		}
		return out
	}
	return v // Specs, durations, dists: labelled by String()
}

// specLabels names plugin values swept whole by what differs between them:
// [timing.concurrency(concurrency = 1), timing.concurrency(concurrency = 8)]
// are "concurrency_1" and "concurrency_8"; plugins of different names lead
// with the name ("request_rate-rate_5"). nil when a value is not a plugin.
func specLabels(values []starlark.Value) []string {
	specs := make([]*plugin.Spec, len(values))
	for i, v := range values {
		s, ok := SpecOf(v)
		if !ok {
			return nil
		}
		specs[i] = s
	}
	sameName := true
	keys := map[string]bool{}
	for _, s := range specs {
		sameName = sameName && s.Category == specs[0].Category && s.Name == specs[0].Name
		for k := range s.Args {
			keys[k] = true
		}
	}
	text := func(s *plugin.Spec, k string) string {
		v, ok := s.Args[k]
		if !ok {
			return ""
		}
		t := strings.Trim(plugin.FormatValue(k, v), `"`)
		if inner, ok := strings.CutPrefix(t, "dist.fixed("); ok { // isl = 128 is dist.fixed(128)
			t = strings.TrimSuffix(inner, ")")
		}
		return t
	}
	var varying []string
	for k := range keys {
		for _, s := range specs[1:] {
			if text(s, k) != text(specs[0], k) {
				varying = append(varying, k)
				break
			}
		}
	}
	sort.Strings(varying)
	labels := make([]string, len(specs))
	for i, s := range specs {
		var parts []string
		if !sameName || len(varying) == 0 {
			parts = append(parts, s.Name)
		}
		for _, k := range varying {
			if t := text(s, k); t != "" {
				parts = append(parts, k+"_"+t)
			}
		}
		labels[i] = strings.Join(parts, "-")
	}
	return labels
}

// stepKwargs builds the run() keyword arguments of one step.
func stepKwargs(thread *starlark.Thread, fnName string, base starlark.Value, values []starlark.Tuple) ([]starlark.Tuple, error) {
	switch b := base.(type) {
	case *starlark.Dict:
		kw := b.Items()
		for _, v := range values {
			replaced := false
			for i := range kw {
				if kw[i][0] == v[0] {
					kw[i] = starlark.Tuple{v[0], v[1]}
					replaced = true
				}
			}
			if !replaced {
				kw = append(kw, v)
			}
		}
		return kw, nil
	case starlark.Callable:
		out, err := starlark.Call(thread, b, nil, values)
		if err != nil {
			return nil, err
		}
		d, ok := out.(*starlark.Dict)
		if !ok {
			return nil, fmt.Errorf("%s: base function must return a dict of run() arguments, got %s", fnName, out.Type())
		}
		return d.Items(), nil
	}
	return nil, fmt.Errorf("%s: base must be a dict of run() arguments or a function returning one, got %s", fnName, base.Type())
}

func defaultDir(env *Env, prefix string) string {
	root := env.ArtifactRoot
	if root == "" {
		root = "artifacts"
	}
	return filepath.Join(root, prefix+"-"+time.Now().Format("20060102-150405"))
}

// claimDir takes a sweep's or search's directory as a run takes its own
// (export.ClaimDir): beside an earlier one unless overwrite or --overwrite.
func claimDir(env *Env, dir string, overwrite bool) (string, error) {
	got, err := export.ClaimDir(dir, overwrite || env.Runtime != nil && env.Runtime.Overwrite)
	if err == nil && got != dir {
		env.Logger.Warn("the artifact directory holds earlier results: writing beside it (overwrite = True or --overwrite replaces them)",
			"dir", dir, "artifacts", got)
	}
	return got, err
}

func sweepBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := envOf(thread)
	if err != nil {
		return nil, err
	}
	a := newSweepArgs()
	if err := unpackArgs(fn.Name(), args, kwargs, a.table()); err != nil {
		return nil, err
	}
	sw, err := a.plan(env, fn.Name())
	if err != nil {
		return nil, err
	}
	if !env.DryRun {
		if sw.dir, err = claimDir(env, sw.dir, a.overwrite); err != nil {
			return nil, errext.Errorf(errext.InvalidConfig, "%s: artifact_dir: %v", fn.Name(), err)
		}
	}
	rows, steps, stopped, err := sw.run(thread)
	if err != nil {
		if !env.DryRun && len(rows) > 0 {
			sw.writeUnfinished(rows, err)
		}
		return nil, err
	}
	csvPath, jsonPath := "", ""
	if !env.DryRun {
		if csvPath, jsonPath, err = sweep.WriteSummary(sw.dir, sw.names, rows, a.confidence); err != nil {
			return nil, errext.Errorf(errext.Generic, "%s: writing the summary: %v", fn.Name(), err)
		}
		fmt.Fprintf(env.Stdout, "Sweep summary: %s\n", csvPath)
		if a.plots {
			if env.PlotRuns == nil {
				return nil, errNoEnv
			}
			if err := env.PlotRuns(sw.dir); err != nil {
				return nil, errext.Errorf(errext.Generic, "%s: plots: %v", fn.Name(), err)
			}
		}
	}
	return starlarkstruct.FromStringDict(starlark.String("sweep_result"), starlark.StringDict{
		"steps": frozenList(steps), "dir": starlark.String(sw.dir), "summary_csv": starlark.String(csvPath),
		"summary_json": starlark.String(jsonPath), "stopped_early": starlark.Bool(stopped),
	}), nil
}

// writeUnfinished writes the summary of a sweep that err ended early
// (Ctrl-C, a step that failed with on_failure = "stop"): the steps that
// finished, the others listed as not finished, marked incomplete.
func (sw *sweepPlan) writeUnfinished(rows []sweep.Row, err error) {
	reason, _, _ := strings.Cut(err.Error(), "\n")
	csvPath, _, werr := sweep.WriteSummary(sw.dir, sw.names, rows, sw.confidence, sweep.Incomplete(reason, sw.cells[len(rows):]))
	if werr != nil {
		sw.env.Logger.Error("the summary of the finished steps could not be written", "error", werr)
		return
	}
	how := "incomplete"
	if errext.ExitCodeOf(err) == errext.Interrupted {
		how = "interrupted"
	}
	fmt.Fprintf(sw.env.Stdout, "Sweep summary (%s; %d of %d steps finished): %s\n", how, len(rows), len(sw.cells), csvPath)
}

// sweepPlan is a checked sweep(): its cells in order and where they go.
type sweepPlan struct {
	*sweepArgs
	env      *Env
	fn       string
	cooldown time.Duration
	cells    []sweep.Cell
	names    []string                    // swept parameters, in order
	values   map[string][]starlark.Value // each parameter's script values
}

// plan checks the arguments and lays out the cells.
func (a *sweepArgs) plan(env *Env, fn string) (*sweepPlan, error) {
	bad := func(format string, args ...any) error {
		return errext.Errorf(errext.InvalidConfig, fn+": "+format, args...)
	}
	switch {
	case (a.grid == nil) == (a.zip == nil):
		return nil, bad("give exactly one of grid or zip")
	case a.repeat < 1:
		return nil, bad("repeat must be >= 1, got %d", a.repeat)
	case a.confidence <= 0 || a.confidence >= 1:
		return nil, bad("confidence must be in (0, 1), got %v", a.confidence)
	case a.onFailure != "stop" && a.onFailure != "continue":
		return nil, bad("on_failure must be \"stop\" or \"continue\", got %q", a.onFailure)
	}
	sw := &sweepPlan{sweepArgs: a, env: env, fn: fn, values: map[string][]starlark.Value{}}
	if a.cooldown != nil && a.cooldown != starlark.None {
		var err error
		if sw.cooldown, err = asDuration(a.cooldown, "cooldown"); err != nil {
			return nil, bad("%v", err)
		}
	}
	mode, lists := sweep.Grid, a.grid
	if a.zip != nil {
		mode, lists = sweep.Zip, a.zip
	}
	var params []sweep.Param
	for _, kv := range lists.Items() {
		pname, ok := starlark.AsString(kv[0])
		if !ok {
			return nil, bad("parameter names must be strings, got %s", kv[0].Type())
		}
		list, ok := kv[1].(starlark.Indexable)
		if !ok {
			return nil, bad("%s: want a list of values, got %s", pname, kv[1].Type())
		}
		p := sweep.Param{Name: pname}
		for i := 0; i < list.Len(); i++ {
			p.Values = append(p.Values, scriptValueToGo(list.Index(i)))
			sw.values[pname] = append(sw.values[pname], list.Index(i))
		}
		if labels := specLabels(sw.values[pname]); labels != nil {
			for i, l := range labels {
				p.Values[i] = sweep.Labeled{Text: sw.values[pname][i].String(), Label: l}
			}
		}
		params = append(params, p)
		sw.names = append(sw.names, pname)
	}
	var err error
	if sw.cells, err = sweep.Cells(params, mode); err != nil {
		return nil, bad("%v", strings.TrimPrefix(err.Error(), "sweep: "))
	}
	if sw.name == "" {
		sw.name = "sweep"
	}
	if sw.dir == "" {
		sw.dir = defaultDir(env, sw.name)
	}
	sw.dir = env.artifactPath(sw.dir)
	return sw, nil
}

// run runs the cells in order, each cell's trials back to back with a
// cooldown before every step but the first, until stop_when says so. On an
// error (Ctrl-C: exit code Interrupted) it returns the rows of the cells
// that finished with it: the cell that failed is left out.
func (sw *sweepPlan) run(thread *starlark.Thread) (rows []sweep.Row, steps []starlark.Value, stopped bool, err error) {
	ctx := interp.ContextOf(thread)
	for ci, cell := range sw.cells {
		if err := stepInterrupted(ctx); err != nil {
			return rows, nil, false, err
		}
		// The script values of this cell, in parameter order.
		var values []starlark.Tuple
		for _, v := range cell.Values {
			values = append(values, starlark.Tuple{starlark.String(v.Name), sw.values[v.Name][v.Index]})
		}
		row, trials, err := sw.runCell(thread, ci, cell, values)
		if err == nil {
			err = stepInterrupted(ctx)
		}
		if err != nil { // the rows so far keep their summary
			return rows, nil, false, err
		}
		rows = append(rows, row)
		valDict := starlark.NewDict(len(values))
		for _, v := range values {
			_ = valDict.SetKey(v[0], v[1])
		}
		var last starlark.Value = starlark.None
		if len(trials) > 0 {
			last = trials[len(trials)-1]
		}
		steps = append(steps, starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
			"name": starlark.String(cell.Name), "values": valDict, "result": last,
			"results": frozenList(trials), "error": starlark.String(row.Err),
		}))
		if sw.stopWhen != nil && sw.stopWhen != starlark.None && last != starlark.None && !sw.env.DryRun {
			v, err := starlark.Call(thread, sw.stopWhen, starlark.Tuple{last}, nil)
			if err != nil {
				return rows, nil, false, err
			}
			if v.Truth() {
				sw.env.Logger.Info("sweep stopped early", "after", cell.Name)
				return rows, steps, true, nil
			}
		}
	}
	return rows, steps, false, nil
}

// runCell runs the trials of cell ci. With on_failure="continue" a step
// that cannot run ends the cell with its error recorded in the row.
func (sw *sweepPlan) runCell(thread *starlark.Thread, ci int, cell sweep.Cell, values []starlark.Tuple) (sweep.Row, []starlark.Value, error) {
	row := sweep.Row{Cell: cell}
	var trials []starlark.Value
	for trial := 1; trial <= sw.repeat; trial++ {
		if ci > 0 || trial > 1 {
			if err := sweep.Cooldown(interp.ContextOf(thread), sw.cooldown); err != nil {
				return row, nil, err
			}
		}
		res, err := runCell(thread, sw.fn, sw.base, values, cell, sw.dir, trial, sw.repeat, sw.overwrite, sw.plots)
		if err != nil {
			if sw.onFailure == "stop" {
				return row, nil, err
			}
			row.Err = strings.ReplaceAll(err.Error(), "\n", " ")
			sw.env.Logger.Warn("sweep step failed; continuing", "step", cell.Name, "error", row.Err)
			break
		}
		trials = append(trials, res)
		if res.sum != nil {
			row.Trials = append(row.Trials, res.sum)
		}
	}
	return row, trials, nil
}

// stepInterrupted is the error that ends a sweep or search once Ctrl-C
// cancelled ctx: its cause (errext.Interrupt) with exit code Interrupted.
func stepInterrupted(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return errext.WithExitCode(context.Cause(ctx), errext.Interrupted)
}

func runCell(thread *starlark.Thread, fnName string, base starlark.Value, values []starlark.Tuple, cell sweep.Cell, dir string, trial, repeat int, overwrite, plots bool) (*Result, error) {
	kw, err := stepKwargs(thread, fnName, base, values)
	if err != nil {
		return nil, err
	}
	cfg, err := benchmarkFromKwargs(thread, fnName, kw)
	if err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = cell.Name
	}
	stepDir := filepath.Join(dir, cell.Name)
	if repeat > 1 {
		stepDir = filepath.Join(stepDir, fmt.Sprintf("trial_%04d", trial))
	}
	cfg.Output.ArtifactDir = stepDir
	// sweep() claimed its directory: a fresh one, or an earlier sweep's
	// that overwrite = True (or --overwrite) replaces.
	cfg.Output.Overwrite = cfg.Output.Overwrite || overwrite
	cfg.Output.Plots = cfg.Output.Plots || plots
	return RunStep(thread, cfg)
}

func searchBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := envOf(thread)
	if err != nil {
		return nil, err
	}
	if env.Runtime != nil && !env.Runtime.Shard.Whole() {
		// Each probe depends on measured results, which a shard sees only
		// its part of: the shards would choose different probes.
		return nil, fmt.Errorf("%s: a search cannot run as shard %s: each shard sees only its part of the results and would choose different probes; run the search in one process, or shard the steps it found with run() or sweep()", fn.Name(), env.Runtime.Shard)
	}
	a := newSearchArgs()
	if err := unpackArgs(fn.Name(), args, kwargs, a.table()); err != nil {
		return nil, err
	}
	sp, err := a.plan(thread, env, fn.Name())
	if err != nil {
		return nil, err
	}
	ctx := interp.ContextOf(thread)
	if env.DryRun {
		// Plan the first probe only: later probes depend on measured results.
		if _, _, err := sp.probe(thread, ctx, sp.spec.Lo, "bracket"); err != nil {
			return nil, err
		}
		return searchValue(sp.knobValue(sp.spec.Lo), starlark.True, sp.outs[0].res, nil, sp.dir, true), nil
	}
	if sp.dir, err = claimDir(env, sp.dir, false); err != nil {
		return nil, errext.Errorf(errext.InvalidConfig, "%s: artifact_dir: %v", fn.Name(), err)
	}
	sr, err := sweep.Search(ctx, sp.spec, func(ctx context.Context, v float64, phase string) (bool, []string, error) {
		return sp.probe(thread, ctx, v, phase)
	})
	if err != nil {
		return nil, err
	}
	if sr.Found { // probes beyond the answer may fail whole: that is how they fail
		probes := map[string]bool{}
		for _, o := range sp.outs {
			if o.res.sum != nil {
				probes[o.res.sum.Info.ArtifactDir] = true
			}
		}
		env.forgetAllFailed(probes)
	}
	return sp.report(sr)
}

// searchPlan is a checked search() and the probes it ran.
type searchPlan struct {
	*searchArgs
	env  *Env
	fn   string
	spec sweep.SearchSpec
	objs []config.Threshold
	outs []probeOut
}

// probeOut is one probe's result and why it failed (no reasons: passed).
type probeOut struct {
	res     *Result
	reasons []string
}

// plan checks the arguments.
func (a *searchArgs) plan(thread *starlark.Thread, env *Env, fn string) (*searchPlan, error) {
	bad := func(format string, args ...any) error {
		return errext.Errorf(errext.InvalidConfig, fn+": "+format, args...)
	}
	if _, ok := a.base.(starlark.Callable); !ok {
		return nil, bad("base must be a function of the knob value returning a dict of run() arguments, got %s", a.base.Type())
	}
	num := func(v starlark.Value, what string) (float64, error) {
		if v == nil || v == starlark.None {
			return 0, nil
		}
		f, ok := starlark.AsFloat(v)
		if !ok || math.IsNaN(f) || f < 0 {
			return 0, bad("%s: want a number >= 0, got %s", what, v)
		}
		return f, nil
	}
	sp := &searchPlan{searchArgs: a, env: env, fn: fn,
		spec: sweep.SearchSpec{Knob: a.knob, Tolerance: a.tolerance, Integer: a.integer, MaxProbes: a.maxProbes}}
	var err error
	if sp.spec.Lo, err = num(a.lo, "lo"); err != nil {
		return nil, err
	}
	if sp.spec.Hi, err = num(a.hi, "hi"); err != nil {
		return nil, err
	}
	if sp.spec.Max, err = num(a.max, "max"); err != nil {
		return nil, err
	}
	if sp.spec.Lo <= 0 {
		return nil, bad("lo must be > 0")
	}
	if a.tolerance <= 0 && !a.integer {
		return nil, bad("tolerance must be > 0")
	}
	if sp.objs, err = objectives(thread, a.objectives); err != nil {
		return nil, bad("%v", err)
	}
	if len(sp.objs) == 0 && (a.predicate == nil || a.predicate == starlark.None) {
		return nil, bad("give objectives (e.g. {\"time_to_first_token\": \"p99 <= 500ms\"}) or a predicate")
	}
	if sp.dir == "" {
		sp.dir = defaultDir(env, "search-"+a.knob)
	}
	sp.dir = env.artifactPath(sp.dir)
	return sp, nil
}

// objectives parses {metric: "expr" or ["expr", ...]} into thresholds.
func objectives(thread *starlark.Thread, d *starlark.Dict) ([]config.Threshold, error) {
	if d == nil {
		return nil, nil
	}
	var objs []config.Threshold
	for _, kv := range d.Items() {
		metric, _ := starlark.AsString(kv[0])
		var exprs []string
		switch x := kv[1].(type) {
		case starlark.String:
			exprs = []string{string(x)}
		case *starlark.List:
			for i := 0; i < x.Len(); i++ {
				s, _ := starlark.AsString(x.Index(i))
				exprs = append(exprs, s)
			}
		default:
			return nil, fmt.Errorf("objectives[%q]: want an expression like \"p99 <= 500ms\", got %s", metric, x.Type())
		}
		for _, e := range exprs {
			t, err := NewThreshold(thread, metric, e, false)
			if err != nil {
				return nil, fmt.Errorf("objectives: %v", err)
			}
			objs = append(objs, t)
		}
	}
	return objs, nil
}

func (sp *searchPlan) knobValue(v float64) starlark.Value {
	if sp.integer {
		return starlark.MakeInt64(int64(v))
	}
	return starlark.Float(v)
}

// probe runs the step of knob value v and judges it.
func (sp *searchPlan) probe(thread *starlark.Thread, _ context.Context, v float64, phase string) (bool, []string, error) {
	label := sp.knob + "_" + sweep.FormatValue(v)
	out, err := starlark.Call(thread, sp.base, starlark.Tuple{sp.knobValue(v)}, nil)
	if err != nil {
		return false, nil, err
	}
	d, ok := out.(*starlark.Dict)
	if !ok {
		return false, nil, fmt.Errorf("%s: base must return a dict of run() arguments, got %s", sp.fn, out.Type())
	}
	cfg, err := benchmarkFromKwargs(thread, sp.fn, d.Items())
	if err != nil {
		return false, nil, err
	}
	if cfg.Name == "" {
		cfg.Name = label
	}
	cfg.Output.ArtifactDir = filepath.Join(sp.dir, label)
	res, err := RunStep(thread, cfg)
	if err != nil {
		return false, nil, err
	}
	reasons, err := sp.judge(thread, res)
	if err != nil {
		return false, nil, err
	}
	sp.outs = append(sp.outs, probeOut{res, reasons})
	sp.env.Logger.Info("search probe", "knob", sp.knob, "value", v, "phase", phase, "passed", len(reasons) == 0)
	return len(reasons) == 0, reasons, nil
}

// judge returns why a probe's result fails the objectives, validity and
// predicate (nothing: it passed). A planned probe has no results to judge.
func (sp *searchPlan) judge(thread *starlark.Thread, res *Result) ([]string, error) {
	if res.sum == nil {
		return nil, nil
	}
	var reasons []string
	for _, o := range sp.objs {
		if tr := results.EvaluateThreshold(res.sum, o); !tr.Passed {
			reasons = append(reasons, tr.Message)
		}
	}
	if sp.requireValid && !res.sum.Verdict.Valid {
		reasons = append(reasons, "run INVALID: "+strings.Join(res.sum.Verdict.Reasons, "; "))
	}
	if sp.predicate != nil && sp.predicate != starlark.None {
		pv, err := starlark.Call(thread, sp.predicate, starlark.Tuple{res}, nil)
		if err != nil {
			return nil, err
		}
		if !pv.Truth() {
			reasons = append(reasons, "predicate returned "+pv.String())
		}
	}
	return reasons, nil
}

// report writes the search history, prints the outcome and returns the
// search_result value.
func (sp *searchPlan) report(sr sweep.SearchResult) (starlark.Value, error) {
	probes := make([]starlark.Value, len(sr.Probes))
	var bestRes starlark.Value = starlark.None
	for i, p := range sr.Probes {
		reasons := make([]starlark.Value, len(p.Reasons))
		for j, r := range p.Reasons {
			reasons[j] = starlark.String(r)
		}
		var r starlark.Value = starlark.None
		if i < len(sp.outs) && sp.outs[i].res != nil {
			r = sp.outs[i].res
		}
		if sr.Found && p.Value == sr.Best && p.Passed {
			bestRes = r
		}
		probes[i] = starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
			"value": sp.knobValue(p.Value), "passed": starlark.Bool(p.Passed), "phase": starlark.String(p.Phase),
			"reasons": frozenList(reasons), "result": r,
		})
	}
	sums := make([]*results.Summary, len(sp.outs))
	for i, o := range sp.outs {
		if o.res != nil {
			sums[i] = o.res.sum
		}
	}
	if err := writeSearchHistory(sp.dir, sp.knob, sr, sums); err != nil {
		return nil, errext.Errorf(errext.Generic, "%s: writing search history: %v", sp.fn, err)
	}
	var best starlark.Value = starlark.None
	if sr.Found {
		best = sp.knobValue(sr.Best)
	}
	fmt.Fprintf(sp.env.Stdout, "Search: best %s = %s after %d probes (history: %s)\n", sp.knob, best, len(sr.Probes), filepath.Join(sp.dir, "search_history.csv"))
	return searchValue(best, starlark.Bool(sr.Converged), bestRes, probes, sp.dir, false), nil
}

func searchValue(best, converged starlark.Value, res starlark.Value, probes []starlark.Value, dir string, planned bool) starlark.Value {
	if res == nil {
		res = starlark.None
	}
	return starlarkstruct.FromStringDict(starlark.String("search_result"), starlark.StringDict{
		"best": best, "converged": converged, "result": res, "probes": frozenList(probes),
		"dir": starlark.String(dir), "planned": starlark.Bool(planned),
	})
}

// writeSearchHistory writes dir/search_history.csv and .json: every probe
// with its value, verdict, reasons and headline metrics.
func writeSearchHistory(dir, knob string, sr sweep.SearchResult, sums []*results.Summary) error {
	var b strings.Builder
	b.WriteString("probe,phase," + knob + ",passed")
	for _, c := range sweep.Headline {
		b.WriteString("," + c.Name)
	}
	b.WriteString(",artifact_dir,reasons\n")
	type jsonProbe struct {
		Probe       int                `json:"probe"`
		Phase       string             `json:"phase"`
		Value       float64            `json:"value"`
		Passed      bool               `json:"passed"`
		Reasons     []string           `json:"reasons"`
		Metrics     map[string]float64 `json:"metrics"`
		ArtifactDir string             `json:"artifact_dir"`
	}
	var probes []jsonProbe
	for i, p := range sr.Probes {
		jp := jsonProbe{Probe: i + 1, Phase: p.Phase, Value: p.Value, Passed: p.Passed, Reasons: p.Reasons, Metrics: map[string]float64{}}
		if jp.Reasons == nil {
			jp.Reasons = []string{}
		}
		fmt.Fprintf(&b, "%d,%s,%s,%t", i+1, p.Phase, strconv.FormatFloat(p.Value, 'g', -1, 64), p.Passed)
		var sum *results.Summary
		if i < len(sums) {
			sum = sums[i]
		}
		for _, c := range sweep.Headline {
			cell := ""
			if sum != nil {
				if v, ok := sweep.MetricValue(sum, c.Tag, c.Stat); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
					cell = strconv.FormatFloat(v, 'f', -1, 64)
					jp.Metrics[c.Name] = v
				}
			}
			b.WriteString("," + cell)
		}
		if sum != nil {
			jp.ArtifactDir = sum.Info.ArtifactDir
		}
		fmt.Fprintf(&b, ",%s,%s\n", csvQuote(jp.ArtifactDir), csvQuote(strings.Join(p.Reasons, "; ")))
		probes = append(probes, jp)
	}
	if err := export.WriteFileAtomic(filepath.Join(dir, "search_history.csv"), []byte(b.String())); err != nil {
		return err
	}
	best := any(nil)
	if sr.Found {
		best = sr.Best
	}
	failAt := any(nil)
	if !math.IsInf(sr.FailAt, 0) {
		failAt = sr.FailAt
	}
	js, err := json.MarshalIndent(map[string]any{"knob": knob, "best": best, "fail_at": failAt, "converged": sr.Converged, "probes": probes}, "", "  ")
	if err != nil {
		return err
	}
	return export.WriteFileAtomic(filepath.Join(dir, "search_history.json"), append(js, '\n'))
}

func csvQuote(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}
