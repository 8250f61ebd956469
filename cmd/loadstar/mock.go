package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/mock"
)

// MockCmd runs the embedded mock LLM server until Ctrl-C / SIGTERM.
// docs/mock.md documents every flag.
type MockCmd struct {
	Host string `help:"Address to listen on." default:"127.0.0.1"`
	Port int    `help:"TCP port; 0 picks a free port." default:"8000"`

	TTFT              Millis  `name:"ttft" help:"Base time to first token (ms, or a duration such as 20ms)." default:"20"`
	ITL               Millis  `name:"itl" help:"Base inter-token latency (ms or duration)." default:"5"`
	PrefillPerToken   Millis  `help:"TTFT added per input token (ms or duration)." default:"0"`
	ITLPerOutputToken Millis  `help:"ITL added per token of the answer's length (ms or duration)." default:"0"`
	TTFTQuad          Millis  `name:"ttft-quad" help:"TTFT added per in-flight request squared: quad·inflight² (ms or duration)." default:"0"`
	ITLLin            Millis  `name:"itl-lin" help:"ITL added per in-flight request: lin·inflight (ms or duration)." default:"0"`
	Jitter            float64 `help:"Sigma of the lognormal latency jitter (mean 1); 0 disables." default:"0"`
	Fast              bool    `help:"Zero every latency (stall faults still stall)."`

	OutputRule          string   `help:"Answer length rule: exact (the requested maximum) or aiperf (AIPerf's mock rule)." default:"exact" enum:"exact,aiperf"`
	DefaultOutputTokens int      `help:"Answer length when a request names no maximum (exact rule)." default:"64"`
	ReasoningTokens     int      `help:"Reasoning tokens of reasoning models; 0 = by reasoning effort (low 100, medium 250, high 500)." default:"0"`
	ReasoningModels     []string `help:"Model-name substrings that make a reasoning model (default: reason,r1,think,qwq,gpt-oss)."`
	Tokenizer           string   `help:"Input token counting: chars (~4 characters per token), o200k_base or cl100k_base." default:"chars" enum:"chars,o200k_base,cl100k_base"`
	Seed                int64    `help:"Seed of every random choice (text, jitter, faults)." default:"0"`
	Models              []string `name:"model" help:"Model names listed by /v1/models (repeatable)."`

	ErrorRate     Probability `help:"Probability (0-1 or N%) of an HTTP 5xx answer." default:"0"`
	ErrorStatus   int         `help:"Status of injected server errors." default:"500"`
	RateLimitRate Probability `help:"Probability of an HTTP 429 answer with Retry-After." default:"0"`
	RetryAfter    Millis      `help:"Retry-After of injected 429s (ms or duration)." default:"1s"`
	StallRate     Probability `name:"stall-headers-rate" help:"Probability of a stall before the response headers." default:"0"`
	CloseRate     Probability `name:"close-rate" help:"Probability of closing the connection halfway through the body." default:"0"`
	StallMidRate  Probability `name:"stall-stream-rate" help:"Probability of a stall halfway through the body." default:"0"`
	StallFor      Millis      `help:"How long the stall faults stall (ms or duration)." default:"10s"`
	MalformedRate Probability `help:"Probability of a malformed SSE event (truncated JSON body when not streaming)." default:"0"`
	OversizeRate  Probability `help:"Probability of an oversized body (first SSE event when streaming)." default:"0"`
	OversizeBytes int         `help:"Minimum size of an oversized body, in bytes." default:"1048576"`
	Record        string      `help:"Write every received request as a JSON line to FILE (credentials redacted)." type:"path" placeholder:"FILE"`

	MaxRunning    int `help:"Requests running at once (vLLM's max_num_seqs); more wait in a queue. 0 = no cap." default:"0"`
	KVCacheTokens int `name:"kv-cache-tokens" help:"KV-cache capacity in tokens; a request runs only while the cache holds every running prompt and answer." default:"1048576"`
	GPUs          int `name:"gpus" help:"Serve DCGM-like GPU telemetry for this many GPUs at /dcgm/metrics (0 = none)." default:"0"`
}

// Run implements the command: it serves until SIGINT or SIGTERM.
func (c *MockCmd) Run(app *App) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return c.serve(ctx, app)
}

