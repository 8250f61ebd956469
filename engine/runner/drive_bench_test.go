//go:build bench

// TestDriveRun drives a whole runner step against a server that is already
// running (the .ci/bench/schedule-*.sh scripts start `loadstar mock`) and
// prints the schedule accuracy, errors and the client's memory over time.
// It only runs in the bench build:
//
//	go test -c -tags bench -o runner.test ./engine/runner
//	./runner.test -test.run TestDriveRun -drive.url http://127.0.0.1:18081 -drive.rate 2000 -drive.d 10s

package runner

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/catalog"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
)

var (
	driveURL      = flag.String("drive.url", "", "server base URL (required)")
	driveRate     = flag.Float64("drive.rate", 0, "request rate (req/s); 0 = closed loop at -drive.c")
	driveArrival  = flag.String("drive.arrival", "poisson", "arrival pattern of the rate")
	driveConc     = flag.Int("drive.c", 0, "concurrency (closed loop) or max_concurrency (with a rate)")
	driveN        = flag.Int("drive.n", 0, "request count stop")
	driveD        = flag.Duration("drive.d", 0, "duration stop")
	driveStream   = flag.Bool("drive.stream", false, "streaming chat")
	driveOSL      = flag.Int("drive.osl", 16, "max tokens per answer")
	driveExport   = flag.String("drive.export", "summary", "export level: summary, records or raw")
	driveDir      = flag.String("drive.dir", "", "artifact directory (default a temporary one)")
	driveRSSEvery = flag.Duration("drive.rss", time.Second, "RSS sampling period")
	driveGrace    = flag.Duration("drive.grace", 30*time.Second, "grace period after a duration stop")
	driveExact    = flag.Int("drive.exact-limit", 0, "values per metric kept for exact percentiles (0 = default)")
)

func TestDriveRun(t *testing.T) {
	if *driveURL == "" {
		t.Skip("needs -drive.url")
	}
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat",
		Args: plugin.Args{"url": *driveURL, "model": "bench", "streaming": *driveStream}}
	switch {
	case *driveRate > 0:
		args := plugin.Args{"rate": *driveRate,
			"arrival": &plugin.Spec{Category: plugin.ArrivalPattern, Name: *driveArrival, Args: plugin.Args{}}}
		if *driveConc > 0 {
			args["max_concurrency"] = int64(*driveConc)
		}
		cfg.Timing = &plugin.Spec{Category: plugin.TimingStrategy, Name: "request_rate", Args: args}
	case *driveConc > 0:
		cfg.Timing = &plugin.Spec{Category: plugin.TimingStrategy, Name: "concurrency", Args: plugin.Args{"concurrency": int64(*driveConc)}}
	default:
		t.Fatal("give -drive.rate or -drive.c")
	}
	cfg.Stop = config.Stop{Requests: *driveN, Duration: *driveD}
	cfg.Grace = *driveGrace
	cfg.Seed, cfg.SeedSet = 42, true
	cfg.Output.ExportLevel = *driveExport
	cfg.Output.ArtifactDir = *driveDir
	if cfg.Output.ArtifactDir == "" {
		cfg.Output.ArtifactDir = t.TempDir()
	}
	ds := prompts(100, 1)
	for i := range ds.Len() {
		ds.Conversation(i).Turns[0].MaxTokens = *driveOSL
	}

	var mu sync.Mutex
	var samples []int64 // RSS in kB
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(*driveRSSEvery)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				if v := procStatus("VmRSS"); v > 0 {
					mu.Lock()
					samples = append(samples, v)
					mu.Unlock()
				}
			}
		}
	}()
	start := time.Now()
	sum, err := Run(context.Background(), reg, &cfg, &config.Runtime{ExactStatsLimit: *driveExact}, WithDataset(ds))
	wall := time.Since(start)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}

	v := sum.Verdict
	errs := 0
	for _, g := range sum.Errors {
		errs += g.Count
	}
	fmt.Printf("drive: issued %d in %.2fs, errors %d, dropped %d, late %d, cancelled %v\n",
		sum.Info.Issued, wall.Seconds(), errs, v.Dropped, v.Late, sum.Info.WasCancelled)
	if *driveRate > 0 {
		fmt.Printf("drive-rate: target %.2f scheduled %.2f achieved %.2f req/s; achieved/target %.5f; shortfall vs schedule %.3f%%\n",
			*driveRate, v.ScheduleRate, v.AchievedRate, v.AchievedRate / *driveRate, v.ShortfallPct)
	} else if m := sum.Metric("request_throughput"); m != nil {
		fmt.Printf("drive-throughput: %.0f req/s\n", m.Value)
	}
	if d := v.IssueDelay; d != nil {
		fmt.Printf("drive-issue-delay-ms: p50 %.4f p90 %.4f p99 %.4f max %.4f\n", d.P50, d.P90, d.P99, d.Max)
	}
	fmt.Printf("drive-verdict: valid=%v reasons=%q\n", v.Valid, v.Reasons)
	for _, w := range sum.Info.Warnings {
		fmt.Printf("drive-warning: %s\n", w)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := len(samples); n > 0 {
		q := func(f float64) int64 { return samples[min(n-1, int(f*float64(n)))] }
		sorted := slices.Clone(samples)
		slices.Sort(sorted)
		fmt.Printf("drive-rss-mb: peak(VmHWM) %.1f; over time 10%% %.1f 25%% %.1f 50%% %.1f 75%% %.1f 100%% %.1f; max sample %.1f (%d samples)\n",
			float64(procStatus("VmHWM"))/1024, mb(q(0.1)), mb(q(0.25)), mb(q(0.5)), mb(q(0.75)), mb(samples[n-1]), mb(sorted[n-1]), n)
	} else {
		fmt.Printf("drive-rss-mb: peak(VmHWM) %.1f\n", float64(procStatus("VmHWM"))/1024)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("drive-gc: %d cycles, pause total %s, heap in use %.1f MB\n", ms.NumGC, time.Duration(ms.PauseTotalNs), float64(ms.HeapInuse)/(1<<20))
}

func mb(kb int64) float64 { return float64(kb) / 1024 }

// procStatus reads a kB field of /proc/self/status.
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, field+":") {
			fs := strings.Fields(line)
			if len(fs) >= 2 {
				v, _ := strconv.ParseInt(fs[1], 10, 64)
				return v
			}
		}
	}
	return 0
}
