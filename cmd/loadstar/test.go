package main

import (
	"fmt"

	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/loadstar/loadstar/engine/errext"
)

// TestCmd runs the test_* functions of *_test.star files, so teams test
// their scenario libraries in CI. Test files see every builtin (including
// mock.server) and load the assertions with
// load("@stdlib//assert.star", "assert") (docs/testing.md).
type TestCmd struct {
	Paths   []string `arg:"" optional:"" help:"Test files or directories (searched recursively for *_test.star); default: current directory." type:"path"`
	Match   string   `name:"run" help:"Only run tests whose name matches this regular expression." placeholder:"REGEXP"`
	Verbose bool     `short:"v" help:"Print every test, not only failures."`
	ScriptFlags
}

// Run implements the command.
func (c *TestCmd) Run(g *Globals, app *App) error {
	var filter func(string) bool
	if c.Match != "" {
		re, err := regexp.Compile(c.Match)
		if err != nil {
			return errext.Errorf(errext.Usage, "--run %q: %v", c.Match, err)
		}
		filter = re.MatchString
	}
	files, err := findTestFiles(c.Paths)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return errext.Errorf(errext.Usage, "no *_test.star files under %s", strings.Join(orDot(c.Paths), ", "))
	}
	ctx, stop := app.interruptible()
	defer stop()
	// Runs inside tests write their artifacts to a temporary directory,
	// relative artifact_dirs included (--artifacts keeps them).
	artifacts, err := os.MkdirTemp("", "loadstar-test-artifacts-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(artifacts)
	passed, failed := 0, 0
	for _, file := range files {
		sc, err := newScenario(app, g, c.ScriptFlags, file, false)
		if err != nil {
			return err
		}
		if c.Artifacts == "" {
			sc.env.ArtifactRoot, sc.env.ConfineArtifacts = artifacts, true
		}
		if !c.Verbose {
			sc.out.Stdout = nil // runs inside tests report only with -v
		}
		results, err := sc.host.RunTests(ctx, file, filter)
		sc.env.Close()
		if err != nil {
			failed++
			fmt.Fprintf(app.Stdout, "FAIL %s (load)\n%s\n", file, indent(err.Error()))
			continue
		}
		for _, r := range results {
			if r.Passed {
				passed++
				if c.Verbose {
					fmt.Fprintf(app.Stdout, "PASS %s %s (%.2fs)\n", r.File, r.Name, r.Elapsed.Seconds())
				}
				continue
			}
			failed++
			fmt.Fprintf(app.Stdout, "FAIL %s %s (%.2fs)\n", r.File, r.Name, r.Elapsed.Seconds())
			for _, f := range r.Failures {
				fmt.Fprintln(app.Stdout, indent(f))
			}
		}
	}
	if ctx.Err() != nil {
		return errext.Errorf(errext.Interrupted, "interrupted after %d passed, %d failed", passed, failed)
	}
	if failed > 0 {
		fmt.Fprintf(app.Stdout, "FAIL: %d passed, %d failed\n", passed, failed)
		return errext.Errorf(errext.TestsFailed, "%d of %d tests failed", failed, passed+failed)
	}
	fmt.Fprintf(app.Stdout, "ok: %d passed\n", passed)
	return nil
}

func orDot(paths []string) []string {
	if len(paths) == 0 {
		return []string{"."}
	}
	return paths
}

// findTestFiles expands files and directories into *_test.star files, sorted.
func findTestFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range orDot(paths) {
		st, err := os.Stat(p)
		if err != nil {
			return nil, errext.Errorf(errext.Usage, "%v", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), "_test.star") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
