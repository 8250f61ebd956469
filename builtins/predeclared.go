package builtins

import (
	"errors"
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Predeclared returns every name a scenario sees: the core helpers, the
// plugin namespaces built from env.Registry (endpoint, timing, arrival,
// dataset, ...), and the engine builtins (run, threshold, mock.server, ...).
func Predeclared(env *Env) (starlark.StringDict, error) {
	if env == nil || env.Registry == nil {
		return nil, errors.New("builtins: Predeclared needs an Env with a plugin registry")
	}
	plugins := pluginModules(env.Registry)
	if ds, ok := plugins["dataset"].(*starlarkstruct.Module); ok {
		addDatasetHelpers(ds)
	}
	engine := starlark.StringDict{
		"run":          starlark.NewBuiltin("run", runBuiltin),
		"threshold":    starlark.NewBuiltin("threshold", thresholdBuiltin),
		"sweep":        starlark.NewBuiltin("sweep", sweepBuiltin),
		"search":       starlark.NewBuiltin("search", searchBuiltin),
		"compare":      starlark.NewBuiltin("compare", compareBuiltin),
		"env":          starlark.NewBuiltin("env", envBuiltin),
		"load_results": starlark.NewBuiltin("load_results", loadResultsBuiltin),
		"mock":         mockModule(),
	}
	return Merge(core(), plugins, engine)
}

// addDatasetHelpers adds dataset.file(path, type=None, **kwargs), shorthand
// for dataset.custom(path=path, type=type, ...) with the path relative to the
// calling file.
func addDatasetHelpers(ds *starlarkstruct.Module) {
	custom, ok := ds.Members["custom"].(starlark.Callable)
	if !ok {
		return
	}
	ds.Members["file"] = starlark.NewBuiltin("dataset.file", func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("%s: want the file path as the first argument, e.g. dataset.file(\"trace.jsonl\", type = \"mooncake_trace\")", fn.Name())
		}
		path, ok := starlark.AsString(args[0])
		if !ok {
			return nil, fmt.Errorf("%s: path must be a string, got %s", fn.Name(), args[0].Type())
		}
		kw := append([]starlark.Tuple{{starlark.String("path"), starlark.String(resolvePath(thread, path))}}, kwargs...)
		return starlark.Call(thread, custom, nil, kw)
	})
}
