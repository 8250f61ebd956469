package profile

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/export"
	"github.com/loadstar/loadstar/engine/metrics"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/sweep"
)

// Plan is what a `loadstar profile` command line asks for: one benchmark, a
// sweep of cells, and/or repeated trials — each step a config.Benchmark
// exactly as a scenario's run() or sweep() would build it.
type Plan struct {
	// Cells are the benchmarks: one (Name "") without a sweep, else one per
	// sweep cell in run order.
	Cells []Cell
	// Params are the swept parameters (nil without a sweep); Mode how they
	// combine.
	Params []sweep.Param
	Mode   sweep.Mode
	// Trials per cell (--num-profile-runs); Confidence of their intervals.
	Trials     int
	Confidence float64
	// Cooldown is the pause before every step but the first.
	Cooldown time.Duration
	// VarySeed seeds trial N with seed+N-1 (--vary-seed-per-trial).
	VarySeed bool
	// BaseDir holds the steps of a sweep or of repeated trials ("" for a
	// single benchmark, whose directory is its config's).
	BaseDir string
	// Mock is the embedded mock server's configuration when no --url was
	// given (the cells then point at MockURL until UseURL is called).
	Mock *mock.Config
	// Notes are remarks for the user (stderr): flags accepted without
	// effect, defaults chosen on their behalf.
	Notes []string
	// Verbosity is 1 for -v (debug logs), 2 for -vv (trace logs).
	Verbosity int
	// EmitScenario is --emit-scenario.
	EmitScenario bool
	// Command is the command line with secrets redacted.
	Command string

	// template is the benchmark built with a sentinel value per swept
	// parameter: rendering it and replacing the sentinels gives the sweep's
	// step function.
	template  *config.Benchmark
	sentinels []sentinel
}

// Cell is one benchmark of a plan.
type Cell struct {
	sweep.Cell
	Config *config.Benchmark
}

// MockURL is where the cells of a plan on the embedded mock point until
// UseURL gives the server's address.
const MockURL = "http://127.0.0.1:0"

// DefaultMockModel is the model name used on the embedded mock when no -m is given.
const DefaultMockModel = "mock-model"

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

// WithGetenv replaces os.Getenv (the Hugging Face cache lookup reads
// HF_HUB_CACHE, HF_HOME and HOME).
func WithGetenv(f func(string) string) Option { return func(o *options) { o.getenv = f } }

// builder carries the state of one Build.
type builder struct {
	f      *Flags
	reg    *plugin.Registry
	opts   options
	plan   *Plan
	epName string
	epMeta plugin.EndpointMetadata
	tok    config.Tokenizer
	// swept names the parameters that vary between cells.
	swept map[string]bool
	// mode is the load mode: "fixed", "user_centric", "rate" or "concurrency".
	mode      string
	autoFixed bool
	inputFile string
	slos      []config.SLO
}

// Build validates flags with AIPerf's rules and defaults and returns the
// plan. Errors name the flag; their exit code is errext.Usage for a command
// line that contradicts itself or asks for something loadstar does not do,
// errext.InvalidConfig for one that is well-formed but names something that
// does not work (a missing file, an unknown endpoint type, a tokenizer that
// cannot be found, plugin arguments the plugin rejects).
func Build(f *Flags, reg *plugin.Registry, opts ...Option) (*Plan, error) {
	b := &builder{f: f, reg: reg, plan: &Plan{Trials: 1, Confidence: 0.95, Mode: sweep.Grid}, swept: map[string]bool{}}
	for _, o := range opts {
		o(&b.opts)
	}
	if b.opts.getenv == nil {
		b.opts.getenv = os.Getenv
	}
	b.plan.Command = RedactedCommand(b.opts.args)
	b.plan.EmitScenario = f.EmitScenario
	if err := b.checkUnsupported(); err != nil {
		return nil, err
	}
	params, fixed, err := expandLists(f)
	if err != nil {
		return nil, err
	}
	for _, p := range params {
		b.swept[p.Name] = true
	}
	if err := b.global(params); err != nil {
		return nil, err
	}
	// Every value of every list must make a valid benchmark: check them
	// all (a grid of every value covers every rule that involves one).
	if err := b.checkValues(params, fixed); err != nil {
		return nil, err
	}
	if len(params) == 0 {
		cfg, err := b.benchmark(fixed)
		if err != nil {
			return nil, err
		}
		b.plan.Cells = []Cell{{Config: cfg}}
	} else {
		b.plan.Params = params
		cells, err := sweep.Cells(params, b.plan.Mode)
		if err != nil {
			return nil, usage("sweep-type", "%s", strings.TrimPrefix(err.Error(), "sweep: "))
		}
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
				return nil, fmt.Errorf("sweep step %s: %w", c.Name, err)
			}
			b.plan.Cells = append(b.plan.Cells, Cell{Cell: c, Config: cfg})
		}
		if err := b.buildTemplate(params, fixed); err != nil {
			return nil, err
		}
	}
	if err := b.checkSpecs(); err != nil {
		return nil, err
	}
	b.plan.BaseDir = b.baseDir()
	return b.plan, nil
}

