package mock

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/tokenizer"
)

// Config is everything the mock server can be told. The zero value is a
// zero-latency, fault-free server on a free 127.0.0.1 port; DefaultConfig
// gives AIPerf's mock-server defaults (TTFT 20 ms, ITL 5 ms).
//
// Latency model (see docs/mock.md), with inflight the number of requests
// already in flight when the request arrives and J a lognormal jitter factor
// of mean 1 drawn per request (TTFT) and per token (ITL):
//
//	TTFT  = (TTFT + PrefillPerToken·ISL + TTFTQuad·inflight²) · J
//	ITL_k = (ITL + ITLPerOutputToken·OSL + ITLLin·inflight) · J_k
//
// A stream sends token 0 at TTFT and token k at TTFT + ITL_1 + … + ITL_k,
// scheduled against absolute times from the request's arrival; a
// non-streaming answer is sent at TTFT + ITL_1 + … + ITL_n.
type Config struct {
	// Host is the address to listen on; "" means 127.0.0.1.
	Host string
	// Port is the TCP port; 0 picks a free one (read it back with URL).
	Port int

	// TTFT is the base time to first token.
	TTFT time.Duration
	// ITL is the base inter-token latency.
	ITL time.Duration
	// PrefillPerToken is added to TTFT for every input token (prefill cost).
	PrefillPerToken time.Duration
	// ITLPerOutputToken is added to every ITL for each token of the answer's
	// length (longer answers decode more slowly), as AIPerf's per-OSL term.
	ITLPerOutputToken time.Duration
	// TTFTQuad is multiplied by inflight² and added to TTFT: queueing that
	// grows with load and makes a known saturation point.
	TTFTQuad time.Duration
	// ITLLin is multiplied by inflight and added to every ITL (batching
	// slows decode).
	ITLLin time.Duration
	// Jitter is the sigma of the lognormal factor exp(σZ − σ²/2) (mean 1)
	// applied to TTFT and to each ITL; 0 disables jitter.
	Jitter float64
	// Fast zeroes every latency knob above (faults' stalls still apply).
	Fast bool

	// OutputRule decides answer lengths; "" means OutputExact.
	OutputRule OutputRule
	// DefaultOutputTokens is the answer length when a request names no
	// maximum (OutputExact); 0 means 64.
	DefaultOutputTokens int
	// ReasoningTokens is the number of reasoning tokens a reasoning model
	// emits before its answer; 0 means by reasoning effort (low 100,
	// medium 250 — the default —, high 500). Reasoning never takes more than
	// half of the output budget.
	ReasoningTokens int
	// ReasoningModels are case-insensitive substrings of model names that
	// make a model a reasoning model; nil means defaultReasoningModels.
	ReasoningModels []string

	// Seed makes every random choice reproducible: output text (a function
	// of the seed and the prompt), jitter, fault draws and ids (functions of
	// the seed and the request's arrival number).
	Seed int64

	// InputTokenizer counts input tokens for usage and prefill; nil counts
	// about 4 characters per token as AIPerf's mock does.
	InputTokenizer tokenizer.Tokenizer

	// Faults are per-request probabilities of injected failures.
	Faults FaultRates
	// ErrorStatus is the status of FaultServerError; 0 means 500.
	ErrorStatus int
	// RetryAfter is announced by FaultRateLimit; 0 means 1 s.
	RetryAfter time.Duration
	// StallFor is how long the stall faults stall (cut short when the
	// client disconnects or the server closes); 0 means 10 s.
	StallFor time.Duration
	// OversizeBytes is the minimum body (or first SSE event) size of
	// FaultOversized; 0 means 1 MiB.
	OversizeBytes int

	// MaxRunning caps the requests running at once (vLLM's max_num_seqs);
	// more wait in a FIFO queue, reported as vllm:num_requests_waiting.
	// 0 means no cap.
	MaxRunning int
	// KVCacheTokens is the KV cache's capacity in tokens; 0 means
	// DefaultKVCacheTokens. A request runs only while the cache can hold
	// the prompts and answers of every running request; one that has to
	// wait for room is counted in vllm:num_preemptions (docs/mock.md).
	KVCacheTokens int
	// GPUs > 0 serves a DCGM-exporter-like GPU telemetry endpoint at
	// /dcgm/metrics with that many GPUs, driven by the engine's load.
	GPUs int

	// Record, when set, receives one JSON line per received request
	// (credentials redacted).
	Record io.Writer
	// Models are listed by GET /v1/models (with every model seen in a
	// request); nil means ["mock-model"].
	Models []string
	// Logger receives start/stop and error messages; nil discards them.
	Logger *slog.Logger
}

// OutputRule names how the mock picks the length of an answer.
type OutputRule string

