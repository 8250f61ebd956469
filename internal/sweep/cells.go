// Package sweep runs a benchmark over many parameter values and finds the
// largest load that meets objectives. It holds what the scenario builtins
// (sweep, search) and `loadstar profile`'s comma lists share: cell expansion
// and naming, repeated-trial statistics with confidence intervals, the
// combined summary files, and the bracketing-then-bisection search.
package sweep

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/errext"
)

// Mode is how parameter lists combine.
type Mode string

const (
	// Grid takes the Cartesian product (the first parameter varies slowest).
	Grid Mode = "grid"
	// Zip takes the i-th value of every list together; lists must be equally long.
	Zip Mode = "zip"
)

// Param is one swept parameter and its values.
type Param struct {
	Name   string
	Values []any
}

// Value is one parameter's value in a cell.
type Value struct {
	Name  string
	Value any
	// Index is the value's position in its parameter's list.
	Index int
}

// Cell is one combination of parameter values.
type Cell struct {
	Index  int
	Values []Value
	// Name labels the cell and its artifact subdirectory, e.g.
	// "concurrency_8" or "isl_512-osl_128" (AIPerf's <param>_<value> layout).
	Name string
}

// Cells expands params by mode.
func Cells(params []Param, mode Mode) ([]Cell, error) {
	if len(params) == 0 {
		return nil, fmt.Errorf("sweep: no parameters to sweep")
	}
	for _, p := range params {
		if len(p.Values) == 0 {
			return nil, fmt.Errorf("sweep: parameter %q has no values", p.Name)
		}
	}
	var combos [][]Value
	switch mode {
	case Grid, "":
		combos = [][]Value{nil}
		for _, p := range params {
			var next [][]Value
			for _, c := range combos {
				for i, v := range p.Values {
					cc := append(append([]Value(nil), c...), Value{p.Name, v, i})
					next = append(next, cc)
				}
			}
			combos = next
		}
	case Zip:
		n := len(params[0].Values)
		for _, p := range params[1:] {
			if len(p.Values) != n {
				return nil, fmt.Errorf("sweep: zip needs lists of equal length: %s has %d values, %s has %d", params[0].Name, n, p.Name, len(p.Values))
			}
		}
		for i := 0; i < n; i++ {
			var c []Value
			for _, p := range params {
				c = append(c, Value{p.Name, p.Values[i], i})
			}
			combos = append(combos, c)
		}
	default:
		return nil, fmt.Errorf("sweep: mode must be %q or %q, got %q", Grid, Zip, mode)
	}
	cells := make([]Cell, len(combos))
	seen := map[string]int{}
	for i, c := range combos {
		name := cellName(c)
		if j, dup := seen[name]; dup {
			return nil, fmt.Errorf("sweep: cells %d and %d have the same label %q; sweep distinct values", j, i, name)
		}
		seen[name] = i
		cells[i] = Cell{Index: i, Values: c, Name: name}
	}
	return cells, nil
}

// Labeled is a swept value whose label in step names differs from its text
// in summaries: a plugin swept whole (timing.concurrency(concurrency = 8))
// is labelled by what changes between the values ("concurrency_8").
type Labeled struct {
	Text, Label string
}

// String is the value's text, as the summaries show it.
func (l Labeled) String() string { return l.Text }

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._+-]+`)

// cellName renders values as "<name>_<value>" parts joined by "-"; a
// Labeled value stands for itself ("concurrency_8", not
// "timing_timing.concurrency_concurrency_8").
func cellName(values []Value) string {
	parts := make([]string, len(values))
	for i, v := range values {
		if l, ok := v.Value.(Labeled); ok {
			parts[i] = l.Label
			continue
		}
		parts[i] = v.Name + "_" + FormatValue(v.Value)
	}
	name := strings.Trim(unsafeName.ReplaceAllString(strings.Join(parts, "-"), "_"), "_")
	if len(name) > 120 {
		name = name[:120]
	}
	if strings.Trim(name, ".") == "" { // never ".", ".." or empty: a folder outside the sweep's
		name = "cell" + name
	}
	return name
}

// FormatValue renders a swept value compactly for labels and CSV cells.
func FormatValue(v any) string {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = FormatValue(e)
		}
		return strings.Join(parts, "x")
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

// Cooldown pauses between steps for d, or until ctx ends (Ctrl-C), in which
// case it returns ctx's error marked errext.Interrupted.
func Cooldown(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return errext.WithExitCode(context.Cause(ctx), errext.Interrupted)
	case <-t.C:
		return nil
	}
}
