package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/loadstar/loadstar/internal/outputs"
)

// RunOptions say how Run follows, collects and cleans up.
type RunOptions struct {
	// Out receives shards/shard-I (each shard's results) and merged/.
	Out string
	// Every is how often the Job is polled (default 2 s).
	Every time.Duration
	// Keep leaves the objects in the cluster.
	Keep bool
	// Log receives progress lines; Stdout the merged console report (nil:
	// none).
	Log, Stdout io.Writer
}

// Run applies m, follows its Job to the end, collects every shard's
// results, merges them into Out/merged and deletes the objects (unless
// Keep). A shard that failed for good is reported by index and fails the
// run after what the others measured is collected; a retried shard is
// named with its failed attempts, and only the attempt that completed it is
// merged.
func Run(ctx context.Context, cs kubernetes.Interface, m *Manifests, ro RunOptions) (*Outcome, error) {
	if err := Apply(ctx, cs, m); err != nil {
		return nil, err
	}
	ns, name := m.Job.Namespace, m.Job.Name
	fmt.Fprintf(ro.Log, "created ConfigMap, collector and Job %s/%s with %d shards\n", ns, name, *m.Job.Spec.Completions)
	o, err := Follow(ctx, cs, ns, name, orDefault(ro.Every), ro.Log)
	if err != nil {
		return nil, err
	}
	err = collectAndMerge(ctx, cs, ns, name, o, ro)
	if !ro.Keep {
		if cerr := Clean(context.WithoutCancel(ctx), cs, ns, name); cerr != nil {
			err = errors.Join(err, cerr)
		} else {
			fmt.Fprintf(ro.Log, "deleted the Job, the collector and the ConfigMap of %s\n", name)
		}
	}
	return o, err
}

// Results collects and merges the results of an earlier run (its objects
// still in the cluster), as Run does after the Job ended.
func Results(ctx context.Context, cs kubernetes.Interface, ns, name string, ro RunOptions) (*Outcome, error) {
	o, err := Follow(ctx, cs, ns, name, orDefault(ro.Every), ro.Log)
	if err != nil {
		return nil, err
	}
	return o, collectAndMerge(ctx, cs, ns, name, o, ro)
}

func collectAndMerge(ctx context.Context, cs kubernetes.Interface, ns, name string, o *Outcome, ro RunOptions) error {
	fmt.Fprintln(ro.Log, o.Report())
	dirs, missing, err := Collect(ctx, cs, ns, name, o, filepath.Join(ro.Out, "shards"))
	if err != nil {
		return err
	}
	fmt.Fprintf(ro.Log, "collected %d shard(s) into %s\n", len(dirs), filepath.Join(ro.Out, "shards"))
	if len(missing) > 0 || len(o.Failed) > 0 {
		var ids []string
		for _, i := range union(missing, o.Failed) {
			ids = append(ids, fmt.Sprint(i))
		}
		return fmt.Errorf("kube: shard(s) %s of %d left no results: nothing merged (the other shards' results are in %s)",
			strings.Join(ids, ", "), o.Shards, filepath.Join(ro.Out, "shards"))
	}
	_, err = outputs.MergeDirs(ctx, dirs, filepath.Join(ro.Out, "merged"), false, ro.Stdout, ro.Log)
	return err
}

func union(a, b []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, x := range append(append([]int{}, a...), b...) {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func orDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return 2 * time.Second
	}
	return d
}