const (
	// OutputExact answers with exactly the requested maximum (max_tokens,
	// max_completion_tokens, max_new_tokens, max_output_tokens) and finish
	// reason "length"; with no maximum, DefaultOutputTokens and "stop".
	OutputExact OutputRule = "exact"
	// OutputAIPerf is AIPerf's mock rule: a length drawn (from the prompt)
	// between max(1, 0.8·ISL) and the maximum (no maximum: up to
	// min(1.2·ISL, max(2·ISL, 16))); finish "length" only when the maximum is
	// reached. ignore_eos gives exactly the maximum.
	OutputAIPerf OutputRule = "aiperf"
)

// defaultReasoningModels are the model-name substrings that make a model
// a reasoning model when Config.ReasoningModels is nil.
var defaultReasoningModels = []string{"reason", "r1", "think", "qwq", "gpt-oss"}

// FaultRates are per-request probabilities, each in [0, 1], summing to at
// most 1. One uniform draw per inference request picks at most one fault.
type FaultRates struct {
	ServerError        float64 // HTTP ErrorStatus (500) with an error body
	RateLimit          float64 // HTTP 429 with Retry-After
	StallBeforeHeaders float64 // nothing is sent for StallFor, then the answer
	CloseMidStream     float64 // the connection closes halfway through the body
	StallMidStream     float64 // the body pauses for StallFor halfway through
	MalformedChunk     float64 // an invalid SSE event (truncated JSON body when not streaming)
	Oversized          float64 // a body (first SSE event) of at least OversizeBytes
}

// Fault names one injected failure; docs/mock.md tells what each does on the wire.
type Fault string

// The faults, in the order of the cumulative draw.
const (
	FaultNone               Fault = ""
	FaultServerError        Fault = "server_error"
	FaultRateLimit          Fault = "rate_limit"
	FaultStallBeforeHeaders Fault = "stall_before_headers"
	FaultCloseMidStream     Fault = "close_mid_stream"
	FaultStallMidStream     Fault = "stall_mid_stream"
	FaultMalformedChunk     Fault = "malformed_chunk"
	FaultOversized          Fault = "oversized_body"
)

// Faults lists every fault, in draw order.
var Faults = []Fault{
	FaultServerError, FaultRateLimit, FaultStallBeforeHeaders, FaultCloseMidStream,
	FaultStallMidStream, FaultMalformedChunk, FaultOversized,
}

// FaultHeader forces one fault on a request ("none" forces none), whatever
// the rates: a dataset's per-turn extra headers can target one request.
const FaultHeader = "X-Mock-Fault"

// Rate returns the probability of fault k (0 for FaultNone).
func (f FaultRates) Rate(k Fault) float64 {
	if p := f.field(k); p != nil {
		return *p
	}
	return 0
}

// Set sets the probability of fault k; FaultNone is ignored.
func (f *FaultRates) Set(k Fault, p float64) {
	if q := f.field(k); q != nil {
		*q = p
	}
}

// field is the one mapping from a Fault to its rate.
func (f *FaultRates) field(k Fault) *float64 {
	switch k {
	case FaultServerError:
		return &f.ServerError
	case FaultRateLimit:
		return &f.RateLimit
	case FaultStallBeforeHeaders:
		return &f.StallBeforeHeaders
	case FaultCloseMidStream:
		return &f.CloseMidStream
	case FaultStallMidStream:
		return &f.StallMidStream
	case FaultMalformedChunk:
		return &f.MalformedChunk
	case FaultOversized:
		return &f.Oversized
	}
	return nil
}

// ParseFault converts a fault name (as in FaultHeader) to a Fault.
func ParseFault(name string) (Fault, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "none" || n == "" {
		return FaultNone, nil
	}
	for _, f := range Faults {
		if string(f) == n {
			return f, nil
		}
	}
	return FaultNone, fmt.Errorf("unknown fault %q (expected none or one of %s)", name, faultNames())
}

