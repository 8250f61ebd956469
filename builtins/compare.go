package builtins

import (
	"fmt"
	"math"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/internal/compare"
	"github.com/loadstar/loadstar/internal/resultsdir"
)

// loadResultsBuiltin implements load_results(dir): the result of an earlier
// run read from its artifact directory, or a list of results when dir holds
// several runs (a sweep, trials).
func loadResultsBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var dir string
	if err := unpack(fn.Name(), args, kwargs, "dir", &dir); err != nil {
		return nil, err
	}
	runs, _, err := resultsdir.Scan(dir)
	if err != nil {
		return nil, errext.WithExitCode(fmt.Errorf("%s: %w", fn.Name(), err), errext.InvalidConfig)
	}
	if len(runs) == 1 {
		return NewResult(runs[0].Summary), nil
	}
	list := make([]starlark.Value, len(runs))
	for i, r := range runs {
		list[i] = NewResult(r.Summary)
	}
	return frozenList(list), nil
}

// compareBuiltin implements compare(base, new, thresholds = [], alpha =
// 0.05, min_change = 0.02): base and new are artifact directories or
// results of run().
func compareBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var base, next, limits starlark.Value
	alpha, minChange := compare.DefaultAlpha, compare.DefaultMinChange
	if err := unpack(fn.Name(), args, kwargs, "base", &base, "new", &next, "thresholds?", &limits,
		"alpha?", &alpha, "min_change?", &minChange); err != nil {
		return nil, err
	}
	bad := func(err error) error {
		return errext.WithExitCode(fmt.Errorf("%s: %w", fn.Name(), err), errext.InvalidConfig)
	}
	opt := compare.Options{Alpha: alpha, MinChange: minChange}
	if minChange == 0 {
		opt.MinChange = -1
	}
	if alpha <= 0 || alpha >= 1 || minChange < 0 {
		return nil, bad(fmt.Errorf("alpha must be in (0, 1) and min_change >= 0, got %g and %g", alpha, minChange))
	}
	var err error
	if opt.Limits, err = parseLimits(limits); err != nil {
		return nil, bad(err)
	}
	sides := make([]*compare.Side, 2)
	for i, v := range []starlark.Value{base, next} {
		dir, err := dirOf(v)
		if err != nil {
			return nil, bad(err)
		}
		if sides[i], err = compare.Open(dir); err != nil {
			return nil, bad(err)
		}
	}
	rep, err := compare.Compare(sides[0], sides[1], opt)
	if err != nil {
		return nil, bad(err)
	}
	if crossed := rep.Crossed(); len(crossed) > 0 {
		if env, err := envOf(thread); err == nil {
			for _, r := range crossed {
				env.noteCrossed(fmt.Sprintf("%s (%s, %s → %s)", r.Limit.Text, compare.FormatChange(r.ChangePct), sides[0].Dir, sides[1].Dir))
			}
		}
	}
	return comparisonValue(rep), nil
}

// dirOf reads an artifact directory from a string or a run() result.
func dirOf(v starlark.Value) (string, error) {
	switch x := v.(type) {
	case starlark.String:
		return string(x), nil
	case *Result:
		if x.sum == nil || x.sum.Info.ArtifactDir == "" {
			return "", fmt.Errorf("the result has no artifact directory (planned under inspect?)")
		}
		return x.sum.Info.ArtifactDir, nil
	}
	return "", fmt.Errorf("want an artifact directory or a run() result, got %s", v.Type())
}

// parseLimits reads ["ttft.p99=+5%", ...] or {"ttft.p99": "+5%", ...}.
func parseLimits(v starlark.Value) ([]compare.Limit, error) {
	var texts []string
	switch x := v.(type) {
	case nil, starlark.NoneType:
	case *starlark.List, starlark.Tuple:
		it := starlark.Iterate(x)
		defer it.Done()
		var e starlark.Value
		for it.Next(&e) {
			s, ok := starlark.AsString(e)
			if !ok {
				return nil, fmt.Errorf("thresholds: want strings like \"ttft.p99=+5%%\", got %s", e.Type())
			}
			texts = append(texts, s)
		}
	case *starlark.Dict:
		for _, kv := range x.Items() {
			k, ok1 := starlark.AsString(kv[0])
			val, ok2 := starlark.AsString(kv[1])
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("thresholds: want {\"metric.stat\": \"+5%%\"}, got %s: %s", kv[0].Type(), kv[1].Type())
			}
			texts = append(texts, k+"="+val)
		}
	default:
		return nil, fmt.Errorf("thresholds: want a list or a dict, got %s", v.Type())
	}
	var out []compare.Limit
	for _, t := range texts {
		l, err := compare.ParseLimit(t)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// comparisonValue is what compare() returns: struct(rows, significant,
// crossed, passed, summary, text).
func comparisonValue(rep *compare.Report) starlark.Value {
	var rows, sig, crossed []starlark.Value
	for _, r := range rep.Rows {
		limit := starlark.Value(starlark.None)
		if r.Limit != nil {
			limit = starlark.String(r.Limit.Text)
		}
		v := starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
			"metric": starlark.String(r.Tag), "stat": starlark.String(r.Stat), "header": starlark.String(r.Header),
			"unit": starlark.String(r.Unit), "base": starlark.Float(r.Base), "new": starlark.Float(r.New),
			"change_pct": noneIfNaN(r.ChangePct), "test": starlark.String(r.Test), "p_value": noneIfNaN(r.P),
			"significant": starlark.Bool(r.Significant), "better": starlark.MakeInt(r.Better),
			"limit": limit, "crossed": starlark.Bool(r.Crossed),
		})
		rows = append(rows, v)
		if r.Significant {
			sig = append(sig, v)
		}
		if r.Crossed {
			crossed = append(crossed, v)
		}
	}
	var text strings.Builder
	_ = rep.WriteText(&text)
	return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
		"rows": frozenList(rows), "significant": frozenList(sig), "crossed": frozenList(crossed),
		"passed": starlark.Bool(len(crossed) == 0), "summary": starlark.String(rep.Summary()),
		"text": starlark.String(text.String()),
	})
}

func noneIfNaN(f float64) starlark.Value {
	if math.IsNaN(f) {
		return starlark.None
	}
	return starlark.Float(f)
}
