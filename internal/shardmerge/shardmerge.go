// Package shardmerge joins the results of a sharded benchmark
// (docs/distributed.md): every shard of a step writes, besides its usual
// artifacts, a merge file (FileName) holding its metrics' mergeable state
// (internal/metrics.State) and what identifies the step; Merge checks that
// the files are every shard of one plan, exactly once, and returns the
// results one process would have reported over all their records.
//
//	files, _ := shardmerge.ReadDirs([]string{"shard-0/run", "shard-1/run"})
//	m, _ := shardmerge.Merge(files)
//	fmt.Println(m.Summary.Metric("request_count").Value, m.Exact)
package shardmerge

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/export"
	"github.com/loadstar/loadstar/internal/metrics"
)

// FileName is the merge file in a shard's artifact directory.
const FileName = "loadstar_shard.gob.gz"

// Format is the merge file's layout version.
const Format = 1

// File is one shard's merge file.
type File struct {
	Format  int
	Version string // loadstar's
	Shard   results.Shard
	// BenchmarkID and Seed are the step's, the same in every shard; Plan
	// fingerprints the step's configuration (its input_config without
	// where the artifacts went).
	BenchmarkID string
	Seed        uint64
	Plan        string
	Info        results.RunInfo
	TokenSource string
	// InputConfig is the step's input_config (JSON, secrets redacted).
	InputConfig []byte
	// Config is the part of the plan the merged artifacts need.
	Config  config.Benchmark
	Metrics *metrics.State

	// Dir is where the file was read from (not written).
	Dir string `gob:"-"`
}

// Of returns the merge file of a shard's finished step (sum.Shard set).
func Of(sum *results.Summary, version string) (*File, error) {
	if sum.Shard == nil {
		return nil, errors.New("shardmerge: the step did not run as a shard")
	}
	st, ok := sum.Shard.Mergeable.(*metrics.State)
	if !ok || st == nil {
		return nil, errors.New("shardmerge: the shard's results carry no mergeable state")
	}
	in, err := export.InputConfigJSON(sum.Config)
	if err != nil {
		return nil, err
	}
	plan, err := fingerprint(sum.Config)
	if err != nil {
		return nil, err
	}
	sh := *sum.Shard
	sh.Mergeable = nil
	sh.IssueDelay = sum.Verdict.IssueDelay
	sh.Requests = sum.Verdict.Issued
	info := sum.Info
	info.Health = nil
	f := &File{Format: Format, Version: version, Shard: sh, BenchmarkID: sum.Info.BenchmarkID, Seed: sum.Info.Seed,
		Plan: plan, Info: info, TokenSource: sum.TokenSource, InputConfig: in, Metrics: st,
		Config: config.Benchmark{Name: sum.Config.Name, CLICommand: sum.Config.CLICommand, Validity: sum.Config.Validity,
			Output: sum.Config.Output, SLOs: sum.Config.SLOs, Cancel: sum.Config.Cancel}}
	f.Config.Output.ArtifactDir = ""
	return f, nil
}

// fingerprint identifies a step's plan across shards: its input_config
// without the artifact directory (each shard writes its own).
func fingerprint(cfg *config.Benchmark) (string, error) {
	c := *cfg
	c.Output.ArtifactDir, c.Output.Root, c.Output.Overwrite = "", "", false
	b, err := export.InputConfigJSON(&c)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:12]), nil
}

// Write writes f into dir.
func (f *File) Write(dir string) (string, error) {
	path := filepath.Join(dir, FileName)
	out, err := os.Create(path)
	if err != nil {
		return "", err
	}
	zw := gzip.NewWriter(out)
	err = gob.NewEncoder(zw).Encode(f)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return "", fmt.Errorf("shardmerge: writing %s: %w", path, err)
	}
	return path, nil
}

// Read reads the merge file of the shard directory dir.
func Read(dir string) (*File, error) {
	path := filepath.Join(dir, FileName)
	in, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no %s: not the artifact directory of a shard (loadstar run --shard I/N writes one per step)", dir, FileName)
	}
	if err != nil {
		return nil, err
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var f File
	if err := gob.NewDecoder(zr).Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: not a readable merge file: %w", path, err)
	}
	if f.Format != Format {
		return nil, fmt.Errorf("%s: merge file format %d, this loadstar reads %d", path, f.Format, Format)
	}
	f.Dir = dir
	return &f, nil
}

// Steps finds the shard directories under the roots: a root holding a
// merge file is one step; any other root is searched for them, and the
// steps are matched by their path below the root (a multi-step scenario's
// artifacts, one root per shard). It returns the directories by step.
func Steps(roots []string) (map[string][]string, error) {
	steps := map[string][]string{}
	for _, root := range roots {
		if _, err := os.Stat(filepath.Join(root, FileName)); err == nil {
			steps["."] = append(steps["."], root)
			continue
		}
		found := 0
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || d.Name() != FileName {
				return nil
			}
			rel, err := filepath.Rel(root, filepath.Dir(p))
			if err != nil {
				return err
			}
			steps[rel] = append(steps[rel], filepath.Dir(p))
			found++
			return nil
		})
		if err != nil {
			return nil, err
		}
		if found == 0 {
			return nil, fmt.Errorf("%s: no %s below it: not a shard's artifacts (loadstar run --shard I/N writes one per step)", root, FileName)
		}
	}
	return steps, nil
}

