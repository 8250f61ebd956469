package main

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/loadstar/loadstar/internal/golden"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"loadstar": func() { os.Exit(int(runMain(os.Args[1:], os.Stdout, os.Stderr))) },
	})
}

// TestScripts runs the end-to-end CLI scripts in testdata/script: each is a
// txtar archive of files plus commands and their expected output and exit
// codes (fortio-style). Refresh expectations with `go test ./cmd/loadstar -update`.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: golden.Update(),
		Cmds: map[string]func(*testscript.TestScript, bool, []string){"exits": cmdExits, "waitfile": cmdWaitFile,
			"sleep": func(ts *testscript.TestScript, neg bool, args []string) {
				d, err := time.ParseDuration(args[0])
				if err != nil || neg || len(args) != 1 {
					ts.Fatalf("usage: sleep DURATION")
				}
				time.Sleep(d)
			}},
		Setup: func(env *testscript.Env) error {
			env.Setenv("LOADSTAR_LOG_FORMAT", "text")
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
