package timing

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/loadstar/loadstar/engine/config"
)

// RequestRate is the open-loop strategy: requests at Rate req/s on a seeded
// schedule drawn from an arrival pattern, optionally ramped, optionally
// capped at MaxConcurrency sessions in flight.
//
// Every slot of the schedule carries one request: the next turn of a running
// session when one is ready (its previous turn ended and its think time
// passed), else the first turn of a new session, so the rate counts all
// turns. When the cap holds a new session back, the slot waits for a free
// session slot (or a ready turn) and is sent late, keeping its scheduled time:
// the lateness is measured, never skipped. Slots still waiting when a stop
// condition ends the phase are counted as dropped.
//
//	timing.request_rate(rate=50, arrival=arrival.gamma(smoothness=0.5), max_concurrency=32)
//
// With arrival.concurrency_burst() there is no schedule: it is the closed
// loop of Concurrency with MaxConcurrency slots.
type RequestRate struct {
	Rate           float64
	Arrival        any // ArrivalPattern or *plugin.Spec; nil = Poisson
	MaxConcurrency int // 0 = no cap
	Ramp           any // ramps the rate; Ramp or *plugin.Spec
	// ConcurrencyRamp ramps the cap from 1 to MaxConcurrency.
	ConcurrencyRamp any
	// Exact draws the schedule conditioned on its count when the count is
	// known (see Schedule), so the realized rate equals Rate.
	Exact bool
}

// NewRequestRate validates an open-loop strategy.
func NewRequestRate(rate float64, arrival any, maxConc int, ramp, concRamp any, exact bool) (*RequestRate, error) {
	r := &RequestRate{Rate: rate, Arrival: arrival, MaxConcurrency: maxConc, Ramp: ramp, ConcurrencyRamp: concRamp, Exact: exact}
	if maxConc < 0 {
		return nil, fmt.Errorf("timing.request_rate: max_concurrency must be >= 0, got %d", maxConc)
	}
	if concRamp != nil && maxConc == 0 {
		return nil, errors.New("timing.request_rate: concurrency_ramp needs max_concurrency")
	}
	if !r.burstSpec() && !(rate > 0 && !math.IsInf(rate, 0)) {
		return nil, fmt.Errorf("timing.request_rate: rate must be a positive number of requests per second, got %v", rate)
	}
	if r.burstSpec() && maxConc == 0 {
		return nil, errors.New("timing.request_rate: arrival.concurrency_burst() needs max_concurrency (it sends as fast as the slots allow)")
	}
	return r, nil
}

// burstSpec reports whether Arrival is concurrency_burst (built or as a spec).
func (r *RequestRate) burstSpec() bool {
	switch a := r.Arrival.(type) {
	case ArrivalPattern:
		return isClosedLoop(a)
	case fmt.Stringer:
		return a.String() == ConcurrencyBurst{}.String()
	}
	return false
}

func (r *RequestRate) String() string {
	var args []string
	if r.Rate > 0 {
		args = append(args, "rate="+num(r.Rate))
	}
	if a := describeArg(r.Arrival); a != "" {
		args = append(args, "arrival="+a)
	}
	if r.MaxConcurrency > 0 {
		args = append(args, fmt.Sprintf("max_concurrency=%d", r.MaxConcurrency))
	}
	if a := describeArg(r.Ramp); a != "" {
		args = append(args, "ramp="+a)
	}
	if a := describeArg(r.ConcurrencyRamp); a != "" {
		args = append(args, "concurrency_ramp="+a)
	}
	if !r.Exact {
		args = append(args, "exact=False")
	}
	return "timing.request_rate(" + strings.Join(args, ", ") + ")"
}

type rateParts struct {
	arrival  ArrivalPattern
	ramp     Ramp
	concRamp Ramp
}

func (r *RequestRate) parts(env *Env) (rateParts, error) {
	var rp rateParts
	var err error
	if rp.arrival, err = resolve[ArrivalPattern](env, r.Arrival, "timing.request_rate: arrival"); err != nil {
		return rp, err
	}
	if rp.arrival == nil {
		rp.arrival = Poisson{}
	}
	if rp.ramp, err = resolve[Ramp](env, r.Ramp, "timing.request_rate: ramp"); err != nil {
		return rp, err
	}
	if rp.concRamp, err = resolve[Ramp](env, r.ConcurrencyRamp, "timing.request_rate: concurrency_ramp"); err != nil {
		return rp, err
	}
	if isClosedLoop(rp.arrival) {
		if r.MaxConcurrency == 0 {
			return rp, errors.New("timing.request_rate: arrival.concurrency_burst() needs max_concurrency")
		}
		if rp.ramp != nil {
			return rp, errors.New("timing.request_rate: ramp ramps the rate, and arrival.concurrency_burst() has none; use concurrency_ramp")
		}
	}
	return rp, nil
}

