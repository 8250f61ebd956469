package aiperfcli

// Unsupported are AIPerf flags loadstar recognises but does not honour. They
// are hidden from help; giving one is an error that says why (Build), or,
// for the few that ask for what loadstar does anyway, a note.
type Unsupported struct {
	XConfig                               optionalValue `name:"config" short:"f" hidden:""`
	XWaitForModelTimeout                  optionalValue `name:"wait-for-model-timeout" hidden:""`
	XWaitForModelMode                     optionalValue `name:"wait-for-model-mode" hidden:""`
	XWaitForModelInterval                 optionalValue `name:"wait-for-model-interval" hidden:""`
	XResetKvCache                         optionalValue `name:"reset-kv-cache" hidden:""`
	XResetKvCacheTimeoutSeconds           optionalValue `name:"reset-kv-cache-timeout-seconds" hidden:""`
	XResetKvCachePath                     optionalValue `name:"reset-kv-cache-path" hidden:""`
	XServerProfiler                       optionalValue `name:"server-profiler" hidden:""`
	XServerProfilerTimeoutSeconds         optionalValue `name:"server-profiler-timeout-seconds" hidden:""`
	XServerProfilerStartPath              optionalValue `name:"server-profiler-start-path" hidden:""`
	XServerProfilerStopPath               optionalValue `name:"server-profiler-stop-path" hidden:""`
	XDownloadVideoContent                 optionalValue `name:"download-video-content" hidden:""`
	XUuidAndStrip                         optionalValue `name:"uuid-and-strip" hidden:""`
	XApplyChatTemplate                    optionalValue `name:"apply-chat-template" hidden:""`
	XPublicDataset                        optionalValue `name:"public-dataset" hidden:""`
	XHfSubset                             optionalValue `name:"hf-subset" hidden:""`
	XHfWekaDataset                        optionalValue `name:"hf-weka-dataset" hidden:""`
	XDatasetFilter                        optionalValue `name:"dataset-filter" hidden:""`
	XIgnoreTraceDelays                    optionalValue `name:"ignore-trace-delays" hidden:""`
	XUseThinkTimeOnly                     optionalValue `name:"use-think-time-only" hidden:""`
	XMaxContextLength                     optionalValue `name:"max-context-length" hidden:""`
	XAllowDatasetWrap                     optionalValue `name:"allow-dataset-wrap" hidden:""`
	XNoAllowDatasetWrap                   optionalValue `name:"no-allow-dataset-wrap" hidden:""`
	XTraceSessionSampleRatio              optionalValue `name:"trace-session-sample-ratio" hidden:""`
	XInterTurnDelayCapSeconds             optionalValue `name:"inter-turn-delay-cap-seconds" hidden:""`
	XMaxIdleGapCapSeconds                 optionalValue `name:"max-idle-gap-cap-seconds" hidden:""`
	XOpenLoopReplay                       optionalValue `name:"open-loop-replay" hidden:""`
	XNoOpenLoopReplay                     optionalValue `name:"no-open-loop-replay" hidden:""`
	XOpenLoopStrict                       optionalValue `name:"open-loop-strict" hidden:""`
	XOmitKvHints                          optionalValue `name:"omit-kv-hints" hidden:""`
	XForceMinTokens                       optionalValue `name:"force-min-tokens" hidden:""`
	XNoForceMinTokens                     optionalValue `name:"no-force-min-tokens" hidden:""`
	XImageSourceSampling                  optionalValue `name:"image-source-sampling" hidden:""`
	XVideoBatchSize                       optionalValue `name:"video-batch-size" aliases:"batch-size-video" hidden:""`
	XVideoDuration                        optionalValue `name:"video-duration" hidden:""`
	XVideoFps                             optionalValue `name:"video-fps" hidden:""`
	XVideoWidth                           optionalValue `name:"video-width" hidden:""`
	XVideoHeight                          optionalValue `name:"video-height" hidden:""`
	XVideoSynthType                       optionalValue `name:"video-synth-type" hidden:""`
	XVideoFormat                          optionalValue `name:"video-format" hidden:""`
	XVideoCodec                           optionalValue `name:"video-codec" hidden:""`
	XVideoAudioSampleRate                 optionalValue `name:"video-audio-sample-rate" hidden:""`
	XVideoAudioNumChannels                optionalValue `name:"video-audio-num-channels" hidden:""`
	XVideoAudioCodec                      optionalValue `name:"video-audio-codec" hidden:""`
	XVideoAudioDepth                      optionalValue `name:"video-audio-depth" hidden:""`
	XSynthesisSpeedupRatio                optionalValue `name:"synthesis-speedup-ratio" hidden:""`
	XSynthesisPrefixLenMultiplier         optionalValue `name:"synthesis-prefix-len-multiplier" hidden:""`
	XSynthesisPrefixRootMultiplier        optionalValue `name:"synthesis-prefix-root-multiplier" hidden:""`
	XSynthesisPromptLenMultiplier         optionalValue `name:"synthesis-prompt-len-multiplier" hidden:""`
	XSynthesisOutputLenMultiplier         optionalValue `name:"synthesis-output-len-multiplier" hidden:""`
	XSynthesisMaxIsl                      optionalValue `name:"synthesis-max-isl" hidden:""`
	XSynthesisMaxOsl                      optionalValue `name:"synthesis-max-osl" hidden:""`
	XPrefillConcurrency                   optionalValue `name:"prefill-concurrency" hidden:""`
	XPrefillConcurrencyRampDuration       optionalValue `name:"prefill-concurrency-ramp-duration" hidden:""`
	XWarmupPrefillConcurrency             optionalValue `name:"warmup-prefill-concurrency" hidden:""`
	XWarmupPrefillConcurrencyRampDuration optionalValue `name:"warmup-prefill-concurrency-ramp-duration" hidden:""`
	XRequestRateSeries                    optionalValue `name:"request-rate-series" hidden:""`
	XFailedRequestThreshold               optionalValue `name:"failed-request-threshold" hidden:""`
	XTrajectoryStartMinRatio              optionalValue `name:"trajectory-start-min-ratio" hidden:""`
	XTrajectoryStartMaxRatio              optionalValue `name:"trajectory-start-max-ratio" hidden:""`
	XBurstPhaseStarts                     optionalValue `name:"burst-phase-starts" hidden:""`
	XTraceIdleGapCapSeconds               optionalValue `name:"trace-idle-gap-cap-seconds" hidden:""`
	XSystemIdleGapCapSeconds              optionalValue `name:"system-idle-gap-cap-seconds" hidden:""`
	XAgenticCacheWarmupDuration           optionalValue `name:"agentic-cache-warmup-duration" hidden:""`
	XAgenticWarmupGracePeriod             optionalValue `name:"agentic-warmup-grace-period" hidden:""`
	XScenario                             optionalValue `name:"scenario" hidden:""`
	XUnsafeOverride                       optionalValue `name:"unsafe-override" hidden:""`
	XAutoPlot                             optionalValue `name:"auto-plot" hidden:""`
	XPlotRequired                         optionalValue `name:"plot-required" hidden:""`
	XExportOutputsJson                    optionalValue `name:"export-outputs-json" hidden:""`
	XExportHttpTrace                      optionalValue `name:"export-http-trace" hidden:""`
	XShowTraceTiming                      optionalValue `name:"show-trace-timing" hidden:""`
	XOtelUrl                              optionalValue `name:"otel-url" hidden:""`
	XStream                               optionalValue `name:"stream" hidden:""`
	XOtelResourceAttributes               optionalValue `name:"otel-resource-attributes" hidden:""`
	XGenAiProvider                        optionalValue `name:"gen-ai-provider" hidden:""`
	XMlflowTrackingUri                    optionalValue `name:"mlflow-tracking-uri" hidden:""`
	XMlflowExperiment                     optionalValue `name:"mlflow-experiment" hidden:""`
	XMlflowRunName                        optionalValue `name:"mlflow-run-name" hidden:""`
	XMlflowTag                            optionalValue `name:"mlflow-tag" hidden:""`
	XMlflowParentRunId                    optionalValue `name:"mlflow-parent-run-id" hidden:""`
	XMlflowArtifactGlob                   optionalValue `name:"mlflow-artifact-glob" hidden:""`
	XWandbProject                         optionalValue `name:"wandb-project" hidden:""`
	XWandbEntity                          optionalValue `name:"wandb-entity" hidden:""`
	XWandbRunName                         optionalValue `name:"wandb-run-name" hidden:""`
	XWandbTag                             optionalValue `name:"wandb-tag" hidden:""`
	XServerMetrics                        optionalValue `name:"server-metrics" hidden:""`
	XServerMetricsFormats                 optionalValue `name:"server-metrics-formats" hidden:""`
	XGpuTelemetry                         optionalValue `name:"gpu-telemetry" hidden:""`
	XNetworkLatencyAutomatic              optionalValue `name:"network-latency-automatic" hidden:""`
	XNetworkLatencyMean                   optionalValue `name:"network-latency-mean" hidden:""`
	XNetworkLatencyPingInterval           optionalValue `name:"network-latency-ping-interval" hidden:""`
	XConvergenceMetric                    optionalValue `name:"convergence-metric" hidden:""`
	XConvergenceStat                      optionalValue `name:"convergence-stat" hidden:""`
	XConvergenceThreshold                 optionalValue `name:"convergence-threshold" hidden:""`
	XConvergenceMode                      optionalValue `name:"convergence-mode" hidden:""`
	XVariant                              optionalValue `name:"variant" aliases:"sweep-variant" hidden:""`
	XSearchSpace                          optionalValue `name:"search-space" hidden:""`
	XSearchMetric                         optionalValue `name:"search-metric" hidden:""`
	XSearchStat                           optionalValue `name:"search-stat" hidden:""`
	XSearchDirection                      optionalValue `name:"search-direction" hidden:""`
	XSearchMaxIterations                  optionalValue `name:"search-max-iterations" hidden:""`
	XSearchInitialPoints                  optionalValue `name:"search-initial-points" hidden:""`
	XSearchRandomSeed                     optionalValue `name:"search-random-seed" hidden:""`
	XSearchPlanner                        optionalValue `name:"search-planner" hidden:""`
	XOptunaSampler                        optionalValue `name:"optuna-sampler" hidden:""`
	XOptunaAcquisition                    optionalValue `name:"optuna-acquisition" hidden:""`
	XOptunaTerminator                     optionalValue `name:"optuna-terminator" hidden:""`
	XSearchPercentilePooling              optionalValue `name:"search-percentile-pooling" hidden:""`
	XBoConstraintMode                     optionalValue `name:"bo-constraint-mode" hidden:""`
	XSearchSla                            optionalValue `name:"search-sla" hidden:""`
	XSearchSlaTier                        optionalValue `name:"search-sla-tier" hidden:""`
	XSearchRecipe                         optionalValue `name:"search-recipe" hidden:""`
	XTtftSlaMs                            optionalValue `name:"ttft-sla-ms" hidden:""`
	XIslOslPairs                          optionalValue `name:"isl-osl-pairs" hidden:""`
	XItlSlaMs                             optionalValue `name:"itl-sla-ms" hidden:""`
	XTpotSlaMs                            optionalValue `name:"tpot-sla-ms" hidden:""`
	XE2eSlaMs                             optionalValue `name:"e2e-sla-ms" hidden:""`
	XErrorRateSla                         optionalValue `name:"error-rate-sla" hidden:""`
	XSloAttainmentFraction                optionalValue `name:"slo-attainment-fraction" hidden:""`
	XSearchStyle                          optionalValue `name:"search-style" hidden:""`
	XDegradationThreshold                 optionalValue `name:"degradation-threshold" hidden:""`
	XDegradationMetricTag                 optionalValue `name:"degradation-metric-tag" hidden:""`
	XDegradationStat                      optionalValue `name:"degradation-stat" hidden:""`
	XIslMin                               optionalValue `name:"isl-min" hidden:""`
	XIslMax                               optionalValue `name:"isl-max" hidden:""`
	XIslSteps                             optionalValue `name:"isl-steps" hidden:""`
	XConcurrencyMin                       optionalValue `name:"concurrency-min" hidden:""`
	XConcurrencyMax                       optionalValue `name:"concurrency-max" hidden:""`
	XConcurrencySteps                     optionalValue `name:"concurrency-steps" hidden:""`
	XOslMin                               optionalValue `name:"osl-min" hidden:""`
	XOslMax                               optionalValue `name:"osl-max" hidden:""`
	XOslSteps                             optionalValue `name:"osl-steps" hidden:""`
	XAccuracyBenchmark                    optionalValue `name:"accuracy-benchmark" hidden:""`
	XAccuracyTasks                        optionalValue `name:"accuracy-tasks" hidden:""`
	XAccuracyNShots                       optionalValue `name:"accuracy-n-shots" hidden:""`
	XAccuracyEnableCot                    optionalValue `name:"accuracy-enable-cot" hidden:""`
	XAccuracyNoEnableCot                  optionalValue `name:"accuracy-no-enable-cot" hidden:""`
	XAccuracyGrader                       optionalValue `name:"accuracy-grader" hidden:""`
	XAccuracySystemPrompt                 optionalValue `name:"accuracy-system-prompt" hidden:""`
	XAccuracyVerbose                      optionalValue `name:"accuracy-verbose" hidden:""`
	XApiPort                              optionalValue `name:"api-port" hidden:""`
	XApiHost                              optionalValue `name:"api-host" hidden:""`
	XStatsInterval                        optionalValue `name:"stats-interval" hidden:""`
	XNoServerMetrics                      optionalValue `name:"no-server-metrics" hidden:""`
	XNoGpuTelemetry                       optionalValue `name:"no-gpu-telemetry" hidden:""`
	XNoAutoPlot                           optionalValue `name:"no-auto-plot" hidden:""`
	XNoSweepTable                         optionalValue `name:"no-sweep-table" hidden:""`
	XWorkersMax                           optionalValue `name:"workers-max" aliases:"max-workers" hidden:""`
	XRecordProcessorServiceCount          optionalValue `name:"record-processor-service-count" aliases:"record-processors" hidden:""`
	XZmqHost                              optionalValue `name:"zmq-host" hidden:""`
	XZmqIpcPath                           optionalValue `name:"zmq-ipc-path" hidden:""`
	XZmqDualBind                          optionalValue `name:"zmq-dual-bind" hidden:""`
}

