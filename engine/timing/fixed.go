package timing

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/config"
)

// FixedSchedule replays a trace: the first turn of each conversation is sent
// at its timestamp (milliseconds in the dataset), later turns at their own
// timestamps or after their think time. Open loop: when the previous turn of
// a session or the MaxConcurrency cap holds a request back, it is sent late
// and keeps its scheduled time.
//
// Timestamps are taken relative to zero by default; AutoOffset makes the
// first entry's timestamp zero; StartOffset and EndOffset select a window of
// the trace (both inclusive, StartOffset becoming zero). Speedup divides
// every timestamp and think time (2 replays twice as fast).
//
//	timing.fixed_schedule(auto_offset=True, speedup=2)
type FixedSchedule struct {
	AutoOffset             bool
	StartOffset, EndOffset time.Duration
	HasStart, HasEnd       bool
	Speedup                float64
	MaxConcurrency         int
}

// NewFixedSchedule validates a trace replay.
func NewFixedSchedule(auto bool, start, end time.Duration, hasStart, hasEnd bool, speedup float64, maxConc int) (*FixedSchedule, error) {
	f := &FixedSchedule{AutoOffset: auto, StartOffset: start, EndOffset: end, HasStart: hasStart, HasEnd: hasEnd,
		Speedup: speedup, MaxConcurrency: maxConc}
	switch {
	case auto && hasStart:
		return nil, errors.New("timing.fixed_schedule: give auto_offset or start_offset, not both")
	case hasStart && start < 0:
		return nil, fmt.Errorf("timing.fixed_schedule: start_offset must be >= 0, got %s", start)
	case hasEnd && end < 0:
		return nil, fmt.Errorf("timing.fixed_schedule: end_offset must be >= 0, got %s", end)
	case hasStart && hasEnd && end < start:
		return nil, fmt.Errorf("timing.fixed_schedule: end_offset (%s) must be >= start_offset (%s)", end, start)
	case !(speedup > 0) || math.IsInf(speedup, 0):
		return nil, fmt.Errorf("timing.fixed_schedule: speedup must be a positive factor, got %v", speedup)
	case maxConc < 0:
		return nil, fmt.Errorf("timing.fixed_schedule: max_concurrency must be >= 0, got %d", maxConc)
	}
	return f, nil
}

func (f *FixedSchedule) String() string {
	var args []string
	if f.AutoOffset {
		args = append(args, "auto_offset=True")
	}
	if f.HasStart {
		args = append(args, fmt.Sprintf("start_offset=%q", f.StartOffset.String()))
	}
	if f.HasEnd {
		args = append(args, fmt.Sprintf("end_offset=%q", f.EndOffset.String()))
	}
	if f.Speedup != 1 {
		args = append(args, "speedup="+num(f.Speedup))
	}
	if f.MaxConcurrency > 0 {
		args = append(args, fmt.Sprintf("max_concurrency=%d", f.MaxConcurrency))
	}
	return "timing.fixed_schedule(" + strings.Join(args, ", ") + ")"
}

// traceEntry is one conversation of the replay: when its first turn goes.
type traceEntry struct {
	conv int
	ms   float64
}

// entries returns the conversations in the window, in timestamp order, and
// the timestamp that maps to the phase start.
func (f *FixedSchedule) entries(env *Env) ([]traceEntry, float64, error) {
	if env.Dataset == nil || env.Dataset.Len() == 0 {
		return nil, 0, errors.New("timing.fixed_schedule: the dataset has no conversations")
	}
	start, end := float64(f.StartOffset)/1e6, float64(f.EndOffset)/1e6
	n := env.Dataset.Len()
	es := make([]traceEntry, 0, n)
	for i := range n {
		c := env.Dataset.Conversation(i)
		if len(c.Turns) == 0 {
			continue
		}
		t := &c.Turns[0]
		if !t.HasTimestamp {
			return nil, 0, fmt.Errorf("timing.fixed_schedule: conversation %q has no timestamp on its first turn; a fixed schedule needs a trace with timestamps", c.ID)
		}
		if t.TimestampMs < 0 || math.IsNaN(t.TimestampMs) {
			return nil, 0, fmt.Errorf("timing.fixed_schedule: conversation %q: timestamp must be >= 0 ms, got %v", c.ID, t.TimestampMs)
		}
		if (f.HasStart && t.TimestampMs < start) || (f.HasEnd && t.TimestampMs > end) {
			continue
		}
		es = append(es, traceEntry{i, t.TimestampMs})
	}
	if len(es) == 0 {
		return nil, 0, errors.New("timing.fixed_schedule: no trace entry falls between start_offset and end_offset")
	}
	slices.SortStableFunc(es, func(a, b traceEntry) int {
		switch {
		case a.ms < b.ms:
			return -1
		case a.ms > b.ms:
			return 1
		}
		return 0
	})
	zero := 0.0
	switch {
	case f.AutoOffset:
		zero = es[0].ms
	case f.HasStart:
		zero = start
	}
	return es, zero, nil
}

