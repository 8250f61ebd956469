//go:build unix

package main

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/errext"
)

// signalWait bounds the wait for a signal's effect on a loaded machine.
const signalWait = 10 * time.Second

// The first signal cancels the context with the interrupt as its cause and
// says so; the second flushes what was registered and exits with code 7.
func TestSignalsFirstStopsSecondExits(t *testing.T) {
	var screen lockedBuffer
	exited := make(chan int, 1)
	s := watchSignals(&screen, func(code int) { exited <- code })
	defer s.stop()
	flushed := make(chan struct{})
	defer s.onExit(func() { close(flushed) })()

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.ctx.Done():
	case <-time.After(signalWait):
		t.Fatal("SIGTERM did not cancel the context")
	}
	if cause := context.Cause(s.ctx); !errext.IsInterrupt(cause) || !strings.Contains(cause.Error(), "SIGTERM") {
		t.Errorf("cause %v, want an errext.Interrupt naming SIGTERM", cause)
	}
	waitFor(t, func() bool { return strings.Contains(screen.String(), "SIGTERM: stopping") }, "the acknowledgement")
	select {
	case <-exited:
		t.Fatal("the first signal exited")
	case <-flushed:
		t.Fatal("the first signal flushed for an exit")
	default:
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exited:
		if code != int(errext.Interrupted) {
			t.Errorf("exit code %d, want 7", code)
		}
	case <-time.After(signalWait):
		t.Fatal("the second signal did not exit")
	}
	select {
	case <-flushed:
	default:
		t.Error("the second signal exited without flushing")
	}
	if !strings.Contains(screen.String(), "exited at once") {
		t.Errorf("screen %q does not say the process exited at once", screen.String())
	}
}

// A flush that hangs (a stuck disk) does not keep the second signal from
// exiting; a flush forgotten when its step ended is not run.
func TestSignalsExitDespiteHungFlush(t *testing.T) {
	var screen lockedBuffer
	exited := make(chan int, 1)
	s := watchSignals(&screen, func(code int) { exited <- code })
	defer s.stop()
	hang := make(chan struct{})
	defer close(hang)
	defer s.onExit(func() { <-hang })()
	forgotten := false
	s.onExit(func() { forgotten = true })()

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGINT} {
		if err := syscall.Kill(os.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case <-exited:
	case <-time.After(exitFlushLimit + signalWait):
		t.Fatal("a hung flush kept the process from exiting")
	}
	if forgotten {
		t.Error("a forgotten flush ran")
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(signalWait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s did not happen within %s", what, signalWait)
}
