package builtins

import (
	"fmt"
	"reflect"
	"sort"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/loadstar/loadstar/engine/plugin"
)

// Spec is the Starlark value of a chosen plugin with its arguments, as a
// namespace constructor returns it: endpoint.chat(url=..., model=...). It
// prints as the call that makes it (secrets redacted), is immutable and
// hashable, and exposes .name, .category, .args and .replace(**kwargs).
type Spec struct {
	spec  *plugin.Spec
	class *plugin.Class // to convert replace() arguments
}

var (
	_ starlark.HasAttrs   = (*Spec)(nil)
	_ starlark.Comparable = (*Spec)(nil)
)

// NewSpec wraps s; class (may be nil) checks replace() arguments.
func NewSpec(s *plugin.Spec, class *plugin.Class) *Spec { return &Spec{spec: s, class: class} }

// SpecOf returns the plugin spec a script value holds: a Spec made by a
// namespace constructor. The result must not be modified.
func SpecOf(v starlark.Value) (*plugin.Spec, bool) {
	if s, ok := v.(*Spec); ok {
		return s.spec, true
	}
	return nil, false
}

func (s *Spec) String() string { return s.spec.String() }

// Type is "plugin".
func (s *Spec) Type() string { return "plugin" }

// Freeze is a no-op: a Spec is immutable.
func (s *Spec) Freeze()              {}
func (s *Spec) Truth() starlark.Bool { return true }

// Hash hashes the category and name (equal specs share them).
func (s *Spec) Hash() (uint32, error) {
	return starlark.String(string(s.spec.Category) + "." + s.spec.Name).Hash()
}

// CompareSameType: specs are equal when category, name and every argument
// are equal (callables only when they are the same function).
func (s *Spec) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	o := y.(*Spec)
	eq := s.spec.Category == o.spec.Category && s.spec.Name == o.spec.Name && argsEqual(s.spec.Args, o.spec.Args)
	switch op {
	case syntax.EQL:
		return eq, nil
	case syntax.NEQ:
		return !eq, nil
	}
	return false, fmt.Errorf("%s %s %s not supported", s.Type(), op, y.Type())
}

func argsEqual(a, b plugin.Args) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok {
			return false
		}
		if f, isFunc := v.(plugin.Func); isFunc {
			g, isFunc := w.(plugin.Func)
			if !isFunc || reflect.ValueOf(f).Pointer() != reflect.ValueOf(g).Pointer() {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(v, w) {
			return false
		}
	}
	return true
}

// AttrNames implements starlark.HasAttrs.
func (s *Spec) AttrNames() []string { return []string{"args", "category", "name", "replace"} }

// Attr implements starlark.HasAttrs.
func (s *Spec) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(s.spec.Name), nil
	case "category":
		return starlark.String(string(s.spec.Category)), nil
	case "args":
		d := starlark.NewDict(len(s.spec.Args))
		keys := make([]string, 0, len(s.spec.Args))
		for k := range s.spec.Args {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for k := range keys {
			v, err := toScript(s.spec.Args[keys[k]])
			if err != nil {
				return nil, fmt.Errorf("%s: argument %s: %w", s.label(), keys[k], err)
			}
			_ = d.SetKey(starlark.String(keys[k]), v)
		}
		d.Freeze()
		return d, nil
	case "replace":
		return starlark.NewBuiltin(s.label()+".replace", s.replace), nil
	}
	return nil, nil
}

func (s *Spec) label() string { return plugin.Namespace(s.spec.Category) + "." + s.spec.Name }

// replace returns a copy with some arguments changed; None removes one:
//
//	fast = ep.replace(model = "small", api_key = None)
func (s *Spec) replace(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("%s: takes keyword arguments only", fn.Name())
	}
	if s.class == nil {
		return nil, fmt.Errorf("%s: this plugin value cannot be changed", fn.Name())
	}
	out := s.spec.Args.Clone()
	for _, kv := range kwargs {
		name := string(kv[0].(starlark.String))
		if kv[1] == starlark.None {
			delete(out, name)
			continue
		}
		v, err := convertArg(thread, s.label(), s.class, name, kv[1])
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return &Spec{spec: &plugin.Spec{Category: s.spec.Category, Name: s.spec.Name, Args: out}, class: s.class}, nil
}