// offset maps a trace timestamp (ms) to an offset from the phase start.
func (f *FixedSchedule) offset(ms, zero float64) int64 {
	return int64(math.Round((ms - zero) * 1e6 / f.Speedup))
}

func (f *FixedSchedule) load(es []traceEntry, zero float64) Load {
	l := Load{Mode: "fixed_schedule", Concurrency: f.MaxConcurrency, OpenLoop: true}
	span := time.Duration(f.offset(es[len(es)-1].ms, zero))
	l.Description = fmt.Sprintf("trace replay: %d sessions over %s", len(es), span)
	if f.Speedup != 1 {
		l.Description += fmt.Sprintf(" (%s× speed)", num(f.Speedup))
	}
	if f.MaxConcurrency > 0 {
		l.Description += fmt.Sprintf(", at most %d sessions in flight", f.MaxConcurrency)
	}
	return l
}

// Plan implements Strategy.
func (f *FixedSchedule) Plan(env *Env) (*Plan, error) {
	es, zero, err := f.entries(env)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Load: f.load(es, zero), Bound: StopSchedule}
	var reqs int64
	for _, e := range es {
		reqs += int64(len(env.Dataset.Conversation(e.conv).Turns))
	}
	pl.Requests = reqs
	pl.Duration = time.Duration(f.offset(es[len(es)-1].ms, zero))
	if n := env.Stop.Sessions; n > 0 && n < len(es) {
		pl.Bound, pl.Requests = StopSessions, 0
		for _, e := range es[:n] {
			pl.Requests += int64(len(env.Dataset.Conversation(e.conv).Turns))
		}
		pl.Duration = time.Duration(f.offset(es[n-1].ms, zero))
	}
	if n := int64(env.Stop.Requests); n > 0 && n < pl.Requests {
		pl.Bound, pl.Requests = StopRequests, n
	}
	if d := env.Stop.Duration; d > 0 && d < pl.Duration {
		pl.Bound, pl.Duration = StopDuration, d
	}
	if sh := env.Shard; !sh.Whole() {
		if err := f.checkSplit(env, es); err != nil {
			return nil, err
		}
		if pl.Bound == StopRequests {
			pl.Requests = f.requestShare(env, es, sh)
		} else {
			pl.Requests = 0
			for e := range es {
				if owns(sh, int64(e)) && (env.Stop.Sessions == 0 || e < env.Stop.Sessions) {
					pl.Requests += int64(len(env.Dataset.Conversation(es[e].conv).Turns))
				}
			}
		}
		pl.Load.Description += shardNote(sh, fmt.Sprintf("trace session %d and every %s after it", sh.Index, ordinal(sh.Count)))
	}
	return pl, nil
}

// checkSplit refuses a trace replay some shard would send nothing of.
func (f *FixedSchedule) checkSplit(env *Env, es []traceEntry) error {
	sh := env.Shard
	if sh.Whole() {
		return nil
	}
	if err := checkStopSplit("fixed_schedule", env); err != nil {
		return err
	}
	if len(es) < sh.Count {
		return splitError("fixed_schedule", "the trace's sessions", int64(len(es)), sh)
	}
	if f.MaxConcurrency > 0 && f.MaxConcurrency < sh.Count {
		return splitError("fixed_schedule", "max_concurrency", int64(f.MaxConcurrency), sh)
	}
	if env.Stop.Requests > 0 {
		for i := range sh.Count {
			if f.requestShare(env, es, config.Shard{Index: i, Count: sh.Count}) == 0 {
				return splitError("fixed_schedule", "requests", int64(env.Stop.Requests), sh)
			}
		}
	}
	return nil
}

