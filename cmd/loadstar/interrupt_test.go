package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/mock"
)

// The signal suite: the loadstar binary (this test binary, which
// testscript.Main puts on PATH as `loadstar`) run as a user runs it and
// stopped with real signals, against a server whose answers never come in
// time, so that every request in flight must be cancelled.

// stopLimit is how long a signalled run may take to exit. loadstar stops
// within moments (well under the 2 s it promises on an idle machine); the
// limit leaves room for a loaded test machine while catching a run that
// waits out its grace period (30 s, or forever) or ignores the signal.
const stopLimit = 15 * time.Second

// startLimit bounds the wait for a run to reach the moment a test signals
// it.
const startLimit = 60 * time.Second

// slowServer is a mock whose first token takes ten minutes.
func slowServer(t *testing.T) *mock.Server {
	t.Helper()
	cfg := mock.DefaultConfig()
	cfg.TTFT = 10 * time.Minute
	srv, err := mock.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// waitInFlight waits until srv is answering n requests.
func (p *proc) waitInFlight(srv *mock.Server, n int64) {
	p.t.Helper()
	p.waitUntil(func() bool { return srv.Stats().InFlight >= n }, fmt.Sprintf("%d requests in flight", n))
}

// proc is a loadstar process under test.
type proc struct {
	t      *testing.T
	dir    string
	cmd    *exec.Cmd
	stdout lockedBuffer
	stderr lockedBuffer
	exited chan struct{}
	err    error
	sigAt  time.Time
}

// lockedBuffer is a bytes.Buffer safe for the signal goroutine's writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLoadstar starts loadstar with args in dir.
func startLoadstar(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	bin, err := exec.LookPath("loadstar")
	if err != nil {
		t.Skipf("no loadstar on PATH (TestMain puts it there): %v", err)
	}
	p := &proc{t: t, dir: dir, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), "LOADSTAR_LOG_FORMAT=text", "NO_COLOR=1")
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// waitFile waits until path (relative to the run's directory) exists.
func (p *proc) waitFile(path string) {
	p.t.Helper()
	p.waitUntil(func() bool { _, err := os.Stat(filepath.Join(p.dir, path)); return err == nil }, path+" to appear")
}

// waitStderr waits until standard error matches re.
func (p *proc) waitStderr(re string) {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	p.waitUntil(func() bool { return rx.MatchString(p.stderr.String()) }, fmt.Sprintf("stderr to match %q", re))
}

func (p *proc) waitUntil(cond func() bool, what string) {
	p.t.Helper()
	for deadline := time.Now().Add(startLimit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
		select {
		case <-p.exited:
			p.t.Fatalf("loadstar exited (%v) before %s\nstderr:\n%s", p.err, what, p.stderr.String())
		default:
		}
	}
	p.t.Fatalf("waited %s for %s\nstderr:\n%s", startLimit, what, p.stderr.String())
}

// signal sends sig; the first signal starts the stop clock.
func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if runtime.GOOS == "windows" {
		p.t.Skip("the signal suite sends POSIX signals")
	}
	if p.sigAt.IsZero() {
		p.sigAt = time.Now()
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// running reports whether the process is still running after d.
func (p *proc) running(d time.Duration) bool {
	select {
	case <-p.exited:
		return false
	case <-time.After(d):
		return true
	}
}

// wait waits for the exit, checks it came within stopLimit of the first
// signal (or of now) and returns the exit code.
func (p *proc) wait() int {
	p.t.Helper()
	from := p.sigAt
	if from.IsZero() {
		from = time.Now()
	}
	select {
	case <-p.exited:
	case <-time.After(time.Until(from.Add(stopLimit))):
		_ = p.cmd.Process.Kill()
		<-p.exited
		p.t.Fatalf("loadstar did not exit within %s\nstderr:\n%s", stopLimit, p.stderr.String())
	}
	p.t.Logf("exited %v after the signal", time.Since(from).Round(time.Millisecond))
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee):
		return ee.ExitCode()
	}
	p.t.Fatal(p.err)
	return -1
}

// expectExit waits and checks the exit code.
func (p *proc) expectExit(code errext.ExitCode) {
	p.t.Helper()
	if got := p.wait(); got != int(code) {
		p.t.Fatalf("exit code %d, want %d (%s)\nstderr:\n%s", got, code, code, p.stderr.String())
	}
}

