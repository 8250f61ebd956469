package builtins

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/internal/starplugin"
	"github.com/loadstar/loadstar/interp"
)

// pluginModules returns the plugin namespaces of the script API: one module
// per non-internal category (named by its namespace: endpoint, timing,
// arrival, ...) whose members construct that category's plugins, built-in
// and external alike:
//
//	endpoint.chat(url = "http://127.0.0.1:8000", model = "m", streaming = True)
//	timing.request_rate(rate = 10, arrival = arrival.gamma(smoothness = 2))
//
// A constructor takes keyword arguments only, converts each by its
// parameter's type (see plugin.ParamType) and returns a Spec; the plugin is
// built only when a run starts. None for an argument means "not given".
// Errors name the argument: unknown ones list the accepted names. The
// members are fixed when pluginModules is called; a plugin's class is
// resolved on the first call of its constructor (Starlark plugin files are
// parsed then, and run only when the run builds the plugin).
func pluginModules(reg *plugin.Registry) starlark.StringDict {
	out := starlark.StringDict{}
	for _, c := range reg.Categories() {
		if c.Internal {
			continue
		}
		members := starlark.StringDict{}
		for _, e := range reg.All(c.Name) {
			members[e.Name] = constructor(reg, c.Name, e.Name)
		}
		out[c.Namespace] = &starlarkstruct.Module{Name: c.Namespace, Members: members}
	}
	return out
}

// constructor returns the builtin namespace.name(**kwargs) -> Spec.
func constructor(reg *plugin.Registry, cat plugin.Category, name string) *starlark.Builtin {
	label := plugin.Namespace(cat) + "." + name
	return starlark.NewBuiltin(label, func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		class, err := reg.Get(cat, name)
		if err != nil {
			return nil, err
		}
		if len(args) > 0 {
			return nil, errext.Errorf(errext.InvalidConfig, "%s: takes keyword arguments only (%s)", label, acceptedNames(class))
		}
		out := plugin.Args{}
		for _, kv := range kwargs {
			k := string(kv[0].(starlark.String))
			if kv[1] == starlark.None {
				if _, ok := class.Param(k); !ok {
					return nil, unknownParam(label, class, k)
				}
				continue
			}
			v, err := convertArg(thread, label, class, k, kv[1])
			if err != nil {
				return nil, withCode(err, errext.InvalidConfig)
			}
			out[k] = v
		}
		for _, p := range class.Params {
			if p.Required && !out.Has(p.Name) {
				return nil, errext.Errorf(errext.InvalidConfig, "%s: missing required argument %s (%s): %s", label, p.Name, p.Describe(), p.Doc)
			}
		}
		return NewSpec(&plugin.Spec{Category: cat, Name: name, Args: out}, class), nil
	})
}

func acceptedNames(c *plugin.Class) string {
	if len(c.Params) == 0 {
		return "it takes no arguments"
	}
	return "accepted: " + strings.Join(c.ParamNames(), ", ")
}

func unknownParam(label string, c *plugin.Class, name string) error {
	return unknownArg(label, name, c.ParamNames())
}

