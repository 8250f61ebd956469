package kube_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes/fake"
	restclient "k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/mock"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/runner"
	"github.com/loadstar/loadstar/internal/collector"
	"github.com/loadstar/loadstar/internal/kube"
	"github.com/loadstar/loadstar/internal/outputs"
)

func scenarioDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "bench.star"), []byte("run(timing = timing.concurrency(concurrency = 8), requests = 100)\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "loadstar.yaml"), []byte("libs: {}\n"), 0o644))
	must(t, os.MkdirAll(filepath.Join(dir, "data"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "data", "trace.jsonl"), []byte(`{"timestamp": 0, "input_length": 10, "output_length": 4}`+"\n"), 0o644))
	must(t, os.MkdirAll(filepath.Join(dir, "artifacts", "old"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "artifacts", "old", "big.json"), []byte("{}"), 0o644))
	return dir
}

func generate(t *testing.T, shards int) (*kube.Manifests, string) {
	t.Helper()
	dir := scenarioDir(t)
	lib := t.TempDir()
	must(t, os.WriteFile(filepath.Join(lib, "slo.star"), []byte("x = 1\n"), 0o644))
	m, err := kube.Generate(kube.Options{Name: "bench-1", Namespace: "perf", Image: "registry.example/loadstar:v1", Shards: shards,
		BackoffLimitPerIndex: 2, CPU: "2", Memory: "2Gi", Scenario: filepath.Join(dir, "bench.star"),
		Libs: map[string]string{"team": lib}, Args: []string{"--var", "rate=50"}})
	if err != nil {
		t.Fatal(err)
	}
	return m, dir
}

// The manifests decode strictly (no unknown or misspelt field) into the
// k8s.io/api types and pass the validation rules the API machinery carries
// (names, labels, ConfigMap keys, quantities) and the Indexed Job's own.
func TestGeneratedManifestsAreValidKubernetes(t *testing.T) {
	m, _ := generate(t, 4)
	y, err := m.YAML()
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(y), "\n---\n")
	if len(docs) != 4 {
		t.Fatalf("%d YAML documents, want 4", len(docs))
	}
	var cm corev1.ConfigMap
	var svc corev1.Service
	var dep appsv1.Deployment
	var job batchv1.Job
	for _, d := range docs {
		var tm metav1.TypeMeta
		must(t, yaml.Unmarshal([]byte(d), &tm))
		var obj any
		switch tm.Kind {
		case "ConfigMap":
			obj = &cm
		case "Service":
			obj = &svc
		case "Deployment":
			obj = &dep
		case "Job":
			obj = &job
		default:
			t.Fatalf("unexpected kind %q", tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(d), obj); err != nil {
			t.Fatalf("%s does not decode strictly: %v", tm.Kind, err)
		}
	}
	var errs field.ErrorList
	for _, om := range []*metav1.ObjectMeta{&cm.ObjectMeta, &svc.ObjectMeta, &dep.ObjectMeta, &job.ObjectMeta} {
		errs = append(errs, apivalidation.ValidateObjectMeta(om, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
	}
	errs = append(errs, apivalidation.ValidateObjectMeta(&svc.ObjectMeta, true, apivalidation.NameIsDNS1035Label, field.NewPath("service"))...)
	for _, labels := range []map[string]string{job.Spec.Template.Labels, dep.Spec.Template.Labels} {
		errs = append(errs, metavalidation.ValidateLabels(labels, field.NewPath("template", "labels"))...)
	}
	for k := range cm.Data {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, msg))
		}
	}
	if len(errs) > 0 {
		t.Fatalf("validation: %v", errs.ToAggregate())
	}
	// The Indexed Job's rules (batch/v1): completions = parallelism = N,
	// backoffLimitPerIndex only with Indexed completion and restartPolicy
	// Never.
	s := job.Spec
	if *s.Completions != 4 || *s.Parallelism != 4 || *s.CompletionMode != batchv1.IndexedCompletion ||
		*s.BackoffLimitPerIndex != 2 || s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("job spec %+v", s)
	}
	c := s.Template.Spec.Containers[0]
	if c.Image != "registry.example/loadstar:v1" || c.Resources.Requests.Cpu().String() != "2" || c.Resources.Limits.Memory().String() != "2Gi" {
		t.Errorf("container %s, resources %+v", c.Image, c.Resources)
	}
	args := strings.Join(c.Args, " ")
	for _, want := range []string{"run /work/scenario/bench.star", "--lib team=/work/lib/team", "--shards 4",
		"--collector http://bench-1-collector.perf.svc:8080", "--artifacts /results", "--var rate=50"} {
		if !strings.Contains(args, want) {
			t.Errorf("shard args %q lack %q", args, want)
		}
	}
	if c.Env[0].Name != "POD_NAME" || c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Errorf("env %+v", c.Env)
	}
	// Every file the pod mounts is in the ConfigMap, the earlier runs'
	// artifacts are not.
	paths := map[string]bool{}
	for _, it := range s.Template.Spec.Volumes[0].ConfigMap.Items {
		if _, ok := cm.Data[it.Key]; !ok {
			t.Errorf("volume item %s has no ConfigMap key", it.Key)
		}
		paths[it.Path] = true
	}
	for _, p := range []string{"scenario/bench.star", "scenario/loadstar.yaml", "scenario/data/trace.jsonl", "lib/team/slo.star"} {
		if !paths[p] {
			t.Errorf("%s is not shipped (have %v)", p, paths)
		}
	}
	if paths["scenario/artifacts/old/big.json"] {
		t.Error("earlier artifacts shipped")
	}
	for k, v := range svc.Spec.Selector {
		if dep.Spec.Template.Labels[k] != v {
			t.Errorf("the Service selects %s=%s, the collector pods do not carry it", k, v)
		}
	}
	if _, err := kube.Generate(kube.Options{Name: "Bad_Name", Image: "x", Shards: 2, Scenario: "x"}); err == nil {
		t.Error("a name that is not a DNS label was accepted")
	}
}

