package aiperfcli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/export"
	"github.com/loadstar/loadstar/internal/sweep"
)

// StepFunc runs one benchmark and returns its summary. The command passes
// builtins.RunStep on a scenario thread, so that a profile step is handled
// exactly as a scenario's run() (engine, console report, thresholds, exit
// codes).
type StepFunc func(ctx context.Context, cfg *config.Benchmark) (*results.Summary, error)

// Execute runs the plan's steps in the order the emitted scenario runs
// them, with the same artifact directories: one benchmark; repeated trials
// in <base>/profile_runs/run_NNNN/ plus <base>/aggregate/; or a sweep in
// <base>/<param>_<value>/ (…/trial_NNNN/ with trials) plus
// <base>/sweep_summary.{csv,json}. Summary paths are printed to out.
//
// A base directory holding an earlier run's files is not reused: the runs
// go beside it (<base>-2, ...), as a scenario's sweep() does, and out says
// where.
func (p *Plan) Execute(ctx context.Context, step StepFunc, out io.Writer) error {
	if len(p.params) == 0 && p.trials < 2 {
		_, err := step(ctx, cloneConfig(p.cells[0].Config))
		return err
	}
	base, err := export.ClaimDir(p.baseDir, false)
	if err != nil {
		return errext.Errorf(errext.InvalidConfig, "artifact directory: %v", err)
	}
	if base != p.baseDir {
		fmt.Fprintf(out, "%s holds an earlier run: writing to %s\n", p.baseDir, base)
	}
	if len(p.params) == 0 {
		return p.executeTrials(ctx, step, out, base)
	}
	return p.executeSweep(ctx, step, out, base)
}

func (p *Plan) executeTrials(ctx context.Context, step StepFunc, out io.Writer, base string) error {
	var sums []*results.Summary
	for t := 1; t <= p.trials; t++ {
		if t > 1 {
			if err := sweep.Cooldown(ctx, p.cooldown); err != nil {
				return err
			}
		}
		if err := interrupted(ctx); err != nil {
			return p.finishedTrials(sums, out, err)
		}
		cfg := cloneConfig(p.cells[0].Config)
		cfg.Output.ArtifactDir = trialDir(base, t)
		if t > 1 && !p.warmupEveryTrial {
			cfg.Warmup = nil // AIPerf warms up before the first trial only
		}
		if p.varySeed {
			cfg.Seed += uint64(t - 1)
		}
		sum, err := step(ctx, cfg)
		if err == nil {
			err = interrupted(ctx) // the trial was cut short: left out
		}
		if err != nil {
			return p.finishedTrials(sums, out, err)
		}
		sums = append(sums, sum)
	}
	jsonPath, err := writeAggregate(filepath.Join(base, "aggregate"), sums, p.confidence)
	if err != nil {
		return errext.Errorf(errext.Generic, "writing the aggregate over trials: %v", err)
	}
	fmt.Fprintf(out, "Aggregate over %d trials: %s\n", len(sums), jsonPath)
	return nil
}

// finishedTrials ends repeated trials that err stopped: after Ctrl-C the
// trials that finished still get their aggregate.
func (p *Plan) finishedTrials(sums []*results.Summary, out io.Writer, err error) error {
	if errext.ExitCodeOf(err) != errext.Interrupted || len(sums) == 0 {
		return err
	}
	jsonPath, werr := writeAggregate(filepath.Join(p.baseDir, "aggregate"), sums, p.confidence)
	if werr != nil {
		return errors.Join(err, fmt.Errorf("writing the aggregate over the finished trials: %w", werr))
	}
	fmt.Fprintf(out, "Aggregate over %d finished trials (interrupted): %s\n", len(sums), jsonPath)
	return err
}