// convertArg converts keyword argument name of plugin label to the Go type
// of its parameter.
func convertArg(thread *starlark.Thread, label string, c *plugin.Class, name string, v starlark.Value) (any, error) {
	p, ok := c.Param(name)
	if !ok {
		return nil, unknownParam(label, c, name)
	}
	out, err := convertParam(thread, p, v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	if err := p.CheckValue(out); err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	if s, ok := out.(string); ok && isPathParam(p) {
		out = resolvePath(thread, s)
	}
	return out, nil
}

// isPathParam reports whether a string parameter names a file: `path`, or a
// name ending in _file or _dir (not _path: custom_path is a URL path). Such arguments are resolved relative to
// the .star file that wrote them, so scenarios and libraries can be run from
// any directory.
func isPathParam(p plugin.Param) bool {
	n := p.Name
	return p.Type == plugin.TString && (n == "path" || strings.HasSuffix(n, "_file") || strings.HasSuffix(n, "_dir"))
}

// convertParam converts a script value to the Go type of parameter p (see
// plugin.ParamType); errors name the argument and the expected type.
func convertParam(thread *starlark.Thread, p plugin.Param, v starlark.Value) (any, error) {
	want := func() error {
		return fmt.Errorf("argument %s: want %s, got %s %s", p.Name, p.Describe(), v.Type(), abbrev(v.String()))
	}
	switch p.Type {
	case plugin.TString:
		if sec, ok := v.(*SecretValue); ok {
			return sec.value, nil
		}
		s, ok := v.(starlark.String)
		if !ok {
			return nil, want()
		}
		return string(s), nil
	case plugin.TInt, plugin.TFloat:
		return convertNumber(p, v, want)
	case plugin.TBool:
		b, ok := v.(starlark.Bool)
		if !ok {
			return nil, want()
		}
		return bool(b), nil
	case plugin.TDuration:
		d, err := asDuration(v, "argument "+p.Name)
		if err != nil {
			return nil, err
		}
		return d, nil
	case plugin.TDist:
		d, err := asDist(v, "argument "+p.Name)
		if err != nil {
			return nil, err
		}
		return d, nil
	case plugin.TStrings:
		return convertStrings(p, v, want)
	case plugin.TList, plugin.TDict:
		return convertContainer(p, v, want)
	case plugin.TSpec:
		s, ok := SpecOf(v)
		if !ok {
			return nil, want()
		}
		return s, nil
	case plugin.TFunc:
		fn, ok := v.(starlark.Callable)
		if !ok {
			return nil, want()
		}
		return newFunc(thread, fn), nil
	case plugin.TAny:
		if fn, ok := v.(starlark.Callable); ok {
			return newFunc(thread, fn), nil
		}
		out, err := fromScript(v)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", p.Name, err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("argument %s: parameter has no type", p.Name)
}

// convertNumber converts an int (int64) or float (float64, finite; an int
// is accepted) argument.
func convertNumber(p plugin.Param, v starlark.Value, want func() error) (any, error) {
	if p.Type == plugin.TInt {
		i, ok := v.(starlark.Int)
		if !ok {
			return nil, want()
		}
		n, ok := i.Int64()
		if !ok {
			return nil, fmt.Errorf("argument %s: %s is out of range", p.Name, i)
		}
		return n, nil
	}
	switch x := v.(type) {
	case starlark.Int:
		f, _ := starlark.AsFloat(x)
		return f, nil
	case starlark.Float:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("argument %s: want a finite number, got %v", p.Name, x)
		}
		return float64(x), nil
	}
	return nil, want()
}

// convertStrings converts a string or a sequence of strings.
func convertStrings(p plugin.Param, v starlark.Value, want func() error) (any, error) {
	if s, ok := v.(starlark.String); ok {
		return []string{string(s)}, nil
	}
	seq, ok := v.(starlark.Indexable)
	if !ok {
		return nil, want()
	}
	if _, isStr := v.(starlark.Bytes); isStr {
		return nil, want()
	}
	out := make([]string, seq.Len())
	for i := range out {
		s, ok := seq.Index(i).(starlark.String)
		if !ok {
			return nil, fmt.Errorf("argument %s: item %d: want string, got %s", p.Name, i, seq.Index(i).Type())
		}
		out[i] = string(s)
	}
	return out, nil
}

// convertContainer converts a list or tuple ([]any) or a dict
// (*ordered.Map) of plain values.
func convertContainer(p plugin.Param, v starlark.Value, want func() error) (any, error) {
	switch v.(type) {
	case *starlark.List, starlark.Tuple:
		if p.Type != plugin.TList {
			return nil, want()
		}
	case *starlark.Dict:
		if p.Type != plugin.TDict {
			return nil, want()
		}
	default:
		return nil, want()
	}
	out, err := fromScript(v)
	if err != nil {
		return nil, fmt.Errorf("argument %s: %w", p.Name, err)
	}
	if p.Type == plugin.TDict {
		return out.(*ordered.Map), nil
	}
	return out, nil
}

func abbrev(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// scriptHook converts the script API's own values in data: durations,
// distributions and plugin specs.
func scriptHook(v any) (any, bool, error) {
	switch x := v.(type) {
	case Duration:
		return time.Duration(x), true, nil
	case Dist:
		return x.D, true, nil
	case *Spec:
		return x.spec, true, nil
	case *SecretValue:
		return x.value, true, nil
	}
	return nil, false, nil
}

// fromScript converts script data to Go (see starplugin.FromStarlarkWith),
// keeping durations, distributions and plugin specs.
func fromScript(v starlark.Value) (any, error) {
	return starplugin.FromStarlarkWith(v, scriptHook)
}

// toScript converts Go data to script values, the inverse of fromScript.
func toScript(v any) (starlark.Value, error) {
	return starplugin.ToStarlarkWith(v, func(v any) (any, bool, error) {
		switch x := v.(type) {
		case time.Duration:
			return Duration(x), true, nil
		case dist.Dist:
			return Dist{x}, true, nil
		case *plugin.Spec:
			return NewSpec(x, nil), true, nil
		case plugin.Secret:
			return &SecretValue{value: x}, true, nil
		case plugin.Func:
			return starlark.NewBuiltin("<function>", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
				in := make([]any, len(args))
				for i, a := range args {
					g, err := fromScript(a)
					if err != nil {
						return nil, err
					}
					in[i] = g
				}
				out, err := x(in...)
				if err != nil {
					return nil, err
				}
				return toScript(out)
			}), true, nil
		}
		return nil, false, nil
	})
}

// newFunc wraps a script callable as a plugin.Func that Go code may call
// from any goroutine: calls are serialised, each runs on a fresh thread
// (printing where the script's thread prints) with the scenario step
// budget, and arguments and results are converted as data (durations,
// distributions and plugin specs kept). The callable is frozen.
func newFunc(parent *starlark.Thread, fn starlark.Callable) plugin.Func {
	fn.Freeze()
	var print func(*starlark.Thread, string)
	if parent != nil {
		print = parent.Print
	}
	var mu sync.Mutex
	return func(args ...any) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		in := make(starlark.Tuple, len(args))
		for i, a := range args {
			v, err := toScript(a)
			if err != nil {
				return nil, fmt.Errorf("%s: argument %d: %w", fn.Name(), i+1, err)
			}
			in[i] = v
		}
		th := &starlark.Thread{Name: "callback " + fn.Name(), Print: print}
		th.SetMaxExecutionSteps(interp.DefaultMaxSteps)
		out, err := starlark.Call(th, fn, in, nil)
		if err != nil {
			if ee, ok := err.(*starlark.EvalError); ok {
				return nil, fmt.Errorf("%s", ee.Backtrace())
			}
			return nil, err
		}
		return fromScript(out)
	}
}
