package compare

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/metrics"
)

// Limit is the largest acceptable change of one statistic, in percent of
// the base value: `time_to_first_token.p99=+5%` fails when p99 TTFT rose by
// more than 5 %, `output_token_throughput=-3%` when throughput fell by more
// than 3 %, `request_latency=5%` when it moved by more than 5 % either way.
type Limit struct {
	Tag, Stat string
	Pct       float64 // > 0
	// Direction: +1 an increase crosses it, −1 a decrease, 0 either.
	Direction int
	Text      string
}

func (l Limit) String() string { return l.Text }

// aliases are short metric names accepted in limits.
var aliases = map[string]string{
	"ttft": "time_to_first_token", "itl": "inter_token_latency", "latency": "request_latency",
	"throughput": "request_throughput", "token_throughput": "output_token_throughput",
	"error_rate": "request_error_rate",
}

// ParseLimit reads `metric[.stat]=[+|-|±]N%`. stat is avg, min, max, std,
// p1 … p99 (default avg) for per-request metrics and value for single-value
// ones; metric is a metric tag or ttft, itl, latency, throughput,
// token_throughput, error_rate.
func ParseLimit(s string) (Limit, error) {
	name, val, ok := strings.Cut(s, "=")
	if !ok {
		return Limit{}, fmt.Errorf("limit %q: expected metric[.stat]=+N%% (e.g. time_to_first_token.p99=+5%%)", s)
	}
	tag, stat, _ := strings.Cut(strings.TrimSpace(name), ".")
	if a, ok := aliases[tag]; ok {
		tag = a
	}
	def, known := metrics.Lookup(tag)
	if !known {
		return Limit{}, fmt.Errorf("limit %q: unknown metric %q (a metric tag such as time_to_first_token, or ttft, itl, latency, throughput, token_throughput, error_rate)", s, tag)
	}
	switch {
	case def.Kind != results.RecordMetric:
		if stat != "" && stat != "value" && stat != "avg" {
			return Limit{}, fmt.Errorf("limit %q: %s has a single value; leave out the statistic", s, tag)
		}
		stat = "value"
	case stat == "":
		stat = "avg"
	default:
		if _, ok := (&results.Stats{}).Get(stat); !ok || stat == "count" || stat == "sum" {
			return Limit{}, fmt.Errorf("limit %q: unknown statistic %q (avg, min, max, std, p1, p5, p10, p25, p50, p75, p90, p95, p99)", s, stat)
		}
	}
	v := strings.TrimSpace(val)
	l := Limit{Tag: tag, Stat: stat, Text: strings.TrimSpace(s)}
	switch {
	case strings.HasPrefix(v, "+"):
		l.Direction, v = 1, v[1:]
	case strings.HasPrefix(v, "-"):
		l.Direction, v = -1, v[1:]
	case strings.HasPrefix(v, "±"):
		v = strings.TrimPrefix(v, "±")
	}
	if !strings.HasSuffix(v, "%") {
		return Limit{}, fmt.Errorf("limit %q: the change must be a percentage, e.g. +5%%", s)
	}
	pct, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
	if err != nil || pct <= 0 || math.IsInf(pct, 0) {
		return Limit{}, fmt.Errorf("limit %q: %q is not a positive percentage", s, val)
	}
	l.Pct = pct
	return l, nil
}

// CrossedBy reports whether a row's change crosses the limit. A change
// whose significance is known must also be significant: noise never fails
// a comparison.
func (l Limit) CrossedBy(r Row) bool {
	if math.IsNaN(r.ChangePct) {
		return false
	}
	beyond := false
	switch l.Direction {
	case 1:
		beyond = r.ChangePct > l.Pct
	case -1:
		beyond = r.ChangePct < -l.Pct
	default:
		beyond = math.Abs(r.ChangePct) > l.Pct
	}
	return beyond && (!r.Tested() || r.Significant)
}
