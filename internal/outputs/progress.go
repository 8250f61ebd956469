package outputs

import (
	"math"

	"github.com/loadstar/loadstar/engine/runner"
	"github.com/loadstar/loadstar/internal/ui"
)

// progress drives a progress UI (internal/ui) from the runner's progress
// reports: one UI phase per benchmark phase.
type progress struct {
	ui      ui.UI
	started bool
}

// Progress implements runner.Observer.
func (o *progress) Progress(p runner.Progress) {
	if !o.started {
		ph := ui.Phase{Name: p.Phase.String()}
		if p.Plan != nil {
			if p.Plan.Requests > 0 {
				ph.Total = int(p.Plan.Requests)
			}
			ph.Duration = p.Plan.Duration
		}
		o.ui.Start(ph)
		o.started = true
	}
	s := ui.Snapshot{Done: int(p.Completed), Errors: int(p.Errors), InFlight: int(p.InFlight()), Elapsed: p.Elapsed,
		TTFTP50Ms: math.NaN(), LatencyP50Ms: math.NaN()}
	if m := p.Metrics; m != nil {
		s.TTFTP50Ms, s.LatencyP50Ms, s.OutputTokens = m.TTFTP50Ms, m.LatencyP50Ms, m.OutputTokens
	}
	o.ui.Update(s)
	if p.Done {
		o.ui.Finish()
		o.started = false
	}
}
