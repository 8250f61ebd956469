package interp

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/loadstar/loadstar/engine/errext"
)

// Vars is the `vars` value of a script: the --var values, as the text that
// was given. It reads like a frozen dict —
//
//	vars["model"]                  # "llama" (a string; an error names unknown keys)
//	"url" in vars                  # True when --var url=... was given
//	vars.get("url")                # the text, or None
//	vars.get("rate", 10)           # converted to the default's type: 10 or the int given
//	vars.get("rates", [1, 2, 4])   # "8,16" -> [8, 16]
//	vars.keys(), vars.items()
//
// — and vars.get converts to the type of its default: int, float, bool
// (true/false, yes/no, on/off, 1/0), string, a list or tuple (a JSON array
// or comma-separated items, each converted to the type of the default's
// first item), a dict (a JSON object), or any script value that knows how
// to read text (a duration: "250ms"). A value that does not convert is an
// error naming the variable (exit code 2, as any bad command-line value).
type Vars struct {
	keys   []string // in the order first given
	values map[string]string
}

// VarParser is implemented by script values that vars.get can convert text
// into when one is the default (durations).
type VarParser interface {
	// ParseVar reads text as a value of the receiver's type.
	ParseVar(text string) (starlark.Value, error)
}

var (
	_ starlark.Mapping  = (*Vars)(nil)
	_ starlark.HasAttrs = (*Vars)(nil)
	_ starlark.Iterable = (*Vars)(nil)
	_ starlark.Sequence = (*Vars)(nil)
)

// Text returns the text of variable name.
func (v *Vars) Text(name string) (string, bool) {
	if v == nil {
		return "", false
	}
	s, ok := v.values[name]
	return s, ok
}

// Names returns the variables in the order first given.
func (v *Vars) Names() []string {
	if v == nil {
		return nil
	}
	return append([]string(nil), v.keys...)
}

func (v *Vars) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range v.keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(starlark.String(k).String() + ": " + starlark.String(v.values[k]).String())
	}
	b.WriteByte('}')
	return b.String()
}
func (v *Vars) Type() string          { return "vars" }
func (v *Vars) Freeze()               {}
func (v *Vars) Truth() starlark.Bool  { return len(v.keys) > 0 }
func (v *Vars) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: vars") }
func (v *Vars) Len() int              { return len(v.keys) }

// Iterate implements starlark.Iterable: the names, as a dict iterates.
func (v *Vars) Iterate() starlark.Iterator { return v.keyList().Iterate() }

func (v *Vars) keyList() *starlark.List {
	l := make([]starlark.Value, len(v.keys))
	for i, k := range v.keys {
		l[i] = starlark.String(k)
	}
	list := starlark.NewList(l)
	list.Freeze()
	return list
}

// Get implements starlark.Mapping: vars["name"] and `"name" in vars`.
func (v *Vars) Get(k starlark.Value) (starlark.Value, bool, error) {
	name, ok := starlark.AsString(k)
	if !ok {
		return nil, false, fmt.Errorf("vars: keys are strings, got %s", k.Type())
	}
	s, ok := v.values[name]
	if !ok {
		// `in` ignores the error; vars["name"] reports it.
		return nil, false, v.missing(name)
	}
	return starlark.String(s), true, nil
}

// missing is the error of vars["name"] for a variable not given.
func (v *Vars) missing(name string) error {
	return errext.Errorf(errext.Usage, "vars: no variable %q%s; give it with --var %s=VALUE or read it with vars.get(%q, default)",
		name, errext.DidYouMean(name, v.keys), name, name)
}

// AttrNames implements starlark.HasAttrs.
func (v *Vars) AttrNames() []string { return []string{"get", "items", "keys", "values"} }

// Attr implements starlark.HasAttrs.
func (v *Vars) Attr(name string) (starlark.Value, error) {
	switch name {
	case "get":
		return starlark.NewBuiltin("vars.get", v.get), nil
	case "keys":
		return starlark.NewBuiltin("vars.keys", func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			return v.keyList(), nil
		}), nil
	case "values", "items":
		return starlark.NewBuiltin("vars."+name, func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			out := make([]starlark.Value, len(v.keys))
			for i, k := range v.keys {
				if name == "values" {
					out[i] = starlark.String(v.values[k])
				} else {
					out[i] = starlark.Tuple{starlark.String(k), starlark.String(v.values[k])}
				}
			}
			l := starlark.NewList(out)
			l.Freeze()
			return l, nil
		}), nil
	}
	return nil, nil
}

