package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/runner"
	"github.com/loadstar/loadstar/internal/collector"
)

// EnvJobIndex is the variable a Kubernetes Indexed Job sets in each pod to
// the pod's completion index.
const EnvJobIndex = "JOB_COMPLETION_INDEX"

// ShardFlags run every step of a scenario as one shard of a sharded
// benchmark (docs/distributed.md).
type ShardFlags struct {
	Shard     string `name:"shard" placeholder:"I/N" help:"Run as shard I of N (from 0): every shard plans the same steps from the same seed and sends its own part of each step's load; loadstar merge joins the shards' results."`
	Shards    int    `name:"shards" placeholder:"N" help:"Run as one of N shards, the index taken from $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)." default:"0"`
	StartAt   string `name:"start-at" placeholder:"TIME" help:"Wall-clock time (RFC 3339, e.g. 2026-12-03T15:04:05Z) at which every shard starts the first step's load; it also seeds steps whose run() sets no seed."`
	Collector string `name:"collector" placeholder:"URL" help:"The shards' collector (loadstar kube collector): every step starts when all shards reached it, at a start it hands out; the shard's clock offset is estimated against it; the shard's artifacts are uploaded to it at the end."`
	Pod       string `name:"pod" placeholder:"NAME" env:"POD_NAME" help:"This attempt's name in the collector (default: the host name)."`
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

// shardRun is a scenario running as a shard: the steps it ran, for the
// upload to the collector.
type shardRun struct {
	shard     config.Shard
	collector *collector.Client
	pod       string
	root      string
	dirs      []string
	out       io.Writer
}

// apply makes every step the scenario runs a shard's part: the first step
// starts at the common start (later steps start as the shard gets to
// them; with a collector every step starts when all shards reached it),
// and the steps are numbered so that a seedless step's derived seed is the
// same in every shard. It returns nil for the whole benchmark.
func (f ShardFlags) apply(ctx context.Context, sc *scenario, artifacts string) (*shardRun, error) {
	sh, at, err := f.resolve()
	if err != nil || sh.Whole() {
		if err == nil && f.Collector != "" {
			err = errext.Errorf(errext.InvalidConfig, "--collector is for shards: give --shard I/N or --shards N too")
		}
		return nil, err
	}
	run := &shardRun{shard: sh, pod: f.Pod, root: artifacts, out: sc.out.Stdout}
	if run.pod == "" {
		run.pod, _ = os.Hostname()
	}
	var off collector.Offset
	if f.Collector != "" {
		if !at.IsZero() {
			return nil, errext.Errorf(errext.InvalidConfig, "--start-at and --collector: give one (the collector hands out the start)")
		}
		if run.collector, err = collector.NewClient(f.Collector); err != nil {
			return nil, errext.WithExitCode(err, errext.InvalidConfig)
		}
		if off, err = run.collector.ClockOffset(ctx, 8); err != nil {
			return nil, err
		}
		fmt.Fprintf(sc.out.Stdout, "Clock offset against the collector: %s ± %s\n", off.Offset, off.Error)
	}
	sc.env.Runtime.Shard = sh
	execute := sc.env.Execute
	step := 0
	sc.env.Execute = func(ctx context.Context, cfg *config.Benchmark, opts ...runner.Option) (*results.Summary, error) {
		setup := runner.ShardSetup{Shard: sh, SeedKey: runner.SeedKeyOf(at), Step: step}
		if step == 0 {
			setup.StartAt = at
		}
		if run.collector != nil {
			st, err := run.collector.Barrier(ctx, sh.Index, step, off)
			if err != nil {
				return nil, err
			}
			setup.StartAt, setup.SeedKey = st.At, st.RunKey
			setup.ClockOffset, setup.ClockOffsetError, setup.ClockReference = off.Offset, off.Error, run.collector.URL()
		}
		step++
		sum, err := execute(ctx, cfg, append(opts, runner.WithShard(setup))...)
		if sum != nil && sum.Info.ArtifactDir != "" {
			run.dirs = append(run.dirs, sum.Info.ArtifactDir)
		}
		return sum, err
	}
	fmt.Fprintf(sc.out.Stdout, "Shard %s", sh)
	if !at.IsZero() {
		fmt.Fprintf(sc.out.Stdout, ", starting at %s", at.Format(time.RFC3339Nano))
	}
	fmt.Fprintln(sc.out.Stdout)
	return run, nil
}

// upload sends the shard's artifact directories to the collector, each
// under its path below the artifact root (the merge matches the shards'
// steps by it).
func (r *shardRun) upload(ctx context.Context) error {
	if r == nil || r.collector == nil || len(r.dirs) == 0 {
		return nil
	}
	root := r.root
	if root == "" {
		root = "."
	}
	var dirs []collector.Dir
	for _, d := range r.dirs {
		name, err := filepath.Rel(root, d)
		if err != nil || strings.HasPrefix(name, "..") {
			name = filepath.Base(d)
		}
		dirs = append(dirs, collector.Dir{Name: name, Path: d})
	}
	up, err := r.collector.Upload(ctx, r.shard.Index, r.pod, dirs)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.out, "Uploaded shard %s's results (%d bytes) to %s as %s\n", r.shard, up.Bytes, r.collector.URL(), r.pod)
	return nil
}
