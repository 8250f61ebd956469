package timing

// The prefill cap (config.Prefill, Env.Prefill): whatever the strategy, a
// released request first takes one of the cap's slots and gives it back
// when the first token of its answer arrives (Credit.FirstToken), or when
// it ends without one. A request that finds every slot taken waits; it
// keeps its scheduled time, so the wait shows in its issue delay (held
// back: its CreditNs is when it got the slot).

import (
	"context"
	"sync/atomic"
)

// prefillGate is a phase's prefill slots.
type prefillGate struct{ slots *slots }

// newPrefillGate starts the phase's prefill cap (nil when there is none)
// and its ramp, which ends with ctx. The ramp is not one of the phase's
// goroutines: the phase may end before the ramp does.
func (p *phase) newPrefillGate(ctx context.Context) *prefillGate {
	pf := p.env.Prefill
	if pf.Concurrency <= 0 {
		return nil
	}
	if pf.Ramp <= 0 {
		return &prefillGate{slots: newSlots(pf.Concurrency, pf.Concurrency)}
	}
	ramp := &BuiltinRamp{shape: shapeLinear, duration: pf.Ramp, Start: 1, StepSize: 1, UpdateInterval: defaultUpdateInterval}
	steps := ramp.Steps(float64(pf.Concurrency), true, NewRand(p.env.Seed, "ramp.prefill"))
	g := &prefillGate{slots: newSlots(pf.Concurrency, int(steps[0].Value))}
	go func() {
		level := int(steps[0].Value)
		for _, st := range steps[1:] {
			if p.env.Clock.SleepUntil(ctx, p.t0+int64(st.At)) != nil {
				return
			}
			if v := int(st.Value); v > level {
				g.slots.grow(v - level)
				level = v
			}
		}
	}()
	return g
}

// acquirePrefill waits for a prefill slot. waited says whether the request
// had to wait; ok is false when the phase was cancelled (Ctrl-C) or its
// duration ended meanwhile: the request is then not sent.
func (p *phase) acquirePrefill() (waited, ok bool) {
	select {
	case <-p.prefill.slots.tokens:
		return false, true
	default:
	}
	select {
	case <-p.prefill.slots.tokens:
	case <-p.outer.Done():
		p.stop(StopCancelled)
		return true, false
	}
	if p.deadline > 0 && p.env.Clock.Now() >= p.deadline {
		// Held back past the end of the phase: never sent.
		p.prefill.slots.release()
		p.stop(StopDuration)
		return true, false
	}
	return true, true
}

// prefillSlot is the slot a credit holds; release gives it back once.
type prefillSlot struct {
	gate *prefillGate
	done atomic.Bool
}

func (s *prefillSlot) release() {
	if s != nil && s.done.CompareAndSwap(false, true) {
		s.gate.slots.release()
	}
}

// FirstToken tells the strategy that the first token of the credit's answer
// arrived: the request has left prefill and its prefill slot goes to the
// next request waiting. The Sender calls it as soon as it sees the first
// content of a streamed answer; later calls, and calls on a credit of a
// phase without a prefill cap, do nothing.
func (c *Credit) FirstToken() { c.prefill.release() }

// HoldsPrefill reports whether the credit holds a prefill slot that the
// first token releases (the Sender need only watch for it then).
func (c *Credit) HoldsPrefill() bool { return c.prefill != nil && !c.prefill.done.Load() }
