package main

import (
	"fmt"
	"strings"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/internal/compare"
)

// CompareCmd compares two finished runs: every headline metric side by side,
// the change in percent, whether it is beyond run-to-run noise, and the
// limits it crosses (exit code 12), so that CI can gate a server change.
type CompareCmd struct {
	Base       string   `arg:"" help:"Artifact directory of the base run (or of the trials of one configuration)." type:"existingdir"`
	New        string   `arg:"" help:"Artifact directory of the new run." type:"existingdir"`
	Thresholds []string `name:"threshold" placeholder:"METRIC[.STAT]=+N%" help:"Fail (exit 12) when the statistic changes by more than N% in that direction (+ rise, - fall, none: either) and the change is significant; repeatable. E.g. time_to_first_token.p99=+5%, output_token_throughput=-3%."`
	Alpha      float64  `default:"0.05" help:"Significance level of the noise tests."`
	MinChange  float64  `name:"min-change" default:"2" placeholder:"PCT" help:"Smallest change, in percent, counted as significant (0: any)."`
}

// Run implements the command.
func (c *CompareCmd) Run(app *App) error {
	opt := compare.Options{Alpha: c.Alpha, MinChange: c.MinChange / 100}
	if c.MinChange == 0 {
		opt.MinChange = -1 // no minimum
	}
	if c.Alpha <= 0 || c.Alpha >= 1 {
		return errext.Errorf(errext.Usage, "--alpha %g: expected a level between 0 and 1, e.g. 0.05", c.Alpha)
	}
	for _, t := range c.Thresholds {
		l, err := compare.ParseLimit(t)
		if err != nil {
			return errext.WithExitCode(fmt.Errorf("--threshold: %w", err), errext.Usage)
		}
		opt.Limits = append(opt.Limits, l)
	}
	base, err := compare.Open(c.Base)
	if err != nil {
		return resultsError(err)
	}
	next, err := compare.Open(c.New)
	if err != nil {
		return resultsError(err)
	}
	rep, err := compare.Compare(base, next, opt)
	if err != nil {
		return err
	}
	if err := rep.WriteText(app.Stdout); err != nil {
		return err
	}
	if crossed := rep.Crossed(); len(crossed) > 0 {
		var names []string
		for _, r := range crossed {
			names = append(names, fmt.Sprintf("%s (%s)", r.Limit.Text, compare.FormatChange(r.ChangePct)))
		}
		return errext.Errorf(errext.ComparisonFailed, "%d limit(s) crossed: %s", len(crossed), strings.Join(names, ", "))
	}
	return nil
}
