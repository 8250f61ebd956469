package results

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/config"
)

// ThresholdExpr is a parsed threshold expression such as "p99 < 500ms".
//
// Grammar (whitespace between parts is optional):
//
//	expr  = stat op value
//	stat  = avg | min | max | std | sum | count | value | med | median
//	      | p1 | p5 | p10 | p25 | p50 | p75 | p90 | p95 | p99 | p(N) with N one of those
//	op    = < | <= | > | >= | == | !=
//	value = number [unit]
//	unit  = ns | us | µs | ms | s | sec | m | min | h     (durations, converted to the metric's unit)
//	      | %                                             (percent metrics, e.g. request_error_rate)
//	      | a bare number is in the metric's display unit (ms for latencies, tokens/sec, ...)
//
// `value` reads the single value of aggregate and derived metrics
// (request_throughput, goodput, request_error_rate, ...); `avg` works for both.
type ThresholdExpr struct {
	Stat  string
	Op    string
	Value float64
	// DurationNs is set when the value carried a time unit; it is converted
	// to the metric's display unit when evaluated.
	DurationNs  float64
	HasDuration bool
	Percent     bool
	Source      string
}

var thresholdStats = map[string]string{
	"avg": "avg", "min": "min", "max": "max", "std": "std", "sum": "sum", "count": "count",
	"value": "value", "med": "p50", "median": "p50",
	"p1": "p1", "p5": "p5", "p10": "p10", "p25": "p25", "p50": "p50", "p75": "p75", "p90": "p90", "p95": "p95", "p99": "p99",
}

var timeUnits = map[string]float64{
	"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "sec": 1e9, "m": 60e9, "min": 60e9, "h": 3600e9,
}

// ParseThreshold parses a threshold expression; errors say what was expected.
func ParseThreshold(src string) (ThresholdExpr, error) {
	e := ThresholdExpr{Source: src}
	s := strings.TrimSpace(src)
	i := 0
	for i < len(s) && (unicode.IsLetter(rune(s[i])) || unicode.IsDigit(rune(s[i])) || s[i] == '(' || s[i] == ')' || s[i] == '.') {
		i++
	}
	stat := strings.ToLower(s[:i])
	if strings.HasPrefix(stat, "p(") && strings.HasSuffix(stat, ")") {
		stat = "p" + stat[2:len(stat)-1]
	}
	canon, ok := thresholdStats[stat]
	if !ok {
		return e, fmt.Errorf("threshold %q: unknown statistic %q; want one of avg, min, max, std, sum, count, value, med, p1, p5, p10, p25, p50, p75, p90, p95, p99 (or p(N))", src, s[:i])
	}
	e.Stat = canon
	s = strings.TrimSpace(s[i:])
	for _, op := range []string{"<=", ">=", "==", "!=", "<", ">"} {
		if strings.HasPrefix(s, op) {
			e.Op = op
			s = strings.TrimSpace(s[len(op):])
			break
		}
	}
	if e.Op == "" {
		return e, fmt.Errorf("threshold %q: want an operator (<, <=, >, >=, ==, !=) after %q", src, canon)
	}
	j := 0
	for j < len(s) && (s[j] == '-' || s[j] == '+' || s[j] == '.' || s[j] == 'e' && j > 0 && j+1 < len(s) && (s[j+1] == '-' || s[j+1] == '+' || unicode.IsDigit(rune(s[j+1]))) || unicode.IsDigit(rune(s[j]))) {
		j++
	}
	num, err := strconv.ParseFloat(s[:j], 64)
	if err != nil || math.IsNaN(num) || math.IsInf(num, 0) {
		return e, fmt.Errorf("threshold %q: want a number after %q, got %q", src, e.Op, s)
	}
	unit := strings.TrimSpace(s[j:])
	switch {
	case unit == "":
		e.Value = num
	case unit == "%":
		e.Value, e.Percent = num, true
	default:
		scale, ok := timeUnits[unit]
		if !ok {
			return e, fmt.Errorf("threshold %q: unknown unit %q; want a time unit (ns, us, ms, s, m, h), %% or none", src, unit)
		}
		// The one duration rule (engine/clock): beyond about 292 years is
		// refused, not compared as +Inf.
		if _, err := clock.Span(num, time.Duration(scale)); err != nil {
			return e, fmt.Errorf("threshold %q: %w", src, err)
		}
		e.DurationNs, e.HasDuration = num*scale, true
	}
	return e, nil
}

