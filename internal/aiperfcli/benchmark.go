package aiperfcli

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
)

// seconds converts AIPerf's seconds to a duration as scripts do.
func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// benchmark builds the config of one cell from the flags and the cell's
// magic-list values.
func (b *builder) benchmark(v values) (*config.Benchmark, error) {
	f := b.f
	cfg := config.Defaults()
	cfg.CLICommand = b.plan.command
	cfg.Endpoint = b.endpointSpec()
	cfg.Transport = b.transportSpec()
	cfg.ServerTokenCount = f.UseServerTokenCount
	cfg.Tokenizer = b.tok
	cfg.Dataset = b.dataset(v)
	if f.DatasetSamplingStrategy != "" {
		cfg.Sampler = &plugin.Spec{Category: plugin.DatasetSampler, Name: plugin.Normalize(f.DatasetSamplingStrategy), Args: plugin.Args{}}
	}
	cfg.Timing = b.timing(v)
	b.stop(&cfg, v)
	cfg.Warmup = b.warmup(v)
	if f.PrefillConcurrency != nil {
		cfg.Prefill.Concurrency = *f.PrefillConcurrency
	}
	if f.PrefillConcurrencyRamp != nil {
		cfg.Prefill.Ramp = seconds(*f.PrefillConcurrencyRamp)
	}
	cfg.SLOs = append([]config.SLO(nil), b.slos...)
	if f.RandomSeed != nil {
		cfg.Seed, cfg.SeedSet = uint64(*f.RandomSeed), true
	} else if b.plan.trials > 1 && (f.ConsistentSeed == nil || *f.ConsistentSeed) {
		cfg.Seed, cfg.SeedSet = 42, true // AIPerf's consistent multi-run seed
	}
	b.output(&cfg)
	if err := cfg.Validate(); err != nil {
		return nil, errext.Errorf(errext.InvalidConfig, "%s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return &cfg, nil
}

// transportSpec is the transport of every cell: nil (the default http
// transport) unless a flag sets one of its arguments.
func (b *builder) transportSpec() *plugin.Spec {
	f := b.f
	args := plugin.Args{}
	if f.ConnectionReuseStrategy == "never" {
		args["connection_reuse"] = "never"
	}
	if f.MaxResponseBytes != nil {
		args["max_response_bytes"] = *f.MaxResponseBytes
	}
	if f.MaxRedirects != nil {
		args["max_redirects"] = int64(*f.MaxRedirects)
	}
	if len(args) == 0 {
		return nil
	}
	return &plugin.Spec{Category: plugin.Transport, Name: "http", Args: args}
}

// endpointSpec is the endpoint plugin of every cell.
func (b *builder) endpointSpec() *plugin.Spec {
	f := b.f
	args := plugin.Args{}
	if b.plan.Mock != nil {
		args["url"] = []string{mockURL}
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
		extra, _ := endpoint.ParseExtra([]string(f.ExtraInputs))
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
	if f.AuthType == "sigv4" {
		sig := ordered.FromPairs("region", f.AWSRegion, "service", f.AWSService)
		if f.AWSProfile != "" {
			sig.Set("profile", f.AWSProfile)
		}
		args["sigv4"] = sig
	}
	return &plugin.Spec{Category: plugin.Endpoint, Name: b.epName, Args: args}
}

// stop sets a cell's stop conditions, grace period and cancellation.
func (b *builder) stop(cfg *config.Benchmark, v values) {
	f := b.f
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
		cfg.Grace, _ = graceValue(f.BenchmarkGracePeriod)
	}
	cfg.Abort.Unreachable = cfg.Abort.Unreachable && !f.NoAbortUnreachable
	if f.FailedRequestThreshold != nil {
		ratio := *f.FailedRequestThreshold
		cfg.Abort.FailedRequestThreshold = &ratio
	}
	if f.WaitForModelTimeout != nil {
		cfg.WaitForModel.Timeout = seconds(*f.WaitForModelTimeout)
		if f.WaitForModelMode != "" {
			cfg.WaitForModel.Mode = f.WaitForModelMode
		}
		if f.WaitForModelInterval != nil {
			cfg.WaitForModel.Interval = seconds(*f.WaitForModelInterval)
		}
	}
	if f.CancellationRate != nil {
		cfg.Cancel.Percent = *f.CancellationRate
		if f.CancellationDelay != nil {
			cfg.Cancel.Delay = seconds(*f.CancellationDelay)
		}
	}
}

// warmup is a cell's warmup phase, nil without one.
func (b *builder) warmup(v values) *config.Warmup {
	f := b.f
	if f.WarmupRequestCount == nil && f.WarmupDuration == nil && f.NumWarmupSessions == nil {
		return nil
	}
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
		g, _ := graceValue(f.WarmupGracePeriod)
		if g != infiniteGrace {
			w.Grace = g // 0 (the default) already waits for every warmup request
		}
	}
	w.Timing = b.warmupTiming(v)
	if f.WarmupPrefillConcurrency != nil {
		w.Prefill.Concurrency = *f.WarmupPrefillConcurrency
	}
	if f.WarmupPrefillConcurrencyRamp != nil {
		w.Prefill.Ramp = seconds(*f.WarmupPrefillConcurrencyRamp)
	}
	return w
}

// output sets a cell's artifacts and progress display.
func (b *builder) output(cfg *config.Benchmark) {
	f := b.f
	cfg.Output.ArtifactDir = f.ArtifactDir
	cfg.Output.Prefix = exportPrefix(f.ProfileExportPrefix)
	if f.ExportLevel != "" {
		cfg.Output.ExportLevel = f.ExportLevel
	}
	if f.SliceDuration != nil {
		cfg.Output.SliceDuration = seconds(*f.SliceDuration)
	}
	cfg.Output.Plots = f.AutoPlot
	cfg.ServerMetrics = b.serverMetrics
	switch {
	case b.plan.verbosity > 0 && f.UIType == "":
		cfg.UI = "simple" // debug logs would tear the dashboard
	case f.UIType != "":
		cfg.UI = f.UIType
	}
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
func (b *builder) dataset(v values) *plugin.Spec {
	f := b.f
	spec := func(name string, args plugin.Args) *plugin.Spec {
		return &plugin.Spec{Category: plugin.DatasetComposer, Name: name, Args: args}
	}
	args := plugin.Args{}
	if f.NumDatasetEntries != nil {
		args["entries"] = int64(*f.NumDatasetEntries)
	}
	switch {
	case b.inputFile != "":
		args["path"] = b.inputFile
		if f.CustomDatasetType != "" {
			args["type"] = plugin.Normalize(f.CustomDatasetType)
		}
		if f.IslBlockSize != nil {
			args["block_size"] = int64(*f.IslBlockSize)
		}
		if syn := b.synthesis(); syn.Len() > 0 {
			args["synthesis"] = syn
		}
		return spec("custom", args)
	case strings.Contains(b.epName, "rankings"):
		b.rankingsArgs(args)
		return spec("synthetic_rankings", args)
	}
	b.promptArgs(args, v)
	b.mediaArgs(args)
	return spec("synthetic", args)
}

// meanSD is N(mean, sd) of a pair of AIPerf's mean and stddev flags.
func meanSD(mean, sd *float64, defMean float64) dist.Dist {
	m, s := defMean, 0.0
	if mean != nil {
		m = *mean
	}
	if sd != nil {
		s = *sd
	}
	return lengthDist(m, s, false)
}

// rankingsArgs are the arguments of dataset.synthetic_rankings.
func (b *builder) rankingsArgs(args plugin.Args) {
	f := b.f
	if f.RankingsPassagesMean != nil || f.RankingsPassagesStddev != nil {
		args["passages"] = meanSD(f.RankingsPassagesMean, f.RankingsPassagesStddev, 1)
	}
	if f.RankingsPassageTokensMean != nil || f.RankingsPassageTokensStddev != nil {
		args["passage_length"] = meanSD(f.RankingsPassageTokensMean, f.RankingsPassageTokensStddev, 550)
	}
	if f.RankingsQueryTokensMean != nil || f.RankingsQueryTokensStddev != nil {
		args["query_length"] = meanSD(f.RankingsQueryTokensMean, f.RankingsQueryTokensStddev, 550)
	}
}

// promptArgs are the text arguments of dataset.synthetic: lengths, turns,
// batches, prefixes.
func (b *builder) promptArgs(args plugin.Args, v values) {
	f := b.f
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
}

// mediaArgs are the image and audio arguments of dataset.synthetic.
func (b *builder) mediaArgs(args plugin.Args) {
	f := b.f
	if b.imagesOn() {
		args["images"] = int64(1)
		if f.ImageBatchSize != nil {
			args["images"] = int64(*f.ImageBatchSize)
		}
		args["image_width"] = meanSD(f.ImageWidthMean, f.ImageWidthStddev, 0)
		args["image_height"] = meanSD(f.ImageHeightMean, f.ImageHeightStdev, 0)
		if f.ImageFormat != "" {
			args["image_format"] = f.ImageFormat
		}
	}
	if b.audioOn() {
		args["audio"] = int64(1)
		if f.AudioBatchSize != nil {
			args["audio"] = int64(*f.AudioBatchSize)
		}
		args["audio_duration"] = meanSD(f.AudioLengthMean, f.AudioLengthStdev, 0)
		if len(f.AudioSampleRates) == 1 {
			khz, _ := strconv.ParseFloat(strings.TrimSpace(f.AudioSampleRates[0]), 64)
			args["audio_sample_rate"] = int64(math.Round(khz * 1000))
		}
	}
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
		if f.ReplaySpeedup != nil {
			args["speedup"] = *f.ReplaySpeedup
		}
		if v.has("concurrency") {
			args["max_concurrency"] = v.int("concurrency")
		}
		return spec("fixed_schedule", args)
	case "user_centric":
		return spec("user_centric_rate", plugin.Args{"rate": *f.UserCentricRate, "users": v.int("num_users")})
	case "rate":
		args := plugin.Args{"arrival": arrivalSpec(f.ArrivalPattern, f.ArrivalSmoothness)}
		if v.has("concurrency") {
			args["max_concurrency"] = v.int("concurrency")
			if f.ConcurrencyRampDuration != nil {
				args["concurrency_ramp"] = linearRamp(*f.ConcurrencyRampDuration)
			}
		}
		if f.RequestRateSeries != "" {
			series, _ := rateSeriesArg(f.RequestRateSeries) // checked by the rules
			for k, x := range series {
				args[k] = x
			}
			return spec("request_rate_series", args)
		}
		args["rate"] = v.float("request_rate")
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
	if b.mode == "rate" && f.RequestRateSeries != "" && f.WarmupRequestRate == nil {
		// The warmup follows the series too, with its own cap if given.
		s := b.timing(v)
		if f.WarmupConcurrency != nil {
			s.Args["max_concurrency"] = int64(*f.WarmupConcurrency)
		}
		if f.WarmupArrivalPattern != "" {
			s.Args["arrival"] = arrivalSpec(f.WarmupArrivalPattern, f.ArrivalSmoothness)
		}
		return s
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

// synthesis is the dict of dataset.custom's synthesis argument: the
// --synthesis-* flags given, by AIPerf's option names.
func (b *builder) synthesis() *ordered.Map {
	f := b.f
	m := ordered.New(7)
	for _, o := range []struct {
		key string
		v   any
	}{
		{"speedup_ratio", f.SynthesisSpeedupRatio}, {"prefix_len_multiplier", f.SynthesisPrefixLenMultiplier},
		{"prefix_root_multiplier", f.SynthesisPrefixRootMultiplier}, {"prompt_len_multiplier", f.SynthesisPromptLenMultiplier},
		{"output_len_multiplier", f.SynthesisOutputLenMultiplier}, {"max_isl", f.SynthesisMaxIsl}, {"max_osl", f.SynthesisMaxOsl},
	} {
		switch x := o.v.(type) {
		case *float64:
			if x != nil {
				m.Set(o.key, *x)
			}
		case *int:
			if x != nil {
				m.Set(o.key, int64(*x))
			}
		}
	}
	return m
}
