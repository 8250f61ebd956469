// Package timing decides when each request of a benchmark is sent: the
// timing strategies (concurrency, request_rate, request_rate_series,
// fixed_schedule, user_centric_rate), the arrival patterns of open-loop
// schedules, ramps, rate series, and URL selection.
//
// Timing is LoadGen-grade: an open-loop schedule is generated from the run's
// seed before (or, for long runs, incrementally while) it is sent, every
// request carries the time it was scheduled for, and requests are released at
// absolute deadlines with clock.SleepUntil — never relative sleeps, which
// drift. When something holds a request back (a concurrency cap, the previous
// turn of its session still running, the client itself), it is sent late and
// keeps its scheduled time, so the lateness is measured, never hidden; slots
// a stop condition cuts off are counted as dropped.
//
// A strategy drives a Sender (the runner) through an Env:
//
//	rep, err := strategy.Run(ctx, &timing.Env{
//		Clock: clk, Seed: 42, Stop: config.Stop{Requests: 1000},
//		Dataset: ds, Sampler: smp, URLs: 1, Sender: sender,
//	})
//
// The Sender sends one turn and returns when its response is finished; the
// strategy never sees payloads or records, only when each turn ended.
package timing

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
)

// Strategy decides when each request of a phase is sent. Strategies are
// plugins of category `timing_strategy`.
type Strategy interface {
	// Plan validates the strategy against env (dataset, stop conditions,
	// nested plugins) and estimates the phase without sending anything.
	Plan(env *Env) (*Plan, error)
	// Run issues the phase's requests through env.Sender until a stop
	// condition is met or ctx is done, waits until every session it started
	// has ended, and reports what it scheduled. An error means nothing was
	// sent (the plan was invalid); failed requests are never errors here.
	Run(ctx context.Context, env *Env) (*Report, error)
	// String renders the strategy as its Starlark constructor.
	String() string
}

// Env is what a strategy needs from the runner for one phase.
type Env struct {
	Clock clock.Clock
	// Seed is the run's seed; strategies derive their random streams from it
	// with NewRand(Seed, concern).
	Seed  uint64
	Phase record.Phase
	// PhaseIndex numbers the phase in a multi-phase run (config.Phases).
	PhaseIndex int
	// Stop conditions of the phase; the first met wins. None = run until the
	// schedule (fixed_schedule) or ctx ends.
	Stop   config.Stop
	Cancel config.Cancellation
	// Prefill caps the requests waiting for their first token.
	Prefill config.Prefill

	Dataset dataset.Dataset
	// Sampler picks the conversation of each new session (fixed_schedule
	// replays the dataset in timestamp order instead). It is only called
	// under a lock, so it need not be safe for concurrent use.
	Sampler dataset.Sampler

	// URLs is the number of server URLs; URLSelector picks one per session
	// (nil = round robin).
	URLs        int
	URLSelector URLSelector

	Sender Sender

	// Build constructs a nested plugin argument (e.g. arrival=arrival.gamma())
	// from its spec. Nil means only already-built values are accepted.
	Build func(*plugin.Spec) (any, error)
	// NewSessionID returns a correlation id for a new session (nil = a random UUID).
	NewSessionID func() string
	// ReuseSessions lets the strategy reuse a Session once it ended, and a
	// Credit once its Send returned, instead of allocating new ones per
	// session and per request. Set it only for a Sender that keeps neither
	// pointer past those points (the runner's keeps none); a Sender that
	// records credits should copy them (*c), as they are then overwritten.
	ReuseSessions bool

	// Shard is this process's part of the load (zero: all of it); only
	// strategies that implement ShardAware honour it.
	Shard config.Shard
	// Start is the phase's start on Clock (its schedule's origin) when
	// FixedStart is set (shards starting together); otherwise the phase
	// starts at once. A start in the future is waited for; one in the past
	// makes the requests due since then late, as measured.
	Start      int64
	FixedStart bool
}

// Sender sends one turn. Send returns when the response is finished, failed
// or was cancelled, with the monotonic time it ended; a failure is a record,
// never an error. Send is called from many goroutines at once.
type Sender interface {
	Send(c *Credit) (doneNs int64)
}

// Session is one conversation being sent: its turns go in order, on one
// correlation id and one URL.
type Session struct {
	// Num numbers the sessions of a phase from 0 in the order they started
	// (over all shards: a shard's k-th session is k·Count + Index).
	Num       int64
	ConvIndex int
	Conv      *dataset.Conversation
	// CorrelationID is sent as X-Correlation-ID with every turn.
	CorrelationID string
	URLIndex      int
	// Turns is how many turns of Conv this session sends (user_centric_rate
	// joins its first sessions part-way, see UserCentric).
	Turns int
	// History is the conversation so far as the endpoint formats it: earlier
	// user turns and the server's actual answers. It belongs to the Sender,
	// which appends to it; the strategy only empties it (keeping its
	// capacity) when it reuses the Session (Env.ReuseSessions).
	History []dataset.Turn

	// credit and slot are the session's request in flight when the
	// strategy reuses sessions: a session sends one turn at a time.
	credit Credit
	slot   prefillSlot
}

