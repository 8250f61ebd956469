package timing

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dataset"
)

// phase is the state one strategy run shares between its goroutines: the
// stop conditions as budgets, counters, session creation and sending.
type phase struct {
	env *Env
	// outer is the caller's context (Ctrl-C). issueCtx ends when nothing
	// more may be sent (requests stop); startCtx also when no new session
	// may start (sessions stop). Sleepers wake on them.
	outer, issueCtx, startCtx context.Context
	endIssue, endStart        context.CancelFunc

	t0       int64
	deadline int64 // absolute; 0 = none
	maxReq   int64
	maxSess  int64

	reqs    atomic.Int64 // request numbers handed out
	sessRes atomic.Int64 // session budget reserved
	sessNum atomic.Int64 // sessions started
	active  atomic.Int64 // sessions running
	dropped atomic.Int64
	idle    atomic.Int64
	// withdrawn counts request numbers handed out but never sent (held
	// for a prefill slot past the phase's end); they count as dropped.
	withdrawn atomic.Int64
	firstSch  atomic.Int64
	lastSch   atomic.Int64

	stopMu     sync.Mutex
	stopReason string

	// shard is the process's part of the load: budgets are the shard's,
	// request and session numbers are counted over all shards.
	shard config.Shard
	// prefill caps requests waiting for their first token (nil = none);
	// endPrefillRamp stops its ramp.
	prefill        *prefillGate
	endPrefillRamp context.CancelFunc

	sampleMu sync.Mutex
	selector URLSelector
	// spare holds ended sessions for reuse (Env.ReuseSessions).
	spare      sync.Pool
	cancelSeed uint64
	wg         sync.WaitGroup
}

func newPhase(ctx context.Context, env *Env) (*phase, error) {
	if env.Clock == nil || env.Sender == nil || env.Dataset == nil {
		return nil, errors.New("timing: Env needs Clock, Sender and Dataset")
	}
	if env.Dataset.Len() == 0 {
		return nil, errors.New("timing: the dataset has no conversations")
	}
	p := &phase{env: env, maxReq: int64(env.Stop.Requests), maxSess: int64(env.Stop.Sessions),
		selector: env.URLSelector, cancelSeed: splitmix64(env.Seed ^ labelHash("cancel")), shard: env.Shard}
	if p.selector == nil {
		p.selector = &RoundRobin{}
	}
	if !env.Shard.Whole() {
		// Budgets split like the slots of an open-loop schedule; strategies
		// that split otherwise call budgets.
		p.maxReq, p.maxSess = stripe(env.Shard, p.maxReq), stripe(env.Shard, p.maxSess)
		if env.Sampler != nil {
			e := *env
			e.Sampler = &stridedSampler{all: env.Sampler, sh: env.Shard}
			p.env = &e
		}
	}
	p.firstSch.Store(math.MaxInt64)
	p.outer = ctx
	p.issueCtx, p.endIssue = context.WithCancel(ctx)
	p.startCtx, p.endStart = context.WithCancel(p.issueCtx)
	p.t0 = env.Clock.Now()
	if env.FixedStart {
		p.t0 = env.Start
	}
	if env.Stop.Duration > 0 {
		p.deadline = p.t0 + int64(env.Stop.Duration)
	}
	if err := env.Prefill.Validate(); err != nil {
		p.close()
		return nil, fmt.Errorf("timing: %w", err)
	}
	var rampCtx context.Context
	rampCtx, p.endPrefillRamp = context.WithCancel(ctx)
	p.prefill = p.newPrefillGate(rampCtx)
	return p, nil
}

// budgets sets the shard's request and session budgets (of stops that are
// set: a zero stop stays unlimited).
func (p *phase) budgets(req, sess int64) {
	if p.maxReq > 0 {
		p.maxReq = req
	}
	if p.maxSess > 0 {
		p.maxSess = sess
	}
}

