package outputs

import (
	"math"
	"strings"

	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/runner"
	"github.com/loadstar/loadstar/internal/ui"
)

// progress drives a progress UI (internal/ui) from the runner's progress
// reports: one UI phase per benchmark phase.
type progress struct {
	ui      ui.UI
	started bool
}

// phaseOf describes the phase starting in p for the UI.
func phaseOf(p runner.Progress) ui.Phase {
	ph := ui.Phase{Name: p.Phase.String()}
	if p.Plan != nil {
		if p.Plan.Requests > 0 {
			ph.Total = int(p.Plan.Requests)
		}
		ph.Duration = p.Plan.Duration
		ph.Rate, ph.Load = p.Plan.Load.Rate, p.Plan.Load.Description
	}
	if st := p.Step; st != nil && st.Config != nil {
		cfg := st.Config
		ph.Validity, ph.SLOs, ph.Thresholds = cfg.Validity, cfg.SLOs, cfg.Thresholds
		ph.Title = cfg.Endpoint.Name
		if st.Settings != nil {
			ph.Title += " " + st.Settings.ShownURLs(", ")
			if len(st.Settings.Models) > 0 {
				ph.Title += " · " + strings.Join(st.Settings.Models, ", ")
			}
		}
		if cfg.Name != "" {
			ph.Title = cfg.Name + " · " + ph.Title
		}
	}
	return ph
}

// Progress implements runner.Observer.
func (o *progress) Progress(p runner.Progress) {
	if !o.started {
		o.ui.Start(phaseOf(p))
		o.started = true
	}
	s := ui.Snapshot{Done: int(p.Completed), Errors: int(p.Errors), InFlight: int(p.InFlight()), Elapsed: p.Elapsed,
		Sent: int(p.Sent), TTFTP50Ms: math.NaN(), LatencyP50Ms: math.NaN(), Stopping: p.Stopping}
	if m := p.Metrics; m != nil {
		s.TTFTP50Ms, s.LatencyP50Ms, s.OutputTokens, s.Good = m.TTFTP50Ms, m.LatencyP50Ms, m.OutputTokens, int(m.Good)
	}
	if p.LiveMetrics != nil && p.LiveErrors != nil && p.Phase == record.Profiling {
		s.Detail = func() ui.Detail { return ui.Detail{Metrics: p.LiveMetrics(), Errors: p.LiveErrors()} }
	}
	o.ui.Update(s)
	if p.Done {
		o.ui.Finish()
		o.started = false
	}
}