func (r *RequestRate) load(rp rateParts) Load {
	l := Load{Mode: "request_rate", Rate: r.Rate, Concurrency: r.MaxConcurrency, OpenLoop: !isClosedLoop(rp.arrival),
		Arrival: rp.arrival.String()}
	name := strings.TrimSuffix(strings.TrimPrefix(rp.arrival.String(), "arrival."), "()")
	l.Description = fmt.Sprintf("%s req/s, %s arrivals", num(r.Rate), name)
	if r.MaxConcurrency > 0 {
		l.Description += fmt.Sprintf(", at most %d sessions in flight", r.MaxConcurrency)
	}
	if rp.ramp != nil {
		l.Ramp = rp.ramp.String()
		l.Description += ", rate ramped over " + rp.ramp.Duration().String()
	}
	return l
}

func (r *RequestRate) closedLoop(rp rateParts) *Concurrency {
	return &Concurrency{N: r.MaxConcurrency, Ramp: rp.concRamp, mode: "request_rate", desc: r.String()}
}

// Plan implements Strategy.
func (r *RequestRate) Plan(env *Env) (*Plan, error) {
	rp, err := r.parts(env)
	if err != nil {
		return nil, err
	}
	if isClosedLoop(rp.arrival) {
		return r.closedLoop(rp).Plan(env)
	}
	if env.Dataset == nil || env.Dataset.Len() == 0 {
		return nil, errors.New("timing.request_rate: the dataset has no conversations")
	}
	if err := checkRateSplit("request_rate", env, r.MaxConcurrency); err != nil {
		return nil, err
	}
	pl := &Plan{Load: r.load(rp)}
	estimate(pl, env.Stop, r.Rate, meanTurns(env.Dataset))
	if rp.ramp != nil {
		steps := rp.ramp.Steps(r.Rate, false, NewRand(env.Seed, "ramp.rate"))
		if env.Stop.Duration > 0 {
			pl.Requests = int64(expectedCount(r.Rate, steps, env.Stop.Duration))
			if env.Stop.Requests > 0 && int64(env.Stop.Requests) < pl.Requests {
				pl.Requests, pl.Bound = int64(env.Stop.Requests), StopRequests
			}
		}
		if pl.Bound == StopRequests {
			s := NewSchedule(Constant{}, r.Rate, steps, nil, pl.Requests)
			var last int64
			for off, ok := s.Next(); ok; off, ok = s.Next() {
				last = int64(off)
			}
			pl.Duration = time.Duration(last)
		}
	}
	shardPlan(pl, env.Shard)
	return pl, nil
}

// checkRateSplit refuses an open-loop load some shard would get nothing of.
func checkRateSplit(strategy string, env *Env, maxConc int) error {
	if err := checkStopSplit(strategy, env); err != nil {
		return err
	}
	if sh := env.Shard; !sh.Whole() && maxConc > 0 && maxConc < sh.Count {
		return splitError(strategy, "max_concurrency", int64(maxConc), sh)
	}
	return nil
}

// shardPlan turns the estimates of an open-loop plan into its shard's part:
// every Count-th slot.
func shardPlan(pl *Plan, sh config.Shard) {
	if sh.Whole() {
		return
	}
	if pl.Requests > 0 {
		pl.Requests = stripe(sh, pl.Requests)
	}
	pl.Load.Description += shardNote(sh, fmt.Sprintf("every %s slot of the schedule from slot %d", ordinal(sh.Count), sh.Index))
}