func faultNames() string {
	s := make([]string, len(Faults))
	for i, f := range Faults {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

// DefaultConfig returns AIPerf's mock-server defaults: TTFT 20 ms, ITL 5 ms.
func DefaultConfig() Config {
	return Config{TTFT: 20 * time.Millisecond, ITL: 5 * time.Millisecond}
}

// An Option adjusts a Config; Start applies options after the Config.
type Option func(*Config)

// WithAddr sets the host and port (port 0 picks a free port).
func WithAddr(host string, port int) Option {
	return func(c *Config) { c.Host, c.Port = host, port }
}

// WithLatency sets the base TTFT and ITL.
func WithLatency(ttft, itl time.Duration) Option {
	return func(c *Config) { c.TTFT, c.ITL = ttft, itl }
}

// WithJitter sets the lognormal sigma of latency jitter.
func WithJitter(sigma float64) Option { return func(c *Config) { c.Jitter = sigma } }

// WithFast zeroes every latency.
func WithFast() Option { return func(c *Config) { c.Fast = true } }

// WithSeed sets the seed of every random choice.
func WithSeed(seed int64) Option { return func(c *Config) { c.Seed = seed } }

// WithFaults sets the fault probabilities.
func WithFaults(f FaultRates) Option { return func(c *Config) { c.Faults = f } }

// Resolved returns the configuration the server runs with: the "0 means"
// defaults filled in and every field checked. Start calls it; documentation
// reads the effective defaults from DefaultConfig().Resolved().
func (c Config) Resolved() (Config, error) {
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	if c.Port < 0 || c.Port > 65535 {
		return c, fmt.Errorf("port: %d is out of range (expected 0 to 65535; 0 picks a free port)", c.Port)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ttft", c.TTFT}, {"itl", c.ITL}, {"prefill_per_token", c.PrefillPerToken},
		{"itl_per_output_token", c.ITLPerOutputToken}, {"ttft_quad", c.TTFTQuad},
		{"itl_lin", c.ITLLin}, {"retry_after", c.RetryAfter}, {"stall_for", c.StallFor},
	} {
		if d.v < 0 {
			return c, fmt.Errorf("%s: %v is negative (expected a duration >= 0)", d.name, d.v)
		}
	}
	if c.Jitter < 0 || math.IsNaN(c.Jitter) || c.Jitter > 3 {
		return c, fmt.Errorf("jitter: %v is out of range (expected a lognormal sigma between 0 and 3)", c.Jitter)
	}
	if c.Fast {
		c.TTFT, c.ITL, c.PrefillPerToken, c.ITLPerOutputToken, c.TTFTQuad, c.ITLLin = 0, 0, 0, 0, 0, 0
	}
	switch c.OutputRule {
	case "":
		c.OutputRule = OutputExact
	case OutputExact, OutputAIPerf:
	default:
		return c, fmt.Errorf("output_rule: %q is unknown (expected %q or %q)", c.OutputRule, OutputExact, OutputAIPerf)
	}
	if c.DefaultOutputTokens < 0 {
		return c, fmt.Errorf("default_output_tokens: %d is negative", c.DefaultOutputTokens)
	}
	if c.DefaultOutputTokens == 0 {
		c.DefaultOutputTokens = 64
	}
	if c.ReasoningTokens < 0 {
		return c, fmt.Errorf("reasoning_tokens: %d is negative", c.ReasoningTokens)
	}
	if c.ReasoningModels == nil {
		c.ReasoningModels = defaultReasoningModels
	}
	sum := 0.0
	for _, f := range Faults {
		r := c.Faults.Rate(f)
		if r < 0 || r > 1 || math.IsNaN(r) {
			return c, fmt.Errorf("fault %s: probability %v is out of range (expected 0 to 1)", f, r)
		}
		sum += r
	}
	if sum > 1+1e-9 {
		return c, fmt.Errorf("faults: probabilities sum to %v (expected at most 1: one draw picks at most one fault per request)", sum)
	}
	if c.ErrorStatus == 0 {
		c.ErrorStatus = 500
	}
	if c.ErrorStatus < 500 || c.ErrorStatus > 599 {
		return c, fmt.Errorf("error_status: %d is not a 5xx status (expected 500 to 599)", c.ErrorStatus)
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = time.Second
	}
	if c.StallFor == 0 {
		c.StallFor = 10 * time.Second
	}
	if c.OversizeBytes < 0 {
		return c, fmt.Errorf("oversize_bytes: %d is negative", c.OversizeBytes)
	}
	if c.OversizeBytes == 0 {
		c.OversizeBytes = 1 << 20
	}
	if len(c.Models) == 0 {
		c.Models = []string{"mock-model"}
	}
	if c.MaxRunning < 0 {
		return c, fmt.Errorf("max_running: %d is negative (expected 0 for no cap, or a request count)", c.MaxRunning)
	}
	if c.KVCacheTokens < 0 {
		return c, fmt.Errorf("kv_cache_tokens: %d is negative", c.KVCacheTokens)
	}
	if c.KVCacheTokens == 0 {
		c.KVCacheTokens = DefaultKVCacheTokens
	}
	if c.GPUs < 0 || c.GPUs > 64 {
		return c, fmt.Errorf("gpus: %d is out of range (expected 0 to 64)", c.GPUs)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// paced reports whether any latency is non-zero: streams then flush every
// token on time; otherwise they are written in large batches.
func (c *Config) paced() bool {
	return c.TTFT > 0 || c.ITL > 0 || c.PrefillPerToken > 0 || c.ITLPerOutputToken > 0 ||
		c.TTFTQuad > 0 || c.ITLLin > 0
}
