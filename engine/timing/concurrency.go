package timing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/loadstar/loadstar/engine/config"
)

// Concurrency is the closed-loop strategy: Concurrency sessions in flight at
// once; when one ends the next starts (AIPerf counts sessions, not requests:
// a session holds its slot across its turns and think times).
//
// A request of a closed loop is scheduled for the moment its slot became
// free (the previous turn ended, plus its think time), so its issue delay is
// the client's own overhead. With a ramp, the concurrency rises from 1 to its
// target along the ramp's steps.
//
//	timing.concurrency(concurrency=64, ramp=ramp.linear(duration="30s"))
type Concurrency struct {
	N    int
	Ramp any // Ramp or *plugin.Spec of category ramp; nil = none
	// mode names the strategy in Load (request_rate's concurrency_burst
	// delegates here).
	mode string
	desc string
}

// NewConcurrency validates a closed-loop strategy.
func NewConcurrency(n int, ramp any) (*Concurrency, error) {
	if n < 1 {
		return nil, fmt.Errorf("timing.concurrency: concurrency must be >= 1, got %d", n)
	}
	return &Concurrency{N: n, Ramp: ramp}, nil
}

func (c *Concurrency) String() string {
	if c.desc != "" {
		return c.desc
	}
	args := []string{fmt.Sprintf("concurrency=%d", c.N)}
	if r := describeArg(c.Ramp); r != "" {
		args = append(args, "ramp="+r)
	}
	return "timing.concurrency(" + strings.Join(args, ", ") + ")"
}

func (c *Concurrency) load(ramp Ramp) Load {
	l := Load{Mode: "concurrency", Concurrency: c.N}
	if c.mode != "" {
		l.Mode, l.Arrival = c.mode, ConcurrencyBurst{}.String()
	}
	l.Description = fmt.Sprintf("concurrency %d (closed loop)", c.N)
	if ramp != nil {
		l.Ramp = ramp.String()
		l.Description += ", ramped from 1 over " + ramp.Duration().String()
	}
	return l
}

// Plan implements Strategy.
func (c *Concurrency) Plan(env *Env) (*Plan, error) {
	ramp, err := resolve[Ramp](env, c.Ramp, "timing.concurrency: ramp")
	if err != nil {
		return nil, err
	}
	if env.Dataset == nil || env.Dataset.Len() == 0 {
		return nil, errors.New("timing.concurrency: the dataset has no conversations")
	}
	if err := c.checkSplit(env); err != nil {
		return nil, err
	}
	pl := &Plan{Load: c.load(ramp)}
	estimate(pl, env.Stop, 0, meanTurns(env.Dataset))
	if sh := env.Shard; !sh.Whole() {
		if pl.Requests > 0 {
			pl.Requests = slotShare(sh, pl.Requests, int64(c.N))
		}
		pl.Load.Description += shardNote(sh, fmt.Sprintf("%d of the %d slots (slot %d and every %s after it)",
			stripe(sh, int64(c.N)), c.N, sh.Index, ordinal(sh.Count)))
	}
	return pl, nil
}

// checkSplit refuses a closed loop some shard would get no slot or no
// budget of.
func (c *Concurrency) checkSplit(env *Env) error {
	sh := env.Shard
	if sh.Whole() {
		return nil
	}
	name := "concurrency"
	if c.mode != "" {
		name = c.mode
	}
	if c.N < sh.Count {
		return splitError(name, "concurrency", int64(c.N), sh)
	}
	for _, budget := range []struct {
		what string
		n    int
	}{{"requests", env.Stop.Requests}, {"sessions", env.Stop.Sessions}} {
		for i := range sh.Count {
			if budget.n > 0 && slotShare(config.Shard{Index: i, Count: sh.Count}, int64(budget.n), int64(c.N)) == 0 {
				return splitError(name, budget.what, int64(budget.n), sh)
			}
		}
	}
	return nil
}

// Run implements Strategy.
func (c *Concurrency) Run(ctx context.Context, env *Env) (*Report, error) {
	ramp, err := resolve[Ramp](env, c.Ramp, "timing.concurrency: ramp")
	if err != nil {
		return nil, err
	}
	if env.Sampler == nil {
		return nil, errors.New("timing.concurrency: Env needs a Sampler")
	}
	if err := c.checkSplit(env); err != nil {
		return nil, err
	}
	p, err := newPhase(ctx, env)
	if err != nil {
		return nil, err
	}
	sh := env.Shard
	p.budgets(slotShare(sh, int64(env.Stop.Requests), int64(c.N)), slotShare(sh, int64(env.Stop.Sessions), int64(c.N)))
	// Slot g starts when the concurrency reaches g+1, on the shard that
	// holds it (g mod Count). Its goroutine is started then, never ahead for
	// every configured slot: a ramp to a large concurrency holds only the
	// slots it reached.
	open := 0
	spawn := func(upto int, at int64) {
		for ; open < upto; open++ {
			if !owns(sh, int64(open)) {
				continue // another shard's slot
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.closedLoop(at)
			}()
		}
	}
	if ramp == nil {
		spawn(c.N, p.t0)
	} else {
		steps := ramp.Steps(float64(c.N), true, NewRand(env.Seed, "ramp.concurrency"))
		for _, s := range steps {
			at := p.t0 + int64(s.At)
			if !p.waitUntil(p.startCtx, at) {
				break
			}
			spawn(min(c.N, int(s.Value)), at)
		}
		if p.startCtx.Err() == nil && !p.pastDeadline(p.env.Clock.Now()) {
			spawn(c.N, p.t0+int64(steps[len(steps)-1].At))
		}
	}
	p.wg.Wait()
	return p.report(c.load(ramp)), nil
}

// closedLoop is one concurrency slot: sessions back to back from at.
func (p *phase) closedLoop(at int64) {
	if !p.waitUntil(p.startCtx, at) {
		return
	}
	sched := at
	for p.startCtx.Err() == nil {
		// A slot that gets to run only after the duration ended (many
		// thousands of slots on few cores) sends nothing. The same reading
		// is the first turn's credit time: the slot is free from here on.
		now := p.env.Clock.Now()
		if p.pastDeadline(now) {
			return
		}
		s, num, ok := p.startSession(sched, -1, 0)
		if !ok {
			return
		}
		sched = p.runClosedSession(s, sched, num, now)
		p.endSession(s)
		if sched < 0 {
			return
		}
	}
}

// runClosedSession sends every turn of s back to back (after think times),
// the first one released at credit, and returns when the last one ended,
// or -1 when a stop cut the session.
func (p *phase) runClosedSession(s *Session, sched, num, credit int64) int64 {
	var done int64
	for turn := 0; turn < s.Turns; turn++ {
		if turn > 0 {
			sched = nextTurnAt(s, turn, done, 1)
			if !p.waitUntil(p.issueCtx, sched) {
				return -1
			}
			var ok bool
			if num, ok = p.takeRequest(sched); !ok {
				return -1
			}
			credit = p.env.Clock.Now()
		}
		done = p.sendReleased(s, turn, num, sched, credit)
	}
	return done
}

// describeArg renders a plugin argument (built value or spec).
func describeArg(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}