// Credit is permission to send one turn now.
type Credit struct {
	Session *Session
	Turn    int   // index into Session.Conv.Turns
	Num     int64 // request number within the phase, from 0 (over all shards, as Session.Num)
	Phase   record.Phase
	// PhaseIndex numbers the phase in a multi-phase run (config.Phases).
	PhaseIndex int
	// ScheduledNs is when the plan wanted the turn sent; CreditNs when the
	// strategy released it. StartNs − ScheduledNs is the issue delay;
	// CreditNs − ScheduledNs the part of it spent held back (a concurrency
	// cap, the previous turn), StartNs − CreditNs the client's own lag.
	ScheduledNs int64
	CreditNs    int64
	// Cancel asks the Sender to cancel the request CancelAfter after its
	// body is fully written (record code 499).
	Cancel      bool
	CancelAfter time.Duration

	prefill *prefillSlot // the prefill slot held, nil = none (see FirstToken)
}

// Last reports whether this is the session's final turn.
func (c *Credit) Last() bool { return c.Turn == c.Session.Turns-1 }

// Plan describes a phase before it runs (loadstar inspect, run info).
type Plan struct {
	Load Load
	// Requests is the expected number of requests, -1 when unknown;
	// Duration the expected issuing time, 0 when unknown.
	Requests int64
	Duration time.Duration
	// Bound names what ends the phase: requests, sessions, duration or schedule.
	Bound string
	// DefaultStop is where the phase stops when no stop condition is given
	// (a rate series: its length); zero leaves it to the runner's default.
	DefaultStop config.Stop
}

// Load is the configured load of a strategy.
type Load struct {
	Mode string // the strategy's plugin name
	// Rate is the target request rate (req/s), 0 for closed loops.
	Rate float64
	// Concurrency is the concurrency or max_concurrency (0 = unlimited);
	// Users the user count of user_centric_rate.
	Concurrency int
	Users       int
	// OpenLoop is true when requests follow a schedule rather than
	// completions; the rate verdict applies only then.
	OpenLoop bool
	Arrival  string
	Ramp     string
	// Description is one line for people, e.g. "10 req/s, poisson arrivals".
	Description string
}

// Stop reasons reported in Report.Stop.
const (
	StopRequests  = "requests"
	StopSessions  = "sessions"
	StopDuration  = "duration"
	StopCancelled = "cancelled"
	StopSchedule  = "schedule" // a fixed schedule ran out of entries
)

// Report is what a strategy scheduled and issued in one phase.
type Report struct {
	Load Load
	// StartNs is the phase start (the schedule's origin); EndNs when the
	// last session ended.
	StartNs, EndNs int64
	// Issued counts requests sent; Sessions the sessions started.
	Issued, Sessions int64
	// Dropped counts scheduled slots that were due (before the stop) but
	// never sent because a stop condition or cancellation cut them off.
	Dropped int64
	// Idle counts open-loop slots with nothing to send because every
	// session was started and none had a turn ready (sessions stop).
	Idle int64
	// Stop says why issuing ended.
	Stop string
	// FirstScheduledNs and LastScheduledNs bound the scheduled times of
	// issued and dropped requests (0 when none).
	FirstScheduledNs, LastScheduledNs int64
}

// Scheduled returns the number of slots that were due: issued plus dropped.
func (r *Report) Scheduled() int64 { return r.Issued + r.Dropped }

// resolve turns a plugin argument that may still be a spec into T.
func resolve[T any](env *Env, v any, what string) (T, error) {
	var zero T
	switch x := v.(type) {
	case nil:
		return zero, nil
	case T:
		return x, nil
	case *plugin.Spec:
		if env == nil || env.Build == nil {
			if t, ok := builtinFromSpec(x).(T); ok {
				return t, nil
			}
			return zero, fmt.Errorf("%s: cannot build %s here", what, x)
		}
		built, err := env.Build(x)
		if err != nil {
			return zero, fmt.Errorf("%s: %w", what, err)
		}
		t, ok := built.(T)
		if !ok {
			return zero, fmt.Errorf("%s: %s does not implement %T", what, x, zero)
		}
		return t, nil
	}
	return zero, fmt.Errorf("%s: expected a plugin, got %T", what, v)
}

// builtinFromSpec builds a spec of one of this package's own plugins, so that
// strategies work without a registry (tests, direct Go use).
func builtinFromSpec(s *plugin.Spec) any {
	c, ok := Classes()[specKey(s)]
	if !ok {
		return nil
	}
	v, err := c.Build(plugin.Namespace(s.Category)+"."+s.Name, s.Args)
	if err != nil {
		return nil
	}
	return v
}

func specKey(s *plugin.Spec) string {
	switch s.Category {
	case plugin.ArrivalPattern:
		switch s.Name {
		case "constant":
			return "Constant"
		case "poisson":
			return "Poisson"
		case "gamma":
			return "Gamma"
		case "concurrency_burst":
			return "ConcurrencyBurst"
		}
	case plugin.Ramp:
		switch s.Name {
		case "linear":
			return "Linear"
		case "exponential":
			return "Exponential"
		case "poisson":
			return "PoissonRamp"
		}
	}
	return ""
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
