package main

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"golang.org/x/term"
)

// catchSIGPIPE keeps a closed pipe on standard output or error (`loadstar
// run x.star | head -1`) from killing the process half-way through a run:
// with SIGPIPE caught, writing to the closed pipe fails with EPIPE, which
// pipeOutput turns into discarded output, and the run carries on.
func catchSIGPIPE() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}

// pipeOutput is standard output or error when it is not a terminal. Once
// the reader has gone (EPIPE), the rest of the output is discarded without
// an error, so that nothing a run does — its later steps, its artifacts,
// its exit code — depends on whether anyone still reads the report. The
// first such loss is noted once on note (standard error), if that is open.
type pipeOutput struct {
	f      *os.File
	name   string
	closed atomic.Bool
	note   func(msg string)
}

// Write implements io.Writer.
func (p *pipeOutput) Write(b []byte) (int, error) {
	if p.closed.Load() {
		return len(b), nil
	}
	n, err := p.f.Write(b)
	if err != nil && errors.Is(err, syscall.EPIPE) {
		if !p.closed.Swap(true) && p.note != nil {
			p.note("loadstar: " + p.name + " was closed (broken pipe): the rest of its output is discarded; the run goes on\n")
		}
		return len(b), nil
	}
	return n, err
}

// guardOutputs wraps standard output and error for main: a terminal stays
// as it is (it cannot close under the process, and the UIs look for its
// *os.File); a pipe or file becomes a pipeOutput.
func guardOutputs(stdout, stderr *os.File) (io.Writer, io.Writer) {
	if isTerminalFile(stdout) && isTerminalFile(stderr) {
		return stdout, stderr
	}
	var errW io.Writer = stderr
	var errPipe *pipeOutput
	if !isTerminalFile(stderr) {
		errPipe = &pipeOutput{f: stderr, name: "standard error"}
		errW = errPipe
	}
	var outW io.Writer = stdout
	if !isTerminalFile(stdout) {
		outW = &pipeOutput{f: stdout, name: "standard output", note: func(msg string) { _, _ = io.WriteString(errW, msg) }}
	}
	return outW, errW
}

func isTerminalFile(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
