package outputs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/export"
	"github.com/loadstar/loadstar/internal/metrics"
)

const (
	ms   = int64(time.Millisecond)
	sec  = int64(time.Second)
	wall = int64(1_700_000_000) * sec // wall clock of mono 0
)

// words is a test tokenizer: one token per whitespace-separated word.
type words struct{}

func (words) Name() string             { return "words" }
func (words) Encode(text string) []int { return make([]int, len(strings.Fields(text))) }
func (words) Decode(ids []int) string  { return strings.Repeat("w ", len(ids)) }
func (words) Count(text string) int    { return len(strings.Fields(text)) }

var chatMeta = plugin.EndpointMetadata{EndpointPath: "/v1/chat/completions", ServiceKind: "openai",
	SupportsStreaming: true, ProducesTokens: true, TokenizesInput: true, MetricsTitle: "LLM Metrics"}

// req builds a valid streaming record started at mono start (ns) with
// TTFT ttft, latency lat and osl words, scheduled exactly on time.
func req(start, ttft, lat int64, osl int) *record.Record {
	r := record.New()
	r.StartNs, r.StartWallNs, r.SentNs, r.HeadersNs = start, wall+start, start+1, start+2
	r.ScheduledNs, r.CreditNs = start, start
	r.Status, r.InputTokens, r.Streamed = 200, 7, true // an event-stream answer
	r.XRequestID, r.XCorrelationID, r.ConversationID = "req", "corr", "conv"
	r.AddText(start+ttft, record.KindText, []byte("w"), nil)
	r.AddText(start+lat, record.KindText, []byte(strings.Repeat(" w", osl-1)), nil)
	r.EndNs = start + lat + 1
	return r
}

func errReq(start int64) *record.Record {
	r := record.New()
	r.StartNs, r.StartWallNs, r.EndNs, r.ScheduledNs = start, wall+start, start+5*ms, start
	r.Status, r.InputTokens = 500, 7
	r.SetError(500, "Internal Server Error", "boom")
	return r
}

func scenario() []*record.Record {
	return []*record.Record{
		req(500*ms, 100*ms, 500*ms, 5), req(700*ms, 200*ms, 1000*ms, 9), errReq(1500 * ms),
		req(2000*ms, 300*ms, 700*ms, 3), req(2500*ms, 400*ms, 1000*ms, 4),
	}
}

func benchCfg(t testing.TB) *config.Benchmark {
	cfg := config.Defaults()
	cfg.Endpoint = &plugin.Spec{Category: plugin.Endpoint, Name: "chat", Args: plugin.Args{"model": "org/m", "api_key": "sk-secret"}}
	cfg.Timing = &plugin.Spec{Category: plugin.TimingStrategy, Name: "request_rate", Args: plugin.Args{"rate": int64(2)}}
	cfg.Stop.Requests = 5
	cfg.Seed, cfg.SeedSet = 42, true
	cfg.Output.ArtifactDir = t.TempDir()
	return &cfg
}

// pipeline opens cfg's artifacts and a metrics pipeline feeding them, as
// Run does around a step.
func pipeline(t testing.TB, cfg *config.Benchmark) (*artifacts, *metrics.Pipeline) {
	t.Helper()
	app := metrics.ApplicabilityOf(chatMeta, true)
	art, err := openArtifacts(cfg, cfg.Output.ArtifactDir, metrics.Schema(app), discardLog())
	if err != nil {
		t.Fatal(err)
	}
	p, err := metrics.NewPipeline(cfg, nil, metrics.Setup{Endpoint: chatMeta, EndpointType: "chat", Streaming: true,
		Tokenizer: words{}, Sinks: []metrics.RecordSink{art}})
	if err != nil {
		t.Fatal(err)
	}
	return art, p
}

