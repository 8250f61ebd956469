package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/internal/outputs"
)

// exitFlushLimit bounds how long a second Ctrl-C waits for the running
// step's record streams to flush before the process exits anyway: the
// outputs stop writing spooled records at ExitDrainLimit, on a whole line,
// and have the rest to flush what they wrote.
const exitFlushLimit = outputs.ExitDrainLimit + 500*time.Millisecond

// signals is how a command that runs benchmarks takes Ctrl-C and SIGTERM
// (containers and CI jobs send it): the first cancels the command's
// context with an errext.Interrupt cause — sending stops, requests in
// flight are cancelled, what was measured is written, exit code 7 — and
// says so on screen; the second flushes what the running step has already
// written (its record streams) and exits at once with code 7.
//
//	sig := watchSignals(app.Progress, os.Exit)
//	defer sig.stop()
//	run(sig.ctx)
type signals struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	ch     chan os.Signal
	screen io.Writer
	exit   func(code int)
	done   chan struct{}

	mu      sync.Mutex
	flushes map[int]func()
	next    int
}

// watchSignals starts taking SIGINT and SIGTERM; screen receives the
// acknowledgements, exit ends the process (os.Exit).
func watchSignals(screen io.Writer, exit func(int)) *signals {
	s := &signals{ch: make(chan os.Signal, 2), screen: screen, exit: exit, done: make(chan struct{}), flushes: map[int]func(){}}
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	signal.Notify(s.ch, os.Interrupt, syscall.SIGTERM)
	go s.loop()
	return s
}

func (s *signals) loop() {
	first := true
	for {
		select {
		case <-s.done:
			return
		case sig := <-s.ch:
			if first {
				first = false
				s.cancel(&errext.Interrupt{Signal: signalName(sig)})
				fmt.Fprintf(s.screen, "\nloadstar: %s: stopping — sending stopped, requests in flight are cancelled, what was measured is being written (press Ctrl-C again to exit at once)\n", signalName(sig))
				continue
			}
			s.exitNow(sig)
			return
		}
	}
}

// exitNow flushes the running step's record streams (for at most
// exitFlushLimit) and exits with code 7.
func (s *signals) exitNow(sig os.Signal) {
	s.mu.Lock()
	flushes := make([]func(), 0, len(s.flushes))
	for _, f := range s.flushes {
		flushes = append(flushes, f)
	}
	s.mu.Unlock()
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		for _, f := range flushes {
			f()
		}
	}()
	select {
	case <-flushed:
	case <-time.After(exitFlushLimit):
	}
	fmt.Fprintf(s.screen, "loadstar: %s again: exited at once; the running step's records written so far are kept, its summary files are not written\n", signalName(sig))
	s.exit(int(errext.Interrupted))
}

// onExit keeps flush to run before an immediate exit until the returned
// function is called (outputs.Config.OnExit).
func (s *signals) onExit(flush func()) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.next
	s.next++
	s.flushes[id] = flush
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.flushes, id)
	}
}

// stop gives the signals back to their default handling.
func (s *signals) stop() {
	signal.Stop(s.ch)
	close(s.done)
	s.cancel(nil)
}

// signalName names a signal as a user knows it.
func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT (Ctrl-C)"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}