// checkInterrupted checks an interrupted step's artifacts in dir: the
// summary is written and marked cancelled, and every request left in
// flight is in the records as cancelled by the signal.
func checkInterrupted(t *testing.T, dir, signal string) {
	t.Helper()
	var sum struct {
		WasCancelled     *bool  `json:"was_cancelled"`
		IsComplete       *bool  `json:"is_complete"`
		IncompleteReason string `json:"incomplete_reason"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "profile_export_aiperf.json"))
	if err != nil {
		t.Fatalf("the interrupted run's summary: %v", err)
	}
	if err := json.Unmarshal(b, &sum); err != nil || sum.WasCancelled == nil || !*sum.WasCancelled {
		t.Errorf("profile_export_aiperf.json: was_cancelled %v (%v), want true", sum.WasCancelled, err)
	}
	if sum.IsComplete == nil || *sum.IsComplete || !strings.Contains(sum.IncompleteReason, "interrupted by "+signal) {
		t.Errorf("profile_export_aiperf.json: is_complete %v, incomplete_reason %q; want false, naming %s", sum.IsComplete, sum.IncompleteReason, signal)
	}
	f, err := os.Open(filepath.Join(dir, "profile_export.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, cancelled := 0, 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			Error *struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("record %d is not whole JSON: %v", records+1, err)
		}
		records++
		if e := rec.Error; e != nil && e.Type == "RequestCancellationError" && strings.Contains(e.Message, "interrupted by "+signal) {
			cancelled++
		}
	}
	if records == 0 || cancelled != records {
		t.Errorf("%d of %d records cancelled by %s; want every request (all were in flight)", cancelled, records, signal)
	}
}

// slowRun is a scenario that keeps requests in flight against url.
const slowRun = `
run(
    endpoint = endpoint.chat(url = vars["url"], model = "mock", streaming = True),
    dataset = dataset.synthetic(isl = 16, osl = 4),
    timing = timing.concurrency(concurrency = 3),
    duration = vars.get("duration", "10m"),
    grace = vars.get("grace", "30s"),
    warmup = {"requests": 3} if vars.get("warmup", False) else None,
    artifact_dir = "out",
    ui = "none",
)
print("not reached")
`

func writeScenario(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.star"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Ctrl-C once: the acknowledgement, sending stops, requests in flight are
// cancelled, the artifacts are written marked cancelled, exit code 7.
func TestInterruptCtrlC(t *testing.T) {
	dir, srv := writeScenario(t, slowRun), slowServer(t)
	p := startLoadstar(t, dir, "run", "s.star", "--var", "url="+srv.URL())
	p.waitInFlight(srv, 3)
	p.signal(syscall.SIGINT)
	p.expectExit(errext.Interrupted)
	if !strings.Contains(p.stderr.String(), "SIGINT (Ctrl-C): stopping") {
		t.Errorf("the first Ctrl-C was not acknowledged:\n%s", p.stderr.String())
	}
	if strings.Contains(p.stderr.String(), "not reached") {
		t.Error("the script went on after the interrupt")
	}
	checkInterrupted(t, filepath.Join(dir, "out"), "SIGINT")
}

// SIGTERM (containers, CI) does what Ctrl-C does.
func TestInterruptSIGTERM(t *testing.T) {
	dir, srv := writeScenario(t, slowRun), slowServer(t)
	p := startLoadstar(t, dir, "run", "s.star", "--var", "url="+srv.URL())
	p.waitInFlight(srv, 3)
	p.signal(syscall.SIGTERM)
	p.expectExit(errext.Interrupted)
	checkInterrupted(t, filepath.Join(dir, "out"), "SIGTERM")
}

// During the warmup, whose grace period is unlimited, Ctrl-C still ends
// the run at once.
func TestInterruptWarmup(t *testing.T) {
	dir, srv := writeScenario(t, slowRun), slowServer(t)
	p := startLoadstar(t, dir, "run", "s.star", "--var", "url="+srv.URL(), "--var", "warmup=true")
	p.waitStderr(`phase started.*phase=warmup`)
	p.waitInFlight(srv, 3)
	p.signal(syscall.SIGINT)
	p.expectExit(errext.Interrupted)
	if strings.Contains(p.stderr.String(), "phase=profiling") {
		t.Error("the profiling phase started after the interrupt")
	}
}

// loadstar profile: Ctrl-C exits 7 (it exited 0) and the progress bar
// stops where it was (it jumped to 100 %).
func TestInterruptProfile(t *testing.T) {
	dir, srv := t.TempDir(), slowServer(t)
	p := startLoadstar(t, dir, "profile", "--url", srv.URL(), "-m", "mock", "--streaming", "--concurrency", "3",
		"--request-count", "100", "--artifact-dir", "out", "--ui-type", "simple")
	p.waitInFlight(srv, 3)
	p.waitStderr(`3 in flight`)
	p.signal(syscall.SIGINT)
	p.expectExit(errext.Interrupted)
	if s := p.stderr.String(); strings.Contains(s, "100%") || !strings.Contains(s, "interrupted after") {
		t.Errorf("the progress bar does not show the interrupt:\n%s", s)
	}
	checkInterrupted(t, filepath.Join(dir, "out"), "SIGINT")
}

// With an infinite grace period (AIPerf's --benchmark-grace-period inf),
// Ctrl-C ends the wait for the requests in flight.
func TestInterruptProfileInfiniteGrace(t *testing.T) {
	dir, srv := t.TempDir(), slowServer(t)
	p := startLoadstar(t, dir, "profile", "--url", srv.URL(), "-m", "mock", "--streaming", "--concurrency", "3",
		"--benchmark-duration", "1", "--benchmark-grace-period", "inf", "--artifact-dir", "out", "--ui-type", "none")
	p.waitInFlight(srv, 3)
	time.Sleep(1500 * time.Millisecond) // past the duration: waiting on the grace period
	p.signal(syscall.SIGINT)
	p.expectExit(errext.Interrupted)
	checkInterrupted(t, filepath.Join(dir, "out"), "SIGINT")
}

// A second Ctrl-C exits at once, even when the first cannot take effect
// (here the dataset is read from a pipe nobody writes: a hung file
// system). What the finished step wrote is kept.
func TestInterruptTwice(t *testing.T) {
	dir := writeScenario(t, `
srv = mock.server(ttft = "1ms", itl = "1ms")
run(endpoint = endpoint.chat(url = srv.url, model = "mock"), requests = 5, artifact_dir = "first", ui = "none")
run(endpoint = endpoint.chat(url = srv.url, model = "mock"), dataset = dataset.file("hung.jsonl", type = "single_turn"), requests = 5, artifact_dir = "second", ui = "none")
`)
	if err := mkfifo(filepath.Join(dir, "hung.jsonl")); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	p := startLoadstar(t, dir, "run", "s.star")
	p.waitFile("first/profile_export_aiperf.json")
	time.Sleep(300 * time.Millisecond) // into the second run() call, blocked on the pipe
	p.signal(syscall.SIGINT)
	if !p.running(time.Second) {
		t.Fatalf("loadstar exited on the first Ctrl-C while blocked (the test's premise is gone)\nstderr:\n%s", p.stderr.String())
	}
	p.signal(syscall.SIGINT)
	p.expectExit(errext.Interrupted)
	if !strings.Contains(p.stderr.String(), "again: exited at once") {
		t.Errorf("the second Ctrl-C did not say it exited at once:\n%s", p.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "first", "profile_export.jsonl")); err != nil {
		t.Errorf("the finished step's records: %v", err)
	}
}

// An interrupted sweep writes the summary of the steps that finished; the
// interrupted step is left out of it.
func TestInterruptSweep(t *testing.T) {
	dir := writeScenario(t, `
fast = mock.server(ttft = "1ms", itl = "1ms")
def base(c):
    return {
        "endpoint": endpoint.chat(url = vars["url"] if c > 1 else fast.url, model = "mock", streaming = True),
        "dataset": dataset.synthetic(isl = 16, osl = 4),
        "timing": timing.concurrency(concurrency = c),
        "duration": "1s" if c == 1 else "10m",
        "ui": "none",
    }
sweep(base = base, grid = {"c": [1, 2, 3]}, artifact_dir = "out")
`)
	srv := slowServer(t)
	p := startLoadstar(t, dir, "run", "s.star", "--var", "url="+srv.URL())
	p.waitInFlight(srv, 2) // c_2
	p.signal(syscall.SIGINT)
	p.expectExit(errext.Interrupted)
	summary, err := os.ReadFile(filepath.Join(dir, "out", "sweep_summary.csv"))
	if err != nil {
		t.Fatalf("no summary of the finished steps: %v\nstderr:\n%s", err, p.stderr.String())
	}
	if !strings.Contains(string(summary), "\nc_1,1,1,") || !strings.Contains(string(summary), "\nc_2,2,0,") ||
		!strings.Contains(string(summary), ",not finished: interrupted by SIGINT") {
		t.Errorf("sweep_summary.csv should hold c_1 and list c_2, c_3 as not finished:\n%s", summary)
	}
	if js, _ := os.ReadFile(filepath.Join(dir, "out", "sweep_summary.json")); !strings.Contains(string(js), `"complete": false`) {
		t.Errorf("sweep_summary.json is not marked incomplete:\n%s", js)
	}
	if !strings.Contains(p.stdout.String(), "1 of 3 steps finished") {
		t.Errorf("stdout does not say the sweep was cut short:\n%s", p.stdout.String())
	}
	checkInterrupted(t, filepath.Join(dir, "out", "c_2"), "SIGINT")
}

// loadstar profile's sweep (a list of concurrencies) does the same.
func TestInterruptProfileSweep(t *testing.T) {
	dir := t.TempDir()
	p := startLoadstar(t, dir, "profile", "-m", "mock", "--streaming", "--concurrency", "1,2,3",
		"--benchmark-duration", "3", "--artifact-dir", "out", "--ui-type", "none")
	p.waitFile("out/concurrency_2/inputs.json")
	p.signal(syscall.SIGINT)
	p.expectExit(errext.Interrupted)
	summary, err := os.ReadFile(filepath.Join(dir, "out", "sweep_summary.csv"))
	if err != nil {
		t.Fatalf("no summary of the finished steps: %v\nstderr:\n%s", err, p.stderr.String())
	}
	if !strings.Contains(string(summary), "\nconcurrency_1,1,1,") || !strings.Contains(string(summary), "\nconcurrency_2,2,0,") ||
		!strings.Contains(string(summary), ",not finished: interrupted by SIGINT") {
		t.Errorf("sweep_summary.csv should hold concurrency_1 and list the others as not finished:\n%s", summary)
	}
}

// `loadstar run x.star | head -1`: once the reader of stdout has gone, the
// run does not die of SIGPIPE half-way; every later step runs and writes
// its artifacts, and the exit code is the run's.
func TestClosedStdoutCarriesOn(t *testing.T) {
	dir := writeScenario(t, `
srv = mock.server(ttft = "1ms", itl = "1ms")
for i in range(3):
    run(endpoint = endpoint.chat(url = srv.url, model = "mock"), requests = 5, artifact_dir = "out-%d" % i, ui = "none")
`)
	bin, err := exec.LookPath("loadstar")
	if err != nil {
		t.Skipf("no loadstar on PATH: %v", err)
	}
	cmd := exec.Command(bin, "run", "s.star")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil { // head -1
		t.Fatal(err)
	}
	out.Close()
	var once sync.Once
	timer := time.AfterFunc(startLimit, func() { once.Do(func() { _ = cmd.Process.Kill() }) })
	defer timer.Stop()
	err = cmd.Wait()
	if err != nil {
		t.Fatalf("loadstar with a closed stdout: %v\nstderr:\n%s", err, stderr.String())
	}
	for i := range 3 {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("out-%d", i), "profile_export_aiperf.json")); err != nil {
			t.Errorf("step %d: %v", i, err)
		}
	}
	if !strings.Contains(stderr.String(), "standard output was closed") {
		t.Errorf("the closed stdout was not noted:\n%s", stderr.String())
	}
}

// Ctrl-C during script work (no run() in progress: a long computation)
// stops the script at the statement it was running, exit code 7. The
// script says it started from inside its loop: a signal that arrives while
// a print before the loop still runs would stop it there.
func TestInterruptScriptWork(t *testing.T) {
	dir := writeScenario(t, `
def spin():
    n = 0
    for i in range(1 << 40):
        if i == 1000:
            print("started")
        n += i % 7
    return n
spin()
print("not reached")
`)
	p := startLoadstar(t, dir, "run", "s.star", "--max-steps", "100000000000000")
	p.waitUntil(func() bool { return strings.Contains(p.stdout.String(), "started") }, "the script to start")
	p.signal(syscall.SIGINT)
	p.expectExit(errext.Interrupted)
	if !regexp.MustCompile(`interrupted at s\.star:[4-7]:`).MatchString(p.stderr.String()) || strings.Contains(p.stdout.String(), "not reached") {
		t.Errorf("want the script stopped at its loop\nstdout:\n%s\nstderr:\n%s", p.stdout.String(), p.stderr.String())
	}
}