// Merged is the result of a merge.
type Merged struct {
	Summary *results.Summary
	Config  *config.Benchmark
	// Exact: every statistic is the one process's exactly; otherwise
	// percentiles are HDR-derived within Summary's stated precision.
	Exact bool
	// Files are the merged shards, by index.
	Files []*File
}

// Merge checks that files are every shard of one step exactly once and
// joins them.
func Merge(ctx context.Context, files []*File) (*Merged, error) {
	if err := check(files); err != nil {
		return nil, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Shard.Index < files[j].Shard.Index })
	states := make([]*metrics.State, len(files))
	for i, f := range files {
		states[i] = f.Metrics
	}
	m, err := metrics.MergeStates(states)
	if err != nil {
		return nil, err
	}
	first := files[0]
	cfg := first.Config
	info := first.Info
	info.Issued, info.Dropped, info.Warnings, info.ArtifactDir = 0, 0, nil, ""
	for _, f := range files {
		fi := f.Info
		info.Issued += fi.Issued
		info.Dropped += fi.Dropped
		info.WasCancelled = info.WasCancelled || fi.WasCancelled
		if info.CancelCause == "" {
			info.CancelCause = fi.CancelCause
		}
		if info.Aborted == "" && fi.Aborted != "" {
			info.Aborted = fmt.Sprintf("shard %d: %s", f.Shard.Index, fi.Aborted)
		}
		if !fi.Start.IsZero() && (info.Start.IsZero() || fi.Start.Before(info.Start)) {
			info.Start = fi.Start
		}
		if fi.End.After(info.End) {
			info.End = fi.End
		}
		for _, w := range fi.Warnings {
			info.Warnings = append(info.Warnings, fmt.Sprintf("shard %d: %s", f.Shard.Index, w))
		}
	}
	sum := &results.Summary{Info: info, Config: &cfg, TokenSource: first.TokenSource, Version: first.Version,
		InputConfig: first.InputConfig}
	if err := m.Summarize(ctx, sum); err != nil {
		return nil, err
	}
	exact := true
	for _, mt := range sum.Metrics {
		if mt.Stats != nil && mt.Stats.Approx {
			exact = false
		}
	}
	for _, f := range files {
		sum.Shards = append(sum.Shards, f.Shard)
	}
	how := "every statistic is exactly the one a single process over all their records reports"
	if !exact {
		how = "percentiles are HDR-derived (relative error <= 0.001); count, sum, avg, min, max and std are exact"
	}
	sum.Notes = append(sum.Notes, fmt.Sprintf("merged from %d shards (%s) of benchmark %s: %s", len(files), indices(files), first.BenchmarkID, how))
	return &Merged{Summary: sum, Config: &cfg, Exact: exact, Files: files}, nil
}

func indices(files []*File) string {
	var parts []string
	for _, f := range files {
		parts = append(parts, fmt.Sprint(f.Shard.Index))
	}
	return strings.Join(parts, ", ")
}

// check refuses files that are not every shard of one plan exactly once.
func check(files []*File) error {
	if len(files) == 0 {
		return errors.New("merge: no shard directories")
	}
	first := files[0]
	n := first.Shard.Count
	seen := map[int]string{}
	for _, f := range files {
		switch {
		case f.Shard.Count != n:
			return fmt.Errorf("merge: %s is shard %d of %d, %s is of %d: not one benchmark", f.Dir, f.Shard.Index, f.Shard.Count, first.Dir, n)
		case f.Seed != first.Seed || f.BenchmarkID != first.BenchmarkID:
			return fmt.Errorf("merge: %s ran benchmark %s with seed %d, %s ran %s with seed %d: not one benchmark (the shards need the same seed or the same --start-at)",
				f.Dir, f.BenchmarkID, f.Seed, first.Dir, first.BenchmarkID, first.Seed)
		case f.Plan != first.Plan:
			return fmt.Errorf("merge: %s and %s planned different steps (their configurations differ): not one benchmark", f.Dir, first.Dir)
		}
		if dup, ok := seen[f.Shard.Index]; ok {
			return fmt.Errorf("merge: shard %d of %d given twice: %s and %s", f.Shard.Index, n, dup, f.Dir)
		}
		seen[f.Shard.Index] = f.Dir
	}
	var missing []string
	for i := range n {
		if _, ok := seen[i]; !ok {
			missing = append(missing, fmt.Sprint(i))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("merge: shard(s) %s of %d missing (have %s): a merge of part of the shards would not be the benchmark",
			strings.Join(missing, ", "), n, indices(files))
	}
	return nil
}

// StartSkew is the largest difference between the shards' starts.
func StartSkew(files []*File) time.Duration {
	var lo, hi time.Time
	for _, f := range files {
		s := f.Shard.Started
		if s.IsZero() {
			continue
		}
		if lo.IsZero() || s.Before(lo) {
			lo = s
		}
		if s.After(hi) {
			hi = s
		}
	}
	return hi.Sub(lo)
}
