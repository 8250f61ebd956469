package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/internal/collector"
	"github.com/loadstar/loadstar/internal/kube"
)

// KubeCmd runs sharded benchmarks on Kubernetes.
type KubeCmd struct {
	Generate  KubeGenerateCmd  `cmd:"" help:"Write the manifests of a sharded run (ConfigMap, collector, Indexed Job) as YAML, for kubectl apply or GitOps."`
	Run       KubeRunCmd       `cmd:"" help:"Apply the manifests, follow the Job, collect and merge every shard's results, clean up."`
	Results   KubeResultsCmd   `cmd:"" help:"Collect and merge the results of an earlier run (its collector still running)."`
	Collector KubeCollectorCmd `cmd:"" help:"Serve the shards' collector (what the generated Deployment runs)."`
}

// kubeJob are the flags naming the manifests.
type kubeJob struct {
	File                 string   `arg:"" help:"Scenario file (.star); the files of its directory go with it." type:"existingfile"`
	Shards               int      `name:"shards" required:"" help:"Number of shard pods (the Job's completions and parallelism)."`
	Image                string   `name:"image" default:"ghcr.io/loadstar/loadstar:latest" help:"The loadstar container image (the repository's Dockerfile builds it)."`
	Name                 string   `name:"name" help:"Name of the Job and the other objects (default: the scenario's file name)."`
	Namespace            string   `name:"namespace" short:"n" default:"default" help:"Namespace of the objects."`
	BackoffLimitPerIndex int32    `name:"backoff-limit-per-index" default:"1" help:"How often a failed shard pod is retried."`
	CPU                  string   `name:"cpu" default:"1" help:"CPU request and limit of each shard pod (a Kubernetes quantity); empty: none."`
	Memory               string   `name:"memory" default:"1Gi" help:"Memory request and limit of each shard pod; empty: none."`
	ServiceAccount       string   `name:"service-account" help:"Service account of the pods (default: the namespace's)."`
	Vars                 []string `name:"var" sep:"none" placeholder:"KEY=VALUE" help:"Script variable passed to every shard (repeatable)."`
	Libs                 []string `name:"lib" sep:"none" placeholder:"NAME=DIR" help:"Library root shipped with the scenario (repeatable)."`
	Plugins              []string `name:"plugins" placeholder:"DIR" help:"Plugin folder shipped with the scenario (repeatable)."`
}

func (k kubeJob) manifests() (*kube.Manifests, error) {
	name := k.Name
	if name == "" {
		base := strings.TrimSuffix(filepath.Base(k.File), filepath.Ext(k.File))
		name = strings.Trim(strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
				return r
			case r >= 'A' && r <= 'Z':
				return r - 'A' + 'a'
			}
			return '-'
		}, base), "-")
		name = "loadstar-" + name
	}
	libs := map[string]string{}
	for _, l := range k.Libs {
		n, dir, ok := strings.Cut(l, "=")
		if !ok {
			return nil, errext.Errorf(errext.InvalidConfig, "--lib %q: want NAME=DIR", l)
		}
		libs[n] = dir
	}
	m, err := kube.Generate(kube.Options{Name: name, Namespace: k.Namespace, Image: k.Image, Shards: k.Shards,
		BackoffLimitPerIndex: k.BackoffLimitPerIndex, CPU: k.CPU, Memory: k.Memory, Scenario: k.File, Libs: libs,
		Plugins: k.Plugins, Vars: k.Vars, ServiceAccount: k.ServiceAccount})
	if err != nil {
		return nil, errext.WithExitCode(err, errext.InvalidConfig)
	}
	return m, nil
}

// kubeAccess are the flags reaching a cluster.
type kubeAccess struct {
	Kubeconfig  string `name:"kubeconfig" env:"KUBECONFIG" help:"Kubeconfig file (default ~/.kube/config)."`
	KubeContext string `name:"context" help:"Kubeconfig context (default: the current one)."`
}

