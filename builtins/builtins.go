package builtins

import (
	"fmt"
	"sort"

	"go.starlark.net/lib/json"
	"go.starlark.net/lib/math"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// core returns the plain helpers every scenario sees, independent of the
// plugin registry and the engine:
//
//	ms(5), s(2), us(10), minutes(1)   duration values ("250ms" strings work too)
//	duration("1m30s")                 parse a duration string
//	dist.normal(mean, stddev), dist.uniform(lo, hi), dist.fixed(v), dist.mix([(w, d), ...])
//	format(3.14159, ".2f")            Python's format(): precision, width, alignment
//	env("NAME", default=...)          an environment variable (secret=True redacts it)
//	struct(a=1, b=2)                  an immutable record
//	fail(msg)                         stop the script with an error (Starlark's own)
//	json.encode/decode/indent, math.*
func core() starlark.StringDict {
	return starlark.StringDict{
		"ns":        durationBuiltin("ns", 1),
		"us":        durationBuiltin("us", 1e3),
		"ms":        durationBuiltin("ms", 1e6),
		"s":         durationBuiltin("s", 1e9),
		"minutes":   durationBuiltin("minutes", 60e9),
		"duration":  starlark.NewBuiltin("duration", parseDurationBuiltin),
		"format":    starlark.NewBuiltin("format", formatBuiltin),
		"dist":      distModule(),
		"tokenizer": tokenizerModule(),
		"struct":    starlark.NewBuiltin("struct", starlarkstruct.Make),
		"json":      json.Module,
		"math":      math.Module,
	}
}

func parseDurationBuiltin(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	d, err := asDuration(v, fn.Name())
	if err != nil {
		return nil, err
	}
	return Duration(d), nil
}

// Merge combines predeclared sets; a name defined twice is a programming
// error reported with both sources.
func Merge(sets ...starlark.StringDict) (starlark.StringDict, error) {
	out := starlark.StringDict{}
	for _, set := range sets {
		names := set.Keys()
		sort.Strings(names)
		for _, k := range names {
			if _, dup := out[k]; dup {
				return nil, fmt.Errorf("builtins: name %q defined twice", k)
			}
			out[k] = set[k]
		}
	}
	return out, nil
}
