package interp

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// The sandbox's limits (docs/reliability.md, "Scripts"). go.starlark.net
// has no allocation accounting, so the heap is read instead — by the
// script's own thread between steps (limitSteps) and by a watch goroutine
// (watch) — and a script whose growth since a collection at its start
// passes the budget is cancelled (a script error with file:line).
// Operations that would allocate their whole result at once —
// list(range(1 << 40)) — or recurse once per nesting level — json.decode,
// str() — are checked before they start, since a Go out-of-memory or stack
// overflow cannot be recovered from.

// DefaultMaxMemory is the script memory budget: how far the heap may grow
// while script code (not a run() it started) executes.
const DefaultMaxMemory = 1 << 30

// MaxNesting is the deepest nesting of lists, dicts and tuples that
// json.decode reads and str(), repr(), print() and json.encode write.
const MaxNesting = 10_000

// memorySampleInterval is how often the heap is sampled while a script runs.
const memorySampleInterval = 5 * time.Millisecond

// memoryCheckSteps is how many execution steps pass between the script
// thread's own looks at the clock and at whether the collector has run (a
// weak pointer's load); it reads the heap (a quarter of a microsecond)
// after a collection, after heapCheckSteps steps, and when heapCheckEvery
// has passed since its last read.
const (
	memoryCheckSteps = 8
	heapCheckSteps   = 1024
	heapCheckEvery   = time.Millisecond
)

// bytesPerElement is the heap one element of a list or tuple takes at
// least (a starlark.Value interface), for checks before allocating.
const bytesPerElement = 16

// memoryWatch cancels a thread whose heap growth passes the budget.
type memoryWatch struct {
	budget    uint64
	thread    *starlark.Thread
	readEvery time.Duration // heapCheckEvery; tests turn the clock's reads off
	abort     func(error)   // Options.AbortScript
	baseline  atomic.Uint64
	paused    atomic.Int32
	mu        sync.Mutex // serialises resume's re-baselining
}

type memoryWatchKey struct{}

// gcSentinel is held only weakly: its pointer turns nil when a collection
// has run. (A pointer field keeps it out of the tiny allocator, whose
// blocks outlive their objects.)
type gcSentinel struct{ _ *gcSentinel }

// newMemoryWatch counts the budget of thread from the heap as it is now and
// makes the thread check it itself (limitSteps); watch must run beside it.
func newMemoryWatch(budget uint64, thread *starlark.Thread, maxSteps uint64, abort func(error)) *memoryWatch {
	w := &memoryWatch{budget: budget, thread: thread, abort: abort, readEvery: heapCheckEvery}
	w.baseline.Store(settledHeap())
	w.limitSteps(maxSteps)
	return w
}

// limitSteps bounds the thread's execution steps at maxSteps and has it
// read the heap itself: after every collection, every heapCheckSteps
// steps, and whenever heapCheckEvery has passed since its last read. The
// watch alone is not enough: a script doubling a string or a list spends
// its time in copies that cannot be preempted, a collection's
// stop-the-world waits for each copy to end, and when the world restarts
// the script's next step comes before the watch is scheduled again; under
// load it doubled on to 12 GiB against a 64 MiB budget. Nor are
// collections alone: on a loaded machine a cycle can outlast the last few
// doublings (a list reached 1 GiB against 64 MiB with no collection ending
// between). The clock closes the gap: growing the heap by megabytes takes
// milliseconds, so the step after any large copy reads the heap. The watch
// remains for growth while no step runs (a builtin call).
func (w *memoryWatch) limitSteps(maxSteps uint64) {
	sentinel := weak.Make(new(gcSentinel))
	nextRead := uint64(heapCheckSteps)
	start := time.Now()
	var lastRead time.Duration // since start: time.Since reads only the monotonic clock
	w.thread.SetMaxExecutionSteps(min(maxSteps, memoryCheckSteps))
	w.thread.OnMaxSteps = func(t *starlark.Thread) {
		if t.Steps >= maxSteps {
			t.Cancel(fmt.Sprintf("exceeded the limit of %d execution steps", maxSteps))
			return
		}
		now := time.Since(start)
		if collected := sentinel.Value() == nil; collected || t.Steps >= nextRead || now-lastRead >= w.readEvery {
			if collected {
				sentinel = weak.Make(new(gcSentinel))
			}
			nextRead, lastRead = t.Steps+heapCheckSteps, now
			if w.paused.Load() == 0 && !w.within(heapBytes(), w.budget) {
				t.Cancel(w.overBudget())
				return
			}
		}
		t.SetMaxExecutionSteps(min(maxSteps, t.Steps+memoryCheckSteps))
	}
}