// executeSweep mirrors the sweep() builtin: cells in order, each cell's
// trials back to back, a cooldown before every step but the first.
func (p *Plan) executeSweep(ctx context.Context, step StepFunc, out io.Writer, base string) error {
	var rows []sweep.Row
	for ci, c := range p.cells {
		row := sweep.Row{Cell: c.Cell}
		for t := 1; t <= p.trials; t++ {
			if ci > 0 || t > 1 {
				if err := sweep.Cooldown(ctx, p.cooldown); err != nil {
					return p.finishedSteps(rows, out, err)
				}
			}
			if err := interrupted(ctx); err != nil {
				return p.finishedSteps(rows, out, err)
			}
			cfg := cloneConfig(c.Config)
			if cfg.Name == "" {
				cfg.Name = c.Name
			}
			dir := filepath.Join(base, c.Name)
			if p.trials > 1 {
				dir = filepath.Join(dir, fmt.Sprintf("trial_%04d", t))
			}
			cfg.Output.ArtifactDir = dir
			sum, err := step(ctx, cfg)
			if err == nil {
				err = interrupted(ctx) // the step was cut short: left out
			}
			if err != nil {
				return p.finishedSteps(rows, out, err)
			}
			row.Trials = append(row.Trials, sum)
		}
		rows = append(rows, row)
	}
	csvPath, _, err := sweep.WriteSummary(base, p.paramNames(), rows, p.confidence)
	if err != nil {
		return errext.Errorf(errext.Generic, "writing the sweep summary: %v", err)
	}
	fmt.Fprintf(out, "Sweep summary: %s\n", csvPath)
	return nil
}

// finishedSteps ends a sweep that err stopped: after Ctrl-C the steps that
// finished still get their sweep summary.
func (p *Plan) finishedSteps(rows []sweep.Row, out io.Writer, err error) error {
	if errext.ExitCodeOf(err) != errext.Interrupted || len(rows) == 0 {
		return err
	}
	notRun := make([]sweep.Cell, 0, len(p.cells)-len(rows))
	for _, c := range p.cells[len(rows):] {
		notRun = append(notRun, c.Cell)
	}
	csvPath, _, werr := sweep.WriteSummary(p.baseDir, p.paramNames(), rows, p.confidence,
		sweep.Incomplete(firstLine(err), notRun))
	if werr != nil {
		return errors.Join(err, fmt.Errorf("writing the summary of the finished steps: %w", werr))
	}
	fmt.Fprintf(out, "Sweep summary (interrupted; %d of %d steps finished): %s\n", len(rows), len(p.cells), csvPath)
	return err
}

// firstLine is the first line of err's message, for a summary's reason.
func firstLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// trialDir is AIPerf's directory of trial t of a repeated benchmark.
func trialDir(base string, t int) string {
	return filepath.Join(base, "profile_runs", fmt.Sprintf("run_%04d", t))
}

// cloneConfig copies what Execute changes per step.
func cloneConfig(c *config.Benchmark) *config.Benchmark {
	cp := *c
	if c.Warmup != nil {
		w := *c.Warmup
		cp.Warmup = &w
	}
	cp.SLOs = append([]config.SLO(nil), c.SLOs...)
	return &cp
}

// interrupted stops a sweep or trials once Ctrl-C cancelled ctx: the
// interrupted step kept its results; the next ones do not start.
func interrupted(ctx context.Context) error {
	if ctx.Err() != nil {
		return errext.WithExitCode(context.Cause(ctx), errext.Interrupted)
	}
	return nil
}

// aggregateStats are the statistics of a record metric aggregated over trials.
var aggregateStats = []string{"avg", "min", "max", "std", "p50", "p90", "p95", "p99"}

// metricAggregate is one metric's statistics aggregated over trials.
type metricAggregate struct {
	tag, unit string
	stats     []string
	aggs      map[string]sweep.Aggregate
}

// writeAggregate writes dir/profile_export_aiperf_aggregate.json and .csv:
// for every metric present in every trial, each statistic's mean, standard
// deviation, min, max, coefficient of variation, standard error and
// Student-t confidence interval over the trials (AIPerf's multi-run
// aggregate). It returns the JSON path.
func writeAggregate(dir string, sums []*results.Summary, confidence float64) (string, error) {
	aggs := aggregateTrials(sums, confidence)
	js, err := aggregateJSON(sums, aggs, confidence)
	if err != nil {
		return "", err
	}
	jsonPath := filepath.Join(dir, "profile_export_aiperf_aggregate.json")
	if err := export.WriteFileAtomic(jsonPath, js); err != nil {
		return "", err
	}
	if err := export.WriteFileAtomic(filepath.Join(dir, "profile_export_aiperf_aggregate.csv"), aggregateCSV(aggs)); err != nil {
		return "", err
	}
	return jsonPath, nil
}

