package interp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/loadstar/loadstar/engine/errext"
)

// ScriptError is a failure of a scenario, rendered for the user: a
// Python-style backtrace with file:line:col for runtime errors, the position
// for syntax and resolve errors. It carries an exit code: errext.ScriptError
// unless the failing builtin attached another (e.g. InvalidConfig), or the
// script hit the step limit (StepLimit) or was interrupted (Interrupted).
type ScriptError struct {
	Msg   string
	Code  errext.ExitCode
	hint  string
	cause error
}

func (e *ScriptError) Error() string             { return e.Msg }
func (e *ScriptError) Unwrap() error             { return e.cause }
func (e *ScriptError) ExitCode() errext.ExitCode { return e.Code }
func scriptErrorf(f string, a ...any) *ScriptError {
	return &ScriptError{Msg: fmt.Sprintf(f, a...), Code: errext.ScriptError}
}

// Hint returns what the user can do about the error ("" if nothing).
func (e *ScriptError) Hint() string { return e.hint }

// wrapScriptError renders err (from executing on thread) as a ScriptError.
func wrapScriptError(err error, thread *starlark.Thread) error {
	if err == nil {
		return nil
	}
	var se *ScriptError
	if errors.As(err, &se) && se == err {
		return se
	}
	out := &ScriptError{Msg: render(err), Code: errext.ScriptError, cause: err}
	if c := errext.ExitCodeOf(err); c != errext.Generic && c != errext.Success {
		out.Code = c
	}
	if h := errext.HintOf(err); h != "" {
		out.hint = h
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "execution steps"):
		out.Code = errext.StepLimit
		out.hint = "a loop ran longer than the step budget; raise it with --max-steps if the work is intended"
	case strings.Contains(msg, "Starlark computation cancelled: interrupted"), out.Code == errext.Interrupted,
		errors.Is(err, context.Canceled) && ContextOf(thread).Err() != nil:
		out.Code = errext.Interrupted
		out.Msg = "interrupted; everything measured was written"
		var ee *starlark.EvalError
		if errors.As(err, &ee) {
			// The innermost script position (a builtin has none).
			for i := len(ee.CallStack) - 1; i >= 0; i-- {
				if pos := ee.CallStack[i].Pos; pos.IsValid() {
					out.Msg = "interrupted at " + pos.String() + "; everything measured was written"
					break
				}
			}
		}
	}
	return out
}

// render formats any error from executing Starlark: syntax errors and
// resolve errors as "file:line:col: msg" lines, evaluation errors as a
// backtrace. An error raised inside a loaded module shows that module's
// backtrace followed by the chain of load statements that reached it.
func render(err error) string {
	var chain []*starlark.EvalError
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ee, ok := e.(*starlark.EvalError); ok {
			chain = append(chain, ee)
		}
	}
	var root error = err
	if len(chain) > 0 {
		root = chain[len(chain)-1]
		// Look past the deepest EvalError for a static error in a loaded module.
		for e := errors.Unwrap(root); e != nil; e = errors.Unwrap(e) {
			var se syntax.Error
			var re resolve.ErrorList
			if errors.As(e, &se) || errors.As(e, &re) {
				root = e
				break
			}
		}
	}
	var b strings.Builder
	switch r := root.(type) {
	case *starlark.EvalError:
		b.WriteString(undouble(strings.TrimRight(r.Backtrace(), "\n")))
	case syntax.Error:
		b.WriteString(r.Error())
	case resolve.ErrorList:
		for i, e := range r {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(e.Error())
		}
	default:
		var se syntax.Error
		var re resolve.ErrorList
		switch {
		case errors.As(root, &se):
			b.WriteString(se.Error())
		case errors.As(root, &re):
			return render(re)
		default:
			b.WriteString(root.Error())
		}
	}
	// A static error in a loaded module: show the load statements that
	// reached it (an evaluation error's backtrace already shows them).
	if _, ok := root.(*starlark.EvalError); !ok && len(chain) > 0 {
		stack := chain[len(chain)-1].CallStack
		for i := len(stack) - 1; i >= 0; i-- {
			fmt.Fprintf(&b, "\n  loaded from %s", stack[i].Pos)
		}
	}
	return b.String()
}

// undouble drops a builtin's name that its message repeats: Starlark writes
// "Error in run: " before the message of a failing builtin, and builtins
// name themselves too ("run: unknown argument ..."), since their errors
// also travel without a backtrace.
func undouble(backtrace string) string {
	i := strings.LastIndex(backtrace, "Error in ")
	if i < 0 {
		return backtrace
	}
	rest := backtrace[i+len("Error in "):]
	name, msg, ok := strings.Cut(rest, ": ")
	if !ok || strings.ContainsAny(name, " \n") || !strings.HasPrefix(msg, name+": ") {
		return backtrace
	}
	return backtrace[:i] + "Error in " + name + ": " + strings.TrimPrefix(msg, name+": ")
}