// ordinal renders 4 as "4th".
func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// Run implements Strategy.
func (r *RequestRate) Run(ctx context.Context, env *Env) (*Report, error) {
	rp, err := r.parts(env)
	if err != nil {
		return nil, err
	}
	if isClosedLoop(rp.arrival) {
		rep, err := r.closedLoop(rp).Run(ctx, env)
		if rep != nil {
			rep.Load.Mode = "request_rate"
		}
		return rep, err
	}
	if env.Sampler == nil {
		return nil, errors.New("timing.request_rate: Env needs a Sampler")
	}
	if err := checkRateSplit("request_rate", env, r.MaxConcurrency); err != nil {
		return nil, err
	}
	p, err := newPhase(ctx, env)
	if err != nil {
		return nil, err
	}
	var steps []Step
	if rp.ramp != nil {
		steps = rp.ramp.Steps(r.Rate, false, NewRand(env.Seed, "ramp.rate"))
	}
	// The schedule is exact when its count is known: a request count, or
	// the arrivals a duration holds (a sessions stop leaves it open).
	var exact int64
	exhausted := StopRequests // why the schedule ends
	if r.Exact {
		if env.Stop.Duration > 0 {
			exact, exhausted = int64(math.Floor(expectedCount(r.Rate, steps, env.Stop.Duration)+1e-9)), StopDuration
			if exact == 0 {
				exact = -1
			}
		}
		if n := int64(env.Stop.Requests); n > 0 && (exact <= 0 || n < exact) {
			exact, exhausted = n, StopRequests
		}
	}
	if exact < 0 {
		p.stop(StopDuration) // the duration holds no arrival at this rate
		return p.report(r.load(rp)), nil
	}
	sched := NewSchedule(rp.arrival, r.Rate, steps, NewRand(env.Seed, "schedule"), exact)
	r.issue(p, rp, sched, func() string { return exhausted })
	return p.report(r.load(rp)), nil
}

// issue releases the slots of an open-loop schedule under the concurrency
// cap (possibly ramped) and waits until every session it started ended.
// exhausted says why the schedule ran out.
func (r *RequestRate) issue(p *phase, rp rateParts, sched arrivals, exhausted func() string) {
	ctx := p.issueCtx
	is := &issuer{p: p, ready: newReadyQueue(), stopped: make(chan struct{}), exhausted: exhausted,
		idle: make(chan sessionTask)}
	if !p.shard.Whole() {
		sched = &stripedArrivals{all: sched, sh: p.shard}
	}
	if r.MaxConcurrency > 0 {
		// The cap is split like concurrency slots: slot g is shard g mod N's.
		capacity := int(stripe(p.shard, int64(r.MaxConcurrency)))
		initial := capacity
		var csteps []Step
		if rp.concRamp != nil {
			csteps = rp.concRamp.Steps(float64(r.MaxConcurrency), true, NewRand(p.env.Seed, "ramp.concurrency"))
			for k := range csteps {
				csteps[k].Value = float64(stripe(p.shard, int64(csteps[k].Value)))
			}
			initial = int(csteps[0].Value)
		}
		is.slots = newSlots(capacity, initial)
		if csteps != nil {
			rampCtx, cancel := context.WithCancel(ctx)
			p.rampSlots(rampCtx, is.slots, csteps)
			defer cancel()
			is.stopRamp = cancel
		}
	}
	is.run(ctx, sched)
	if is.stopRamp != nil {
		is.stopRamp()
	}
	close(is.stopped)
	p.wg.Wait()
}

// arrivals is an open-loop schedule: offsets from the phase start, false
// once it is exhausted.
type arrivals interface {
	Next() (time.Duration, bool)
}

// issuer releases the slots of an open-loop schedule.
type issuer struct {
	p       *phase
	slots   *slots // nil = no cap
	ready   *readyQueue
	stopped chan struct{} // closed when issuing has ended
	// stopRamp ends the concurrency ramp's goroutine.
	stopRamp func()
	// exhausted gives the stop reason when an exact schedule runs out.
	exhausted func() string
	// idle hands a new session to a session goroutine that has finished
	// its last one (see newSession).
	idle chan sessionTask
}

// sessionTask is a session started on the slot at `at`.
type sessionTask struct {
	s               *Session
	at, num, credit int64
}

func (is *issuer) run(ctx context.Context, sched arrivals) {
	p := is.p
	for {
		off, ok := sched.Next()
		if !ok {
			p.stop(is.exhausted())
			return
		}
		at := p.t0 + int64(off)
		if p.pastDeadline(at) {
			return
		}
		if err := p.env.Clock.SleepUntil(ctx, at); err != nil {
			if p.outer.Err() != nil {
				p.stop(StopCancelled)
				is.dropDue(sched, at)
			}
			return
		}
		if !is.dispatch(ctx, at) {
			if p.outer.Err() != nil {
				p.stop(StopCancelled)
				is.dropDue(sched, at)
			}
			return
		}
	}
}

// dropDue counts the slot at and every later one already due as dropped.
func (is *issuer) dropDue(sched arrivals, at int64) {
	p := is.p
	now := p.env.Clock.Now()
	for at <= now && (p.deadline == 0 || at < p.deadline) {
		if p.maxReq > 0 && p.issued()+p.dropped.Load() >= p.maxReq {
			return
		}
		p.drop(at)
		off, ok := sched.Next()
		if !ok {
			return
		}
		at = p.t0 + int64(off)
	}
}

