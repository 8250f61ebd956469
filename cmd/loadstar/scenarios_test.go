package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scenarioArgs reads the `# loadstar-args:` line of a scenario: flags it
// needs (plugin folders, library roots), with paths relative to the file.
func scenarioArgs(t *testing.T, file string) []string {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var args []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		rest, ok := strings.CutPrefix(line, "# loadstar-args:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		for i := 0; i < len(fields); i++ {
			args = append(args, fields[i])
			if (fields[i] == "--plugins" || fields[i] == "--lib") && i+1 < len(fields) {
				v := fields[i+1]
				if name, dir, ok := strings.Cut(v, "="); ok && fields[i] == "--lib" {
					v = name + "=" + filepath.Join(filepath.Dir(file), dir)
				} else {
					v = filepath.Join(filepath.Dir(file), v)
				}
				args = append(args, v)
				i++
			}
		}
	}
	return args
}

// TestExampleScenarios inspects and runs every scenario users copy, against
// the embedded mock, in the fast configuration (--var quick=true).
func TestExampleScenarios(t *testing.T) {
	files, err := filepath.Glob("../../scenarios/*.star")
	if err != nil || len(files) < 9 {
		t.Fatalf("expected the example scenarios, found %d (%v)", len(files), err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".star")
		t.Run(name, func(t *testing.T) {
			extra := scenarioArgs(t, file)
			var out, errb bytes.Buffer
			args := append([]string{"inspect", "--var", "quick=true"}, extra...)
			if code := runMain(append(args, file), &out, &errb); code != 0 {
				t.Fatalf("inspect exited %d:\n%s\n%s", code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), "nothing was sent") || !strings.Contains(out.String(), "step 1") {
				t.Fatalf("inspect printed no plan:\n%s", out.String())
			}
			if testing.Short() {
				return
			}
			dir := t.TempDir()
			out.Reset()
			errb.Reset()
			args = append([]string{"run", "--var", "quick=true", "--var", "out=" + filepath.Join(dir, "out"), "--artifacts", dir}, extra...)
			if code := runMain(append(args, file), &out, &errb); code != 0 {
				t.Fatalf("run exited %d:\n%s\n%s", code, out.String(), errb.String())
			}
			jsons, _ := filepath.Glob(filepath.Join(dir, "**", "profile_export_aiperf.json"))
			more, _ := filepath.Glob(filepath.Join(dir, "*", "*", "profile_export_aiperf.json"))
			deeper, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*", "profile_export_aiperf.json"))
			top, _ := filepath.Glob(filepath.Join(dir, "*", "profile_export_aiperf.json"))
			if len(jsons)+len(more)+len(deeper)+len(top) == 0 {
				t.Fatalf("no artifacts under %s; stdout:\n%s\nstderr:\n%s", dir, out.String(), errb.String())
			}
		})
	}
}
