// Package starplugin runs plugins written in Starlark: a plugin package's
// plugins.yaml names a class `path/to/file.star:symbol`, and this package
// turns it into a plugin.Class whose implementation satisfies the
// category's Go protocol.
//
// The symbol is the plugin's constructor, a top-level def. Its parameters
// are the plugin's own options (keyword arguments of e.g.
// endpoint.my_api(...), next to the category's common ones); it returns a
// struct of the protocol's functions:
//
//	def my_api(temperature = 0.7):
//	    def format_payload(request):
//	        return {"model": request["model"], "prompt": request["text"], "temperature": temperature}
//	    def parse_response(response):
//	        if response["json"]:
//	            return {"text": response["json"].get("text", "")}
//	        return None
//	    return struct(format_payload = format_payload, parse_response = parse_response)
//
// Protocols by category (see docs/plugins.md for the dict shapes):
//
//	endpoint         format_payload(request) -> dict | string
//	                 parse_response(response) -> dict | None
//	arrival_pattern  next_interval(state) -> float   (gap in units of the mean gap)
//	custom_dataset_loader
//	                 convert(record) -> dict | list | None   (one file record to dataset records)
//	                 detect(sample) -> bool                  (optional)
//
// Reading is lazy: Load parses the file (to learn the constructor's
// parameters) and the module runs only when the plugin is first built.
// Check validates a plugin without running any of its code.
//
// Concurrency: module globals and the constructor's result are frozen, so
// the protocol functions run concurrently, each call on its own pooled
// *starlark.Thread with a step budget.
package starplugin

import (
	"fmt"
	"log/slog"
	"sync"

	"go.starlark.net/starlark"

	"github.com/loadstar/loadstar/engine/plugin"
)

// Loader loads Starlark plugin classes; it implements plugin.ScriptLoader.
// Modules are executed at most once per Loader and file.
type Loader struct {
	log     *slog.Logger
	steps   uint64
	mu      sync.Mutex
	modules map[string]*module // by absolute path
}

// Option configures a Loader.
type Option func(*Loader)

// WithCallSteps bounds the execution steps of one protocol call (default
// defaultCallSteps); a call exceeding it fails instead of stalling a run.
func WithCallSteps(n uint64) Option { return func(ld *Loader) { ld.steps = n } }

// defaultCallSteps is the step budget of one protocol call and of one
// module's top level.
const defaultCallSteps = 10_000_000