// dispatch gives the slot scheduled at `at` to a ready turn or a new
// session, waiting for one if the cap holds new sessions back. It returns
// false when issuing must end.
func (is *issuer) dispatch(ctx context.Context, at int64) bool {
	p := is.p
	for {
		if w := is.ready.pop(); w != nil {
			num, ok := p.takeRequest(at)
			if !ok {
				is.ready.push(w) // released by is.stopped
				return false
			}
			w.grant <- grant{at: at, num: num, credit: p.env.Clock.Now()}
			return true
		}
		if !p.sessionsLeft() {
			if p.active.Load() == 0 {
				p.stop(StopSessions)
				return false
			}
			p.idle.Add(1)
			return true
		}
		if is.slots == nil {
			if started, retry := is.newSession(ctx, at); started || !retry {
				return started
			}
			continue
		}
		select {
		case <-is.slots.tokens:
			if p.deadline > 0 && p.env.Clock.Now() >= p.deadline {
				// Held back past the end of the phase: never sent.
				is.slots.release()
				p.stop(StopDuration)
				p.drop(at)
				return false
			}
			if started, retry := is.newSession(ctx, at); started || !retry {
				return started
			}
		case <-is.ready.notify:
			// A running session has a turn ready: it takes the slot.
		case <-ctx.Done():
			return false
		}
	}
}

// newSession starts a session on the slot at `at` (holding a cap token if
// there is a cap). When it cannot, retry says whether the slot may still go
// to a running session's next turn (the sessions budget is spent).
func (is *issuer) newSession(ctx context.Context, at int64) (started, retry bool) {
	p := is.p
	s, num, ok := p.startSession(at, -1, 0)
	if !ok {
		if is.slots != nil {
			is.slots.release()
		}
		return false, p.reason() == StopSessions
	}
	t := sessionTask{s: s, at: at, num: num, credit: p.env.Clock.Now()}
	// A goroutine whose session ended takes the new one, else a new one
	// starts. Reusing them matters at open-loop rates: a new goroutine
	// grows its stack again on the way through the sender, and copying
	// stacks cost about 5 % of the client's CPU.
	select {
	case is.idle <- t:
	default:
		p.wg.Add(1)
		go is.sessions(ctx, t)
	}
	return true, false
}

// sessions runs t, then whatever session the issuer hands it next, until
// issuing ends.
func (is *issuer) sessions(ctx context.Context, t sessionTask) {
	p := is.p
	defer p.wg.Done()
	for {
		is.session(ctx, t.s, t.at, t.num, t.credit)
		p.endSession(t.s)
		if is.slots != nil {
			is.slots.release()
		}
		select {
		case t = <-is.idle:
		case <-is.stopped:
			return
		}
	}
}

// session sends s's turns: the first now, each later one on the first slot
// after it is ready.
func (is *issuer) session(ctx context.Context, s *Session, sched, num, credit int64) {
	p := is.p
	done := p.sendReleased(s, 0, num, sched, credit)
	var w *waiter
	for turn := 1; turn < s.Turns; turn++ {
		if !p.waitUntil(ctx, nextTurnAt(s, turn, done, 1)) {
			return
		}
		if w == nil {
			w = &waiter{grant: make(chan grant, 1)}
		}
		is.ready.push(w)
		var g grant
		select {
		case g = <-w.grant:
		case <-is.stopped:
			return
		}
		done = p.sendReleased(s, turn, g.num, g.at, g.credit)
	}
}

type grant struct{ at, num, credit int64 }

type waiter struct{ grant chan grant }

// readyQueue holds sessions whose next turn is ready, first come first
// served. Pushing never blocks; notify wakes an issuer waiting for the cap.
type readyQueue struct {
	mu     sync.Mutex
	q      []*waiter
	head   int
	notify chan struct{}
}

func newReadyQueue() *readyQueue { return &readyQueue{notify: make(chan struct{}, 1)} }

func (r *readyQueue) push(w *waiter) {
	r.mu.Lock()
	r.q = append(r.q, w)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *readyQueue) pop() *waiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.head == len(r.q) {
		return nil
	}
	w := r.q[r.head]
	r.q[r.head] = nil
	r.head++
	if r.head == len(r.q) {
		r.q, r.head = r.q[:0], 0
	}
	return w
}
