package interp

import (
	"context"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.starlark.net/lib/json"
	"go.starlark.net/starlark"
)

// sandboxBudget keeps the memory cases small: the script is stopped once
// its heap grows 64 MiB.
const sandboxBudget = 64 << 20

// runSandboxed runs src under the budget and returns the peak heap growth
// seen while it ran (runtime metrics, not wall time) and its error.
func runSandboxed(t *testing.T, src string) (uint64, error) {
	t.Helper()
	dir := writeFiles(t, map[string]string{"s.star": src})
	h := New(Options{MaxMemory: sandboxBudget, Predeclared: starlark.StringDict{"json": json.Module}})
	runtime.GC() // the garbage of the cases before is not this one's
	base := heapBytes()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if h := heapBytes(); h > base && h-base > peak.Load() {
				peak.Store(h - base)
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	_, err := h.ExecFile(context.Background(), filepath.Join(dir, "s.star"))
	close(stop)
	<-sampled
	return peak.Load(), err
}

// Scripts that would take the process down end in a script error naming
// the file and line, the heap growth bounded as docs/reliability.md says:
// the budget, plus the doubling in progress when the script's thread (or
// the watch) sees the growth, plus the garbage of earlier values not yet
// collected — a few times the budget at this small one (95–119 MiB, with
// or without three busy loops beside the test), 8× allowing for a loaded machine;
// unchecked, the doublings go on to the end of the machine's memory.
func TestSandboxStopsMemoryGrowth(t *testing.T) {
	for name, c := range map[string]struct{ src, want string }{
		"string doubling": {"def f():\n    s = \"x\"\n    for i in range(64):\n        s = s + s\nf()\n", "memory passed its budget of 64 MiB"},
		"list doubling":   {"def f():\n    l = [1]\n    for i in range(64):\n        l = l + l\nf()\n", "memory passed its budget of 64 MiB"},
		"list of a range": {"l = list(range(1 << 40))\n", "list: 1099511627776 elements would pass the script memory budget of 64 MiB"},
		"sorted range":    {"l = sorted(range(1 << 40))\n", "sorted: 1099511627776 elements"},
		"tuple of range":  {"l = tuple(range(1 << 40))\n", "tuple: 1099511627776 elements"},
		"deep json":       {"x = json.decode(\"[\" * 5000000 + \"]\" * 5000000)\n", "json.decode: the text nests deeper than 10000 levels"},
		"deep str":        {"def f():\n    l = []\n    for i in range(1000000):\n        l = [l]\n    return str(l)\nf()\n", "str: the value nests deeper than 10000 levels"},
		"deep encode":     {"def f():\n    l = []\n    for i in range(20000):\n        l = [l]\n    return json.encode(l)\nf()\n", "json.encode: the value nests deeper"},
	} {
		t.Run(name, func(t *testing.T) {
			peak, err := runSandboxed(t, c.src)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "s.star:") {
				t.Fatalf("err = %v; want %q with the script's file:line", err, c.want)
			}
			if peak > 8*sandboxBudget {
				t.Errorf("heap grew %d MiB; the budget is %d MiB", peak>>20, sandboxBudget>>20)
			}
		})
	}
}

// sandboxSink keeps the compiler from leaving out an allocation whose
// garbage a test needs.
var sandboxSink []byte

// The budget counts from the live heap: garbage left by what ran before
// the script (or by the run() it waited for) is not in the baseline, where
// it would widen the budget by its size once collected. With collections
// off, the garbage stays in the heap's objects until a collection is made.
func TestBudgetCountsFromTheLiveHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	const garbage = 256 << 20
	runtime.GC()
	live := heapBytes()
	sandboxSink = make([]byte, garbage)
	sandboxSink = nil
	h := New(Options{MaxMemory: sandboxBudget})
	th, stop := h.NewThread(context.Background(), "t")
	defer stop()
	w := ContextOf(th).Value(memoryWatchKey{}).(*memoryWatch)
	if b := w.baseline.Load(); b > live+garbage/4 {
		t.Fatalf("baseline %d MiB over a live heap of %d MiB: the garbage was counted", b>>20, live>>20)
	}
	resume := PauseMemoryBudget(ContextOf(th))
	sandboxSink = make([]byte, garbage) // the run's garbage
	sandboxSink = nil
	resume()
	if b := w.baseline.Load(); b > live+garbage/4 {
		t.Fatalf("after a run() the baseline is %d MiB over a live heap of %d MiB: its garbage was counted", b>>20, live>>20)
	}
}