func (w *memoryWatch) overBudget() string {
	return fmt.Sprintf("the script's memory passed its budget of %s (--max-script-memory; docs/reliability.md)", formatBytes(w.budget))
}

// PauseMemoryBudget stops counting the script memory budget of the thread
// whose context is ctx until the returned function is called: a run()
// the script started uses the engine's memory, which its own limits bound
// (max_response_bytes, the concurrency check). The heap it leaves behind
// becomes the new baseline.
//
//	defer interp.PauseMemoryBudget(ctx)()
func PauseMemoryBudget(ctx context.Context) func() {
	w, _ := ctx.Value(memoryWatchKey{}).(*memoryWatch)
	if w == nil {
		return func() {}
	}
	w.paused.Add(1)
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if h := settledHeap(); h > w.baseline.Load() {
			w.baseline.Store(h)
		}
		w.paused.Add(-1)
	}
}

// settledHeap is the heap a budget is counted from: its objects after a
// collection. Garbage in the baseline (values of the script before, or of
// the run() that just ended, not yet collected) would widen the budget by
// as much once the collector frees it: with a 64 MiB budget a script
// doubling a string was seen to grow 847 MiB. The collection cannot be
// left to the watch when it finds the budget passed: a collection needs
// the script's goroutine at a safe point, which a copy of a large string
// is not, so it would let the script double on for seconds.
func settledHeap() uint64 {
	runtime.GC()
	return heapBytes()
}

// watch samples the heap until done is closed.
func (w *memoryWatch) watch(done <-chan struct{}) {
	t := time.NewTicker(memorySampleInterval)
	defer t.Stop()
	cancelled := false
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		if w.paused.Load() > 0 {
			continue
		}
		h := heapBytes()
		switch {
		case w.within(h, w.budget):
		case !cancelled:
			cancelled = true
			w.thread.Cancel(w.overBudget())
		case !w.within(h, 2*w.budget) && w.abort != nil:
			// The thread is inside one builtin call that does not check
			// cancellation (l.extend(range(1 << 40))): exit before the
			// kernel kills the process.
			w.abort(fmt.Errorf("the script's memory passed twice its budget of %s inside one builtin call that cannot be interrupted (such as list.extend of a huge range); loadstar stops here (--max-script-memory; docs/reliability.md)", formatBytes(w.budget)))
			return
		}
	}
}

// within reports whether a heap of h bytes is within limit of the baseline.
func (w *memoryWatch) within(h, limit uint64) bool {
	base := w.baseline.Load()
	return h <= base || h-base <= limit
}

// heapBytes is the memory of the heap's objects, live or not yet swept.
func heapBytes() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}

