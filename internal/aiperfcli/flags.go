package aiperfcli

// Flags are the flags of `loadstar profile`: AIPerf's names and aliases, in
// AIPerf's option groups (kong `group` tags). Optional settings are pointers
// or empty strings so that Build can tell "not given" from a value, apply
// AIPerf's defaults, and enforce the rules between flags. Flags that take a
// comma-separated list ("magic list") are strings: a list runs a sweep.
type Flags struct {
	// Endpoint.
	Model                   listValue `short:"m" name:"model" aliases:"model-names" group:"Endpoint" placeholder:"NAME" help:"Model name(s) sent in the payload; comma-separated or repeated for several (assigned round-robin). Required with --url. (Also --model-names.)"`
	ModelSelectionStrategy  string    `name:"model-selection-strategy" group:"Endpoint" placeholder:"round_robin" help:"How several models are assigned to requests: round_robin (default; the only one loadstar has)."`
	EndpointType            string    `name:"endpoint-type" group:"Endpoint" placeholder:"chat" help:"API to benchmark (default chat): chat, completions, responses, embeddings, nim_embeddings, cohere_rankings, hf_tei_rankings, nim_rankings, huggingface_generate, image_generation, image_edit, solido_rag, template, raw, messages, or any endpoint plugin (loadstar plugins endpoint)."`
	CustomEndpoint          string    `name:"custom-endpoint" aliases:"endpoint" group:"Endpoint" placeholder:"PATH" help:"Path that replaces the endpoint type's default path (e.g. /v1/my/chat). (Also --endpoint.)"`
	Streaming               bool      `name:"streaming" group:"Endpoint" help:"Stream answers (SSE); needed for TTFT and inter-token latency. Ignored by endpoints that cannot stream."`
	URL                     listValue `short:"u" name:"url" group:"Endpoint" placeholder:"URL" help:"Server base URL (repeatable: sessions are spread round-robin). Without --url, loadstar benchmarks its embedded mock server."`
	URLStrategy             string    `name:"url-strategy" group:"Endpoint" placeholder:"round_robin" help:"How sessions are spread over several URLs: round_robin (default; the only one)."`
	RequestTimeoutSeconds   *float64  `name:"request-timeout-seconds" group:"Endpoint" placeholder:"SEC" help:"Total time allowed per request (default 21600)."`
	WaitForModelTimeout     *float64  `name:"wait-for-model-timeout" group:"Endpoint" placeholder:"SEC" help:"Before sending, wait up to this many seconds for the server to answer (default 0: do not wait); not ready in time: exit code 13."`
	WaitForModelMode        string    `name:"wait-for-model-mode" group:"Endpoint" placeholder:"MODE" help:"How --wait-for-model-timeout probes: inference (a one-token request), models (GET /v1/models lists the model) or both (default inference)."`
	WaitForModelInterval    *float64  `name:"wait-for-model-interval" group:"Endpoint" placeholder:"SEC" help:"Seconds between readiness probes (default 5)."`
	APIKey                  string    `name:"api-key" group:"Endpoint" placeholder:"KEY" help:"API key sent as Authorization: Bearer <key>; never printed or exported (--emit-scenario reads it from --var api_key)."`
	Header                  listValue `short:"H" name:"header" group:"Endpoint" placeholder:"NAME:VALUE" help:"Extra request header, Name:Value or a JSON object (repeatable)."`
	ExtraInputs             listValue `name:"extra-inputs" group:"Endpoint" placeholder:"K:V,..." help:"Extra fields merged into every request body: key:value,key2:value2 or a JSON object (repeatable)."`
	UseLegacyMaxTokens      bool      `name:"use-legacy-max-tokens" group:"Endpoint" help:"Send max_tokens instead of max_completion_tokens (chat)."`
	UseServerTokenCount     bool      `name:"use-server-token-count" group:"Endpoint" help:"Take token counts from the server's usage instead of the tokenizer."`
	ConnectionReuseStrategy string    `name:"connection-reuse-strategy" group:"Endpoint" placeholder:"pooled" help:"pooled (default: keep-alive connections shared by requests) or never (a new connection per request)."`
	RequestContentType      string    `name:"request-content-type" group:"Endpoint" placeholder:"TYPE" help:"Request body type: application/json, or multipart/form-data for endpoints uploading files (image_edit); each endpoint sends its own."`
	SessionHeader           string    `name:"session-header" group:"Endpoint" placeholder:"NAME" help:"Name of the per-session id header (default X-Correlation-ID)."`
	Transport               string    `name:"transport" aliases:"transport-type" group:"Endpoint" placeholder:"http" help:"Transport: http (the only one; detected from the URL). (Also --transport-type.)"`
	AuthType                string    `name:"auth-type" group:"Endpoint" placeholder:"TYPE" help:"sigv4: sign every request with AWS Signature Version 4 (API Gateway, SageMaker); needs --aws-region and --aws-service. Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, else --aws-profile of ~/.aws/credentials."`
	AWSRegion               string    `name:"aws-region" group:"Endpoint" placeholder:"REGION" help:"AWS region of the signature (e.g. us-east-1); with --auth-type sigv4."`
	AWSService              string    `name:"aws-service" group:"Endpoint" placeholder:"NAME" help:"AWS service of the signature: execute-api (API Gateway) or sagemaker; with --auth-type sigv4."`
	AWSProfile              string    `name:"aws-profile" group:"Endpoint" placeholder:"NAME" help:"Profile of ~/.aws/credentials whose keys sign requests (default: the environment's keys, else AWS_PROFILE, else default); with --auth-type sigv4."`
	PerChunkUsage           bool      `name:"per-chunk-usage" group:"Endpoint" help:"Ask for usage on every streamed chunk (chat; needs --streaming and --use-server-token-count)."`

	// Tokenizer.
	Tokenizer                string `name:"tokenizer" group:"Tokenizer" placeholder:"NAME|PATH" help:"How tokens are counted: builtin (tiktoken o200k_base), o200k_base or cl100k_base, a tokenizer.json file or a directory holding one, or a model id found in the local Hugging Face cache. Default: the model name; placeholder and unknown models use builtin (loadstar never downloads)."`
	TokenizerRevision        string `name:"tokenizer-revision" group:"Tokenizer" placeholder:"main" help:"Revision of a model id looked up in the local Hugging Face cache (default main)."`
	TokenizerTrustRemoteCode bool   `name:"tokenizer-trust-remote-code" group:"Tokenizer" help:"Accepted for compatibility; has no effect (loadstar reads tokenizer.json only and runs no remote code)."`

	// Input.
	InputFile               string `name:"input-file" group:"Input" placeholder:"PATH" type:"path" help:"Dataset file (JSONL), or a directory for random_pool."`
	CustomDatasetType       string `name:"custom-dataset-type" group:"Input" placeholder:"TYPE" help:"Format of --input-file: single_turn, multi_turn, random_pool, mooncake_trace, bailian_trace, burst_gpt_trace, sharegpt, raw_payload or inputs_json, or a loader plugin's (default: detected)."`
	DatasetSamplingStrategy string `name:"dataset-sampling-strategy" group:"Input" placeholder:"STRATEGY" help:"Order of dataset entries: sequential, random or shuffle (default: the dataset's)."`
	RandomSeed              *int64 `name:"random-seed" group:"Input" placeholder:"N" help:"Seed of the dataset and the schedule (>= 0); the same seed reproduces both. Default: drawn (42 with --num-profile-runs)."`
	NumDatasetEntries       *int   `name:"num-dataset-entries" aliases:"num-prompts" group:"Input" placeholder:"N" help:"Distinct synthetic prompts/conversations (default 100). (Also --num-prompts.)"`
	IslBlockSize            *int   `name:"isl-block-size" aliases:"prompt-input-tokens-block-size,synthetic-input-tokens-block-size" group:"Input" placeholder:"N" help:"Tokens per hash id when a trace builds prompts from hash_ids (default: the format's, 512 for mooncake_trace, 16 for bailian_trace). (Also --prompt-input-tokens-block-size, --synthetic-input-tokens-block-size.)"`

	PromptCorpus string `name:"prompt-corpus" group:"Input" placeholder:"CORPUS" help:"Source text of synthetic prompts: sonnet (AIPerf's default) is accepted and uses loadstar's prose corpus; coding is not supported."`
	CacheBust    string `name:"cache-bust" group:"Input" placeholder:"none" help:"Cache-bust markers: none (the only value loadstar supports)."`

	// Fixed schedule.
	FixedSchedule            *bool    `name:"fixed-schedule" negatable:"" group:"Fixed schedule" help:"Replay the dataset's timestamps (default: on for a file with timestamps); --no-fixed-schedule sends it by --concurrency/--request-rate instead."`
	FixedScheduleAutoOffset  bool     `name:"fixed-schedule-auto-offset" group:"Fixed schedule" help:"Shift the schedule so the first timestamp is sent at once."`
	FixedScheduleStartOffset *int64   `name:"fixed-schedule-start-offset" group:"Fixed schedule" placeholder:"MS" help:"Replay only entries at or after this timestamp (ms); it becomes the start."`
	ReplaySpeedup            *float64 `name:"replay-speedup" group:"Fixed schedule" placeholder:"X" help:"Replay a trace X times faster (timestamps and delays divided by X); AIPerf has it for baseten traces only, loadstar for every fixed schedule."`
	FixedScheduleEndOffset   *int64   `name:"fixed-schedule-end-offset" group:"Fixed schedule" placeholder:"MS" help:"Replay only entries at or before this timestamp (ms)."`

	// Conversation input.
	ConversationNum            string   `name:"conversation-num" aliases:"num-conversations,num-sessions" group:"Conversation input" placeholder:"N" help:"Stop after starting this many conversations (sessions); not with --request-count. Comma list: sweep. (Also --num-conversations, --num-sessions.)"`
	ConversationTurnMean       string   `name:"conversation-turn-mean" aliases:"session-turns-mean" group:"Conversation input" placeholder:"N" help:"Mean turns per synthetic conversation (default 1). Comma list: sweep. (Also --session-turns-mean.)"`
	ConversationTurnStddev     *float64 `name:"conversation-turn-stddev" aliases:"session-turns-stddev" group:"Conversation input" placeholder:"N" help:"Standard deviation of the turns per conversation (default 0). (Also --session-turns-stddev.)"`
	ConversationTurnDelayMean  *float64 `name:"conversation-turn-delay-mean" aliases:"session-turn-delay-mean" group:"Conversation input" placeholder:"MS" help:"Mean think time before each later turn, in ms (default 0). (Also --session-turn-delay-mean.)"`
	ConversationTurnDelayStdev *float64 `name:"conversation-turn-delay-stddev" aliases:"session-turn-delay-stddev" group:"Conversation input" placeholder:"MS" help:"Standard deviation of the think time, in ms (default 0). (Also --session-turn-delay-stddev.)"`
	ConversationTurnDelayRatio *float64 `name:"conversation-turn-delay-ratio" aliases:"session-delay-ratio" group:"Conversation input" placeholder:"X" help:"Multiplies every think time (default 1.0). (Also --session-delay-ratio.)"`

	// Prompt: input and output sequence lengths, batch.
	ISL        string `name:"isl" aliases:"prompt-input-tokens-mean,synthetic-input-tokens-mean" group:"Prompt" placeholder:"N" help:"Mean input tokens per synthetic prompt (default 550). Comma list: sweep. (Also --prompt-input-tokens-mean, --synthetic-input-tokens-mean.)"`
	ISLStddev  string `name:"isl-stddev" aliases:"prompt-input-tokens-stddev,synthetic-input-tokens-stddev" group:"Prompt" placeholder:"N" help:"Standard deviation of the input tokens (default 0). Comma list: sweep. (Also --prompt-input-tokens-stddev, --synthetic-input-tokens-stddev.)"`
	OSL        string `name:"osl" aliases:"prompt-output-tokens-mean,output-tokens-mean" group:"Prompt" placeholder:"N" help:"Mean output tokens, sent as the maximum (default: none sent). Comma list: sweep. (Also --prompt-output-tokens-mean, --output-tokens-mean.)"`
	OSLStddev  string `name:"osl-stddev" aliases:"prompt-output-tokens-stddev,output-tokens-stddev" group:"Prompt" placeholder:"N" help:"Standard deviation of the output tokens (default 0). Comma list: sweep. (Also --prompt-output-tokens-stddev, --output-tokens-stddev.)"`
	SeqDist    string `name:"seq-dist" aliases:"sequence-distribution" group:"Prompt" placeholder:"DIST" help:"Joint ISL/OSL mix \"ISL,OSL:percent;...\" with optional \"mean|stddev\" lengths, e.g. \"128,64:30;2048|100,256:70\". (Also --sequence-distribution.)"`
	BatchSize  *int   `short:"b" name:"prompt-batch-size" aliases:"batch-size,batch-size-text" group:"Prompt" placeholder:"N" help:"Texts per request (embeddings, rankings; default 1). (Also --batch-size, --batch-size-text.)"`
	PrefixPool *int   `name:"num-prefix-prompts" aliases:"prompt-prefix-pool-size,prefix-prompt-pool-size" group:"Prefix prompt" placeholder:"N" help:"Size of a pool of shared prompt prefixes (KV-cache reuse); needs --prompt-prefix-length. (Also --prompt-prefix-pool-size, --prefix-prompt-pool-size.)"`
	PrefixLen  *int   `name:"prompt-prefix-length" aliases:"prefix-prompt-length" group:"Prefix prompt" placeholder:"N" help:"Tokens per shared prefix. (Also --prefix-prompt-length.)"`
	SystemLen  *int   `name:"shared-system-prompt-length" group:"Prefix prompt" placeholder:"N" help:"Tokens of one system prompt shared by every conversation; not with a prefix pool."`
	ContextLen *int   `name:"user-context-prompt-length" group:"Prefix prompt" placeholder:"N" help:"Tokens of a per-conversation context prompt sent with every turn."`

	// Images and audio.
	ImageBatchSize   *int      `name:"image-batch-size" aliases:"batch-size-image" group:"Image input" placeholder:"N" help:"Random images per turn (endpoints that accept images). (Also --batch-size-image.)"`
	ImageWidthMean   *float64  `name:"image-width-mean" group:"Image input" placeholder:"PX" help:"Mean image width in pixels; images are sent when a width and a height are given."`
	ImageWidthStddev *float64  `name:"image-width-stddev" group:"Image input" placeholder:"PX" help:"Standard deviation of the width."`
	ImageHeightMean  *float64  `name:"image-height-mean" group:"Image input" placeholder:"PX" help:"Mean image height in pixels (see --image-width-mean)."`
	ImageHeightStdev *float64  `name:"image-height-stddev" group:"Image input" placeholder:"PX" help:"Standard deviation of the height."`
	ImageSource      string    `name:"image-source" group:"Image input" placeholder:"noise" help:"Source of synthetic images: noise (random pixels, AIPerf's default and the only one loadstar generates)."`
	ImageFormat      string    `name:"image-format" group:"Image input" placeholder:"FORMAT" help:"png, jpeg or random (default png)."`
	AudioBatchSize   *int      `name:"audio-batch-size" aliases:"batch-size-audio" group:"Audio input" placeholder:"N" help:"White-noise audio clips per turn (endpoints that accept audio). (Also --batch-size-audio.)"`
	AudioLengthMean  *float64  `name:"audio-length-mean" group:"Audio input" placeholder:"SEC" help:"Mean clip length in seconds; audio is sent when a length is given."`
	AudioLengthStdev *float64  `name:"audio-length-stddev" group:"Audio input" placeholder:"SEC" help:"Standard deviation of the clip length."`
	AudioFormat      string    `name:"audio-format" group:"Audio input" placeholder:"wav" help:"wav (the only format loadstar generates)."`
	AudioSampleRates listValue `name:"audio-sample-rates" group:"Audio input" placeholder:"KHZ" help:"Sample rate in kHz (one value; default 16)."`
	AudioDepths      listValue `name:"audio-depths" group:"Audio input" placeholder:"BITS" help:"Bit depth (16, the only one loadstar generates)."`
	AudioNumChannels *int      `name:"audio-num-channels" group:"Audio input" placeholder:"N" help:"Channels (1, the only one loadstar generates)."`

	// Rankings.
	RankingsPassagesMean        *float64 `name:"rankings-passages-mean" group:"Rankings" placeholder:"N" help:"Mean passages per query (default 1)."`
	RankingsPassagesStddev      *float64 `name:"rankings-passages-stddev" group:"Rankings" placeholder:"N" help:"Standard deviation of the passages per query."`
	RankingsPassageTokensMean   *float64 `name:"rankings-passages-prompt-token-mean" group:"Rankings" placeholder:"N" help:"Mean tokens per passage (default 550)."`
	RankingsPassageTokensStddev *float64 `name:"rankings-passages-prompt-token-stddev" group:"Rankings" placeholder:"N" help:"Standard deviation of the tokens per passage."`
	RankingsQueryTokensMean     *float64 `name:"rankings-query-prompt-token-mean" group:"Rankings" placeholder:"N" help:"Mean tokens per query (default 550)."`
	RankingsQueryTokensStddev   *float64 `name:"rankings-query-prompt-token-stddev" group:"Rankings" placeholder:"N" help:"Standard deviation of the tokens per query."`

	// Synthesis.
	SynthesisSpeedupRatio         *float64 `name:"synthesis-speedup-ratio" group:"Synthesis" placeholder:"X" help:"Divide a token-count trace's timestamps and think times by X (its rate times X; default 1)."`
	SynthesisPrefixLenMultiplier  *float64 `name:"synthesis-prefix-len-multiplier" group:"Synthesis" placeholder:"X" help:"Stretch every shared prefix of the trace by X (rows sharing k blocks share k·X; default 1)."`
	SynthesisPrefixRootMultiplier *int     `name:"synthesis-prefix-root-multiplier" group:"Synthesis" placeholder:"N" help:"Spread the trace's sessions over N disjoint copies of its prefix tree (less sharing; default 1)."`
	SynthesisPromptLenMultiplier  *float64 `name:"synthesis-prompt-len-multiplier" group:"Synthesis" placeholder:"X" help:"Scale each row's own (unshared) prompt blocks by X (default 1)."`
	SynthesisOutputLenMultiplier  *float64 `name:"synthesis-output-len-multiplier" group:"Synthesis" placeholder:"X" help:"Scale the trace's answer lengths by X (default 1)."`
	SynthesisMaxIsl               *int     `name:"synthesis-max-isl" group:"Synthesis" placeholder:"N" help:"Skip trace rows whose (rescaled) prompt is longer than N tokens."`
	SynthesisMaxOsl               *int     `name:"synthesis-max-osl" group:"Synthesis" placeholder:"N" help:"Cap the trace's answer lengths at N tokens."`

	// Load generator.
	Concurrency             string   `name:"concurrency" group:"Load generator" placeholder:"N" help:"Sessions in flight at once (closed loop; with --request-rate a cap). Comma list: sweep."`
	RequestRate             string   `name:"request-rate" group:"Load generator" placeholder:"RPS" help:"Requests per second (open loop; fractions allowed). Comma list: sweep."`
	ArrivalPattern          string   `name:"request-rate-mode" aliases:"arrival-pattern" group:"Load generator" placeholder:"MODE" help:"Gaps between requests: poisson (default), constant, gamma, or concurrency_burst (closed loop). (Also --arrival-pattern.)"`
	ArrivalSmoothness       *float64 `name:"arrival-smoothness" aliases:"vllm-burstiness" group:"Load generator" placeholder:"K" help:"Gamma shape: 1 Poisson, < 1 burstier, > 1 smoother (needs --request-rate-mode gamma). (Also --vllm-burstiness.)"`
	RequestCount            string   `name:"request-count" aliases:"num-requests" group:"Load generator" placeholder:"N" help:"Requests to send (default max(10, 2 x concurrency); a trace: its entries). Comma list: sweep. (Also --num-requests.)"`
	BenchmarkDuration       string   `name:"benchmark-duration" group:"Load generator" placeholder:"SEC" help:"Stop issuing after this many seconds. Comma list: sweep."`
	BenchmarkGracePeriod    string   `name:"benchmark-grace-period" group:"Load generator" placeholder:"SEC" help:"After --benchmark-duration, how long requests in flight may finish (default 30; inf = no limit)."`
	FailedRequestThreshold  *float64 `name:"failed-request-threshold" group:"Load generator" placeholder:"RATIO" help:"Abort the run (exit code 13) once more than this share (0-1) of its requests failed, checked from the max(concurrency, 10)th finished request on; what was measured is written."`
	ConcurrencyRampDuration *float64 `name:"concurrency-ramp-duration" group:"Load generator" placeholder:"SEC" help:"Ramp the concurrency from 1 to its target over this many seconds."`
	RequestRateRampDuration *float64 `name:"request-rate-ramp-duration" group:"Load generator" placeholder:"SEC" help:"Ramp the request rate up to its target over this many seconds."`
	RequestRateSeries       string   `name:"request-rate-series" group:"Load generator" placeholder:"FILE|JSON" help:"Rate that follows control points, linear between them: a JSON file {\"points\": [{\"time_s\": 0, \"qps\": 1}, {\"time_s\": 60, \"qps\": 7}]} or that JSON inline. Instead of --request-rate; without a stop condition the run lasts until the last point."`
	PrefillConcurrency      *int     `name:"prefill-concurrency" group:"Load generator" placeholder:"N" help:"At most N requests waiting for their first token at once, with any load; the rest queue and the wait shows as issue delay. Needs --streaming; at most --concurrency."`
	PrefillConcurrencyRamp  *float64 `name:"prefill-concurrency-ramp-duration" group:"Load generator" placeholder:"SEC" help:"Ramp --prefill-concurrency from 1 to its value over this many seconds."`

	// Request cancellation.
	CancellationRate  *float64 `name:"request-cancellation-rate" group:"Request cancellation" placeholder:"PCT" help:"Percentage (0-100] of requests cancelled after they are sent (recorded as code 499)."`
	CancellationDelay *float64 `name:"request-cancellation-delay" group:"Request cancellation" placeholder:"SEC" help:"Seconds after a request is fully sent before it is cancelled (default 0); needs a rate."`

	// Warmup.
	WarmupRequestCount            *int     `name:"warmup-request-count" aliases:"num-warmup-requests" group:"Warmup" placeholder:"N" help:"Warmup requests before profiling (excluded from results). (Also --num-warmup-requests.)"`
	WarmupDuration                *float64 `name:"warmup-duration" group:"Warmup" placeholder:"SEC" help:"Warmup length in seconds."`
	NumWarmupSessions             *int     `name:"num-warmup-sessions" group:"Warmup" placeholder:"N" help:"Warmup conversations."`
	WarmupConcurrency             *int     `name:"warmup-concurrency" group:"Warmup" placeholder:"N" help:"Concurrency of the warmup (default: the profiling value)."`
	WarmupRequestRate             *float64 `name:"warmup-request-rate" group:"Warmup" placeholder:"RPS" help:"Request rate of the warmup (default: the profiling value)."`
	WarmupArrivalPattern          string   `name:"warmup-arrival-pattern" group:"Warmup" placeholder:"MODE" help:"Arrival pattern of the warmup (default: the profiling one)."`
	WarmupGracePeriod             string   `name:"warmup-grace-period" group:"Warmup" placeholder:"SEC" help:"How long warmup requests in flight may finish after a warmup duration (default inf)."`
	WarmupConcurrencyRampDuration *float64 `name:"warmup-concurrency-ramp-duration" group:"Warmup" placeholder:"SEC" help:"Concurrency ramp of the warmup."`
	WarmupRequestRateRampDuration *float64 `name:"warmup-request-rate-ramp-duration" group:"Warmup" placeholder:"SEC" help:"Request-rate ramp of the warmup."`
	WarmupPrefillConcurrency      *int     `name:"warmup-prefill-concurrency" group:"Warmup" placeholder:"N" help:"Prefill concurrency of the warmup (default: --prefill-concurrency)."`
	WarmupPrefillConcurrencyRamp  *float64 `name:"warmup-prefill-concurrency-ramp-duration" group:"Warmup" placeholder:"SEC" help:"Prefill concurrency ramp of the warmup (default: --prefill-concurrency-ramp-duration)."`

	// User-centric rate.
	UserCentricRate *float64 `name:"user-centric-rate" group:"User-centric rate" placeholder:"QPS" help:"Total requests per second over --num-users simulated users, each sending its turns num_users/rate seconds apart (needs >= 2 turns)."`
	NumUsers        string   `name:"num-users" group:"User-centric rate" placeholder:"N" help:"Simulated users of --user-centric-rate. Comma list: sweep."`

	// Goodput.
	Goodput string `name:"goodput" group:"Goodput" placeholder:"TAG:VALUE ..." help:"Per-request objectives in display units, e.g. \"time_to_first_token:200 inter_token_latency:20\" (ms)."`

	// Output.
	ArtifactDir         string   `name:"artifact-dir" aliases:"output-artifact-dir" group:"Output" placeholder:"DIR" help:"Artifact directory, used as given (default artifacts/<model>-<service>-<endpoint>-<load>/). (Also --output-artifact-dir.)"`
	ProfileExportPrefix string   `name:"profile-export-prefix" aliases:"profile-export-file" group:"Output" placeholder:"PREFIX" help:"Renames every profile_export* file. (Also --profile-export-file.)"`
	ExportLevel         string   `name:"export-level" aliases:"profile-export-level" group:"Output" placeholder:"LEVEL" help:"summary, records (default: also per-request JSONL) or raw (also raw request/response JSONL). (Also --profile-export-level.)"`
	SliceDuration       *float64 `name:"slice-duration" group:"Output" placeholder:"SEC" help:"Also report metrics per time slice of this many seconds."`
	AutoPlot            bool     `name:"auto-plot" negatable:"" group:"Output" help:"Draw the charts (PNG, SVG) and the HTML report into <artifact dir>/plots when a run ends (as loadstar plot)."`

	// Server metrics and GPU telemetry.
	ServerMetrics        optionalList `name:"server-metrics" group:"Server metrics" placeholder:"[URL ...]" help:"Prometheus endpoints scraped besides the server's own <url>/metrics, which is scraped by default (every 333 ms). See docs/server-metrics.md."`
	NoServerMetrics      bool         `name:"no-server-metrics" group:"Server metrics" help:"Scrape no server metrics."`
	ServerMetricsFormats listValue    `name:"server-metrics-formats" group:"Server metrics" placeholder:"FORMAT ..." help:"Server-metrics files: json and csv unless given; jsonl and parquet are time series."`
	GPUTelemetry         optionalList `name:"gpu-telemetry" group:"Server metrics" placeholder:"[URL ...]" help:"NVIDIA DCGM exporter endpoints scraped besides localhost:9400 and :9401 (tried by default); dashboard is accepted (no live view)."`
	NoGPUTelemetry       bool         `name:"no-gpu-telemetry" group:"Server metrics" help:"Collect no GPU telemetry, not even from localhost:9400 and :9401."`

	// UI and logging.
	UIType       string `name:"ui-type" aliases:"ui" group:"UI" placeholder:"TYPE" help:"Progress display: dashboard, simple or none. Default: dashboard on a terminal, else none. (Also --ui.)"`
	Verbose      int    `short:"v" name:"verbose" type:"counter" group:"UI" help:"-v debug logs, -vv trace logs (both force the simple UI)."`
	ExtraVerbose bool   `name:"extra-verbose" group:"UI" help:"Same as -vv."`

	// Multi-run and sweeps.
	NumProfileRuns     *int     `name:"num-profile-runs" group:"Multi-run" placeholder:"N" help:"Trials of the benchmark (1-10); results get confidence intervals."`
	ProfileRunCooldown *float64 `name:"profile-run-cooldown-seconds" group:"Multi-run" placeholder:"SEC" help:"Pause between trials."`
	ConfidenceLevel    *float64 `name:"confidence-level" group:"Multi-run" placeholder:"P" help:"Confidence level of the intervals over trials (default 0.95)."`
	VarySeedPerTrial   bool     `name:"vary-seed-per-trial" negatable:"" group:"Multi-run" help:"Seed trial N with seed+N-1 instead of the same seed (without a sweep)."`
	WarmupFirstRunOnly *bool    `name:"profile-run-disable-warmup-after-first" negatable:"" group:"Multi-run" help:"Warm up before the first trial only (default; trials without a sweep)."`
	ConsistentSeed     *bool    `name:"set-consistent-seed" negatable:"" group:"Multi-run" help:"With --num-profile-runs and no --random-seed, seed every trial with 42 (default); --no-set-consistent-seed draws a seed per trial."`
	SweepType          string   `name:"sweep-type" group:"Parameter sweep" placeholder:"TYPE" help:"How comma lists combine: grid (default, every combination) or zip (i-th values together)."`
	SweepMode          string   `name:"parameter-sweep-mode" group:"Parameter sweep" placeholder:"MODE" help:"With --num-profile-runs: independent (each cell's trials back to back; the only mode loadstar runs)."`
	SweepCooldown      *float64 `name:"parameter-sweep-cooldown-seconds" group:"Parameter sweep" placeholder:"SEC" help:"Pause between sweep steps."`
	SweepSameSeed      *bool    `name:"parameter-sweep-same-seed" negatable:"" group:"Parameter sweep" help:"Reuse --random-seed in every sweep step; by default step i uses seed+i (needs --random-seed)."`

	// Embedded mock server (loadstar).
	MockTTFT   string `name:"mock-ttft" group:"Embedded mock server (loadstar)" placeholder:"DURATION" help:"Without --url: the mock's time to first token (default 20ms)."`
	MockITL    string `name:"mock-itl" group:"Embedded mock server (loadstar)" placeholder:"DURATION" help:"Without --url: the mock's inter-token latency (default 5ms)."`
	MockFast   bool   `name:"mock-fast" group:"Embedded mock server (loadstar)" help:"Without --url: zero every mock latency."`
	MockSeed   *int64 `name:"mock-seed" group:"Embedded mock server (loadstar)" placeholder:"N" help:"Without --url: the mock's seed (answer text, jitter)."`
	MockOutput string `name:"mock-output" group:"Embedded mock server (loadstar)" placeholder:"RULE" help:"Without --url: answer length rule, exact (default: the requested maximum) or aiperf."`

	// loadstar.
	EmitScenario       bool   `name:"emit-scenario" group:"loadstar" help:"Print the equivalent .star scenario (runnable with loadstar run) and exit without sending."`
	MaxResponseBytes   *int64 `name:"max-response-bytes" group:"loadstar" placeholder:"BYTES" help:"Largest response body one request may receive (1 KiB-1 GiB, default 64 MiB): a larger one fails that request as ResponseTooLarge and the run goes on."`
	MaxRedirects       *int   `name:"max-redirects" group:"loadstar" placeholder:"N" help:"Redirects one request follows to the same server (default 10; 0: a redirect fails the request as RedirectNotFollowed)."`
	NoAbortUnreachable bool   `name:"no-abort-unreachable" group:"loadstar" help:"Run the whole length even when the first max(concurrency, 10) requests all failed to connect (by default the run stops with exit code 13)."`

	unsupported
}
