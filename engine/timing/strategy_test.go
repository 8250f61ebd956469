package timing

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/plugin"
)

// memDS is an in-memory dataset.
type memDS []dataset.Conversation

func (d memDS) Len() int                                 { return len(d) }
func (d memDS) Conversation(i int) *dataset.Conversation { return &d[i] }

// convs builds n conversations of turns turns, each later turn after delay.
func convs(n, turns int, delay time.Duration) memDS {
	d := make(memDS, n)
	for i := range d {
		d[i].ID = fmt.Sprintf("c%d", i)
		for k := range turns {
			t := dataset.NewTurn()
			if k > 0 && delay > 0 {
				t.DelayMs, t.HasDelay = float64(delay)/1e6, true
			}
			d[i].Turns = append(d[i].Turns, t)
		}
	}
	return d
}

type seqSampler struct{ n, i int }

func (s *seqSampler) Next() int { v := s.i % s.n; s.i++; return v }

// sent is one credit as the sender saw it.
type sent struct {
	Credit
	session *Session
	doneNs  int64
}

// recorder is a Sender that records credits. service, when set, decides
// when a request ends (default: at once).
type recorder struct {
	clk      *clock.Fake
	mu       sync.Mutex
	sent     []sent
	inflight atomic.Int64
	peak     atomic.Int64
	service  func(c *Credit) int64
}

func (r *recorder) Send(c *Credit) int64 {
	n := r.inflight.Add(1)
	for {
		p := r.peak.Load()
		if n <= p || r.peak.CompareAndSwap(p, n) {
			break
		}
	}
	done := r.clk.Now()
	if r.service != nil {
		done = r.service(c)
	}
	r.mu.Lock()
	r.sent = append(r.sent, sent{Credit: *c, session: c.Session, doneNs: done})
	r.mu.Unlock()
	r.inflight.Add(-1)
	return done
}

// byNum returns the credits in request-number order.
func (r *recorder) byNum() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.sent)
	slices.SortFunc(out, func(a, b sent) int { return int(a.Num - b.Num) })
	return out
}

// bySession groups credits by session number, turns in order.
func (r *recorder) bySession() map[int64][]sent {
	m := map[int64][]sent{}
	for _, s := range r.byNum() {
		m[s.session.Num] = append(m[s.session.Num], s)
	}
	for _, v := range m {
		slices.SortFunc(v, func(a, b sent) int { return a.Turn - b.Turn })
	}
	return m
}

func newEnv(ds memDS, stop config.Stop) (*Env, *recorder) {
	clk := clock.NewFake()
	clk.Advance(time.Hour) // a non-zero origin catches offset mistakes
	rec := &recorder{clk: clk}
	return &Env{Clock: clk, Seed: testSeed, Stop: stop, Dataset: ds, Sampler: &seqSampler{n: len(ds)},
		URLs: 1, Sender: rec}, rec
}

