package ui

import (
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Terminal is the writer that log lines and a progress UI share (the
// process's stderr), and the keeper of order between them and the script's
// own output on stdout. Three things can be on screen at once; Terminal
// makes sure none of them is drawn inside another's line:
//
//   - a status line (the simple UI's progress bar) stays the last line:
//     a log line or a print() line first erases it, is written whole, and
//     the status line is drawn again below it;
//
//   - while a full-screen UI owns the screen, log and print() lines are
//     kept and written out, in order, when it gives the screen back, so that
//     they neither tear the dashboard nor get lost;
//
//   - otherwise writes go straight through.
//
//     term := ui.NewTerminal(os.Stderr)
//     log := slog.New(slog.NewTextHandler(term, nil))
//     stdout := term.Beside(os.Stdout)          // print() lines
//     u, _ := ui.Auto("auto", true, term, log) // the dashboard holds both while it runs
type Terminal struct {
	mu      sync.Mutex
	w       io.Writer
	holding bool
	held    []heldWrite
	status  string // the status line on screen ("" when none)
}

// heldWrite is a write kept while a full-screen UI holds the screen.
type heldWrite struct {
	w io.Writer
	p []byte
}

// NewTerminal wraps w.
func NewTerminal(w io.Writer) *Terminal { return &Terminal{w: w} }

// Write implements io.Writer for log lines: through to the terminal (above
// the status line), or kept while a full-screen UI holds it.
func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.writeLocked(t.w, p)
}

// Beside returns a writer for another stream that shares the screen
// (stdout): its writes keep out of the status line and wait, with the log
// lines, while a full-screen UI holds the screen.
func (t *Terminal) Beside(w io.Writer) io.Writer {
	if w == nil {
		return nil
	}
	return besideWriter{t: t, w: w}
}

type besideWriter struct {
	t *Terminal
	w io.Writer
}

func (b besideWriter) Write(p []byte) (int, error) {
	b.t.mu.Lock()
	defer b.t.mu.Unlock()
	return b.t.writeLocked(b.w, p)
}

func (t *Terminal) writeLocked(w io.Writer, p []byte) (int, error) {
	if t.holding {
		t.held = append(t.held, heldWrite{w: w, p: append([]byte(nil), p...)})
		return len(p), nil
	}
	if t.status == "" {
		return w.Write(p)
	}
	t.eraseLocked()
	n, err := w.Write(p)
	_, _ = io.WriteString(t.w, t.status)
	return n, err
}

// eraseLocked blanks the status line and returns the cursor to its start.
func (t *Terminal) eraseLocked() {
	n := utf8.RuneCountInString(t.status)
	_, _ = io.WriteString(t.w, "\r"+strings.Repeat(" ", n)+"\r")
}

// Status draws line as the status line, replacing the one on screen.
func (t *Terminal) Status(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.holding {
		return
	}
	pad := utf8.RuneCountInString(t.status) - utf8.RuneCountInString(line)
	if pad < 0 {
		pad = 0
	}
	_, _ = io.WriteString(t.w, "\r"+line+strings.Repeat(" ", pad))
	t.status = line
}

// EndStatus draws line as the status line's final state and ends it with
// a newline: it stays on screen as an ordinary line.
func (t *Terminal) EndStatus(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.holding {
		return
	}
	switch t.status {
	case line: // already on screen
		_, _ = io.WriteString(t.w, "\n")
	case "":
		_, _ = io.WriteString(t.w, line+"\n")
	default:
		t.eraseLocked()
		_, _ = io.WriteString(t.w, line+"\n")
	}
	t.status = ""
}

// hold starts keeping writes and returns the terminal itself for the UI
// to draw on.
func (t *Terminal) hold() io.Writer {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.holding = true
	return t.w
}

// release writes what was kept, in order, and lets writes through again.
func (t *Terminal) release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.holding = false
	for _, h := range t.held {
		_, _ = h.w.Write(h.p)
	}
	t.held = nil
}

// Unwrap returns the wrapped writer (terminal detection).
func (t *Terminal) Unwrap() io.Writer { return t.w }