// cluster is a fake cluster: client-go's fake clientset, a real collector
// reached through the service proxy, and a kubelet that runs each shard
// index by uploading its results (a real shard run against the mock) and
// marks pods and the Job as Kubernetes would.
type cluster struct {
	cs      *fake.Clientset
	col     *collector.Server
	results map[int]string // index → a shard's artifact root
}

// handlerWrapper serves a proxied GET from the collector's handler.
type handlerWrapper struct {
	h    http.Handler
	path string
}

func (w handlerWrapper) DoRaw(ctx context.Context) ([]byte, error) {
	rc, err := w.Stream(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func (w handlerWrapper) Stream(context.Context) (io.ReadCloser, error) {
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, w.path, nil))
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("collector: %d %s", rec.Code, rec.Body.String())
	}
	return io.NopCloser(bytes.NewReader(rec.Body.Bytes())), nil
}

var _ restclient.ResponseWrapper = handlerWrapper{}

func newCluster(t *testing.T, shards int) *cluster {
	t.Helper()
	col, err := collector.NewServer(shards, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cs := fake.NewClientset()
	cs.PrependProxyReactor("services", func(a k8stesting.Action) (bool, restclient.ResponseWrapper, error) {
		pa := a.(k8stesting.ProxyGetAction)
		if pa.GetName() != kube.CollectorName("bench-1") {
			return true, nil, fmt.Errorf("proxy to unknown service %s", pa.GetName())
		}
		return true, handlerWrapper{h: col.Handler(), path: pa.GetPath()}, nil
	})
	return &cluster{cs: cs, col: col, results: shardResults(t, shards)}
}

// shardResults runs a small benchmark as shards in-process and returns
// each shard's artifact root.
func shardResults(t *testing.T, shards int) map[int]string {
	t.Helper()
	ctx := context.Background()
	srv, err := mock.Start(ctx, mock.Config{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	reg, err := outputs.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for i := range shards {
		root := t.TempDir()
		cfg := config.Defaults()
		cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat",
			Args: plugin.Args{"url": srv.URL(), "model": "org/mock-model", "streaming": true}}
		cfg.Timing = &plugin.Spec{Category: plugin.TimingStrategy, Name: "concurrency", Args: plugin.Args{"concurrency": int64(4)}}
		cfg.Stop = config.Stop{Requests: 30}
		cfg.Seed, cfg.SeedSet = 42, true
		cfg.UI = "none"
		cfg.Output.Root = root
		if _, err := outputs.Run(ctx, reg, &cfg, nil, outputs.Config{},
			runner.WithShard(runner.ShardSetup{Shard: config.Shard{Index: i, Count: shards}})); err != nil {
			t.Fatal(err)
		}
		out[i] = root
	}
	return out
}

// attempt is how the kubelet treats one pod of an index.
type attempt struct {
	index  int
	fail   bool
	upload bool // a failed attempt may still have uploaded partial results
}

// kubelet waits for the Job, then plays the attempts: a pod per attempt
// (failed or succeeded), the shard's upload, and the Job's final status.
func (c *cluster) kubelet(t *testing.T, ctx context.Context, attempts []attempt, shards int) {
	var job *batchv1.Job
	for job == nil {
		j, err := c.cs.BatchV1().Jobs("perf").Get(ctx, "bench-1", metav1.GetOptions{})
		if err == nil {
			job = j
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	succeeded := map[int]bool{}
	failedPods := 0
	for n, a := range attempts {
		pod := fmt.Sprintf("bench-1-%d-%c%04d", a.index, 'a'+rune(n%26), n)
		phase := corev1.PodSucceeded
		if a.fail {
			phase = corev1.PodFailed
			failedPods++
		} else {
			succeeded[a.index] = true
		}
		if !a.fail || a.upload {
			var dirs []collector.Dir
			entries, _ := os.ReadDir(c.results[a.index])
			for _, e := range entries {
				dirs = append(dirs, collector.Dir{Name: e.Name(), Path: filepath.Join(c.results[a.index], e.Name())})
			}
			hs := httptest.NewServer(c.col.Handler())
			cl, _ := collector.NewClient(hs.URL)
			if _, err := cl.Upload(ctx, a.index, pod, dirs); err != nil {
				t.Error(err)
			}
			hs.Close()
		}
		_, err := c.cs.CoreV1().Pods("perf").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: pod, Namespace: "perf",
			Labels:      map[string]string{"job-name": "bench-1"},
			Annotations: map[string]string{batchv1.JobCompletionIndexAnnotation: fmt.Sprint(a.index)}},
			Status: corev1.PodStatus{Phase: phase}}, metav1.CreateOptions{})
		if err != nil {
			t.Error(err)
		}
	}
	job.Status.Succeeded, job.Status.Failed = int32(len(succeeded)), int32(failedPods)
	cond := batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}
	if len(succeeded) < shards {
		var failed []string
		for i := range shards {
			if !succeeded[i] {
				failed = append(failed, fmt.Sprint(i))
			}
		}
		fi := strings.Join(failed, ",")
		job.Status.FailedIndexes = &fi
		cond = batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "FailedIndexes", Message: "Job has failed indexes"}
	}
	job.Status.Conditions = append(job.Status.Conditions, cond)
	if _, err := c.cs.BatchV1().Jobs("perf").UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil {
		t.Error(err)
	}
}