// global handles the flags that are the same in every cell: mode, rules
// between flags, endpoint type, tokenizer, dataset file, goodput, output.
func (b *builder) global(params []sweep.Param) error {
	f := b.f
	p := b.plan

	// Sweep and multi-run.
	if f.SweepType != "" {
		switch f.SweepType {
		case "grid":
			p.Mode = sweep.Grid
		case "zip":
			p.Mode = sweep.Zip
		default:
			return usage("sweep-type", "must be grid or zip, got %q", f.SweepType)
		}
		if len(params) == 0 {
			return usage("sweep-type", "needs a comma-separated list on a sweepable flag (e.g. --concurrency 8,16,32)")
		}
	}
	if n := f.NumProfileRuns; n != nil {
		if *n < 1 || *n > 10 {
			return usage("num-profile-runs", "must be from 1 to 10, got %d", *n)
		}
		p.Trials = *n
	}
	if c := f.ConfidenceLevel; c != nil {
		if *c <= 0 || *c >= 1 {
			return usage("confidence-level", "must be between 0 and 1 (exclusive), got %v", *c)
		}
		if p.Trials < 2 {
			return usage("confidence-level", "needs --num-profile-runs of 2 or more")
		}
		p.Confidence = *c
	}
	if f.VarySeedPerTrial {
		if p.Trials < 2 {
			return usage("vary-seed-per-trial", "needs --num-profile-runs of 2 or more")
		}
		if len(params) > 0 {
			return usage("vary-seed-per-trial", "not supported in a sweep: sweep() repeats each step with the same seed")
		}
		p.VarySeed = true
	}
	switch f.SweepMode {
	case "", "independent":
		if f.SweepMode != "" && (len(params) == 0 || p.Trials < 2) {
			return usage("parameter-sweep-mode", "needs a sweep and --num-profile-runs of 2 or more")
		}
		if f.SweepMode == "" && len(params) > 0 && p.Trials > 1 {
			p.Notes = append(p.Notes, "each sweep step runs its trials back to back (AIPerf's --parameter-sweep-mode independent; AIPerf's default, repeated, is not supported)")
		}
	case "repeated":
		return usage("parameter-sweep-mode", "repeated is not supported: loadstar's sweep() runs each step's trials back to back (independent)")
	default:
		return usage("parameter-sweep-mode", "must be independent or repeated, got %q", f.SweepMode)
	}
	if f.SweepSameSeed && len(params) == 0 {
		return usage("parameter-sweep-same-seed", "needs a sweep (a comma-separated list on a sweepable flag)")
	}
	runCooldown, err := optSeconds("profile-run-cooldown-seconds", f.ProfileRunCooldown, false)
	if err != nil {
		return err
	}
	sweepCooldown, err := optSeconds("parameter-sweep-cooldown-seconds", f.SweepCooldown, false)
	if err != nil {
		return err
	}
	if f.ProfileRunCooldown != nil && p.Trials < 2 {
		return usage("profile-run-cooldown-seconds", "needs --num-profile-runs of 2 or more")
	}
	if f.SweepCooldown != nil && len(params) == 0 {
		return usage("parameter-sweep-cooldown-seconds", "needs a sweep (a comma-separated list on a sweepable flag)")
	}
	if len(params) > 0 {
		if f.ProfileRunCooldown != nil && f.SweepCooldown != nil && runCooldown != sweepCooldown {
			return usage("profile-run-cooldown-seconds", "differs from --parameter-sweep-cooldown-seconds: sweep() pauses the same time before every step and trial")
		}
		p.Cooldown = max(runCooldown, sweepCooldown)
	} else {
		p.Cooldown = runCooldown
	}

	// Logging and UI.
	p.Verbosity = f.Verbose
	if f.ExtraVerbose {
		p.Verbosity = max(p.Verbosity, 2)
	}

	// Endpoint type.
	b.epName = "chat"
	if f.EndpointType != "" {
		b.epName = plugin.Normalize(f.EndpointType)
	}
	if _, err := b.reg.Lookup(plugin.Endpoint, b.epName); err != nil {
		if why, ok := unsupportedEndpoints[b.epName]; ok {
			return usage("endpoint-type", "%s is not supported: %s", f.EndpointType, why)
		}
		return invalid("endpoint-type", "unknown endpoint type %q; available: %s", f.EndpointType, strings.Join(b.reg.Names(plugin.Endpoint), ", "))
	}
	md, err := b.reg.EndpointMetadata(b.epName)
	if err != nil {
		return invalid("endpoint-type", "%v", err)
	}
	b.epMeta = md
	if f.Streaming && !md.SupportsStreaming {
		p.Notes = append(p.Notes, fmt.Sprintf("--streaming: the %s endpoint cannot stream; requests are sent without streaming", b.epName))
	}
	if f.PerChunkUsage && (!f.Streaming || !f.UseServerTokenCount || b.epName != "chat") {
		return usage("per-chunk-usage", "needs --endpoint-type chat, --streaming and --use-server-token-count")
	}
	switch f.ModelSelectionStrategy {
	case "", "round_robin", "round-robin":
	case "random", "weighted":
		return usage("model-selection-strategy", "%s is not supported: loadstar assigns several models round-robin by conversation", f.ModelSelectionStrategy)
	default:
		return usage("model-selection-strategy", "must be round_robin, got %q", f.ModelSelectionStrategy)
	}
	switch f.URLStrategy {
	case "", "round_robin", "round-robin":
	default:
		return usage("url-strategy", "must be round_robin (the only URL strategy), got %q", f.URLStrategy)
	}
	switch f.ConnectionReuseStrategy {
	case "", "pooled", "never":
	case "sticky-user-sessions", "sticky_user_sessions":
		return usage("connection-reuse-strategy", "sticky-user-sessions is not supported: loadstar pools connections (pooled) or opens one per request (never)")
	default:
		return usage("connection-reuse-strategy", "must be pooled or never, got %q", f.ConnectionReuseStrategy)
	}
	switch f.RequestContentType {
	case "", "application/json":
	case "multipart/form-data":
		return usage("request-content-type", "multipart/form-data is not supported: loadstar sends JSON bodies")
	default:
		return usage("request-content-type", "must be application/json, got %q", f.RequestContentType)
	}
	if t := f.RequestTimeoutSeconds; t != nil && (*t <= 0 || math.IsNaN(*t) || math.IsInf(*t, 0)) {
		return usage("request-timeout-seconds", "must be > 0, got %v", *t)
	}
	if _, err := parseHeaders(f.Header); err != nil {
		return usage("header", "%v", err)
	}
	if _, err := endpoint.ParseExtra(f.ExtraInputs); err != nil {
		return usage("extra-inputs", "%v", err)
	}
	if f.SessionHeader != "" {
		if _, err := endpoint.ParseHeaders(f.SessionHeader + ": x"); err != nil {
			return usage("session-header", "%v", err)
		}
	}

	// Server: --url or the embedded mock.
	if len(f.URL) == 0 {
		cfg := mock.DefaultConfig()
		if err := b.mockFlags(&cfg); err != nil {
			return err
		}
		p.Mock = &cfg
		if len(f.Model) == 0 {
			f.Model = []string{DefaultMockModel}
		}
	} else {
		for _, name := range []string{"mock-ttft", "mock-itl", "mock-fast", "mock-seed", "mock-output"} {
			if b.mockFlagGiven(name) {
				return usage(name, "configures the embedded mock server, which is used only without --url")
			}
		}
		for _, u := range f.URL {
			if strings.TrimSpace(u) == "" {
				return usage("url", "empty URL")
			}
		}
		if len(f.Model) == 0 {
			return usage("model", "required: the model name(s) to send, e.g. -m Qwen/Qwen3-0.6B")
		}
	}
	for _, m := range f.Model {
		if strings.TrimSpace(m) == "" {
			return usage("model", "empty model name")
		}
	}

	// Tokenizer.
	tok, note, err := resolveTokenizer(f, b.opts.getenv)
	if err != nil {
		return err
	}
	b.tok = tok
	if note != "" {
		p.Notes = append(p.Notes, note)
	}
	if f.TokenizerTrustRemoteCode {
		p.Notes = append(p.Notes, "--tokenizer-trust-remote-code has no effect: loadstar reads tokenizer.json files and runs no remote code")
	}

	// Input file and load mode.
	if err := b.input(); err != nil {
		return err
	}
	if err := b.loadMode(params); err != nil {
		return err
	}
	if err := b.datasetRules(); err != nil {
		return err
	}

	// Goodput: parsed in AIPerf's syntax, kept in the scenario form so the
	// emitted slos = {...} builds exactly these objectives.
	if strings.TrimSpace(f.Goodput) != "" {
		slos, err := metrics.ParseGoodput(f.Goodput)
		if err != nil {
			return usage("goodput", "%s", strings.TrimPrefix(err.Error(), "goodput: "))
		}
		for _, s := range slos {
			_, val, _ := strings.Cut(s.Source, ":")
			slo, err := metrics.ParseSLO(s.Metric, s.Op+" "+val)
			if err != nil {
				return usage("goodput", "%v", err)
			}
			b.slos = append(b.slos, slo)
		}
	}

	// Output.
	switch f.ExportLevel {
	case "", "summary", "records", "raw":
	default:
		return usage("export-level", "must be summary, records or raw, got %q", f.ExportLevel)
	}
	if _, err := optSeconds("slice-duration", f.SliceDuration, true); err != nil {
		return err
	}
	switch f.UIType {
	case "", "simple", "none":
	case "dashboard":
		p.Notes = append(p.Notes, "--ui-type dashboard: loadstar has no dashboard; showing the simple progress display")
	default:
		return usage("ui-type", "must be dashboard, simple or none, got %q", f.UIType)
	}
	if f.RandomSeed != nil && *f.RandomSeed < 0 {
		return usage("random-seed", "must be >= 0, got %d", *f.RandomSeed)
	}
	return nil
}

