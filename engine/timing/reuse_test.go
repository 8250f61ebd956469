package timing

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dataset"
)

// sessionView is what a sender saw of one session, by value.
type sessionView struct {
	conv, turns int
	corr        string
	sent        []int // turn indexes in the order sent
}

// historySender is a Sender that uses a Session as the runner's does
// (appending a turn to its History per request) and checks what reuse must
// not break: a session's turns never overlap, a new session's History is
// empty, a session keeps its correlation id, and a credit describes its
// own session. It records each session by value.
type historySender struct {
	clk  *clock.Fake
	mu   sync.Mutex
	busy map[*Session]bool
	seen map[int64]*sessionView
	ptrs map[*Session]bool
	errs []string
}

func newHistorySender(clk *clock.Fake) *historySender {
	return &historySender{clk: clk, busy: map[*Session]bool{}, seen: map[int64]*sessionView{}, ptrs: map[*Session]bool{}}
}

func (h *historySender) fail(format string, args ...any) {
	h.errs = append(h.errs, fmt.Sprintf(format, args...))
}

func (h *historySender) Send(c *Credit) int64 {
	s := c.Session
	h.mu.Lock()
	if h.busy[s] {
		h.fail("session %d: a second request on its Session while one is in flight", s.Num)
	}
	h.busy[s] = true
	h.ptrs[s] = true
	v := h.seen[s.Num]
	if v == nil {
		v = &sessionView{conv: s.ConvIndex, turns: s.Turns, corr: s.CorrelationID}
		h.seen[s.Num] = v
	}
	if v.conv != s.ConvIndex || v.turns != s.Turns || v.corr != s.CorrelationID {
		h.fail("session %d changed under its turns: %+v, now conv %d turns %d id %q", s.Num, *v, s.ConvIndex, s.Turns, s.CorrelationID)
	}
	if len(s.History) != len(v.sent) {
		h.fail("session %d turn %d: history of %d turns, want %d", s.Num, c.Turn, len(s.History), len(v.sent))
	}
	v.sent = append(v.sent, c.Turn)
	h.mu.Unlock()

	s.History = append(s.History, dataset.NewTurn())
	done := c.CreditNs + int64(5*time.Millisecond)

	h.mu.Lock()
	h.busy[s] = false
	h.mu.Unlock()
	return done
}

