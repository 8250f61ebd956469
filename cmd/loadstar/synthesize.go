package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/internal/traces"
)

// SynthesizeCmd writes a new trace with a trace's statistics rescaled
// (AIPerf's trace synthesis, the --synthesis-* options): its rate, its
// prompt and answer lengths, and its prefix sharing. The output is a
// Mooncake JSONL trace; the input's and the output's headline figures are
// printed side by side.
type SynthesizeCmd struct {
	File                 string  `arg:"" optional:"" type:"existingfile" help:"The trace: Mooncake JSONL, Bailian JSONL or BurstGPT CSV."`
	InputFile            string  `name:"input-file" type:"existingfile" placeholder:"FILE" help:"The trace (same as FILE)."`
	Output               string  `short:"o" name:"output-file" aliases:"output" placeholder:"FILE" help:"Where to write the new trace (default: standard output)."`
	Format               string  `name:"format" placeholder:"TYPE" help:"mooncake_trace, bailian_trace or burst_gpt_trace (default: detected)."`
	BlockSize            int     `name:"block-size" placeholder:"N" help:"Tokens per hash id (default: the format's, 512 for mooncake_trace, 16 for bailian_trace)."`
	SpeedupRatio         float64 `name:"speedup-ratio" aliases:"synthesis-speedup-ratio" default:"1" help:"Divides timestamps and think times: 2 sends the trace at twice its rate."`
	PrefixLenMultiplier  float64 `name:"prefix-len-multiplier" aliases:"synthesis-prefix-len-multiplier" default:"1" help:"Scales every shared prefix (rows sharing k blocks then share k·X)."`
	PrefixRootMultiplier int     `name:"prefix-root-multiplier" aliases:"synthesis-prefix-root-multiplier" default:"1" help:"Spreads the sessions over N disjoint copies of the prefix tree (less sharing)."`
	PromptLenMultiplier  float64 `name:"prompt-len-multiplier" aliases:"synthesis-prompt-len-multiplier" default:"1" help:"Scales each row's unshared tail."`
	OutputLenMultiplier  float64 `name:"output-len-multiplier" aliases:"synthesis-output-len-multiplier" default:"1" help:"Scales the answer lengths."`
	MaxISL               int     `name:"max-isl" aliases:"synthesis-max-isl" placeholder:"N" help:"Drop rows whose new prompt is longer."`
	MaxOSL               int     `name:"max-osl" aliases:"synthesis-max-osl" placeholder:"N" help:"Cap answer lengths."`
	Seed                 uint64  `name:"seed" default:"42" help:"Seed of the copy each session goes to (--prefix-root-multiplier)."`
}

// Run implements the command.
func (c *SynthesizeCmd) Run(app *App) error {
	path, err := traceArg(c.File, c.InputFile)
	if err != nil {
		return err
	}
	syn := dataset.Synthesis{Speedup: c.SpeedupRatio, PrefixLen: c.PrefixLenMultiplier, PrefixRoots: c.PrefixRootMultiplier,
		PromptLen: c.PromptLenMultiplier, OutputLen: c.OutputLenMultiplier, MaxISL: c.MaxISL, MaxOSL: c.MaxOSL, Seed: c.Seed}
	if err := syn.Validate(); err != nil {
		return errext.WithExitCode(err, errext.Usage)
	}
	rows, format, err := dataset.ReadTrace(context.Background(), path, c.Format)
	if err != nil {
		return errext.WithExitCode(err, errext.InvalidConfig)
	}
	block := c.BlockSize
	if block <= 0 {
		block = dataset.DefaultBlockSize(format)
	}
	out, dropped, err := syn.Apply(rows, block)
	if err != nil {
		return errext.WithExitCode(err, errext.InvalidConfig)
	}
	if len(out) == 0 {
		return errext.WithExitCode(fmt.Errorf("every row's prompt is longer than --max-isl %d: nothing to write", c.MaxISL), errext.InvalidConfig)
	}
	var w io.Writer = app.Stdout
	var f *os.File
	if c.Output != "" && c.Output != "-" {
		if f, err = os.Create(c.Output); err != nil {
			return err
		}
		w = f
	}
	if err := traces.WriteTrace(w, out); err != nil {
		if f != nil {
			f.Close()
		}
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
	}
	before := traces.Analyze(rows, traces.Options{BlockSize: block, Format: format})
	after := traces.Analyze(out, traces.Options{BlockSize: block, Format: dataset.MooncakeTrace})
	traces.Compare(app.Stderr, before, after)
	if dropped > 0 {
		fmt.Fprintf(app.Stderr, "%d rows dropped: prompt longer than --max-isl %d\n", dropped, c.MaxISL)
	}
	if f != nil {
		fmt.Fprintf(app.Stderr, "Synthesized trace: %s (%d rows, mooncake_trace)\n", c.Output, len(out))
	}
	return nil
}
