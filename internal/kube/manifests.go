// Package kube runs a sharded benchmark on Kubernetes (docs/distributed.md):
// Generate writes the manifests — a ConfigMap with the scenario, its
// workspace, libraries and plugin folders; the collector (a Deployment and
// its Service, internal/collector) where the shards meet and leave their
// results; an Indexed Job with one pod per shard — and Run applies them
// with client-go, follows the Job, collects every shard's results through
// the API server's service proxy, merges them and cleans up.
package kube

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/loadstar/loadstar/engine/redact"
	"github.com/loadstar/loadstar/internal/collector"
)

// Labels every generated object carries.
const (
	LabelApp = "app.kubernetes.io/name"
	LabelRun = "loadstar.dev/run"
	AppName  = "loadstar"
)

// Mount points in the pods.
const (
	workDir    = "/work"
	resultsDir = "/results"
)

// maxConfigMap is the API server's limit on a ConfigMap's data.
const maxConfigMap = 1 << 20

// Options say what to generate.
type Options struct {
	// Name names every object (a DNS label: the Job's pods add a suffix).
	Name      string
	Namespace string
	// Image is the loadstar container image (see the repository's
	// Dockerfile).
	Image string
	// Shards is the number of shard pods (completions = parallelism).
	Shards int
	// BackoffLimitPerIndex is how often a failed shard is retried.
	BackoffLimitPerIndex int32
	// CPU and Memory are each shard pod's requests (and limits), e.g.
	// "2" and "2Gi"; empty: none.
	CPU, Memory string
	// Scenario is the scenario file; the files of its directory (its data,
	// loadstar.yaml) go with it.
	Scenario string
	// Libs are library roots (name → directory) and Plugins plugin
	// folders, shipped in the ConfigMap too.
	Libs    map[string]string
	Plugins []string
	// Vars are the script variables passed to every shard (KEY=VALUE,
	// as --var). A variable whose name says it is a secret (api_key,
	// token, password: redact.IsSecretName) goes into a Secret, never into
	// the Job's arguments: the pods read it from the environment.
	Vars []string
	// Args are further arguments of loadstar run.
	Args []string
	// ServiceAccount runs the pods (empty: the namespace's default).
	ServiceAccount string
}

// Manifests are the generated objects.
type Manifests struct {
	ConfigMap *corev1.ConfigMap
	// Secret holds the secret variables; nil when there are none.
	Secret    *corev1.Secret
	Collector *appsv1.Deployment
	Service   *corev1.Service
	Job       *batchv1.Job
}

// CollectorName is the collector's Deployment and Service name of a run.
func CollectorName(run string) string { return run + "-collector" }

// file is one shipped file: its key in the ConfigMap and its path under
// the work directory.
type file struct {
	key, path string
	data      []byte
}

// Generate builds the manifests.
func Generate(o Options) (*Manifests, error) {
	if errs := validation.IsDNS1123Label(o.Name); len(errs) > 0 || len(o.Name) > 50 {
		return nil, fmt.Errorf("kube: name %q: want a DNS label of at most 50 characters (lower-case letters, digits, '-'): %s", o.Name, strings.Join(errs, "; "))
	}
	if o.Shards < 1 {
		return nil, fmt.Errorf("kube: --shards %d: want at least 1", o.Shards)
	}
	if o.Image == "" {
		return nil, fmt.Errorf("kube: no image: give --image (build it with the repository's Dockerfile)")
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	files, args, err := o.files()
	if err != nil {
		return nil, err
	}
	res, err := o.resources()
	if err != nil {
		return nil, err
	}
	labels := map[string]string{LabelApp: AppName, LabelRun: o.Name}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: o.Namespace, Labels: labels}
	}
	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: meta(o.Name), Data: map[string]string{}}
	var items []corev1.KeyToPath
	size := 0
	for _, f := range files {
		cm.Data[f.key] = string(f.data)
		items = append(items, corev1.KeyToPath{Key: f.key, Path: f.path})
		size += len(f.data) + len(f.key)
	}
	if size > maxConfigMap {
		return nil, fmt.Errorf("kube: the scenario's files take %d bytes, more than a ConfigMap holds (1 MiB): keep large data sets out of the scenario's directory and give them to the pods another way", size)
	}
	m := &Manifests{ConfigMap: cm}
	varArgs, env, secret, err := o.vars(meta)
	if err != nil {
		return nil, err
	}
	m.Secret = secret
	m.Collector, m.Service = o.collector(meta, labels)
	m.Job = o.job(meta, items, append(args, varArgs...), env, res)
	return m, nil
}

