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

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/endpoint"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/timing"
	"github.com/loadstar/loadstar/internal/metrics"
	"github.com/loadstar/loadstar/internal/sweep"
	"github.com/loadstar/loadstar/internal/transport"
)

// Messages several rules share.
const (
	needsTrials = "needs --num-profile-runs of 2 or more"
	needsSweep  = "needs a sweep (a comma-separated list on a sweepable flag)"
	needsFixed  = "needs a fixed schedule (--fixed-schedule, or an --input-file with timestamps)"
	notWithLoad = "not allowed with a fixed schedule or --user-centric-rate"
)

// Flags that rules treat together.
const (
	mockFlags = "mock-ttft mock-itl mock-fast mock-seed mock-output"
	// synthFlags shape synthetic prompts (refused with --input-file or a
	// rankings endpoint).
	synthFlags = "isl-stddev osl osl-stddev seq-dist num-prefix-prompts prompt-prefix-length shared-system-prompt-length " +
		"user-context-prompt-length conversation-turn-mean conversation-turn-stddev conversation-turn-delay-mean " +
		"conversation-turn-delay-stddev conversation-turn-delay-ratio image-width-mean audio-length-mean"
	rankFlags = "rankings-passages-mean rankings-passages-stddev rankings-passages-prompt-token-mean " +
		"rankings-passages-prompt-token-stddev rankings-query-prompt-token-mean rankings-query-prompt-token-stddev"
	warmupFlags  = "warmup-request-count warmup-duration num-warmup-sessions"
	warmupTuning = "warmup-concurrency warmup-request-rate warmup-arrival-pattern warmup-grace-period " +
		"warmup-concurrency-ramp-duration warmup-request-rate-ramp-duration warmup-prefill-concurrency warmup-prefill-concurrency-ramp-duration"
	imageOptions   = "image-width-stddev image-height-stddev image-format image-source"
	synthesisFlags = "synthesis-speedup-ratio synthesis-prefix-len-multiplier synthesis-prefix-root-multiplier " +
		"synthesis-prompt-len-multiplier synthesis-output-len-multiplier synthesis-max-isl synthesis-max-osl"
	audioOptions = "audio-length-stddev audio-format audio-sample-rates audio-depths audio-num-channels"
	// Flags that become durations (grace periods and --mock-ttft/--mock-itl
	// are checked by their parsers).
	secondsFlags = "request-timeout-seconds wait-for-model-timeout wait-for-model-interval benchmark-duration request-cancellation-delay warmup-duration " +
		"concurrency-ramp-duration request-rate-ramp-duration warmup-concurrency-ramp-duration " +
		"warmup-request-rate-ramp-duration slice-duration profile-run-cooldown-seconds parameter-sweep-cooldown-seconds"
	millisFlags = "conversation-turn-delay-mean conversation-turn-delay-stddev fixed-schedule-start-offset fixed-schedule-end-offset"
	tooLong     = "must be at most 9223372036 seconds (about 292 years, the longest duration loadstar can hold), got {}"
)

// endpointIs holds when the endpoint type is name.
func endpointIs(name string) cond { return state(func(b *builder) bool { return b.epName == name }) }

// What the builder knows when the rules run.
var (
	sweeping      = state(func(b *builder) bool { return len(b.params) > 0 })
	trials        = state(func(b *builder) bool { return b.plan.trials > 1 })
	fixedSchedule = state((*builder).fixedSchedule)
	autoSchedule  = state((*builder).autoSchedule)
	userCentric   = state(func(b *builder) bool { return b.loadMode() == "user_centric" })
	rankings      = state(func(b *builder) bool { return strings.Contains(b.epName, "rankings") })
	streams       = state(func(b *builder) bool { return b.epMeta.SupportsStreaming })
	takesImages   = state(func(b *builder) bool { return b.epMeta.SupportsImages })
	takesAudio    = state(func(b *builder) bool { return b.epMeta.SupportsAudio })
	imagesOn      = state((*builder).imagesOn)
	audioOn       = state((*builder).audioOn)
	chatEndpoint  = endpointIs("chat")
	randomPool    = state(func(b *builder) bool { return plugin.Normalize(b.f.CustomDatasetType) == "random_pool" })
	warmup        = given(warmupFlags)
	// swept holds when the rule's own flag is a list of several values.
	swept = cond{holds: func(b *builder, flag string) bool { return len(b.numbers(flag)) > 1 }}
	// several holds when the rule's own list flag has several values.
	several = cond{holds: func(b *builder, flag string) bool { v, _ := b.value(flag); l, _ := v.([]string); return len(l) > 1 }}
	// cooldownsDiffer holds when the trial and sweep cooldowns are both given and differ.
	cooldownsDiffer = cond{holds: func(b *builder, _ string) bool {
		f := b.f
		return f.ProfileRunCooldown != nil && f.SweepCooldown != nil && seconds(*f.ProfileRunCooldown) != seconds(*f.SweepCooldown)
	}, reads: []string{"profile-run-cooldown-seconds", "parameter-sweep-cooldown-seconds"}}
)

