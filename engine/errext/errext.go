// Package errext gives errors an exit code and a hint, so that the command
// line renders every failure once, in one place (as k6's errext does).
//
// Lower layers wrap their errors with WithExitCode / WithHint; cmd/loadstar
// unwraps with ExitCodeOf and HintOf. The codes are documented in
// docs/exit-codes.md and must stay stable: CI jobs gate on them.
package errext

import (
	"errors"
	"fmt"
)

// ExitCode is a process exit status with a documented meaning.
type ExitCode int

// The exit codes of loadstar. Keep in sync with docs/exit-codes.md.
const (
	// Success: the run finished; every threshold (if any) passed.
	Success ExitCode = 0
	// Generic: an unexpected internal failure.
	Generic ExitCode = 1
	// Usage: bad command line (unknown flag, bad value, missing argument).
	Usage ExitCode = 2
	// ScriptError: the scenario failed to parse or raised an error while running
	// (syntax error, runtime error, fail(), missing or cyclic load).
	ScriptError ExitCode = 3
	// InvalidConfig: a benchmark configuration (run() arguments, profile flags,
	// plugin arguments, dataset file) failed validation before anything was sent.
	InvalidConfig ExitCode = 4
	// ThresholdsFailed: the benchmark ran but at least one threshold failed.
	ThresholdsFailed ExitCode = 5
	// AllRequestsFailed: the benchmark ran but no request succeeded.
	AllRequestsFailed ExitCode = 6
	// Interrupted: the run was stopped by Ctrl-C / SIGTERM; artifacts were written.
	Interrupted ExitCode = 7
	// StepLimit: the script exceeded its execution-step budget.
	StepLimit ExitCode = 8
	// PluginError: a plugin manifest or plugin implementation is invalid
	// (also the exit code of `loadstar plugins --validate` when it finds problems).
	PluginError ExitCode = 9
	// TestsFailed: `loadstar test` ran and at least one test failed.
	TestsFailed ExitCode = 10
	// InvalidRun: the run finished but was marked INVALID (schedule not met) and
	// the scenario asked for invalid runs to fail.
	InvalidRun ExitCode = 11
	// ComparisonFailed: `loadstar compare` (or a script's compare(..., limits))
	// found a change beyond a given limit.
	ComparisonFailed ExitCode = 12
	// RunAborted: the run stopped early because the server failed: no
	// request could connect, the failed-request ratio passed
	// failed_request_threshold, or the server was not ready within
	// wait_for_model's timeout. What was measured is written.
	RunAborted ExitCode = 13
)

// String names the code as documented.
func (c ExitCode) String() string {
	switch c {
	case Success:
		return "success"
	case Generic:
		return "internal error"
	case Usage:
		return "usage error"
	case ScriptError:
		return "script error"
	case InvalidConfig:
		return "invalid configuration"
	case ThresholdsFailed:
		return "thresholds failed"
	case AllRequestsFailed:
		return "all requests failed"
	case Interrupted:
		return "interrupted"
	case StepLimit:
		return "step limit exceeded"
	case PluginError:
		return "plugin error"
	case TestsFailed:
		return "tests failed"
	case InvalidRun:
		return "run invalid"
	case ComparisonFailed:
		return "comparison failed"
	case RunAborted:
		return "run aborted"
	}
	return fmt.Sprintf("exit code %d", int(c))
}

type withCode struct {
	err  error
	code ExitCode
}

func (w *withCode) Error() string      { return w.err.Error() }
func (w *withCode) Unwrap() error      { return w.err }
func (w *withCode) ExitCode() ExitCode { return w.code }

type withHint struct {
	err  error
	hint string
}

func (w *withHint) Error() string { return w.err.Error() }
func (w *withHint) Unwrap() error { return w.err }
func (w *withHint) Hint() string  { return w.hint }

// WithExitCode attaches an exit code to err. A nil err stays nil.
// The outermost code wins when several are attached.
func WithExitCode(err error, code ExitCode) error {
	if err == nil {
		return nil
	}
	return &withCode{err: err, code: code}
}

// WithHint attaches a user-facing hint (what to do about it) to err.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &withHint{err: err, hint: hint}
}

// Errorf is fmt.Errorf with an exit code.
func Errorf(code ExitCode, format string, args ...any) error {
	return WithExitCode(fmt.Errorf(format, args...), code)
}

// ExitCodeOf returns the outermost exit code attached to err, Success for nil,
// and Generic for an error that carries none.
func ExitCodeOf(err error) ExitCode {
	if err == nil {
		return Success
	}
	var c interface{ ExitCode() ExitCode }
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return Generic
}

// HintOf returns the outermost hint attached to err, or "".
func HintOf(err error) string {
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}

// Interrupt is the cause of a context a signal cancelled (Ctrl-C, SIGTERM):
// context.Cause returns it, so what stops because of it can say why and
// exit with code Interrupted.
type Interrupt struct {
	// Signal names the signal, e.g. "SIGINT (Ctrl-C)".
	Signal string
}

func (i *Interrupt) Error() string      { return "interrupted by " + i.Signal }
func (i *Interrupt) ExitCode() ExitCode { return Interrupted }

// IsInterrupt reports whether err is, or wraps, an *Interrupt.
func IsInterrupt(err error) bool {
	var i *Interrupt
	return errors.As(err, &i)
}
