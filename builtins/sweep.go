package builtins

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/export"
	"github.com/loadstar/loadstar/internal/sweep"
	"github.com/loadstar/loadstar/interp"
)

// SweepKwargs document sweep(); SearchKwargs search().
func SweepKwargs() []Kwarg {
	return []Kwarg{
		{Name: "base", Type: "dict | function", Default: "required", Doc: "The benchmark: a dict of run() arguments (swept names are run() arguments), or a function called with the swept values as keyword arguments that returns such a dict."},
		{Name: "grid", Type: "dict", Default: "none", Doc: "Parameter lists combined as a Cartesian product: {\"concurrency\": [1, 2, 4]}."},
		{Name: "zip", Type: "dict", Default: "none", Doc: "Parameter lists of equal length taken together: {\"isl\": [128, 512], \"osl\": [512, 128]}."},
		{Name: "repeat", Type: "int", Default: "1", Doc: "Trials per step; the summary then reports mean, std and a confidence interval."},
		{Name: "confidence", Type: "float", Default: "0.95", Doc: "Confidence level of the intervals over repeated trials."},
		{Name: "on_failure", Type: "string", Default: "\"stop\"", Doc: "\"stop\" re-raises a step that cannot run; \"continue\" records it and goes on."},
		{Name: "stop_when", Type: "function", Default: "none", Doc: "Called with each step's result; returning True ends the sweep early (e.g. the server saturated)."},
		{Name: "cooldown", Type: "duration", Default: "0", Doc: "Pause between steps."},
		{Name: "artifact_dir", Type: "string", Default: "artifacts/sweep-<name or time>", Doc: "Directory of the per-step subdirectories and sweep_summary.{csv,json}."},
		{Name: "name", Type: "string", Default: "\"sweep\"", Doc: "Label of the sweep (directory name)."},
	}
}

// SearchKwargs document search().
func SearchKwargs() []Kwarg {
	return []Kwarg{
		{Name: "base", Type: "function", Default: "required", Doc: "Called with one knob value; returns a dict of run() arguments, e.g. lambda rate: dict(common, timing = timing.request_rate(rate = rate))."},
		{Name: "lo", Type: "number", Default: "required", Doc: "First value probed; it must meet the objectives."},
		{Name: "hi", Type: "number", Default: "2·lo", Doc: "First upper probe; doubled while the objectives hold (bracketing)."},
		{Name: "max", Type: "number", Default: "unbounded", Doc: "Largest value probed."},
		{Name: "objectives", Type: "dict", Default: "none", Doc: "What must hold, in threshold syntax: {\"time_to_first_token\": \"p99 <= 500ms\", \"request_error_rate\": \"value < 1%\"}."},
		{Name: "predicate", Type: "function", Default: "none", Doc: "Called with a probe's result; must return True for the probe to pass (with or instead of objectives)."},
		{Name: "tolerance", Type: "float", Default: "0.05", Doc: "Stop bisecting when (fail − pass) <= tolerance · pass."},
		{Name: "integer", Type: "bool", Default: "False", Doc: "Probe whole numbers only (concurrency); bisection ends at adjacent integers."},
		{Name: "max_probes", Type: "int", Default: "20", Doc: "Most benchmarks the search may run."},
		{Name: "require_valid", Type: "bool", Default: "False", Doc: "Count an INVALID run (schedule not met) as failing."},
		{Name: "knob", Type: "string", Default: "\"value\"", Doc: "Name of the searched quantity in reports and directory names."},
		{Name: "artifact_dir", Type: "string", Default: "artifacts/search-<knob>-<time>", Doc: "Directory of the probes and search_history.{csv,json}."},
	}
}

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

func sweepBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := EnvOf(thread)
	if err != nil {
		return nil, err
	}
	var (
		base, stopWhen, cooldownV starlark.Value
		grid, zip                 *starlark.Dict
		repeat                    = 1
		confidence                = 0.95
		onFailure                 = "stop"
		dir, name                 string
	)
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "base", &base, "grid?", &grid, "zip?", &zip, "repeat?", &repeat,
		"confidence?", &confidence, "on_failure?", &onFailure, "stop_when?", &stopWhen, "cooldown?", &cooldownV,
		"artifact_dir?", &dir, "name?", &name); err != nil {
		return nil, errext.WithExitCode(err, errext.InvalidConfig)
	}
	bad := func(format string, a ...any) error {
		return errext.Errorf(errext.InvalidConfig, fn.Name()+": "+format, a...)
	}
	if (grid == nil) == (zip == nil) {
		return nil, bad("give exactly one of grid or zip")
	}
	if repeat < 1 {
		return nil, bad("repeat must be >= 1, got %d", repeat)
	}
	if confidence <= 0 || confidence >= 1 {
		return nil, bad("confidence must be in (0, 1), got %v", confidence)
	}
	if onFailure != "stop" && onFailure != "continue" {
		return nil, bad("on_failure must be \"stop\" or \"continue\", got %q", onFailure)
	}
	var cooldown time.Duration
	if cooldownV != nil && cooldownV != starlark.None {
		if cooldown, err = AsDuration(cooldownV, "cooldown"); err != nil {
			return nil, bad("%v", err)
		}
	}
	mode, lists := sweep.Grid, grid
	if zip != nil {
		mode, lists = sweep.Zip, zip
	}
	var params []sweep.Param
	var names []string
	scriptValues := map[string][]starlark.Value{}
	for _, kv := range lists.Items() {
		pname, ok := starlark.AsString(kv[0])
		if !ok {
			return nil, bad("parameter names must be strings, got %s", kv[0].Type())
		}
		iter, ok := kv[1].(starlark.Indexable)
		if !ok {
			return nil, bad("%s: want a list of values, got %s", pname, kv[1].Type())
		}
		p := sweep.Param{Name: pname}
		for i := 0; i < iter.Len(); i++ {
			p.Values = append(p.Values, scriptValueToGo(iter.Index(i)))
			scriptValues[pname] = append(scriptValues[pname], iter.Index(i))
		}
		params = append(params, p)
		names = append(names, pname)
	}
	cells, err := sweep.Cells(params, mode)
	if err != nil {
		return nil, bad("%v", strings.TrimPrefix(err.Error(), "sweep: "))
	}
	if name == "" {
		name = "sweep"
	}
	if dir == "" {
		dir = defaultDir(env, name)
	}

	var rows []sweep.Row
	var steps []starlark.Value
	stopped := false
	for ci, cell := range cells {
		// The script values of this cell, in parameter order.
		var values []starlark.Tuple
		for _, v := range cell.Values {
			values = append(values, starlark.Tuple{starlark.String(v.Name), scriptValues[v.Name][v.Index]})
		}
		row := sweep.Row{Cell: cell}
		var trialResults []starlark.Value
		for trial := 1; trial <= repeat; trial++ {
			if ci > 0 || trial > 1 {
				if err := sweep.Cooldown(interp.ContextOf(thread), cooldown); err != nil {
					return nil, err
				}
			}
			res, err := runCell(thread, fn.Name(), base, values, cell, dir, trial, repeat)
			if err != nil {
				if onFailure == "stop" {
					return nil, err
				}
				row.Err = strings.ReplaceAll(err.Error(), "\n", " ")
				env.Logger.Warn("sweep step failed; continuing", "step", cell.Name, "error", row.Err)
				break
			}
			trialResults = append(trialResults, res)
			if res.sum != nil {
				row.Trials = append(row.Trials, res.sum)
			}
		}
		rows = append(rows, row)
		valDict := starlark.NewDict(len(values))
		for _, v := range values {
			_ = valDict.SetKey(v[0], v[1])
		}
		var last starlark.Value = starlark.None
		if len(trialResults) > 0 {
			last = trialResults[len(trialResults)-1]
		}
		steps = append(steps, starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
			"name": starlark.String(cell.Name), "values": valDict, "result": last,
			"results": frozenList(trialResults), "error": starlark.String(row.Err),
		}))
		if stopWhen != nil && stopWhen != starlark.None && last != starlark.None && !env.DryRun {
			v, err := starlark.Call(thread, stopWhen, starlark.Tuple{last}, nil)
			if err != nil {
				return nil, err
			}
			if v.Truth() {
				stopped = true
				env.Logger.Info("sweep stopped early", "after", cell.Name)
				break
			}
		}
	}
	csvPath, jsonPath := "", ""
	if !env.DryRun {
		if csvPath, jsonPath, err = sweep.WriteSummary(dir, names, rows, confidence); err != nil {
			return nil, errext.Errorf(errext.Generic, "%s: writing the summary: %v", fn.Name(), err)
		}
		fmt.Fprintf(env.Stdout, "Sweep summary: %s\n", csvPath)
	}
	return starlarkstruct.FromStringDict(starlark.String("sweep_result"), starlark.StringDict{
		"steps": frozenList(steps), "dir": starlark.String(dir), "summary_csv": starlark.String(csvPath),
		"summary_json": starlark.String(jsonPath), "stopped_early": starlark.Bool(stopped),
	}), nil
}

