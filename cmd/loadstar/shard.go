package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/runner"
)

// EnvJobIndex is the variable a Kubernetes Indexed Job sets in each pod to
// the pod's completion index.
const EnvJobIndex = "JOB_COMPLETION_INDEX"

// ShardFlags run every step of a scenario as one shard of a sharded
// benchmark (docs/distributed.md).
type ShardFlags struct {
	Shard   string `name:"shard" placeholder:"I/N" help:"Run as shard I of N (from 0): every shard plans the same steps from the same seed and sends its own part of each step's load; loadstar merge joins the shards' results."`
	Shards  int    `name:"shards" placeholder:"N" help:"Run as one of N shards, the index taken from $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)." default:"0"`
	StartAt string `name:"start-at" placeholder:"TIME" help:"Wall-clock time (RFC 3339, e.g. 2026-12-03T15:04:05Z) at which every shard starts the first step's load; it also seeds steps whose run() sets no seed."`
}

// resolve returns the shard the flags name (the whole benchmark when none)
// and the common start.
func (f ShardFlags) resolve() (config.Shard, time.Time, error) {
	var sh config.Shard
	var err error
	switch {
	case f.Shard != "" && f.Shards != 0:
		return sh, time.Time{}, errext.Errorf(errext.InvalidConfig, "--shard and --shards: give one (--shards takes the index from $%s)", EnvJobIndex)
	case f.Shard != "":
		if sh, err = config.ParseShard(f.Shard); err != nil {
			return sh, time.Time{}, errext.Errorf(errext.InvalidConfig, "--shard: %v", err)
		}
	case f.Shards != 0:
		text, ok := os.LookupEnv(EnvJobIndex)
		if !ok {
			return sh, time.Time{}, errext.Errorf(errext.InvalidConfig, "--shards %d: $%s is not set (it is in a Kubernetes Indexed Job's pods); elsewhere use --shard I/N", f.Shards, EnvJobIndex)
		}
		i, err := strconv.Atoi(text)
		if err != nil {
			return sh, time.Time{}, errext.Errorf(errext.InvalidConfig, "$%s=%q: want a shard index", EnvJobIndex, text)
		}
		sh = config.Shard{Index: i, Count: f.Shards}
		if f.Shards < 1 {
			return sh, time.Time{}, errext.Errorf(errext.InvalidConfig, "--shards %d: want a count >= 1", f.Shards)
		}
		if err := sh.Validate(); err != nil {
			return sh, time.Time{}, errext.Errorf(errext.InvalidConfig, "--shards with $%s: %v", EnvJobIndex, err)
		}
	}
	var at time.Time
	if f.StartAt != "" {
		if at, err = time.Parse(time.RFC3339Nano, f.StartAt); err != nil {
			return sh, time.Time{}, errext.Errorf(errext.InvalidConfig, "--start-at %q: want an RFC 3339 time, e.g. 2026-12-03T15:04:05Z", f.StartAt)
		}
		if sh.Whole() {
			return sh, time.Time{}, errext.Errorf(errext.InvalidConfig, "--start-at is for shards: give --shard I/N too")
		}
	}
	return sh, at, nil
}

// apply makes every step the scenario runs a shard's part: the first step
// starts at the common start (later steps start as the shard gets to
// them), and the steps are numbered so that a seedless step's derived seed
// is the same in every shard.
func (f ShardFlags) apply(sc *scenario) error {
	sh, at, err := f.resolve()
	if err != nil || sh.Whole() {
		return err
	}
	sc.env.Runtime.Shard = sh
	execute := sc.env.Execute
	step := 0
	sc.env.Execute = func(ctx context.Context, cfg *config.Benchmark, opts ...runner.Option) (*results.Summary, error) {
		setup := runner.ShardSetup{Shard: sh, SeedKey: runner.SeedKeyOf(at), Step: step}
		if step == 0 {
			setup.StartAt = at
		}
		step++
		return execute(ctx, cfg, append(opts, runner.WithShard(setup))...)
	}
	fmt.Fprintf(sc.out.Stdout, "Shard %s", sh)
	if !at.IsZero() {
		fmt.Fprintf(sc.out.Stdout, ", starting at %s", at.Format(time.RFC3339Nano))
	}
	fmt.Fprintln(sc.out.Stdout)
	return nil
}
