package aiperfcli

// unsupported are the AIPerf flags loadstar recognises but does not honour,
// grouped by the reason given when one is used (the group's reason tag), and
// the few accepted without effect because they ask for what loadstar does
// anyway (each field's note tag is printed). This struct is the one list:
// kong declares the flags from it, checkUnsupported reads it, and
// docs/profile.md's tables are generated from it (go test
// ./internal/aiperfcli -run TestDocs -update). The flags are hidden from help.
type unsupported struct {
	Config struct {
		Config optionalValue `name:"config" short:"f" hidden:""`
	} `embed:"" reason:"AIPerf YAML configs are not read; write a scenario instead (--emit-scenario prints one for these flags)"`
	ResetKVCache struct {
		ResetKvCache               optionalValue `name:"reset-kv-cache" hidden:""`
		ResetKvCacheTimeoutSeconds optionalValue `name:"reset-kv-cache-timeout-seconds" hidden:""`
		ResetKvCachePath           optionalValue `name:"reset-kv-cache-path" hidden:""`
	} `embed:"" reason:"loadstar does not call server admin endpoints (KV-cache reset)"`
	ServerProfiler struct {
		ServerProfiler               optionalValue `name:"server-profiler" hidden:""`
		ServerProfilerTimeoutSeconds optionalValue `name:"server-profiler-timeout-seconds" hidden:""`
		ServerProfilerStartPath      optionalValue `name:"server-profiler-start-path" hidden:""`
		ServerProfilerStopPath       optionalValue `name:"server-profiler-stop-path" hidden:""`
	} `embed:"" reason:"loadstar does not call the server's profiler endpoints (/start_profile, /stop_profile)"`
	VideoDownload struct {
		DownloadVideoContent optionalValue `name:"download-video-content" hidden:""`
	} `embed:"" reason:"loadstar has no video-generation endpoint"`
	UUIDAndStrip struct {
		UuidAndStrip optionalValue `name:"uuid-and-strip" hidden:""`
	} `embed:"" reason:"loadstar does not strip images for vLLM's multimodal cache"`
	ChatTemplate struct {
		ApplyChatTemplate optionalValue `name:"apply-chat-template" hidden:""`
	} `embed:"" reason:"loadstar counts input tokens on the prompt text; chat templates are not applied"`
	PublicDatasets struct {
		PublicDataset optionalValue `name:"public-dataset" hidden:""`
		HfSubset      optionalValue `name:"hf-subset" hidden:""`
		HfWekaDataset optionalValue `name:"hf-weka-dataset" hidden:""`
		DatasetFilter optionalValue `name:"dataset-filter" hidden:""`
	} `embed:"" reason:"public datasets are downloaded from Hugging Face and loadstar works offline; download the file and pass --input-file (ShareGPT: --custom-dataset-type sharegpt)"`
	TraceLoaders struct {
		IgnoreTraceDelays        optionalValue `name:"ignore-trace-delays" hidden:""`
		UseThinkTimeOnly         optionalValue `name:"use-think-time-only" hidden:""`
		MaxContextLength         optionalValue `name:"max-context-length" hidden:""`
		AllowDatasetWrap         optionalValue `name:"allow-dataset-wrap" hidden:""`
		NoAllowDatasetWrap       optionalValue `name:"no-allow-dataset-wrap" hidden:""`
		TraceSessionSampleRatio  optionalValue `name:"trace-session-sample-ratio" hidden:""`
		InterTurnDelayCapSeconds optionalValue `name:"inter-turn-delay-cap-seconds" hidden:""`
		MaxIdleGapCapSeconds     optionalValue `name:"max-idle-gap-cap-seconds" hidden:""`
		OpenLoopReplay           optionalValue `name:"open-loop-replay" hidden:""`
		NoOpenLoopReplay         optionalValue `name:"no-open-loop-replay" hidden:""`
		OpenLoopStrict           optionalValue `name:"open-loop-strict" hidden:""`
		OmitKvHints              optionalValue `name:"omit-kv-hints" hidden:""`
		ForceMinTokens           optionalValue `name:"force-min-tokens" hidden:""`
		NoForceMinTokens         optionalValue `name:"no-force-min-tokens" hidden:""`
	} `embed:"" reason:"an option of trace loaders loadstar does not have (Weka, Baseten, agentic replay)"`
	ImageSourceSampling struct {
		ImageSourceSampling optionalValue `name:"image-source-sampling" hidden:""`
	} `embed:"" reason:"synthetic images are random noise, drawn independently"`
	Video struct {
		VideoBatchSize        optionalValue `name:"video-batch-size" aliases:"batch-size-video" hidden:""`
		VideoDuration         optionalValue `name:"video-duration" hidden:""`
		VideoFps              optionalValue `name:"video-fps" hidden:""`
		VideoWidth            optionalValue `name:"video-width" hidden:""`
		VideoHeight           optionalValue `name:"video-height" hidden:""`
		VideoSynthType        optionalValue `name:"video-synth-type" hidden:""`
		VideoFormat           optionalValue `name:"video-format" hidden:""`
		VideoCodec            optionalValue `name:"video-codec" hidden:""`
		VideoAudioSampleRate  optionalValue `name:"video-audio-sample-rate" hidden:""`
		VideoAudioNumChannels optionalValue `name:"video-audio-num-channels" hidden:""`
		VideoAudioCodec       optionalValue `name:"video-audio-codec" hidden:""`
		VideoAudioDepth       optionalValue `name:"video-audio-depth" hidden:""`
	} `embed:"" reason:"loadstar does not generate video inputs"`
	Agentic struct {
		TrajectoryStartMinRatio    optionalValue `name:"trajectory-start-min-ratio" hidden:""`
		TrajectoryStartMaxRatio    optionalValue `name:"trajectory-start-max-ratio" hidden:""`
		BurstPhaseStarts           optionalValue `name:"burst-phase-starts" hidden:""`
		TraceIdleGapCapSeconds     optionalValue `name:"trace-idle-gap-cap-seconds" hidden:""`
		SystemIdleGapCapSeconds    optionalValue `name:"system-idle-gap-cap-seconds" hidden:""`
		AgenticCacheWarmupDuration optionalValue `name:"agentic-cache-warmup-duration" hidden:""`
		AgenticWarmupGracePeriod   optionalValue `name:"agentic-warmup-grace-period" hidden:""`
	} `embed:"" reason:"agentic trace replay is not supported"`
	LockedScenarios struct {
		Scenario       optionalValue `name:"scenario" hidden:""`
		UnsafeOverride optionalValue `name:"unsafe-override" hidden:""`
	} `embed:"" reason:"AIPerf's locked benchmark scenarios are not supported"`
	Plot struct {
		PlotRequired optionalValue `name:"plot-required" hidden:""`
	} `embed:"" reason:"plots are drawn with --auto-plot; a chart that cannot be drawn is skipped, never required"`
	OutputsJSON struct {
		ExportOutputsJson optionalValue `name:"export-outputs-json" hidden:""`
	} `embed:"" reason:"outputs.json is not written (--export-level raw keeps every response)"`
	HTTPTrace struct {
		ExportHttpTrace optionalValue `name:"export-http-trace" hidden:""`
		ShowTraceTiming optionalValue `name:"show-trace-timing" hidden:""`
	} `embed:"" reason:"per-request HTTP trace data is not exported (--export-level raw keeps the raw requests and responses)"`
	OpenTelemetry struct {
		OtelUrl                optionalValue `name:"otel-url" hidden:""`
		Stream                 optionalValue `name:"stream" hidden:""`
		OtelResourceAttributes optionalValue `name:"otel-resource-attributes" hidden:""`
		GenAiProvider          optionalValue `name:"gen-ai-provider" hidden:""`
	} `embed:"" reason:"OpenTelemetry export is not supported"`
	MLflow struct {
		MlflowTrackingUri  optionalValue `name:"mlflow-tracking-uri" hidden:""`
		MlflowExperiment   optionalValue `name:"mlflow-experiment" hidden:""`
		MlflowRunName      optionalValue `name:"mlflow-run-name" hidden:""`
		MlflowTag          optionalValue `name:"mlflow-tag" hidden:""`
		MlflowParentRunId  optionalValue `name:"mlflow-parent-run-id" hidden:""`
		MlflowArtifactGlob optionalValue `name:"mlflow-artifact-glob" hidden:""`
	} `embed:"" reason:"MLflow export is not supported"`
	WandB struct {
		WandbProject optionalValue `name:"wandb-project" hidden:""`
		WandbEntity  optionalValue `name:"wandb-entity" hidden:""`
		WandbRunName optionalValue `name:"wandb-run-name" hidden:""`
		WandbTag     optionalValue `name:"wandb-tag" hidden:""`
	} `embed:"" reason:"Weights & Biases export is not supported"`
	NetworkLatency struct {
		NetworkLatencyAutomatic    optionalValue `name:"network-latency-automatic" hidden:""`
		NetworkLatencyMean         optionalValue `name:"network-latency-mean" hidden:""`
		NetworkLatencyPingInterval optionalValue `name:"network-latency-ping-interval" hidden:""`
	} `embed:"" reason:"loadstar does not measure network latency separately"`
	Convergence struct {
		ConvergenceMetric    optionalValue `name:"convergence-metric" hidden:""`
		ConvergenceStat      optionalValue `name:"convergence-stat" hidden:""`
		ConvergenceThreshold optionalValue `name:"convergence-threshold" hidden:""`
		ConvergenceMode      optionalValue `name:"convergence-mode" hidden:""`
	} `embed:"" reason:"convergence-based early stopping is not supported; set --num-profile-runs"`
	Variants struct {
		Variant optionalValue `name:"variant" aliases:"sweep-variant" hidden:""`
	} `embed:"" reason:"named variants are not supported; write a scenario with sweep() or several run() calls"`
	Search struct {
		SearchSpace             optionalValue `name:"search-space" hidden:""`
		SearchMetric            optionalValue `name:"search-metric" hidden:""`
		SearchStat              optionalValue `name:"search-stat" hidden:""`
		SearchDirection         optionalValue `name:"search-direction" hidden:""`
		SearchMaxIterations     optionalValue `name:"search-max-iterations" hidden:""`
		SearchInitialPoints     optionalValue `name:"search-initial-points" hidden:""`
		SearchRandomSeed        optionalValue `name:"search-random-seed" hidden:""`
		SearchPlanner           optionalValue `name:"search-planner" hidden:""`
		OptunaSampler           optionalValue `name:"optuna-sampler" hidden:""`
		OptunaAcquisition       optionalValue `name:"optuna-acquisition" hidden:""`
		OptunaTerminator        optionalValue `name:"optuna-terminator" hidden:""`
		SearchPercentilePooling optionalValue `name:"search-percentile-pooling" hidden:""`
		BoConstraintMode        optionalValue `name:"bo-constraint-mode" hidden:""`
		SearchSla               optionalValue `name:"search-sla" hidden:""`
		SearchSlaTier           optionalValue `name:"search-sla-tier" hidden:""`
		SearchRecipe            optionalValue `name:"search-recipe" hidden:""`
		TtftSlaMs               optionalValue `name:"ttft-sla-ms" hidden:""`
		IslOslPairs             optionalValue `name:"isl-osl-pairs" hidden:""`
		ItlSlaMs                optionalValue `name:"itl-sla-ms" hidden:""`
		TpotSlaMs               optionalValue `name:"tpot-sla-ms" hidden:""`
		E2eSlaMs                optionalValue `name:"e2e-sla-ms" hidden:""`
		ErrorRateSla            optionalValue `name:"error-rate-sla" hidden:""`
		SloAttainmentFraction   optionalValue `name:"slo-attainment-fraction" hidden:""`
		SearchStyle             optionalValue `name:"search-style" hidden:""`
		DegradationThreshold    optionalValue `name:"degradation-threshold" hidden:""`
		DegradationMetricTag    optionalValue `name:"degradation-metric-tag" hidden:""`
		DegradationStat         optionalValue `name:"degradation-stat" hidden:""`
		IslMin                  optionalValue `name:"isl-min" hidden:""`
		IslMax                  optionalValue `name:"isl-max" hidden:""`
		IslSteps                optionalValue `name:"isl-steps" hidden:""`
		ConcurrencyMin          optionalValue `name:"concurrency-min" hidden:""`
		ConcurrencyMax          optionalValue `name:"concurrency-max" hidden:""`
		ConcurrencySteps        optionalValue `name:"concurrency-steps" hidden:""`
		OslMin                  optionalValue `name:"osl-min" hidden:""`
		OslMax                  optionalValue `name:"osl-max" hidden:""`
		OslSteps                optionalValue `name:"osl-steps" hidden:""`
	} `embed:"" reason:"adaptive search and search recipes are done with search() in a scenario"`
	Accuracy struct {
		AccuracyBenchmark    optionalValue `name:"accuracy-benchmark" hidden:""`
		AccuracyTasks        optionalValue `name:"accuracy-tasks" hidden:""`
		AccuracyNShots       optionalValue `name:"accuracy-n-shots" hidden:""`
		AccuracyEnableCot    optionalValue `name:"accuracy-enable-cot" hidden:""`
		AccuracyNoEnableCot  optionalValue `name:"accuracy-no-enable-cot" hidden:""`
		AccuracyGrader       optionalValue `name:"accuracy-grader" hidden:""`
		AccuracySystemPrompt optionalValue `name:"accuracy-system-prompt" hidden:""`
		AccuracyVerbose      optionalValue `name:"accuracy-verbose" hidden:""`
	} `embed:"" reason:"accuracy benchmarks are not supported"`
	API struct {
		ApiPort       optionalValue `name:"api-port" hidden:""`
		ApiHost       optionalValue `name:"api-host" hidden:""`
		StatsInterval optionalValue `name:"stats-interval" hidden:""`
	} `embed:"" reason:"loadstar serves no HTTP API during a run"`

	// Accepted without effect: giving one prints its note.
	NoEffect struct {
		NoSweepTable                optionalValue `name:"no-sweep-table" hidden:"" note:"--no-sweep-table: loadstar prints no live sweep table (the summary is written at the end)"`
		WorkersMax                  optionalValue `name:"workers-max" aliases:"max-workers" hidden:"" note:"--workers-max has no effect: loadstar sends from one process and sizes its connection pool from the load"`
		RecordProcessorServiceCount optionalValue `name:"record-processor-service-count" aliases:"record-processors" hidden:"" note:"--record-processor-service-count has no effect: loadstar computes metrics in one process"`
		ZmqHost                     optionalValue `name:"zmq-host" hidden:"" note:"--zmq-host has no effect: loadstar runs in one process (no ZMQ)"`
		ZmqIpcPath                  optionalValue `name:"zmq-ipc-path" hidden:"" note:"--zmq-ipc-path has no effect: loadstar runs in one process (no ZMQ)"`
		ZmqDualBind                 optionalValue `name:"zmq-dual-bind" hidden:"" note:"--zmq-dual-bind has no effect: loadstar runs in one process (no ZMQ)"`
	} `embed:""`
}
