package ui

import (
	"math"
	"time"

	tea "charm.land/bubbletea/v2"
)

// historyLen is how many updates the sparklines keep (a minute at four
// updates a second, more than any terminal is wide).
const historyLen = 240

// dashModel is the dashboard's state: the bubbletea model. It is a plain
// value updated by messages, so tests drive it without a terminal.
type dashModel struct {
	width, height int
	phase         Phase
	phaseDone     bool
	snap          Snapshot
	detail        *Detail
	// Throughput per update: requests and output tokens per second.
	reqRate, tokRate []float64
	last             snapshotMsg
	stopping         bool
	st               styles
	interrupt        func()
}

func newDashModel(noColor bool, interrupt func()) dashModel {
	return dashModel{width: 100, height: 30, st: newStyles(noColor), interrupt: interrupt}
}

// Init implements tea.Model.
func (m dashModel) Init() tea.Cmd { return nil }

// Update implements tea.Model.
func (m dashModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.KeyPressMsg:
		// Every Ctrl-C is the process's interrupt: the first stops the
		// run, a second exits at once.
		if msg.String() == "ctrl+c" {
			m.stopping = true
			if m.interrupt != nil {
				m.interrupt()
			}
		}
	case phaseMsg:
		m.phase, m.phaseDone = Phase(msg), false
		m.snap, m.detail, m.last = Snapshot{}, nil, snapshotMsg{}
		m.reqRate, m.tokRate = nil, nil
	case snapshotMsg:
		m.observe(msg)
	case phaseDoneMsg:
		m.phaseDone = true
	}
	return m, nil
}

// observe takes a snapshot: the rates since the previous one feed the
// sparklines.
func (m *dashModel) observe(msg snapshotMsg) {
	if prev := m.last; !prev.at.IsZero() {
		if dt := msg.s.Elapsed - prev.s.Elapsed; dt > 0 {
			m.reqRate = appendBounded(m.reqRate, float64(msg.s.Done-prev.s.Done)/dt.Seconds())
			m.tokRate = appendBounded(m.tokRate, (msg.s.OutputTokens-prev.s.OutputTokens)/dt.Seconds())
		}
	}
	m.last, m.snap = msg, msg.s
	m.stopping = m.stopping || msg.s.Stopping // SIGTERM, or Ctrl-C outside the view
	if msg.detail != nil {
		m.detail = msg.detail
	}
}

func appendBounded(xs []float64, x float64) []float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
		x = 0
	}
	xs = append(xs, x)
	if len(xs) > historyLen {
		xs = xs[len(xs)-historyLen:]
	}
	return xs
}

// View implements tea.Model.
func (m dashModel) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "loadstar " + m.phase.Name
	return v
}

// eta is the time left: by requests when the phase has a count, else by
// its duration; ok is false when unknown.
func (m dashModel) eta() (time.Duration, bool) {
	s, p := m.snap, m.phase
	switch {
	case p.Total > 0 && s.Done > 0 && s.Elapsed > 0:
		rate := float64(s.Done) / s.Elapsed.Seconds()
		return time.Duration(float64(p.Total-s.Done) / rate * float64(time.Second)), true
	case p.Duration > 0:
		return max(p.Duration-s.Elapsed, 0), true
	}
	return 0, false
}

// progress is the fraction done (−1 when unknown).
func (m dashModel) progress() float64 {
	s, p := m.snap, m.phase
	switch {
	case p.Total > 0:
		return math.Min(1, float64(s.Done)/float64(p.Total))
	case p.Duration > 0:
		return math.Min(1, s.Elapsed.Seconds()/p.Duration.Seconds())
	}
	return -1
}
