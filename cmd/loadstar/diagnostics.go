package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
)

// diagnostics are the environment variables that profile loadstar itself
// (docs/performance.md): a CPU profile (go tool pprof) and an execution
// trace (go tool trace) of the whole process, written when it exits
// normally.
var diagnostics = []struct {
	env   string
	start func(io.Writer) error
	stop  func()
}{
	{"LOADSTAR_CPUPROFILE", pprof.StartCPUProfile, pprof.StopCPUProfile},
	{"LOADSTAR_TRACE", trace.Start, trace.Stop},
}

// startDiagnostics starts what the environment asks for and returns the
// function that finishes the files. A file that cannot be created is
// reported on stderr; the command still runs.
func startDiagnostics(getenv func(string) string, stderr io.Writer) (stop func()) {
	var stops []func()
	for _, d := range diagnostics {
		path := getenv(d.env)
		if path == "" {
			continue
		}
		f, err := os.Create(path)
		if err == nil {
			if err = d.start(f); err != nil {
				f.Close()
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "loadstar: %s: %v\n", d.env, err)
			continue
		}
		stops = append(stops, func() { d.stop(); f.Close() })
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
