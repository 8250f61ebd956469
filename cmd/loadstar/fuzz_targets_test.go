package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFuzzTargetsListed: every Go fuzz target in the module is run briefly
// by .ci/fuzz (CI), so that a new one cannot be left out.
func TestFuzzTargetsListed(t *testing.T) {
	script, err := os.ReadFile("../../.ci/fuzz")
	if err != nil {
		t.Fatal(err)
	}
	fuzzFunc := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(f \*testing\.F\)`)
	found := 0
	err = filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "../.." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		pkg := "./" + filepath.ToSlash(filepath.Dir(strings.TrimPrefix(path, "../../")))
		for _, m := range fuzzFunc.FindAllSubmatch(src, -1) {
			found++
			if want := `"` + pkg + " " + string(m[1]) + `"`; !strings.Contains(string(script), want) {
				t.Errorf("%s: %s is not run by .ci/fuzz (add the line %s)", path, m[1], want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Fatal("no fuzz target found: the walk is broken")
	}
}
