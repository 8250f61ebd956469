package aiperfcli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/internal/export"
	"github.com/loadstar/loadstar/internal/sweep"
)

// Plan is what a `loadstar profile` command line asks for: one benchmark, a
// sweep of cells, and/or repeated trials — each step a config.Benchmark
// exactly as a scenario's run() or sweep() would build it.
type Plan struct {
	// Mock is the embedded mock server's configuration when no --url was
	// given (the cells then point at mockURL until UseURL is called).
	Mock *mock.Config
	// Notes are remarks for the user (stderr): flags accepted without
	// effect, defaults chosen on their behalf.
	Notes []string
	// EmitScenario is --emit-scenario.
	EmitScenario bool

	// cells are the benchmarks: one (Name "") without a sweep, else one per
	// sweep cell in run order.
	cells []cell
	// params are the swept parameters (nil without a sweep); sweepMode how
	// they combine.
	params    []sweep.Param
	sweepMode sweep.Mode
	// trials per cell (--num-profile-runs); confidence of their intervals.
	trials     int
	confidence float64
	// cooldown is the pause before every step but the first.
	cooldown time.Duration
	// varySeed seeds trial N with seed+N-1 (--vary-seed-per-trial).
	varySeed bool
	// baseDir holds the steps of a sweep or of repeated trials ("" for a
	// single benchmark, whose directory is its config's).
	baseDir string
	// warmupEveryTrial keeps the warmup in every trial of a repeated
	// benchmark (--no-profile-run-disable-warmup-after-first).
	warmupEveryTrial bool
	// verbosity is 1 for -v (debug logs), 2 for -vv (trace logs).
	verbosity int
	// command is the command line with secrets redacted.
	command string

	// template is the benchmark built with a sentinel value per swept
	// parameter: rendering it and replacing the sentinels gives the sweep's
	// step function.
	template  *config.Benchmark
	sentinels []sentinel
	// seedPerStep is set when sweep step i uses seed+i.
	seedPerStep bool
}

// cell is one benchmark of a plan.
type cell struct {
	sweep.Cell
	Config *config.Benchmark
}

// mockURL is where the cells of a plan on the embedded mock point until
// UseURL gives the server's address.
const mockURL = "http://127.0.0.1:0"

// defaultMockModel is the model name used on the embedded mock when no -m is given.
const defaultMockModel = "mock-model"

// infiniteGrace stands for AIPerf's "inf" grace period.
const infiniteGrace = 1_000_000 * time.Hour

// Option configures Build.
type Option func(*options)

type options struct {
	args   []string
	getenv func(string) string
}

// WithCommandLine records the command line (secrets are redacted) as the
// plan's run_info.cli_command.
func WithCommandLine(args []string) Option { return func(o *options) { o.args = args } }

// withGetenv replaces os.Getenv (the Hugging Face cache lookup reads
// HF_HUB_CACHE, HF_HOME and HOME).
func withGetenv(f func(string) string) Option { return func(o *options) { o.getenv = f } }

// builder carries the state of one Build.
type builder struct {
	f      *Flags
	reg    *plugin.Registry
	opts   options
	plan   *Plan
	epName string
	epMeta plugin.EndpointMetadata
	tok    config.Tokenizer
	// params are the swept parameters; swept names them.
	params []sweep.Param
	swept  map[string]bool
	// lists holds every value of every given magic list, by parameter.
	lists map[string][]any
	// mode is the load mode: "fixed", "user_centric", "rate" or "concurrency".
	mode string
	// fileTimestamps is set when the input file carries timestamps.
	fileTimestamps bool
	inputFile      string
	slos           []config.SLO
	serverMetrics  config.ServerMetrics
}

