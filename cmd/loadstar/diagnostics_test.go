package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// LOADSTAR_CPUPROFILE and LOADSTAR_TRACE write their files when the
// process ends; a path that cannot be created is named with its variable
// and the command goes on.
func TestDiagnosticsWriteTheirFiles(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"LOADSTAR_CPUPROFILE": filepath.Join(dir, "cpu.pprof"), "LOADSTAR_TRACE": filepath.Join(dir, "trace.out")}
	var stderr bytes.Buffer
	stop := startDiagnostics(func(k string) string { return env[k] }, &stderr)
	stop()
	for k, path := range env {
		if st, err := os.Stat(path); err != nil || st.Size() == 0 {
			t.Errorf("%s: %s not written (%v)", k, path, err)
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr: %s", &stderr)
	}
	env = map[string]string{"LOADSTAR_TRACE": filepath.Join(dir, "missing", "trace.out")}
	startDiagnostics(func(k string) string { return env[k] }, &stderr)()
	if !strings.Contains(stderr.String(), "LOADSTAR_TRACE: open") {
		t.Errorf("a path that cannot be created: stderr %q", &stderr)
	}
}
