package builtins

import (
	"fmt"
	"sort"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/interp"
)

// MockKwargs are the keyword arguments of mock.server(), in doc order.
func MockKwargs() []Kwarg {
	return []Kwarg{
		{Name: "ttft", Type: "duration", Default: "20ms", Doc: "Base time to first token."},
		{Name: "itl", Type: "duration", Default: "5ms", Doc: "Base inter-token latency."},
		{Name: "prefill_per_token", Type: "duration", Default: "0", Doc: "Added to TTFT per input token."},
		{Name: "itl_per_output_token", Type: "duration", Default: "0", Doc: "Added to every ITL per token of the answer's length."},
		{Name: "ttft_quad", Type: "duration", Default: "0", Doc: "Times inflight² added to TTFT: queueing that makes a known saturation point."},
		{Name: "itl_lin", Type: "duration", Default: "0", Doc: "Times inflight added to every ITL (batching slows decode)."},
		{Name: "jitter", Type: "float", Default: "0", Doc: "Sigma of the mean-1 lognormal factor on TTFT and each ITL."},
		{Name: "fast", Type: "bool", Default: "False", Doc: "Zero every latency (throughput tests)."},
		{Name: "output", Type: "string", Default: "\"exact\"", Doc: "Answer length rule: \"exact\" (the requested max tokens, else output_tokens) or \"aiperf\" (AIPerf's mock rule)."},
		{Name: "output_tokens", Type: "int", Default: "64", Doc: "Answer length when a request names no maximum."},
		{Name: "reasoning_tokens", Type: "int", Default: "by effort", Doc: "Reasoning tokens a reasoning model (name containing reason, r1, think, qwq, ...) emits first."},
		{Name: "seed", Type: "int", Default: "0", Doc: "Makes text, jitter and faults reproducible."},
		{Name: "faults", Type: "dict", Default: "{}", Doc: "Per-request fault probabilities by name: server_error, rate_limit, stall_before_headers, close_mid_stream, stall_mid_stream, malformed_chunk, oversized_body."},
		{Name: "error_status", Type: "int", Default: "500", Doc: "HTTP status of the server_error fault."},
		{Name: "stall_for", Type: "duration", Default: "10s", Doc: "How long the stall faults stall."},
		{Name: "models", Type: "list[string]", Default: "[\"mock-model\"]", Doc: "Models listed by GET /v1/models."},
	}
}

