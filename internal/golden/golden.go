// Package golden compares test output with files kept in the repository
// (testdata/ golden files, generated docs) and rewrites those files instead
// when the tests run with -update:
//
//	func TestReport(t *testing.T) {
//		golden.Check(t, "testdata/report.txt", render())
//	}
//
//	go test ./internal/console -update   # one package
//	just update-golden                   # every package that uses golden
//
// The -update flag is defined here, once, so every test binary that imports
// this package accepts it; a package without golden files does not (`go
// test ./... -update` would fail there), which is why `just update-golden`
// lists the packages that import this one. Check the diff before
// committing refreshed files.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and generated docs instead of comparing with them")

// Update reports whether the test binary runs with -update: tests that
// refresh files in their own way (testscript's UpdateScripts, a generated
// section of a document) read it.
func Update() bool { return *update }

// Check compares got with the file at path (relative to the package
// directory). With -update it writes got to path, creating its directory,
// and passes. A difference fails the test naming the first differing line
// and the command that refreshes the file.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with %s)", err, Command(t))
		return
	}
	if d := Diff(want, got); d != "" {
		t.Errorf("%s differs from the output:\n%s\n(if the change is intended: %s, then check the diff)", path, d, Command(t))
	}
}

// Diff describes the first line where got differs from want, with the
// lines around it; "" when they are equal.
func Diff(want, got []byte) string {
	if bytes.Equal(want, got) {
		return ""
	}
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	i := 0
	for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
		i++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d (file has %d lines, output %d):\n", i+1, len(wl), len(gl))
	for j := max(0, i-2); j < i; j++ {
		fmt.Fprintf(&b, "  %s\n", wl[j])
	}
	if i < len(wl) {
		fmt.Fprintf(&b, "- %s\n", wl[i])
	}
	if i < len(gl) {
		fmt.Fprintf(&b, "+ %s\n", gl[i])
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Command is the go test command that refreshes the current test's files:
// the package directory relative to the module root and the top-level test.
func Command(t testing.TB) string {
	name, _, _ := strings.Cut(t.Name(), "/")
	return fmt.Sprintf("go test %s -run '^%s$' -update", packageDir(), name)
}

// packageDir returns the test's package directory as ./path from the
// module root (tests run in their package directory), or "." when no
// go.mod is found.
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil || rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "."
		}
		dir = parent
	}
}
