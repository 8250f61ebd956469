package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps failures instead of failing.
type recorder struct {
	testing.TB
	failed []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }
func (r *recorder) Fatal(args ...any)                 { r.Errorf("%s", fmt.Sprint(args...)) }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	if err := os.WriteFile(path, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	r := &recorder{TB: t}
	Check(r, path, []byte("a\nb\nc\n"))
	if len(r.failed) != 0 {
		t.Fatalf("equal output failed: %v", r.failed)
	}

	Check(r, path, []byte("a\nB\nc\n"))
	if len(r.failed) != 1 {
		t.Fatalf("different output: failures %v, want one", r.failed)
	}
	for _, want := range []string{"line 2", "- b", "+ B", "-run '^TestCheck$' -update", "./internal/golden"} {
		if !strings.Contains(r.failed[0], want) {
			t.Errorf("failure lacks %q:\n%s", want, r.failed[0])
		}
	}

	r.failed = nil
	Check(r, filepath.Join(t.TempDir(), "missing.txt"), []byte("x"))
	if len(r.failed) != 1 || !strings.Contains(r.failed[0], "-update") {
		t.Fatalf("missing file: %v", r.failed)
	}
}

func TestCheckUpdateWrites(t *testing.T) {
	defer func(v bool) { *update = v }(*update)
	*update = true
	path := filepath.Join(t.TempDir(), "sub", "new.txt")
	r := &recorder{TB: t}
	Check(r, path, []byte("fresh\n"))
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "fresh\n" || len(r.failed) != 0 {
		t.Fatalf("update wrote %q, %v, failures %v", got, err, r.failed)
	}
	if !Update() {
		t.Error("Update() is false with -update set")
	}
}

func TestDiff(t *testing.T) {
	if d := Diff([]byte("same"), []byte("same")); d != "" {
		t.Errorf("equal inputs: %q", d)
	}
	d := Diff([]byte("1\n2\n3\n4\n"), []byte("1\n2\n3\n"))
	want := "first difference at line 4 (file has 5 lines, output 4):\n  2\n  3\n- 4\n+ "
	if d != want {
		t.Errorf("Diff =\n%s\nwant\n%s", d, want)
	}
}
