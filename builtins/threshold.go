package builtins

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"go.starlark.net/starlark"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/runner"
	"github.com/loadstar/loadstar/internal/metrics"
)

// ThresholdValue is a threshold(...) value, passed to run(thresholds=[...]).
type ThresholdValue struct{ T config.Threshold }

func (t *ThresholdValue) String() string {
	return fmt.Sprintf("threshold(%q, %q)", t.T.Metric, t.T.Expr)
}
func (t *ThresholdValue) Type() string          { return "threshold" }
func (t *ThresholdValue) Freeze()               {}
func (t *ThresholdValue) Truth() starlark.Bool  { return true }
func (t *ThresholdValue) Hash() (uint32, error) { return starlark.String(t.String()).Hash() }

// NewThreshold parses and checks a threshold when the script states it, so
// a bad expression or an unknown metric is an error at that line, never a
// silent pass after the run.
func NewThreshold(thread *starlark.Thread, metric, expr string, abort bool) (config.Threshold, error) {
	unit, kind, ok := serverFigureUnit(metric)
	if !ok {
		def, found := metrics.Lookup(metric)
		if !found {
			return config.Threshold{}, unknownMetric("threshold on", metric)
		}
		unit, kind = def.Unit, def.Kind
	}
	e, err := results.ParseThreshold(expr)
	if err != nil {
		return config.Threshold{}, err
	}
	if err := e.CheckUnit(metric, unit); err != nil {
		return config.Threshold{}, err
	}
	if kind != results.RecordMetric && e.Stat != "value" && e.Stat != "avg" {
		return config.Threshold{}, fmt.Errorf("threshold %q on %s: it has a single value; use `value` (e.g. \"value %s ...\")", expr, metric, e.Op)
	}
	where := ""
	if thread != nil && thread.CallStackDepth() > 1 {
		where = thread.CallFrame(1).Pos.String()
	}
	return config.Threshold{Metric: metric, Expr: expr, AbortOnFail: abort, Where: where}, nil
}

// thresholdBuiltin implements threshold(metric, expr, abort_on_fail=False).
func thresholdBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var metric, expr string
	abort := false
	if err := unpack(fn.Name(), args, kwargs, "metric", &metric, "expr", &expr, "abort_on_fail?", &abort); err != nil {
		return nil, err
	}
	t, err := NewThreshold(thread, metric, expr, abort)
	if err != nil {
		return nil, errext.WithExitCode(err, errext.InvalidConfig)
	}
	return &ThresholdValue{T: t}, nil
}

// abortMinRequests is how many requests must have completed before
// abort_on_fail thresholds are checked while a run goes (k6's
// delayAbortEval): early statistics of a handful of requests are noise.
const abortMinRequests = 10

// abortOnFail checks abort_on_fail thresholds on the live statistics every
// progress tick of the profiling phase and stops the run at the first
// failure; the run then ends as on Ctrl-C (grace period, every artifact
// written) and run() fails with exit code 5.
type abortOnFail struct {
	ctx        context.Context
	cancel     context.CancelCauseFunc
	thresholds []config.Threshold
	mu         sync.Mutex
	msg        string
}

func newAbortOnFail(parent context.Context, ts []config.Threshold) *abortOnFail {
	var abort []config.Threshold
	for _, t := range ts {
		if t.AbortOnFail {
			abort = append(abort, t)
		}
	}
	if len(abort) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancelCause(parent)
	return &abortOnFail{ctx: ctx, cancel: cancel, thresholds: abort}
}

// Progress implements runner.Observer.
func (a *abortOnFail) Progress(p runner.Progress) {
	if p.Phase != record.Profiling || p.LiveMetrics == nil || a.fired() != "" {
		return
	}
	if p.Completed < abortMinRequests {
		return
	}
	live := &results.Summary{Metrics: p.LiveMetrics()}
	for _, t := range a.thresholds {
		if live.Metric(t.Metric) == nil {
			continue // not measured yet
		}
		if r := results.EvaluateThreshold(live, t); !r.Passed {
			a.mu.Lock()
			a.msg = "threshold failed while running (abort_on_fail, after " + strconv.FormatInt(p.Completed, 10) + " requests): " + r.Message
			a.mu.Unlock()
			a.cancel(errors.New(a.fired()))
			return
		}
	}
}

func (a *abortOnFail) fired() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.msg
}