// unsupportedEndpoints are AIPerf endpoint types loadstar has no plugin for.
var unsupportedEndpoints = map[string]string{
	"chat_embeddings":  "no chat-embeddings endpoint plugin (use embeddings)",
	"image_edit":       "image editing needs multipart/form-data bodies, which loadstar does not send",
	"video_generation": "no video-generation endpoint plugin (it needs job polling)",
	"image_retrieval":  "no image-retrieval endpoint plugin",
	"raw":              "no raw endpoint plugin; use --endpoint-type template with a body template in a scenario",
}

func (b *builder) mockFlagGiven(name string) bool {
	f := b.f
	switch name {
	case "mock-ttft":
		return f.MockTTFT != ""
	case "mock-itl":
		return f.MockITL != ""
	case "mock-fast":
		return f.MockFast
	case "mock-seed":
		return f.MockSeed != nil
	case "mock-output":
		return f.MockOutput != ""
	}
	return false
}

// mockFlags applies --mock-* to cfg.
func (b *builder) mockFlags(cfg *mock.Config) error {
	f := b.f
	dur := func(flag, s string, dst *time.Duration) error {
		if s == "" {
			return nil
		}
		d, err := parseMillis(s)
		if err != nil {
			return usage(flag, "%v", err)
		}
		*dst = d
		return nil
	}
	if err := dur("mock-ttft", f.MockTTFT, &cfg.TTFT); err != nil {
		return err
	}
	if err := dur("mock-itl", f.MockITL, &cfg.ITL); err != nil {
		return err
	}
	cfg.Fast = f.MockFast
	if f.MockSeed != nil {
		if *f.MockSeed < 0 {
			return usage("mock-seed", "must be >= 0, got %d", *f.MockSeed)
		}
		cfg.Seed = *f.MockSeed
	}
	switch f.MockOutput {
	case "":
	case string(mock.OutputExact), string(mock.OutputAIPerf):
		cfg.OutputRule = mock.OutputRule(f.MockOutput)
	default:
		return usage("mock-output", "must be exact or aiperf, got %q", f.MockOutput)
	}
	return nil
}

// parseMillis reads a bare number of milliseconds or a Go duration.
func parseMillis(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%q must be >= 0 ms", s)
		}
		return time.Duration(math.Round(v * float64(time.Millisecond))), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (milliseconds such as 20, or 20ms, 1.5s)", s)
	}
	return d, nil
}

