package builtins

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/interp"
)

// mockOption is one keyword argument of mock.server(): its documentation,
// how it sets the mock.Config and how the config's value is shown. The one
// table feeds both the parser and `loadstar doc`, and each documented
// default is read from mock.DefaultConfig().
type mockOption struct {
	name, typ, doc string
	set            func(c *mock.Config, v starlark.Value) error
	show           func(c *mock.Config) string
}

// mockOptions are the keyword arguments of mock.server(), in doc order.
func mockOptions() []mockOption {
	dur := func(name, doc string, field func(*mock.Config) *time.Duration) mockOption {
		return mockOption{name: name, typ: "duration", doc: doc,
			set: func(c *mock.Config, v starlark.Value) (err error) {
				*field(c), err = asDuration(v, name)
				return err
			},
			show: func(c *mock.Config) string { return durationLiteral(*field(c)) }}
	}
	integer := func(name, doc string, field func(*mock.Config) *int) mockOption {
		return mockOption{name: name, typ: "int", doc: doc,
			set: func(c *mock.Config, v starlark.Value) (err error) {
				*field(c), err = intValue(v)
				return err
			},
			show: func(c *mock.Config) string { return strconv.Itoa(*field(c)) }}
	}
	return []mockOption{
		dur("ttft", "Base time to first token.", func(c *mock.Config) *time.Duration { return &c.TTFT }),
		dur("itl", "Base inter-token latency.", func(c *mock.Config) *time.Duration { return &c.ITL }),
		dur("prefill_per_token", "Added to TTFT per input token.", func(c *mock.Config) *time.Duration { return &c.PrefillPerToken }),
		dur("itl_per_output_token", "Added to every ITL per token of the answer's length.", func(c *mock.Config) *time.Duration { return &c.ITLPerOutputToken }),
		dur("ttft_quad", "Times inflight² added to TTFT: queueing that makes a known saturation point.", func(c *mock.Config) *time.Duration { return &c.TTFTQuad }),
		dur("itl_lin", "Times inflight added to every ITL (batching slows decode).", func(c *mock.Config) *time.Duration { return &c.ITLLin }),
		{name: "jitter", typ: "float", doc: "Sigma of the mean-1 lognormal factor on TTFT and each ITL.",
			set: func(c *mock.Config, v starlark.Value) error {
				f, ok := starlark.AsFloat(v)
				if !ok || f < 0 {
					return fmt.Errorf("want a number >= 0, got %s", v)
				}
				c.Jitter = f
				return nil
			},
			show: func(c *mock.Config) string { return strconv.FormatFloat(c.Jitter, 'g', -1, 64) }},
		{name: "fast", typ: "bool", doc: "Zero every latency (throughput tests).",
			set: func(c *mock.Config, v starlark.Value) error {
				b, ok := v.(starlark.Bool)
				if !ok {
					return fmt.Errorf("want True or False, got %s", v.Type())
				}
				c.Fast = bool(b)
				return nil
			},
			show: func(c *mock.Config) string { return starlark.Bool(c.Fast).String() }},
		{name: "output", typ: "string", doc: "Answer length rule: \"exact\" (the requested max tokens, else output_tokens) or \"aiperf\" (AIPerf's mock rule).",
			set: func(c *mock.Config, v starlark.Value) error {
				s, _ := starlark.AsString(v)
				switch mock.OutputRule(s) {
				case mock.OutputExact, mock.OutputAIPerf:
					c.OutputRule = mock.OutputRule(s)
					return nil
				}
				return fmt.Errorf("want \"exact\" or \"aiperf\", got %s", v)
			},
			show: func(c *mock.Config) string { return starlark.String(c.OutputRule).String() }},
		integer("output_tokens", "Answer length when a request names no maximum.", func(c *mock.Config) *int { return &c.DefaultOutputTokens }),
		{name: "reasoning_tokens", typ: "int", doc: "Reasoning tokens a reasoning model (name containing reason, r1, think, qwq, ...) emits first.",
			set: func(c *mock.Config, v starlark.Value) (err error) {
				c.ReasoningTokens, err = intValue(v)
				return err
			},
			show: func(c *mock.Config) string {
				if c.ReasoningTokens == 0 {
					return "by effort"
				}
				return strconv.Itoa(c.ReasoningTokens)
			}},
		{name: "seed", typ: "int", doc: "Makes text, jitter and faults reproducible.",
			set: func(c *mock.Config, v starlark.Value) error {
				n, err := intValue(v)
				c.Seed = int64(n)
				return err
			},
			show: func(c *mock.Config) string { return strconv.FormatInt(c.Seed, 10) }},
		{name: "faults", typ: "dict", doc: "Per-request fault probabilities by name: " + strings.Join(faultNames(), ", ") + ".",
			set:  func(c *mock.Config, v starlark.Value) error { return applyFaults(&c.Faults, v) },
			show: showFaults},
		integer("error_status", "HTTP status of the server_error fault.", func(c *mock.Config) *int { return &c.ErrorStatus }),
		dur("stall_for", "How long the stall faults stall.", func(c *mock.Config) *time.Duration { return &c.StallFor }),
		integer("max_running", "Requests running at once (vLLM's max_num_seqs); more wait in a queue. 0 = no cap.", func(c *mock.Config) *int { return &c.MaxRunning }),
		integer("kv_cache_tokens", "KV-cache capacity in tokens; a request runs only while the cache holds every running prompt and answer (else it waits and counts as preempted).", func(c *mock.Config) *int { return &c.KVCacheTokens }),
		integer("gpus", "Serve DCGM-like GPU telemetry for this many GPUs at /dcgm/metrics (0 = none).", func(c *mock.Config) *int { return &c.GPUs }),
		{name: "models", typ: "list[string]", doc: "Models listed by GET /v1/models.",
			set: func(c *mock.Config, v starlark.Value) (err error) {
				c.Models, err = stringList(v)
				return err
			},
			show: func(c *mock.Config) string { return plugin.FormatValue("models", c.Models) }},
	}
}