// get implements vars.get(name, default=None).
func (v *Vars) get(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	var def starlark.Value = starlark.None
	if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 1, &name, &def); err != nil {
		return nil, err
	}
	text, ok := v.values[name]
	if !ok {
		return def, nil
	}
	out, err := ConvertVar(text, def)
	if err != nil {
		return nil, errext.Errorf(errext.Usage, "--var %s=%s: %v (vars.get(%q, %s) wants the type of its default)", name, text, err, name, def.String())
	}
	return out, nil
}

// ConvertVar reads text as a value of the type of def (see Vars).
func ConvertVar(text string, def starlark.Value) (starlark.Value, error) {
	t := strings.TrimSpace(text)
	switch d := def.(type) {
	case starlark.NoneType, starlark.String:
		return starlark.String(text), nil
	case starlark.Bool:
		switch strings.ToLower(t) {
		case "true", "yes", "on", "1":
			return starlark.True, nil
		case "false", "no", "off", "0", "":
			return starlark.False, nil
		}
		return nil, fmt.Errorf("not a bool (want true or false)")
	case starlark.Int:
		digits := strings.ReplaceAll(t, "_", "")
		n, err := strconv.ParseInt(digits, 10, 64) // base 10: "0123" is 123
		if err != nil {
			return nil, fmt.Errorf("not an int")
		}
		return starlark.MakeInt64(n), nil
	case starlark.Float:
		f, err := strconv.ParseFloat(strings.ReplaceAll(t, "_", ""), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("not a finite number")
		}
		return starlark.Float(f), nil
	case *starlark.List:
		items, err := convertItems(t, d)
		if err != nil {
			return nil, err
		}
		return starlark.NewList(items), nil
	case starlark.Tuple:
		items, err := convertItems(t, d)
		if err != nil {
			return nil, err
		}
		return starlark.Tuple(items), nil
	case *starlark.Dict:
		if !strings.HasPrefix(t, "{") {
			return nil, fmt.Errorf("not a dict (want a JSON object such as {\"a\": 1})")
		}
		return decodeJSON(t)
	case VarParser:
		return d.ParseVar(t)
	}
	return nil, fmt.Errorf("vars.get cannot convert text to %s (use a default of type int, float, bool, string, list, dict or duration)", def.Type())
}

// convertItems reads a JSON array or comma-separated items, each converted
// to the type of the default's first item (text when it has none).
func convertItems(text string, def starlark.Indexable) ([]starlark.Value, error) {
	var elem starlark.Value = starlark.None
	if def.Len() > 0 {
		elem = def.Index(0)
	}
	var parts []string
	if strings.HasPrefix(text, "[") {
		var raw []json.RawMessage
		if err := json.Unmarshal([]byte(text), &raw); err != nil {
			return nil, fmt.Errorf("not a JSON array: %v", err)
		}
		for _, r := range raw {
			var s string
			if json.Unmarshal(r, &s) != nil {
				s = string(r)
			}
			parts = append(parts, s)
		}
	} else if text != "" {
		parts = strings.Split(text, ",")
	}
	out := make([]starlark.Value, len(parts))
	for i, p := range parts {
		v, err := ConvertVar(strings.TrimSpace(p), elem)
		if err != nil {
			return nil, fmt.Errorf("item %d (%q): %v", i+1, strings.TrimSpace(p), err)
		}
		out[i] = v
	}
	return out, nil
}

// decodeJSON reads a JSON object as a dict of JSON values.
func decodeJSON(text string) (starlark.Value, error) {
	var x any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	return fromJSON(x), nil
}

func fromJSON(x any) starlark.Value {
	switch v := x.(type) {
	case nil:
		return starlark.None
	case bool:
		return starlark.Bool(v)
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return starlark.MakeInt64(n)
		}
		f, _ := v.Float64()
		return starlark.Float(f)
	case string:
		return starlark.String(v)
	case []any:
		out := make([]starlark.Value, len(v))
		for i, e := range v {
			out[i] = fromJSON(e)
		}
		return starlark.NewList(out)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := starlark.NewDict(len(v))
		for _, k := range keys {
			_ = d.SetKey(starlark.String(k), fromJSON(v[k]))
		}
		return d
	}
	return starlark.None
}