// Build validates flags with AIPerf's rules and defaults and returns the
// plan. Errors name the flag; their exit code is errext.Usage for a command
// line that contradicts itself or asks for something loadstar does not do,
// errext.InvalidConfig for one that is well-formed but names something that
// does not work (a missing file, an unknown endpoint type, a tokenizer that
// cannot be found, plugin arguments the plugin rejects).
func Build(f *Flags, reg *plugin.Registry, opts ...Option) (*Plan, error) {
	b := &builder{f: f, reg: reg, plan: &Plan{trials: 1, confidence: 0.95, sweepMode: sweep.Grid}, swept: map[string]bool{}}
	for _, o := range opts {
		o(&b.opts)
	}
	if b.opts.getenv == nil {
		b.opts.getenv = os.Getenv
	}
	b.plan.command = redactedCommand(b.opts.args)
	b.plan.EmitScenario = f.EmitScenario
	if err := b.checkUnsupported(); err != nil {
		return nil, err
	}
	sm, err := serverMetricsConfig(f)
	if err != nil {
		return nil, err
	}
	b.serverMetrics = sm
	params, fixed, err := expandLists(f)
	if err != nil {
		return nil, err
	}
	b.params, b.lists = params, map[string][]any{}
	for k, v := range fixed {
		b.lists[k] = []any{v}
	}
	for _, p := range params {
		b.swept[p.Name] = true
		b.lists[p.Name] = p.Values
	}
	if f.NumProfileRuns != nil {
		b.plan.trials = *f.NumProfileRuns // rules read it; one checks its range
	}
	// Every value of every list must make a valid benchmark: the rules
	// check them all (a grid of every value covers every rule that
	// involves one).
	if err := b.apply(rules); err != nil {
		return nil, err
	}
	b.settle()
	if len(params) == 0 {
		cfg, err := b.benchmark(fixed)
		if err != nil {
			return nil, err
		}
		b.plan.cells = []cell{{Config: cfg}}
	} else if err := b.sweepCells(fixed); err != nil {
		return nil, err
	}
	if err := b.checkSpecs(); err != nil {
		return nil, err
	}
	b.plan.baseDir = b.baseDir()
	return b.plan, nil
}

// sweepCells builds the benchmark of every sweep cell, and the template
// the emitted scenario's step function is rendered from.
func (b *builder) sweepCells(fixed values) error {
	b.plan.params = b.params
	cells, err := sweep.Cells(b.params, b.plan.sweepMode)
	if err != nil {
		return usage("sweep-type", "%s", strings.TrimPrefix(err.Error(), "sweep: "))
	}
	sameSeed := b.f.SweepSameSeed != nil && *b.f.SweepSameSeed
	for _, c := range cells {
		v := values{}
		for k, x := range fixed {
			v[k] = x
		}
		for _, cv := range c.Values {
			v[cv.Name] = cv.Value
		}
		cfg, err := b.benchmark(v)
		if err != nil {
			return fmt.Errorf("sweep step %s: %w", c.Name, err)
		}
		if cfg.SeedSet && !sameSeed {
			// AIPerf's default: step i draws from seed+i, so that steps
			// exercise different inputs.
			cfg.Seed += uint64(c.Index)
			b.plan.seedPerStep = true
		}
		b.plan.cells = append(b.plan.cells, cell{Cell: c, Config: cfg})
	}
	return b.buildTemplate(b.params, fixed)
}

// checkSpecs checks every component of every cell against its plugin's
// parameters, and builds the cheap ones (endpoint, timing, sampler,
// transport) so that their own validation runs before anything starts.
func (b *builder) checkSpecs() error {
	for _, c := range b.plan.cells {
		cfg := c.Config
		specs := []*plugin.Spec{cfg.Endpoint, cfg.Dataset, cfg.Timing, cfg.Sampler, cfg.Transport}
		if cfg.Warmup != nil {
			specs = append(specs, cfg.Warmup.Timing)
		}
		for _, s := range specs {
			if s == nil {
				continue
			}
			if _, err := b.reg.Build(s); err != nil {
				where := ""
				if c.Name != "" {
					where = " (sweep step " + c.Name + ")"
				}
				return errext.WithExitCode(fmt.Errorf("%s%s: %w", s.String(), where, err), errext.InvalidConfig)
			}
		}
	}
	return nil
}

// baseDir is the directory of a sweep's steps or of repeated trials.
func (b *builder) baseDir() string {
	p := b.plan
	if len(p.params) == 0 && p.trials < 2 {
		return ""
	}
	if b.f.ArtifactDir != "" {
		return cleanDir(b.f.ArtifactDir)
	}
	cfg := p.cells[0].Config
	stimulus := ""
	if len(p.params) > 0 {
		stimulus = strings.Join(p.paramNames(), "-") + "_sweep"
	}
	return cleanDir(export.ArtifactDir(cfg, b.epMeta.ServiceKind, b.epName, stimulus))
}

// UseURL points every cell of a plan on the embedded mock at the server's url.
func (p *Plan) UseURL(url string) {
	for _, c := range p.cells {
		c.Config.Endpoint = withURL(c.Config.Endpoint, url)
	}
	if p.template != nil {
		p.template.Endpoint = withURL(p.template.Endpoint, url)
	}
}

func withURL(s *plugin.Spec, url string) *plugin.Spec {
	args := s.Args.Clone()
	args["url"] = []string{url}
	return &plugin.Spec{Category: s.Category, Name: s.Name, Args: args}
}
