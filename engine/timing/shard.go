package timing

import (
	"fmt"
	"math/big"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/dataset"
)

// ShardAware is implemented by the strategies that split their load when
// Env.Shard is set. The runner refuses to run any other strategy as a
// shard: every shard would send the whole load.
//
// How each strategy splits (every shard derives the same plan and seed):
//
//   - request_rate, request_rate_series: the seeded arrival schedule is
//     drawn whole by every shard; slot g goes to shard g mod N. A requests
//     stop is the whole schedule's count, so shard i sends exactly its
//     slots of it.
//   - concurrency (and request_rate with arrival.concurrency_burst()): slot
//     g of the closed loop runs on shard g mod N, so uneven counts differ by
//     at most one slot; a ramp starts slot g when the whole concurrency
//     reaches g+1, on whichever shard holds it. Request and session budgets
//     follow the slots (shard i's share of the budget is its share of the
//     slots, k6's execution-segment arithmetic).
//   - fixed_schedule: trace session e (in timestamp order) goes to shard e
//     mod N; a sessions stop keeps the first sessions of the trace.
//   - user_centric_rate: user u runs on shard u mod N with its own absolute
//     slot grid; a requests stop keeps the first slots of the merged grid.
//   - a max_concurrency cap is split like concurrency slots.
//
// Sessions never cross shards: a session's turns all go from the shard that
// started it. Requests and sessions are numbered in one sequence over all
// shards (local number k of shard i is k·N + i), so cancellation draws and
// sampler draws are the single process's.
type ShardAware interface {
	Strategy
	// SplitsLoad marks a strategy whose Run honours Env.Shard.
	SplitsLoad()
}

// SplitsLoad implements ShardAware.
func (*Concurrency) SplitsLoad() {}

// SplitsLoad implements ShardAware.
func (*RequestRate) SplitsLoad() {}

// SplitsLoad implements ShardAware.
func (*FixedSchedule) SplitsLoad() {}

// SplitsLoad implements ShardAware.
func (*UserCentric) SplitsLoad() {}

// stripe returns how many of the indices 0..n-1 shard sh holds (index g
// belongs to shard g mod Count).
func stripe(sh config.Shard, n int64) int64 {
	if sh.Whole() {
		return n
	}
	i, c := int64(sh.Index), int64(sh.Count)
	if n <= i {
		return 0
	}
	return (n - i + c - 1) / c
}

// owns reports whether index g belongs to shard sh.
func owns(sh config.Shard, g int64) bool {
	return sh.Whole() || g%int64(sh.Count) == int64(sh.Index)
}

// stripeBefore returns how many of the indices 0..n-1 belong to the shards
// before sh (Σ stripe over shards 0..Index-1).
func stripeBefore(sh config.Shard, n int64) int64 {
	if sh.Whole() {
		return 0
	}
	i, c := int64(sh.Index), int64(sh.Count)
	return (n/c)*i + min(i, n%c)
}

// segment returns the part of a budget of n that falls on the weights
// [from, to) of total: ⌊n·to/total⌋ − ⌊n·from/total⌋. The parts of
// adjacent segments add up to n exactly (k6's execution segments).
func segment(n, from, to, total int64) int64 {
	if total <= 0 {
		return 0
	}
	floor := func(w int64) int64 {
		var p big.Int
		p.Mul(big.NewInt(n), big.NewInt(w))
		return p.Quo(&p, big.NewInt(total)).Int64()
	}
	return floor(to) - floor(from)
}

// slotShare returns shard sh's part of a budget of n when the shard holds
// stripe(sh, slots) of slots slots: the budget follows the slots.
func slotShare(sh config.Shard, n, slots int64) int64 {
	if sh.Whole() || n <= 0 {
		return n
	}
	from := stripeBefore(sh, slots)
	return segment(n, from, from+stripe(sh, slots), slots)
}

// globalNum turns a shard-local request or session number into the number
// over all shards.
func globalNum(sh config.Shard, local int64) int64 {
	if sh.Whole() {
		return local
	}
	return local*int64(sh.Count) + int64(sh.Index)
}

// splitError is the error of a load too small to give every shard a part.
func splitError(strategy, what string, n int64, sh config.Shard) error {
	return fmt.Errorf("timing.%s: %s %d cannot be split over %d shards: every shard needs at least one (lower the shard count or raise %s)",
		strategy, what, n, sh.Count, what)
}

// checkStopSplit refuses request or session stops smaller than the shard
// count: some shard would have nothing to send.
func checkStopSplit(strategy string, env *Env) error {
	sh := env.Shard
	if sh.Whole() {
		return nil
	}
	if n := int64(env.Stop.Requests); n > 0 && n < int64(sh.Count) {
		return splitError(strategy, "requests", n, sh)
	}
	if n := int64(env.Stop.Sessions); n > 0 && n < int64(sh.Count) {
		return splitError(strategy, "sessions", n, sh)
	}
	return nil
}

// shardNote describes a shard's part for Load.Description.
func shardNote(sh config.Shard, part string) string {
	if sh.Whole() {
		return ""
	}
	return fmt.Sprintf("; shard %s: %s", sh, part)
}

// stripedArrivals is the part of an open-loop schedule a shard sends: every
// Count-th slot from Index. The whole schedule is drawn (it is cheap), so
// every shard's slots are exactly the single process's.
type stripedArrivals struct {
	all arrivals
	sh  config.Shard
	g   int64 // next index of the whole schedule
}

func (s *stripedArrivals) Next() (time.Duration, bool) {
	for {
		off, ok := s.all.Next()
		if !ok {
			return 0, false
		}
		g := s.g
		s.g++
		if owns(s.sh, g) {
			return off, true
		}
	}
}

// stridedSampler gives a shard the sampler draws of its sessions in the
// single process's sequence: draw k·Count + Index for its k-th session.
type stridedSampler struct {
	all     dataset.Sampler
	sh      config.Shard
	started bool
}

func (s *stridedSampler) Next() int {
	skip := s.sh.Count - 1
	if !s.started {
		skip, s.started = s.sh.Index, true
	}
	for range skip {
		s.all.Next()
	}
	return s.all.Next()
}
