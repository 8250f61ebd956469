package ui

import (
	"bytes"
	"io"
	"sync"
)

// Terminal is the writer that log lines and a progress UI share (the
// process's stderr). While a full-screen UI owns the screen, log writes are
// kept and written out, in order, when it gives the screen back, so that
// they neither tear the dashboard nor get lost.
//
//	term := ui.NewTerminal(os.Stderr)
//	log := slog.New(slog.NewTextHandler(term, nil))
//	u, _ := ui.Auto("auto", true, term, log) // the dashboard holds term's writes while it runs
type Terminal struct {
	mu      sync.Mutex
	w       io.Writer
	holding bool
	held    bytes.Buffer
}

// NewTerminal wraps w.
func NewTerminal(w io.Writer) *Terminal { return &Terminal{w: w} }

// Write implements io.Writer: through to the terminal, or kept while a
// full-screen UI holds it.
func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.holding {
		return t.held.Write(p)
	}
	return t.w.Write(p)
}

// hold starts keeping writes and returns the terminal itself for the UI
// to draw on.
func (t *Terminal) hold() io.Writer {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.holding = true
	return t.w
}

// release writes what was kept and lets writes through again.
func (t *Terminal) release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.holding = false
	if t.held.Len() > 0 {
		_, _ = t.w.Write(t.held.Bytes())
		t.held.Reset()
	}
}

// Unwrap returns the wrapped writer (terminal detection).
func (t *Terminal) Unwrap() io.Writer { return t.w }