// displayScale is ns per display unit for time units.
var displayScale = map[string]float64{"ns": 1, "us": 1e3, "ms": 1e6, "sec": 1e9, "s": 1e9}

// CheckUnit reports whether the expression's value can be compared with a
// metric shown in unit.
func (e ThresholdExpr) CheckUnit(metric, unit string) error {
	if e.HasDuration {
		if _, ok := displayScale[unit]; !ok {
			return fmt.Errorf("threshold %q on %s: a duration cannot be compared with a metric in %s", e.Source, metric, unit)
		}
	}
	if e.Percent && unit != "%" {
		return fmt.Errorf("threshold %q on %s: a percentage cannot be compared with a metric in %s", e.Source, metric, unit)
	}
	return nil
}

// Evaluate checks the threshold against the summary.
func EvaluateThreshold(s *Summary, t config.Threshold) ThresholdResult {
	res := ThresholdResult{Threshold: t}
	e, err := ParseThreshold(t.Expr)
	if err != nil {
		res.Message = err.Error()
		return res
	}
	m := s.Metric(t.Metric)
	if m == nil {
		res.Message = fmt.Sprintf("%s: metric not computed in this run, so %q fails", t.Metric, t.Expr)
		return res
	}
	if err := e.CheckUnit(t.Metric, m.Unit); err != nil {
		res.Message = err.Error()
		return res
	}
	var actual float64
	if m.Stats == nil {
		if e.Stat != "value" && e.Stat != "avg" {
			res.Message = fmt.Sprintf("%s has a single value; use `value` or `avg`, not %s", t.Metric, e.Stat)
			return res
		}
		actual = m.Value
	} else {
		stat := e.Stat
		if stat == "value" {
			stat = "avg"
		}
		actual, _ = m.Stats.Get(stat)
	}
	if math.IsNaN(actual) {
		res.Message = fmt.Sprintf("%s FAILED: %s is not available (a server histogram gives avg, count, sum and p1…p99 estimates, not min, max or std)", t.Metric, e.Stat)
		return res
	}
	want := e.Value
	if e.HasDuration {
		want = e.DurationNs / displayScale[m.Unit]
	}
	res.Actual, res.Stat, res.Unit = actual, e.Stat, m.Unit
	switch e.Op {
	case "<":
		res.Passed = actual < want
	case "<=":
		res.Passed = actual <= want
	case ">":
		res.Passed = actual > want
	case ">=":
		res.Passed = actual >= want
	case "==":
		res.Passed = actual == want
	case "!=":
		res.Passed = actual != want
	}
	verdict := "passed"
	if !res.Passed {
		verdict = "FAILED"
	}
	res.Message = fmt.Sprintf("%s %s: %s = %s %s (want %s %s %s)", t.Metric, verdict, e.Stat, FormatSignificant(actual, 6), m.Unit, e.Op, FormatSignificant(want, 6), m.Unit)
	return res
}

// FormatSignificant writes x rounded to digits significant digits, without
// an exponent or trailing zeros, for people to read in messages and CSV
// cells: FormatSignificant(282.1790920899999, 6) is "282.179", of 2000 "2000",
// of 0.000123456789 "0.000123457". The integer part is never rounded away
// (1234567.89 is "1234568"). NaN and ±Inf print as Go prints them.
func FormatSignificant(x float64, digits int) string {
	if math.Abs(x) >= math.Pow(10, float64(digits)) {
		return strconv.FormatFloat(math.Round(x), 'f', 0, 64)
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', digits, 64), 64)
	if err != nil {
		r = x
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}