// TestReuseSessionsSendsTheSame runs each strategy with and without
// Env.ReuseSessions: the sessions sent (their conversations, lengths and
// turns) must be the same, the reused ones must start clean, and reuse
// must actually happen.
func TestReuseSessionsSendsTheSame(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name  string
		strat func() Strategy
		ds    memDS
		stop  config.Stop
		// reuse: sessions are bound to be reused (a cap on the sessions
		// at once); elsewhere the fake clock may start them all at once.
		reuse bool
	}{
		{"concurrency", func() Strategy { return must(NewConcurrency(3, nil)) },
			convs(5, 3, 10*ms), config.Stop{Sessions: 40}, true},
		{"request_rate", func() Strategy { return must(NewRequestRate(100, Constant{}, 0, nil, nil, true)) },
			convs(4, 2, 0), config.Stop{Sessions: 40}, false},
		{"request_rate capped", func() Strategy { return must(NewRequestRate(100, Constant{}, 2, nil, nil, true)) },
			convs(4, 3, 20*ms), config.Stop{Requests: 60}, true},
		{"user_centric", func() Strategy { return must(NewUserCentric(50, 3, false)) },
			convs(6, 3, 0), config.Stop{Duration: time.Second}, true},
		{"fixed_schedule", func() Strategy { return must(NewFixedSchedule(false, 0, 0, false, false, 1, 0)) },
			trace([]float64{0, -10}, []float64{100}, []float64{200, -10, -10}, []float64{300}), config.Stop{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]map[int64]sessionView
			var distinct [2]int
			for i, reuse := range []bool{false, true} {
				env, _ := newEnv(tc.ds, tc.stop)
				snd := newHistorySender(env.Clock.(*clock.Fake))
				env.Sender, env.ReuseSessions = snd, reuse
				var n atomic.Int64
				env.NewSessionID = func() string { return fmt.Sprintf("s%d", n.Add(1)) }
				run(t, tc.strat(), env)
				for _, e := range snd.errs {
					t.Errorf("reuse=%v: %s", reuse, e)
				}
				got[i] = map[int64]sessionView{}
				ids := map[string]bool{}
				for num, v := range snd.seen {
					if ids[v.corr] {
						t.Errorf("reuse=%v: correlation id %q on two sessions", reuse, v.corr)
					}
					ids[v.corr] = true
					v.corr = "" // drawn in start order, which goroutines race for
					got[i][num] = *v
				}
				distinct[i] = len(snd.ptrs)
			}
			if len(got[0]) == 0 {
				t.Fatal("no sessions sent")
			}
			// Where a request or duration stop cuts sessions depends on
			// how the goroutines interleave; what each session is does not.
			for i := range got {
				for num := range int64(len(got[i])) {
					v, ok := got[i][num]
					if !ok {
						t.Fatalf("sessions not numbered 0..%d: %v", len(got[i])-1, got[i])
					}
					for k, turn := range v.sent {
						if turn != k {
							t.Errorf("session %d sent turns %v, want them in order from 0", num, v.sent)
						}
					}
					if w, ok := got[1-i][num]; ok && (w.conv != v.conv || w.turns != v.turns) {
						t.Errorf("session %d: conversation %d of %d turns, but %d of %d with reuse=%v",
							num, v.conv, v.turns, w.conv, w.turns, i == 0)
					}
				}
			}
			if (tc.stop.Sessions > 0 || tc.stop == config.Stop{}) && len(got[0]) != len(got[1]) {
				t.Errorf("%d sessions, %d with reuse", len(got[0]), len(got[1]))
			}
			if distinct[0] != len(got[0]) {
				t.Errorf("without reuse: %d Session values for %d sessions", distinct[0], len(got[0]))
			}
			if tc.reuse && distinct[1] >= len(got[1]) {
				t.Errorf("with reuse: %d Session values for %d sessions, want fewer", distinct[1], len(got[1]))
			}
		})
	}
}

// A reused credit is the session's own, reset for each turn: nothing of
// the previous turn (its prefill slot, its cancellation) carries over.
func TestReusedCreditIsReset(t *testing.T) {
	env, _ := newEnv(convs(2, 3, 0), config.Stop{Sessions: 10})
	env.ReuseSessions = true
	env.Cancel = config.Cancellation{Percent: 50, Delay: time.Second}
	env.Prefill = config.Prefill{Concurrency: 1}
	var mu sync.Mutex
	credits := map[*Credit]bool{}
	cancels := 0
	env.Sender = senderFunc(func(c *Credit) int64 {
		mu.Lock()
		defer mu.Unlock()
		credits[c] = true
		if c != &c.Session.credit {
			t.Errorf("credit of session %d turn %d is not the session's own", c.Session.Num, c.Turn)
		}
		if !c.HoldsPrefill() {
			t.Errorf("session %d turn %d: the prefill slot is already released", c.Session.Num, c.Turn)
		}
		want := unitFloat(splitmix64(splitmix64(env.Seed^labelHash("cancel"))+uint64(c.Num)))*100 < 50
		if c.Cancel != want || (c.Cancel && c.CancelAfter != time.Second) {
			t.Errorf("request %d: cancel %v after %v, want %v", c.Num, c.Cancel, c.CancelAfter, want)
		}
		if c.Cancel {
			cancels++
		}
		if c.Turn == 1 {
			c.FirstToken() // turn 1 frees its slot early, the others at the end
		}
		return c.CreditNs
	})
	run(t, must(NewConcurrency(1, nil)), env)
	if len(credits) >= 30 || cancels == 0 || cancels == 30 {
		t.Errorf("%d credit values for 30 requests, %d cancelled", len(credits), cancels)
	}
}