// rules are AIPerf's rules between the flags of `loadstar profile`, in the
// order they are checked (the first broken one is reported). A new rule is
// one row; see rule for the columns. A few rows resolve what later rows
// read (check): the endpoint's metadata, the models, the input file, the
// tokenizer.
var rules = []rule{
	// Sweeps and repeated trials.
	{flag: "sweep-type", oneOf: "grid zip", msg: "must be grid or zip, got {q}"},
	{flag: "sweep-type", requires: sweeping, msg: "needs a comma-separated list on a sweepable flag (e.g. --concurrency 8,16,32)"},
	{flag: "num-profile-runs", valid: between(1, 10), msg: "must be from 1 to 10, got {}"},
	{flag: "confidence-level", valid: exclusive(0, 1), msg: "must be between 0 and 1 (exclusive), got {}"},
	{flag: "confidence-level", requires: trials, msg: needsTrials},
	{flag: "vary-seed-per-trial", requires: trials, msg: needsTrials},
	{flag: "vary-seed-per-trial", conflicts: sweeping, msg: "not supported in a sweep: sweep() repeats each step with the same seed"},
	{flag: "parameter-sweep-mode", oneOf: "independent", refuse: "repeated", msg: "must be independent or repeated, got {q}",
		refusal: "repeated is not supported: loadstar's sweep() runs each step's trials back to back (independent)"},
	{flag: "parameter-sweep-mode", requires: and(sweeping, trials), msg: "needs a sweep and --num-profile-runs of 2 or more"},
	{flag: "parameter-sweep-mode", absentToo: true, when: and(absent, sweeping, trials),
		note: "each sweep step runs its trials back to back (AIPerf's --parameter-sweep-mode independent; AIPerf's default, repeated, is not supported)"},
	{flag: "profile-run-disable-warmup-after-first", absentToo: true, when: and(absent, warmup, sweeping, trials),
		note: "every trial of a sweep step warms up (sweep() repeats the whole step; AIPerf warms up before the first trial only)"},
	{flag: "parameter-sweep-same-seed", requires: sweeping, msg: needsSweep},
	{flag: "parameter-sweep-same-seed", when: isTrue, requires: given("random-seed"), msg: "needs --random-seed"},
	{flag: "set-consistent-seed", requires: trials, msg: needsTrials},
	{flag: "profile-run-disable-warmup-after-first", requires: trials, msg: needsTrials},
	{flag: "profile-run-disable-warmup-after-first", when: isTrue, conflicts: sweeping, msg: "not supported in a sweep: sweep() warms up before every trial"},
	{flag: "profile-run-cooldown-seconds parameter-sweep-cooldown-seconds", valid: nonNegative, msg: "must be >= 0 seconds, got {}"},
	{flag: "profile-run-cooldown-seconds", requires: trials, msg: needsTrials},
	{flag: "parameter-sweep-cooldown-seconds", requires: sweeping, msg: needsSweep},
	{flag: "profile-run-cooldown-seconds", when: sweeping, conflicts: cooldownsDiffer,
		msg: "differs from --parameter-sweep-cooldown-seconds: sweep() pauses the same time before every step and trial"},

	// Durations: a time.Duration holds about 292 years; beyond, it would
	// wrap to a negative span.
	{flag: secondsFlags, valid: holdsSeconds, msg: tooLong},
	{flag: millisFlags, valid: holdsMillis, msg: "must be at most 9223372036854 ms (about 292 years, the longest duration loadstar can hold), got {}"},

	// Endpoint.
	{flag: "endpoint-type", absentToo: true, check: (*builder).resolveEndpoint},
	{flag: "streaming", when: not(streams), note: "--streaming: the {endpoint} endpoint cannot stream; requests are sent without streaming"},
	{flag: "per-chunk-usage", requires: and(given("streaming"), given("use-server-token-count"), chatEndpoint),
		msg: "needs --endpoint-type chat, --streaming and --use-server-token-count"},
	{flag: "model-selection-strategy", oneOf: "round_robin round-robin", refuse: "random weighted", msg: "must be round_robin, got {q}",
		refusal: "{} is not supported: loadstar assigns several models round-robin by conversation"},
	{flag: "url-strategy", oneOf: "round_robin round-robin", msg: "must be round_robin (the only URL strategy), got {q}"},
	{flag: "connection-reuse-strategy", oneOf: "pooled never", refuse: "sticky-user-sessions sticky_user_sessions", msg: "must be pooled or never, got {q}",
		refusal: "sticky-user-sessions is not supported: loadstar pools connections (pooled) or opens one per request (never)"},
	{flag: "request-content-type", oneOf: "application/json multipart/form-data", msg: "must be application/json or multipart/form-data, got {q}"},
	{flag: "request-content-type", when: valueIn("multipart/form-data"), requires: state(func(b *builder) bool { return b.epMeta.RequiresFormData }),
		msg: "multipart/form-data is what endpoints uploading files send (image_edit); the {endpoint} endpoint sends JSON"},
	{flag: "request-content-type", when: valueIn("application/json"), conflicts: state(func(b *builder) bool { return b.epMeta.RequiresFormData }),
		msg: "the {endpoint} endpoint uploads a file: it sends multipart/form-data"},
	{flag: "request-timeout-seconds", valid: positive, msg: "must be > 0, got {}"},
	{flag: "wait-for-model-timeout", valid: nonNegative, msg: "must be >= 0 seconds, got {}"},
	{flag: "wait-for-model-interval", valid: positive, msg: "must be > 0 seconds, got {}"},
	{flag: "wait-for-model-mode", oneOf: "inference models both", msg: "must be inference, models or both, got {q}"},
	{flag: "wait-for-model-mode wait-for-model-interval", requires: given("wait-for-model-timeout"), msg: "has no effect without --wait-for-model-timeout"},
	{flag: "transport", oneOf: "http", msg: "must be http (the only transport), got {q}"},
	{flag: "max-response-bytes", valid: between(transport.MinMaxResponseBytes, transport.MaxMaxResponseBytes),
		msg: fmt.Sprintf("must be between %d (1 KiB) and %d (1 GiB) bytes, got {}", transport.MinMaxResponseBytes, transport.MaxMaxResponseBytes)},
	{flag: "max-redirects", valid: between(0, transport.MaxMaxRedirects), msg: fmt.Sprintf("must be between 0 and %d, got {}", transport.MaxMaxRedirects)},
	{flag: "auth-type", oneOf: "sigv4 none", msg: "must be sigv4 or none, got {q}"},
	{flag: "aws-region aws-service aws-profile", requires: flagIs("auth-type", "sigv4"), msg: "needs --auth-type sigv4"},
	{flag: "auth-type", when: valueIn("sigv4"), requires: and(given("aws-region"), given("aws-service")),
		msg: "sigv4 needs --aws-region and --aws-service (execute-api for API Gateway, sagemaker for SageMaker)"},
	{flag: "api-key", conflicts: flagIs("auth-type", "sigv4"), msg: "conflicts with --auth-type sigv4: the signature is the Authorization header"},
	{flag: "header", parse: parseHeaderFlag, msg: "{err}"},
	{flag: "extra-inputs", parse: parseExtraFlag, msg: "{err}"},
	{flag: "session-header", parse: parseSessionHeader, msg: "{err}"},

	// Models, and the server: --url or the embedded mock.
	{flag: "model", absentToo: true, check: (*builder).resolveModels},
	{flag: "mock-ttft mock-itl", when: not(given("url")), parse: parseMockDuration, msg: "{err}"},
	{flag: "mock-seed", when: not(given("url")), valid: atLeast(0), msg: "must be >= 0, got {}"},
	{flag: "mock-output", when: not(given("url")), oneOf: "exact aiperf", msg: "must be exact or aiperf, got {q}"},
	{flag: mockFlags, conflicts: given("url"), msg: "configures the embedded mock server, which is used only without --url"},
	{flag: "url", parse: parseURLs, msg: "empty URL"},
	{flag: "model", absentToo: true, when: given("url"), requires: given("model"), msg: "required: the model name(s) to send, e.g. -m Qwen/Qwen3-0.6B"},

	// Tokenizer.
	{flag: "tokenizer", absentToo: true, check: (*builder).resolveTokenizer},
	{flag: "tokenizer-trust-remote-code", noEffect: true,
		note: "--tokenizer-trust-remote-code has no effect: loadstar reads tokenizer.json files and runs no remote code"},

	// Input file.
	{flag: "custom-dataset-type", requires: given("input-file"), msg: "needs --input-file"},
	{flag: "isl-block-size", requires: given("input-file"), msg: "needs --input-file (a trace with hash_ids)"},
	{flag: "input-file", check: (*builder).resolveInputFile},
	{flag: "custom-dataset-type", check: (*builder).checkDatasetType},
	{flag: "isl-block-size", valid: atLeast(1), msg: "must be >= 1, got {}"},
	{flag: "input-file", check: (*builder).detectTimestamps},
	{flag: synthesisFlags, requires: given("input-file"), msg: "needs --input-file (a token-count trace: mooncake_trace, bailian_trace or burst_gpt_trace)"},
	{flag: "synthesis-speedup-ratio synthesis-prefix-len-multiplier synthesis-prompt-len-multiplier synthesis-output-len-multiplier",
		valid: positive, msg: "must be > 0, got {}"},
	{flag: "synthesis-prefix-root-multiplier synthesis-max-isl synthesis-max-osl", valid: atLeast(1), msg: "must be >= 1, got {}"},

	// Load mode, by AIPerf's priority: fixed schedule > user-centric >
	// request rate > concurrency.
	{flag: "fixed-schedule", when: isTrue, requires: given("input-file"), msg: "needs --input-file with timestamps"},
	{flag: "user-centric-rate request-rate request-rate-mode", conflicts: fixedSchedule, msg: "conflicts with {schedule}"},
	{flag: "dataset-sampling-strategy", conflicts: fixedSchedule, msg: "not allowed with {schedule}: a schedule is replayed in order"},
	{flag: sweepFlags, when: swept, conflicts: autoSchedule,
		msg: "a sweep is refused on a trace that switched to a fixed schedule; pass --no-fixed-schedule to sweep the load"},
	{flag: "fixed-schedule-auto-offset fixed-schedule-start-offset fixed-schedule-end-offset", requires: fixedSchedule, msg: needsFixed},
	{flag: "replay-speedup", requires: fixedSchedule, msg: needsFixed},
	{flag: "replay-speedup", valid: positive, msg: "must be > 0, got {}"},
	{flag: "fixed-schedule-auto-offset", conflicts: given("fixed-schedule-start-offset"), msg: "give it or --fixed-schedule-start-offset, not both"},
	{flag: "fixed-schedule-start-offset fixed-schedule-end-offset", valid: atLeast(0), msg: "must be >= 0 ms, got {}"},
	{flag: "fixed-schedule-end-offset", when: given("fixed-schedule-start-offset"), valid: notBelow("fixed-schedule-start-offset"),
		msg: "must be >= --fixed-schedule-start-offset ({=fixed-schedule-start-offset}), got {}"},
	{flag: "user-centric-rate", valid: positive, msg: "must be > 0, got {}"},
	{flag: "user-centric-rate", conflicts: given("request-rate"), msg: "conflicts with --request-rate"},
	{flag: "user-centric-rate", conflicts: given("request-rate-mode"), msg: "conflicts with --request-rate-mode (users send on their own schedule)"},
	{flag: "user-centric-rate", requires: given("num-users"), msg: "needs --num-users"},
	{flag: "num-users", requires: given("user-centric-rate"), msg: "needs --user-centric-rate"},
	{flag: "request-rate-mode", oneOf: "poisson constant gamma concurrency_burst concurrency-burst",
		msg: "must be poisson, constant, gamma or concurrency_burst, got {q}"},
	{flag: "request-rate-series", conflicts: given("request-rate"), msg: "give --request-rate or --request-rate-series, not both"},
	{flag: "request-rate-series", conflicts: or(fixedSchedule, given("user-centric-rate")), msg: notWithLoad},
	{flag: "request-rate-series", parse: parseRateSeries, msg: "{err}"},
	{flag: "request-rate-mode", when: valueIn("poisson constant gamma"),
		requires: or(given("request-rate"), given("request-rate-series"), fixedSchedule, given("user-centric-rate")),
		msg:      "{} needs --request-rate"},
	{flag: "request-rate-mode", when: valueIn("concurrency_burst concurrency-burst"), conflicts: given("request-rate request-rate-series"),
		msg: "concurrency_burst is a closed loop and takes no --request-rate"},
	{flag: "request-rate-mode", when: valueIn("concurrency_burst concurrency-burst"), requires: given("concurrency"), msg: "concurrency_burst needs --concurrency"},
	{flag: "arrival-smoothness", requires: flagIs("request-rate-mode", "gamma"), msg: "needs --request-rate-mode gamma"},
	{flag: "arrival-smoothness", valid: positive, msg: "must be > 0, got {}"},
	{flag: "concurrency-ramp-duration request-rate-ramp-duration", valid: positive, msg: "must be > 0 seconds, got {}"},
	{flag: "request-rate-ramp-duration", conflicts: or(fixedSchedule, given("user-centric-rate")), msg: notWithLoad},
	{flag: "request-rate-ramp-duration", requires: given("request-rate"), msg: "needs --request-rate"},
	{flag: "concurrency-ramp-duration", requires: given("concurrency"), msg: "needs --concurrency"},
	{flag: "concurrency-ramp-duration", conflicts: or(fixedSchedule, given("user-centric-rate")), msg: notWithLoad},
	{flag: "prefill-concurrency warmup-prefill-concurrency", valid: atLeast(1), msg: "must be >= 1, got {}"},
	{flag: "prefill-concurrency warmup-prefill-concurrency", requires: given("streaming"),
		msg: "needs --streaming: the first token is what frees a prefill slot"},
	{flag: "prefill-concurrency", when: given("concurrency"), valid: notAbove("concurrency"),
		msg: "must be <= --concurrency ({=concurrency}), got {}"},
	{flag: "prefill-concurrency-ramp-duration", requires: given("prefill-concurrency"), msg: "needs --prefill-concurrency"},
	{flag: "warmup-prefill-concurrency-ramp-duration", requires: or(given("prefill-concurrency"), given("warmup-prefill-concurrency")),
		msg: "needs --warmup-prefill-concurrency or --prefill-concurrency"},
	{flag: "prefill-concurrency-ramp-duration warmup-prefill-concurrency-ramp-duration", valid: positive, msg: "must be > 0 seconds, got {}"},

	// Stop conditions and cancellation.
	{flag: "request-count", conflicts: given("conversation-num"), msg: "give --request-count or --conversation-num, not both"},
	{flag: "benchmark-grace-period", requires: given("benchmark-duration"), msg: "needs --benchmark-duration"},
	{flag: "benchmark-grace-period", parse: parseGrace, msg: "{err}"},
	{flag: "request-cancellation-rate", valid: percentage, msg: "must be a percentage in (0, 100], got {}"},
	{flag: "failed-request-threshold", valid: between(0, 1), msg: "must be a ratio from 0 to 1, got {}"},
	{flag: "request-cancellation-delay", requires: given("request-cancellation-rate"), msg: "needs --request-cancellation-rate"},
	{flag: "request-cancellation-delay", valid: nonNegative, msg: "must be >= 0 seconds, got {}"},

	// Warmup.
	{flag: warmupTuning, requires: warmup, msg: "needs a warmup (--warmup-request-count, --warmup-duration or --num-warmup-sessions)"},
	{flag: "warmup-request-count num-warmup-sessions", valid: atLeast(1), msg: "must be >= 1, got {}"},
	{flag: "num-warmup-sessions", conflicts: given("warmup-request-count"), msg: "give --warmup-request-count or --num-warmup-sessions, not both"},
	{flag: "warmup-duration", valid: positive, msg: "must be > 0 seconds, got {}"},
	{flag: "warmup-concurrency", valid: atLeast(1), msg: "must be >= 1, got {}"},
	{flag: "warmup-request-rate", valid: positive, msg: "must be > 0, got {}"},
	{flag: "warmup-arrival-pattern", oneOf: "poisson constant gamma", msg: "must be poisson, constant or gamma, got {q}"},
	{flag: "warmup-grace-period", parse: parseGrace, msg: "{err}"},
	{flag: "warmup-concurrency-ramp-duration warmup-request-rate-ramp-duration", valid: positive, msg: "must be > 0 seconds, got {}"},

	// Dataset: synthetic prompts, rankings, or a file.
	{flag: "prompt-corpus", when: valueIn("sonnet"), noEffect: true,
		note: "--prompt-corpus sonnet: loadstar's synthetic prompts come from its own public-domain prose corpus (The Adventures of Sherlock Holmes)"},
	{flag: "prompt-corpus", oneOf: "sonnet", refuse: "coding", msg: "must be sonnet or coding, got {q}",
		refusal: "coding is not supported: loadstar has one prose corpus"},
	{flag: "cache-bust", oneOf: "none", refuse: "system_prefix system_suffix first_turn_prefix first_turn_suffix",
		msg: "must be none, system_prefix, system_suffix, first_turn_prefix or first_turn_suffix, got {q}", refusal: "{} is not supported: loadstar inserts no cache-bust markers"},
	{flag: "isl " + synthFlags + " " + rankFlags, conflicts: given("input-file"),
		msg: "applies to synthetic data; with --input-file the prompts and lengths come from the file"},
	{flag: "prompt-batch-size", conflicts: given("input-file"), msg: "applies to synthetic data; with --input-file each line is one request"},
	{flag: "num-dataset-entries", when: given("input-file"), requires: randomPool,
		msg: "applies to synthetic data and random_pool files (--custom-dataset-type random_pool)"},
	{flag: synthFlags, conflicts: rankings,
		msg: "does not apply to the {endpoint} endpoint: rankings send a query and passages (see the --rankings-* options)"},
	{flag: "isl", conflicts: rankings,
		msg: "does not apply to the {endpoint} endpoint; use --rankings-query-prompt-token-mean and --rankings-passages-prompt-token-mean"},
	{flag: "prompt-batch-size", conflicts: rankings, msg: "does not apply to the {endpoint} endpoint; use --rankings-passages-mean"},
	{flag: rankFlags, requires: rankings, msg: "needs a rankings endpoint (--endpoint-type cohere_rankings, hf_tei_rankings or nim_rankings)"},
	{flag: "num-dataset-entries prompt-batch-size", valid: atLeast(1), msg: "must be >= 1, got {}"},
	{flag: "num-prefix-prompts prompt-prefix-length shared-system-prompt-length user-context-prompt-length image-batch-size audio-batch-size",
		valid: atLeast(0), msg: "must be >= 0, got {}"},
	{flag: "seq-dist", conflicts: given("isl osl isl-stddev osl-stddev"), msg: "give --seq-dist or --isl/--osl, not both (the distribution sets both lengths)"},
	{flag: "seq-dist", parse: parseSequence, msg: "{err}"},
	{flag: "isl-stddev", requires: given("isl"), msg: "needs --isl"},
	{flag: "osl-stddev", requires: given("osl"), msg: "needs --osl"},
	{flag: "num-prefix-prompts", when: above0("num-prefix-prompts"), requires: above0("prompt-prefix-length"), msg: "needs --prompt-prefix-length"},
	{flag: "prompt-prefix-length", when: above0("prompt-prefix-length"), requires: above0("num-prefix-prompts"), msg: "needs --num-prefix-prompts"},
	{flag: "shared-system-prompt-length", when: above0("shared-system-prompt-length"), conflicts: above0("num-prefix-prompts"),
		msg: "not with a prefix pool (--num-prefix-prompts)"},
	{flag: "conversation-turn-stddev", valid: atLeast(0), msg: "must be >= 0"},
	{flag: "conversation-turn-delay-mean conversation-turn-delay-stddev conversation-turn-delay-ratio image-width-stddev image-height-stddev " +
		"audio-length-stddev rankings-passages-stddev rankings-passages-prompt-token-stddev rankings-query-prompt-token-stddev",
		valid: nonNegative, msg: "must be >= 0, got {}"},
	{flag: "image-width-mean image-height-mean audio-length-mean rankings-passages-mean rankings-passages-prompt-token-mean rankings-query-prompt-token-mean",
		valid: positive, msg: "must be > 0, got {}"},
	{flag: "dataset-sampling-strategy", normalize: true, oneOf: "sequential random shuffle", msg: "must be sequential, random or shuffle, got {q}"},

	// Images and audio, as AIPerf: a batch size (default 1) of items whose
	// size is given; without a size there are none.
	{flag: "image-width-mean", absentToo: true, when: given("image-width-mean image-height-mean"),
		requires: and(given("image-width-mean"), given("image-height-mean")), msg: "give --image-width-mean and --image-height-mean together"},
	{flag: "image-width-mean", absentToo: true, when: or(given(imageOptions), above0("image-batch-size")), requires: given("image-width-mean image-height-mean"),
		msg: "needed by the --image-* options: synthetic images need a size (--image-width-mean and --image-height-mean)"},
	{flag: "image-width-mean", when: imagesOn, requires: takesImages, msg: "the {endpoint} endpoint does not accept images"},
	{flag: "image-source", oneOf: "noise", msg: "{} is not supported: synthetic images are random noise; put image files in a dataset file (--input-file)"},
	{flag: "audio-length-mean", absentToo: true, when: or(given(audioOptions), above0("audio-batch-size")), requires: given("audio-length-mean"),
		msg: "needed by the --audio-* options: synthetic audio needs a length"},
	{flag: "audio-length-mean", when: audioOn, requires: takesAudio, msg: "the {endpoint} endpoint does not accept audio"},
	{flag: "audio-format", oneOf: "wav", msg: "{} is not supported: loadstar generates wav clips"},
	{flag: "audio-sample-rates", conflicts: several, msg: "one rate only: loadstar generates every clip at one sample rate"},
	{flag: "audio-sample-rates", parse: parseSampleRate, msg: "{err}"},
	{flag: "audio-depths", parse: parseDepths, msg: "{err}"},
	{flag: "audio-num-channels", valid: exactly(1), msg: "{} is not supported: loadstar generates mono clips"},

	// Endpoints that need particular data.
	{flag: "endpoint-type", when: and(endpointIs("raw"), not(given("input-file"))), requires: given("input-file"),
		msg: "raw sends recorded request bodies: give --input-file (raw_payload or inputs_json)"},
	{flag: "endpoint-type", when: and(endpointIs("image_edit"), not(given("input-file"))), requires: imagesOn,
		msg: "image_edit uploads a reference image per request: give --image-width-mean and --image-height-mean"},

	// Goodput and output.
	{flag: "goodput", check: (*builder).resolveGoodput},
	{flag: "export-level", oneOf: "summary records raw", msg: "must be summary, records or raw, got {q}"},
	{flag: "slice-duration", valid: positive, msg: "must be > 0 seconds, got {}"},
	{flag: "ui-type", oneOf: "simple none dashboard", msg: "must be dashboard, simple or none, got {q}"},
	{flag: "random-seed", valid: atLeast(0), msg: "must be >= 0, got {}"},

	// Rules on every value of the magic lists.
	{flag: "user-centric-rate", when: and(userCentric, not(given("input-file"))), requires: given("conversation-turn-mean"),
		msg: "needs conversations of 2 or more turns (--conversation-turn-mean 2 or more)"},
	{flag: "conversation-turn-mean", when: and(userCentric, not(given("input-file"))), valid: atLeast(2), msg: "--user-centric-rate needs 2 or more turns, got {}"},
	{flag: "concurrency", when: userCentric, valid: notBelow("num-users"),
		msg: "with --user-centric-rate it must be >= --num-users (loadstar's user-centric timing has no session cap), got {}"},
	{flag: "concurrency", when: userCentric, note: "--concurrency >= --num-users has no effect with --user-centric-rate: users never overlap themselves"},
}

