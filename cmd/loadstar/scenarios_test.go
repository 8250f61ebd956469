package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExampleScenarios inspects and runs every scenario users copy as they
// would: `loadstar run scenarios/FILE.star` from the directory holding
// scenarios/ (a copy of the repository's, so that the artifacts they write
// under ./artifacts land in a temporary directory), with no flag but the
// fast configuration (--var quick=true --var requests=20). Library roots
// and plugin folders come from scenarios/loadstar.yaml.
func TestExampleScenarios(t *testing.T) {
	files, err := filepath.Glob("../../scenarios/*.star")
	if err != nil || len(files) < 9 {
		t.Fatalf("expected the example scenarios, found %d (%v)", len(files), err)
	}
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "scenarios"), os.DirFS("../../scenarios")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	quick := []string{"--var", "quick=true", "--var", "requests=20"}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".star")
		rel := filepath.Join("scenarios", name+".star")
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := runMain(append([]string{"inspect", rel}, quick...), &out, &errb); code != 0 {
				t.Fatalf("inspect exited %d:\n%s\n%s", code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), "nothing was sent") || !strings.Contains(out.String(), "step 1") {
				t.Fatalf("inspect printed no plan:\n%s", out.String())
			}
			if testing.Short() {
				return
			}
			out.Reset()
			errb.Reset()
			before := countRuns()
			if code := runMain(append([]string{"run", rel}, quick...), &out, &errb); code != 0 {
				t.Fatalf("run exited %d:\n%s\n%s", code, out.String(), errb.String())
			}
			if countRuns() == before {
				t.Fatalf("no new artifacts under ./artifacts; stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
			}
		})
	}
}

// countRuns counts the runs under ./artifacts.
func countRuns() int {
	n := 0
	_ = filepath.WalkDir("artifacts", func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "profile_export_aiperf.json" {
			n++
		}
		return nil
	})
	return n
}
