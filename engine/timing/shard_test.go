package timing

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/config"
)

// slot is one request as the union check compares it: when it was
// scheduled (from the phase start), its number over all shards, and what
// it sent.
type slot struct {
	at      time.Duration
	num     int64
	session int64
	conv    string
	turn    int
	cancel  bool
}

// runShards runs strategy s as the whole load and as each of n shards (a
// fresh environment each, built by mk) and returns the slots of the whole
// run, of the union of the shards and each shard's report.
func runShards(t *testing.T, s Strategy, n int, mk func() (*Env, *recorder)) (whole, union []slot, reps []*Report) {
	t.Helper()
	collect := func(sh config.Shard) ([]slot, *Report) {
		env, rec := mk()
		env.Shard = sh
		rep := run(t, s, env)
		var out []slot
		for _, c := range rec.byNum() {
			out = append(out, slot{at: time.Duration(c.ScheduledNs - rep.StartNs), num: c.Num, session: c.session.Num,
				conv: c.session.Conv.ID, turn: c.Turn, cancel: c.Cancel})
		}
		return out, rep
	}
	whole, _ = collect(config.Shard{})
	for i := range n {
		part, rep := collect(config.Shard{Index: i, Count: n})
		union = append(union, part...)
		reps = append(reps, rep)
	}
	sortSlots(whole)
	sortSlots(union)
	return whole, union, reps
}

func sortSlots(s []slot) {
	slices.SortFunc(s, func(a, b slot) int {
		if a.num != b.num {
			return int(a.num - b.num)
		}
		return int(a.at - b.at)
	})
}

func issued(reps []*Report) []int64 {
	var out []int64
	for _, r := range reps {
		out = append(out, r.Issued)
	}
	return out
}

func diffSlots(t *testing.T, whole, union []slot) {
	t.Helper()
	if len(whole) != len(union) {
		t.Fatalf("the shards sent %d requests, the whole run %d", len(union), len(whole))
	}
	for i := range whole {
		if whole[i] != union[i] {
			t.Fatalf("request %d: whole run %+v, shards %+v", i, whole[i], union[i])
		}
	}
}

func TestShardRequestRateIsTheWholeSchedule(t *testing.T) {
	for _, stop := range []config.Stop{{Requests: 1001}, {Duration: 10 * time.Second}} {
		t.Run(fmt.Sprintf("%+v", stop), func(t *testing.T) {
			r, err := NewRequestRate(100, nil, 0, nil, nil, true)
			if err != nil {
				t.Fatal(err)
			}
			mk := func() (*Env, *recorder) {
				env, rec := newEnv(convs(50, 1, 0), stop)
				env.Cancel = config.Cancellation{Percent: 10, Delay: time.Millisecond}
				return env, rec
			}
			whole, union, reps := runShards(t, r, 4, mk)
			diffSlots(t, whole, union)
			total := int64(len(whole))
			for i, rep := range reps {
				if want := stripe(config.Shard{Index: i, Count: 4}, total); rep.Issued != want {
					t.Errorf("shard %d issued %d, want %d (every 4th slot): %v", i, rep.Issued, want, issued(reps))
				}
			}
			cancelled := 0
			for _, s := range union {
				if s.cancel {
					cancelled++
				}
			}
			if cancelled == 0 {
				t.Error("no request was cancelled: the cancellation draws are not exercised")
			}
		})
	}
}

