package interp

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.starlark.net/starlark"
)

// TestResult is the outcome of one test_* function of a *_test.star file.
type TestResult struct {
	File     string
	Name     string
	Passed   bool
	Failures []string // assertion messages and the error that stopped the test
	Elapsed  time.Duration
}

// RunTests executes a test file and then each of its top-level test_*
// functions (in definition order) on a fresh thread. A test fails when an
// assertion of @stdlib//assert.star fails (recorded, and the test goes on)
// or the function raises an error. The error return is for a file that
// cannot be loaded at all.
func (h *Host) RunTests(ctx context.Context, path string, filter func(name string) bool) ([]TestResult, error) {
	globals, err := h.ExecFile(ctx, path)
	if err != nil {
		return nil, err
	}
	type testFn struct {
		name string
		fn   *starlark.Function
	}
	var tests []testFn
	for name, v := range globals {
		fn, ok := v.(*starlark.Function)
		if !ok || !strings.HasPrefix(name, "test_") || (filter != nil && !filter(name)) {
			continue
		}
		tests = append(tests, testFn{name, fn})
	}
	sort.Slice(tests, func(i, j int) bool {
		pi, pj := tests[i].fn.Position(), tests[j].fn.Position()
		if pi.Line != pj.Line {
			return pi.Line < pj.Line
		}
		return tests[i].name < tests[j].name
	})
	display := displayPath(path)
	var out []TestResult
	for _, t := range tests {
		if ctx.Err() != nil {
			break
		}
		res := TestResult{File: display, Name: t.name}
		if t.fn.NumParams() > 0 {
			res.Failures = []string{fmt.Sprintf("%s: test functions take no parameters (it declares %d)", t.fn.Position(), t.fn.NumParams())}
			out = append(out, res)
			continue
		}
		failures := &Failures{}
		thread, stop := h.NewThread(ctx, t.name)
		thread.SetLocal(threadLocalFailures, failures)
		start := time.Now()
		_, err := starlark.Call(thread, t.fn, nil, nil)
		stop()
		res.Elapsed = time.Since(start)
		res.Failures = failures.Messages()
		if err != nil {
			res.Failures = append(res.Failures, render(err))
		}
		res.Passed = len(res.Failures) == 0
		out = append(out, res)
	}
	return out, nil
}
