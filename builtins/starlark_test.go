package builtins

import (
	"path/filepath"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarktest"
)

// TestStarlarkFiles runs every ../testdata/*_builtins.star file: Starlark
// tests of the builtins, written with the assert module.
func TestStarlarkFiles(t *testing.T) {
	files, err := filepath.Glob("../testdata/*.star")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Starlark test files: %v", err)
	}
	assert, err := starlarktest.LoadAssertModule()
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			thread := &starlark.Thread{Name: file, Load: func(_ *starlark.Thread, m string) (starlark.StringDict, error) {
				if m == "assert.star" {
					return assert, nil
				}
				return nil, errNoLoad(m)
			}}
			starlarktest.SetReporter(thread, t)
			predeclared, err := Merge(core())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := starlark.ExecFileOptions(testFileOptions, thread, file, nil, predeclared); err != nil {
				if ee, ok := err.(*starlark.EvalError); ok {
					t.Fatal(ee.Backtrace())
				}
				t.Fatal(err)
			}
		})
	}
}
