package interp

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"go.starlark.net/starlark"

	"github.com/loadstar/loadstar/engine/errext"
)

// writeFiles creates files (name → content) under a temp dir and returns it.
func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func run(t *testing.T, opts Options, dir, main string) (starlark.StringDict, string, error) {
	t.Helper()
	var logs bytes.Buffer
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	if opts.Stdout == nil {
		opts.Stdout = &logs
	}
	h := New(opts)
	g, err := h.ExecFile(context.Background(), filepath.Join(dir, main))
	return g, logs.String(), err
}

func TestLoadRelativeCachedAndFrozen(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"main.star":       "load('lib/a.star', 'a')\nload('lib/b.star', 'b')\nx = a + b\n",
		"lib/a.star":      "load('shared.star', 'items')\nprint('loading a')\na = len(items)\n",
		"lib/b.star":      "load('./shared.star', 'items')\nb = len(items) * 10\n",
		"lib/shared.star": "print('loading shared')\nitems = [1, 2]\n",
	})
	g, logs, err := run(t, Options{}, dir, "main.star")
	if err != nil {
		t.Fatal(err)
	}
	if got := g["x"].(starlark.Int); got.String() != "22" {
		t.Fatalf("x = %s, want 22", got)
	}
	if n := strings.Count(logs, "loading shared"); n != 1 {
		t.Fatalf("shared.star executed %d times, want once (cache); logs:\n%s", n, logs)
	}
	if logs != "loading shared\nloading a\n" {
		t.Fatalf("print must write its plain lines in order; got:\n%s", logs)
	}
}

// TestPrintIsPlainWhateverTheLogLevel: print() lines go to Stdout as they
// are (no timestamp, level or position), even when the logger drops info;
// under QuietPrint (inspect) they become debug log lines with the position.
func TestPrintIsPlainWhateverTheLogLevel(t *testing.T) {
	dir := writeFiles(t, map[string]string{"main.star": "print('p99', 1.5, 'ms')\ndef f():\n    print('in f')\nf()\n"})
	var out, logs bytes.Buffer
	quiet := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelError}))
	if _, err := New(Options{Stdout: &out, Logger: quiet}).ExecFile(context.Background(), filepath.Join(dir, "main.star")); err != nil {
		t.Fatal(err)
	}
	if out.String() != "p99 1.5 ms\nin f\n" || logs.Len() != 0 {
		t.Errorf("stdout %q, logs %q", out.String(), logs.String())
	}
	out.Reset()
	debug := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if _, err := New(Options{Stdout: &out, Logger: debug, QuietPrint: true}).ExecFile(context.Background(), filepath.Join(dir, "main.star")); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 || !strings.Contains(logs.String(), "main.star:3:10") {
		t.Errorf("quiet print: stdout %q, logs %q", out.String(), logs.String())
	}
}

func TestLoadedGlobalsAreFrozen(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"main.star": "load('m.star', 'items')\nitems.append(3)\n",
		"m.star":    "items = [1]\n",
	})
	_, _, err := run(t, Options{}, dir, "main.star")
	if err == nil || !strings.Contains(err.Error(), "frozen") {
		t.Fatalf("want frozen-list error, got %v", err)
	}
}

func TestStdlibAndLibraryRoots(t *testing.T) {
	team := writeFiles(t, map[string]string{
		"slo/presets.star": "load('../common.star', 'base')\nttft = base * 2\n",
		"common.star":      "base = 250\n",
	})
	dir := writeFiles(t, map[string]string{
		"main.star": "load('@stdlib//math2.star', 'double')\nload('@team//slo/presets.star', 'ttft')\nv = double(ttft)\n",
	})
	std := fstest.MapFS{"math2.star": {Data: []byte("load('helpers.star', 'twice')\ndef double(x):\n    return twice(x)\n")},
		"helpers.star": {Data: []byte("def twice(x):\n    return 2 * x\n")}}
	g, _, err := run(t, Options{Stdlib: std, Libs: map[string]string{"team": team}}, dir, "main.star")
	if err != nil {
		t.Fatal(err)
	}
	if g["v"].String() != "1000" {
		t.Fatalf("v = %s", g["v"])
	}
}

func TestMissingModuleNamesSiteAndSearchedPaths(t *testing.T) {
	dir := writeFiles(t, map[string]string{"main.star": "x = 1\nload('nope.star', 'y')\n"})
	_, _, err := run(t, Options{}, dir, "main.star")
	if err == nil {
		t.Fatal("want error")
	}
	msg := err.Error()
	for _, want := range []string{"nope.star not found", "main.star:2:1", filepath.Join(dir, "nope.star")} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if errext.ExitCodeOf(err) != errext.ScriptError {
		t.Errorf("exit code %v", errext.ExitCodeOf(err))
	}
}

func TestUnknownLibraryRoot(t *testing.T) {
	dir := writeFiles(t, map[string]string{"main.star": "load('@ghost//x.star', 'y')\n"})
	_, _, err := run(t, Options{}, dir, "main.star")
	if err == nil || !strings.Contains(err.Error(), "unknown library root @ghost") || !strings.Contains(err.Error(), "--lib ghost=DIR") {
		t.Fatalf("got %v", err)
	}
}