func (a kubeAccess) clientset() (kubernetes.Interface, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if a.Kubeconfig != "" {
		rules.ExplicitPath = a.Kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: a.KubeContext}).ClientConfig()
	if err != nil {
		return nil, errext.WithExitCode(fmt.Errorf("kube: %w", err), errext.InvalidConfig)
	}
	return kubernetes.NewForConfig(cfg)
}

// KubeGenerateCmd writes the manifests.
type KubeGenerateCmd struct {
	kubeJob
	Output string `name:"output" short:"o" placeholder:"FILE" help:"Write the YAML to FILE instead of stdout."`
}

// Run implements the command.
func (c *KubeGenerateCmd) Run(app *App) error {
	m, err := c.manifests()
	if err != nil {
		return err
	}
	y, err := m.YAML()
	if err != nil {
		return err
	}
	if c.Output == "" {
		_, err = app.Stdout.Write(y)
		return err
	}
	return os.WriteFile(c.Output, y, 0o644)
}

// KubeRunCmd applies, follows, collects, merges and cleans up.
type KubeRunCmd struct {
	kubeJob
	kubeAccess
	Out  string        `name:"out" short:"o" default:"artifacts/kube" placeholder:"DIR" help:"Directory of the collected shards (DIR/shards) and the merged results (DIR/merged)."`
	Keep bool          `name:"keep" help:"Leave the Job, the collector and the ConfigMap in the cluster."`
	Poll time.Duration `name:"poll" default:"2s" help:"How often the Job's progress is read."`
}

// Run implements the command.
func (c *KubeRunCmd) Run(app *App) error {
	m, err := c.manifests()
	if err != nil {
		return err
	}
	cs, err := c.clientset()
	if err != nil {
		return err
	}
	ctx, stop := app.interruptible()
	defer stop()
	_, err = kube.Run(ctx, cs, m, kube.RunOptions{Out: c.Out, Every: c.Poll, Keep: c.Keep, Log: app.Stdout, Stdout: app.Stdout})
	return err
}

// KubeResultsCmd collects an earlier run.
type KubeResultsCmd struct {
	Name      string `arg:"" help:"The run's name (its Job's)."`
	Namespace string `name:"namespace" short:"n" default:"default" help:"Namespace of the run."`
	kubeAccess
	Out   string        `name:"out" short:"o" default:"artifacts/kube" placeholder:"DIR" help:"Directory of the collected shards and the merged results."`
	Clean bool          `name:"clean" help:"Delete the run's objects once its results are merged."`
	Poll  time.Duration `name:"poll" default:"2s" help:"How often the Job's progress is read while it runs."`
}

// Run implements the command.
func (c *KubeResultsCmd) Run(app *App) error {
	cs, err := c.clientset()
	if err != nil {
		return err
	}
	ctx, stop := app.interruptible()
	defer stop()
	_, err = kube.Results(ctx, cs, c.Namespace, c.Name, kube.RunOptions{Out: c.Out, Every: c.Poll, Log: app.Stdout, Stdout: app.Stdout})
	if err == nil && c.Clean {
		err = kube.Clean(ctx, cs, c.Namespace, c.Name)
	}
	return err
}

// KubeCollectorCmd serves the collector.
type KubeCollectorCmd struct {
	Shards int    `name:"shards" required:"" help:"Number of shards of the run."`
	Dir    string `name:"dir" default:"/results" help:"Where uploads are kept."`
	Host   string `name:"host" default:"0.0.0.0" help:"Address to listen on."`
	Port   int    `name:"port" default:"8080" help:"TCP port."`
}

// Run implements the command.
func (c *KubeCollectorCmd) Run(app *App) error {
	s, err := collector.NewServer(c.Shards, c.Dir, collector.WithLogger(app.Logger))
	if err != nil {
		return errext.WithExitCode(err, errext.InvalidConfig)
	}
	ctx, stop := app.interruptible()
	defer stop()
	srv := &http.Server{Addr: fmt.Sprintf("%s:%d", c.Host, c.Port), Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	app.Logger.Info("collector listening", "addr", srv.Addr, "shards", c.Shards)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}