// SecretName is the name of the Secret holding a run's secret variables.
func SecretName(run string) string { return run + "-vars" }

// vars turns the script variables into loadstar run arguments. A secret
// one becomes --var NAME=$(LOADSTAR_VAR_i), which the kubelet expands from
// an environment variable filled from the run's Secret, so its value
// appears in no manifest, pod spec or log.
func (o Options) vars(meta func(string) metav1.ObjectMeta) ([]string, []corev1.EnvVar, *corev1.Secret, error) {
	var args []string
	var env []corev1.EnvVar
	var secret *corev1.Secret
	for i, v := range o.Vars {
		name, value, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			// The text is not echoed: it may be a secret given without its name.
			return nil, nil, nil, fmt.Errorf("kube: --var number %d has no KEY=: want KEY=VALUE", i+1)
		}
		if !redact.IsSecretName(name) {
			args = append(args, "--var", v)
			continue
		}
		if secret == nil {
			secret = &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: meta(SecretName(o.Name)),
				Type: corev1.SecretTypeOpaque, StringData: map[string]string{}}
		}
		key := fmt.Sprintf("var%d", len(env))
		envName := fmt.Sprintf("LOADSTAR_VAR_%d", len(env))
		secret.StringData[key] = value
		env = append(env, corev1.EnvVar{Name: envName, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: SecretName(o.Name)}, Key: key}}})
		args = append(args, "--var", name+"=$("+envName+")")
	}
	return args, env, secret, nil
}

// files collects what the pods need and the loadstar run arguments that
// point at it.
func (o Options) files() ([]file, []string, error) {
	var files []file
	add := func(dir, under string, recursive bool) error {
		return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != dir && (!recursive || strings.HasPrefix(d.Name(), ".") || d.Name() == "artifacts") {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") {
				return nil
			}
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files = append(files, file{key: fmt.Sprintf("f%d", len(files)), path: path.Join(under, filepath.ToSlash(rel)), data: data})
			return nil
		})
	}
	if _, err := os.Stat(o.Scenario); err != nil {
		return nil, nil, fmt.Errorf("kube: scenario: %w", err)
	}
	// The scenario's directory, its data and loadstar.yaml, not the
	// artifacts of earlier runs.
	if err := add(filepath.Dir(o.Scenario), "scenario", true); err != nil {
		return nil, nil, err
	}
	args := []string{"run", path.Join(workDir, "scenario", filepath.Base(o.Scenario))}
	names := make([]string, 0, len(o.Libs))
	for n := range o.Libs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := add(o.Libs[n], path.Join("lib", n), true); err != nil {
			return nil, nil, fmt.Errorf("kube: library %s: %w", n, err)
		}
		args = append(args, "--lib", n+"="+path.Join(workDir, "lib", n))
	}
	for i, dir := range o.Plugins {
		under := path.Join("plugins", fmt.Sprint(i))
		if err := add(dir, under, true); err != nil {
			return nil, nil, fmt.Errorf("kube: plugins %s: %w", dir, err)
		}
		args = append(args, "--plugins", path.Join(workDir, under))
	}
	return files, args, nil
}

