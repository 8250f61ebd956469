package export

import (
	"bytes"
	"context"
	"encoding/csv"
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

	"github.com/parquet-go/parquet-go"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/servermetrics"
)

// server serves a small vLLM exposition whose counters the test moves.
type server struct {
	mu   sync.Mutex
	gen  int
	ttft []float64
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/dcgm" {
		fmt.Fprintf(w, "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n")
		for i, util := range []int{40, 60} {
			fmt.Fprintf(w, "DCGM_FI_DEV_GPU_UTIL{gpu=\"%d\",UUID=\"GPU-%d\",modelName=\"NVIDIA L4\",Hostname=\"h\"} %d\n", i, i, util+s.gen%7)
		}
		return
	}
	fmt.Fprintf(w, "# HELP vllm:generation_tokens_total Number of generation tokens processed.\n# TYPE vllm:generation_tokens_total counter\n")
	fmt.Fprintf(w, "vllm:generation_tokens_total{engine=\"0\",model_name=\"m\"} %d\n", s.gen)
	fmt.Fprintf(w, "# HELP vllm:num_requests_running Number of requests in model execution batches.\n# TYPE vllm:num_requests_running gauge\n")
	fmt.Fprintf(w, "vllm:num_requests_running{engine=\"0\",model_name=\"m\"} %d\n", s.gen%5)
	fmt.Fprintf(w, "# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig\n# TYPE vllm:cache_config_info gauge\n")
	fmt.Fprintf(w, "vllm:cache_config_info{block_size=\"16\",engine=\"0\",num_gpu_blocks=\"16384\"} 1.0\n")
	fmt.Fprintf(w, "# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.\n# TYPE vllm:time_to_first_token_seconds histogram\n")
	sum := 0.0
	for _, le := range []string{"0.02", "0.04", "+Inf"} {
		n := 0
		for _, x := range s.ttft {
			if le == "+Inf" || x <= map[string]float64{"0.02": 0.02, "0.04": 0.04}[le] {
				n++
			}
		}
		fmt.Fprintf(w, "vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"%s\",model_name=\"m\"} %d\n", le, n)
	}
	for _, x := range s.ttft {
		sum += x
	}
	fmt.Fprintf(w, "vllm:time_to_first_token_seconds_count{engine=\"0\",model_name=\"m\"} %d\n", len(s.ttft))
	fmt.Fprintf(w, "vllm:time_to_first_token_seconds_sum{engine=\"0\",model_name=\"m\"} %g\n", sum)
}

func (s *server) add(gen int, ttft ...float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen += gen
	s.ttft = append(s.ttft, ttft...)
}