// mockServer implements mock.server(**kwargs): starts the embedded mock LLM
// server on a free 127.0.0.1 port for the rest of the script and returns
// struct(url, stats(), close()).
func mockServer(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := EnvOf(thread)
	if err != nil {
		return nil, err
	}
	if len(args) > 0 {
		return nil, fmt.Errorf("%s: takes keyword arguments only", fn.Name())
	}
	cfg := mock.DefaultConfig()
	cfg.Logger = env.Logger
	bad := func(name string, err error) error {
		return errext.Errorf(errext.InvalidConfig, "%s: %s: %v", fn.Name(), name, err)
	}
	for _, kv := range kwargs {
		name := string(kv[0].(starlark.String))
		v := kv[1]
		dur := func(dst *time.Duration) error {
			d, err := AsDuration(v, name)
			if err != nil {
				return err
			}
			*dst = d
			return nil
		}
		var err error
		switch name {
		case "ttft":
			err = dur(&cfg.TTFT)
		case "itl":
			err = dur(&cfg.ITL)
		case "prefill_per_token":
			err = dur(&cfg.PrefillPerToken)
		case "itl_per_output_token":
			err = dur(&cfg.ITLPerOutputToken)
		case "ttft_quad":
			err = dur(&cfg.TTFTQuad)
		case "itl_lin":
			err = dur(&cfg.ITLLin)
		case "stall_for":
			err = dur(&cfg.StallFor)
		case "jitter":
			f, ok := starlark.AsFloat(v)
			if !ok || f < 0 {
				err = fmt.Errorf("want a number >= 0, got %s", v)
			}
			cfg.Jitter = f
		case "fast":
			b, ok := v.(starlark.Bool)
			if !ok {
				err = fmt.Errorf("want True or False, got %s", v.Type())
			}
			cfg.Fast = bool(b)
		case "output":
			s, _ := starlark.AsString(v)
			switch mock.OutputRule(s) {
			case mock.OutputExact, mock.OutputAIPerf:
				cfg.OutputRule = mock.OutputRule(s)
			default:
				err = fmt.Errorf("want \"exact\" or \"aiperf\", got %s", v)
			}
		case "output_tokens":
			cfg.DefaultOutputTokens, err = intValue(v)
		case "reasoning_tokens":
			cfg.ReasoningTokens, err = intValue(v)
		case "error_status":
			cfg.ErrorStatus, err = intValue(v)
		case "seed":
			var n int
			n, err = intValue(v)
			cfg.Seed = int64(n)
		case "models":
			var l []string
			l, err = stringList(v)
			cfg.Models = l
		case "faults":
			err = applyFaults(&cfg.Faults, v)
		default:
			var names []string
			for _, k := range MockKwargs() {
				names = append(names, k.Name)
			}
			sort.Strings(names)
			return nil, errext.Errorf(errext.InvalidConfig, "%s: unknown argument %q; accepted: %v", fn.Name(), name, names)
		}
		if err != nil {
			return nil, bad(name, err)
		}
	}
	srv, err := mock.Start(interp.ContextOf(thread), cfg)
	if err != nil {
		return nil, bad("start", err)
	}
	env.OnClose(func() { _ = srv.Close() })
	stats := starlark.NewBuiltin("stats", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		st := srv.Stats()
		byPath := starlark.NewDict(len(st.Requests))
		total := int64(0)
		for p, n := range st.Requests {
			_ = byPath.SetKey(starlark.String(p), starlark.MakeInt64(n))
			total += n
		}
		return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
			"requests": starlark.MakeInt64(total), "by_path": byPath,
			"max_in_flight":     starlark.MakeInt64(st.MaxInFlight),
			"prompt_tokens":     starlark.MakeInt64(st.PromptTokens),
			"completion_tokens": starlark.MakeInt64(st.CompletionTokens),
		}), nil
	})
	closeFn := starlark.NewBuiltin("close", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return starlark.None, srv.Close()
	})
	return starlarkstruct.FromStringDict(starlark.String("mock_server"), starlark.StringDict{
		"url": starlark.String(srv.URL()), "stats": stats, "close": closeFn,
	}), nil
}

func applyFaults(f *mock.FaultRates, v starlark.Value) error {
	items, err := dictItems(v, "faults")
	if err != nil {
		return err
	}
	for _, kv := range items {
		name, _ := starlark.AsString(kv[0])
		p, ok := starlark.AsFloat(kv[1])
		if !ok || p < 0 || p > 1 {
			return fmt.Errorf("faults[%q]: want a probability in [0, 1], got %s", name, kv[1])
		}
		fault, err := mock.ParseFault(name)
		if err != nil || fault == mock.FaultNone {
			return fmt.Errorf("faults: unknown fault %q (want server_error, rate_limit, stall_before_headers, close_mid_stream, stall_mid_stream, malformed_chunk, oversized_body)", name)
		}
		switch fault {
		case mock.FaultServerError:
			f.ServerError = p
		case mock.FaultRateLimit:
			f.RateLimit = p
		case mock.FaultStallBeforeHeaders:
			f.StallBeforeHeaders = p
		case mock.FaultCloseMidStream:
			f.CloseMidStream = p
		case mock.FaultStallMidStream:
			f.StallMidStream = p
		case mock.FaultMalformedChunk:
			f.MalformedChunk = p
		case mock.FaultOversized:
			f.Oversized = p
		}
	}
	return nil
}

func stringList(v starlark.Value) ([]string, error) {
	l, ok := v.(*starlark.List)
	if !ok {
		if s, ok := starlark.AsString(v); ok {
			return []string{s}, nil
		}
		return nil, fmt.Errorf("want a list of strings, got %s", v.Type())
	}
	out := make([]string, l.Len())
	for i := range out {
		s, ok := starlark.AsString(l.Index(i))
		if !ok {
			return nil, fmt.Errorf("item %d: want a string, got %s", i, l.Index(i).Type())
		}
		out[i] = s
	}
	return out, nil
}

func mockModule() *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "mock", Members: starlark.StringDict{
		"server": starlark.NewBuiltin("mock.server", mockServer),
	}}
}