// input checks --input-file and finds whether it carries timestamps.
func (b *builder) input() error {
	f := b.f
	if f.PublicDataset != "" {
		return usage("public-dataset", "not supported: public datasets are downloaded from Hugging Face and loadstar works offline; download the file and pass --input-file")
	}
	if f.InputFile == "" {
		if f.CustomDatasetType != "" {
			return usage("custom-dataset-type", "needs --input-file")
		}
		if f.IslBlockSize != nil {
			return usage("isl-block-size", "needs --input-file (a trace with hash_ids)")
		}
		return nil
	}
	abs, err := filepath.Abs(f.InputFile)
	if err != nil {
		return invalid("input-file", "%v", err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return invalid("input-file", "%v", errors.Unwrap(err))
	}
	b.inputFile = abs
	if f.CustomDatasetType != "" {
		typ := plugin.Normalize(f.CustomDatasetType)
		if why, ok := unsupportedDatasetTypes[typ]; ok {
			return usage("custom-dataset-type", "%s is not supported: %s", f.CustomDatasetType, why)
		}
		if err := b.checkChoice(plugin.DatasetComposer, "custom", "type", typ, "custom-dataset-type"); err != nil {
			return err
		}
	}
	if f.IslBlockSize != nil && *f.IslBlockSize < 1 {
		return usage("isl-block-size", "must be >= 1, got %d", *f.IslBlockSize)
	}
	if !st.IsDir() {
		ts, err := fileHasTimestamps(abs)
		if err != nil {
			return invalid("input-file", "%v", err)
		}
		b.autoFixed = ts
	}
	return nil
}

// unsupportedDatasetTypes are AIPerf dataset types loadstar has no loader for.
var unsupportedDatasetTypes = map[string]string{
	"bailian_trace":          "no Bailian trace loader",
	"burst_gpt_trace":        "no BurstGPT trace loader",
	"sagemaker_data_capture": "no SageMaker data-capture loader",
	"raw_payload":            "no raw-payload loader (inputs_json replays exact payloads)",
	"dag_jsonl":              "no agent-DAG loader",
}

// checkChoice checks value against the Choices of a plugin parameter.
func (b *builder) checkChoice(cat plugin.Category, name, param, value, flag string) error {
	c, err := b.reg.Get(cat, name)
	if err != nil {
		return invalid(flag, "%v", err)
	}
	p, ok := c.Param(param)
	if !ok || len(p.Choices) == 0 {
		return nil
	}
	var choices []string
	for _, ch := range p.Choices {
		if ch == value {
			return nil
		}
		if ch != "" {
			choices = append(choices, ch)
		}
	}
	return usage(flag, "unknown type %q; loadstar reads %s", value, strings.Join(choices, ", "))
}

// loadMode picks the timing mode by AIPerf's priority (fixed schedule >
// user-centric > request rate > concurrency) and enforces the rules
// between load flags.
func (b *builder) loadMode(params []sweep.Param) error {
	f := b.f
	has := func(param string) bool { return b.listGiven(param) }
	fixed := b.autoFixed
	if f.FixedSchedule != nil {
		fixed = *f.FixedSchedule
		if fixed && b.inputFile == "" {
			return usage("fixed-schedule", "needs --input-file with timestamps")
		}
		b.autoFixed = false
	}
	userCentric := f.UserCentricRate != nil
	switch {
	case fixed:
		b.mode = "fixed"
	case userCentric:
		b.mode = "user_centric"
	case has("request_rate"):
		b.mode = "rate"
	default:
		b.mode = "concurrency"
	}
	why := "the fixed schedule (--fixed-schedule)"
	if b.autoFixed {
		why = "the timestamps of --input-file (fixed schedule; pass --no-fixed-schedule to send by --concurrency or --request-rate instead)"
	}
	if fixed {
		if userCentric {
			return usage("user-centric-rate", "conflicts with %s", why)
		}
		if has("request_rate") {
			return usage("request-rate", "conflicts with %s", why)
		}
		if f.ArrivalPattern != "" {
			return usage("request-rate-mode", "conflicts with %s", why)
		}
		if f.DatasetSamplingStrategy != "" {
			return usage("dataset-sampling-strategy", "not allowed with %s: a schedule is replayed in order", why)
		}
		if b.autoFixed && len(params) > 0 {
			return usage(flagOf(params[0].Name), "a sweep is refused on a trace that switched to a fixed schedule; pass --no-fixed-schedule to sweep the load")
		}
	} else {
		for flag, given := range map[string]bool{
			"fixed-schedule-auto-offset":  f.FixedScheduleAutoOffset,
			"fixed-schedule-start-offset": f.FixedScheduleStartOffset != nil,
			"fixed-schedule-end-offset":   f.FixedScheduleEndOffset != nil,
		} {
			if given {
				return usage(flag, "needs a fixed schedule (--fixed-schedule, or an --input-file with timestamps)")
			}
		}
	}
	if f.FixedScheduleAutoOffset && f.FixedScheduleStartOffset != nil {
		return usage("fixed-schedule-auto-offset", "give it or --fixed-schedule-start-offset, not both")
	}
	for _, o := range []struct {
		flag string
		v    *int64
	}{{"fixed-schedule-start-offset", f.FixedScheduleStartOffset}, {"fixed-schedule-end-offset", f.FixedScheduleEndOffset}} {
		if o.v != nil && *o.v < 0 {
			return usage(o.flag, "must be >= 0 ms, got %d", *o.v)
		}
	}
	if s, e := f.FixedScheduleStartOffset, f.FixedScheduleEndOffset; s != nil && e != nil && *e < *s {
		return usage("fixed-schedule-end-offset", "must be >= --fixed-schedule-start-offset (%d), got %d", *s, *e)
	}
	if userCentric {
		if v := *f.UserCentricRate; v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return usage("user-centric-rate", "must be > 0, got %v", v)
		}
		if has("request_rate") {
			return usage("user-centric-rate", "conflicts with --request-rate")
		}
		if f.ArrivalPattern != "" {
			return usage("user-centric-rate", "conflicts with --request-rate-mode (users send on their own schedule)")
		}
		if !has("num_users") {
			return usage("user-centric-rate", "needs --num-users")
		}
	} else if has("num_users") {
		return usage("num-users", "needs --user-centric-rate")
	}
	switch f.ArrivalPattern {
	case "", "poisson", "constant", "gamma":
		if f.ArrivalPattern != "" && !has("request_rate") && !fixed && !userCentric {
			return usage("request-rate-mode", "%s needs --request-rate", f.ArrivalPattern)
		}
	case "concurrency_burst", "concurrency-burst":
		if has("request_rate") {
			return usage("request-rate-mode", "concurrency_burst is a closed loop and takes no --request-rate")
		}
		if !has("concurrency") {
			return usage("request-rate-mode", "concurrency_burst needs --concurrency")
		}
	default:
		return usage("request-rate-mode", "must be poisson, constant, gamma or concurrency_burst, got %q", f.ArrivalPattern)
	}
	if s := f.ArrivalSmoothness; s != nil {
		if f.ArrivalPattern != "gamma" {
			return usage("arrival-smoothness", "needs --request-rate-mode gamma")
		}
		if *s <= 0 || math.IsNaN(*s) || math.IsInf(*s, 0) {
			return usage("arrival-smoothness", "must be > 0, got %v", *s)
		}
	}
	if _, err := optSeconds("concurrency-ramp-duration", f.ConcurrencyRampDuration, true); err != nil {
		return err
	}
	if _, err := optSeconds("request-rate-ramp-duration", f.RequestRateRampDuration, true); err != nil {
		return err
	}
	if f.RequestRateRampDuration != nil {
		if fixed || userCentric {
			return usage("request-rate-ramp-duration", "not allowed with a fixed schedule or --user-centric-rate")
		}
		if !has("request_rate") {
			return usage("request-rate-ramp-duration", "needs --request-rate")
		}
	}
	if f.ConcurrencyRampDuration != nil {
		if !has("concurrency") {
			return usage("concurrency-ramp-duration", "needs --concurrency")
		}
		if fixed || userCentric {
			return usage("concurrency-ramp-duration", "not allowed with a fixed schedule or --user-centric-rate")
		}
	}

	// Stop conditions.
	if has("request_count") && has("num_conversations") {
		return usage("request-count", "give --request-count or --conversation-num, not both")
	}
	if f.BenchmarkGracePeriod != "" {
		if !has("benchmark_duration") {
			return usage("benchmark-grace-period", "needs --benchmark-duration")
		}
		if _, err := graceValue("benchmark-grace-period", f.BenchmarkGracePeriod); err != nil {
			return err
		}
	}

	// Cancellation.
	if r := f.CancellationRate; r != nil && (*r <= 0 || *r > 100 || math.IsNaN(*r)) {
		return usage("request-cancellation-rate", "must be a percentage in (0, 100], got %v", *r)
	}
	if f.CancellationDelay != nil {
		if f.CancellationRate == nil {
			return usage("request-cancellation-delay", "needs --request-cancellation-rate")
		}
		if _, err := optSeconds("request-cancellation-delay", f.CancellationDelay, false); err != nil {
			return err
		}
	}

	// Warmup.
	warm := f.WarmupRequestCount != nil || f.WarmupDuration != nil || f.NumWarmupSessions != nil
	if !warm {
		for flag, given := range map[string]bool{
			"warmup-concurrency": f.WarmupConcurrency != nil, "warmup-request-rate": f.WarmupRequestRate != nil,
			"warmup-arrival-pattern": f.WarmupArrivalPattern != "", "warmup-grace-period": f.WarmupGracePeriod != "",
			"warmup-concurrency-ramp-duration":  f.WarmupConcurrencyRampDuration != nil,
			"warmup-request-rate-ramp-duration": f.WarmupRequestRateRampDuration != nil,
		} {
			if given {
				return usage(flag, "needs a warmup (--warmup-request-count, --warmup-duration or --num-warmup-sessions)")
			}
		}
	}
	if n := f.WarmupRequestCount; n != nil && *n < 1 {
		return usage("warmup-request-count", "must be >= 1, got %d", *n)
	}
	if n := f.NumWarmupSessions; n != nil && *n < 1 {
		return usage("num-warmup-sessions", "must be >= 1, got %d", *n)
	}
	if f.WarmupRequestCount != nil && f.NumWarmupSessions != nil {
		return usage("num-warmup-sessions", "give --warmup-request-count or --num-warmup-sessions, not both")
	}
	if _, err := optSeconds("warmup-duration", f.WarmupDuration, true); err != nil {
		return err
	}
	if n := f.WarmupConcurrency; n != nil && *n < 1 {
		return usage("warmup-concurrency", "must be >= 1, got %d", *n)
	}
	if r := f.WarmupRequestRate; r != nil && (*r <= 0 || math.IsNaN(*r) || math.IsInf(*r, 0)) {
		return usage("warmup-request-rate", "must be > 0, got %v", *r)
	}
	switch f.WarmupArrivalPattern {
	case "", "poisson", "constant", "gamma":
	default:
		return usage("warmup-arrival-pattern", "must be poisson, constant or gamma, got %q", f.WarmupArrivalPattern)
	}
	if f.WarmupGracePeriod != "" {
		if _, err := graceValue("warmup-grace-period", f.WarmupGracePeriod); err != nil {
			return err
		}
	}
	if _, err := optSeconds("warmup-concurrency-ramp-duration", f.WarmupConcurrencyRampDuration, true); err != nil {
		return err
	}
	if _, err := optSeconds("warmup-request-rate-ramp-duration", f.WarmupRequestRateRampDuration, true); err != nil {
		return err
	}
	return nil
}

// listGiven reports whether a magic-list flag was given (one value or many).
func (b *builder) listGiven(param string) bool {
	for _, l := range listFlags {
		if l.param == param {
			return strings.TrimSpace(l.get(b.f)) != ""
		}
	}
	return false
}

