package metrics

import (
	"sort"

	"github.com/loadstar/loadstar/engine/results"
)

// Flag is a bit set describing a metric's applicability and display, with
// AIPerf's MetricFlags meanings.
type Flag uint64

const (
	// StreamingOnly metrics need a streaming endpoint.
	StreamingOnly Flag = 1 << iota
	// ProducesTokensOnly metrics need an endpoint that produces tokens.
	ProducesTokensOnly
	// TokenizesInputOnly metrics need an endpoint that tokenizes its input.
	TokenizesInputOnly
	// ErrorOnly metrics are computed on error records only.
	ErrorOnly
	// LargerIsBetter metrics are good when high (goodput compares with >=).
	LargerIsBetter
	// SupportsReasoning metrics concern reasoning models.
	SupportsReasoning
	// Goodput metrics exist only when SLOs are given.
	Goodput
	// NoIndividualRecords metrics never appear in the per-record export.
	NoIndividualRecords
	// NoConsole metrics are exported but not printed on the main table.
	NoConsole
	// Loadstar marks loadstar's own metrics (not in AIPerf): they go to the
	// "loadstar" block of the JSON export.
	Loadstar
)

// StreamingTokensOnly is StreamingOnly|ProducesTokensOnly.
const StreamingTokensOnly = StreamingOnly | ProducesTokensOnly

// Has reports whether every bit of g is set in f.
func (f Flag) Has(g Flag) bool { return f&g == g }

// Console groups (AIPerf's MetricConsoleGroup).
const (
	GroupDefault = ""
	GroupUsage   = "usage"
	GroupNone    = "none"
	// GroupLoadstar holds loadstar's schedule metrics (issue delay,
	// schedule-corrected latencies): printed in the validity block.
	GroupLoadstar = "loadstar"
)

// Def describes one metric: AIPerf's tag, headers, units and flags.
type Def struct {
	Tag, Header, ShortHeader string
	// BaseUnit is the unit values are computed in; Unit the display unit.
	BaseUnit, Unit string
	// Scale converts a base value to the display unit (display = base*Scale).
	Scale        float64
	Kind         results.Kind
	Flags        Flag
	DisplayOrder int
	Group        string
	// Integer: values are whole numbers in the display unit.
	Integer bool
	// List: one record yields several values (inter_chunk_latency), pooled.
	List bool
}

const (
	unitNs         = "ns"
	unitMs         = "ms"
	unitSec        = "sec"
	unitTokens     = "tokens"
	unitRequests   = "requests"
	unitReqPerSec  = "requests/sec"
	unitTokPerSec  = "tokens/sec"
	unitTokPerUser = "tokens/sec/user"
	unitPercent    = "%"
	unitRatio      = "ratio"
)

// Record metric identifiers: indexes into Values.V.
const (
	TTFT = iota
	TTST
	TTFO
	RequestLatency
	ITL
	OutputTPSPerUser
	E2EOutputTPS
	PrefillTPSPerUser
	OSL
	ISL
	OutputTokenCount
	ReasoningTokenCount
	DecodeDuration
	UsagePrompt
	UsageCompletion
	UsageTotal
	UsageReasoning
	UsageCacheRead
	UsageCacheWrite
	IssueDelay
	ScheduledLatency
	ScheduledTTFT
	ErrorISL
	// NumRecordMetrics counts the scalar record metrics above.
	NumRecordMetrics
)

// ICLTag is the pooled list metric inter_chunk_latency.
const ICLTag = "inter_chunk_latency"

func latency(tag, header, short string, flags Flag, order int) Def {
	return Def{Tag: tag, Header: header, ShortHeader: short, BaseUnit: unitNs, Unit: unitMs, Scale: 1e-6,
		Kind: results.RecordMetric, Flags: flags, DisplayOrder: order}
}

func tokens(tag, header, short string, flags Flag, order int, group string) Def {
	return Def{Tag: tag, Header: header, ShortHeader: short, BaseUnit: unitTokens, Unit: unitTokens, Scale: 1,
		Kind: results.RecordMetric, Flags: flags, DisplayOrder: order, Group: group, Integer: true}
}

func perUser(tag, header, short string, flags Flag, order int) Def {
	return Def{Tag: tag, Header: header, ShortHeader: short, BaseUnit: unitTokPerUser, Unit: unitTokPerUser, Scale: 1,
		Kind: results.RecordMetric, Flags: flags | LargerIsBetter, DisplayOrder: order}
}

