package servermetrics

import (
	"sort"
	"strconv"
	"strings"

	"github.com/loadstar/loadstar/engine/results"
)

// GPUField maps one DCGM exporter field to AIPerf's GPU telemetry name.
type GPUField struct {
	DCGM   string  // e.g. DCGM_FI_DEV_POWER_USAGE
	Name   string  // e.g. nvidia_power_usage
	Header string  // e.g. GPU Power Usage
	Unit   string  // e.g. W
	Scale  float64 // from DCGM's unit to Unit
	// Counter fields report their increase over the window (AIPerf: a
	// single delta), gauges their statistics.
	Counter bool
}

// GPUFields are the DCGM fields loadstar reads, in AIPerf's order, with
// AIPerf's names (nvidia_*) and units. Fields DCGM exports beyond these
// stay in the raw time series.
var GPUFields = []GPUField{
	{"DCGM_FI_DEV_POWER_USAGE", "nvidia_power_usage", "GPU Power Usage", "W", 1, false},
	{"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "nvidia_energy_consumption", "Energy Consumption", "MJ", 1e-9, true},
	{"DCGM_FI_DEV_GPU_UTIL", "nvidia_gpu_utilization", "GPU Utilization", "%", 1, false},
	{"DCGM_FI_DEV_MEM_COPY_UTIL", "nvidia_memory_utilization", "Memory Utilization", "%", 1, false},
	{"DCGM_FI_DEV_FB_USED", "nvidia_memory_used", "GPU Memory Used", "GB", mibGB, false},
	{"DCGM_FI_DEV_FB_FREE", "nvidia_fb_free", "Framebuffer Memory Free", "MB", 1.048576, false},
	{"DCGM_FI_DEV_SM_CLOCK", "nvidia_sm_clock", "SM Clock Frequency", "MHz", 1, false},
	{"DCGM_FI_DEV_MEM_CLOCK", "nvidia_mem_clock", "Memory Clock Frequency", "MHz", 1, false},
	{"DCGM_FI_DEV_MEMORY_TEMP", "nvidia_memory_temp", "Memory Temperature", "°C", 1, false},
	{"DCGM_FI_DEV_GPU_TEMP", "nvidia_temperature", "GPU Temperature", "°C", 1, false},
	{"DCGM_FI_PROF_SM_ACTIVE", "nvidia_sm_utilization", "SM Utilization", "%", 100, false},
	{"DCGM_FI_DEV_ENC_UTIL", "nvidia_encoder_utilization", "Encoder Utilization", "%", 1, false},
	{"DCGM_FI_DEV_DEC_UTIL", "nvidia_decoder_utilization", "Decoder Utilization", "%", 1, false},
	{"DCGM_FI_DEV_XID_ERRORS", "nvidia_xid_errors", "XID Errors", "count", 1, false},
	{"DCGM_FI_DEV_POWER_VIOLATION", "nvidia_power_violation", "Power Violation", "us", 1, true},
}

// gpuKey identifies one GPU at one endpoint.
type gpuKey struct {
	ep    *endpoint
	index int
	uuid  string
}

// gpus groups the DCGM series of GPU endpoints by GPU.
func (c *Collector) gpus(w window) []results.GPU {
	byKey := map[gpuKey]*results.GPU{}
	var keys []gpuKey
	for _, e := range c.eps {
		if e.kind != results.EndpointGPU {
			continue
		}
		for _, fld := range GPUFields {
			fam := e.families[fld.DCGM]
			if fam == nil {
				continue
			}
			for _, s := range fam.order {
				k, g := gpuOf(e, s.labels)
				if byKey[k] == nil {
					byKey[k] = g
					keys = append(keys, k)
				}
				if m, ok := gpuMetric(fld, fam.typ, e, s); ok {
					byKey[k].Metrics = append(byKey[k].Metrics, m)
				}
			}
		}
	}
	order := map[*endpoint]int{}
	for i, e := range c.eps {
		order[e] = i
	}
	sort.SliceStable(keys, func(i, j int) bool {
		if a, b := order[keys[i].ep], order[keys[j].ep]; a != b {
			return a < b // endpoints in configuration order
		}
		return keys[i].index < keys[j].index
	})
	out := make([]results.GPU, 0, len(keys))
	for _, k := range keys {
		out = append(out, *byKey[k])
	}
	return out
}

// gpuOf reads a GPU's identity from DCGM's labels (gpu, UUID, modelName,
// Hostname, pci_bus_id).
func gpuOf(e *endpoint, labels []results.Label) (gpuKey, *results.GPU) {
	g := &results.GPU{Endpoint: e.url}
	for _, l := range labels {
		switch l.Name {
		case "gpu":
			g.Index, _ = strconv.Atoi(l.Value)
		case "UUID", "uuid":
			g.UUID = l.Value
		case "modelName":
			g.Name = l.Value
		case "Hostname", "hostname":
			g.Hostname = l.Value
		case "pci_bus_id":
			g.PCIBusID = l.Value
		}
	}
	return gpuKey{e, g.Index, g.UUID}, g
}

func gpuMetric(fld GPUField, typ string, e *endpoint, s *series) (results.GPUMetric, bool) {
	m := results.GPUMetric{Name: fld.Name, Header: fld.Header, Unit: fld.Unit, Source: fld.DCGM}
	if typ == results.TypeCounter {
		if !s.win {
			return m, false
		}
		m.Counter, m.Delta = true, s.inc*fld.Scale
		return m, true
	}
	g := gaugeStats(s.gaugeRuns(0, len(e.frames)))
	if g == nil {
		return m, false
	}
	st := statsOfGauge(g)
	for _, p := range []*float64{&st.Avg, &st.Min, &st.Max, &st.Std, &st.Sum, &st.P1, &st.P5, &st.P10, &st.P25,
		&st.P50, &st.P75, &st.P90, &st.P95, &st.P99} {
		*p *= fld.Scale
	}
	m.Stats = *st
	return m, true
}

// IsGPUFamily reports whether a metric name is a DCGM exporter field.
func IsGPUFamily(name string) bool { return strings.HasPrefix(name, "DCGM_FI_") }

// GPUFieldOf returns the mapping of a DCGM field, if loadstar reads it.
func GPUFieldOf(dcgm string) (GPUField, bool) {
	for _, f := range GPUFields {
		if f.DCGM == dcgm {
			return f, true
		}
	}
	return GPUField{}, false
}