// stop records why issuing ended (the first reason wins) and wakes the
// goroutines waiting to send what the reason forbids.
func (p *phase) stop(reason string) {
	p.stopMu.Lock()
	if p.stopReason == "" {
		p.stopReason = reason
	}
	p.stopMu.Unlock()
	// A duration stop needs no wake-up: every wait checks its own time
	// against the deadline first, and requests scheduled before it still go.
	switch reason {
	case StopRequests:
		p.endIssue()
	case StopSessions:
		p.endStart()
	case StopCancelled:
		// The run's context is being cancelled and issueCtx will follow,
		// but a goroutine that saw the cancellation could otherwise loop
		// back before it does (start a session, drop it, again).
		p.endIssue()
	}
}

// close releases the phase's contexts.
func (p *phase) close() {
	p.endIssue()
	if p.endPrefillRamp != nil {
		p.endPrefillRamp()
	}
}

func (p *phase) reason() string {
	p.stopMu.Lock()
	defer p.stopMu.Unlock()
	return p.stopReason
}

// pastDeadline reports whether a request scheduled at t falls after the
// duration stop, and records that stop.
func (p *phase) pastDeadline(t int64) bool {
	if p.deadline > 0 && t >= p.deadline {
		p.stop(StopDuration)
		return true
	}
	return false
}

// takeRequest hands out the next request number for a turn scheduled at t,
// or reports that a stop condition forbids it.
func (p *phase) takeRequest(t int64) (int64, bool) {
	if p.pastDeadline(t) {
		return 0, false
	}
	if p.maxReq == 0 {
		return p.reqs.Add(1) - 1, true // no budget: no compare-and-swap to retry
	}
	for {
		n := p.reqs.Load()
		if p.maxReq > 0 && n >= p.maxReq {
			p.stop(StopRequests)
			return 0, false
		}
		if p.reqs.CompareAndSwap(n, n+1) {
			return n, true
		}
	}
}