func TestCycleDetected(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"main.star": "load('a.star', 'a')\n",
		"a.star":    "load('b.star', 'b')\na = 1\n",
		"b.star":    "load('a.star', 'a')\nb = 1\n",
	})
	_, _, err := run(t, Options{}, dir, "main.star")
	a, b := filepath.Join(dir, "a.star"), filepath.Join(dir, "b.star")
	if err == nil || !strings.Contains(err.Error(), "cycle in load graph: "+a+" -> "+b+" -> "+a) {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "(load at "+b+":1:1)") {
		t.Fatalf("cycle error must name the load site: %v", err)
	}
}

func TestErrorsInLoadedModulesRenderPositions(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"main.star":    "load('runtime.star', 'f')\n",
		"runtime.star": "def g(x):\n    return 1 // x\nf = g(0)\n",
		"syn.star":     "load('bad.star', 'z')\n",
		"bad.star":     "z = (1 +\n",
	})
	_, _, err := run(t, Options{}, dir, "main.star")
	if err == nil {
		t.Fatal("want error")
	}
	msg := err.Error()
	for _, want := range []string{"Traceback", "runtime.star:3:6: in <toplevel>", "runtime.star:2:14: in g", "floored division by zero", "main.star:1:1: in <toplevel>"} {
		if !strings.Contains(msg, want) {
			t.Errorf("runtime error lacks %q:\n%s", want, msg)
		}
	}
	_, _, err = run(t, Options{}, dir, "syn.star")
	if err == nil || !strings.Contains(err.Error(), "bad.star:2:1") || !strings.Contains(err.Error(), "loaded from "+filepath.Join(dir, "syn.star")+":1:1") {
		t.Fatalf("syntax error in loaded module: %v", err)
	}
}

func TestStepLimitAndCancellation(t *testing.T) {
	dir := writeFiles(t, map[string]string{"main.star": "def f():\n    n = 0\n    for i in range(100000000):\n        n += i\n    return n\nx = f()\n"})
	_, _, err := run(t, Options{MaxSteps: 10000}, dir, "main.star")
	if errext.ExitCodeOf(err) != errext.StepLimit || !strings.Contains(err.Error(), "10000 execution steps") {
		t.Fatalf("step limit: code %v err %v", errext.ExitCodeOf(err), err)
	}
	if errext.HintOf(err) == "" {
		t.Error("step limit error must carry a hint")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	h := New(Options{MaxSteps: 1 << 62})
	_, err = h.ExecFile(ctx, filepath.Join(dir, "main.star"))
	if errext.ExitCodeOf(err) != errext.Interrupted {
		t.Fatalf("cancellation: code %v err %v", errext.ExitCodeOf(err), err)
	}
}

func TestVarsKeepTheirTextUntilAsked(t *testing.T) {
	vars, err := ParseVars([]string{"rate=10", "ratio=0.5", "stream=true", "model=llama", "empty=", "api_key=0123456", "list=a,b", "rates=8, 16", "cfg={\"a\": [1, 2.5]}", "rate=12"})
	if err != nil {
		t.Fatal(err)
	}
	dir := writeFiles(t, map[string]string{"main.star": `
key = vars["api_key"]
r = vars.get("rate", 1) + 1
raw = vars["rate"]
f = vars.get("ratio", 1.0) * 2
s = vars.get("stream", False) and vars["model"] == "llama"
d = vars.get("missing", 5)
n = vars.get("missing")
e = vars["empty"]
l = vars["list"]
rs = vars.get("rates", [1])
c = vars.get("cfg", {})
has = "model" in vars and not ("nope" in vars)
ks = vars.keys()
`})
	g, _, err := run(t, Options{Vars: vars}, dir, "main.star")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"key": `"0123456"`, "r": "13", "raw": `"12"`, "f": "1.0", "s": "True", "d": "5", "n": "None", "e": `""`,
		"l": `"a,b"`, "rs": "[8, 16]", "c": `{"a": [1, 2.5]}`, "has": "True",
		"ks": `["rate", "ratio", "stream", "model", "empty", "api_key", "list", "rates", "cfg"]`,
	} {
		if got := g[k].String(); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	if _, err := ParseVars([]string{"novalue"}); errext.ExitCodeOf(err) != errext.Usage {
		t.Errorf("bad --var: %v", err)
	}
}

func TestVarsErrorsNameTheVariable(t *testing.T) {
	vars, _ := ParseVars([]string{"rate=fast", "model=m"})
	for src, want := range map[string]string{
		`x = vars.get("rate", 10)`:    `--var rate=fast: not an int (vars.get("rate", 10) wants the type of its default)`,
		`x = vars.get("rate", False)`: `--var rate=fast: not a bool`,
		`x = vars["modle"]`:           `vars: no variable "modle" (did you mean model?); give it with --var modle=VALUE`,
	} {
		dir := writeFiles(t, map[string]string{"main.star": src + "\n"})
		_, _, err := run(t, Options{Vars: vars}, dir, "main.star")
		if err == nil || !strings.Contains(err.Error(), want) || errext.ExitCodeOf(err) != errext.Usage {
			t.Errorf("%s: code %d, error %v\nwant %q", src, errext.ExitCodeOf(err), err, want)
		}
	}
}

func TestParseLibs(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	libs, err := ParseLibs([]string{"team=" + b}, "team="+a+string(os.PathListSeparator)+"other="+a)
	if err != nil {
		t.Fatal(err)
	}
	if libs["team"] != b || libs["other"] != a {
		t.Fatalf("libs = %v (flag must win over env)", libs)
	}
	for _, bad := range []string{"noequals", "stdlib=" + a, "x=/does/not/exist"} {
		if _, err := ParseLibs([]string{bad}, ""); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