// requestShare is shard sh's part of a requests stop: of the trace's
// turns in the order they come due — a timestamped turn at its timestamp,
// another at the previous turn's time plus its think time (response times
// are not known in advance) —, the first Stop.Requests that fall on its
// sessions. A single process hands the budget out as turns come due, so
// this is its split whenever responses are shorter than the gaps.
func (f *FixedSchedule) requestShare(env *Env, es []traceEntry, sh config.Shard) int64 {
	type due struct {
		ms    float64
		entry int
	}
	var turns []due
	for e := range es {
		if env.Stop.Sessions > 0 && e >= env.Stop.Sessions {
			break
		}
		t := es[e].ms
		for k, turn := range env.Dataset.Conversation(es[e].conv).Turns {
			switch {
			case turn.HasTimestamp && k > 0:
				t = turn.TimestampMs
			case k > 0 && turn.HasDelay:
				t += turn.DelayMs
			}
			turns = append(turns, due{t, e})
		}
	}
	slices.SortStableFunc(turns, func(a, b due) int {
		switch {
		case a.ms < b.ms:
			return -1
		case a.ms > b.ms:
			return 1
		}
		return a.entry - b.entry
	})
	var mine int64
	for _, d := range turns[:min(len(turns), env.Stop.Requests)] {
		if owns(sh, int64(d.entry)) {
			mine++
		}
	}
	return mine
}

// Run implements Strategy.
func (f *FixedSchedule) Run(ctx context.Context, env *Env) (*Report, error) {
	es, zero, err := f.entries(env)
	if err != nil {
		return nil, err
	}
	if err := f.checkSplit(env, es); err != nil {
		return nil, err
	}
	p, err := newPhase(ctx, env)
	if err != nil {
		return nil, err
	}
	sh := env.Shard
	if !sh.Whole() {
		p.budgets(f.requestShare(env, es, sh), p.maxSess)
	}
	var cap *slots
	if f.MaxConcurrency > 0 {
		n := int(stripe(sh, int64(f.MaxConcurrency)))
		cap = newSlots(n, n)
	}
	at := func(s *Session, turn int, prevDone int64) int64 {
		t := &s.Conv.Turns[turn]
		if t.HasTimestamp {
			return p.t0 + f.offset(t.TimestampMs, zero)
		}
		return nextTurnAt(s, turn, prevDone, f.Speedup)
	}
	i := 0
	for ; i < len(es); i++ {
		if !owns(sh, int64(i)) {
			continue // another shard's session
		}
		sched := p.t0 + f.offset(es[i].ms, zero)
		if !p.waitUntil(p.startCtx, sched) || p.startCtx.Err() != nil {
			break
		}
		if cap != nil {
			select {
			case <-cap.tokens:
			case <-p.startCtx.Done():
			}
			if p.startCtx.Err() != nil {
				break
			}
			if p.deadline > 0 && p.env.Clock.Now() >= p.deadline {
				cap.release()
				p.stop(StopDuration)
				p.drop(sched)
				break
			}
		}
		s, num, ok := p.startSession(sched, es[i].conv, 0)
		if !ok {
			if cap != nil {
				cap.release()
			}
			break
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.runTurns(s, 0, sched, num, at)
			p.endSession(s)
			if cap != nil {
				cap.release()
			}
		}()
	}
	if i == len(es) {
		p.stop(StopSchedule)
	} else if p.outer.Err() != nil {
		// Entries already due when the run was cancelled are dropped.
		now := p.env.Clock.Now()
		for j := i; j < len(es); j++ {
			if !owns(sh, int64(j)) {
				continue
			}
			sched := p.t0 + f.offset(es[j].ms, zero)
			if sched > now || (p.deadline > 0 && sched >= p.deadline) {
				break
			}
			p.drop(sched)
		}
	}
	p.wg.Wait()
	return p.report(f.load(es, zero)), nil
}
