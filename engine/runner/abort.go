package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/internal/transport"
)

// abortFloor is the fewest finished requests the abort rules wait for
// (AIPerf's grace floor for --failed-request-threshold is
// max(concurrency, 10)): one early failure never ends a run.
const abortFloor = 10

// failureWatch sees every finished request and aborts the run (config.Abort)
// when the server is not there or too many requests fail. It also counts
// the requests that failed because the client ran out of file descriptors.
type failureWatch struct {
	abort     context.CancelCauseFunc
	threshold *float64
	reachable bool // Abort.Unreachable: check that the server is there
	floor     int64

	finished, failed atomic.Int64 // profiling phase
	// The first floor requests of the run (warmup included): how many
	// finished, how many failed to connect, the first such error.
	early, connFails atomic.Int64
	firstConnErr     atomic.Pointer[string]
	outOfFiles       atomic.Int64

	reason atomic.Pointer[string]
}

func newFailureWatch(a config.Abort, inFlight int, abort context.CancelCauseFunc) *failureWatch {
	return &failureWatch{abort: abort, threshold: a.FailedRequestThreshold, reachable: a.Unreachable,
		floor: int64(max(inFlight, abortFloor))}
}

// note sees one finished request; it is called from the sending goroutines.
func (w *failureWatch) note(rec *record.Record) {
	failed := !rec.Cancelled && !rec.Valid()
	connFail := rec.Error != nil && (rec.Error.Type == record.ErrConnect || rec.Error.Type == record.ErrFileLimit)
	if rec.Error != nil && rec.Error.Type == record.ErrFileLimit {
		w.outOfFiles.Add(1)
	}
	// Counted only among the first floor requests, connection failures
	// reach floor exactly when all of those failed to connect. Past them
	// the count is only read: a write to it by every request would move
	// its cache line between the sending cores.
	if w.reachable && w.early.Load() <= w.floor {
		if n := w.early.Add(1); connFail && n <= w.floor {
			msg := rec.Error.Message
			w.firstConnErr.CompareAndSwap(nil, &msg)
			if w.connFails.Add(1) == w.floor {
				w.fire(fmt.Sprintf("the first %d requests all failed to connect and none succeeded (%s); is the server running at the endpoint's url?",
					w.floor, *w.firstConnErr.Load()))
			}
		}
	}
	if rec.Phase != record.Profiling || w.threshold == nil || rec.Cancelled {
		return
	}
	n := w.finished.Add(1)
	f := w.failed.Load()
	if failed {
		f = w.failed.Add(1)
	}
	if n >= w.floor && float64(f)/float64(n) > *w.threshold {
		w.fire(fmt.Sprintf("%d of %d finished requests failed (%.1f%%), more than failed_request_threshold %g",
			f, n, 100*float64(f)/float64(n), *w.threshold))
	}
}

func (w *failureWatch) fire(reason string) {
	if w.reason.CompareAndSwap(nil, &reason) {
		w.abort(errors.New("run aborted: " + reason))
	}
}

// aborted returns why the run was aborted, "" if it was not.
func (w *failureWatch) aborted() string {
	if r := w.reason.Load(); r != nil {
		return *r
	}
	return ""
}

// warnings are the watch's notes for the results.
func (w *failureWatch) warnings() []string {
	var out []string
	if r := w.aborted(); r != "" {
		out = append(out, "run aborted: "+r)
	}
	if n := w.outOfFiles.Load(); n > 0 {
		limit := "unknown"
		if soft, _, ok := transport.FileLimit(); ok {
			limit = fmt.Sprint(soft)
		}
		out = append(out, fmt.Sprintf("%d requests failed because loadstar ran out of file descriptors (limit %s): raise it with `ulimit -n` or lower the concurrency", n, limit))
	}
	return out
}

// AbortHint words what the user can do about a run aborted for reason
// (results.RunInfo.Aborted).
func AbortHint(reason string) string {
	if strings.Contains(reason, "failed_request_threshold") {
		return "see the error summary; raise failed_request_threshold (--failed-request-threshold) or leave it unset to let the run finish"
	}
	return "start the server first, or wait for it with --wait-for-model-timeout (run(wait_for_model = ...)); in a scenario, abort_unreachable = False keeps sending"
}