// unsupportedGroups are the AIPerf flags loadstar does not honour, grouped
// by the reason given when one is used (docs/profile.md lists them from
// here: go test ./internal/aiperfcli -run TestDocs -update).
var unsupportedGroups = []struct {
	Reason string
	Flags  []string
}{
	{"AIPerf YAML configs are not read; write a scenario instead (--emit-scenario prints one for these flags)", []string{"config"}},
	{"loadstar does not poll the server before a run; start it first (failed requests are recorded as errors)", []string{"wait-for-model-timeout", "wait-for-model-mode", "wait-for-model-interval"}},
	{"loadstar does not call server admin endpoints (KV-cache reset)", []string{"reset-kv-cache", "reset-kv-cache-timeout-seconds", "reset-kv-cache-path"}},
	{"loadstar does not call the server's profiler endpoints (/start_profile, /stop_profile)", []string{"server-profiler", "server-profiler-timeout-seconds", "server-profiler-start-path", "server-profiler-stop-path"}},
	{"loadstar has no video-generation endpoint", []string{"download-video-content"}},
	{"loadstar does not strip images for vLLM's multimodal cache", []string{"uuid-and-strip"}},
	{"loadstar counts input tokens on the prompt text; chat templates are not applied", []string{"apply-chat-template"}},
	{"public datasets are downloaded from Hugging Face and loadstar works offline; download the file and pass --input-file", []string{"public-dataset", "hf-subset", "hf-weka-dataset", "dataset-filter"}},
	{"an option of trace loaders loadstar does not have (Weka, Baseten, agentic replay)", []string{"ignore-trace-delays", "use-think-time-only", "max-context-length", "allow-dataset-wrap", "no-allow-dataset-wrap", "trace-session-sample-ratio", "inter-turn-delay-cap-seconds", "max-idle-gap-cap-seconds", "open-loop-replay", "no-open-loop-replay", "open-loop-strict", "omit-kv-hints", "force-min-tokens", "no-force-min-tokens"}},
	{"synthetic images are random noise, drawn independently", []string{"image-source-sampling"}},
	{"loadstar does not generate video inputs", []string{"video-batch-size", "video-duration", "video-fps", "video-width", "video-height", "video-synth-type", "video-format", "video-codec", "video-audio-sample-rate", "video-audio-num-channels", "video-audio-codec", "video-audio-depth"}},
	{"trace synthesis is not supported (--replay-speedup replays a trace faster)", []string{"synthesis-speedup-ratio", "synthesis-prefix-len-multiplier", "synthesis-prefix-root-multiplier", "synthesis-prompt-len-multiplier", "synthesis-output-len-multiplier", "synthesis-max-isl", "synthesis-max-osl"}},
	{"loadstar's timing strategies have no prefill-slot limit", []string{"prefill-concurrency", "prefill-concurrency-ramp-duration", "warmup-prefill-concurrency", "warmup-prefill-concurrency-ramp-duration"}},
	{"piecewise request-rate files are not read (a scenario's ramp plugins shape the rate)", []string{"request-rate-series"}},
	{"runs are not aborted on an error ratio (a scenario's thresholds with abort_on_fail stop a run)", []string{"failed-request-threshold"}},
	{"agentic trace replay is not supported", []string{"trajectory-start-min-ratio", "trajectory-start-max-ratio", "burst-phase-starts", "trace-idle-gap-cap-seconds", "system-idle-gap-cap-seconds", "agentic-cache-warmup-duration", "agentic-warmup-grace-period"}},
	{"AIPerf's locked benchmark scenarios are not supported", []string{"scenario", "unsafe-override"}},
	{"loadstar has no plot command", []string{"auto-plot", "plot-required"}},
	{"outputs.json is not written (--export-level raw keeps every response)", []string{"export-outputs-json"}},
	{"per-request HTTP trace data is not exported (--export-level raw keeps the raw requests and responses)", []string{"export-http-trace", "show-trace-timing"}},
	{"OpenTelemetry export is not supported", []string{"otel-url", "stream", "otel-resource-attributes", "gen-ai-provider"}},
	{"MLflow export is not supported", []string{"mlflow-tracking-uri", "mlflow-experiment", "mlflow-run-name", "mlflow-tag", "mlflow-parent-run-id", "mlflow-artifact-glob"}},
	{"Weights & Biases export is not supported", []string{"wandb-project", "wandb-entity", "wandb-run-name", "wandb-tag"}},
	{"loadstar does not scrape server metrics (Prometheus)", []string{"server-metrics", "server-metrics-formats"}},
	{"loadstar does not collect GPU telemetry (DCGM, NVML, AMD SMI)", []string{"gpu-telemetry"}},
	{"loadstar does not measure network latency separately", []string{"network-latency-automatic", "network-latency-mean", "network-latency-ping-interval"}},
	{"convergence-based early stopping is not supported; set --num-profile-runs", []string{"convergence-metric", "convergence-stat", "convergence-threshold", "convergence-mode"}},
	{"named variants are not supported; write a scenario with sweep() or several run() calls", []string{"variant"}},
	{"adaptive search and search recipes are done with search() in a scenario", []string{"search-space", "search-metric", "search-stat", "search-direction", "search-max-iterations", "search-initial-points", "search-random-seed", "search-planner", "optuna-sampler", "optuna-acquisition", "optuna-terminator", "search-percentile-pooling", "bo-constraint-mode", "search-sla", "search-sla-tier", "search-recipe", "ttft-sla-ms", "isl-osl-pairs", "itl-sla-ms", "tpot-sla-ms", "e2e-sla-ms", "error-rate-sla", "slo-attainment-fraction", "search-style", "degradation-threshold", "degradation-metric-tag", "degradation-stat", "isl-min", "isl-max", "isl-steps", "concurrency-min", "concurrency-max", "concurrency-steps", "osl-min", "osl-max", "osl-steps"}},
	{"accuracy benchmarks are not supported", []string{"accuracy-benchmark", "accuracy-tasks", "accuracy-n-shots", "accuracy-enable-cot", "accuracy-no-enable-cot", "accuracy-grader", "accuracy-system-prompt", "accuracy-verbose"}},
	{"loadstar serves no HTTP API during a run", []string{"api-port", "api-host", "stats-interval"}},
}