func runOn(t *testing.T, shards int, attempts []attempt) (*kube.Outcome, string, string, *cluster, error) {
	t.Helper()
	c := newCluster(t, shards)
	m, _ := generate(t, shards)
	out := t.TempDir()
	var log bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.kubelet(t, ctx, attempts, shards)
	}()
	o, err := kube.Run(ctx, c.cs, m, kube.RunOptions{Out: out, Every: 10 * time.Millisecond, Log: &log})
	wg.Wait()
	return o, out, log.String(), c, err
}

func TestRunSucceeds(t *testing.T) {
	o, out, log, c, err := runOn(t, 3, []attempt{{index: 0}, {index: 1}, {index: 2}})
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if len(o.Succeeded) != 3 || len(o.Failed) != 0 {
		t.Errorf("outcome %+v", o)
	}
	if !strings.Contains(log, "3 of 3 shards completed") || !strings.Contains(log, "Merged 3 shards") || !strings.Contains(log, "exact statistics") {
		t.Errorf("log:\n%s", log)
	}
	matches, _ := filepath.Glob(filepath.Join(out, "merged", "*", "profile_export_aiperf.json"))
	if len(matches) != 1 {
		t.Fatalf("merged summaries %v", matches)
	}
	data, _ := os.ReadFile(matches[0])
	var doc struct {
		RequestCount struct{ Avg float64 } `json:"request_count"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.RequestCount.Avg != 30 {
		t.Errorf("merged request_count %v, want the 30 requests of the shards (%v)", doc.RequestCount.Avg, err)
	}
	// Everything it created is gone.
	if jobs, _ := c.cs.BatchV1().Jobs("perf").List(context.Background(), metav1.ListOptions{}); len(jobs.Items) != 0 {
		t.Errorf("the Job was left behind")
	}
	if cms, _ := c.cs.CoreV1().ConfigMaps("perf").List(context.Background(), metav1.ListOptions{}); len(cms.Items) != 0 {
		t.Errorf("the ConfigMap was left behind")
	}
}

// A retried index is named with its failed attempt, and only the attempt
// that completed it is merged (the failed one's partial upload is not).
func TestRunRetriedIndex(t *testing.T) {
	o, _, log, _, err := runOn(t, 3, []attempt{{index: 0}, {index: 1, fail: true, upload: true}, {index: 2}, {index: 1}})
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if len(o.Retried[1]) != 1 || o.Succeeded[1] == o.Retried[1][0] {
		t.Errorf("outcome %+v", o)
	}
	want := fmt.Sprintf("shard 1 was retried: failed attempt(s) %s; completed by %s", o.Retried[1][0], o.Succeeded[1])
	if !strings.Contains(log, want) || !strings.Contains(log, "Merged 3 shards") {
		t.Errorf("log lacks %q:\n%s", want, log)
	}
}

// A failed index is reported by name; nothing is merged, what the other
// shards measured is kept.
func TestRunFailedIndex(t *testing.T) {
	o, out, log, _, err := runOn(t, 3, []attempt{{index: 0}, {index: 1, fail: true}, {index: 1, fail: true}, {index: 2}})
	if err == nil || !strings.Contains(err.Error(), "shard(s) 1 of 3 left no results") {
		t.Fatalf("err = %v\n%s", err, log)
	}
	if !strings.Contains(log, "shard 1 FAILED") || !strings.Contains(log, "the Job failed: FailedIndexes") {
		t.Errorf("log:\n%s", log)
	}
	if len(o.Failed) != 1 || o.Failed[0] != 1 {
		t.Errorf("outcome %+v", o)
	}
	for _, i := range []int{0, 2} {
		if _, err := os.Stat(filepath.Join(out, "shards", fmt.Sprintf("shard-%d", i))); err != nil {
			t.Errorf("shard %d's results not kept: %v", i, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "merged")); err == nil {
		t.Error("a merge without shard 1 was written")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var _ runtime.Object = &batchv1.Job{}

// A secret variable (--var api_key=...) goes into a Secret that the shard
// pods read from their environment: its value is in no other manifest, and
// kube run creates and cleans the Secret with the rest.
func TestSecretVariablesStayInASecret(t *testing.T) {
	const key = "sk-kube-sentinel-7f3a"
	dir := scenarioDir(t)
	m, err := kube.Generate(kube.Options{Name: "bench-2", Namespace: "perf", Image: "registry.example/loadstar:v1", Shards: 2,
		Scenario: filepath.Join(dir, "bench.star"), Vars: []string{"rate=50", "api_key=" + key}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Secret == nil || m.Secret.Name != "bench-2-vars" || m.Secret.StringData["var0"] != key {
		t.Fatalf("secret %+v", m.Secret)
	}
	for _, obj := range []any{m.ConfigMap, m.Service, m.Collector, m.Job} {
		b, err := yaml.Marshal(obj)
		must(t, err)
		if strings.Contains(string(b), key) {
			t.Errorf("the secret is in %T:\n%s", obj, b)
		}
	}
	c := m.Job.Spec.Template.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	if !strings.Contains(args, "--var rate=50") || !strings.Contains(args, "--var api_key=$(LOADSTAR_VAR_0)") {
		t.Errorf("args %s", args)
	}
	var ref *corev1.SecretKeySelector
	for _, e := range c.Env {
		if e.Name == "LOADSTAR_VAR_0" && e.ValueFrom != nil {
			ref = e.ValueFrom.SecretKeyRef
		}
	}
	if ref == nil || ref.Name != "bench-2-vars" || ref.Key != "var0" {
		t.Errorf("env %+v", c.Env)
	}
	y, err := m.YAML()
	must(t, err)
	if !strings.HasPrefix(string(y), "apiVersion: v1\nkind: Secret\n") {
		t.Errorf("the Secret is not applied first:\n%.200s", y)
	}
	var s corev1.Secret
	if err := yaml.UnmarshalStrict([]byte(strings.Split(string(y), "\n---\n")[0]), &s); err != nil {
		t.Fatalf("Secret does not decode strictly: %v", err)
	}

	cs := fake.NewClientset()
	ctx := context.Background()
	must(t, kube.Apply(ctx, cs, m))
	got, err := cs.CoreV1().Secrets("perf").Get(ctx, "bench-2-vars", metav1.GetOptions{})
	if err != nil || got.StringData["var0"] != key {
		t.Fatalf("secret after apply: %v %+v", err, got)
	}
	must(t, kube.Clean(ctx, cs, "perf", "bench-2"))
	if _, err := cs.CoreV1().Secrets("perf").Get(ctx, "bench-2-vars", metav1.GetOptions{}); err == nil {
		t.Error("the Secret is left after Clean")
	}

	if _, err := kube.Generate(kube.Options{Name: "bench-3", Image: "i", Shards: 1, Scenario: filepath.Join(dir, "bench.star"),
		Vars: []string{key}}); err == nil || strings.Contains(err.Error(), key) {
		t.Errorf("a --var without KEY=: %v", err)
	}
}