func runCell(thread *starlark.Thread, fnName string, base starlark.Value, values []starlark.Tuple, cell sweep.Cell, dir string, trial, repeat int) (*Result, error) {
	kw, err := stepKwargs(thread, fnName, base, values)
	if err != nil {
		return nil, err
	}
	cfg, err := BenchmarkFromKwargs(thread, fnName, kw)
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
	return RunStep(thread, cfg)
}

func searchBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := EnvOf(thread)
	if err != nil {
		return nil, err
	}
	var (
		base, predicate   starlark.Value
		lo, hi, maxV      starlark.Value
		objectives        *starlark.Dict
		tolerance         = 0.05
		integer, reqValid bool
		maxProbes         = 20
		knob              = "value"
		dir               string
	)
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "base", &base, "lo", &lo, "hi?", &hi, "max?", &maxV,
		"objectives?", &objectives, "predicate?", &predicate, "tolerance?", &tolerance, "integer?", &integer,
		"max_probes?", &maxProbes, "require_valid?", &reqValid, "knob?", &knob, "artifact_dir?", &dir); err != nil {
		return nil, errext.WithExitCode(err, errext.InvalidConfig)
	}
	bad := func(format string, a ...any) error {
		return errext.Errorf(errext.InvalidConfig, fn.Name()+": "+format, a...)
	}
	if _, ok := base.(starlark.Callable); !ok {
		return nil, bad("base must be a function of the knob value returning a dict of run() arguments, got %s", base.Type())
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
	spec := sweep.SearchSpec{Knob: knob, Tolerance: tolerance, Integer: integer, MaxProbes: maxProbes}
	if spec.Lo, err = num(lo, "lo"); err != nil {
		return nil, err
	}
	if spec.Hi, err = num(hi, "hi"); err != nil {
		return nil, err
	}
	if spec.Max, err = num(maxV, "max"); err != nil {
		return nil, err
	}
	if spec.Lo <= 0 {
		return nil, bad("lo must be > 0")
	}
	if tolerance <= 0 && !integer {
		return nil, bad("tolerance must be > 0")
	}
	var objs []config.Threshold
	if objectives != nil {
		for _, kv := range objectives.Items() {
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
				return nil, bad("objectives[%q]: want an expression like \"p99 <= 500ms\", got %s", metric, x.Type())
			}
			for _, e := range exprs {
				t, err := NewThreshold(thread, metric, e, false)
				if err != nil {
					return nil, bad("objectives: %v", err)
				}
				objs = append(objs, t)
			}
		}
	}
	if len(objs) == 0 && (predicate == nil || predicate == starlark.None) {
		return nil, bad("give objectives (e.g. {\"time_to_first_token\": \"p99 <= 500ms\"}) or a predicate")
	}
	if dir == "" {
		dir = defaultDir(env, "search-"+knob)
	}
	knobValue := func(v float64) starlark.Value {
		if integer {
			return starlark.MakeInt64(int64(v))
		}
		return starlark.Float(v)
	}
	type probeOut struct {
		res     *Result
		reasons []string
	}
	var outs []probeOut
	probe := func(_ context.Context, v float64, phase string) (bool, []string, error) {
		label := knob + "_" + sweep.FormatValue(v)
		out, err := starlark.Call(thread, base, starlark.Tuple{knobValue(v)}, nil)
		if err != nil {
			return false, nil, err
		}
		d, ok := out.(*starlark.Dict)
		if !ok {
			return false, nil, fmt.Errorf("%s: base must return a dict of run() arguments, got %s", fn.Name(), out.Type())
		}
		cfg, err := BenchmarkFromKwargs(thread, fn.Name(), d.Items())
		if err != nil {
			return false, nil, err
		}
		if cfg.Name == "" {
			cfg.Name = label
		}
		cfg.Output.ArtifactDir = filepath.Join(dir, label)
		res, err := RunStep(thread, cfg)
		if err != nil {
			return false, nil, err
		}
		var reasons []string
		if res.sum != nil {
			for _, o := range objs {
				tr := results.EvaluateThreshold(res.sum, o)
				if !tr.Passed {
					reasons = append(reasons, tr.Message)
				}
			}
			if reqValid && !res.sum.Verdict.Valid {
				reasons = append(reasons, "run INVALID: "+strings.Join(res.sum.Verdict.Reasons, "; "))
			}
			if predicate != nil && predicate != starlark.None {
				pv, err := starlark.Call(thread, predicate, starlark.Tuple{res}, nil)
				if err != nil {
					return false, nil, err
				}
				if !pv.Truth() {
					reasons = append(reasons, "predicate returned "+pv.String())
				}
			}
		}
		outs = append(outs, probeOut{res, reasons})
		env.Logger.Info("search probe", "knob", knob, "value", v, "phase", phase, "passed", len(reasons) == 0)
		return len(reasons) == 0, reasons, nil
	}
	if env.DryRun {
		// Plan the first probe only: later probes depend on measured results.
		if _, _, err := probe(interp.ContextOf(thread), spec.Lo, "bracket"); err != nil {
			return nil, err
		}
		return searchValue(knobValue(spec.Lo), starlark.True, outs[0].res, nil, dir, true), nil
	}
	sr, err := sweep.Search(interp.ContextOf(thread), spec, probe)
	if err != nil {
		return nil, err
	}
	probes := make([]starlark.Value, len(sr.Probes))
	var bestRes starlark.Value = starlark.None
	for i, p := range sr.Probes {
		reasons := make([]starlark.Value, len(p.Reasons))
		for j, r := range p.Reasons {
			reasons[j] = starlark.String(r)
		}
		var r starlark.Value = starlark.None
		if i < len(outs) && outs[i].res != nil {
			r = outs[i].res
		}
		if sr.Found && p.Value == sr.Best && p.Passed {
			bestRes = r
		}
		probes[i] = starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
			"value": knobValue(p.Value), "passed": starlark.Bool(p.Passed), "phase": starlark.String(p.Phase),
			"reasons": frozenList(reasons), "result": r,
		})
	}
	sums := make([]*results.Summary, len(outs))
	for i, o := range outs {
		if o.res != nil {
			sums[i] = o.res.sum
		}
	}
	if err := writeSearchHistory(dir, knob, sr, sums); err != nil {
		return nil, errext.Errorf(errext.Generic, "%s: writing search history: %v", fn.Name(), err)
	}
	var best starlark.Value = starlark.None
	if sr.Found {
		best = knobValue(sr.Best)
	}
	fmt.Fprintf(env.Stdout, "Search: best %s = %s after %d probes (history: %s)\n", knob, best, len(sr.Probes), filepath.Join(dir, "search_history.csv"))
	return searchValue(best, starlark.Bool(sr.Converged), bestRes, probes, dir, false), nil
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