// MockKwargs are the keyword arguments of mock.server(), in doc order,
// with the defaults the server runs with.
func MockKwargs() []Kwarg {
	defaults, err := mock.DefaultConfig().Resolved()
	if err != nil {
		panic(err) // the defaults are valid: TestMockKwargsDefaults
	}
	var out []Kwarg
	for _, o := range mockOptions() {
		out = append(out, Kwarg{Name: o.name, Type: o.typ, Default: o.show(&defaults), Doc: o.doc})
	}
	return out
}

// durationLiteral renders d as mock.server() takes it: "20ms", "0".
func durationLiteral(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return d.String()
}

// faultNames lists the fault names mock.server(faults=...) takes.
func faultNames() []string {
	out := make([]string, len(mock.Faults))
	for i, f := range mock.Faults {
		out[i] = string(f)
	}
	return out
}

// showFaults renders the non-zero fault rates as a dict literal.
func showFaults(c *mock.Config) string {
	var parts []string
	for _, f := range mock.Faults {
		if p := c.Faults.Rate(f); p != 0 {
			parts = append(parts, fmt.Sprintf("%q: %s", f, strconv.FormatFloat(p, 'g', -1, 64)))
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// mockServer implements mock.server(**kwargs): starts the embedded mock LLM
// server on a free 127.0.0.1 port for the rest of the script and returns
// struct(url, gpu_url, stats(), close()); gpu_url is its DCGM-like GPU
// exporter (None without gpus=).
func mockServer(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	env, err := envOf(thread)
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
	options := map[string]mockOption{}
	for _, o := range mockOptions() {
		options[o.name] = o
	}
	for _, kv := range kwargs {
		name := string(kv[0].(starlark.String))
		o, ok := options[name]
		if !ok {
			names := make([]string, 0, len(options))
			for n := range options {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, unknownArg(fn.Name(), name, names)
		}
		if err := o.set(&cfg, kv[1]); err != nil {
			return nil, bad(name, err)
		}
	}
	// The server lives until the script ends (env.Close), not until
	// Ctrl-C: the interrupted run's requests in flight are then recorded
	// as cancelled by the client, not as connections the server dropped.
	srv, err := mock.Start(context.WithoutCancel(interp.ContextOf(thread)), cfg)
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
	var gpuURL starlark.Value = starlark.None
	if cfg.GPUs > 0 {
		gpuURL = starlark.String(srv.URL() + "/dcgm/metrics")
	}
	return starlarkstruct.FromStringDict(starlark.String("mock_server"), starlark.StringDict{
		"url": starlark.String(srv.URL()), "gpu_url": gpuURL, "stats": stats, "close": closeFn,
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
			return fmt.Errorf("faults: unknown fault %q (want %s)", name, strings.Join(faultNames(), ", "))
		}
		f.Set(fault, p)
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
