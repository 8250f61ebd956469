package interp

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// nativeName is the module the standard library's own .star files see (and
// scenarios do not): the few things Starlark cannot do by itself, which
// @stdlib//assert.star is built on.
const nativeName = "_native"

// native returns the _native module:
//
//	_native.report(what, detail, msg)  a failed assertion (see report)
//	_native.catch(fn)                  calls fn(); its error message, or None
//	_native.matches(pattern, text)     a regular-expression search
func native() *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: nativeName, Members: starlark.StringDict{
		"report":  starlark.NewBuiltin(nativeName+".report", nativeReport),
		"catch":   starlark.NewBuiltin(nativeName+".catch", nativeCatch),
		"matches": starlark.NewBuiltin(nativeName+".matches", nativeMatches),
	}}
}

// threadLocalFailures is the key of a thread's *Failures: set by RunTests,
// so that a failed assertion is recorded and the test goes on (Go's
// t.Errorf); without one a failed assertion stops the script.
const threadLocalFailures = "loadstar.failures"

// Failures collects the failed assertions of one test.
type Failures struct {
	mu   sync.Mutex
	msgs []string
}

func (f *Failures) add(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, msg)
}

// Messages returns the failures in the order they happened.
func (f *Failures) Messages() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.msgs...)
}

// nativeReport implements _native.report(what, detail, msg): the failure
// "file:line:col: what: detail (msg)", placed at the assertion's caller
// (the innermost frame outside the standard library). Under `loadstar test`
// it is recorded and the test goes on; elsewhere it is an error.
func nativeReport(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var what, detail string
	var msg starlark.Value = starlark.None
	if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 2, &what, &detail, &msg); err != nil {
		return nil, err
	}
	text := what + ": " + detail
	if msg != starlark.None {
		m, ok := starlark.AsString(msg)
		if !ok {
			m = msg.String()
		}
		text = m + ": " + text
	}
	if pos := callerOutsideStdlib(thread); pos != "" {
		text = pos + ": " + text
	}
	if f, ok := thread.Local(threadLocalFailures).(*Failures); ok {
		f.add(text)
		return starlark.None, nil
	}
	return nil, errors.New(text)
}

// callerOutsideStdlib is the position of the innermost call frame that is
// not in an @stdlib// module.
func callerOutsideStdlib(thread *starlark.Thread) string {
	for i := 0; i < thread.CallStackDepth(); i++ {
		pos := thread.CallFrame(i).Pos
		if pos.Filename() != "" && !strings.HasPrefix(pos.Filename(), stdlibPrefix) && pos.Line > 0 {
			return pos.String()
		}
	}
	return ""
}

// nativeCatch implements _native.catch(fn): calls fn with no arguments and
// returns its error message, or None when it succeeds. Interruption and the
// step limit are not caught.
func nativeCatch(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var f starlark.Callable
	if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 1, &f); err != nil {
		return nil, err
	}
	_, err := starlark.Call(thread, f, nil, nil)
	if err == nil {
		return starlark.None, nil
	}
	if ContextOf(thread).Err() != nil || errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "execution steps") {
		return nil, err
	}
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		return starlark.String(ee.Msg), nil
	}
	return starlark.String(err.Error()), nil
}

// nativeMatches implements _native.matches(pattern, text).
func nativeMatches(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern, text string
	if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 2, &pattern, &text); err != nil {
		return nil, err
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: bad pattern %q: %v", fn.Name(), pattern, err)
	}
	return starlark.Bool(re.MatchString(text)), nil
}