func (o Options) resources() (corev1.ResourceRequirements, error) {
	var r corev1.ResourceRequirements
	set := func(name corev1.ResourceName, text, flag string) error {
		if text == "" {
			return nil
		}
		q, err := resource.ParseQuantity(text)
		if err != nil {
			return fmt.Errorf("kube: --%s %q: want a Kubernetes quantity such as 2, 500m, 4Gi", flag, text)
		}
		if r.Requests == nil {
			r.Requests, r.Limits = corev1.ResourceList{}, corev1.ResourceList{}
		}
		r.Requests[name], r.Limits[name] = q, q
		return nil
	}
	if err := set(corev1.ResourceCPU, o.CPU, "cpu"); err != nil {
		return r, err
	}
	return r, set(corev1.ResourceMemory, o.Memory, "memory")
}

func (o Options) collector(meta func(string) metav1.ObjectMeta, labels map[string]string) (*appsv1.Deployment, *corev1.Service) {
	name := CollectorName(o.Name)
	sel := map[string]string{LabelRun: o.Name, "loadstar.dev/role": "collector"}
	podLabels := map[string]string{LabelApp: AppName}
	for k, v := range sel {
		podLabels[k] = v
	}
	one := int32(1)
	dep := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: meta(name),
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{ServiceAccountName: o.ServiceAccount,
					Containers: []corev1.Container{{Name: "collector", Image: o.Image,
						Args:  []string{"kube", "collector", "--shards", fmt.Sprint(o.Shards), "--dir", resultsDir, "--port", fmt.Sprint(collector.Port)},
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: collector.Port}},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz",
							Port: intstr.FromInt32(collector.Port)}}},
						VolumeMounts: []corev1.VolumeMount{{Name: "results", MountPath: resultsDir}}}},
					Volumes: []corev1.Volume{{Name: "results", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}}}}}
	svc := &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}, ObjectMeta: meta(name),
		Spec: corev1.ServiceSpec{Selector: sel, Ports: []corev1.ServicePort{{Name: "http", Port: collector.Port,
			TargetPort: intstr.FromInt32(collector.Port)}}}}
	_ = labels
	return dep, svc
}

func (o Options) job(meta func(string) metav1.ObjectMeta, items []corev1.KeyToPath, args []string, env []corev1.EnvVar, res corev1.ResourceRequirements) *batchv1.Job {
	n := int32(o.Shards)
	backoff := o.BackoffLimitPerIndex
	indexed := batchv1.IndexedCompletion
	url := fmt.Sprintf("http://%s.%s.svc:%d", CollectorName(o.Name), o.Namespace, collector.Port)
	args = append(args, "--shards", fmt.Sprint(o.Shards), "--collector", url, "--artifacts", resultsDir)
	args = append(args, o.Args...)
	podLabels := map[string]string{LabelApp: AppName, LabelRun: o.Name, "loadstar.dev/role": "shard"}
	return &batchv1.Job{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"}, ObjectMeta: meta(o.Name),
		Spec: batchv1.JobSpec{Completions: &n, Parallelism: &n, CompletionMode: &indexed, BackoffLimitPerIndex: &backoff,
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, ServiceAccountName: o.ServiceAccount,
					Containers: []corev1.Container{{Name: "shard", Image: o.Image, Args: args, WorkingDir: workDir, Resources: res,
						Env: append([]corev1.EnvVar{{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}, env...),
						VolumeMounts: []corev1.VolumeMount{{Name: "scenario", MountPath: workDir, ReadOnly: true},
							{Name: "results", MountPath: resultsDir}}}},
					Volumes: []corev1.Volume{
						{Name: "scenario", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: o.Name}, Items: items}}},
						{Name: "results", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}}}}}
}

// YAML renders the manifests as one multi-document YAML stream, in the
// order they are applied.
func (m *Manifests) YAML() ([]byte, error) {
	var buf bytes.Buffer
	for i, obj := range m.Objects() {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

// Objects are the manifests in the order they are applied.
func (m *Manifests) Objects() []any {
	objs := []any{m.ConfigMap, m.Service, m.Collector, m.Job}
	if m.Secret != nil {
		objs = append([]any{m.Secret}, objs...)
	}
	return objs
}