// settle sets what the checked flags ask of the plan.
func (b *builder) settle() {
	f, p := b.f, b.plan
	if f.SweepType == "zip" {
		p.sweepMode = sweep.Zip
	}
	if f.ConfidenceLevel != nil {
		p.confidence = *f.ConfidenceLevel
	}
	p.varySeed = f.VarySeedPerTrial
	if f.WarmupFirstRunOnly != nil {
		p.warmupEveryTrial = !*f.WarmupFirstRunOnly
	}
	var runCooldown, sweepCooldown time.Duration
	if f.ProfileRunCooldown != nil {
		runCooldown = seconds(*f.ProfileRunCooldown)
	}
	if f.SweepCooldown != nil {
		sweepCooldown = seconds(*f.SweepCooldown)
	}
	p.cooldown = runCooldown
	if len(b.params) > 0 {
		p.cooldown = max(runCooldown, sweepCooldown)
	}
	p.verbosity = f.Verbose
	if f.ExtraVerbose {
		p.verbosity = max(p.verbosity, 2)
	}
	if len(f.URL) == 0 {
		cfg := b.mockConfig()
		p.Mock = &cfg
	}
	b.mode = b.loadMode()
}

// resolveEndpoint finds the endpoint type's plugin and its metadata.
func (b *builder) resolveEndpoint() error {
	f := b.f
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
	return nil
}

