package aiperfcli

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/internal/sweep"
)

// listKind is the value type of a magic-list flag.
type listKind uint8

const (
	intList   listKind = iota + 1 // values are int64
	floatList                     // values are float64
)

// listFlag is one of AIPerf's magic-list flags: a comma-separated value
// turns the run into a sweep over that parameter.
type listFlag struct {
	param string // sweep parameter and cell-name prefix, e.g. "concurrency"
	flag  string // the flag, for messages
	kind  listKind
	min   float64 // smallest accepted value
	// open makes min exclusive (rates and durations must be > 0).
	open bool
}

// listFlags are the magic-list flags in sweep-parameter order (the first
// varies slowest in a grid).
var listFlags = []listFlag{
	{param: "concurrency", flag: "concurrency", kind: intList, min: 1},
	{param: "request_rate", flag: "request-rate", kind: floatList, min: 0, open: true},
	{param: "num_users", flag: "num-users", kind: intList, min: 1},
	{param: "isl", flag: "isl", kind: intList, min: 1},
	{param: "isl_stddev", flag: "isl-stddev", kind: floatList, min: 0},
	{param: "osl", flag: "osl", kind: intList, min: 1},
	{param: "osl_stddev", flag: "osl-stddev", kind: floatList, min: 0},
	{param: "conversation_turn_mean", flag: "conversation-turn-mean", kind: floatList, min: 1},
	{param: "num_conversations", flag: "conversation-num", kind: intList, min: 1},
	{param: "request_count", flag: "request-count", kind: intList, min: 1},
	{param: "benchmark_duration", flag: "benchmark-duration", kind: floatList, min: 0, open: true},
}

// text is the flag's value as given.
func (l listFlag) text(f *Flags) string {
	return reflect.ValueOf(f).Elem().FieldByIndex(flagFields[l.flag]).String()
}

// listFlagOf returns the magic-list flag --name.
func listFlagOf(name string) (listFlag, bool) {
	for _, l := range listFlags {
		if l.flag == name {
			return l, true
		}
	}
	return listFlag{}, false
}

func isListFlag(name string) bool { _, ok := listFlagOf(name); return ok }

// sweepFlags are the magic-list flags, space-separated, in listFlags order.
var sweepFlags = func() string {
	names := make([]string, len(listFlags))
	for i, l := range listFlags {
		names[i] = l.flag
	}
	return strings.Join(names, " ")
}()

// parse reads the flag's comma-separated values; nil when the flag is not given.
func (l listFlag) parse(f *Flags) ([]any, error) {
	raw := strings.TrimSpace(l.text(f))
	if raw == "" {
		return nil, nil
	}
	raw = strings.TrimSuffix(strings.TrimPrefix(raw, "["), "]")
	var out []any
	for _, part := range strings.Split(raw, ",") {
		s := strings.TrimSpace(part)
		if s == "" {
			return nil, usage(l.flag, "empty value in %q (expected a number or a comma-separated list such as 8,16,32)", l.text(f))
		}
		var v any
		var x float64
		switch l.kind {
		case intList:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				// AIPerf accepts "8.0" for integer options.
				fv, ferr := strconv.ParseFloat(s, 64)
				if ferr != nil || fv != math.Trunc(fv) || math.Abs(fv) > 1<<53 {
					return nil, usage(l.flag, "%q is not a whole number", s)
				}
				n = int64(fv)
			}
			v, x = n, float64(n)
		case floatList:
			fv, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(fv) || math.IsInf(fv, 0) {
				return nil, usage(l.flag, "%q is not a number", s)
			}
			v, x = fv, fv
		}
		if l.open && x <= l.min {
			return nil, usage(l.flag, "must be > %s, got %s", fmtNum(l.min), s)
		}
		if !l.open && x < l.min {
			return nil, usage(l.flag, "must be >= %s, got %s", fmtNum(l.min), s)
		}
		out = append(out, v)
	}
	return out, nil
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// values holds the value of every given magic-list flag for one cell.
type values map[string]any

func (v values) has(param string) bool { _, ok := v[param]; return ok }

func (v values) int(param string) int64 {
	switch x := v[param].(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}

func (v values) float(param string) float64 {
	switch x := v[param].(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// expandLists parses every magic-list flag: params are the swept ones (more
// than one value), fixed the single-valued ones.
func expandLists(f *Flags) (params []sweep.Param, fixed values, err error) {
	fixed = values{}
	for _, l := range listFlags {
		vals, err := l.parse(f)
		if err != nil {
			return nil, nil, err
		}
		switch len(vals) {
		case 0:
		case 1:
			fixed[l.param] = vals[0]
		default:
			params = append(params, sweep.Param{Name: l.param, Values: vals})
		}
	}
	return params, fixed, nil
}

// flagOf returns the flag of a sweep parameter, for messages.
func flagOf(param string) string {
	for _, l := range listFlags {
		if l.param == param {
			return l.flag
		}
	}
	return param
}

func usage(flag, format string, args ...any) error {
	return errext.Errorf(errext.Usage, "--%s: %s", flag, fmt.Sprintf(format, args...))
}

func invalid(flag, format string, args ...any) error {
	return errext.Errorf(errext.InvalidConfig, "--%s: %s", flag, fmt.Sprintf(format, args...))
}