// datasetRules checks the dataset flags against the input (file, rankings,
// synthetic) and the endpoint.
func (b *builder) datasetRules() error {
	f := b.f
	rankings := strings.Contains(b.epName, "rankings")
	synthFlags := []struct {
		flag  string
		given bool
	}{
		{"isl", b.listGiven("isl")}, {"isl-stddev", b.listGiven("isl_stddev")},
		{"osl", b.listGiven("osl")}, {"osl-stddev", b.listGiven("osl_stddev")},
		{"seq-dist", f.SeqDist != ""}, {"num-prefix-prompts", f.PrefixPool != nil},
		{"prompt-prefix-length", f.PrefixLen != nil}, {"shared-system-prompt-length", f.SystemLen != nil},
		{"user-context-prompt-length", f.ContextLen != nil}, {"conversation-turn-mean", b.listGiven("conversation_turn_mean")},
		{"conversation-turn-stddev", f.ConversationTurnStddev != nil}, {"conversation-turn-delay-mean", f.ConversationTurnDelayMean != nil},
		{"conversation-turn-delay-stddev", f.ConversationTurnDelayStdev != nil}, {"conversation-turn-delay-ratio", f.ConversationTurnDelayRatio != nil},
		{"image-batch-size", f.ImageBatchSize != nil}, {"audio-batch-size", f.AudioBatchSize != nil},
	}
	rankFlags := []struct {
		flag  string
		given bool
	}{
		{"rankings-passages-mean", f.RankingsPassagesMean != nil}, {"rankings-passages-stddev", f.RankingsPassagesStddev != nil},
		{"rankings-passages-prompt-token-mean", f.RankingsPassageTokensMean != nil}, {"rankings-passages-prompt-token-stddev", f.RankingsPassageTokensStddev != nil},
		{"rankings-query-prompt-token-mean", f.RankingsQueryTokensMean != nil}, {"rankings-query-prompt-token-stddev", f.RankingsQueryTokensStddev != nil},
	}
	switch {
	case b.inputFile != "":
		for _, s := range append(synthFlags, rankFlags...) {
			if s.given {
				return usage(s.flag, "applies to synthetic data; with --input-file the prompts and lengths come from the file")
			}
		}
		if f.BatchSize != nil {
			return usage("prompt-batch-size", "applies to synthetic data; with --input-file each line is one request")
		}
		if f.NumDatasetEntries != nil && plugin.Normalize(f.CustomDatasetType) != "random_pool" {
			return usage("num-dataset-entries", "applies to synthetic data and random_pool files (--custom-dataset-type random_pool)")
		}
	case rankings:
		for _, s := range synthFlags {
			if s.given && s.flag != "isl" {
				return usage(s.flag, "does not apply to the %s endpoint: rankings send a query and passages (see the --rankings-* options)", b.epName)
			}
		}
		if b.listGiven("isl") {
			return usage("isl", "does not apply to the %s endpoint; use --rankings-query-prompt-token-mean and --rankings-passages-prompt-token-mean", b.epName)
		}
		if f.BatchSize != nil {
			return usage("prompt-batch-size", "does not apply to the %s endpoint; use --rankings-passages-mean", b.epName)
		}
	default:
		for _, s := range rankFlags {
			if s.given {
				return usage(s.flag, "needs a rankings endpoint (--endpoint-type cohere_rankings, hf_tei_rankings or nim_rankings)")
			}
		}
	}
	for _, c := range []struct {
		flag string
		v    *int
		min  int
	}{
		{"num-dataset-entries", f.NumDatasetEntries, 1}, {"prompt-batch-size", f.BatchSize, 1},
		{"num-prefix-prompts", f.PrefixPool, 0}, {"prompt-prefix-length", f.PrefixLen, 0},
		{"shared-system-prompt-length", f.SystemLen, 0}, {"user-context-prompt-length", f.ContextLen, 0},
		{"image-batch-size", f.ImageBatchSize, 0}, {"audio-batch-size", f.AudioBatchSize, 0},
	} {
		if c.v != nil && *c.v < c.min {
			return usage(c.flag, "must be >= %d, got %d", c.min, *c.v)
		}
	}
	if f.SeqDist != "" {
		if b.listGiven("isl") || b.listGiven("osl") || b.listGiven("isl_stddev") || b.listGiven("osl_stddev") {
			return usage("seq-dist", "give --seq-dist or --isl/--osl, not both (the distribution sets both lengths)")
		}
		if _, err := dist.ParseSequence(f.SeqDist); err != nil {
			return usage("seq-dist", "%v", err)
		}
	}
	if b.listGiven("isl_stddev") && !b.listGiven("isl") {
		return usage("isl-stddev", "needs --isl")
	}
	if b.listGiven("osl_stddev") && !b.listGiven("osl") {
		return usage("osl-stddev", "needs --osl")
	}
	pool, plen := f.PrefixPool != nil && *f.PrefixPool > 0, f.PrefixLen != nil && *f.PrefixLen > 0
	if pool != plen {
		if pool {
			return usage("num-prefix-prompts", "needs --prompt-prefix-length")
		}
		return usage("prompt-prefix-length", "needs --num-prefix-prompts")
	}
	if pool && f.SystemLen != nil && *f.SystemLen > 0 {
		return usage("shared-system-prompt-length", "not with a prefix pool (--num-prefix-prompts)")
	}
	if f.ConversationTurnStddev != nil && *f.ConversationTurnStddev < 0 {
		return usage("conversation-turn-stddev", "must be >= 0")
	}
	for _, c := range []struct {
		flag string
		v    *float64
	}{
		{"conversation-turn-delay-mean", f.ConversationTurnDelayMean}, {"conversation-turn-delay-stddev", f.ConversationTurnDelayStdev},
		{"conversation-turn-delay-ratio", f.ConversationTurnDelayRatio},
		{"image-width-stddev", f.ImageWidthStddev}, {"image-height-stddev", f.ImageHeightStdev}, {"audio-length-stddev", f.AudioLengthStdev},
		{"rankings-passages-stddev", f.RankingsPassagesStddev}, {"rankings-passages-prompt-token-stddev", f.RankingsPassageTokensStddev},
		{"rankings-query-prompt-token-stddev", f.RankingsQueryTokensStddev},
	} {
		if c.v != nil && (*c.v < 0 || math.IsNaN(*c.v) || math.IsInf(*c.v, 0)) {
			return usage(c.flag, "must be >= 0, got %v", *c.v)
		}
	}
	for _, c := range []struct {
		flag string
		v    *float64
	}{
		{"image-width-mean", f.ImageWidthMean}, {"image-height-mean", f.ImageHeightMean}, {"audio-length-mean", f.AudioLengthMean},
		{"rankings-passages-mean", f.RankingsPassagesMean}, {"rankings-passages-prompt-token-mean", f.RankingsPassageTokensMean},
		{"rankings-query-prompt-token-mean", f.RankingsQueryTokensMean},
	} {
		if c.v != nil && (*c.v <= 0 || math.IsNaN(*c.v) || math.IsInf(*c.v, 0)) {
			return usage(c.flag, "must be > 0, got %v", *c.v)
		}
	}
	if f.DatasetSamplingStrategy != "" {
		switch s := plugin.Normalize(f.DatasetSamplingStrategy); s {
		case "sequential", "random", "shuffle":
		default:
			return usage("dataset-sampling-strategy", "must be sequential, random or shuffle, got %q", f.DatasetSamplingStrategy)
		}
	}

	// Images and audio.
	imageGiven := f.ImageWidthMean != nil || f.ImageWidthStddev != nil || f.ImageHeightMean != nil || f.ImageHeightStdev != nil || f.ImageFormat != ""
	if imageGiven && (f.ImageBatchSize == nil || *f.ImageBatchSize == 0) {
		return usage("image-batch-size", "needed by the other --image-* options (images per turn)")
	}
	if f.ImageBatchSize != nil && *f.ImageBatchSize > 0 && !b.epMeta.SupportsImages {
		return usage("image-batch-size", "the %s endpoint does not accept images", b.epName)
	}
	switch f.ImageFormat {
	case "", "png", "jpeg", "random":
	default:
		return usage("image-format", "must be png, jpeg or random, got %q", f.ImageFormat)
	}
	audioGiven := f.AudioLengthMean != nil || f.AudioLengthStdev != nil || f.AudioFormat != "" || len(f.AudioSampleRates) > 0 || len(f.AudioDepths) > 0 || f.AudioNumChannels != nil
	if audioGiven && (f.AudioBatchSize == nil || *f.AudioBatchSize == 0) {
		return usage("audio-batch-size", "needed by the other --audio-* options (clips per turn)")
	}
	if f.AudioBatchSize != nil && *f.AudioBatchSize > 0 && !b.epMeta.SupportsAudio {
		return usage("audio-batch-size", "the %s endpoint does not accept audio", b.epName)
	}
	if f.AudioFormat != "" && f.AudioFormat != "wav" {
		return usage("audio-format", "%s is not supported: loadstar generates wav clips", f.AudioFormat)
	}
	if len(f.AudioSampleRates) > 1 {
		return usage("audio-sample-rates", "one rate only: loadstar generates every clip at one sample rate")
	}
	if len(f.AudioSampleRates) == 1 {
		khz, err := strconv.ParseFloat(strings.TrimSpace(f.AudioSampleRates[0]), 64)
		if err != nil || khz <= 0 {
			return usage("audio-sample-rates", "%q is not a sample rate in kHz (e.g. 16)", f.AudioSampleRates[0])
		}
	}
	for _, d := range f.AudioDepths {
		if strings.TrimSpace(d) != "16" {
			return usage("audio-depths", "%s is not supported: loadstar generates 16-bit clips", d)
		}
	}
	if f.AudioNumChannels != nil && *f.AudioNumChannels != 1 {
		return usage("audio-num-channels", "%d is not supported: loadstar generates mono clips", *f.AudioNumChannels)
	}
	return nil
}

