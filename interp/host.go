// Package interp is the Starlark host: it runs scenario files with a module
// loader (relative paths, @stdlib//, named library roots), script variables,
// an execution-step budget, cancellation on Ctrl-C and errors rendered as
// Python-style backtraces with file:line:col.
//
// Scripts are sandboxed: they see only the predeclared names the caller
// passes (the builtins package); there is no file, network or environment
// access except through those builtins, and a memory budget and a nesting
// limit (sandbox.go) end runaway scripts with an error at their file:line
// before they can take the process down. print() writes its line, plain, to
// the host's stdout (as Bazel's print and k6's console.log), whatever the
// log level.
package interp

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Options configure a Host.
type Options struct {
	// Predeclared are the names every module sees (built by package builtins).
	Predeclared starlark.StringDict
	// Stdlib serves @stdlib//name.star modules; nil disables them.
	Stdlib fs.FS
	// Libs maps library root names (@name//) to directories.
	Libs map[string]string
	// Vars are script variables, already parsed (see ParseVars).
	Vars *Vars
	// MaxSteps bounds the execution steps of the top-level script and
	// everything it loads (0 = DefaultMaxSteps).
	MaxSteps uint64
	// MaxMemory is the script memory budget in bytes (0 = DefaultMaxMemory):
	// how far the heap may grow while script code runs (sandbox.go).
	MaxMemory uint64
	// AbortScript ends the process when a script passes twice its memory
	// budget inside a builtin call that cancellation cannot stop; nil
	// leaves it running (tests).
	AbortScript func(error)
	// Stdout receives print() lines; nil discards them.
	Stdout io.Writer
	// Logger receives print() output under QuietPrint; nil discards it.
	Logger *slog.Logger
	// Locals are set on every thread the host creates (SetLocal), so that
	// builtins can reach host-owned state (run context, plan recorder, ...).
	Locals map[string]any
	// QuietPrint logs print() at debug level (with the script's file:line)
	// instead of writing to Stdout: under `loadstar inspect` the results a
	// script prints are placeholders.
	QuietPrint bool
}

// DefaultMaxSteps bounds a top-level script: ample for sweeps and searches,
// small enough that a runaway loop ends within seconds.
const DefaultMaxSteps = 100_000_000

// FileOptions are the dialect scenarios are written in: top-level for/if
// (sweeps are written at top level), set(), but no while and no recursion,
// so every script terminates.
var FileOptions = &syntax.FileOptions{Set: true, TopLevelControl: true}

// Host runs scenario files. It is not safe for concurrent use.
type Host struct {
	opts    Options
	modules map[string]*moduleEntry // by canonical module key
	stack   []string                // keys of modules whose top level is executing
}

// New returns a host.
func New(opts Options) *Host {
	if opts.MaxSteps == 0 {
		opts.MaxSteps = DefaultMaxSteps
	}
	if opts.MaxMemory == 0 {
		opts.MaxMemory = DefaultMaxMemory
	}
	if opts.Vars == nil {
		opts.Vars = &Vars{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Host{opts: opts, modules: map[string]*moduleEntry{}}
}

// threadLocalHost is the key under which each thread carries its *Host.
const threadLocalHost = "loadstar.host"

// threadLocalContext is the key under which each thread carries the
// context.Context of the run (cancelled on Ctrl-C).
const threadLocalContext = "loadstar.context"

// ContextOf returns the context of the thread (context.Background if none).
func ContextOf(thread *starlark.Thread) context.Context {
	if ctx, ok := thread.Local(threadLocalContext).(context.Context); ok {
		return ctx
	}
	return context.Background()
}

// NewThread returns a thread wired to this host: loader, print, step limit,
// thread locals, and cancellation when ctx ends.
func (h *Host) NewThread(ctx context.Context, name string) (*starlark.Thread, func()) {
	thread := &starlark.Thread{
		Name:  name,
		Load:  h.load,
		Print: h.print,
	}
	mem := newMemoryWatch(h.opts.MaxMemory, thread, h.opts.MaxSteps, h.opts.AbortScript)
	ctx = context.WithValue(ctx, memoryWatchKey{}, mem)
	thread.SetLocal(threadLocalHost, h)
	thread.SetLocal(threadLocalContext, ctx)
	for k, v := range h.opts.Locals {
		thread.SetLocal(k, v)
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			thread.Cancel("interrupted")
		case <-done:
		}
	}()
	go mem.watch(done)
	return thread, func() { close(done) }
}

// ExecFile runs the scenario at path and returns its frozen globals.
// Errors are *ScriptError values carrying an exit code (see errors.go).
func (h *Host) ExecFile(ctx context.Context, path string) (starlark.StringDict, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, scriptErrorf("%s: %v", path, err)
	}
	src, err := os.ReadFile(abs)
	if err != nil {
		return nil, scriptErrorf("cannot read scenario %s: %v", path, err)
	}
	thread, stop := h.NewThread(ctx, "main")
	defer stop()
	key := abs
	entry := &moduleEntry{display: displayPath(abs), loading: true}
	h.modules[key] = entry
	h.stack = append(h.stack[:0], key)
	globals, err := starlark.ExecFileOptions(FileOptions, thread, entry.display, src, h.predeclared(key))
	h.stack = h.stack[:0]
	entry.loading = false
	if err != nil {
		entry.err = err
		return nil, wrapScriptError(err, thread)
	}
	globals.Freeze()
	entry.globals = globals
	return globals, nil
}

// predeclared returns the names visible to module key: the caller's
// predeclared names plus `vars`.
func (h *Host) predeclared(key string) starlark.StringDict {
	d := make(starlark.StringDict, len(h.opts.Predeclared)+1)
	for k, v := range h.opts.Predeclared {
		d[k] = v
	}
	d["vars"] = h.opts.Vars
	h.guardedBuiltins(d)
	if strings.HasPrefix(key, stdlibPrefix) {
		d[nativeName] = native()
	}
	return d
}

// print writes one line per call, in a single write so that it is never
// split by other output sharing the stream.
func (h *Host) print(thread *starlark.Thread, msg string) {
	if h.opts.QuietPrint {
		pos := "?"
		// The innermost frame of the script (print's and the sandbox's
		// wrapper are builtins).
		for i := 1; i < thread.CallStackDepth(); i++ {
			if p := thread.CallFrame(i).Pos; p.Filename() != "<builtin>" {
				pos = p.String()
				break
			}
		}
		h.opts.Logger.Log(context.Background(), slog.LevelDebug, msg, "script", pos)
		return
	}
	if h.opts.Stdout != nil {
		_, _ = io.WriteString(h.opts.Stdout, msg+"\n")
	}
}

// displayPath shortens an absolute path to one relative to the working
// directory when that is shorter, so messages read like the command line.
func displayPath(abs string) string {
	wd, err := os.Getwd()
	if err != nil {
		return abs
	}
	if rel, err := filepath.Rel(wd, abs); err == nil && len(rel) < len(abs) && !startsWithDotDot(rel) {
		return rel
	}
	return abs
}

func startsWithDotDot(p string) bool {
	return len(p) >= 2 && p[:2] == ".." && (len(p) == 2 || p[2] == filepath.Separator)
}
