package export

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/servermetrics"
)

// scrapeFile is a JSONL file appended to as scrapes arrive (a
// servermetrics.Sink, called from every endpoint's goroutine). Lines are
// flushed every few scrapes, so a killed run keeps nearly everything;
// Close flushes the rest.
type scrapeFile struct {
	mu    sync.Mutex
	path  string
	f     *os.File
	w     *bufio.Writer
	lines int
}

func openScrapeFile(path string) (*scrapeFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return &scrapeFile{path: path, f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

func (s *scrapeFile) write(line []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return fmt.Errorf("export: %s is closed", s.path)
	}
	if _, err := s.w.Write(line); err != nil {
		return fmt.Errorf("export: writing %s: %w", s.path, err)
	}
	s.lines++
	if s.lines%8 == 0 {
		return s.w.Flush()
	}
	return nil
}

// Close flushes and closes the file and returns its path ("" when no line
// was written: the empty file is removed).
func (s *scrapeFile) Close() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return "", nil
	}
	err := s.w.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f = nil
	if s.lines == 0 {
		_ = os.Remove(s.path)
		return "", err
	}
	return s.path, err
}

// ServerMetricsJSONL streams every scrape of the server endpoints to
// server_metrics_export.jsonl in AIPerf's layout: one line per scrape with
// endpoint_url, timestamp_ns, endpoint_latency_ns, the metrics (counters
// named without "_total"; histograms as buckets, sum and count) and the
// request's send and first-byte times.
type ServerMetricsJSONL struct{ *scrapeFile }

// OpenServerMetricsJSONL creates the file.
func OpenServerMetricsJSONL(path string) (*ServerMetricsJSONL, error) {
	f, err := openScrapeFile(path)
	if err != nil {
		return nil, err
	}
	return &ServerMetricsJSONL{f}, nil
}

// Scrape implements servermetrics.Sink.
func (j *ServerMetricsJSONL) Scrape(s *servermetrics.Scrape) error {
	if s.Kind != results.EndpointServer {
		return nil
	}
	b := make([]byte, 0, 16<<10)
	b = append(b, `{"endpoint_url":`...)
	b = appendString(b, s.Endpoint)
	b = append(b, `,"timestamp_ns":`...)
	b = strconv.AppendInt(b, s.DoneNs, 10)
	b = append(b, `,"endpoint_latency_ns":`...)
	b = strconv.AppendInt(b, s.DoneNs-s.SentNs, 10)
	b = append(b, `,"metrics":{`...)
	for i, f := range s.Snapshot.Families {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.Name)
		b = append(b, ":["...)
		for k := range f.Series {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendSample(b, &f.Series[k], f.Type == results.TypeHistogram)
		}
		b = append(b, ']')
	}
	b = append(b, `},"request_sent_ns":`...)
	b = strconv.AppendInt(b, s.SentNs, 10)
	b = append(b, `,"first_byte_ns":`...)
	b = strconv.AppendInt(b, s.FirstByteNs, 10)
	b = append(b, "}\n"...)
	return j.write(b)
}

func appendLabels(b []byte, ls []results.Label) []byte {
	b = append(b, '{')
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, l.Name)
		b = append(b, ':')
		b = appendString(b, l.Value)
	}
	return append(b, '}')
}

func appendSample(b []byte, s *servermetrics.Series, hist bool) []byte {
	b = append(b, '{')
	if len(s.Labels) > 0 {
		b = append(b, `"labels":`...)
		b = appendLabels(b, s.Labels)
		b = append(b, ',')
	}
	if !hist {
		b = append(b, `"value":`...)
		b = appendPyFloat(b, s.Value)
		return append(b, '}')
	}
	b = append(b, `"buckets":{`...)
	for i, bk := range s.Buckets {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, servermetrics.FormatLe(bk.Le))
		b = append(b, ':')
		b = appendPyFloat(b, bk.Count)
	}
	b = append(b, `},"sum":`...)
	b = appendPyFloat(b, s.Sum)
	b = append(b, `,"count":`...)
	b = appendPyFloat(b, s.Count)
	return append(b, '}')
}