func run(t *testing.T, s Strategy, env *Env) *Report {
	t.Helper()
	rep, err := s.Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestConcurrencyRequests(t *testing.T) {
	env, rec := newEnv(convs(10, 1, 0), config.Stop{Requests: 100})
	rec.service = func(c *Credit) int64 {
		for range 50 {
			runtime.Gosched() // let the other slots overlap
		}
		return rec.clk.Now()
	}
	c, err := NewConcurrency(4, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := run(t, c, env)
	if rep.Issued != 100 || rep.Sessions != 100 || rep.Stop != StopRequests || rep.Dropped != 0 {
		t.Errorf("report = %+v; want 100 issued, 100 sessions, stopped by requests", rep)
	}
	got := rec.byNum()
	for i, s := range got {
		if s.Num != int64(i) {
			t.Fatalf("request numbers not 0..99: position %d has %d", i, s.Num)
		}
	}
	if p := rec.peak.Load(); p > 4 {
		t.Errorf("peak in flight %d, want <= 4", p)
	}
	if rep.Load.OpenLoop || rep.Load.Concurrency != 4 {
		t.Errorf("load = %+v", rep.Load)
	}
}

func TestConcurrencyMultiTurn(t *testing.T) {
	env, rec := newEnv(convs(3, 3, 100*time.Millisecond), config.Stop{Sessions: 5})
	rec.service = func(c *Credit) int64 { return c.CreditNs + int64(50*time.Millisecond) }
	c, _ := NewConcurrency(2, nil)
	rep := run(t, c, env)
	if rep.Sessions != 5 || rep.Issued != 15 || rep.Stop != StopSessions {
		t.Fatalf("report = %+v; want 5 sessions of 3 turns, stopped by sessions", rep)
	}
	for num, turns := range rec.bySession() {
		if len(turns) != 3 {
			t.Fatalf("session %d sent %d turns, want 3", num, len(turns))
		}
		for k := 1; k < 3; k++ {
			// Closed loop: the next turn is scheduled when the previous one
			// ended plus the think time.
			if want := turns[k-1].doneNs + int64(100*time.Millisecond); turns[k].ScheduledNs != want {
				t.Errorf("session %d turn %d scheduled %d, want previous end + 100 ms = %d", num, k, turns[k].ScheduledNs, want)
			}
			if turns[k].session.CorrelationID != turns[0].session.CorrelationID || turns[k].Num <= turns[k-1].Num {
				t.Errorf("session %d turn %d: another correlation id or out of order", num, k)
			}
		}
	}
}

func TestRequestRateFollowsSeededSchedule(t *testing.T) {
	env, rec := newEnv(convs(10, 1, 0), config.Stop{Requests: 500})
	r, err := NewRequestRate(100, nil, 0, nil, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	rep := run(t, r, env)
	want := NewSchedule(Poisson{}, 100, nil, NewRand(testSeed, "schedule"), 500)
	got := rec.byNum()
	if len(got) != 500 {
		t.Fatalf("%d requests sent, want 500", len(got))
	}
	for i, s := range got {
		off, _ := want.Next()
		if s.ScheduledNs != rep.StartNs+int64(off) {
			t.Fatalf("request %d scheduled at +%v, want +%v (the seeded schedule)", i, time.Duration(s.ScheduledNs-rep.StartNs), off)
		}
		if s.CreditNs != s.ScheduledNs {
			t.Fatalf("request %d released %v after its schedule on a fake clock", i, time.Duration(s.CreditNs-s.ScheduledNs))
		}
	}
	// Exact schedule: 500 requests at 100 req/s fill [0, 5 s).
	if span := time.Duration(rep.LastScheduledNs - rep.StartNs); span >= 5*time.Second || span < 4800*time.Millisecond {
		t.Errorf("last request scheduled at +%v, want just before +5s", span)
	}
	if rep.Stop != StopRequests || rep.Issued != 500 || rep.Dropped != 0 || !rep.Load.OpenLoop || rep.Load.Rate != 100 {
		t.Errorf("report = %+v", rep)
	}
}

func TestRequestRateDuration(t *testing.T) {
	env, rec := newEnv(convs(10, 1, 0), config.Stop{Duration: 3 * time.Second})
	r, _ := NewRequestRate(200, Constant{}, 0, nil, nil, true)
	rep := run(t, r, env)
	if rep.Issued != 600 || rep.Stop != StopDuration {
		t.Errorf("issued %d (stop %q), want 600 stopped by duration", rep.Issued, rep.Stop)
	}
	for _, s := range rec.byNum() {
		if s.ScheduledNs >= rep.StartNs+int64(3*time.Second) {
			t.Fatalf("request %d scheduled at +%v, after the 3 s duration", s.Num, time.Duration(s.ScheduledNs-rep.StartNs))
		}
	}
}

func TestRequestRateCapSendsLateNeverSkips(t *testing.T) {
	env, rec := newEnv(convs(10, 1, 0), config.Stop{Requests: 5})
	rec.service = func(c *Credit) int64 {
		if c.Num == 0 {
			rec.clk.Advance(time.Second) // the first answer takes a second
		}
		return rec.clk.Now()
	}
	r, _ := NewRequestRate(10, Constant{}, 1, nil, nil, true)
	rep := run(t, r, env)
	got := rec.byNum()
	if len(got) != 5 || rep.Dropped != 0 {
		t.Fatalf("%d sent, %d dropped; want all 5 sent", len(got), rep.Dropped)
	}
	for i, s := range got {
		sched := time.Duration(s.ScheduledNs - rep.StartNs)
		if want := time.Duration(i) * 100 * time.Millisecond; sched != want {
			t.Errorf("request %d scheduled at +%v, want +%v", i, sched, want)
		}
		if i > 0 && time.Duration(s.CreditNs-rep.StartNs) < time.Second {
			t.Errorf("request %d released at +%v, before the cap freed (+1 s)", i, time.Duration(s.CreditNs-rep.StartNs))
		}
	}
}

func TestRequestRateMultiTurnTakesTicks(t *testing.T) {
	env, rec := newEnv(convs(5, 3, 0), config.Stop{Requests: 30})
	r, _ := NewRequestRate(100, Constant{}, 0, nil, nil, true)
	rep := run(t, r, env)
	if rep.Issued != 30 {
		t.Fatalf("issued %d, want 30", rep.Issued)
	}
	ticks := map[int64]bool{}
	for _, s := range rec.byNum() {
		off := s.ScheduledNs - rep.StartNs
		if off%int64(10*time.Millisecond) != 0 || ticks[off] {
			t.Fatalf("request %d scheduled at +%v: not its own 10 ms tick", s.Num, time.Duration(off))
		}
		ticks[off] = true
	}
	for num, turns := range rec.bySession() {
		for k := 1; k < len(turns); k++ {
			if turns[k].Turn != k || turns[k].ScheduledNs < turns[k-1].doneNs {
				t.Errorf("session %d turn %d scheduled before turn %d ended", num, k, k-1)
			}
		}
	}
}

func TestRequestRateSessionsStop(t *testing.T) {
	env, rec := newEnv(convs(5, 3, 0), config.Stop{Sessions: 4})
	r, _ := NewRequestRate(100, Constant{}, 0, nil, nil, true)
	rep := run(t, r, env)
	if rep.Sessions != 4 || rep.Issued != 12 || rep.Stop != StopSessions {
		t.Fatalf("report = %+v; want 4 sessions, 12 requests", rep)
	}
	for num, turns := range rec.bySession() {
		if len(turns) != 3 {
			t.Errorf("session %d sent %d of 3 turns", num, len(turns))
		}
	}
}

func TestRequestRateCancelledCountsDueSlotsAsDropped(t *testing.T) {
	env, rec := newEnv(convs(5, 1, 0), config.Stop{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec.service = func(c *Credit) int64 {
		if c.Num == 10 {
			rec.clk.Advance(55 * time.Millisecond)
			cancel() // Ctrl-C while this request is in flight
		}
		return rec.clk.Now()
	}
	r, _ := NewRequestRate(100, Constant{}, 0, nil, nil, true)
	rep, err := r.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	// The fake clock jumps to each slot, so the issuer may run ahead of
	// the goroutine that cancels; whenever it stops, every slot due by
	// then was either issued or counted as dropped.
	due := (env.Clock.Now()-rep.StartNs)/int64(10*time.Millisecond) + 1
	if rep.Stop != StopCancelled || rep.Issued+rep.Dropped != due {
		t.Errorf("stop %q, issued %d + dropped %d, want cancelled with every due slot (%d) issued or dropped", rep.Stop, rep.Issued, rep.Dropped, due)
	}
}

func TestRequestRateClosedLoopBurst(t *testing.T) {
	env, rec := newEnv(convs(4, 1, 0), config.Stop{Requests: 40})
	r, err := NewRequestRate(0, ConcurrencyBurst{}, 3, nil, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	rep := run(t, r, env)
	if rep.Issued != 40 || rep.Load.OpenLoop || rep.Load.Mode != "request_rate" || rec.peak.Load() > 3 {
		t.Errorf("report %+v, peak %d; want 40 closed-loop requests, <= 3 in flight", rep, rec.peak.Load())
	}
	if _, err := NewRequestRate(0, ConcurrencyBurst{}, 0, nil, nil, true); err == nil || !strings.Contains(err.Error(), "max_concurrency") {
		t.Errorf("burst without max_concurrency: err = %v", err)
	}
}

func TestCancellationShare(t *testing.T) {
	pick := func() map[int64]bool {
		env, rec := newEnv(convs(3, 1, 0), config.Stop{Requests: 10_000})
		env.Cancel = config.Cancellation{Percent: 25, Delay: 2 * time.Second}
		c, _ := NewConcurrency(8, nil)
		run(t, c, env)
		m := map[int64]bool{}
		for _, s := range rec.byNum() {
			if s.Cancel {
				if s.CancelAfter != 2*time.Second {
					t.Fatalf("request %d cancels after %v, want 2s", s.Num, s.CancelAfter)
				}
				m[s.Num] = true
			}
		}
		return m
	}
	a, b := pick(), pick()
	within(t, "cancelled share", float64(len(a))/10_000, 0.25, 0.015)
	if len(a) != len(b) {
		t.Fatalf("same seed cancelled %d then %d requests", len(a), len(b))
	}
	for n := range a {
		if !b[n] {
			t.Fatalf("same seed: request %d cancelled only once", n)
		}
	}
}

func TestURLRoundRobinPerSession(t *testing.T) {
	env, rec := newEnv(convs(4, 2, 0), config.Stop{Sessions: 6})
	env.URLs = 3
	c, _ := NewConcurrency(1, nil)
	run(t, c, env)
	for num, turns := range rec.bySession() {
		for _, s := range turns {
			if s.session.URLIndex != int(num%3) {
				t.Errorf("session %d turn %d on URL %d, want %d", num, s.Turn, s.session.URLIndex, num%3)
			}
		}
	}
}

// trace builds conversations whose turns carry timestamps (ms); a negative
// value means "no timestamp, a think time of -v ms".
func trace(turns ...[]float64) memDS {
	d := make(memDS, len(turns))
	for i, ts := range turns {
		d[i].ID = fmt.Sprintf("t%d", i)
		for _, v := range ts {
			t := dataset.NewTurn()
			if v >= 0 {
				t.TimestampMs, t.HasTimestamp = v, true
			} else {
				t.DelayMs, t.HasDelay = -v, true
			}
			d[i].Turns = append(d[i].Turns, t)
		}
	}
	return d
}

func TestFixedSchedule(t *testing.T) {
	ds := trace([]float64{1000}, []float64{0, 400}, []float64{2500, -100}, []float64{500})
	env, rec := newEnv(ds, config.Stop{})
	rec.service = func(c *Credit) int64 { return c.CreditNs + int64(10*time.Millisecond) }
	f, err := NewFixedSchedule(false, 0, 0, false, false, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	rep := run(t, f, env)
	got := map[string][]time.Duration{}
	for _, s := range rec.byNum() {
		got[s.session.Conv.ID] = append(got[s.session.Conv.ID], time.Duration(s.ScheduledNs-rep.StartNs))
	}
	ms := time.Millisecond
	want := map[string][]time.Duration{
		"t0": {500 * ms}, "t1": {0, 200 * ms}, "t3": {250 * ms},
		// No timestamp: previous end (1250 + 10 ms) plus the think time halved.
		"t2": {1250 * ms, 1310 * ms},
	}
	for id, w := range want {
		if !slices.Equal(got[id], w) {
			t.Errorf("%s scheduled at %v, want %v", id, got[id], w)
		}
	}
	if rep.Stop != StopSchedule || rep.Issued != 6 {
		t.Errorf("report = %+v", rep)
	}

	// A window of the trace: its start becomes zero.
	env, rec = newEnv(ds, config.Stop{})
	f, _ = NewFixedSchedule(false, 500*ms, 1000*ms, true, true, 1, 0)
	rep = run(t, f, env)
	var firsts []time.Duration
	for _, s := range rec.byNum() {
		firsts = append(firsts, time.Duration(s.ScheduledNs-rep.StartNs))
	}
	if !slices.Equal(firsts, []time.Duration{0, 500 * ms}) {
		t.Errorf("window [500, 1000] ms scheduled %v, want [0s 500ms]", firsts)
	}

	// Auto offset: the first entry goes at once.
	env, rec = newEnv(trace([]float64{3000}, []float64{3500}), config.Stop{})
	f, _ = NewFixedSchedule(true, 0, 0, false, false, 1, 0)
	rep = run(t, f, env)
	if got := rec.byNum(); got[0].ScheduledNs != rep.StartNs || got[1].ScheduledNs != rep.StartNs+int64(500*ms) {
		t.Errorf("auto offset scheduled at +%v, +%v; want +0, +500ms",
			time.Duration(got[0].ScheduledNs-rep.StartNs), time.Duration(got[1].ScheduledNs-rep.StartNs))
	}

	// A dataset without timestamps cannot be replayed.
	env, _ = newEnv(convs(2, 1, 0), config.Stop{})
	if _, err := f.Run(context.Background(), env); err == nil || !strings.Contains(err.Error(), `"c0"`) {
		t.Errorf("untimed dataset: err = %v, want one naming conversation \"c0\"", err)
	}
	if _, err := NewFixedSchedule(true, ms, 0, true, false, 1, 0); err == nil {
		t.Error("auto_offset with start_offset accepted")
	}
}

func TestUserCentric(t *testing.T) {
	env, rec := newEnv(convs(6, 3, 0), config.Stop{Duration: time.Second})
	u, err := NewUserCentric(10, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	rep := run(t, u, env)
	var scheds []time.Duration
	for _, s := range rec.byNum() {
		scheds = append(scheds, time.Duration(s.ScheduledNs-rep.StartNs))
	}
	slices.Sort(scheds)
	var want []time.Duration
	for i := range 10 {
		want = append(want, time.Duration(i)*100*time.Millisecond)
	}
	if !slices.Equal(scheds, want) {
		t.Errorf("scheduled at %v, want every 100 ms (2 users, 200 ms apart each)", scheds)
	}
	for num, turns := range rec.bySession() {
		for k := 1; k < len(turns); k++ {
			if d := turns[k].ScheduledNs - turns[k-1].ScheduledNs; d != int64(200*time.Millisecond) {
				t.Errorf("session %d turns %d→%d %v apart, want the 200 ms gap", num, k-1, k, time.Duration(d))
			}
		}
	}
	if rep.Stop != StopDuration || rep.Load.Rate != 10 || rep.Load.Users != 2 {
		t.Errorf("report = %+v", rep)
	}

	// Steady start: user u joins its first session part-way.
	// 4 users at 100 req/s: 40 ms gaps; a 40 ms run sends each user's first turn.
	env, rec = newEnv(convs(8, 4, 0), config.Stop{Duration: 40 * time.Millisecond})
	u, _ = NewUserCentric(100, 4, true)
	run(t, u, env)
	var lengths []int
	for _, turns := range rec.bySession() {
		lengths = append(lengths, turns[0].session.Turns)
	}
	slices.Sort(lengths)
	// Users 0..3 are ⌊frac(u·φ)·4⌋ = 0, 2, 0, 3 turns into their first session.
	if want := []int{1, 2, 4, 4}; !slices.Equal(lengths, want) {
		t.Errorf("first-session lengths %v, want %v", lengths, want)
	}
}

func TestPlans(t *testing.T) {
	ds := convs(10, 2, 0)
	cases := []struct {
		s        Strategy
		stop     config.Stop
		requests int64
		dur      time.Duration
		bound    string
	}{
		{must(NewRequestRate(10, nil, 0, nil, nil, true)), config.Stop{Duration: time.Minute}, 600, time.Minute, StopDuration},
		{must(NewRequestRate(10, nil, 0, nil, nil, true)), config.Stop{Requests: 50}, 50, 5 * time.Second, StopRequests},
		{must(NewConcurrency(4, nil)), config.Stop{Sessions: 30}, 60, 0, StopSessions},
		{must(NewUserCentric(5, 3, true)), config.Stop{Requests: 20, Duration: time.Second}, 5, time.Second, StopDuration},
	}
	for _, c := range cases {
		env, _ := newEnv(ds, c.stop)
		pl, err := c.s.Plan(env)
		if err != nil {
			t.Fatal(err)
		}
		if pl.Requests != c.requests || pl.Duration != c.dur || pl.Bound != c.bound {
			t.Errorf("%s with %+v: plan %+v; want %d requests, %v, bound %s", c.s, c.stop, pl, c.requests, c.dur, c.bound)
		}
	}
	env, _ := newEnv(trace([]float64{0}, []float64{2000, 2500}, []float64{1000}), config.Stop{})
	pl, err := must(NewFixedSchedule(false, 0, 0, false, false, 1, 0)).Plan(env)
	if err != nil || pl.Requests != 4 || pl.Duration != 2*time.Second {
		t.Errorf("fixed schedule plan %+v, %v; want 4 requests over 2s", pl, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestClasses(t *testing.T) {
	classes := Classes()
	build := func(key string, args plugin.Args) (any, error) {
		c, ok := classes[key]
		if !ok {
			t.Fatalf("no class %q", key)
		}
		return c.Build(key, args)
	}
	ok := map[string]plugin.Args{
		"Concurrency":       {"concurrency": int64(4)},
		"RequestRate":       {"rate": 2.5, "arrival": &plugin.Spec{Category: plugin.ArrivalPattern, Name: "gamma", Args: plugin.Args{"smoothness": 2.0}}},
		"RequestRateSeries": {"points": []any{[]any{int64(0), 1.0}, []any{int64(10), 2.0}}},
		"FixedSchedule":     {},
		"UserCentricRate":   {"rate": 1.0, "users": int64(3)},
		"Constant":          {},
		"Poisson":           {},
		"Gamma":             {"smoothness": 0.5},
		"ConcurrencyBurst":  {},
		"Linear":            {"duration": time.Second},
		"Exponential":       {"duration": time.Second},
		"PoissonRamp":       {"duration": time.Second},
		"RoundRobin":        {},
	}
	for key, args := range ok {
		v, err := build(key, args)
		if err != nil {
			t.Errorf("%s(%v): %v", key, args, err)
			continue
		}
		switch v.(type) {
		case Strategy, ArrivalPattern, Ramp, URLSelector:
		default:
			t.Errorf("%s built %T, which implements none of the protocols", key, v)
		}
	}
	if len(ok) != len(classes) {
		t.Errorf("tested %d classes of %d", len(ok), len(classes))
	}
	bad := []struct {
		key  string
		args plugin.Args
		want string
	}{
		{"Concurrency", plugin.Args{"concurrency": int64(0)}, "concurrency must be >= 1"},
		{"RequestRate", plugin.Args{}, "rate must be a positive"},
		{"RequestRate", plugin.Args{"rate": 1.0, "max_concurrency": int64(-1)}, "max_concurrency"},
		{"Gamma", plugin.Args{"smoothness": -1.0}, "smoothness"},
		{"UserCentricRate", plugin.Args{"rate": 1.0}, "users"},
		{"Linear", plugin.Args{}, "duration"},
		{"FixedSchedule", plugin.Args{"speedup": 0.0}, "speedup"},
	}
	for _, b := range bad {
		if _, err := build(b.key, b.args); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s(%v): err = %v, want one mentioning %q", b.key, b.args, err, b.want)
		}
	}
	// A nested spec is built when the strategy runs.
	rr, _ := build("RequestRate", ok["RequestRate"])
	env, _ := newEnv(convs(1, 1, 0), config.Stop{Requests: 3})
	pl, err := rr.(Strategy).Plan(env)
	if err != nil || pl.Load.Arrival != "arrival.gamma(smoothness=2)" {
		t.Errorf("nested arrival spec: plan %+v, %v", pl, err)
	}
	if s := rr.(Strategy).String(); s != "timing.request_rate(rate=2.5, arrival=arrival.gamma(smoothness=2))" {
		t.Errorf("String() = %s", s)
	}
}

func TestConcurrencyRamp(t *testing.T) {
	env, rec := newEnv(convs(4, 1, 0), config.Stop{Duration: 15 * time.Second})
	// Each request ends 10 s after its schedule, so slot i sends at i s
	// (its ramp step) and again at i+10 s.
	rec.service = func(c *Credit) int64 { return c.ScheduledNs + int64(10*time.Second) }
	ramp, _ := NewLinear(3*time.Second, 0, 1, 0)
	c, _ := NewConcurrency(4, ramp)
	rep := run(t, c, env)
	var got []time.Duration
	for _, s := range rec.byNum() {
		got = append(got, time.Duration(s.ScheduledNs-rep.StartNs))
	}
	slices.Sort(got)
	want := []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second,
		10 * time.Second, 11 * time.Second, 12 * time.Second, 13 * time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("scheduled at %v, want %v (slots joining at the ramp's steps)", got, want)
	}
	if !strings.Contains(rep.Load.Description, "ramped from 1 over 3s") {
		t.Errorf("load = %q", rep.Load.Description)
	}
}

func TestRequestRateRamps(t *testing.T) {
	// Rate ramp: the schedule follows the ramp (checked statistically in
	// TestScheduleRamp); here the strategy must use it and stay exact.
	env, rec := newEnv(convs(4, 1, 0), config.Stop{Duration: 4 * time.Second})
	ramp, _ := NewLinear(2*time.Second, 0, 1, 0)
	r, _ := NewRequestRate(1000, Constant{}, 0, ramp, nil, true)
	rep := run(t, r, env)
	want := int64(expectedCount(1000, ramp.Steps(1000, false, nil), 4*time.Second))
	if rep.Issued != want {
		t.Errorf("issued %d, want the ramped schedule's %d", rep.Issued, want)
	}
	first := 0
	for _, s := range rec.byNum() {
		if s.ScheduledNs-rep.StartNs < int64(time.Second) {
			first++
		}
	}
	// First second: from 10 to 500 req/s → about 260; at full rate it would be 1000.
	if first < 200 || first > 320 {
		t.Errorf("%d requests in the ramp's first second, want about 260", first)
	}

	// Concurrency ramp on the cap: 1 slot, then one more each second. A
	// manual clock lets the test hold time while requests are in flight.
	clk := newManualClock()
	gate := make(chan struct{})
	var inflight atomic.Int64
	sender := senderFunc(func(c *Credit) int64 {
		inflight.Add(1)
		<-gate
		inflight.Add(-1)
		return clk.Now()
	})
	env = &Env{Clock: clk, Seed: testSeed, Stop: config.Stop{Requests: 10}, Dataset: convs(4, 1, 0),
		Sampler: &seqSampler{n: 4}, URLs: 1, Sender: sender}
	cramp, _ := NewLinear(3*time.Second, 0, 1, 0)
	r, _ = NewRequestRate(1000, Constant{}, 4, nil, cramp, true)
	done := make(chan *Report)
	go func() { done <- run(t, r, env) }()
	for _, step := range []struct {
		at   time.Duration
		want int64
	}{{0, 1}, {500 * time.Millisecond, 1}, {time.Second, 2}, {2500 * time.Millisecond, 3}, {3 * time.Second, 4}} {
		clk.set(int64(step.at))
		if !eventually(func() bool { return inflight.Load() == step.want }) {
			t.Fatalf("at +%v: %d in flight, want the ramped cap %d", step.at, inflight.Load(), step.want)
		}
	}
	close(gate)
	clk.set(int64(time.Hour))
	if rep := <-done; rep.Issued != 10 || rep.Dropped != 0 {
		t.Errorf("issued %d, dropped %d; want all 10 sent", rep.Issued, rep.Dropped)
	}
}

// eventually polls cond for up to 2 s.
func eventually(cond func() bool) bool {
	for range 400 {
		if cond() {
			time.Sleep(5 * time.Millisecond)
			if cond() { // and it stays so
				return true
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// manualClock only moves when the test sets it; SleepUntil blocks until then.
type manualClock struct {
	mu   sync.Mutex
	now  int64
	wake chan struct{}
}

func newManualClock() *manualClock { return &manualClock{wake: make(chan struct{})} }

func (c *manualClock) Now() int64 { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *manualClock) Wall(mono int64) int64 { return mono }

func (c *manualClock) set(t int64) {
	c.mu.Lock()
	c.now = t
	close(c.wake)
	c.wake = make(chan struct{})
	c.mu.Unlock()
}

func (c *manualClock) SleepUntil(ctx context.Context, deadline int64) error {
	for {
		c.mu.Lock()
		now, wake := c.now, c.wake
		c.mu.Unlock()
		if now >= deadline {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

func TestUserCentricCancelledDropsDueSlots(t *testing.T) {
	env, rec := newEnv(convs(4, 3, 0), config.Stop{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec.service = func(c *Credit) int64 {
		if c.Num == 3 {
			rec.clk.Advance(time.Second) // a slow answer, then Ctrl-C
			cancel()
		}
		return rec.clk.Now()
	}
	u, _ := NewUserCentric(10, 2, false) // slots every 100 ms overall
	rep, err := u.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	// Every slot due by the end was sent or dropped.
	due := (env.Clock.Now()-rep.StartNs)/int64(100*time.Millisecond) + 1
	if rep.Stop != StopCancelled || rep.Dropped == 0 || rep.Issued+rep.Dropped != due {
		t.Errorf("stop %q: issued %d + dropped %d, want every due slot (%d)", rep.Stop, rep.Issued, rep.Dropped, due)
	}
}

func TestStopWakesWaitingSlots(t *testing.T) {
	// Concurrency ramped over an hour, 10 requests: slot 0 sends them all at
	// once; the 99 slots still waiting for their ramp step must not hold the
	// run for the hour.
	clk := newManualClock()
	env := &Env{Clock: clk, Seed: testSeed, Stop: config.Stop{Requests: 10}, Dataset: convs(2, 1, 0),
		Sampler: &seqSampler{n: 2}, URLs: 1, Sender: senderFunc(func(*Credit) int64 { return clk.Now() })}
	ramp, _ := NewLinear(time.Hour, 0, 1, 0)
	c, _ := NewConcurrency(100, ramp)
	done := make(chan *Report)
	go func() { done <- run(t, c, env) }()
	select {
	case rep := <-done:
		if rep.Issued != 10 || rep.Stop != StopRequests {
			t.Errorf("report %+v", rep)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the run waited for ramp steps after its last request")
	}
}

// senderFunc adapts a function to Sender.
type senderFunc func(c *Credit) int64

// Send implements Sender.
func (f senderFunc) Send(c *Credit) int64 { return f(c) }

// tickingClock is a fake clock that moves forward 1 ms every time it is
// read: goroutines that get to run late see late times, as thousands of
// slots on a few cores do.
type tickingClock struct{ *clock.Fake }

func (c tickingClock) Now() int64 { c.Advance(time.Millisecond); return c.Fake.Now() }

// A closed loop honours its duration at any concurrency: a slot that gets
// to run only after the duration ended sends nothing (with a million slots,
// sending went on 40 s past a 2 s duration), and slots are started as they
// open, not allocated ahead.
func TestConcurrencyHonoursDurationAtAnyConcurrency(t *testing.T) {
	env, rec := newEnv(convs(4, 1, 0), config.Stop{Duration: 200 * time.Millisecond})
	tick := tickingClock{rec.clk}
	env.Clock = tick
	rec.service = func(*Credit) int64 { return tick.Now() }
	c, _ := NewConcurrency(5000, nil)
	rep := run(t, c, env)
	if rep.Stop != StopDuration {
		t.Errorf("stop = %q, want duration", rep.Stop)
	}
	// Each request reads the clock a few times: about 200 ms / (a few ms)
	// requests fit; before, every one of the 5000 slots sent one.
	if rep.Issued > 200 {
		t.Errorf("issued %d requests in a 200 ms duration: slots that ran after the end still sent", rep.Issued)
	}
	// No check of each release time against the end: the ticking clock
	// moves on every read, so a slot that passed the end check just in
	// time can be stamped seconds later when thousands of goroutines read
	// the clock in between (seen on a quiet machine). The count above is
	// what tells a slot that ran after the end from one that did not.
}

// goroutineID is the running goroutine's number, from its stack header.
func goroutineID() string {
	var buf [64]byte
	f := strings.Fields(string(buf[:runtime.Stack(buf[:], false)]))
	return f[1] // "goroutine N [running]:"
}

// An open-loop issuer hands each new session to a goroutine whose last
// session has ended, rather than starting one per session (whose stack
// would grow again through the sender).
func TestRequestRateReusesSessionGoroutines(t *testing.T) {
	env, rec := newEnv(convs(10, 1, 0), config.Stop{Requests: 50})
	env.Clock = NewClock() // real gaps of 5 ms, in which each session ends
	var mu sync.Mutex
	ids := map[string]bool{}
	rec.service = func(*Credit) int64 {
		mu.Lock()
		ids[goroutineID()] = true
		mu.Unlock()
		return env.Clock.Now()
	}
	r, _ := NewRequestRate(200, Constant{}, 0, nil, nil, true)
	if rep := run(t, r, env); rep.Issued != 50 {
		t.Fatalf("issued %d, want 50", rep.Issued)
	}
	// Without reuse it would be 50; a few more than one because slots an
	// issuer held up (a busy machine, the race detector) come due together
	// and run at once. At 1 ms gaps that took 6–8 goroutines now and then;
	// 5 ms leaves the bound room.
	if len(ids) > 5 {
		t.Errorf("50 sessions 5 ms apart, each over at once, ran on %d goroutines; want them reused", len(ids))
	}
}

// Session N gets the N-th conversation the sampler draws, however the
// concurrent slots interleave: a run's session_num and its prompt pair up
// the same way in every run with the same seed.
func TestSessionNumbersFollowTheDraws(t *testing.T) {
	for range 5 {
		env, rec := newEnv(convs(7, 1, 0), config.Stop{Requests: 400})
		rec.service = func(*Credit) int64 {
			runtime.Gosched() // let the slots interleave
			return rec.clk.Now()
		}
		c, _ := NewConcurrency(16, nil)
		run(t, c, env)
		for _, s := range rec.byNum() {
			if want := int(s.session.Num % 7); s.session.ConvIndex != want {
				t.Fatalf("session %d has conversation %d, want %d (the %d-th draw)", s.session.Num, s.session.ConvIndex, want, s.session.Num)
			}
		}
	}
}
