package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/loadstar/loadstar/internal/collector"
)

// Apply creates the manifests' objects. An object that exists already is
// an error: another run has the name.
func Apply(ctx context.Context, cs kubernetes.Interface, m *Manifests) error {
	ns := m.Job.Namespace
	wrap := func(kind, name string, err error) error {
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("kube: %s %s/%s exists already: another run has the name (loadstar kube results %s collects it; --name picks another)", kind, ns, name, m.Job.Name)
		}
		return fmt.Errorf("kube: creating %s %s/%s: %w", kind, ns, name, err)
	}
	if m.Secret != nil {
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, m.Secret, metav1.CreateOptions{}); err != nil {
			return wrap("Secret", m.Secret.Name, err)
		}
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, m.ConfigMap, metav1.CreateOptions{}); err != nil {
		return wrap("ConfigMap", m.ConfigMap.Name, err)
	}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, m.Service, metav1.CreateOptions{}); err != nil {
		return wrap("Service", m.Service.Name, err)
	}
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, m.Collector, metav1.CreateOptions{}); err != nil {
		return wrap("Deployment", m.Collector.Name, err)
	}
	if _, err := cs.BatchV1().Jobs(ns).Create(ctx, m.Job, metav1.CreateOptions{}); err != nil {
		return wrap("Job", m.Job.Name, err)
	}
	return nil
}

// Attempt is one pod of a shard.
type Attempt struct {
	Pod   string
	Phase corev1.PodPhase
}

// Outcome is what became of each shard index.
type Outcome struct {
	Shards int
	// Succeeded maps an index to the pod that completed it.
	Succeeded map[int]string
	// Failed lists the indexes that failed for good; Retried the indexes
	// with failed attempts, by pod name.
	Failed  []int
	Retried map[int][]string
	// JobFailed is the Job's failure message, "" if it completed.
	JobFailed string
}

// Report says, one line per fact, what happened to the shards.
func (o *Outcome) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d shards completed", len(o.Succeeded), o.Shards)
	idx := make([]int, 0, len(o.Retried))
	for i := range o.Retried {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		fmt.Fprintf(&b, "\nshard %d was retried: failed attempt(s) %s", i, strings.Join(o.Retried[i], ", "))
		if p, ok := o.Succeeded[i]; ok {
			fmt.Fprintf(&b, "; completed by %s", p)
		}
	}
	for _, i := range o.Failed {
		fmt.Fprintf(&b, "\nshard %d FAILED: its results are missing", i)
	}
	if o.JobFailed != "" {
		fmt.Fprintf(&b, "\nthe Job failed: %s", o.JobFailed)
	}
	return b.String()
}

// Follow polls the Job until it completes or fails, printing its progress
// to w, and returns what became of each index.
func Follow(ctx context.Context, cs kubernetes.Interface, ns, name string, every time.Duration, w io.Writer) (*Outcome, error) {
	last := ""
	for {
		job, err := cs.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("kube: job %s/%s: %w", ns, name, err)
		}
		done, failed := finished(job)
		line := fmt.Sprintf("job %s: %d active, %d succeeded, %d failed pods", name, job.Status.Active, job.Status.Succeeded, job.Status.Failed)
		if fi := job.Status.FailedIndexes; fi != nil && *fi != "" {
			line += ", failed indexes " + *fi
		}
		if line != last {
			fmt.Fprintln(w, line)
			last = line
		}
		if done {
			o, err := outcome(ctx, cs, job)
			if err != nil {
				return nil, err
			}
			o.JobFailed = failed
			return o, nil
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("kube: following job %s/%s: %w (loadstar kube results %s collects it later)", ns, name, ctx.Err(), name)
		case <-t.C:
		}
	}
}

// finished reports whether the Job is done, and its failure message.
func finished(job *batchv1.Job) (bool, string) {
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return true, ""
		case batchv1.JobFailed:
			return true, strings.TrimSpace(c.Reason + ": " + c.Message)
		}
	}
	return false, ""
}