// serve runs the server until ctx is done; tests call it with their own ctx.
// The first line on stdout is the URL the server listens on.
func (c *MockCmd) serve(ctx context.Context, app *App) error {
	cfg, closeRecord, err := c.config(app)
	if err != nil {
		return err
	}
	defer closeRecord()
	srv, err := mock.Start(ctx, cfg)
	if err != nil {
		return errext.WithExitCode(err, errext.InvalidConfig)
	}
	fmt.Fprintln(app.Stdout, srv.URL())
	app.Logger.Info("mock server listening", "url", srv.URL(), "ttft", cfg.TTFT, "itl", cfg.ITL, "fast", cfg.Fast, "seed", cfg.Seed)
	select {
	case <-ctx.Done():
		srv.Close()
	case <-srv.Done():
	}
	if err := srv.Err(); err != nil {
		return errext.Errorf(errext.Generic, "mock server: %v", err)
	}
	return nil
}

// config turns the flags into a mock.Config; closeRecord closes the record file.
func (c *MockCmd) config(app *App) (mock.Config, func(), error) {
	cfg := mock.Config{
		Host: c.Host, Port: c.Port,
		TTFT: time.Duration(c.TTFT), ITL: time.Duration(c.ITL),
		PrefillPerToken: time.Duration(c.PrefillPerToken), ITLPerOutputToken: time.Duration(c.ITLPerOutputToken),
		TTFTQuad: time.Duration(c.TTFTQuad), ITLLin: time.Duration(c.ITLLin),
		Jitter: c.Jitter, Fast: c.Fast,
		OutputRule: mock.OutputRule(c.OutputRule), DefaultOutputTokens: c.DefaultOutputTokens,
		ReasoningTokens: c.ReasoningTokens, ReasoningModels: c.ReasoningModels,
		Seed: c.Seed, Models: c.Models,
		Faults: mock.FaultRates{
			ServerError: float64(c.ErrorRate), RateLimit: float64(c.RateLimitRate),
			StallBeforeHeaders: float64(c.StallRate), CloseMidStream: float64(c.CloseRate),
			StallMidStream: float64(c.StallMidRate), MalformedChunk: float64(c.MalformedRate),
			Oversized: float64(c.OversizeRate),
		},
		ErrorStatus: c.ErrorStatus, RetryAfter: time.Duration(c.RetryAfter),
		StallFor: time.Duration(c.StallFor), OversizeBytes: c.OversizeBytes,
		MaxRunning: c.MaxRunning, KVCacheTokens: c.KVCacheTokens, GPUs: c.GPUs,
		Logger: app.Logger,
	}
	if c.Tokenizer != "chars" {
		tok, err := mock.Tiktoken(c.Tokenizer)
		if err != nil {
			return cfg, nil, errext.WithExitCode(fmt.Errorf("--tokenizer: %w", err), errext.Usage)
		}
		cfg.InputTokenizer = tok
	}
	closeRecord := func() {}
	if c.Record != "" {
		f, err := os.OpenFile(c.Record, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return cfg, nil, errext.WithExitCode(fmt.Errorf("--record: %w", err), errext.InvalidConfig)
		}
		cfg.Record = f
		closeRecord = func() { f.Close() }
	}
	return cfg, closeRecord, nil
}

// Millis is a duration flag that also takes a bare number of milliseconds,
// as AIPerf's mock server does ("--ttft 20" = 20 ms).
type Millis time.Duration

// Decode implements kong.MapperValue.
func (m *Millis) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("duration", &s); err != nil {
		return err
	}
	d, err := parseMillis(s)
	if err != nil {
		return fmt.Errorf("--%s: %w", ctx.Value.Name, err)
	}
	*m = Millis(d)
	return nil
}

func parseMillis(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 {
			return 0, fmt.Errorf("%q is negative (expected milliseconds >= 0 or a duration such as 20ms)", s)
		}
		return clock.Span(f, time.Millisecond)
	}
	d, err := clock.ParseSpan(s)
	if clock.IsTooLong(err) {
		return 0, err
	}
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (expected milliseconds such as 20, or a duration such as 20ms or 1.5s)", s)
	}
	return d, nil
}

// Probability is a flag in [0, 1] that also takes a percentage ("10%").
type Probability float64

// Decode implements kong.MapperValue.
func (p *Probability) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("probability", &s); err != nil {
		return err
	}
	v, err := parseProbability(s)
	if err != nil {
		return fmt.Errorf("--%s: %w", ctx.Value.Name, err)
	}
	*p = Probability(v)
	return nil
}

func parseProbability(s string) (float64, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err == nil && pct {
		f /= 100
	}
	if err != nil || f < 0 || f > 1 {
		return 0, fmt.Errorf("%q is not a probability (expected a number from 0 to 1, or a percentage such as 10%%)", s)
	}
	return f, nil
}