// GPUTelemetryJSONL streams the GPU telemetry of DCGM endpoints to
// gpu_telemetry_export.jsonl in AIPerf's layout: one line per GPU per
// scrape with its identity, timestamp_ns, dcgm_url and telemetry_data under
// AIPerf's names and units (nvidia_power_usage in W, nvidia_memory_used in
// GB, nvidia_energy_consumption in MJ, ...).
type GPUTelemetryJSONL struct{ *scrapeFile }

// OpenGPUTelemetryJSONL creates the file.
func OpenGPUTelemetryJSONL(path string) (*GPUTelemetryJSONL, error) {
	f, err := openScrapeFile(path)
	if err != nil {
		return nil, err
	}
	return &GPUTelemetryJSONL{f}, nil
}

// gpuSample is one GPU's values in a scrape.
type gpuSample struct {
	index                          int
	uuid, model, bus, device, host string
	names                          []string
	values                         []float64
}

// Scrape implements servermetrics.Sink.
func (g *GPUTelemetryJSONL) Scrape(s *servermetrics.Scrape) error {
	if s.Kind != results.EndpointGPU {
		return nil
	}
	var gpus []*gpuSample
	byKey := map[string]*gpuSample{}
	for _, fld := range servermetrics.GPUFields {
		for _, f := range s.Snapshot.Families {
			if f.Exposed != fld.DCGM {
				continue
			}
			for _, ser := range f.Series {
				gs := gpuOfLabels(ser.Labels, byKey, &gpus)
				if !math.IsNaN(ser.Value) {
					gs.names = append(gs.names, fld.Name)
					gs.values = append(gs.values, ser.Value*fld.Scale)
				}
			}
		}
	}
	var b []byte
	for _, gs := range gpus {
		b = append(b, `{"gpu_index":`...)
		b = strconv.AppendInt(b, int64(gs.index), 10)
		b = append(b, `,"gpu_uuid":`...)
		b = appendString(b, gs.uuid)
		b = append(b, `,"gpu_model_name":`...)
		b = appendString(b, gs.model)
		b = append(b, `,"platform":"nvidia","pci_bus_id":`...)
		b = appendOptString(b, gs.bus)
		b = append(b, `,"device":`...)
		b = appendOptString(b, gs.device)
		b = append(b, `,"hostname":`...)
		b = appendOptString(b, gs.host)
		b = append(b, `,"timestamp_ns":`...)
		b = strconv.AppendInt(b, s.DoneNs, 10)
		b = append(b, `,"dcgm_url":`...)
		b = appendString(b, s.Endpoint)
		b = append(b, `,"telemetry_data":{`...)
		for i, n := range gs.names {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, n)
			b = append(b, ':')
			b = appendPyFloat(b, gs.values[i])
		}
		b = append(b, "}}\n"...)
	}
	if len(b) == 0 {
		return nil
	}
	return g.write(b)
}

// gpuOfLabels finds (or adds) the GPU a DCGM series belongs to.
func gpuOfLabels(ls []results.Label, byKey map[string]*gpuSample, order *[]*gpuSample) *gpuSample {
	gs := &gpuSample{}
	for _, l := range ls {
		switch l.Name {
		case "gpu":
			gs.index, _ = strconv.Atoi(l.Value)
		case "UUID", "uuid":
			gs.uuid = l.Value
		case "modelName":
			gs.model = l.Value
		case "pci_bus_id":
			gs.bus = l.Value
		case "device":
			gs.device = l.Value
		case "Hostname", "hostname":
			gs.host = l.Value
		}
	}
	key := strconv.Itoa(gs.index) + "\x00" + gs.uuid
	if x := byKey[key]; x != nil {
		return x
	}
	byKey[key] = gs
	*order = append(*order, gs)
	return gs
}
