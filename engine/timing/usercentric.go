package timing

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/config"
)

// UserCentric simulates Users users sending Rate requests per second in
// total: each user sends its session's turns Users/Rate seconds apart, never
// overlapping itself (a turn waits for the previous answer), and starts a new
// session when one ends. User u's slots are u/Rate + j·Users/Rate seconds
// from the start, an absolute grid: a turn whose previous answer arrives
// after its slot is sent at once, late, keeping its slot as scheduled time.
// The gap replaces the dataset's think times. This is AIPerf's
// --user-centric-rate with --num-users, made for KV-cache TTL tests: every
// turn of a session reaches the server exactly one gap after the previous.
//
// With SteadyStart (the default) each user joins its first session part-way
// through, users spread evenly over the conversation's length, so session
// starts and ends are staggered from the first second as in a steady state
// rather than every user starting a conversation at once.
//
//	timing.user_centric_rate(rate=10, users=15)
type UserCentric struct {
	Rate        float64
	Users       int
	SteadyStart bool
}

// NewUserCentric validates a user-centric strategy.
func NewUserCentric(rate float64, users int, steady bool) (*UserCentric, error) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return nil, fmt.Errorf("timing.user_centric_rate: rate must be a positive number of requests per second, got %v", rate)
	}
	if users < 1 {
		return nil, fmt.Errorf("timing.user_centric_rate: users must be >= 1, got %d", users)
	}
	return &UserCentric{Rate: rate, Users: users, SteadyStart: steady}, nil
}

func (u *UserCentric) String() string {
	args := []string{"rate=" + num(u.Rate), fmt.Sprintf("users=%d", u.Users)}
	if !u.SteadyStart {
		args = append(args, "steady_start=False")
	}
	return "timing.user_centric_rate(" + strings.Join(args, ", ") + ")"
}

// Gap is the time between two turns of one user.
func (u *UserCentric) Gap() time.Duration {
	return time.Duration(float64(u.Users) / u.Rate * 1e9)
}

func (u *UserCentric) load() Load {
	return Load{Mode: "user_centric_rate", Rate: u.Rate, Users: u.Users, Concurrency: u.Users, OpenLoop: true,
		Description: fmt.Sprintf("%d users, %s req/s in total: each user's turns %s apart",
			u.Users, num(u.Rate), u.Gap())}
}

// Plan implements Strategy.
func (u *UserCentric) Plan(env *Env) (*Plan, error) {
	if env.Dataset == nil || env.Dataset.Len() == 0 {
		return nil, errors.New("timing.user_centric_rate: the dataset has no conversations")
	}
	if err := u.checkSplit(env); err != nil {
		return nil, err
	}
	pl := &Plan{Load: u.load()}
	estimate(pl, env.Stop, u.Rate, meanTurns(env.Dataset))
	if sh := env.Shard; !sh.Whole() {
		if pl.Requests > 0 {
			pl.Requests = u.requestShare(pl.Requests, sh)
		}
		pl.Load.Description += shardNote(sh, fmt.Sprintf("%d of the %d users (user %d and every %s after it)",
			stripe(sh, int64(u.Users)), u.Users, sh.Index, ordinal(sh.Count)))
	}
	return pl, nil
}

// requestShare is shard sh's part of a budget of n requests: user u's
// slots are the merged grid's slots u, u+Users, u+2·Users, ... (in time
// order), so the first n slots hold ⌈(n−u)/Users⌉ of user u's.
func (u *UserCentric) requestShare(n int64, sh config.Shard) int64 {
	var mine int64
	users := int64(u.Users)
	for user := int64(sh.Index); user < users && user < n; user += int64(sh.Count) {
		mine += (n - user + users - 1) / users
	}
	return mine
}

// checkSplit refuses a user-centric load some shard would get no user or
// no budget of.
func (u *UserCentric) checkSplit(env *Env) error {
	sh := env.Shard
	if sh.Whole() {
		return nil
	}
	if err := checkStopSplit("user_centric_rate", env); err != nil {
		return err
	}
	if u.Users < sh.Count {
		return splitError("user_centric_rate", "users", int64(u.Users), sh)
	}
	for i := range sh.Count {
		s := config.Shard{Index: i, Count: sh.Count}
		if n := int64(env.Stop.Requests); n > 0 && u.requestShare(n, s) == 0 {
			return splitError("user_centric_rate", "requests", n, sh)
		}
		if n := int64(env.Stop.Sessions); n > 0 && slotShare(s, n, int64(u.Users)) == 0 {
			return splitError("user_centric_rate", "sessions", n, sh)
		}
	}
	return nil
}

// goldenFrac spreads users over [0, 1): the fractional parts of u·φ are
// evenly distributed for any number of users (a low-discrepancy sequence).
func goldenFrac(u int) float64 {
	const phi = 0.6180339887498949
	_, f := math.Modf(float64(u) * phi)
	return f
}

// Run implements Strategy.
func (u *UserCentric) Run(ctx context.Context, env *Env) (*Report, error) {
	if env.Sampler == nil {
		return nil, errors.New("timing.user_centric_rate: Env needs a Sampler")
	}
	if err := u.checkSplit(env); err != nil {
		return nil, err
	}
	p, err := newPhase(ctx, env)
	if err != nil {
		return nil, err
	}
	if sh := env.Shard; !sh.Whole() {
		p.budgets(u.requestShare(int64(env.Stop.Requests), sh), slotShare(sh, int64(env.Stop.Sessions), int64(u.Users)))
	}
	gap := float64(u.Users) / u.Rate * 1e9
	for user := range u.Users {
		if !owns(env.Shard, int64(user)) {
			continue // another shard's user
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			first := float64(p.t0) + float64(user)*1e9/u.Rate
			slot := func(j int64) int64 { return int64(math.Round(first + float64(j)*gap)) }
			var j int64
			// dropDue counts this user's slots already due when a
			// cancellation cut it off.
			dropDue := func() {
				if ctx.Err() == nil {
					return
				}
				now := p.env.Clock.Now()
				for ; slot(j) <= now && (p.deadline == 0 || slot(j) < p.deadline); j++ {
					p.drop(slot(j))
				}
			}
			for k := 0; p.startCtx.Err() == nil; k++ {
				sched := slot(j)
				if !p.waitUntil(p.startCtx, sched) {
					dropDue()
					return
				}
				s, num, ok := p.startSession(sched, -1, 0)
				if !ok {
					return
				}
				if k == 0 && u.SteadyStart {
					s.Turns = max(1, s.Turns-int(goldenFrac(user)*float64(s.Turns)))
				}
				j++
				p.send(s, 0, num, sched)
				for turn := 1; turn < s.Turns; turn++ {
					sched = slot(j)
					if !p.waitUntil(p.issueCtx, sched) {
						dropDue()
						p.endSession(s)
						return
					}
					if num, ok = p.takeRequest(sched); !ok {
						p.endSession(s)
						return
					}
					j++
					p.send(s, turn, num, sched)
				}
				p.endSession(s)
			}
			dropDue()
		}()
	}
	p.wg.Wait()
	return p.report(u.load()), nil
}