// scraped runs a collection with every time-series file open and returns
// the summary and the files.
func scraped(t *testing.T, dir string) (*results.Summary, map[string]string) {
	t.Helper()
	s := &server{gen: 100, ttft: []float64{0.01}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	jl, err := OpenServerMetricsJSONL(ServerMetricsPath(dir, "", KindServerMetricsJSONL))
	if err != nil {
		t.Fatal(err)
	}
	gpu, err := OpenGPUTelemetryJSONL(ServerMetricsPath(dir, "", KindGPUTelemetryJSONL))
	if err != nil {
		t.Fatal(err)
	}
	pq := OpenServerMetricsParquet(ServerMetricsPath(dir, "", KindServerMetricsParquet))
	c := servermetrics.Start(context.Background(), servermetrics.Config{
		Server: []string{srv.URL + "/metrics"}, GPU: []string{srv.URL + "/dcgm"},
		Interval: 15 * time.Millisecond, SliceDuration: 50 * time.Millisecond, Sinks: []servermetrics.Sink{jl, gpu, pq}})
	time.Sleep(30 * time.Millisecond)
	c.BeginWindow()
	for range 4 {
		s.add(64, 0.03, 0.03)
		time.Sleep(25 * time.Millisecond)
	}
	c.EndWindow()
	s.add(1000) // after the window: not counted
	sm := c.Stop()
	cfg := config.Defaults()
	sum := &results.Summary{Info: results.RunInfo{BenchmarkID: "bench-1"}, Config: &cfg, Server: sm, Version: "test"}
	files := map[string]string{}
	for kind, close := range map[string]func() (string, error){KindServerMetricsJSONL: jl.Close, KindGPUTelemetryJSONL: gpu.Close} {
		p, err := close()
		if err != nil {
			t.Fatal(err)
		}
		files[kind] = p
	}
	p, _, err := pq.Finish(sum)
	if err != nil {
		t.Fatal(err)
	}
	files[KindServerMetricsParquet] = p
	if len(sm.Warnings) > 0 {
		t.Fatalf("warnings %q", sm.Warnings)
	}
	return sum, files
}

func TestServerMetricsJSONInAIPerfsLayout(t *testing.T) {
	sum, _ := scraped(t, t.TempDir())
	data, err := ServerMetricsJSON(sum)
	if err != nil {
		t.Fatal(err)
	}
	var top struct {
		Schema  string `json:"schema_version"`
		ID      string `json:"benchmark_id"`
		Summary struct {
			Configured []string                  `json:"endpoints_configured"`
			Successful []string                  `json:"endpoints_successful"`
			Info       map[string]map[string]any `json:"endpoint_info"`
		} `json:"summary"`
		Metrics map[string]struct {
			Type   string `json:"type"`
			Unit   string `json:"unit"`
			Series []struct {
				URL        string             `json:"endpoint_url"`
				Labels     map[string]string  `json:"labels"`
				Stats      map[string]float64 `json:"stats"`
				Buckets    map[string]float64 `json:"buckets"`
				Timeslices []map[string]any   `json:"timeslices"`
			} `json:"series"`
		} `json:"metrics"`
		Config   map[string]any `json:"input_config"`
		Loadstar struct {
			Figures map[string]map[string]any `json:"figures"`
		} `json:"loadstar"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatal(err)
	}
	keys := topKeys(t, data)
	if strings.Join(keys, ",") != "schema_version,aiperf_version,benchmark_id,summary,metrics,input_config,loadstar" {
		t.Errorf("top-level keys %v", keys)
	}
	if top.Schema != "1.0" || top.ID != "bench-1" || len(top.Summary.Configured) != 1 || len(top.Summary.Successful) != 1 {
		t.Errorf("header %+v", top)
	}
	if _, ok := top.Summary.Info[top.Summary.Configured[0]]["median_update_interval_ms"]; !ok {
		t.Errorf("endpoint_info %v", top.Summary.Info)
	}
	gen := top.Metrics["vllm:generation_tokens"]
	if gen.Type != "counter" || gen.Unit != "tokens" || gen.Series[0].Stats["total"] != 256 || gen.Series[0].Labels["model_name"] != "m" {
		t.Errorf("counter %+v", gen)
	}
	if len(gen.Series[0].Timeslices) < 2 {
		t.Errorf("timeslices %v", gen.Series[0].Timeslices)
	}
	h := top.Metrics["vllm:time_to_first_token_seconds"].Series[0]
	if h.Stats["count"] != 8 || h.Buckets["0.04"] != 8 || h.Buckets["0.02"] != 0 || h.Buckets["+Inf"] != 8 || h.Stats["p50_estimate"] <= 0.02 {
		t.Errorf("histogram %+v", h)
	}
	if g := top.Metrics["vllm:num_requests_running"].Series[0].Stats; len(g) != 13 {
		t.Errorf("gauge stats %v", g)
	}
	if _, ok := top.Metrics["DCGM_FI_DEV_GPU_UTIL"]; ok {
		t.Error("GPU telemetry in the server metrics")
	}
	if f := top.Loadstar.Figures["generation_tokens"]; f["value"] != 256.0 || f["server"] != "vllm" {
		t.Errorf("figure %v", f)
	}
}

// topKeys lists the top-level keys of a JSON object in order.
func topKeys(t *testing.T, data []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestServerMetricsCSVSections(t *testing.T) {
	sum, _ := scraped(t, t.TempDir())
	data, err := ServerMetricsCSV(sum)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.HasPrefix(text, "# AIPerf Server Metrics Export (CSV)\n# aiperf_version: loadstar test\n# schema_version: 1.0\n# benchmark_id: bench-1\n") {
		t.Fatalf("header:\n%s", text[:200])
	}
	body := text[strings.Index(text, "#\n")+2:]
	sections := strings.Split(strings.TrimSpace(body), "\r\n\r\n")
	if len(sections) != 4 {
		t.Fatalf("%d sections:\n%s", len(sections), body)
	}
	read := func(s string) [][]string {
		rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	gauge := read(sections[0])
	if strings.Join(gauge[0], ",") != "Endpoint,Type,Metric,Unit,avg,min,max,std,p1,p5,p10,p25,p50,p75,p90,p95,p99,engine,model_name,Description" {
		t.Errorf("gauge header %v", gauge[0])
	}
	if gauge[1][0] != servermetrics.Display(sum.Server.Endpoints[0].URL) || gauge[1][2] != "vllm:num_requests_running" || !strings.Contains(gauge[1][4], ".") {
		t.Errorf("gauge row %v", gauge[1])
	}
	counter := read(sections[1])
	if counter[1][2] != "vllm:generation_tokens" || counter[1][4] != "256.0000" {
		t.Errorf("counter row %v", counter[1])
	}
	hist := read(sections[2])
	if last := hist[0][len(hist[0])-1]; last != "buckets" || hist[1][4] != "8" || hist[1][len(hist[1])-1] != "0.02=0;0.04=8;+Inf=8" {
		t.Errorf("histogram %v", hist)
	}
	info := read(sections[3])
	if strings.Join(info[0], ",") != "Endpoint,Metric,Key,Value,Description" || len(info) != 4 || info[1][2] != "block_size" {
		t.Errorf("info section %v", info)
	}
}

func TestServerMetricsTimeSeriesFiles(t *testing.T) {
	dir := t.TempDir()
	sum, files := scraped(t, dir)
	if files[KindServerMetricsJSONL] != filepath.Join(dir, "server_metrics_export.jsonl") {
		t.Fatalf("files %v", files)
	}
	lines := readLines(t, files[KindServerMetricsJSONL])
	if len(lines) < 6 {
		t.Fatalf("%d JSONL lines", len(lines))
	}
	var line struct {
		URL     string                      `json:"endpoint_url"`
		TS      int64                       `json:"timestamp_ns"`
		Latency int64                       `json:"endpoint_latency_ns"`
		Metrics map[string][]map[string]any `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil {
		t.Fatal(err)
	}
	if line.TS == 0 || line.Latency <= 0 || line.Metrics["vllm:generation_tokens"][0]["value"] == nil {
		t.Errorf("line %+v", line)
	}
	if b := line.Metrics["vllm:time_to_first_token_seconds"][0]["buckets"].(map[string]any); b["+Inf"] == nil {
		t.Errorf("histogram sample %v", line.Metrics["vllm:time_to_first_token_seconds"])
	}
	gpu := readLines(t, files[KindGPUTelemetryJSONL])
	var g struct {
		Index int                `json:"gpu_index"`
		UUID  string             `json:"gpu_uuid"`
		Model string             `json:"gpu_model_name"`
		URL   string             `json:"dcgm_url"`
		Data  map[string]float64 `json:"telemetry_data"`
	}
	if err := json.Unmarshal([]byte(gpu[1]), &g); err != nil {
		t.Fatal(err)
	}
	if len(gpu)%2 != 0 || g.Index != 1 || g.UUID != "GPU-1" || g.Model != "NVIDIA L4" || g.Data["nvidia_gpu_utilization"] < 60 {
		t.Errorf("GPU line %+v", g)
	}

	f, err := os.Open(files[KindServerMetricsParquet])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	cols := map[string]int{}
	for i, path := range pf.Schema().Columns() {
		cols[path[0]] = i
	}
	for _, c := range []string{"endpoint_url", "metric_name", "metric_type", "unit", "description", "timestamp_ns",
		"engine", "model_name", "value", "sum", "count", "bucket_le", "bucket_count"} {
		if _, ok := cols[c]; !ok {
			t.Errorf("no column %s in %v", c, cols)
		}
	}
	rows := make([]parquet.Row, pf.NumRows())
	n, err := parquet.NewReader(pf).ReadRows(rows)
	if n != len(rows) || (err != nil && err != io.EOF) {
		t.Fatalf("read %d of %d rows: %v", n, len(rows), err)
	}
	col := func(row parquet.Row, name string) parquet.Value {
		for _, v := range row {
			if v.Column() == cols[name] {
				return v
			}
		}
		return parquet.NullValue()
	}
	var lastGen float64
	for _, r := range rows {
		if string(col(r, "metric_name").ByteArray()) == "vllm:generation_tokens" {
			lastGen = col(r, "value").Double()
		}
		if col(r, "timestamp_ns").Int64() > sum.Server.WindowEnd.UnixNano() {
			t.Errorf("row after the window: %v", r)
		}
	}
	if lastGen != 256 {
		t.Errorf("cumulative counter increase at the last scrape %v, want 256", lastGen)
	}
	if v, ok := pf.Lookup("aiperf.benchmark_id"); !ok || v != "bench-1" {
		t.Errorf("metadata %q", v)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestServerMetricsPaths(t *testing.T) {
	if p := ServerMetricsPath("d", "", KindServerMetricsCSV); p != filepath.Join("d", "server_metrics_export.csv") {
		t.Error(p)
	}
	if p := ServerMetricsPath("d", "run7.json", KindGPUTelemetryJSONL); p != filepath.Join("d", "run7_gpu_telemetry.jsonl") {
		t.Error(p)
	}
	if data, err := ServerMetricsJSON(&results.Summary{}); data != nil || err != nil {
		t.Error("a file without server metrics")
	}
}