// recordDefs are the scalar record metrics, indexed by the constants above.
var recordDefs = [NumRecordMetrics]Def{
	TTFT:                latency("time_to_first_token", "Time to First Token", "TTFT", StreamingTokensOnly, 100),
	TTST:                latency("time_to_second_token", "Time to Second Token", "TTST", StreamingTokensOnly, 200),
	TTFO:                latency("time_to_first_output_token", "Time to First Output Token", "TTFO", StreamingTokensOnly|SupportsReasoning, 210),
	RequestLatency:      latency("request_latency", "Request Latency", "Req Latency", 0, 300),
	ITL:                 latency("inter_token_latency", "Inter Token Latency", "ITL", StreamingTokensOnly, 400),
	OutputTPSPerUser:    perUser("output_token_throughput_per_user", "Output Token Throughput Per User", "Output TPS/User", StreamingTokensOnly, 500),
	E2EOutputTPS:        perUser("e2e_output_token_throughput", "E2E Output Token Throughput", "E2E Output TPS/User", ProducesTokensOnly, 510),
	PrefillTPSPerUser:   inGroup(perUser("prefill_throughput_per_user", "Prefill Throughput Per User", "Prefill TPS/User", StreamingTokensOnly|TokenizesInputOnly|NoConsole, 0), GroupNone),
	OSL:                 tokens("output_sequence_length", "Output Sequence Length", "OSL", ProducesTokensOnly|LargerIsBetter, 600, ""),
	ISL:                 tokens("input_sequence_length", "Input Sequence Length", "ISL", TokenizesInputOnly|LargerIsBetter, 700, ""),
	OutputTokenCount:    tokens("output_token_count", "Output Token Count", "Output Tokens", ProducesTokensOnly|LargerIsBetter|NoConsole, 0, GroupNone),
	ReasoningTokenCount: tokens("reasoning_token_count", "Reasoning Token Count", "Reasoning Tokens", ProducesTokensOnly|LargerIsBetter|SupportsReasoning|NoConsole, 0, GroupNone),
	DecodeDuration:      inGroup(latency("decode_duration", "Decode Duration", "Decode Duration", StreamingTokensOnly|NoConsole, 0), GroupNone),
	UsagePrompt:         tokens("usage_prompt_tokens", "Usage Prompt Tokens", "Usage Prompt", TokenizesInputOnly|LargerIsBetter|NoConsole, 0, GroupUsage),
	UsageCompletion:     tokens("usage_completion_tokens", "Usage Completion Tokens", "Usage Completion", ProducesTokensOnly|LargerIsBetter|NoConsole, 0, GroupUsage),
	UsageTotal:          tokens("usage_total_tokens", "Usage Total Tokens", "Usage Total", ProducesTokensOnly|LargerIsBetter|NoConsole, 0, GroupUsage),
	UsageReasoning:      tokens("usage_reasoning_tokens", "Usage Reasoning Tokens", "Usage Reasoning", ProducesTokensOnly|LargerIsBetter|NoConsole, 0, GroupUsage),
	UsageCacheRead:      tokens("usage_prompt_cache_read_tokens", "Usage Prompt Cache Read Tokens", "Usage Prompt Cache Read", LargerIsBetter|NoConsole, 0, GroupUsage),
	UsageCacheWrite:     tokens("usage_prompt_cache_write_tokens", "Usage Prompt Cache Write Tokens", "Usage Prompt Cache Write", NoConsole, 0, GroupUsage),
	IssueDelay:          inGroup(latency("issue_delay", "Issue Delay", "Issue Delay", Loadstar|NoConsole, 0), GroupLoadstar),
	ScheduledLatency:    inGroup(latency("scheduled_request_latency", "Scheduled Request Latency", "Sched Latency", Loadstar|NoConsole, 0), GroupLoadstar),
	ScheduledTTFT:       inGroup(latency("scheduled_time_to_first_token", "Scheduled Time to First Token", "Sched TTFT", StreamingTokensOnly|Loadstar|NoConsole, 0), GroupLoadstar),
	ErrorISL:            tokens("error_isl", "Error Input Sequence Length", "Error ISL", TokenizesInputOnly|LargerIsBetter|ErrorOnly|NoConsole, 0, GroupNone),
}

// inGroup returns d in console group g.
func inGroup(d Def, g string) Def { d.Group = g; return d }

// iclDef is the pooled list metric.
var iclDef = Def{Tag: ICLTag, Header: "Inter Chunk Latency", ShortHeader: "ICL", BaseUnit: unitNs, Unit: unitMs,
	Scale: 1e-6, Kind: results.RecordMetric, Flags: StreamingTokensOnly | NoConsole, Group: GroupNone, List: true}

func aggregate(tag, header, short, unit string, flags Flag, order int) Def {
	return Def{Tag: tag, Header: header, ShortHeader: short, BaseUnit: unit, Unit: unit, Scale: 1,
		Kind: results.AggregateMetric, Flags: flags, DisplayOrder: order, Integer: true}
}

