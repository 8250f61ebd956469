package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/loadstar/loadstar/internal/golden"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"loadstar": func() { os.Exit(int(processMain())) },
	})
}

// TestScripts runs the end-to-end CLI scripts in testdata/script: each is a
// txtar archive of files plus commands and their expected output and exit
// codes (fortio-style). Refresh expectations with `go test ./cmd/loadstar -update`.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: golden.Update(),
		Cmds: map[string]func(*testscript.TestScript, bool, []string){"exits": cmdExits, "waitfile": cmdWaitFile, "waitpane": cmdWaitPane,
			"sleep": func(ts *testscript.TestScript, neg bool, args []string) {
				d, err := time.ParseDuration(args[0])
				if err != nil || neg || len(args) != 1 {
					ts.Fatalf("usage: sleep DURATION")
				}
				time.Sleep(d)
			}},
		Setup: func(env *testscript.Env) error {
			env.Setenv("LOADSTAR_LOG_FORMAT", "text")
			scenarios, err := filepath.Abs("../../scenarios")
			if err != nil {
				return err
			}
			env.Setenv("SCENARIOS", scenarios) // the shipped scenarios, e.g. the README's quickstart
			// A tmux server of the script's own: it starts with the
			// script's environment (PATH to loadstar) and dies with it.
			env.Setenv("TMUXSOCK", "loadstar-test-"+strconv.Itoa(os.Getpid())+"-"+filepath.Base(env.WorkDir))
			env.Defer(func() {
				sock := env.Getenv("TMUXSOCK")
				_ = exec.Command("tmux", "-L", sock, "kill-server").Run()
				dir := os.Getenv("TMUX_TMPDIR")
				if dir == "" {
					dir = "/tmp"
				}
				_ = os.Remove(filepath.Join(dir, "tmux-"+strconv.Itoa(os.Getuid()), sock))
			})
			return nil
		},
	})
}

// cmdExits runs a command and checks its exit code:
//
//	exits 3 loadstar run bad.star
//
// stdout and stderr are kept for the following stdout/stderr commands.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// cmdWaitFile waits until a file exists (a background run has started):
//
//	waitfile out/run/profile_export.jsonl 20s
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfile PATH TIMEOUT")
	}
	limit, err := time.ParseDuration(args[1])
	if err != nil {
		ts.Fatalf("waitfile: %v", err)
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.Fatalf("waitfile: %s did not appear within %s", args[0], limit)
}

// cmdWaitPane waits until the screen of a tmux session (on its own server
// socket) matches a regular expression, and leaves the screen in pane.txt
// for grep:
//
//	waitpane SOCKET 'Latency \(ms\)' 30s
func cmdWaitPane(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: waitpane SOCKET REGEXP TIMEOUT")
	}
	re, err := regexp.Compile(args[1])
	if err != nil {
		ts.Fatalf("waitpane: %v", err)
	}
	limit, err := time.ParseDuration(args[2])
	if err != nil {
		ts.Fatalf("waitpane: %v", err)
	}
	var screen []byte
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		screen, err = exec.Command("tmux", "-L", args[0], "capture-pane", "-p", "-t", "0").Output()
		if err == nil && re.Match(screen) {
			if err := os.WriteFile(ts.MkAbs("pane.txt"), screen, 0o644); err != nil {
				ts.Fatalf("waitpane: %v", err)
			}
			return
		}
	}
	ts.Fatalf("waitpane: %q did not appear within %s; the screen:\n%s", args[1], limit, screen)
}

// TestStdlibTests runs the standard library's own tests (stdlib/*_test.star)
// with loadstar test, as a user runs the tests of a scenario library.
func TestStdlibTests(t *testing.T) {
	if testing.Short() {
		t.Skip("runs benchmarks against the mock")
	}
	var out, errb bytes.Buffer
	if code := runMain([]string{"test", "-v", "../../stdlib"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, f := range []string{"assert_test.star", "slo_test.star", "sweeps_test.star", "compat_test.star"} {
		if !regexp.MustCompile(`PASS \S*stdlib/` + f).MatchString(out.String()) {
			t.Errorf("no passing test of %s:\n%s", f, out.String())
		}
	}
}
