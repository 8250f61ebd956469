package runner_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/loadstar/loadstar/engine/catalog"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/runner"
)

// A benchmark step is a config.Benchmark; Run builds its components from the
// registry, sends, and returns the results. Here: Poisson arrivals at 50
// req/s for a minute after 20 warmup requests, against a local server. The
// runner writes and prints nothing: a caller that wants artifacts, a
// progress display or a report attaches them (WithRecordSink, WithObserver)
// and renders the results it gets back, as internal/outputs does.
func ExampleRun() {
	reg, err := catalog.New()
	if err != nil {
		panic(err)
	}
	cfg := config.Defaults()
	cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat",
		Args: plugin.Args{"url": "http://127.0.0.1:8000", "model": "my-model", "streaming": true}}
	cfg.Timing = &plugin.Spec{Category: plugin.TimingStrategy, Name: "request_rate", Args: plugin.Args{"rate": 50.0}}
	cfg.Stop = config.Stop{Duration: time.Minute}
	cfg.Warmup = &config.Warmup{Stop: config.Stop{Requests: 20}}

	progress := runner.ObserverFunc(func(p runner.Progress) {
		fmt.Fprintf(os.Stderr, "\r%s: %d sent, %d in flight", p.Phase, p.Sent, p.InFlight())
	})
	sum, err := runner.Run(context.Background(), reg, &cfg, nil, runner.WithObserver(progress))
	if err != nil {
		panic(err)
	}
	fmt.Println(sum.Verdict.Valid, sum.Metric("request_throughput").Value)
}

// Plan builds and checks everything without sending: what `loadstar
// inspect` prints for each step.
func ExamplePlan() {
	reg, _ := catalog.New()
	cfg := config.Defaults()
	cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat",
		Args: plugin.Args{"url": "http://127.0.0.1:8000", "model": "my-model"}}
	cfg.Timing = &plugin.Spec{Category: plugin.TimingStrategy, Name: "concurrency", Args: plugin.Args{"concurrency": int64(8)}}
	cfg.Stop = config.Stop{Requests: 1000}
	st, err := runner.Plan(context.Background(), reg, &cfg, nil)
	if err != nil {
		panic(err)
	}
	fmt.Print(st.Describe())
}