// write runs records through the pipeline into cfg's artifacts.
func write(t *testing.T, ctx context.Context, cfg *config.Benchmark, info results.RunInfo, recs ...*record.Record) *results.Summary {
	t.Helper()
	art, p := pipeline(t, cfg)
	for _, r := range recs {
		p.Add(r)
	}
	sum, err := p.Finish(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	if err := art.finish(ctx, sum); err != nil {
		t.Fatal(err)
	}
	return sum
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func TestDefaultArtifactsAreWritten(t *testing.T) {
	cfg := benchCfg(t)
	cfg.Output.SliceDuration = 2 * time.Second
	sum := write(t, context.Background(), cfg, results.RunInfo{}, scenario()...)
	if sum.Info.ArtifactDir != cfg.Output.ArtifactDir {
		t.Errorf("artifact dir %q", sum.Info.ArtifactDir)
	}
	for _, kind := range []string{"json", "csv", "jsonl", "parquet", "timeslices_csv", "timeslices_json"} {
		if _, err := os.Stat(sum.Files[kind]); err != nil {
			t.Errorf("%s not written: %v", kind, err)
		}
	}
	if _, ok := sum.Files["raw"]; ok {
		t.Error("raw export written at the records level")
	}
	data, _ := os.ReadFile(sum.Files["json"])
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc["error_request_count"]; !ok || doc["error_summary"] == nil {
		t.Errorf("json lacks the error results: %s", data)
	}
	if strings.Contains(string(data), "sk-secret") {
		t.Error("api key written to the summary")
	}
}

// profile_export.jsonl holds one line per record with the metrics of the
// summary, wall-clock timestamps and the warmup records tagged.
func TestJSONLRecordsMatchSummary(t *testing.T) {
	cfg := benchCfg(t)
	w := req(100*ms, 10*ms, 20*ms, 2)
	w.Phase = record.Warmup
	sum := write(t, context.Background(), cfg, results.RunInfo{}, append([]*record.Record{w}, scenario()...)...)
	lines := readLines(t, sum.Files["jsonl"])
	if len(lines) != 6 || strings.Count(strings.Join(lines, "\n"), `"benchmark_phase":"warmup"`) != 1 {
		t.Fatalf("jsonl %q", lines)
	}
	var ttfts []float64
	for _, l := range lines {
		var rec struct {
			Metadata map[string]any `json:"metadata"`
			Metrics  map[string]struct {
				Value any
				Unit  string
			} `json:"metrics"`
			Error *record.ErrorDetails `json:"error"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if rec.Metadata["request_start_ns"].(float64) < float64(wall) {
			t.Errorf("request_start_ns not wall clock: %v", rec.Metadata["request_start_ns"])
		}
		if rec.Error != nil || rec.Metadata["benchmark_phase"] == "warmup" {
			continue
		}
		if _, ok := rec.Metrics["inter_chunk_latency"]; ok {
			t.Error("list metric exported without per_chunk")
		}
		ttfts = append(ttfts, rec.Metrics["time_to_first_token"].Value.(float64))
	}
	st := metrics.ExactStats(ttfts, 1)
	if want := sum.Metric("time_to_first_token").Stats; st.Count != want.Count || st.Avg != want.Avg || st.P90 != want.P90 {
		t.Errorf("JSONL stats %+v differ from summary %+v", st, want)
	}
}

func TestOpenArtifactsErrors(t *testing.T) {
	cfg := benchCfg(t)
	cfg.Output.Exporters = []string{"json", "nope"}
	if _, err := openArtifacts(cfg, cfg.Output.ArtifactDir, results.RecordSchema{}, discardLog()); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown exporter: %v", err)
	}
	cfg.Output.Exporters = nil
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := openArtifacts(cfg, filepath.Join(file, "dir"), results.RecordSchema{}, discardLog()); err == nil || !strings.Contains(err.Error(), "artifact directory") {
		t.Errorf("directory under a file: %v", err)
	}
}

// Records reach the disk while the step runs: within about a second of
// the last record the idle flush writes every line, so a killed run keeps
// what it measured.
func TestRecordsReachDiskWhileRunning(t *testing.T) {
	cfg := benchCfg(t)
	art, p := pipeline(t, cfg)
	for _, r := range scenario() {
		p.Add(r)
	}
	path := filepath.Join(cfg.Output.ArtifactDir, "profile_export.jsonl")
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, _ := os.ReadFile(path)
		if strings.Count(string(data), "\n") == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("records not on disk while running: %q", data)
		}
		time.Sleep(50 * time.Millisecond)
	}
	sum, err := p.Finish(context.Background(), results.RunInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if err := art.finish(context.Background(), sum); err != nil {
		t.Fatal(err)
	}
}

// Ctrl-C: the run's context is done when the artifacts are written, and
// everything measured is still written with was_cancelled.
func TestCancelledRunWritesEverything(t *testing.T) {
	cfg := benchCfg(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sum := write(t, ctx, cfg, results.RunInfo{WasCancelled: true, ScheduledRate: 2, Dropped: 2}, scenario()[:3]...)
	for _, kind := range []string{"json", "csv", "jsonl", "parquet"} {
		if _, err := os.Stat(sum.Files[kind]); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
	}
	data, _ := os.ReadFile(sum.Files["json"])
	if !strings.Contains(string(data), `"was_cancelled": true`) {
		t.Error("was_cancelled not written")
	}
}

// failing is a record exporter whose writes fail after the first.
type failing struct {
	writes  int
	aborted bool
}

func (*failing) Kind() string { return "failing" }
func (*failing) Export(context.Context, *export.Target, *results.Summary) (string, error) {
	return "", nil
}
func (*failing) Begin(*export.Target, *results.RecordSchema) error { return nil }
func (f *failing) WriteRecord(*results.RecordRow) error {
	f.writes++
	if f.writes > 1 {
		return errors.New("disk full")
	}
	return nil
}
func (f *failing) Abort() { f.aborted = true }

// A record stream that fails gets no further records, is aborted at the
// end and reported; the other artifacts are still written.
func TestFailedStreamIsReportedAndTheRestWritten(t *testing.T) {
	cfg := benchCfg(t)
	f := &failing{}
	a := &artifacts{target: &export.Target{Dir: cfg.Output.ArtifactDir, Config: cfg}, log: discardLog(),
		exporters: []export.Exporter{f, export.JSON{}}, streams: []recordStream{{RecordExporter: f}}}
	row := &results.RecordRow{Rec: req(sec, ms, 2*ms, 2)}
	for range 3 {
		a.WriteRecord(row)
	}
	a.Flush()
	if f.writes != 2 {
		t.Errorf("%d writes, want 2 (none after the failure)", f.writes)
	}
	sum := &results.Summary{Config: cfg}
	err := a.finish(context.Background(), sum)
	if err == nil || !strings.Contains(err.Error(), "failing export failed during the run") || !f.aborted {
		t.Errorf("finish: %v (aborted %v)", err, f.aborted)
	}
	if _, err := os.Stat(sum.Files["json"]); err != nil {
		t.Errorf("summary not written after a failed stream: %v", err)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Without a record stream the pipeline gets no sink, so it builds no rows.
func TestSummaryOnlyArtifactsTakeNoRecords(t *testing.T) {
	cfg := benchCfg(t)
	cfg.Output.Exporters = []string{"json", "csv"}
	art, err := openArtifacts(cfg, cfg.Output.ArtifactDir, results.RecordSchema{}, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	if s := art.sinks(); s != nil {
		t.Errorf("summary-only artifacts are a record sink: %v", s)
	}
	cfg.Output.Exporters = []string{"json", "jsonl"}
	if art, err = openArtifacts(cfg, t.TempDir(), results.RecordSchema{}, discardLog()); err != nil || len(art.sinks()) != 1 {
		t.Errorf("with a JSONL stream: %v, %v", art, err)
	}
}
