package outputs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/console"
	"github.com/loadstar/loadstar/internal/export"
	"github.com/loadstar/loadstar/internal/shardmerge"
)

// writeShardFile writes a shard's merge file beside its artifacts.
func writeShardFile(sum *results.Summary, dir, version string) error {
	f, err := shardmerge.Of(sum, version)
	if err != nil {
		return fmt.Errorf("outputs: merge file: %w", err)
	}
	path, err := f.Write(dir)
	if err != nil {
		return err
	}
	if sum.Files == nil {
		sum.Files = map[string]string{}
	}
	sum.Files["shard"] = path
	return nil
}

// WriteMerged writes the artifacts of a merged step into dir, as one
// process would have: the summary exporters of the plan's export level
// (AIPerf JSON and CSV, time slices, ...) from the merged results, and the
// per-request records files of the shards concatenated, shard by shard;
// then the console report to stdout (nil: none).
func WriteMerged(ctx context.Context, m *shardmerge.Merged, dir string, overwrite bool, stdout io.Writer) error {
	cfg := m.Config
	claimed, err := export.ClaimDir(dir, overwrite)
	if err != nil {
		return invalid(fmt.Errorf("merge: output directory: %w", err))
	}
	if claimed != dir {
		return invalid(fmt.Errorf("merge: %s holds an earlier run (--overwrite replaces its files)", dir))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg.Output.ArtifactDir = dir
	a := &artifacts{target: &export.Target{Dir: dir, Prefix: cfg.Output.Prefix, Config: cfg}}
	if err := a.resolve(cfg); err != nil {
		return invalid(err)
	}
	sum := m.Summary
	sum.Info.ArtifactDir = dir
	sum.Files = map[string]string{}
	var errs []error
	for _, s := range a.streams {
		path, err := concatRecords(m.Files, a.target, s.Kind())
		switch {
		case err != nil:
			errs = append(errs, err)
		case path != "":
			sum.Files[s.Kind()] = path
		}
	}
	for _, e := range a.exporters {
		if _, ok := e.(export.RecordExporter); ok {
			continue
		}
		if _, ok := e.(export.Inputs); ok {
			continue
		}
		if _, ok := e.(*export.Inputs); ok {
			continue
		}
		if e.Kind() == export.KindJSON {
			sum.Files[export.KindJSON] = a.target.Path(export.KindJSON)
		}
		path, err := e.Export(ctx, a.target, sum)
		if err != nil {
			errs = append(errs, fmt.Errorf("merge: %s export: %w", e.Kind(), err))
			continue
		}
		if path != "" {
			sum.Files[e.Kind()] = path
		}
	}
	if stdout != nil {
		if err := console.Print(stdout, sum, cfg.Output.Console, console.Style{}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// concatRecords joins the shards' files of a record exporter's kind into
// the target's: line-oriented files (JSONL) are concatenated shard by
// shard; a kind a shard lacks, or a binary one (Parquet), is left out and
// said so.
func concatRecords(files []*shardmerge.File, t *export.Target, kind string) (string, error) {
	dst := t.Path(kind)
	name := filepath.Base(dst)
	if filepath.Ext(name) != ".jsonl" {
		return "", nil
	}
	var srcs []string
	for _, f := range files {
		p := filepath.Join(f.Dir, name)
		if _, err := os.Stat(p); err != nil {
			return "", nil // a shard without it: none in the merge
		}
		srcs = append(srcs, p)
	}
	out, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	for _, p := range srcs {
		in, err := os.Open(p)
		if err != nil {
			out.Close()
			return "", err
		}
		_, err = io.Copy(out, in)
		in.Close()
		if err != nil {
			out.Close()
			return "", fmt.Errorf("merge: %s: %w", p, err)
		}
	}
	return dst, out.Close()
}

// MergeDirs merges the shards under roots (shardmerge.Steps: one step's
// shard directories, or the shards' artifact roots) into out, step by
// step, printing each step's console report to stdout (nil: none) and a
// line saying what was merged to w.
func MergeDirs(ctx context.Context, roots []string, out string, overwrite bool, stdout, w io.Writer) ([]*shardmerge.Merged, error) {
	steps, err := shardmerge.Steps(roots)
	if err != nil {
		return nil, invalid(err)
	}
	names := make([]string, 0, len(steps))
	for rel := range steps {
		names = append(names, rel)
	}
	sort.Strings(names)
	var all []*shardmerge.Merged
	for _, rel := range names {
		var files []*shardmerge.File
		for _, dir := range steps[rel] {
			f, err := shardmerge.Read(dir)
			if err != nil {
				return all, invalid(err)
			}
			files = append(files, f)
		}
		m, err := shardmerge.Merge(ctx, files)
		if err != nil {
			if rel != "." {
				err = fmt.Errorf("step %s: %w", rel, err)
			}
			return all, invalid(err)
		}
		dir := filepath.Join(out, rel)
		if err := WriteMerged(ctx, m, dir, overwrite, stdout); err != nil {
			return all, err
		}
		how := "exact statistics"
		if !m.Exact {
			how = "HDR percentiles (relative error <= 0.001), exact counts and moments"
		}
		fmt.Fprintf(w, "Merged %d shards of benchmark %s into %s: %s; start skew %s\n",
			len(files), m.Summary.Info.BenchmarkID, dir, how, shardmerge.StartSkew(files))
		all = append(all, m)
	}
	return all, nil
}