// aggregateTrials aggregates, by metric tag, the statistics every trial has.
func aggregateTrials(sums []*results.Summary, confidence float64) []metricAggregate {
	tags := map[string]int{}
	for _, s := range sums {
		for _, m := range s.Metrics {
			tags[m.Tag]++
		}
	}
	var order []string
	for t, n := range tags {
		if n == len(sums) {
			order = append(order, t)
		}
	}
	sort.Strings(order)
	var out []metricAggregate
	for _, tag := range order {
		first := sums[0].Metric(tag)
		ma := metricAggregate{tag: tag, unit: first.Unit, aggs: map[string]sweep.Aggregate{}}
		stats := []string{"avg"}
		if first.Stats != nil {
			stats = aggregateStats
		}
		for _, st := range stats {
			var xs []float64
			for _, s := range sums {
				v, ok := sweep.MetricValue(s, tag, st)
				if ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
					xs = append(xs, v)
				}
			}
			if len(xs) == len(sums) {
				ma.stats = append(ma.stats, st)
				ma.aggs[st] = sweep.Summarize(xs, confidence)
			}
		}
		if len(ma.stats) > 0 {
			out = append(out, ma)
		}
	}
	return out
}

// aggregateJSON renders {"metrics": {tag: {"unit": u, stat: aggregate, ...}}, ...}.
func aggregateJSON(sums []*results.Summary, aggs []metricAggregate, confidence float64) ([]byte, error) {
	var js strings.Builder
	runs := make([]string, len(sums))
	for i, s := range sums {
		runs[i] = s.Info.ArtifactDir
	}
	head, _ := json.Marshal(runs)
	fmt.Fprintf(&js, "{\n  \"schema_version\": \"1.0\",\n  \"num_runs\": %d,\n  \"confidence_level\": %s,\n  \"run_dirs\": %s,\n  \"metrics\": {", len(sums), strconv.FormatFloat(confidence, 'g', -1, 64), head)
	for i, ma := range aggs {
		if i > 0 {
			js.WriteString(",")
		}
		unit, _ := json.Marshal(ma.unit)
		fmt.Fprintf(&js, "\n    %q: {\n      \"unit\": %s", ma.tag, unit)
		for _, st := range ma.stats {
			b, err := json.Marshal(jsonAggregate(ma.aggs[st]))
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&js, ",\n      %q: %s", st, b)
		}
		js.WriteString("\n    }")
	}
	js.WriteString("\n  }\n}\n")
	return []byte(js.String()), nil
}

// aggregateCSV renders one row per metric and statistic.
func aggregateCSV(aggs []metricAggregate) []byte {
	rows := [][]string{{"Metric", "Unit", "Stat", "mean", "std", "min", "max", "cv", "std_err", "ci_low", "ci_high", "t_critical"}}
	for _, ma := range aggs {
		for _, st := range ma.stats {
			a := ma.aggs[st]
			rows = append(rows, []string{ma.tag, ma.unit, st, num(a.Mean), num(a.Std), num(a.Min), num(a.Max), num(a.CV), num(a.StdErr), num(a.CILow), num(a.CIHigh), num(a.TCritical)})
		}
	}
	var c strings.Builder
	for _, row := range rows {
		c.WriteString(strings.Join(row, ","))
		c.WriteString("\r\n")
	}
	return []byte(c.String())
}

// jsonAggregate writes NaN and infinite values (one trial's CI) as null.
func jsonAggregate(a sweep.Aggregate) map[string]any {
	f := func(v float64) any {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return v
	}
	return map[string]any{
		"n": a.N, "mean": f(a.Mean), "std": f(a.Std), "min": f(a.Min), "max": f(a.Max), "cv": f(a.CV),
		"std_err": f(a.StdErr), "ci_low": f(a.CILow), "ci_high": f(a.CIHigh), "t_critical": f(a.TCritical), "confidence": a.Confidence,
	}
}

func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
