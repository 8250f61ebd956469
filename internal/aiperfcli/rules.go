package aiperfcli

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/internal/metrics"
	"github.com/loadstar/loadstar/internal/sweep"
)

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
	warm := f.WarmupRequestCount != nil || f.WarmupDuration != nil || f.NumWarmupSessions != nil
	if warm && len(params) > 0 && p.Trials > 1 && f.WarmupFirstRunOnly == nil {
		p.Notes = append(p.Notes, "every trial of a sweep step warms up (sweep() repeats the whole step; AIPerf warms up before the first trial only)")
	}
	if f.SweepSameSeed != nil {
		if len(params) == 0 {
			return usage("parameter-sweep-same-seed", "needs a sweep (a comma-separated list on a sweepable flag)")
		}
		if *f.SweepSameSeed && f.RandomSeed == nil {
			return usage("parameter-sweep-same-seed", "needs --random-seed")
		}
	}
	if f.ConsistentSeed != nil && p.Trials < 2 {
		return usage("set-consistent-seed", "needs --num-profile-runs of 2 or more")
	}
	if f.WarmupFirstRunOnly != nil {
		if p.Trials < 2 {
			return usage("profile-run-disable-warmup-after-first", "needs --num-profile-runs of 2 or more")
		}
		if *f.WarmupFirstRunOnly && len(params) > 0 {
			return usage("profile-run-disable-warmup-after-first", "not supported in a sweep: sweep() warms up before every trial")
		}
		p.WarmupEveryTrial = !*f.WarmupFirstRunOnly
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
	switch f.Transport {
	case "", "http":
	default:
		return usage("transport", "must be http (the only transport), got %q", f.Transport)
	}
	if _, err := parseHeaders(f.Header); err != nil {
		return usage("header", "%v", err)
	}
	if _, err := endpoint.ParseExtra([]string(f.ExtraInputs)); err != nil {
		return usage("extra-inputs", "%v", err)
	}
	if f.SessionHeader != "" {
		if _, err := endpoint.ParseHeaders(f.SessionHeader + ": x"); err != nil {
			return usage("session-header", "%v", err)
		}
	}

	// Models: comma-separated and/or several values.
	var models []string
	for _, m := range f.Model {
		for _, part := range strings.Split(m, ",") {
			if part = strings.TrimSpace(part); part == "" {
				return usage("model", "empty model name in %q", m)
			}
			models = append(models, part)
		}
	}
	f.Model = models

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
	if r := f.ReplaySpeedup; r != nil {
		if !fixed {
			return usage("replay-speedup", "needs a fixed schedule (--fixed-schedule, or an --input-file with timestamps)")
		}
		if *r <= 0 || math.IsNaN(*r) || math.IsInf(*r, 0) {
			return usage("replay-speedup", "must be > 0, got %v", *r)
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
	switch f.PromptCorpus {
	case "":
	case "sonnet":
		b.plan.Notes = append(b.plan.Notes, "--prompt-corpus sonnet: loadstar's synthetic prompts come from its own public-domain prose corpus (The Adventures of Sherlock Holmes)")
	case "coding":
		return usage("prompt-corpus", "coding is not supported: loadstar has one prose corpus")
	default:
		return usage("prompt-corpus", "must be sonnet or coding, got %q", f.PromptCorpus)
	}
	switch f.CacheBust {
	case "", "none":
	case "system_prefix", "system_suffix", "first_turn_prefix", "first_turn_suffix":
		return usage("cache-bust", "%s is not supported: loadstar inserts no cache-bust markers", f.CacheBust)
	default:
		return usage("cache-bust", "must be none, system_prefix, system_suffix, first_turn_prefix or first_turn_suffix, got %q", f.CacheBust)
	}
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
		{"image-width-mean", f.ImageWidthMean != nil}, {"audio-length-mean", f.AudioLengthMean != nil},
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

	// Images and audio, as AIPerf: a batch size (default 1) of items whose
	// size is given; without a size there are none.
	imageSized := f.ImageWidthMean != nil || f.ImageHeightMean != nil
	if imageSized && (f.ImageWidthMean == nil || f.ImageHeightMean == nil) {
		return usage("image-width-mean", "give --image-width-mean and --image-height-mean together")
	}
	imageOpts := f.ImageWidthStddev != nil || f.ImageHeightStdev != nil || f.ImageFormat != "" || f.ImageSource != ""
	if (imageOpts || f.ImageBatchSize != nil && *f.ImageBatchSize > 0) && !imageSized {
		return usage("image-width-mean", "needed by the --image-* options: synthetic images need a size (--image-width-mean and --image-height-mean)")
	}
	if b.imagesOn() && !b.epMeta.SupportsImages {
		return usage("image-width-mean", "the %s endpoint does not accept images", b.epName)
	}
	switch f.ImageSource {
	case "", "noise":
	default:
		return usage("image-source", "%s is not supported: synthetic images are random noise; put image files in a dataset file (--input-file)", f.ImageSource)
	}
	audioOpts := f.AudioLengthStdev != nil || f.AudioFormat != "" || len(f.AudioSampleRates) > 0 || len(f.AudioDepths) > 0 || f.AudioNumChannels != nil
	if (audioOpts || f.AudioBatchSize != nil && *f.AudioBatchSize > 0) && f.AudioLengthMean == nil {
		return usage("audio-length-mean", "needed by the --audio-* options: synthetic audio needs a length")
	}
	if b.audioOn() && !b.epMeta.SupportsAudio {
		return usage("audio-length-mean", "the %s endpoint does not accept audio", b.epName)
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

// imagesOn reports whether synthetic turns carry images.
func (b *builder) imagesOn() bool {
	f := b.f
	return f.ImageWidthMean != nil && f.ImageHeightMean != nil && (f.ImageBatchSize == nil || *f.ImageBatchSize > 0)
}

// audioOn reports whether synthetic turns carry audio clips.
func (b *builder) audioOn() bool {
	f := b.f
	return f.AudioLengthMean != nil && (f.AudioBatchSize == nil || *f.AudioBatchSize > 0)
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