// NewLoader returns a Loader.
func NewLoader(opts ...Option) *Loader {
	l := &Loader{log: slog.New(slog.DiscardHandler), steps: defaultCallSteps, modules: map[string]*module{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

var _ plugin.ScriptLoader = (*Loader)(nil)

// SetLogger sets where print() of plugin files goes; plugin.NewRegistry
// calls it with the registry's logger. Call it before any plugin is built.
func (l *Loader) SetLogger(log *slog.Logger) { l.log = log }

// Check validates e without executing plugin code: the file (and what it
// loads) parses and resolves, the class symbol is a constructor def, and
// the protocol functions exist with the right number of parameters.
func (l *Loader) Check(e *plugin.Entry) error {
	proto, err := protocolOf(e.Category)
	if err != nil {
		return err
	}
	_, err = analyze(e, proto)
	return err
}

// Load returns the class of e. It parses the file now; the module executes
// when the class's New is first called.
func (l *Loader) Load(e *plugin.Entry) (*plugin.Class, error) {
	proto, err := protocolOf(e.Category)
	if err != nil {
		return nil, err
	}
	a, err := analyze(e, proto)
	if err != nil {
		return nil, err
	}
	var params []plugin.Param
	common := map[string]bool{}
	if proto.common != nil {
		for _, p := range proto.common() {
			common[p.Name] = true
			params = append(params, p)
		}
	}
	for _, p := range a.own {
		if !common[p.Name] {
			params = append(params, p)
		}
	}
	label := plugin.Namespace(e.Category) + "." + e.Name
	c := &plugin.Class{Params: params}
	c.New = func(args plugin.Args) (any, error) {
		impl, err := l.construct(e, a, label, args)
		if err != nil {
			return nil, err
		}
		methods := map[string]starlark.Callable{}
		for i := range proto.methods {
			fn, err := impl.method(&proto.methods[i])
			if err != nil {
				return nil, err
			}
			methods[proto.methods[i].name] = fn
		}
		return proto.adapt(&adaptInput{entry: e, label: label, args: args, given: c.WithoutDefaults(args),
			impl: impl, methods: methods, threads: l.threads(e, label), log: l.log})
	}
	return c, nil
}

// construct runs the module (once) and calls the constructor with the
// arguments it declares, returning its frozen result.
func (l *Loader) construct(e *plugin.Entry, a *analysis, label string, args plugin.Args) (*impl, error) {
	globals, err := l.exec(e.Package.Dir, a.file)
	if err != nil {
		return nil, err
	}
	ctor, ok := globals[a.symbol].(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("%s: %s is not a function after running %s", label, a.symbol, a.file)
	}
	var kwargs []starlark.Tuple
	for _, p := range a.own {
		v := args[p.Name]
		if v == nil { // no value and no literal default: the def's own default applies
			continue
		}
		sv, err := toStarlark(v)
		if err != nil {
			return nil, fmt.Errorf("%s: argument %s: %w", label, p.Name, err)
		}
		kwargs = append(kwargs, starlark.Tuple{starlark.String(p.Name), sv})
	}
	th := l.newThread("construct " + label)
	out, err := starlark.Call(th, ctor, nil, kwargs)
	if err != nil {
		return nil, fmt.Errorf("%s: constructor %s failed: %s", label, a.symbol, describeEvalError(err))
	}
	out.Freeze()
	return &impl{value: out, label: label}, nil
}

// threads returns a pool of threads for protocol calls of one plugin.
func (l *Loader) threads(e *plugin.Entry, label string) *threadPool {
	return &threadPool{name: label, steps: l.steps, print: l.printer(label)}
}

func (l *Loader) printer(label string) func(*starlark.Thread, string) {
	return func(th *starlark.Thread, msg string) {
		pos := ""
		if th.CallStackDepth() > 0 {
			pos = th.CallFrame(1).Pos.String()
		}
		l.log.Info(msg, "plugin", label, "at", pos)
	}
}

func (l *Loader) newThread(name string) *starlark.Thread {
	th := &starlark.Thread{Name: name, Print: l.printer(name)}
	th.SetMaxExecutionSteps(l.steps)
	return th
}

// impl is a constructed plugin: the constructor's frozen result.
type impl struct {
	value starlark.Value
	label string
}

// method returns the callable field name of the result (a struct, a module
// or a dict), checking its arity; nil when absent and optional.
func (im *impl) method(m *method) (starlark.Callable, error) {
	var v starlark.Value
	// A dict also has attributes (its methods get, keys, ...), so it is
	// matched first: its functions are entries, not attributes.
	switch x := im.value.(type) {
	case *starlark.Dict:
		a, found, _ := x.Get(starlark.String(m.name))
		if found {
			v = a
		}
	case starlark.HasAttrs:
		a, err := x.Attr(m.name)
		if err == nil {
			v = a
		}
	default:
		return nil, fmt.Errorf("%s: the constructor must return struct(...) or a dict with %s, got %s", im.label, m.signature(), im.value.Type())
	}
	if v == nil || v == starlark.None {
		if m.optional {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: the constructor's result has no %s", im.label, m.signature())
	}
	fn, ok := v.(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be a function, got %s", im.label, m.name, v.Type())
	}
	if f, ok := fn.(*starlark.Function); ok {
		lo := 0
		for i := 0; i < f.NumParams()-f.NumKwonlyParams(); i++ {
			if f.ParamDefault(i) == nil {
				lo++
			}
		}
		hi := f.NumParams() - f.NumKwonlyParams()
		if f.HasVarargs() {
			hi--
		}
		if f.HasKwargs() {
			hi--
		}
		if m.arity < lo || (m.arity > hi && !f.HasVarargs()) {
			return nil, fmt.Errorf("%s: %s (%s) must take %s", im.label, m.name, f.Position(), describeArity(m.arity, m.args))
		}
	}
	return fn, nil
}

// describeEvalError renders a Starlark error with its backtrace.
func describeEvalError(err error) string {
	if ee, ok := err.(*starlark.EvalError); ok {
		return ee.Backtrace()
	}
	return err.Error()
}
