package starplugin

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
)

// Hook converts values a caller knows better (e.g. the script API's
// durations). It returns handled=false to fall back to the default rules.
type Hook func(v any) (out any, handled bool, err error)

// toStarlark converts a JSON-like Go value to Starlark: nil → None, bool,
// string, integers → int, float64 → float, []any / []string → list,
// *ordered.Map and map[string]any → dict (map keys sorted), json.RawMessage
// decoded. The result is not frozen.
func toStarlark(v any) (starlark.Value, error) { return ToStarlarkWith(v, nil) }

// ToStarlarkWith is toStarlark with a hook tried first at every level; a
// handled value must be a starlark.Value.
func ToStarlarkWith(v any, hook Hook) (starlark.Value, error) {
	if hook != nil {
		out, ok, err := hook(v)
		if err != nil {
			return nil, err
		}
		if ok {
			sv, isVal := out.(starlark.Value)
			if !isVal {
				return nil, fmt.Errorf("conversion hook returned %T, not a Starlark value", out)
			}
			return sv, nil
		}
	}
	switch x := v.(type) {
	case nil:
		return starlark.None, nil
	case starlark.Value:
		return x, nil
	case bool:
		return starlark.Bool(x), nil
	case string:
		return starlark.String(x), nil
	case plugin.Secret:
		// The user gave this plugin the secret: it gets the text.
		return starlark.String(x.Reveal()), nil
	case int:
		return starlark.MakeInt(x), nil
	case int32:
		return starlark.MakeInt64(int64(x)), nil
	case int64:
		return starlark.MakeInt64(x), nil
	case uint64:
		return starlark.MakeUint64(x), nil
	case float64:
		return starlark.Float(x), nil
	case float32:
		return starlark.Float(x), nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return starlark.MakeInt64(i), nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, err
		}
		return starlark.Float(f), nil
	case json.RawMessage:
		d, err := ordered.Decode(x)
		if err != nil {
			return nil, err
		}
		return ToStarlarkWith(d, hook)
	case []string:
		l := make([]starlark.Value, len(x))
		for i, s := range x {
			l[i] = starlark.String(s)
		}
		return starlark.NewList(l), nil
	case []any:
		l := make([]starlark.Value, len(x))
		for i, e := range x {
			sv, err := ToStarlarkWith(e, hook)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			l[i] = sv
		}
		return starlark.NewList(l), nil
	case *ordered.Map:
		d := starlark.NewDict(x.Len())
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			sv, err := ToStarlarkWith(e, hook)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			_ = d.SetKey(starlark.String(k), sv)
		}
		return d, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := starlark.NewDict(len(x))
		for _, k := range keys {
			sv, err := ToStarlarkWith(x[k], hook)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			_ = d.SetKey(starlark.String(k), sv)
		}
		return d, nil
	}
	return nil, fmt.Errorf("cannot convert Go %T to a Starlark value", v)
}

// fromStarlark converts a Starlark value to a JSON-like Go value: None →
// nil, bool, int → int64 (or float64 beyond int64), float → float64,
// string, bytes → string, list/tuple/set → []any, dict (string keys) and
// struct → *ordered.Map in order.
func fromStarlark(v starlark.Value) (any, error) { return FromStarlarkWith(v, nil) }

// FromStarlarkWith is fromStarlark with a hook tried first at every level
// (the hook receives the starlark.Value).
func FromStarlarkWith(v starlark.Value, hook Hook) (any, error) {
	return fromStarlarkDepth(v, hook, 0)
}

// maxDepth bounds nesting (and catches self-referencing lists).
const maxDepth = 100

func fromStarlarkDepth(v starlark.Value, hook Hook, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("value nested deeper than %d levels", maxDepth)
	}
	if hook != nil {
		out, ok, err := hook(v)
		if err != nil {
			return nil, err
		}
		if ok {
			return out, nil
		}
	}
	switch x := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.Bool:
		return bool(x), nil
	case starlark.Int:
		if i, ok := x.Int64(); ok {
			return i, nil
		}
		f, _ := new(big.Float).SetInt(x.BigInt()).Float64()
		return f, nil
	case starlark.Float:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%v is not a JSON number", f)
		}
		return f, nil
	case starlark.String:
		return string(x), nil
	case starlark.Bytes:
		return string(x), nil
	case *starlark.List:
		return iterate(x, x.Len(), hook, depth)
	case starlark.Tuple:
		return iterate(x, x.Len(), hook, depth)
	case *starlark.Set:
		return iterate(x, x.Len(), hook, depth)
	case *starlark.Dict:
		m := ordered.New(x.Len())
		for _, kv := range x.Items() {
			k, ok := kv[0].(starlark.String)
			if !ok {
				return nil, fmt.Errorf("dict keys must be strings, got %s %s", kv[0].Type(), kv[0])
			}
			e, err := fromStarlarkDepth(kv[1], hook, depth+1)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", string(k), err)
			}
			m.Set(string(k), e)
		}
		return m, nil
	case *starlarkstruct.Struct:
		m := ordered.New(len(x.AttrNames()))
		for _, k := range x.AttrNames() {
			a, err := x.Attr(k)
			if err != nil {
				return nil, err
			}
			e, err := fromStarlarkDepth(a, hook, depth+1)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			m.Set(k, e)
		}
		return m, nil
	}
	return nil, fmt.Errorf("cannot convert a Starlark %s to data (want None, bool, int, float, string, list, tuple or dict)", v.Type())
}

func iterate(it starlark.Iterable, n int, hook Hook, depth int) ([]any, error) {
	out := make([]any, 0, n)
	iter := it.Iterate()
	defer iter.Done()
	var e starlark.Value
	for i := 0; iter.Next(&e); i++ {
		g, err := fromStarlarkDepth(e, hook, depth+1)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out = append(out, g)
	}
	return out, nil
}