func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// guardedBuiltins replaces the universal builtins that allocate a whole
// result from a length, or walk a value recursively, by checked versions.
func (h *Host) guardedBuiltins(d starlark.StringDict) {
	maxElems := int(h.opts.MaxMemory / bytesPerElement)
	for _, name := range []string{"list", "tuple", "sorted", "reversed", "enumerate", "zip", "set"} {
		orig, ok := starlark.Universe[name].(*starlark.Builtin)
		if _, shadowed := d[name]; !ok || shadowed {
			continue
		}
		d[name] = starlark.NewBuiltin(name, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			for _, a := range args {
				if n := starlark.Len(a); n > maxElems {
					return nil, fmt.Errorf("%s: %d elements would pass the script memory budget of %s (at most %d elements)", name, n, formatBytes(h.opts.MaxMemory), maxElems)
				}
			}
			return orig.CallInternal(th, args, kw)
		})
	}
	for _, name := range []string{"str", "repr", "print"} {
		orig, ok := starlark.Universe[name].(*starlark.Builtin)
		if _, shadowed := d[name]; !ok || shadowed {
			continue
		}
		d[name] = starlark.NewBuiltin(name, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			if err := checkNesting(name, args); err != nil {
				return nil, err
			}
			return orig.CallInternal(th, args, kw)
		})
	}
	if m, ok := d["json"].(*starlarkstruct.Module); ok {
		d["json"] = guardedJSON(m)
	}
}

// guardedJSON is the json module with decode refusing input nested deeper
// than MaxNesting and encode refusing such values.
func guardedJSON(m *starlarkstruct.Module) *starlarkstruct.Module {
	members := make(starlark.StringDict, len(m.Members))
	for k, v := range m.Members {
		members[k] = v
	}
	if dec, ok := m.Members["decode"].(*starlark.Builtin); ok {
		members["decode"] = starlark.NewBuiltin("json.decode", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			if len(args) > 0 {
				var text string
				switch x := args[0].(type) {
				case starlark.String:
					text = string(x)
				case starlark.Bytes:
					text = string(x)
				}
				if depth := jsonDepth(text); depth > MaxNesting {
					return nil, fmt.Errorf("json.decode: the text nests deeper than %d levels of [ and {", MaxNesting)
				}
			}
			return dec.CallInternal(th, args, kw)
		})
	}
	if enc, ok := m.Members["encode"].(*starlark.Builtin); ok {
		members["encode"] = starlark.NewBuiltin("json.encode", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			if err := checkNesting("json.encode", args); err != nil {
				return nil, err
			}
			return enc.CallInternal(th, args, kw)
		})
	}
	return &starlarkstruct.Module{Name: m.Name, Members: members}
}

// jsonDepth returns the deepest nesting of [ and { in text outside
// strings, stopping once it passes MaxNesting.
func jsonDepth(text string) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > MaxNesting {
					return deepest
				}
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// checkNesting refuses arguments nested deeper than MaxNesting.
func checkNesting(fn string, args starlark.Tuple) error {
	for _, a := range args {
		if nestedDeeper(a, MaxNesting) {
			return fmt.Errorf("%s: the value nests deeper than %d levels of lists, tuples and dicts", fn, MaxNesting)
		}
	}
	return nil
}

// nestedDeeper reports whether v holds containers nested more than limit
// levels deep. It walks without recursion, each container once.
func nestedDeeper(v starlark.Value, limit int) bool {
	type item struct {
		v     starlark.Value
		depth int
	}
	seen := map[any]bool{} // containers met before (a list, a dict, a tuple's array)
	stack := []item{{v, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		var elems []starlark.Value
		switch x := it.v.(type) {
		case *starlark.List:
			if seen[x] {
				continue
			}
			seen[x] = true
			for i := 0; i < x.Len(); i++ {
				elems = append(elems, x.Index(i))
			}
		case starlark.Tuple:
			if len(x) == 0 || seen[&x[0]] {
				continue
			}
			seen[&x[0]] = true
			elems = x
		case *starlark.Dict:
			if seen[x] {
				continue
			}
			seen[x] = true
			for _, kv := range x.Items() {
				elems = append(elems, kv[0], kv[1])
			}
		default:
			continue
		}
		if it.depth+1 > limit {
			return true
		}
		for _, e := range elems {
			stack = append(stack, item{e, it.depth + 1})
		}
	}
	return false
}
