package runner

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/google/uuid"

	"github.com/loadstar/loadstar/engine/clock"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/timing"
)

// ShardSetup runs a step as one shard of a sharded benchmark (loadstar run
// --shard i/N): every shard plans the same step from the same seed and
// sends only its part of the load (timing.ShardAware says how each
// strategy splits).
type ShardSetup struct {
	Shard config.Shard
	// StartAt is the common wall-clock start of the step's first phase
	// (zero: start at once). With a warmup bounded by a duration alone, the
	// profiling phase starts at StartAt + that duration (+ its grace) on
	// every shard, so their schedules line up too.
	StartAt time.Time
	// SeedKey is a value every shard of the benchmark shares (its first
	// common start, or the collector's run key) and Step the step's ordinal
	// in the scenario: a step whose plan sets no seed takes one derived
	// from both. 0 = none: such a step is refused.
	SeedKey uint64
	Step    int
	// ClockOffset, ClockOffsetError and ClockReference are the caller's
	// estimate of this host's clock against a reference (results.Shard).
	ClockOffset, ClockOffsetError time.Duration
	ClockReference                string
}

// WithShard runs the step as shard sh (see ShardSetup). A step whose plan
// sets no seed derives one from sh.SeedKey and sh.Step, the same in every
// shard; without a key the step is refused (the shards would draw
// different schedules).
func WithShard(sh ShardSetup) Option {
	return func(o *options) {
		if !sh.Shard.Whole() {
			o.shard = &sh
		}
	}
}

// shardSeed derives a step's seed from the shards' common key and the
// step's ordinal and name.
func shardSeed(key uint64, step int, name string) uint64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], key)
	binary.LittleEndian.PutUint64(b[8:], uint64(step))
	h.Write(b[:])
	h.Write([]byte(name))
	return splitmix(h.Sum64()) >> 1 // a positive int64 for exports
}

// SeedKeyOf turns a common start time into a SeedKey.
func SeedKeyOf(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return splitmix(uint64(t.UnixNano()))
}

// checkShard refuses a sharded step that the shards could not split the
// same way.
func (st *Step) checkShard(o *options) error {
	sh := o.shard
	if sh == nil {
		return nil
	}
	if err := sh.Shard.Validate(); err != nil {
		return invalid(err)
	}
	if !st.Config.SeedSet {
		if sh.SeedKey == 0 {
			return invalid(errors.New("a sharded step needs the same seed in every shard: set seed= in run() (or give the shards a common start, --start-at or a collector, and the seed is derived from it)"))
		}
		st.Seed = shardSeed(sh.SeedKey, sh.Step, st.Config.Name)
	}
	for _, s := range []timing.Strategy{st.Strategy, st.WarmupStrategy} {
		if s == nil {
			continue
		}
		if _, ok := s.(timing.ShardAware); !ok {
			return invalid(fmt.Errorf("%s cannot run as a shard: it does not split its load (every shard would send all of it); docs/distributed.md lists the strategies that do", s))
		}
	}
	return nil
}

// benchmarkID names a run: random for a single process, the same in every
// shard of a sharded step (derived from its seed and start) so that their
// results can be matched.
func (st *Step) benchmarkID(o *options) string {
	if o.shard == nil {
		return uuid.NewString()
	}
	var b [24]byte
	binary.LittleEndian.PutUint64(b[:8], st.Seed)
	binary.LittleEndian.PutUint64(b[8:16], o.shard.SeedKey)
	binary.LittleEndian.PutUint64(b[16:], uint64(o.shard.Step))
	return uuid.NewSHA1(uuid.NameSpaceOID, append(b[:], st.Config.Name...)).String()
}

// profilingStart is the common start of the profiling phase: StartAt, or
// after a warmup bounded by a duration alone, StartAt plus that duration
// and its grace. Zero when the shards have no common profiling start.
func (st *Step) profilingStart(o *options) time.Time {
	if o.shard == nil || o.shard.StartAt.IsZero() {
		return time.Time{}
	}
	w := st.Config.Warmup
	switch {
	case w == nil:
		return o.shard.StartAt
	case w.Stop.Duration > 0 && w.Stop.Requests == 0 && w.Stop.Sessions == 0:
		return o.shard.StartAt.Add(w.Stop.Duration + max(w.Grace, 0))
	}
	return time.Time{}
}

// monoAt converts a wall-clock instant to clk's monotonic time (nil for
// the zero time: no fixed start).
func monoAt(clk clock.Clock, t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	now := clk.Now()
	at := now + (t.UnixNano() - clk.Wall(now))
	return &at
}

// shardResult is what the Summary says about the shard.
func (st *Step) shardResult(o *options, clk clock.Clock, rep *timing.Report) *results.Shard {
	sh := o.shard
	if sh == nil {
		return nil
	}
	r := &results.Shard{Index: sh.Shard.Index, Count: sh.Shard.Count, StartAt: st.profilingStart(o),
		ClockOffset: sh.ClockOffset, ClockOffsetError: sh.ClockOffsetError, ClockReference: sh.ClockReference}
	if rep != nil {
		r.Started = time.Unix(0, clk.Wall(o.began))
	}
	return r
}