// checkValues applies the rules that involve the values of magic lists.
func (b *builder) checkValues(params []sweep.Param, fixed values) error {
	all := map[string][]any{}
	for k, v := range fixed {
		all[k] = []any{v}
	}
	for _, p := range params {
		all[p.Name] = p.Values
	}
	if b.mode == "user_centric" {
		if b.inputFile == "" {
			turns := all["conversation_turn_mean"]
			if len(turns) == 0 {
				return usage("user-centric-rate", "needs conversations of 2 or more turns (--conversation-turn-mean 2 or more)")
			}
			for _, t := range turns {
				if toFloat(t) < 2 {
					return usage("conversation-turn-mean", "--user-centric-rate needs 2 or more turns, got %s", sweep.FormatValue(t))
				}
			}
		}
		if cs := all["concurrency"]; len(cs) > 0 {
			minUsers := math.Inf(1)
			for _, u := range all["num_users"] {
				minUsers = math.Min(minUsers, toFloat(u))
			}
			for _, c := range cs {
				if toFloat(c) < minUsers {
					return usage("concurrency", "with --user-centric-rate it must be >= --num-users (loadstar's user-centric timing has no session cap), got %s", sweep.FormatValue(c))
				}
			}
			b.plan.Notes = append(b.plan.Notes, "--concurrency >= --num-users has no effect with --user-centric-rate: users never overlap themselves")
		}
	}
	return nil
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// seconds converts AIPerf's seconds to a duration as scripts do.
func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

func optSeconds(flag string, v *float64, positive bool) (time.Duration, error) {
	if v == nil {
		return 0, nil
	}
	x := *v
	if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 || positive && x == 0 {
		if positive {
			return 0, usage(flag, "must be > 0 seconds, got %v", x)
		}
		return 0, usage(flag, "must be >= 0 seconds, got %v", x)
	}
	return seconds(x), nil
}

// graceValue reads a grace period: seconds or "inf".
func graceValue(flag, s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "inf", "infinity", "+inf":
		return infiniteGrace, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, usage(flag, "%q is not a number of seconds >= 0 or inf", s)
	}
	return seconds(v), nil
}

