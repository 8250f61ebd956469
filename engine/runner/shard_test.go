package runner

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/timing"
)

// Two shards of one request_rate step send the single schedule between
// them, agree on seed and benchmark id, and start at the common start.
func TestShardsSplitOneStep(t *testing.T) {
	h := newHarness(t, fastMock())
	start := time.Now().Add(300 * time.Millisecond).Truncate(time.Millisecond)
	rate := spec(plugin.TimingStrategy, "request_rate", "rate", 200.0)
	var ids []string
	var seeds []uint64
	var offsets []time.Duration
	total := 0
	for i := range 2 {
		cfg := h.bench(false, rate, config.Stop{Requests: 41})
		cfg.SeedSet = false // derived from the common start
		sum := h.run(context.Background(), cfg, prompts(10, 1),
			WithShard(ShardSetup{Shard: config.Shard{Index: i, Count: 2}, StartAt: start, SeedKey: SeedKeyOf(start)}))
		ok, _, _ := h.checkBalance(sum)
		total += ok
		if sum.Shard == nil || sum.Shard.Index != i || sum.Shard.Count != 2 || !sum.Shard.StartAt.Equal(start) {
			t.Fatalf("shard %d: Summary.Shard = %+v", i, sum.Shard)
		}
		// Shard 1 runs after shard 0 finished: it arrives late, and says so.
		if skew := sum.Shard.Skew(); skew < 0 || (i == 1 && skew == 0) {
			t.Errorf("shard %d began %s after the common start", i, skew)
		}
		ids = append(ids, sum.Info.BenchmarkID)
		seeds = append(seeds, sum.Info.Seed)
		for _, r := range h.tally.phase(record.Profiling) {
			// The scheduled time on the wall clock, from the common start.
			offsets = append(offsets, time.Duration(r.ScheduledNs-r.StartNs)+time.Duration(r.StartWallNs-start.UnixNano()))
		}
	}
	if total != 41 {
		t.Errorf("the shards completed %d requests, want 41", total)
	}
	if ids[0] != ids[1] || seeds[0] != seeds[1] {
		t.Errorf("shards disagree: benchmark ids %v, seeds %v", ids, seeds)
	}
	// Every scheduled time is a slot of one 200 req/s schedule from the
	// common start: distinct, within the 41 slots' span.
	slices.Sort(offsets)
	if len(offsets) != 41 {
		t.Fatalf("%d scheduled requests, want 41", len(offsets))
	}
	if offsets[0] < 0 || offsets[40] > time.Second {
		t.Errorf("scheduled times from %s to %s after the common start: the schedule does not start there", offsets[0], offsets[40])
	}
	for i := 1; i < len(offsets); i++ {
		if offsets[i] == offsets[i-1] {
			t.Fatalf("two shards scheduled the same slot at %s", offsets[i])
		}
	}
}

func TestShardRefusesWhatItCannotSplit(t *testing.T) {
	h := newHarness(t, fastMock())
	sh := WithShard(ShardSetup{Shard: config.Shard{Index: 0, Count: 2}})
	cfg := h.bench(false, concurrency(4), config.Stop{Requests: 10})
	cfg.SeedSet = false
	if _, err := Plan(context.Background(), h.reg, cfg, nil, WithDataset(prompts(3, 1)), sh); err == nil || !strings.Contains(err.Error(), "same seed in every shard") {
		t.Errorf("a sharded step without seed or common start: err = %v", err)
	}
	restore := h.reg.Snapshot()
	defer restore()
	err := h.reg.Register(plugin.TimingStrategy, "whole_only", &plugin.Class{New: func(plugin.Args) (any, error) {
		c, err := timing.NewConcurrency(2, nil)
		return wholeOnly{c}, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	cfg = h.bench(false, spec(plugin.TimingStrategy, "whole_only"), config.Stop{Requests: 10})
	if _, err := Plan(context.Background(), h.reg, cfg, nil, WithDataset(prompts(3, 1)), sh); err == nil || !strings.Contains(err.Error(), "cannot run as a shard") {
		t.Errorf("a strategy that does not split its load: err = %v", err)
	}
	cfg = h.bench(false, concurrency(1), config.Stop{Requests: 10})
	if _, err := Plan(context.Background(), h.reg, cfg, nil, WithDataset(prompts(3, 1)), sh); err == nil || !strings.Contains(err.Error(), "concurrency 1 cannot be split over 2 shards") {
		t.Errorf("one slot over two shards: err = %v", err)
	}
}

// wholeOnly is a strategy that does not implement timing.ShardAware.
type wholeOnly struct{ c *timing.Concurrency }

func (w wholeOnly) Plan(env *timing.Env) (*timing.Plan, error) { return w.c.Plan(env) }
func (w wholeOnly) Run(ctx context.Context, env *timing.Env) (*timing.Report, error) {
	return w.c.Run(ctx, env)
}
func (w wholeOnly) String() string { return "timing.whole_only()" }