// reserveSession takes one unit of the sessions budget.
func (p *phase) reserveSession() bool {
	if p.maxSess == 0 {
		p.sessRes.Add(1)
		return true
	}
	for {
		n := p.sessRes.Load()
		if p.maxSess > 0 && n >= p.maxSess {
			p.stop(StopSessions)
			return false
		}
		if p.sessRes.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// sessionsLeft reports whether new sessions may still start.
func (p *phase) sessionsLeft() bool { return p.maxSess == 0 || p.sessRes.Load() < p.maxSess }

// startSession creates a session whose first turn is scheduled at t and takes
// that turn's request number. conv < 0 asks the sampler for a conversation.
// ok is false when a stop condition forbids it.
func (p *phase) startSession(t int64, conv, turns int) (*Session, int64, bool) {
	if p.pastDeadline(t) || !p.reserveSession() {
		return nil, 0, false
	}
	num, ok := p.takeRequest(t)
	if !ok {
		p.sessRes.Add(-1)
		return nil, 0, false
	}
	p.sampleMu.Lock()
	if conv < 0 {
		conv = p.env.Sampler.Next()
	}
	url := 0
	if p.env.URLs > 1 {
		url = p.selector.Select(p.env.URLs)
	}
	// Numbered with the draw, so that session N gets the N-th conversation
	// of the seeded sequence whichever slot gets here first.
	sn := p.sessNum.Add(1) - 1
	p.sampleMu.Unlock()
	c := p.env.Dataset.Conversation(conv)
	if turns <= 0 || turns > len(c.Turns) {
		turns = len(c.Turns)
	}
	id := ""
	if p.env.NewSessionID != nil {
		id = p.env.NewSessionID()
	} else {
		id = uuid.NewString()
	}
	s := p.newSession()
	s.Num, s.ConvIndex, s.Conv, s.CorrelationID = globalNum(p.shard, sn), conv, c, id
	s.URLIndex, s.Turns = url, turns
	p.active.Add(1)
	return s, num, true
}

// newSession returns an empty session: an ended one when sessions are
// reused, its History emptied but its capacity kept.
func (p *phase) newSession() *Session {
	if p.env.ReuseSessions {
		if s, _ := p.spare.Get().(*Session); s != nil {
			clear(s.History) // let the last session's answers go
			*s = Session{History: s.History[:0]}
			return s
		}
	}
	return &Session{}
}

// endSession marks s finished; it is reused when sessions are.
func (p *phase) endSession(s *Session) {
	p.active.Add(-1)
	if p.env.ReuseSessions {
		p.spare.Put(s)
	}
}

// send issues turn of s as request num scheduled at sched, and returns when
// it ended.
func (p *phase) send(s *Session, turn int, num, sched int64) int64 {
	return p.sendReleased(s, turn, num, sched, p.env.Clock.Now())
}

// sendReleased is send for a credit released at credit by another goroutine.
// Under a prefill cap the request first waits for a prefill slot (the wait
// moves its credit time); when the phase ends meanwhile it is never sent.
func (p *phase) sendReleased(s *Session, turn int, num, sched, credit int64) int64 {
	num = globalNum(p.shard, num)
	var slot *prefillSlot
	if p.prefill != nil {
		waited, ok := p.acquirePrefill()
		if !ok {
			p.withdrawn.Add(1)
			p.drop(sched)
			return p.env.Clock.Now()
		}
		if waited {
			credit = p.env.Clock.Now()
		}
		slot = p.prefillSlot(s)
	}
	c := p.newCredit(s)
	*c = Credit{Session: s, Turn: turn, Num: num, Phase: p.env.Phase, PhaseIndex: p.env.PhaseIndex,
		ScheduledNs: sched, CreditNs: credit, prefill: slot}
	if pc := p.env.Cancel.Percent; pc > 0 && unitFloat(splitmix64(p.cancelSeed+uint64(num)))*100 < pc {
		c.Cancel, c.CancelAfter = true, p.env.Cancel.Delay
	}
	p.noteScheduled(sched)
	done := p.env.Sender.Send(c)
	slot.release() // no first token seen (an error, a non-streamed answer)
	return done
}

// newCredit returns the credit for s's next turn: the session's own when
// sessions are reused (a session has one request in flight at a time).
func (p *phase) newCredit(s *Session) *Credit {
	if p.env.ReuseSessions {
		return &s.credit
	}
	return &Credit{}
}

// prefillSlot returns a prefill slot of the phase's gate for s's next turn,
// not yet released.
func (p *phase) prefillSlot(s *Session) *prefillSlot {
	if p.env.ReuseSessions {
		s.slot.gate = p.prefill
		s.slot.done.Store(false)
		return &s.slot
	}
	return &prefillSlot{gate: p.prefill}
}

// issued is the number of requests sent so far.
func (p *phase) issued() int64 { return p.reqs.Load() - p.withdrawn.Load() }

// noteScheduled widens the scheduled-time bounds with t.
func (p *phase) noteScheduled(t int64) {
	for {
		v := p.firstSch.Load()
		if t >= v || p.firstSch.CompareAndSwap(v, t) {
			break
		}
	}
	for {
		v := p.lastSch.Load()
		if t <= v || p.lastSch.CompareAndSwap(v, t) {
			break
		}
	}
}

// drop counts a due slot that was never sent.
func (p *phase) drop(t int64) {
	p.dropped.Add(1)
	p.noteScheduled(t)
}

// waitUntil sleeps until t unless the duration stop or ctx intervenes.
func (p *phase) waitUntil(ctx context.Context, t int64) bool {
	if p.pastDeadline(t) {
		return false
	}
	if err := p.env.Clock.SleepUntil(ctx, t); err != nil {
		if p.outer.Err() != nil {
			p.stop(StopCancelled)
		}
		return false
	}
	return true
}

// nextTurnAt is when turn (> 0) of s may go after the previous one ended at
// prevDone: after its think time. Timestamped turns (traces) are scheduled by
// the fixed schedule instead.
func nextTurnAt(s *Session, turn int, prevDone int64, speedup float64) int64 {
	t := &s.Conv.Turns[turn]
	if t.HasDelay && t.DelayMs > 0 {
		return prevDone + int64(t.DelayMs*1e6/speedup)
	}
	return prevDone
}

// runTurns sends turns from..s.Turns-1 of s, each after the previous one
// ended (plus its think time, or at its own time when at says so), and
// returns when the session is over. first is the request number of turn
// `from` when already taken (>= 0).
func (p *phase) runTurns(s *Session, from int, sched, first int64, at func(s *Session, turn int, prevDone int64) int64) {
	num := first
	var done int64
	for turn := from; turn < s.Turns; turn++ {
		if turn > from {
			sched = at(s, turn, done)
			if !p.waitUntil(p.issueCtx, sched) {
				return
			}
			var ok bool
			if num, ok = p.takeRequest(sched); !ok {
				return
			}
		}
		done = p.send(s, turn, num, sched)
	}
}

// report builds the phase's Report and releases the phase.
func (p *phase) report(load Load) *Report {
	p.close()
	if p.outer.Err() != nil {
		p.stop(StopCancelled)
	}
	r := &Report{Load: load, StartNs: p.t0, EndNs: p.env.Clock.Now(),
		Issued: p.issued(), Sessions: p.sessNum.Load(), Dropped: p.dropped.Load(),
		Idle: p.idle.Load(), Stop: p.reason()}
	if f := p.firstSch.Load(); f != math.MaxInt64 {
		r.FirstScheduledNs, r.LastScheduledNs = f, p.lastSch.Load()
	}
	return r
}

// slots is a counting semaphore whose capacity can grow while it is used: a
// concurrency cap, possibly ramped. Tokens are the free slots.
type slots struct{ tokens chan struct{} }

func newSlots(capacity, initial int) *slots {
	s := &slots{tokens: make(chan struct{}, capacity)}
	for range initial {
		s.tokens <- struct{}{}
	}
	return s
}

func (s *slots) release() { s.tokens <- struct{}{} }

// grow adds n free slots (a ramp step).
func (s *slots) grow(n int) {
	for range n {
		s.tokens <- struct{}{}
	}
}

// rampSlots raises the cap along steps in a goroutine until the ramp ends or
// ctx is done. The first step's level must already be in the semaphore.
func (p *phase) rampSlots(ctx context.Context, s *slots, steps []Step) {
	level := int(steps[0].Value)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for _, st := range steps[1:] {
			if p.env.Clock.SleepUntil(ctx, p.t0+int64(st.At)) != nil {
				return
			}
			if v := int(st.Value); v > level {
				s.grow(v - level)
				level = v
			}
		}
	}()
}

// meanTurns is the average number of turns per conversation.
func meanTurns(ds dataset.Dataset) float64 {
	n := ds.Len()
	total := 0
	for i := range n {
		total += len(ds.Conversation(i).Turns)
	}
	return float64(total) / float64(n)
}

// estimate fills a plan's counts from its rate (req/s, 0 = unknown) and the
// stop conditions.
func estimate(pl *Plan, stop config.Stop, rate, turns float64) {
	pl.Requests, pl.Duration = -1, 0
	switch {
	case stop.Requests > 0:
		pl.Requests, pl.Bound = int64(stop.Requests), StopRequests
	case stop.Sessions > 0:
		pl.Requests, pl.Bound = int64(math.Round(float64(stop.Sessions)*turns)), StopSessions
	}
	if rate > 0 && pl.Requests > 0 {
		pl.Duration = time.Duration(float64(pl.Requests) / rate * 1e9)
	}
	if stop.Duration > 0 && (pl.Duration == 0 || stop.Duration < pl.Duration) {
		pl.Duration, pl.Bound = stop.Duration, StopDuration
		if rate > 0 {
			pl.Requests = int64(rate * stop.Duration.Seconds())
		} else if stop.Requests == 0 && stop.Sessions == 0 {
			pl.Requests = -1
		}
	}
}
