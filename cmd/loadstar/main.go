// Command loadstar benchmarks LLM inference servers with Starlark scenarios.
//
// Each command is one struct with a Run method, in its own file; main parses
// the command line with kong, runs the command, and renders any error once
// with its exit code and hint (see docs/exit-codes.md).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/internal/ui"
	"github.com/loadstar/loadstar/interp"
)

// Globals are the flags every command accepts; commands receive them through
// kong.Bind.
type Globals struct {
	LogLevel  LogLevel `help:"Log level: debug, info, warn, error (AIPerf's TRACE, DEBUG, INFO, NOTICE, WARNING, SUCCESS, ERROR, CRITICAL too)." default:"info" env:"LOADSTAR_LOG_LEVEL"`
	LogFormat string   `help:"Log format: text or json." default:"text" enum:"text,json" env:"LOADSTAR_LOG_FORMAT"`
}

// LogLevel is the --log-level flag: slog's level names, and AIPerf's
// (TRACE is debug-4; NOTICE and SUCCESS are info; CRITICAL is error),
// case-insensitive. It holds a name slog.Level.UnmarshalText reads.
type LogLevel string

// Decode implements kong.MapperValue.
func (l *LogLevel) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("level", &s); err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "trace":
		*l = "debug-4"
	case "debug":
		*l = "debug"
	case "info", "notice", "success":
		*l = "info"
	case "warn", "warning":
		*l = "warn"
	case "error", "critical":
		*l = "error"
	default:
		return fmt.Errorf("%q is not a level (expected debug, info, warn or error; or AIPerf's TRACE, DEBUG, INFO, NOTICE, WARNING, SUCCESS, ERROR, CRITICAL)", s)
	}
	return nil
}

// CLI is the command tree. Add a command by adding a field here and a file
// cmd/loadstar/<name>.go holding its struct.
type CLI struct {
	Globals

	Run          RunCmd          `cmd:"" help:"Run a scenario (.star file)."`
	Inspect      InspectCmd      `cmd:"" help:"Print the plan of a scenario without sending anything."`
	Profile      ProfileCmd      `cmd:"" help:"Benchmark with AIPerf's command line (aiperf profile flags); --emit-scenario prints the equivalent scenario."`
	Test         TestCmd         `cmd:"" help:"Run test_* functions of *_test.star files."`
	Doc          DocCmd          `cmd:"" help:"Print the reference of builtins and plugin constructors."`
	Plot         PlotCmd         `cmd:"" help:"Draw charts (PNG, SVG) of finished runs: one run over time, or several runs and sweeps compared."`
	Report       ReportCmd       `cmd:"" help:"Write one self-contained HTML report of finished runs (charts, tables, verdict; comparison of several)."`
	Merge        MergeCmd        `cmd:"" help:"Join the results of a sharded benchmark (loadstar run --shard I/N) into the artifacts one process would have written."`
	Kube         KubeCmd         `cmd:"" help:"Run a sharded benchmark on Kubernetes: generate manifests, run and collect, merge."`
	Compare      CompareCmd      `cmd:"" help:"Compare two finished runs: changes in percent, significance against noise, limits (exit 12 when crossed)."`
	AnalyzeTrace AnalyzeTraceCmd `cmd:"" name:"analyze-trace" help:"Report what a request trace holds: ISL/OSL distributions, prefix reuse and cache hit rate, arrival rate over time, burstiness, sessions (AIPerf's analyze-trace)."`
	Synthesize   SynthesizeCmd   `cmd:"" help:"Write a new trace with a trace's statistics rescaled in rate, prompt and answer length, or prefix sharing (AIPerf's trace synthesis)."`
	Mock         MockCmd         `cmd:"" help:"Run the embedded mock LLM server (OpenAI, Anthropic, TGI, TEI, Cohere, NIM APIs) until Ctrl-C."`
	Plugins      PluginsCmd      `cmd:"" help:"List, describe and validate plugins and plugin packages."`
	Version      VersionCmd      `cmd:"" help:"Print the version."`
}

// App is what commands get bound: the output streams and the logger.
type App struct {
	Stdout io.Writer
	Stderr io.Writer
	// Progress is stderr as the progress UIs and the logger share it: a
	// full-screen UI holds log lines until it gives the screen back.
	Progress io.Writer
	Logger   *slog.Logger

	// signals takes Ctrl-C and SIGTERM once a command asks for them
	// (interruptible); nil before.
	signals *signals
}

// interruptible returns the command's context, cancelled by Ctrl-C or
// SIGTERM (a second one exits at once, see signals), and the function
// that gives the signals back.
func (app *App) interruptible() (context.Context, func()) {
	screen := app.Progress
	if screen == nil {
		screen = app.Stderr
	}
	app.signals = watchSignals(screen, os.Exit)
	return app.signals.ctx, app.signals.stop
}

func main() {
	os.Exit(int(processMain()))
}

// processMain runs loadstar as the process: on its own standard streams,
// which a closed pipe cannot stop (see pipeOutput).
func processMain() errext.ExitCode {
	catchSIGPIPE()
	stdout, stderr := guardOutputs(os.Stdout, os.Stderr)
	defer startDiagnostics(os.Getenv, stderr)()
	return runMain(os.Args[1:], stdout, stderr)
}

// runMain runs the command line and returns the exit code. Tests call it.
func runMain(args []string, stdout, stderr io.Writer) (code errext.ExitCode) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(exitRequest); ok { // --help, --version from kong
				code = errext.ExitCode(e)
				return
			}
			fmt.Fprintf(stderr, "loadstar: internal error: %v\n", r)
			code = errext.Generic
		}
	}()
	var cli CLI
	parser, err := kong.New(&cli,
		kong.Name("loadstar"),
		kong.Description("Benchmark LLM inference servers with Starlark scenarios."),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Exit(func(c int) { panic(exitRequest(c)) }),
	)
	if err != nil {
		fmt.Fprintf(stderr, "loadstar: %v\n", err)
		return errext.Generic
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		var pe *kong.ParseError
		if errors.As(err, &pe) {
			fmt.Fprintf(stderr, "loadstar: %v\n", err)
			if len(args) > 0 && args[0] == "profile" && strings.Contains(err.Error(), "unknown flag") {
				fmt.Fprintln(stderr, "hint: loadstar profile takes AIPerf's flags; an AIPerf flag it does not know is not supported (docs/profile.md lists them)")
			}
			return errext.Usage
		}
		fmt.Fprintf(stderr, "loadstar: %v\n", err)
		return errext.Usage
	}
	if kctx.Command() == "" {
		return errext.Success // --help was printed
	}
	termw := ui.NewTerminal(stderr)
	app := &App{Stdout: stdout, Stderr: stderr, Progress: termw, Logger: newLogger(termw, cli.Globals)}
	err = kctx.Run(&cli.Globals, app)
	return report(stderr, err)
}

// exitRequest carries kong's request to exit (after --help) out of Parse.
type exitRequest int

// report renders err once: the message, then the hint, and returns its code.
func report(stderr io.Writer, err error) errext.ExitCode {
	if err == nil {
		return errext.Success
	}
	code := errext.ExitCodeOf(err)
	var se *interp.ScriptError
	if errors.As(err, &se) {
		// A script error is already rendered (backtrace with positions).
		fmt.Fprintf(stderr, "%s\n", se.Msg)
	} else {
		fmt.Fprintf(stderr, "loadstar: %v\n", err)
	}
	if hint := errext.HintOf(err); hint != "" {
		fmt.Fprintf(stderr, "hint: %s\n", hint)
	}
	return code
}
