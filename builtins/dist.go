package builtins

import (
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/loadstar/loadstar/engine/dist"
)

// Dist is a Starlark distribution value (dist.normal, dist.uniform, ...).
type Dist struct{ D dist.Dist }

var _ starlark.HasAttrs = Dist{}

func (d Dist) String() string        { return d.D.String() }
func (d Dist) Type() string          { return "dist" }
func (d Dist) Freeze()               {}
func (d Dist) Truth() starlark.Bool  { return true }
func (d Dist) Hash() (uint32, error) { return starlark.String(d.D.String()).Hash() }

// Attr exposes d.mean.
func (d Dist) Attr(name string) (starlark.Value, error) {
	if name == "mean" {
		return starlark.Float(d.D.Mean()), nil
	}
	return nil, nil
}

// AttrNames implements starlark.HasAttrs.
func (d Dist) AttrNames() []string { return []string{"mean"} }

// asDist converts a script value to a distribution: a Dist, or a number
// (a fixed value). what names the argument in the error.
func asDist(v starlark.Value, what string) (dist.Dist, error) {
	switch x := v.(type) {
	case Dist:
		return x.D, nil
	case starlark.Int, starlark.Float:
		f, _ := starlark.AsFloat(x)
		return dist.Fixed{V: f}, nil
	}
	return nil, fmt.Errorf("%s: want a number or a distribution (dist.normal(mean, stddev), dist.uniform(lo, hi), dist.fixed(v)), got %s", what, v.Type())
}

func floatArg(fn string, name string, v starlark.Value) (float64, error) {
	f, ok := starlark.AsFloat(v)
	if !ok {
		return 0, fmt.Errorf("%s: %s must be a number, got %s", fn, name, v.Type())
	}
	return f, nil
}

// distModule is the `dist` namespace.
func distModule() *starlarkstruct.Module {
	normal := starlark.NewBuiltin("dist.normal", func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var mean, stddev starlark.Value = nil, starlark.MakeInt(0)
		if err := unpack(fn.Name(), args, kwargs, "mean", &mean, "stddev?", &stddev); err != nil {
			return nil, err
		}
		m, err := floatArg(fn.Name(), "mean", mean)
		if err != nil {
			return nil, err
		}
		s, err := floatArg(fn.Name(), "stddev", stddev)
		if err != nil {
			return nil, err
		}
		d, err := dist.NewNormal(m, s)
		if err != nil {
			return nil, err
		}
		return Dist{d}, nil
	})
	uniform := starlark.NewBuiltin("dist.uniform", func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var lo, hi starlark.Value
		if err := unpack(fn.Name(), args, kwargs, "lo", &lo, "hi", &hi); err != nil {
			return nil, err
		}
		l, err := floatArg(fn.Name(), "lo", lo)
		if err != nil {
			return nil, err
		}
		h, err := floatArg(fn.Name(), "hi", hi)
		if err != nil {
			return nil, err
		}
		d, err := dist.NewUniform(l, h)
		if err != nil {
			return nil, err
		}
		return Dist{d}, nil
	})
	fixed := starlark.NewBuiltin("dist.fixed", func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var v starlark.Value
		if err := unpack(fn.Name(), args, kwargs, "value", &v); err != nil {
			return nil, err
		}
		f, err := floatArg(fn.Name(), "value", v)
		if err != nil {
			return nil, err
		}
		return Dist{dist.Fixed{V: f}}, nil
	})
	mix := starlark.NewBuiltin("dist.mix", func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var pairs *starlark.List
		if err := unpack(fn.Name(), args, kwargs, "choices", &pairs); err != nil {
			return nil, err
		}
		var choices []dist.Choice
		for i := 0; i < pairs.Len(); i++ {
			t, ok := pairs.Index(i).(starlark.Tuple)
			if !ok || len(t) != 2 {
				return nil, fmt.Errorf("%s: choice %d must be a (weight, dist) pair, got %s", fn.Name(), i, pairs.Index(i).String())
			}
			w, err := floatArg(fn.Name(), fmt.Sprintf("weight of choice %d", i), t[0])
			if err != nil {
				return nil, err
			}
			d, err := asDist(t[1], fmt.Sprintf("%s: choice %d", fn.Name(), i))
			if err != nil {
				return nil, err
			}
			choices = append(choices, dist.Choice{Weight: w, D: d})
		}
		m, err := dist.NewMix(choices)
		if err != nil {
			return nil, err
		}
		return Dist{m}, nil
	})
	return &starlarkstruct.Module{Name: "dist", Members: starlark.StringDict{
		"normal": normal, "uniform": uniform, "fixed": fixed, "mix": mix,
	}}
}