func derived(tag, header, short, unit string, flags Flag, order int) Def {
	return Def{Tag: tag, Header: header, ShortHeader: short, BaseUnit: unit, Unit: unit, Scale: 1,
		Kind: results.DerivedMetric, Flags: flags, DisplayOrder: order}
}

// Aggregate and derived metric definitions, by tag.
var (
	defRequestCount      = aggregate("request_count", "Request Count", "Requests", unitRequests, NoIndividualRecords|LargerIsBetter, 1100)
	defErrorRequestCount = aggregate("error_request_count", "Error Request Count", "Errors", unitRequests, NoIndividualRecords|ErrorOnly|NoConsole, 0)
	defGoodRequestCount  = aggregate("good_request_count", "Good Request Count", "Good Requests", unitRequests, NoIndividualRecords|Goodput|LargerIsBetter|NoConsole, 0)
	defBenchmarkDuration = Def{Tag: "benchmark_duration", Header: "Benchmark Duration", ShortHeader: "Duration", BaseUnit: unitNs, Unit: unitSec,
		Scale: 1e-9, Kind: results.DerivedMetric, Flags: NoIndividualRecords | NoConsole}
	defRequestThroughput  = derived("request_throughput", "Request Throughput", "Req/sec", unitReqPerSec, NoIndividualRecords|LargerIsBetter, 900)
	defOutputThroughput   = derived("output_token_throughput", "Output Token Throughput", "Output TPS", unitTokPerSec, NoIndividualRecords|ProducesTokensOnly|LargerIsBetter, 800)
	defInputThroughput    = derived("input_token_throughput", "Input Token Throughput", "Input TPS", unitTokPerSec, NoIndividualRecords|TokenizesInputOnly|LargerIsBetter|NoConsole, 0)
	defTotalThroughput    = derived("total_token_throughput", "Total Token Throughput", "Total TPS", unitTokPerSec, NoIndividualRecords|ProducesTokensOnly|LargerIsBetter|NoConsole, 0)
	defGoodput            = derived("goodput", "Goodput", "Goodput", unitReqPerSec, NoIndividualRecords|Goodput|LargerIsBetter, 1000)
	defGoodFraction       = derived("good_request_fraction", "GoodRequestFraction", "GoodReqFrac", unitRatio, NoIndividualRecords|Goodput|LargerIsBetter|NoConsole, 0)
	defErrorRate          = derived("request_error_rate", "Request Error Rate", "Err %", unitPercent, NoIndividualRecords|NoConsole, 0)
	defCompletedCount     = derived("completed_request_count", "Completed Requests (Success + Error)", "Completed", unitRequests, NoIndividualRecords|NoConsole, 0)
	defTotalISL           = derived("total_isl", "Total Input Sequence Length", "Total ISL", unitTokens, NoIndividualRecords|TokenizesInputOnly|LargerIsBetter|NoConsole, 0)
	defTotalOSL           = derived("total_osl", "Total Output Sequence Length", "Total OSL", unitTokens, NoIndividualRecords|ProducesTokensOnly|LargerIsBetter|NoConsole, 0)
	defTotalOutputTokens  = derived("total_output_tokens", "Total Output Tokens", "Total Output Tokens", unitTokens, NoIndividualRecords|ProducesTokensOnly|LargerIsBetter|NoConsole, 0)
	defTotalReasoning     = derived("total_reasoning_tokens", "Total Reasoning Tokens", "Total Reasoning Tokens", unitTokens, NoIndividualRecords|ProducesTokensOnly|SupportsReasoning|LargerIsBetter|NoConsole, 0)
	defTotalErrorISL      = derived("total_error_isl", "Total Error Input Sequence Length", "Total Error ISL", unitTokens, NoIndividualRecords|TokenizesInputOnly|ErrorOnly|NoConsole, 0)
	defTotalUsagePrompt   = derived("total_usage_prompt_tokens", "Total Usage Prompt Tokens", "Total Usage Prompt", unitTokens, NoIndividualRecords|NoConsole, 0)
	defTotalUsageComplete = derived("total_usage_completion_tokens", "Total Usage Completion Tokens", "Total Usage Completion", unitTokens, NoIndividualRecords|NoConsole, 0)
	defTotalUsageTotal    = derived("total_usage_total_tokens", "Total Usage Total Tokens", "Total Usage Total", unitTokens, NoIndividualRecords|NoConsole, 0)
	defTotalUsageReason   = derived("total_usage_reasoning_tokens", "Total Usage Reasoning Tokens", "Total Usage Reasoning", unitTokens, NoIndividualRecords|NoConsole, 0)
	defTotalUsageCacheRd  = derived("total_usage_prompt_cache_read_tokens", "Total Usage Prompt Cache Read Tokens", "Total Usage Cache Read", unitTokens, NoIndividualRecords|NoConsole, 0)
	defTotalUsageCacheWr  = derived("total_usage_prompt_cache_write_tokens", "Total Usage Prompt Cache Write Tokens", "Total Usage Cache Write", unitTokens, NoIndividualRecords|NoConsole, 0)
	defCacheReadPct       = derived("overall_usage_prompt_cache_read_pct", "Overall Usage Prompt Cache Read", "Cache Read %", unitPercent, NoIndividualRecords|NoConsole, 0)
)