func TestShardRequestRateMultiTurnSessionsStayOnOneShard(t *testing.T) {
	r, err := NewRequestRate(50, nil, 0, nil, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	const shards = 3
	seen := map[string]int{} // session → shard
	var total int64
	for i := range shards {
		env, rec := newEnv(convs(20, 3, 0), config.Stop{Requests: 300})
		env.Shard = config.Shard{Index: i, Count: shards}
		rep := run(t, r, env)
		total += rep.Issued
		for num, turns := range rec.bySession() {
			key := fmt.Sprint(num)
			if other, dup := seen[key]; dup {
				t.Fatalf("session %d was started by shards %d and %d", num, other, i)
			}
			seen[key] = i
			if num%shards != int64(i) {
				t.Errorf("shard %d started session number %d (want numbers ≡ %d mod %d)", i, num, i, shards)
			}
			for k, c := range turns {
				if c.Turn != k {
					t.Fatalf("session %d on shard %d: turn %d sent as position %d", num, i, c.Turn, k)
				}
			}
		}
	}
	if total != 300 {
		t.Errorf("the shards sent %d requests, want 300", total)
	}
}

func TestShardSamplerDrawsAreTheWholeRunsDraws(t *testing.T) {
	// Session number g of any shard gets the single process's g-th draw.
	r, err := NewRequestRate(20, nil, 0, nil, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		env, rec := newEnv(convs(7, 1, 0), config.Stop{Requests: 40})
		env.Shard = config.Shard{Index: i, Count: 4}
		run(t, r, env)
		for _, c := range rec.byNum() {
			if want := fmt.Sprintf("c%d", c.session.Num%7); c.session.Conv.ID != want {
				t.Fatalf("shard %d session %d sent %s, want %s (draw %d of the sequence)", i, c.session.Num, c.session.Conv.ID, want, c.session.Num)
			}
		}
	}
}

func TestShardConcurrencySplitsSlotsUnevenly(t *testing.T) {
	c, err := NewConcurrency(10, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantSlots := []int64{3, 3, 2, 2}
	wantReqs := []int64{30, 30, 20, 20} // the budget follows the slots
	var total int64
	for i := range 4 {
		env, rec := newEnv(convs(10, 1, 0), config.Stop{Requests: 100})
		rec.service = func(c *Credit) int64 {
			for range 50 {
				runtime.Gosched()
			}
			return rec.clk.Now()
		}
		env.Shard = config.Shard{Index: i, Count: 4}
		rep := run(t, c, env)
		total += rep.Issued
		if rep.Issued != wantReqs[i] {
			t.Errorf("shard %d sent %d requests, want %d", i, rep.Issued, wantReqs[i])
		}
		if p := rec.peak.Load(); p > wantSlots[i] {
			t.Errorf("shard %d had %d requests in flight, more than its %d slots", i, p, wantSlots[i])
		}
		for _, s := range rec.byNum() {
			if s.Num%4 != int64(i) {
				t.Fatalf("shard %d sent request number %d", i, s.Num)
			}
		}
	}
	if total != 100 {
		t.Errorf("the shards sent %d requests, want 100", total)
	}
}

func TestShardFixedScheduleSplitsTheTraceBySession(t *testing.T) {
	var turns [][]float64
	for i := range 11 {
		turns = append(turns, []float64{float64(i * 100), float64(i*100 + 50)})
	}
	f, err := NewFixedSchedule(false, 0, 0, false, false, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	key := func(s []slot) []string {
		var out []string
		for _, x := range s {
			out = append(out, fmt.Sprintf("%s/%d@%s", x.conv, x.turn, x.at))
		}
		slices.Sort(out)
		return out
	}
	for _, stop := range []config.Stop{{}, {Sessions: 7}} {
		t.Run(fmt.Sprintf("%+v", stop), func(t *testing.T) {
			mk := func() (*Env, *recorder) { return newEnv(trace(turns...), stop) }
			whole, union, _ := runShards(t, f, 3, mk)
			if w, u := key(whole), key(union); !slices.Equal(w, u) {
				t.Errorf("whole run sent\n%v\nthe shards\n%v", w, u)
			}
		})
	}
	// A requests stop keeps the first 9 turns as they come due (t0..t3 and
	// t4's first turn): shard 0 holds t0, t3 (4 turns), shard 1 t1, t4 (3),
	// shard 2 t2 (2).
	var got []int64
	for i := range 3 {
		env, rec := newEnv(trace(turns...), config.Stop{Requests: 9})
		env.Shard = config.Shard{Index: i, Count: 3}
		rep := run(t, f, env)
		got = append(got, rep.Issued)
		for _, c := range rec.byNum() {
			if e := int(c.session.Conv.ID[1] - '0'); e%3 != i {
				t.Errorf("shard %d sent trace session %s", i, c.session.Conv.ID)
			}
		}
	}
	if !slices.Equal(got, []int64{4, 3, 2}) {
		t.Errorf("requests per shard = %v, want [4 3 2]", got)
	}
}

func TestShardUserCentricSplitsUsers(t *testing.T) {
	const users, rate = 10, 100.0
	u, err := NewUserCentric(rate, users, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for i := range 4 {
		env, rec := newEnv(convs(30, 2, 0), config.Stop{Requests: 95})
		env.Shard = config.Shard{Index: i, Count: 4}
		rep := run(t, u, env)
		got = append(got, rep.Issued)
		for _, c := range rec.byNum() {
			// Slot k of the merged grid is at k/rate; its user is k mod users.
			k := int64(math.Round(float64(c.ScheduledNs-rep.StartNs) * rate / 1e9))
			if float64(c.ScheduledNs-rep.StartNs) != math.Round(float64(k)*1e9/rate) {
				t.Fatalf("shard %d scheduled a request off the grid at %s", i, time.Duration(c.ScheduledNs-rep.StartNs))
			}
			if user := k % users; user%4 != int64(i) {
				t.Fatalf("shard %d sent a turn of user %d", i, user)
			}
		}
	}
	// Users 0,4,8 | 1,5,9 | 2,6 | 3,7; of the first 95 grid slots user u
	// holds ⌈(95−u)/10⌉: 10 each for users 0..4, 9 for 5..9.
	if !slices.Equal(got, []int64{29, 28, 19, 19}) {
		t.Errorf("requests per shard = %v, want [29 28 19 19]", got)
	}
}

func TestShardStartIsTheScheduleOrigin(t *testing.T) {
	r, err := NewRequestRate(10, Constant{}, 0, nil, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	env, rec := newEnv(convs(5, 1, 0), config.Stop{Requests: 4})
	env.Start, env.FixedStart = env.Clock.Now()+int64(3*time.Second), true
	env.Shard = config.Shard{Index: 1, Count: 2}
	rep := run(t, r, env)
	if rep.StartNs != env.Start {
		t.Errorf("phase start %d, want the given start %d", rep.StartNs, env.Start)
	}
	var got []time.Duration
	for _, c := range rec.byNum() {
		got = append(got, time.Duration(c.ScheduledNs-env.Start))
	}
	if want := []time.Duration{100 * time.Millisecond, 300 * time.Millisecond}; !slices.Equal(got, want) {
		t.Errorf("shard 1/2 scheduled %v, want slots 1 and 3 of a 10 req/s schedule %v", got, want)
	}
}

func TestShardTooSmallLoadsAreRefused(t *testing.T) {
	conc, _ := NewConcurrency(3, nil)
	rate, _ := NewRequestRate(10, nil, 2, nil, nil, true)
	users, _ := NewUserCentric(10, 3, false)
	fixed, _ := NewFixedSchedule(false, 0, 0, false, false, 1, 0)
	for _, tc := range []struct {
		s    Strategy
		ds   memDS
		stop config.Stop
		want string
	}{
		{conc, convs(5, 1, 0), config.Stop{Requests: 100}, "concurrency 3 cannot be split over 4 shards"},
		{rate, convs(5, 1, 0), config.Stop{Requests: 100}, "max_concurrency 2 cannot be split over 4 shards"},
		{users, convs(5, 1, 0), config.Stop{Requests: 100}, "users 3 cannot be split over 4 shards"},
		{fixed, trace([]float64{0}, []float64{10}), config.Stop{}, "the trace's sessions 2 cannot be split over 4 shards"},
		{mustRate(t), convs(5, 1, 0), config.Stop{Requests: 3}, "requests 3 cannot be split over 4 shards"},
	} {
		env, _ := newEnv(tc.ds, tc.stop)
		env.Shard = config.Shard{Index: 0, Count: 4}
		_, err := tc.s.Plan(env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Plan error = %v, want %q", tc.s, err, tc.want)
		}
		if _, err := tc.s.Run(context.Background(), env); err == nil {
			t.Errorf("%s: Run sent a load it cannot split", tc.s)
		}
	}
}

func mustRate(t *testing.T) Strategy {
	r, err := NewRequestRate(10, nil, 0, nil, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSegmentsAddUp(t *testing.T) {
	for _, n := range []int64{0, 1, 7, 100, 1001} {
		for _, slots := range []int64{4, 5, 10, 13} {
			for count := 1; count <= 4; count++ {
				var sum, stripes int64
				for i := range count {
					sh := config.Shard{Index: i, Count: count}
					sum += slotShare(sh, n, slots)
					stripes += stripe(sh, n)
				}
				if sum != n || stripes != n {
					t.Errorf("n=%d slots=%d over %d shards: shares add up to %d, stripes to %d", n, slots, count, sum, stripes)
				}
			}
		}
	}
}