// benchmark builds the config of one cell from the flags and the cell's
// magic-list values.
func (b *builder) benchmark(v values) (*config.Benchmark, error) {
	f := b.f
	cfg := config.Defaults()
	cfg.CLICommand = b.plan.Command

	// Endpoint.
	args := plugin.Args{}
	if b.plan.Mock != nil {
		args["url"] = []string{MockURL}
	} else {
		args["url"] = append([]string(nil), f.URL...)
	}
	args["model"] = append([]string(nil), f.Model...)
	if f.Streaming {
		args["streaming"] = true
	}
	if f.APIKey != "" {
		args["api_key"] = f.APIKey
	}
	if len(f.Header) > 0 {
		h, _ := parseHeaders(f.Header)
		m := ordered.New(len(h))
		for _, kv := range h {
			m.Set(kv[0], kv[1])
		}
		args["headers"] = m
	}
	if len(f.ExtraInputs) > 0 {
		extra, _ := endpoint.ParseExtra(f.ExtraInputs)
		if extra.Len() > 0 {
			args["extra"] = extra
		}
	}
	if f.CustomEndpoint != "" {
		args["custom_path"] = f.CustomEndpoint
	}
	if f.UseLegacyMaxTokens {
		args["use_legacy_max_tokens"] = true
	}
	if f.RequestTimeoutSeconds != nil {
		args["timeout"] = seconds(*f.RequestTimeoutSeconds)
	}
	if f.SessionHeader != "" {
		args["session_header"] = f.SessionHeader
	}
	if f.PerChunkUsage {
		args["per_chunk_usage"] = true
	}
	cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: b.epName, Args: args}
	if f.ConnectionReuseStrategy == "never" {
		cfg.Transport = &plugin.Spec{Category: plugin.Transport, Name: "http", Args: plugin.Args{"connection_reuse": "never"}}
	}
	cfg.ServerTokenCount = f.UseServerTokenCount
	cfg.Tokenizer = b.tok

	// Dataset and sampler.
	ds, err := b.dataset(v)
	if err != nil {
		return nil, err
	}
	cfg.Dataset = ds
	if f.DatasetSamplingStrategy != "" {
		cfg.Sampler = &plugin.Spec{Category: plugin.DatasetSampler, Name: plugin.Normalize(f.DatasetSamplingStrategy), Args: plugin.Args{}}
	}

	// Load.
	cfg.Timing = b.timing(v)
	if v.has("request_count") {
		cfg.Stop.Requests = int(v.int("request_count"))
	}
	if v.has("num_conversations") {
		cfg.Stop.Sessions = int(v.int("num_conversations"))
	}
	if v.has("benchmark_duration") {
		cfg.Stop.Duration = seconds(v.float("benchmark_duration"))
		if b.mode == "user_centric" {
			cfg.Grace = infiniteGrace // AIPerf: user-centric duration runs wait for every session
		}
	}
	if f.BenchmarkGracePeriod != "" {
		cfg.Grace, _ = graceValue("benchmark-grace-period", f.BenchmarkGracePeriod)
	}
	if f.CancellationRate != nil {
		cfg.Cancel.Percent = *f.CancellationRate
		if f.CancellationDelay != nil {
			cfg.Cancel.Delay = seconds(*f.CancellationDelay)
		}
	}
	if f.WarmupRequestCount != nil || f.WarmupDuration != nil || f.NumWarmupSessions != nil {
		w := &config.Warmup{}
		if f.WarmupRequestCount != nil {
			w.Stop.Requests = *f.WarmupRequestCount
		}
		if f.NumWarmupSessions != nil {
			w.Stop.Sessions = *f.NumWarmupSessions
		}
		if f.WarmupDuration != nil {
			w.Stop.Duration = seconds(*f.WarmupDuration)
		}
		if f.WarmupGracePeriod != "" {
			g, _ := graceValue("warmup-grace-period", f.WarmupGracePeriod)
			if g != infiniteGrace {
				w.Grace = g // 0 (the default) already waits for every warmup request
			}
		}
		w.Timing = b.warmupTiming(v)
		cfg.Warmup = w
	}

	cfg.SLOs = append([]config.SLO(nil), b.slos...)
	if f.RandomSeed != nil {
		cfg.Seed, cfg.SeedSet = uint64(*f.RandomSeed), true
	} else if b.plan.Trials > 1 {
		cfg.Seed, cfg.SeedSet = 42, true // AIPerf's consistent multi-run seed
	}

	// Output.
	cfg.Output.ArtifactDir = f.ArtifactDir
	cfg.Output.Prefix = exportPrefix(f.ProfileExportPrefix)
	if f.ExportLevel != "" {
		cfg.Output.ExportLevel = f.ExportLevel
	}
	if f.SliceDuration != nil {
		cfg.Output.SliceDuration = seconds(*f.SliceDuration)
	}
	switch {
	case f.UIType == "dashboard", b.plan.Verbosity > 0 && f.UIType == "":
		cfg.UI = "simple"
	case f.UIType != "":
		cfg.UI = f.UIType
	}
	if err := cfg.Validate(); err != nil {
		return nil, errext.Errorf(errext.InvalidConfig, "%s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return &cfg, nil
}

// exportPrefix accepts GenAI-Perf's --profile-export-file form too: a file
// name whose extension is dropped ("run1.json" names run1.json, run1.csv...).
func exportPrefix(s string) string {
	for _, ext := range []string{".jsonl", ".json", ".csv"} {
		if t, ok := strings.CutSuffix(s, ext); ok && t != "" {
			return t
		}
	}
	return s
}

// parseHeaders reads -H values: each "Name:Value" or a JSON object; a later
// header of the same name replaces an earlier one.
func parseHeaders(vals []string) ([][2]string, error) {
	var out [][2]string
	for _, v := range vals {
		h, err := endpoint.ParseHeaders(v)
		if err != nil {
			return nil, err
		}
		for _, kv := range h {
			replaced := false
			for i := range out {
				if strings.EqualFold(out[i][0], kv[0]) {
					out[i], replaced = kv, true
				}
			}
			if !replaced {
				out = append(out, kv)
			}
		}
	}
	return out, nil
}

// lengthDist is N(mean, sd), or fixed when sd is 0 and not swept.
func lengthDist(mean, sd float64, sweptSD bool) dist.Dist {
	if sd == 0 && !sweptSD {
		return dist.Fixed{V: mean}
	}
	return dist.Normal{Mu: mean, Sigma: sd}
}

// dataset builds the dataset composer spec of a cell.
func (b *builder) dataset(v values) (*plugin.Spec, error) {
	f := b.f
	args := plugin.Args{}
	if b.inputFile != "" {
		args["path"] = b.inputFile
		if f.CustomDatasetType != "" {
			args["type"] = plugin.Normalize(f.CustomDatasetType)
		}
		if f.IslBlockSize != nil {
			args["block_size"] = int64(*f.IslBlockSize)
		}
		if f.NumDatasetEntries != nil {
			args["entries"] = int64(*f.NumDatasetEntries)
		}
		return &plugin.Spec{Category: plugin.DatasetComposer, Name: "custom", Args: args}, nil
	}
	if f.NumDatasetEntries != nil {
		args["entries"] = int64(*f.NumDatasetEntries)
	}
	meanSD := func(mean, sd *float64, defMean float64) dist.Dist {
		m, s := defMean, 0.0
		if mean != nil {
			m = *mean
		}
		if sd != nil {
			s = *sd
		}
		return lengthDist(m, s, false)
	}
	if strings.Contains(b.epName, "rankings") {
		if f.RankingsPassagesMean != nil || f.RankingsPassagesStddev != nil {
			args["passages"] = meanSD(f.RankingsPassagesMean, f.RankingsPassagesStddev, 1)
		}
		if f.RankingsPassageTokensMean != nil || f.RankingsPassageTokensStddev != nil {
			args["passage_length"] = meanSD(f.RankingsPassageTokensMean, f.RankingsPassageTokensStddev, 550)
		}
		if f.RankingsQueryTokensMean != nil || f.RankingsQueryTokensStddev != nil {
			args["query_length"] = meanSD(f.RankingsQueryTokensMean, f.RankingsQueryTokensStddev, 550)
		}
		return &plugin.Spec{Category: plugin.DatasetComposer, Name: "synthetic_rankings", Args: args}, nil
	}
	if v.has("isl") {
		args["isl"] = lengthDist(v.float("isl"), v.float("isl_stddev"), b.swept["isl_stddev"])
	}
	if v.has("osl") {
		args["osl"] = lengthDist(v.float("osl"), v.float("osl_stddev"), b.swept["osl_stddev"])
	}
	if f.SeqDist != "" {
		args["sequence_distribution"] = f.SeqDist
	}
	if v.has("conversation_turn_mean") || f.ConversationTurnStddev != nil {
		mean := 1.0
		if v.has("conversation_turn_mean") {
			mean = v.float("conversation_turn_mean")
		}
		sd := 0.0
		if f.ConversationTurnStddev != nil {
			sd = *f.ConversationTurnStddev
		}
		args["turns"] = lengthDist(mean, sd, false)
	}
	if f.ConversationTurnDelayMean != nil || f.ConversationTurnDelayStdev != nil {
		args["turn_delay"] = meanSD(f.ConversationTurnDelayMean, f.ConversationTurnDelayStdev, 0)
	}
	if f.ConversationTurnDelayRatio != nil {
		args["turn_delay_ratio"] = *f.ConversationTurnDelayRatio
	}
	if f.BatchSize != nil {
		args["batch_size"] = int64(*f.BatchSize)
	}
	if f.PrefixPool != nil && *f.PrefixPool > 0 {
		args["prefix_prompts"] = int64(*f.PrefixPool)
		args["prefix_length"] = int64(*f.PrefixLen)
	}
	if f.SystemLen != nil && *f.SystemLen > 0 {
		args["system_prompt_length"] = int64(*f.SystemLen)
	}
	if f.ContextLen != nil && *f.ContextLen > 0 {
		args["user_context_length"] = int64(*f.ContextLen)
	}
	if f.ImageBatchSize != nil && *f.ImageBatchSize > 0 {
		args["images"] = int64(*f.ImageBatchSize)
		if f.ImageWidthMean != nil || f.ImageWidthStddev != nil {
			args["image_width"] = meanSD(f.ImageWidthMean, f.ImageWidthStddev, 512)
		}
		if f.ImageHeightMean != nil || f.ImageHeightStdev != nil {
			args["image_height"] = meanSD(f.ImageHeightMean, f.ImageHeightStdev, 512)
		}
		if f.ImageFormat != "" {
			args["image_format"] = f.ImageFormat
		}
	}
	if f.AudioBatchSize != nil && *f.AudioBatchSize > 0 {
		args["audio"] = int64(*f.AudioBatchSize)
		if f.AudioLengthMean != nil || f.AudioLengthStdev != nil {
			args["audio_duration"] = meanSD(f.AudioLengthMean, f.AudioLengthStdev, 5)
		}
		if len(f.AudioSampleRates) == 1 {
			khz, _ := strconv.ParseFloat(strings.TrimSpace(f.AudioSampleRates[0]), 64)
			args["audio_sample_rate"] = int64(math.Round(khz * 1000))
		}
	}
	return &plugin.Spec{Category: plugin.DatasetComposer, Name: "synthetic", Args: args}, nil
}

func arrivalSpec(pattern string, smoothness *float64) *plugin.Spec {
	if pattern == "" {
		pattern = "poisson"
	}
	args := plugin.Args{}
	if pattern == "gamma" && smoothness != nil {
		args["smoothness"] = *smoothness
	}
	return &plugin.Spec{Category: plugin.ArrivalPattern, Name: pattern, Args: args}
}

func linearRamp(secs float64) *plugin.Spec {
	return &plugin.Spec{Category: plugin.Ramp, Name: "linear", Args: plugin.Args{"duration": seconds(secs)}}
}

// timing builds the profiling timing strategy of a cell.
func (b *builder) timing(v values) *plugin.Spec {
	f := b.f
	spec := func(name string, args plugin.Args) *plugin.Spec {
		return &plugin.Spec{Category: plugin.TimingStrategy, Name: name, Args: args}
	}
	switch b.mode {
	case "fixed":
		args := plugin.Args{}
		if f.FixedScheduleAutoOffset {
			args["auto_offset"] = true
		}
		if o := f.FixedScheduleStartOffset; o != nil {
			args["start_offset"] = time.Duration(*o) * time.Millisecond
		}
		if o := f.FixedScheduleEndOffset; o != nil {
			args["end_offset"] = time.Duration(*o) * time.Millisecond
		}
		if v.has("concurrency") {
			args["max_concurrency"] = v.int("concurrency")
		}
		return spec("fixed_schedule", args)
	case "user_centric":
		return spec("user_centric_rate", plugin.Args{"rate": *f.UserCentricRate, "users": v.int("num_users")})
	case "rate":
		args := plugin.Args{"rate": v.float("request_rate"), "arrival": arrivalSpec(f.ArrivalPattern, f.ArrivalSmoothness)}
		if v.has("concurrency") {
			args["max_concurrency"] = v.int("concurrency")
			if f.ConcurrencyRampDuration != nil {
				args["concurrency_ramp"] = linearRamp(*f.ConcurrencyRampDuration)
			}
		}
		if f.RequestRateRampDuration != nil {
			args["ramp"] = linearRamp(*f.RequestRateRampDuration)
		}
		return spec("request_rate", args)
	}
	args := plugin.Args{"concurrency": int64(1)}
	if v.has("concurrency") {
		args["concurrency"] = v.int("concurrency")
	}
	if f.ConcurrencyRampDuration != nil {
		args["ramp"] = linearRamp(*f.ConcurrencyRampDuration)
	}
	return spec("concurrency", args)
}

// warmupTiming is the warmup's own timing when a --warmup-* load flag asks
// for one, or when the profiling timing cannot serve as a warmup (a fixed
// schedule, user-centric users); nil means "the profiling timing".
func (b *builder) warmupTiming(v values) *plugin.Spec {
	f := b.f
	own := f.WarmupConcurrency != nil || f.WarmupRequestRate != nil || f.WarmupArrivalPattern != "" ||
		f.WarmupConcurrencyRampDuration != nil || f.WarmupRequestRateRampDuration != nil
	if !own && (b.mode == "rate" || b.mode == "concurrency") {
		return nil
	}
	var conc int64
	switch {
	case f.WarmupConcurrency != nil:
		conc = int64(*f.WarmupConcurrency)
	case v.has("concurrency"):
		conc = v.int("concurrency")
	}
	var rate float64
	switch {
	case f.WarmupRequestRate != nil:
		rate = *f.WarmupRequestRate
	case b.mode == "rate":
		rate = v.float("request_rate")
	}
	concRamp, rateRamp := f.WarmupConcurrencyRampDuration, f.WarmupRequestRateRampDuration
	if concRamp == nil && b.mode != "fixed" && b.mode != "user_centric" {
		concRamp = f.ConcurrencyRampDuration
	}
	if rateRamp == nil && b.mode == "rate" {
		rateRamp = f.RequestRateRampDuration
	}
	if rate > 0 {
		pattern := f.WarmupArrivalPattern
		if pattern == "" && b.mode == "rate" {
			pattern = f.ArrivalPattern
		}
		args := plugin.Args{"rate": rate, "arrival": arrivalSpec(pattern, f.ArrivalSmoothness)}
		if conc > 0 {
			args["max_concurrency"] = conc
			if concRamp != nil {
				args["concurrency_ramp"] = linearRamp(*concRamp)
			}
		}
		if rateRamp != nil {
			args["ramp"] = linearRamp(*rateRamp)
		}
		return &plugin.Spec{Category: plugin.TimingStrategy, Name: "request_rate", Args: args}
	}
	args := plugin.Args{"concurrency": max(conc, 1)}
	if concRamp != nil {
		args["ramp"] = linearRamp(*concRamp)
	}
	return &plugin.Spec{Category: plugin.TimingStrategy, Name: "concurrency", Args: args}
}

// checkSpecs checks every component of every cell against its plugin's
// parameters, and builds the cheap ones (endpoint, timing, sampler,
// transport) so that their own validation runs before anything starts.
func (b *builder) checkSpecs() error {
	for _, c := range b.plan.Cells {
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
	if len(p.Params) == 0 && p.Trials < 2 {
		return ""
	}
	if b.f.ArtifactDir != "" {
		return cleanDir(b.f.ArtifactDir)
	}
	cfg := p.Cells[0].Config
	stimulus := ""
	if len(p.Params) > 0 {
		names := make([]string, len(p.Params))
		for i, prm := range p.Params {
			names[i] = prm.Name
		}
		stimulus = strings.Join(names, "-") + "_sweep"
	}
	return cleanDir(export.ArtifactDir(cfg, b.epMeta.ServiceKind, b.epName, stimulus))
}

// UseURL points every cell of a plan on the embedded mock at the server's url.
func (p *Plan) UseURL(url string) {
	for _, c := range p.Cells {
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
