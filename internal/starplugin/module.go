package starplugin

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"go.starlark.net/lib/json"
	"go.starlark.net/lib/math"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// predeclared are the names every plugin module sees besides Starlark's
// universe: struct, json and math (the scenario API's plugin namespaces
// are not available inside plugins).
var predeclared = starlark.StringDict{
	"struct": starlark.NewBuiltin("struct", starlarkstruct.Make),
	"json":   json.Module,
	"math":   math.Module,
}

func isPredeclared(name string) bool { _, ok := predeclared[name]; return ok }

// module is one executed file: its frozen globals or the error.
type module struct {
	once    sync.Once
	globals starlark.StringDict
	err     error
}

// exec executes file (once per Loader) and returns its frozen globals.
// load() inside it reads other files of the package relative to the
// loading file.
func (l *Loader) exec(pkgDir, file string) (starlark.StringDict, error) {
	return l.execChain(pkgDir, file, nil)
}

func (l *Loader) execChain(pkgDir, file string, chain []string) (starlark.StringDict, error) {
	for _, c := range chain {
		if c == file {
			return nil, fmt.Errorf("cycle in load graph: %s -> %s", strings.Join(chain, " -> "), file)
		}
	}
	l.mu.Lock()
	m := l.modules[file]
	if m == nil {
		m = &module{}
		l.modules[file] = m
	}
	l.mu.Unlock()
	m.once.Do(func() {
		chain := append(append([]string(nil), chain...), file)
		src, err := os.ReadFile(file)
		if err != nil {
			m.err = fmt.Errorf("cannot read %s: %w", file, unwrapPathError(err))
			return
		}
		th := l.newThread("load " + file)
		th.Load = func(_ *starlark.Thread, module string) (starlark.StringDict, error) {
			target, err := loadTarget(pkgDir, file, module)
			if err != nil {
				return nil, err
			}
			return l.execChain(pkgDir, target, chain)
		}
		g, err := starlark.ExecFileOptions(fileOptions, th, file, src, predeclared)
		if err != nil {
			m.err = fmt.Errorf("running %s: %s", file, describeEvalError(err))
			return
		}
		g.Freeze()
		m.globals = g
	})
	return m.globals, m.err
}

// threadPool hands out threads for protocol calls: a thread serves one call
// at a time, and its step count restarts for each call.
type threadPool struct {
	name  string
	steps uint64
	print func(*starlark.Thread, string)
	pool  sync.Pool
}

func (p *threadPool) get() *starlark.Thread {
	if th, ok := p.pool.Get().(*starlark.Thread); ok {
		th.Steps = 0
		th.Uncancel()
		return th
	}
	th := &starlark.Thread{Name: p.name, Print: p.print}
	th.SetMaxExecutionSteps(p.steps)
	return th
}

func (p *threadPool) put(th *starlark.Thread) { p.pool.Put(th) }

// call runs fn(args...) on a pooled thread.
func (p *threadPool) call(fn starlark.Callable, args ...starlark.Value) (starlark.Value, error) {
	th := p.get()
	defer p.put(th)
	return starlark.Call(th, fn, args, nil)
}
