package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
)

// Environment variables that profile loadstar itself (docs/performance.md):
// a CPU profile (go tool pprof) and an execution trace (go tool trace) of
// the whole process, written when it exits normally.
const (
	envCPUProfile = "LOADSTAR_CPUPROFILE"
	envTrace      = "LOADSTAR_TRACE"
)

// startDiagnostics starts what the environment asks for and returns the
// function that finishes the files. A file that cannot be created is
// reported on stderr; the command still runs.
func startDiagnostics(getenv func(string) string, stderr io.Writer) (stop func()) {
	var stops []func()
	if path := getenv(envCPUProfile); path != "" {
		if f, err := os.Create(path); err != nil {
			fmt.Fprintf(stderr, "loadstar: %s: %v\n", envCPUProfile, err)
		} else if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "loadstar: %s: %v\n", envCPUProfile, err)
			f.Close()
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := getenv(envTrace); path != "" {
		if f, err := os.Create(path); err != nil {
			fmt.Fprintf(stderr, "loadstar: %s: %v\n", envTrace, err)
		} else if err := trace.Start(f); err != nil {
			fmt.Fprintf(stderr, "loadstar: %s: %v\n", envTrace, err)
			f.Close()
		} else {
			stops = append(stops, func() { trace.Stop(); f.Close() })
		}
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
