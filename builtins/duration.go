// Package builtins assembles the script API: the predeclared names every
// scenario sees (duration and distribution helpers, fail, struct, the plugin
// namespaces built from the registry, run/sweep/search, ...).
package builtins

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/loadstar/loadstar/engine/clock"
)

// Duration is a Starlark time span. Scripts make them with ms(5), s(2) or by
// writing a string such as "250ms" wherever a duration is expected. Durations
// add, subtract, compare, scale by numbers and divide into a float ratio.
type Duration time.Duration

var (
	_ starlark.Value      = Duration(0)
	_ starlark.Comparable = Duration(0)
	_ starlark.HasBinary  = Duration(0)
	_ starlark.HasAttrs   = Duration(0)
	_ starlark.HasUnary   = Duration(0)
)

// String is the duration rounded to four significant digits, in Go's
// notation: "54.17ms", "1.5s", "1m30.12s" (d.ns and format() give more).
func (d Duration) String() string        { return durationText(d, -1) }
func (d Duration) Type() string          { return "duration" }
func (d Duration) Freeze()               {}
func (d Duration) Truth() starlark.Bool  { return d != 0 }
func (d Duration) Hash() (uint32, error) { return uint32(d) ^ uint32(int64(d)>>32), nil }

// Attr exposes the span in common units: d.ms, d.s, d.us, d.ns.
func (d Duration) Attr(name string) (starlark.Value, error) {
	switch name {
	case "ns":
		return starlark.MakeInt64(int64(d)), nil
	case "us":
		return starlark.Float(float64(d) / 1e3), nil
	case "ms":
		return starlark.Float(float64(d) / 1e6), nil
	case "s", "seconds":
		return starlark.Float(float64(d) / 1e9), nil
	}
	return nil, nil
}

// ParseVar implements interp.VarParser: vars.get("timeout", ms(500)) reads
// "2s" (or a number of seconds) as a duration.
func (d Duration) ParseVar(text string) (starlark.Value, error) {
	x, err := clock.ParseSpan(text)
	if err != nil && !clock.IsTooLong(err) {
		if f, ferr := strconv.ParseFloat(text, 64); ferr == nil {
			x, err = clock.Seconds(f)
		}
	}
	if clock.IsTooLong(err) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("not a duration (want e.g. \"250ms\", \"2s\" or seconds)")
	}
	return Duration(x), nil
}

// AttrNames implements starlark.HasAttrs.
func (d Duration) AttrNames() []string { return []string{"ms", "ns", "s", "seconds", "us"} }

// CompareSameType implements starlark.Comparable.
func (d Duration) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	e := y.(Duration)
	switch op {
	case syntax.EQL:
		return d == e, nil
	case syntax.NEQ:
		return d != e, nil
	case syntax.LT:
		return d < e, nil
	case syntax.LE:
		return d <= e, nil
	case syntax.GT:
		return d > e, nil
	case syntax.GE:
		return d >= e, nil
	}
	return false, fmt.Errorf("unsupported comparison %s", op)
}

// Unary implements -d and +d.
func (d Duration) Unary(op syntax.Token) (starlark.Value, error) {
	switch op {
	case syntax.MINUS:
		if d == math.MinInt64 {
			return nil, fmt.Errorf("duration %s cannot be negated", time.Duration(d))
		}
		return -d, nil
	case syntax.PLUS:
		return d, nil
	}
	return nil, nil
}

// Binary implements duration arithmetic.
func (d Duration) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	if e, ok := y.(Duration); ok {
		switch op {
		case syntax.PLUS:
			return sum(d, e)
		case syntax.MINUS:
			if side == starlark.Left {
				return sum(d, -e)
			}
			return sum(e, -d)
		case syntax.SLASH:
			if side == starlark.Left {
				if e == 0 {
					return nil, fmt.Errorf("duration division by zero")
				}
				return starlark.Float(float64(d) / float64(e)), nil
			}
			if d == 0 {
				return nil, fmt.Errorf("duration division by zero")
			}
			return starlark.Float(float64(e) / float64(d)), nil
		}
		return nil, nil
	}
	f, ok := starlark.AsFloat(y)
	if !ok {
		return nil, nil
	}
	switch op {
	case syntax.STAR:
		return scale(d, f)
	case syntax.SLASH:
		if side == starlark.Left {
			if f == 0 {
				return nil, fmt.Errorf("duration division by zero")
			}
			return scale(d, 1/f)
		}
	}
	return nil, nil
}

