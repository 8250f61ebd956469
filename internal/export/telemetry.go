package export

import (
	"encoding/csv"
	"strconv"

	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/servermetrics"
)

// aiperfGPUDefaults are the GPU metrics AIPerf collects by default; their
// display names carry "NVIDIA " (the others come from a custom field list).
var aiperfGPUDefaults = map[string]bool{
	"nvidia_power_usage": true, "nvidia_energy_consumption": true, "nvidia_gpu_utilization": true,
	"nvidia_memory_utilization": true, "nvidia_memory_used": true, "nvidia_temperature": true,
	"nvidia_sm_utilization": true, "nvidia_encoder_utilization": true, "nvidia_decoder_utilization": true,
	"nvidia_xid_errors": true, "nvidia_power_violation": true,
}

// gpuDisplay is a GPU metric's row name in AIPerf's CSV: "NVIDIA GPU Power
// Usage (W)".
func gpuDisplay(m *results.GPUMetric) string {
	name := m.Header + " (" + m.Unit + ")"
	if aiperfGPUDefaults[m.Name] {
		name = "NVIDIA " + name
	}
	return name
}

// TelemetryData is profile_export_aiperf.json's telemetry_data block
// (AIPerf's, with the platform field of schema 1.4): the collection's
// endpoints, then each DCGM endpoint's GPUs with their metrics' statistics
// (a counter's increase as its avg). nil without GPU telemetry.
func TelemetryData(sm *results.ServerMetrics) *ordered.Map {
	if sm == nil || len(sm.GPUs) == 0 {
		return nil
	}
	var configured, successful []any
	for _, e := range sm.Endpoints {
		if e.Kind != results.EndpointGPU || !e.Successful && isQuietDefault(e.URL) {
			continue
		}
		configured = append(configured, e.URL)
		if e.Successful {
			successful = append(successful, e.URL)
		}
	}
	summary := ordered.New(4)
	summary.Set("endpoints_configured", emptyList(configured))
	summary.Set("endpoints_successful", emptyList(successful))
	summary.Set("start_time", isoTime(sm.WindowStart))
	summary.Set("end_time", isoTime(sm.WindowEnd))
	endpoints := ordered.New(2)
	for i := range sm.GPUs {
		g := &sm.GPUs[i]
		key := servermetrics.Display(g.Endpoint)
		var gpus *ordered.Map
		if v, ok := endpoints.Get(key); ok {
			gpus = v.(*ordered.Map)
		} else {
			gpus = ordered.New(8)
			endpoints.Set(key, gpus)
		}
		b := ordered.New(7)
		b.Set("gpu_index", g.Index)
		b.Set("gpu_name", g.Name)
		b.Set("gpu_uuid", g.UUID)
		b.Set("platform", "nvidia")
		b.Set("hostname", g.Hostname)
		metrics := ordered.New(len(g.Metrics))
		for j := range g.Metrics {
			metrics.Set(g.Metrics[j].Name, gpuMetricJSON(&g.Metrics[j]))
		}
		b.Set("metrics", metrics)
		gpus.Set("gpu_"+strconv.Itoa(g.Index), b)
	}
	wrapped := ordered.New(len(endpoints.Keys()))
	for _, k := range endpoints.Keys() {
		v, _ := endpoints.Get(k)
		wrapped.Set(k, ordered.FromPairs("gpus", v))
	}
	td := ordered.New(2)
	td.Set("summary", summary)
	td.Set("endpoints", wrapped)
	return td
}

// isQuietDefault reports whether u is one of the DCGM ports tried on the
// chance they exist (left out of the summary when nothing answered).
func isQuietDefault(u string) bool {
	return u == "http://localhost:9400/metrics" || u == "http://localhost:9401/metrics"
}

func gpuMetricJSON(m *results.GPUMetric) *ordered.Map {
	b := ordered.New(16)
	if m.Counter {
		b.Set("avg", pyFloat(m.Delta))
		b.Set("unit", m.Unit)
		return b
	}
	st := &m.Stats
	for _, kv := range []stat{{"avg", pyFloat(st.Avg)}, {"min", pyFloat(st.Min)}, {"max", pyFloat(st.Max)},
		{"p1", pyFloat(st.P1)}, {"p5", pyFloat(st.P5)}, {"p10", pyFloat(st.P10)}, {"p25", pyFloat(st.P25)},
		{"p50", pyFloat(st.P50)}, {"p75", pyFloat(st.P75)}, {"p90", pyFloat(st.P90)}, {"p95", pyFloat(st.P95)},
		{"p99", pyFloat(st.P99)}, {"std", pyFloat(st.Std)}, {"count", st.Count}} {
		b.Set(kv.key, kv.val)
	}
	b.Set("unit", m.Unit)
	return b
}

// gpuCSVStats are the statistic columns of the GPU section.
var gpuCSVStats = []string{"avg", "min", "max", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "std"}

// writeGPUSection appends AIPerf's GPU telemetry section to the profile
// CSV, after two blank rows: one row per GPU metric.
func writeGPUSection(w *csv.Writer, sm *results.ServerMetrics) {
	if sm == nil || len(sm.GPUs) == 0 {
		return
	}
	_ = w.Write(nil)
	_ = w.Write(nil)
	_ = w.Write(append([]string{"Endpoint", "GPU_Index", "GPU_Name", "GPU_UUID", "Platform", "Metric"}, gpuCSVStats...))
	for i := range sm.GPUs {
		g := &sm.GPUs[i]
		for j := range g.Metrics {
			m := &g.Metrics[j]
			row := []string{servermetrics.Display(g.Endpoint), strconv.Itoa(g.Index), g.Name, g.UUID, "nvidia", gpuDisplay(m)}
			for _, k := range gpuCSVStats {
				switch {
				case m.Counter && k == "avg": // a counter reports its increase only
					row = append(row, strconv.FormatFloat(m.Delta, 'f', 2, 64))
				case m.Counter:
					row = append(row, "")
				default:
					v, _ := m.Stats.Get(k)
					row = append(row, strconv.FormatFloat(v, 'f', 2, 64))
				}
			}
			_ = w.Write(row)
		}
	}
}