// The thread checks the budget itself, with no watch beside it, on each
// of its three signals alone: the clock after a large copy (collections
// off, too few steps for the step count), a collection (clock off), and
// the step count (both off). Then doublings with all three, as scripts
// run. (Unchecked, the doublings end at 1 GiB and the script without an
// error; before the clock, a list doubling under load did so 4 times in
// 10 when no collection ended between its last doublings.)
func TestScriptThreadChecksItsOwnMemory(t *testing.T) {
	const (
		doubleString = "def f():\n    s = \"x\"\n    for i in range(30):\n        s = s + s\nf()\n"
		doubleList   = "def f():\n    l = [1]\n    for i in range(26):\n        l = l + l\nf()\n"
	)
	const never = time.Duration(1 << 62)
	grow := func(collect bool) *starlark.Builtin {
		return starlark.NewBuiltin("grow", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			sandboxSink = make([]byte, 2*sandboxBudget)
			if collect {
				runtime.GC()
			}
			return starlark.None, nil
		})
	}
	for _, c := range []struct {
		name       string
		src        string
		gcOff      bool
		clockOff   bool
		predeclare starlark.StringDict
	}{
		{name: "the clock, string", src: doubleString, gcOff: true},
		{name: "the clock, list", src: doubleList, gcOff: true},
		{name: "a collection", src: "grow()\nfor i in range(20):\n    pass\n", clockOff: true,
			predeclare: starlark.StringDict{"grow": grow(true)}},
		{name: "the step count", src: "grow()\nfor i in range(2 * heap_check_steps):\n    pass\n", gcOff: true, clockOff: true,
			predeclare: starlark.StringDict{"grow": grow(false), "heap_check_steps": starlark.MakeInt(heapCheckSteps)}},
		{name: "string doubling", src: doubleString},
		{name: "list doubling", src: doubleList},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() { sandboxSink = nil }()
			if c.gcOff {
				defer debug.SetGCPercent(debug.SetGCPercent(-1))
			}
			th := &starlark.Thread{Name: c.name}
			w := newMemoryWatch(sandboxBudget, th, DefaultMaxSteps, nil) // and no watch()
			if c.clockOff {
				w.readEvery = never
			}
			_, err := starlark.ExecFileOptions(FileOptions, th, "s.star", c.src, c.predeclare)
			if err == nil || !strings.Contains(err.Error(), "memory passed its budget of 64 MiB") {
				t.Fatalf("err = %v; want the budget's cancellation", err)
			}
		})
	}
}

// Within the limits scripts run as before: nesting to the limit, lists
// below the element bound, a pause for the engine's work.
func TestSandboxAllowsOrdinaryWork(t *testing.T) {
	src := `
x = json.decode("[" * 100 + "]" * 100)
def f():
    l = []
    for i in range(1000):
        l = [l]
    return str(l), repr(l), json.encode(l)
s, r, j = f()
n = len(list(range(100000)))
`
	if _, err := runSandboxed(t, src); err != nil {
		t.Fatal(err)
	}
	if jsonDepth(`["[[[", {"a": [1]}]`) != 3 {
		t.Errorf("jsonDepth counts brackets in strings or misses objects: %d", jsonDepth(`["[[[", {"a": [1]}]`))
	}
}

// The engine's memory is not the script's: while PauseMemoryBudget holds,
// growth is not counted, and what stays afterwards is the new baseline.
func TestPauseMemoryBudget(t *testing.T) {
	h := New(Options{MaxMemory: 1 << 20})
	th, stop := h.NewThread(context.Background(), "t")
	defer stop()
	ctx := ContextOf(th)
	resume := PauseMemoryBudget(ctx)
	kept := make([]byte, 16<<20) // the engine's allocation
	time.Sleep(50 * time.Millisecond)
	resume()
	time.Sleep(50 * time.Millisecond)
	if _, err := starlark.ExecFileOptions(FileOptions, th, "x.star", "x = 1\n", nil); err != nil {
		t.Fatalf("the engine's memory was counted against the script: %v", err)
	}
	_ = kept[len(kept)-1]
}

// BenchmarkScriptSteps is the cost of a step of script code with the
// sandbox's checks (the thread's own look every memoryCheckSteps steps):
// ns/op divided by the steps metric.
func BenchmarkScriptSteps(b *testing.B) {
	dir := writeFiles(b, map[string]string{"s.star": "def f():\n    x = 0\n    for i in range(1000000):\n        x = x + i\n    return x\nf()\n"})
	h := New(Options{})
	for b.Loop() {
		if _, err := h.ExecFile(context.Background(), filepath.Join(dir, "s.star")); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10e6, "ns/step")
}
