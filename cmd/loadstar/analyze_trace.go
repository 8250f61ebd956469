package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/internal/traces"
)

// AnalyzeTraceCmd reports what a token-count trace holds (AIPerf's
// analyze-trace): ISL/OSL distributions, prefix reuse and the hit rate of
// an infinite prefix cache, plus the arrival rate over time, burstiness and
// session shape.
type AnalyzeTraceCmd struct {
	File       string  `arg:"" optional:"" type:"existingfile" help:"The trace: Mooncake JSONL, Bailian JSONL or BurstGPT CSV."`
	InputFile  string  `name:"input-file" type:"existingfile" placeholder:"FILE" help:"The trace (AIPerf's spelling of FILE)."`
	Format     string  `name:"format" placeholder:"TYPE" help:"mooncake_trace, bailian_trace or burst_gpt_trace (default: detected)."`
	BlockSize  int     `name:"block-size" placeholder:"N" help:"Tokens per hash id (default: the format's, 512 for mooncake_trace, 16 for bailian_trace)."`
	Window     float64 `name:"window" placeholder:"SEC" help:"Width of the arrival-rate windows in seconds (default: 1, 10, 60, 600 or 3600, the smallest giving at most 60 windows)."`
	OutputFile string  `name:"output-file" placeholder:"FILE" help:"Also write the report as JSON to FILE."`
	JSON       bool    `name:"json" help:"Print the report as JSON instead of text."`
}

// Run implements the command.
func (c *AnalyzeTraceCmd) Run(app *App) error {
	path, err := traceArg(c.File, c.InputFile)
	if err != nil {
		return err
	}
	if c.BlockSize < 0 || c.Window < 0 {
		return errext.WithExitCode(errors.New("--block-size and --window must be > 0"), errext.Usage)
	}
	rows, format, err := dataset.ReadTrace(context.Background(), path, c.Format)
	if err != nil {
		return errext.WithExitCode(err, errext.InvalidConfig)
	}
	a := traces.Analyze(rows, traces.Options{BlockSize: c.BlockSize, Window: time.Duration(c.Window * float64(time.Second)), File: path, Format: format})
	if c.JSON {
		if err := a.WriteJSON(app.Stdout); err != nil {
			return err
		}
	} else {
		a.Print(app.Stdout)
	}
	if c.OutputFile != "" {
		f, err := os.Create(c.OutputFile)
		if err != nil {
			return err
		}
		if err := a.WriteJSON(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(app.Stderr, "Analysis report saved to %s\n", c.OutputFile)
	}
	return nil
}

// traceArg is the trace a trace command reads: FILE or --input-file.
func traceArg(file, inputFile string) (string, error) {
	switch {
	case file != "" && inputFile != "" && file != inputFile:
		return "", errext.WithExitCode(errors.New("give the trace as FILE or --input-file, not both"), errext.Usage)
	case file != "":
		return file, nil
	case inputFile != "":
		return inputFile, nil
	}
	return "", errext.WithExitCode(errors.New("missing the trace file (FILE or --input-file)"), errext.Usage)
}