// outcome reads the Job's pods: which attempt completed each index, which
// failed.
func outcome(ctx context.Context, cs kubernetes.Interface, job *batchv1.Job) (*Outcome, error) {
	n := 1
	if job.Spec.Completions != nil {
		n = int(*job.Spec.Completions)
	}
	o := &Outcome{Shards: n, Succeeded: map[int]string{}, Retried: map[int][]string{}}
	pods, err := cs.CoreV1().Pods(job.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + job.Name})
	if err != nil {
		return nil, fmt.Errorf("kube: pods of job %s: %w", job.Name, err)
	}
	for _, p := range pods.Items {
		i, err := strconv.Atoi(p.Annotations[batchv1.JobCompletionIndexAnnotation])
		if err != nil {
			continue
		}
		switch p.Status.Phase {
		case corev1.PodSucceeded:
			o.Succeeded[i] = p.Name
		case corev1.PodFailed:
			o.Retried[i] = append(o.Retried[i], p.Name)
		}
	}
	for i := range o.Retried {
		sort.Strings(o.Retried[i])
	}
	for i := range n {
		if _, ok := o.Succeeded[i]; !ok {
			o.Failed = append(o.Failed, i)
		}
	}
	return o, nil
}

// proxy reaches the collector through the API server's service proxy.
type proxy struct {
	cs       kubernetes.Interface
	ns, name string
}

// Get implements collector.Getter.
func (p proxy) Get(ctx context.Context, path string) (io.ReadCloser, error) {
	return p.cs.CoreV1().Services(p.ns).ProxyGet("http", p.name, strconv.Itoa(collector.Port), path, nil).Stream(ctx)
}

// Collect downloads the results the collector holds: per shard index the
// upload of the attempt that completed it (o.Succeeded; without an outcome,
// the latest upload of each index) into dir/shard-I. It returns the shard
// directories and the indexes with no results.
func Collect(ctx context.Context, cs kubernetes.Interface, ns, run string, o *Outcome, dir string) ([]string, []int, error) {
	g := proxy{cs: cs, ns: ns, name: CollectorName(run)}
	st, err := collector.StatusOf(ctx, g)
	if err != nil {
		return nil, nil, fmt.Errorf("kube: the collector of %s: %w", run, err)
	}
	chosen := map[int]collector.Upload{}
	for _, up := range st.Uploads { // oldest first
		if o != nil {
			if pod, ok := o.Succeeded[up.Shard]; ok && pod != up.Pod {
				continue // a failed attempt's partial results
			}
		}
		chosen[up.Shard] = up
	}
	var dirs []string
	var missing []int
	for i := range st.Shards {
		up, ok := chosen[i]
		if !ok {
			missing = append(missing, i)
			continue
		}
		d := filepath.Join(dir, fmt.Sprintf("shard-%d", i))
		if err := os.RemoveAll(d); err != nil {
			return nil, nil, err
		}
		if err := collector.Fetch(ctx, g, up, d); err != nil {
			return nil, nil, err
		}
		dirs = append(dirs, d)
	}
	return dirs, missing, nil
}

// Clean deletes the run's objects (the Job with its pods).
func Clean(ctx context.Context, cs kubernetes.Interface, ns, run string) error {
	bg := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &bg}
	var errs []error
	keep := func(err error) {
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	keep(cs.BatchV1().Jobs(ns).Delete(ctx, run, opts))
	keep(cs.AppsV1().Deployments(ns).Delete(ctx, CollectorName(run), opts))
	keep(cs.CoreV1().Services(ns).Delete(ctx, CollectorName(run), opts))
	keep(cs.CoreV1().ConfigMaps(ns).Delete(ctx, run, opts))
	keep(cs.CoreV1().Secrets(ns).Delete(ctx, SecretName(run), opts))
	if len(errs) > 0 {
		return fmt.Errorf("kube: cleaning up %s: %w", run, errors.Join(errs...))
	}
	return nil
}