// unsupportedEndpoints are AIPerf endpoint types loadstar has no plugin for.
var unsupportedEndpoints = map[string]string{
	"chat_embeddings":  "no chat-embeddings endpoint plugin (use embeddings)",
	"video_generation": "no video-generation endpoint plugin (it needs job polling)",
	"image_retrieval":  "no image-retrieval endpoint plugin",
}

// resolveModels splits comma-separated model names; without --url the
// embedded mock's model is the default.
func (b *builder) resolveModels() error {
	f := b.f
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
	if len(f.URL) == 0 && len(f.Model) == 0 {
		f.Model = []string{defaultMockModel}
	}
	return nil
}

// resolveTokenizer finds the tokenizer (notes a fallback).
func (b *builder) resolveTokenizer() error {
	tok, note, err := resolveTokenizer(b.f, b.opts.getenv)
	if err != nil {
		return err
	}
	b.tok = tok
	if note != "" {
		b.plan.Notes = append(b.plan.Notes, note)
	}
	return nil
}

// resolveInputFile makes --input-file absolute and checks it exists.
func (b *builder) resolveInputFile() error {
	abs, err := filepath.Abs(b.f.InputFile)
	if err != nil {
		return invalid("input-file", "%v", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return invalid("input-file", "%v", errors.Unwrap(err))
	}
	b.inputFile = abs
	return nil
}

// detectTimestamps finds whether a dataset file carries timestamps (a trace
// that switches the load to a fixed schedule).
func (b *builder) detectTimestamps() error {
	if st, err := os.Stat(b.inputFile); err != nil || st.IsDir() {
		return nil
	}
	ts, err := fileHasTimestamps(b.inputFile)
	if err != nil {
		return invalid("input-file", "%v", err)
	}
	b.fileTimestamps = ts
	return nil
}

// checkDatasetType checks --custom-dataset-type against the types the
// custom dataset plugin reads.
func (b *builder) checkDatasetType() error {
	typ := plugin.Normalize(b.f.CustomDatasetType)
	if why, ok := unsupportedDatasetTypes[typ]; ok {
		return usage("custom-dataset-type", "%s is not supported: %s", b.f.CustomDatasetType, why)
	}
	if _, err := b.reg.Lookup(plugin.CustomDatasetLoader, typ); err != nil {
		return usage("custom-dataset-type", "unknown type %q; loadstar reads %s", b.f.CustomDatasetType,
			strings.Join(b.reg.Names(plugin.CustomDatasetLoader), ", "))
	}
	return nil
}

// unsupportedDatasetTypes are AIPerf dataset types loadstar has no loader for.
var unsupportedDatasetTypes = map[string]string{
	"sagemaker_data_capture": "no SageMaker data-capture loader",
	"dag_jsonl":              "no agent-DAG loader (forks, spawns and joins of sub-agent conversations)",
	"baseten_trace":          "no Baseten trace loader (Parquet)",
	"weka_trace":             "no Weka agentic trace loader",
}

// resolveGoodput parses --goodput in AIPerf's syntax, kept in the scenario
// form so that the emitted slos = {...} builds exactly these objectives.
func (b *builder) resolveGoodput() error {
	if strings.TrimSpace(b.f.Goodput) == "" {
		return nil
	}
	slos, err := metrics.ParseGoodput(b.f.Goodput)
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
	return nil
}

// fixedSchedule reports whether the load is a fixed schedule: asked for,
// or a trace's timestamps without --no-fixed-schedule.
func (b *builder) fixedSchedule() bool {
	if b.f.FixedSchedule != nil {
		return *b.f.FixedSchedule
	}
	return b.fileTimestamps
}

// autoSchedule reports whether the input file's timestamps switched the
// load to a fixed schedule.
func (b *builder) autoSchedule() bool { return b.f.FixedSchedule == nil && b.fileTimestamps }

// scheduleReason says what made the load a fixed schedule, for messages.
func (b *builder) scheduleReason() string {
	if b.autoSchedule() {
		return "the timestamps of --input-file (fixed schedule; pass --no-fixed-schedule to send by --concurrency or --request-rate instead)"
	}
	return "the fixed schedule (--fixed-schedule)"
}

// loadMode is the timing mode by AIPerf's priority: "fixed",
// "user_centric", "rate" or "concurrency".
func (b *builder) loadMode() string {
	switch {
	case b.fixedSchedule():
		return "fixed"
	case b.f.UserCentricRate != nil:
		return "user_centric"
	case b.given("request-rate"), b.given("request-rate-series"):
		return "rate"
	}
	return "concurrency"
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

// mockConfig is the embedded mock server's configuration: AIPerf's mock
// defaults changed by the (checked) --mock-* flags.
func (b *builder) mockConfig() mock.Config {
	f := b.f
	cfg := mock.DefaultConfig()
	if f.MockTTFT != "" {
		cfg.TTFT, _ = parseMillis(f.MockTTFT)
	}
	if f.MockITL != "" {
		cfg.ITL, _ = parseMillis(f.MockITL)
	}
	cfg.Fast = f.MockFast
	if f.MockSeed != nil {
		cfg.Seed = *f.MockSeed
	}
	if f.MockOutput != "" {
		cfg.OutputRule = mock.OutputRule(f.MockOutput)
	}
	return cfg
}

// Parsers of flag values (rules' parse column).

func parseHeaderFlag(_ *builder, v any) error {
	_, err := parseHeaders(v.([]string))
	return err
}

func parseExtraFlag(_ *builder, v any) error {
	_, err := endpoint.ParseExtra(v.([]string))
	return err
}

func parseSessionHeader(_ *builder, v any) error {
	_, err := endpoint.ParseHeaders(v.(string) + ": x")
	return err
}

func parseMockDuration(_ *builder, v any) error {
	_, err := parseMillis(v.(string))
	return err
}

func parseURLs(_ *builder, v any) error {
	for _, u := range v.([]string) {
		if strings.TrimSpace(u) == "" {
			return errors.New("empty URL")
		}
	}
	return nil
}

func parseGrace(_ *builder, v any) error {
	_, err := graceValue(v.(string))
	return err
}

func parseRateSeries(_ *builder, v any) error {
	_, err := rateSeriesArg(v.(string))
	return err
}

// rateSeriesArg reads --request-rate-series: inline JSON (it starts with
// { or [) becomes the points argument, anything else is a file, read and
// checked here and passed on as an absolute path.
func rateSeriesArg(s string) (plugin.Args, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
		rs, err := timing.ParseRateSeries([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("inline series: %v", err)
		}
		pts := make([]any, len(rs.Points))
		for i, p := range rs.Points {
			pts[i] = []any{p.At.Seconds(), p.Rate}
		}
		return plugin.Args{"points": pts}, nil
	}
	abs, err := filepath.Abs(s)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", s, errors.Unwrap(err))
	}
	if _, err := timing.ParseRateSeries(data); err != nil {
		return nil, fmt.Errorf("%s: %v", s, err)
	}
	return plugin.Args{"path": abs}, nil
}

func parseSequence(_ *builder, v any) error {
	_, err := dist.ParseSequence(v.(string))
	return err
}

func parseSampleRate(_ *builder, v any) error {
	s := v.([]string)[0]
	if khz, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil || khz <= 0 {
		return fmt.Errorf("%q is not a sample rate in kHz (e.g. 16)", s)
	}
	return nil
}

func parseDepths(_ *builder, v any) error {
	for _, d := range v.([]string) {
		if strings.TrimSpace(d) != "16" {
			return fmt.Errorf("%s is not supported: loadstar generates 16-bit clips", d)
		}
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
		return clock.Span(v, time.Millisecond)
	}
	d, err := clock.ParseSpan(s)
	if clock.IsTooLong(err) {
		return 0, err
	}
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (milliseconds such as 20, or 20ms, 1.5s)", s)
	}
	return d, nil
}

// graceValue reads a grace period: seconds or "inf".
func graceValue(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "inf", "infinity", "+inf":
		return infiniteGrace, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("%q is not a number of seconds >= 0 or inf", s)
	}
	return clock.Seconds(v)
}
