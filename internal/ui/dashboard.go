package ui

import (
	"io"
	"os"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"golang.org/x/term"
)

// Dashboard is the full-screen live view (plugin dashboard), the default on
// a terminal as AIPerf's: phase and progress with ETA; sent, in flight,
// completed and errors; request and token throughput with sparklines; live
// TTFT, ITL and latency percentiles; issue delay and schedule status; the
// error breakdown; each SLO and threshold with ✓/✗. It redraws at every
// update (four times a second), follows the terminal's size, uses no
// colour under NO_COLOR, and gives the terminal back when the run ends.
//
// Ctrl-C in the dashboard does what it does under the other UIs: the
// terminal is in raw mode, so the key press is turned into the process's
// interrupt signal, which stops sending, keeps what was measured and exits
// with code 7 once the artifacts are written.
type Dashboard struct {
	out     io.Writer
	in      io.Reader
	noColor bool
	// interrupt replaces the interrupt signal (tests); nil sends it.
	interrupt func()
	options   []tea.ProgramOption

	mu      sync.Mutex
	prog    *tea.Program
	done    chan struct{}
	release func() // gives the held log lines back (a *Terminal output)
}

// newDashboard returns a dashboard drawing on out (a terminal), reading
// keys from standard input when it is a terminal.
func newDashboard(out io.Writer) *Dashboard {
	d := &Dashboard{out: out, noColor: noColor()}
	if term.IsTerminal(int(os.Stdin.Fd())) {
		d.in = os.Stdin
	}
	return d
}

// noColor reports the NO_COLOR convention (no-color.org): set and not empty.
func noColor() bool { return os.Getenv("NO_COLOR") != "" }

// interruptSelf sends the process its interrupt signal, as Ctrl-C does
// outside raw mode.
func interruptSelf() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Signal(os.Interrupt)
	}
}

// Messages from the run to the model.
type (
	phaseMsg    Phase
	snapshotMsg struct {
		s      Snapshot
		detail *Detail
		at     time.Time
	}
	phaseDoneMsg struct{}
)

// Start implements UI: the first phase opens the full-screen view.
func (d *Dashboard) Start(p Phase) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.prog == nil {
		out := d.out
		if t, ok := out.(*Terminal); ok {
			out = t.hold() // log lines wait until the screen is given back
			d.release = t.release
		}
		interrupt := d.interrupt
		if interrupt == nil {
			interrupt = interruptSelf
		}
		m := newDashModel(d.noColor, interrupt)
		opts := append([]tea.ProgramOption{tea.WithOutput(out), tea.WithInput(d.in), tea.WithoutSignalHandler()}, d.options...)
		d.prog = tea.NewProgram(m, opts...)
		d.done = make(chan struct{})
		go func(prog *tea.Program, done chan struct{}) {
			defer close(done)
			_, _ = prog.Run() // restores the terminal before returning
		}(d.prog, d.done)
	}
	d.prog.Send(phaseMsg(p))
}

// Update implements UI.
func (d *Dashboard) Update(s Snapshot) {
	d.mu.Lock()
	prog := d.prog
	d.mu.Unlock()
	if prog == nil {
		return
	}
	msg := snapshotMsg{s: s, at: time.Now()}
	if s.Detail != nil {
		det := s.Detail()
		msg.detail = &det
	}
	prog.Send(msg)
}

// Finish implements UI. The profiling phase is the last: the view closes
// and the terminal is restored before Finish returns, so that the final
// report prints on a normal screen.
func (d *Dashboard) Finish() {
	d.mu.Lock()
	prog := d.prog
	d.mu.Unlock()
	if prog == nil {
		return
	}
	prog.Send(phaseDoneMsg{})
}

// Close ends the view and waits until the terminal is restored. The layer
// that runs a step calls it when the step ends, whichever phase it ended in.
func (d *Dashboard) Close() {
	d.mu.Lock()
	prog, done, release := d.prog, d.done, d.release
	d.prog, d.release = nil, nil
	d.mu.Unlock()
	if prog == nil {
		return
	}
	prog.Quit()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		prog.Kill()
		<-done
	}
	if release != nil {
		release()
	}
}