// unsupportedReasons indexes unsupportedGroups by flag.
var unsupportedReasons = func() map[string]string {
	m := map[string]string{}
	for _, g := range unsupportedGroups {
		for _, f := range g.Flags {
			m[f] = g.Reason
		}
	}
	return m
}()

// noOpNotes are AIPerf flags accepted because they ask for what loadstar
// does anyway (or tune machinery loadstar does not have); giving one prints
// the note.
var noOpNotes = map[string]string{
	"no-server-metrics":              "--no-server-metrics: loadstar does not scrape server metrics",
	"no-gpu-telemetry":               "--no-gpu-telemetry: loadstar does not collect GPU telemetry",
	"no-auto-plot":                   "--no-auto-plot: loadstar has no plot command",
	"no-sweep-table":                 "--no-sweep-table: loadstar prints no live sweep table (the summary is written at the end)",
	"workers-max":                    "--workers-max has no effect: loadstar sends from one process and sizes its connection pool from the load",
	"record-processor-service-count": "--record-processor-service-count has no effect: loadstar computes metrics in one process",
	"zmq-host":                       "--zmq-host has no effect: loadstar runs in one process (no ZMQ)",
	"zmq-ipc-path":                   "--zmq-ipc-path has no effect: loadstar runs in one process (no ZMQ)",
	"zmq-dual-bind":                  "--zmq-dual-bind has no effect: loadstar runs in one process (no ZMQ)",
}