// sum and scale refuse results beyond about 292 years, which a
// time.Duration cannot hold (clock.Span).
func sum(a, b Duration) (starlark.Value, error) {
	if b == math.MinInt64 { // -b would wrap
		return nil, fmt.Errorf("duration %s cannot be negated", time.Duration(b))
	}
	d, err := clock.Sum(time.Duration(a), time.Duration(b))
	return Duration(d), err
}

func scale(a Duration, f float64) (starlark.Value, error) {
	d, err := clock.Scale(time.Duration(a), f)
	return Duration(d), err
}

// durationText renders d: with precision < 0 rounded to four significant
// digits (Go's notation, trailing zeros dropped); otherwise with precision
// digits after the point in its largest unit ("54.10ms" for 2), minutes
// and hours in Go's notation with the seconds rounded to precision.
func durationText(d Duration, precision int) string {
	a := time.Duration(d)
	sign := ""
	if a < 0 {
		sign, a = "-", -a
	}
	if precision < 0 {
		if a >= 10000 {
			step := time.Duration(math.Pow10(int(math.Floor(math.Log10(float64(a)))) - 3))
			a = a.Round(step)
		}
		return sign + a.String()
	}
	unit := func(scale float64, name string) string {
		return sign + strconv.FormatFloat(float64(a)/scale, 'f', precision, 64) + name
	}
	switch {
	case a >= time.Minute:
		step := time.Second
		for i := 0; i < precision && step > 1; i++ {
			step /= 10
		}
		return sign + a.Round(step).String()
	case a >= time.Second:
		return unit(1e9, "s")
	case a >= time.Millisecond:
		return unit(1e6, "ms")
	case a >= time.Microsecond:
		return unit(1e3, "µs")
	}
	return sign + strconv.FormatInt(int64(a), 10) + "ns"
}

// asDuration converts a script value to a time.Duration: a Duration, a
// string Go's time.ParseDuration accepts ("250ms", "1m30s"), or a number of
// seconds. what names the argument in the error.
func asDuration(v starlark.Value, what string) (time.Duration, error) {
	switch x := v.(type) {
	case Duration:
		return time.Duration(x), nil
	case starlark.String:
		d, err := clock.ParseSpan(string(x))
		if clock.IsTooLong(err) {
			return 0, fmt.Errorf("%s: %v", what, err)
		}
		if err != nil {
			return 0, fmt.Errorf("%s: want a duration like \"250ms\" or \"2s\", got %q", what, string(x))
		}
		return d, nil
	case starlark.Int, starlark.Float:
		f, _ := starlark.AsFloat(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("%s: want a finite number of seconds, got %v", what, f)
		}
		d, err := clock.Seconds(f)
		if err != nil {
			return 0, fmt.Errorf("%s: %v", what, err)
		}
		return d, nil
	}
	return 0, fmt.Errorf("%s: want a duration (\"250ms\", ms(250) or seconds), got %s", what, v.Type())
}

func durationBuiltin(name string, unit time.Duration) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var n starlark.Value
		if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 1, &n); err != nil {
			return nil, err
		}
		f, ok := starlark.AsFloat(n)
		if !ok {
			return nil, fmt.Errorf("%s: want a number, got %s", fn.Name(), n.Type())
		}
		d, err := clock.Span(f, unit)
		if err != nil {
			return nil, err // Starlark prefixes the builtin's name
		}
		return Duration(d), nil
	})
}