// adjusted are AIPerf's failure-adjusted distributions (metrics.md §8):
// the parent's values plus one +inf per failed request, nearest-rank
// percentiles. They exist only when some requests failed.
var adjusted = [...]struct {
	id  int
	def Def
}{
	{TTFT, adjDef("time_to_first_token", "Adjusted Time to First Token", "Adj TTFT", StreamingTokensOnly, 101)},
	{RequestLatency, adjDef("request_latency", "Adjusted Request Latency", "Adj Req Latency", 0, 301)},
	{ITL, adjDef("inter_token_latency", "Adjusted Inter Token Latency", "Adj ITL", StreamingTokensOnly, 401)},
	{DecodeDuration, adjDef("decode_duration", "Adjusted Decode Duration", "Adj Decode Duration", StreamingTokensOnly|NoConsole, 0)},
}

func adjDef(parent, header, short string, flags Flag, order int) Def {
	return Def{Tag: "adj_" + parent, Header: header, ShortHeader: short, BaseUnit: unitNs, Unit: unitMs, Scale: 1e-6,
		Kind: results.DerivedMetric, Flags: flags | NoIndividualRecords, DisplayOrder: order}
}

// usageTotals pairs each usage record metric with its run total.
var usageTotals = [...]struct {
	id  int
	def *Def
}{
	{UsagePrompt, &defTotalUsagePrompt},
	{UsageCompletion, &defTotalUsageComplete},
	{UsageTotal, &defTotalUsageTotal},
	{UsageReasoning, &defTotalUsageReason},
	{UsageCacheRead, &defTotalUsageCacheRd},
	{UsageCacheWrite, &defTotalUsageCacheWr},
}

// Defs returns every metric definition, sorted by tag. The result is a copy.
func Defs() []Def {
	out := make([]Def, 0, NumRecordMetrics+32)
	out = append(out, recordDefs[:]...)
	out = append(out, iclDef)
	for _, d := range []*Def{&defRequestCount, &defErrorRequestCount, &defGoodRequestCount, &defBenchmarkDuration,
		&defRequestThroughput, &defOutputThroughput, &defInputThroughput, &defTotalThroughput, &defGoodput,
		&defGoodFraction, &defErrorRate, &defCompletedCount, &defTotalISL, &defTotalOSL, &defTotalOutputTokens,
		&defTotalReasoning, &defTotalErrorISL, &defCacheReadPct} {
		out = append(out, *d)
	}
	for _, u := range usageTotals {
		out = append(out, *u.def)
	}
	for _, a := range adjusted {
		out = append(out, a.def)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tag < out[j].Tag })
	return out
}

// Lookup returns the definition of tag.
func Lookup(tag string) (Def, bool) {
	for _, d := range Defs() {
		if d.Tag == tag {
			return d, true
		}
	}
	return Def{}, false
}

// recordIndex returns the Values index of a scalar record metric tag, or -1.
func recordIndex(tag string) int {
	for i := range recordDefs {
		if recordDefs[i].Tag == tag {
			return i
		}
	}
	return -1
}

// Applicability decides which metrics a run computes, from the endpoint's
// capabilities and the streaming setting (AIPerf's flag-based selection).
type Applicability struct {
	Streaming, ProducesTokens, TokenizesInput bool
}

// Applies reports whether a metric with flags f is computed.
func (a Applicability) Applies(f Flag) bool {
	if f.Has(StreamingOnly) && !a.Streaming {
		return false
	}
	if f.Has(ProducesTokensOnly) && !a.ProducesTokens {
		return false
	}
	if f.Has(TokenizesInputOnly) && !a.TokenizesInput {
		return false
	}
	return true
}

func (d *Def) metric() results.Metric {
	return results.Metric{Tag: d.Tag, Header: d.Header, ShortHeader: d.ShortHeader, Unit: d.Unit, Kind: d.Kind,
		Flags: uint64(d.Flags), DisplayOrder: d.DisplayOrder, Group: d.Group, Integer: d.Integer}
}
