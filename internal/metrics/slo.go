package metrics

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/errext"
)

// ParseGoodput parses AIPerf's --goodput syntax, "tag:value tag:value",
// values in each metric's display unit (ms for latencies, tokens/sec/user
// for per-user throughputs), into SLOs in base units. The comparison comes
// from the metric: >= for larger-is-better metrics, <= otherwise.
//
//	slos, err := metrics.ParseGoodput("time_to_first_token:500 inter_token_latency:50")
func ParseGoodput(s string) ([]config.SLO, error) {
	var out []config.SLO
	seen := map[string]bool{}
	for _, field := range strings.Fields(s) {
		tag, val, ok := strings.Cut(field, ":")
		if !ok || tag == "" || val == "" {
			return nil, fmt.Errorf("goodput: %q: expected tag:value, e.g. time_to_first_token:500", field)
		}
		d, err := sloDef(tag)
		if err != nil {
			return nil, fmt.Errorf("goodput: %w", err)
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("goodput: %s: value %q is not a number (in %s)", tag, val, d.Unit)
		}
		if seen[tag] {
			return nil, fmt.Errorf("goodput: %s given twice", tag)
		}
		seen[tag] = true
		out = append(out, config.SLO{Metric: tag, Op: defaultOp(d), Threshold: v / d.Scale, Source: field})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("goodput: empty; expected \"tag:value ...\", e.g. \"time_to_first_token:500\"")
	}
	return out, nil
}

// ParseSLO parses one objective of the scenario form, e.g. metric
// "time_to_first_token" with expr "<= 500ms", ">= 20" or "500ms". Durations
// take a unit (ns, us, µs, ms, s, m); bare numbers are in the metric's
// display unit. Without an operator the metric's direction decides.
func ParseSLO(metric, expr string) (config.SLO, error) {
	d, err := sloDef(metric)
	if err != nil {
		return config.SLO{}, err
	}
	src := strings.TrimSpace(expr)
	op, rest := "", src
	for _, o := range []string{"<=", ">=", "<", ">", "=="} {
		if strings.HasPrefix(src, o) {
			op, rest = o, strings.TrimSpace(src[len(o):])
			break
		}
	}
	switch op {
	case "":
		op = defaultOp(d)
	case "<", ">", "==":
		return config.SLO{}, fmt.Errorf("slo %s: operator %s not supported; use <= or >= (objectives are inclusive)", metric, op)
	}
	if rest == "" {
		return config.SLO{}, fmt.Errorf("slo %s: %q has no value; expected e.g. \"<= 500ms\"", metric, expr)
	}
	base, err := parseSLOValue(d, rest)
	if err != nil {
		return config.SLO{}, fmt.Errorf("slo %s: %w", metric, err)
	}
	return config.SLO{Metric: metric, Op: op, Threshold: base, Source: metric + " " + src}, nil
}

// parseSLOValue converts "500ms", "1.5s" or "500" to the metric's base unit.
func parseSLOValue(d Def, s string) (float64, error) {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("value %q is not a finite number", s)
		}
		return v / d.Scale, nil
	}
	if d.BaseUnit != unitNs {
		return 0, fmt.Errorf("value %q is not a number (in %s)", s, d.Unit)
	}
	dur, err := time.ParseDuration(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		return 0, fmt.Errorf("value %q is neither a number (in %s) nor a duration like 500ms", s, d.Unit)
	}
	return float64(dur.Nanoseconds()), nil
}

func defaultOp(d Def) string {
	if d.Flags.Has(LargerIsBetter) {
		return ">="
	}
	return "<="
}

// sloDef returns the definition of a metric usable in an SLO: a scalar
// record metric.
func sloDef(tag string) (Def, error) {
	if i := recordIndex(tag); i >= 0 && !recordDefs[i].Flags.Has(ErrorOnly) {
		return recordDefs[i], nil
	}
	var names []string
	for _, d := range recordDefs {
		if !d.Flags.Has(ErrorOnly) {
			names = append(names, d.Tag)
		}
	}
	sort.Strings(names)
	if hint := errext.DidYouMean(tag, names); hint != "" {
		return Def{}, fmt.Errorf("unknown metric %q for an SLO%s", tag, hint)
	}
	return Def{}, fmt.Errorf("unknown metric %q for an SLO; expected a per-request metric: %s", tag, strings.Join(names, ", "))
}

// slo is an SLO compiled against the metric table.
type slo struct {
	id        int
	atLeast   bool
	threshold float64
}

func compileSLOs(list []config.SLO, app Applicability) ([]slo, error) {
	out := make([]slo, 0, len(list))
	for _, s := range list {
		d, err := sloDef(s.Metric)
		if err != nil {
			return nil, fmt.Errorf("slos: %w", err)
		}
		if !app.Applies(d.Flags) {
			return nil, fmt.Errorf("slos: %s is not measured in this run (%s)", s.Metric, whyNot(d.Flags, app))
		}
		if s.Op != "<=" && s.Op != ">=" {
			return nil, fmt.Errorf("slos: %s: operator must be <= or >=, got %q", s.Metric, s.Op)
		}
		out = append(out, slo{id: recordIndex(s.Metric), atLeast: s.Op == ">=", threshold: s.Threshold})
	}
	return out, nil
}

func whyNot(f Flag, app Applicability) string {
	switch {
	case f.Has(StreamingOnly) && !app.Streaming:
		return "it needs streaming"
	case f.Has(ProducesTokensOnly) && !app.ProducesTokens:
		return "the endpoint produces no tokens"
	case f.Has(TokenizesInputOnly) && !app.TokenizesInput:
		return "the endpoint does not tokenize input"
	}
	return "not applicable"
}

// good reports whether v meets every SLO. A missing value fails.
func good(slos []slo, v *[NumRecordMetrics]float64) bool {
	for _, s := range slos {
		x := v[s.id]
		if math.IsNaN(x) {
			return false
		}
		if s.atLeast && x < s.threshold || !s.atLeast && x > s.threshold {
			return false
		}
	}
	return true
}
