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
	// FailedAdjusted metrics get an adj_<tag> distribution with one +inf
	// per failed request (AIPerf's PERCENTILE_INCLUDES_FAILED_REQUESTS).
	FailedAdjusted
	// HTTPTrace metrics are the transport's HTTP phases (AIPerf's
	// HTTP_TRACE_ONLY): present for records the transport stamped.
	HTTPTrace
	// UsageDiffOnly metrics compare server usage with client token counts
	// (AIPerf's USAGE_DIFF_ONLY): off with server token counts.
	UsageDiffOnly
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
	// GroupHTTPTrace holds the HTTP trace phases (AIPerf prints them only
	// with --show-trace-timing).
	GroupHTTPTrace = "http_trace"
	// GroupEffective and GroupActive hold the time-weighted concurrency and
	// throughput family (AIPerf's EFFECTIVE and ACTIVE groups).
	GroupEffective = "effective"
	GroupActive    = "active"
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
	unitSessions   = "sessions"
	unitReqPerSec  = "requests/sec"
	unitSessPerHr  = "sessions/hour"
	unitTokPerSec  = "tokens/sec"
	unitTokPerUser = "tokens/sec/user"
	unitPercent    = "%"
	unitRatio      = "ratio"
	unitBytes      = "B"
	unitKB         = "KB"
	unitCount      = "count"
)

// Record metric identifiers: indexes into Values.V. The order is the order
// of a record's metrics in profile_export.jsonl.
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
	FullDecodeDuration
	FullITL
	FullOutputTPSPerUser
	UsagePrompt
	UsageCompletion
	UsageTotal
	UsageReasoning
	UsageCacheRead
	UsageCacheWrite
	UsagePromptDiff
	UsageCompletionDiff
	UsageReasoningDiff
	OSLMismatchDiff
	HTTPBlocked
	HTTPDNSLookup
	HTTPConnecting
	HTTPTLSHandshaking
	HTTPSending
	HTTPWaiting
	HTTPReceiving
	HTTPDuration
	HTTPTotal
	HTTPConnectionOverhead
	HTTPConnectionReused
	HTTPDataSent
	HTTPDataReceived
	HTTPChunksReceived
	EffectiveLatency
	CreditToStartLatency
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

func percent(tag, header, short string, flags Flag) Def {
	return Def{Tag: tag, Header: header, ShortHeader: short, BaseUnit: unitPercent, Unit: unitPercent, Scale: 1,
		Kind: results.RecordMetric, Flags: flags | NoConsole, Group: GroupNone}
}

// trace is an HTTP trace phase (AIPerf's http_req_* record metrics, k6's
// names): exported, not on the main console table.
func trace(tag, header, short string) Def {
	return inGroup(latency(tag, header, short, HTTPTrace|NoConsole, 0), GroupHTTPTrace)
}

func traceSize(tag, header, short string) Def {
	return Def{Tag: tag, Header: header, ShortHeader: short, BaseUnit: unitBytes, Unit: unitKB, Scale: 1.0 / 1024,
		Kind: results.RecordMetric, Flags: HTTPTrace | NoConsole, Group: GroupHTTPTrace}
}

// recordDefs are the scalar record metrics, indexed by the constants above.
var recordDefs = [NumRecordMetrics]Def{
	TTFT:                   latency("time_to_first_token", "Time to First Token", "TTFT", StreamingTokensOnly|FailedAdjusted, 100),
	TTST:                   latency("time_to_second_token", "Time to Second Token", "TTST", StreamingTokensOnly, 200),
	TTFO:                   latency("time_to_first_output_token", "Time to First Output Token", "TTFO", StreamingTokensOnly|SupportsReasoning, 210),
	RequestLatency:         latency("request_latency", "Request Latency", "Req Latency", FailedAdjusted, 300),
	ITL:                    latency("inter_token_latency", "Inter Token Latency", "ITL", StreamingTokensOnly|FailedAdjusted, 400),
	OutputTPSPerUser:       perUser("output_token_throughput_per_user", "Output Token Throughput Per User", "Output TPS/User", StreamingTokensOnly, 500),
	E2EOutputTPS:           perUser("e2e_output_token_throughput", "E2E Output Token Throughput", "E2E Output TPS/User", ProducesTokensOnly, 510),
	PrefillTPSPerUser:      inGroup(perUser("prefill_throughput_per_user", "Prefill Throughput Per User", "Prefill TPS/User", StreamingTokensOnly|TokenizesInputOnly|NoConsole, 0), GroupNone),
	OSL:                    tokens("output_sequence_length", "Output Sequence Length", "OSL", ProducesTokensOnly|LargerIsBetter, 600, ""),
	ISL:                    tokens("input_sequence_length", "Input Sequence Length", "ISL", TokenizesInputOnly|LargerIsBetter, 700, ""),
	OutputTokenCount:       tokens("output_token_count", "Output Token Count", "Output Tokens", ProducesTokensOnly|LargerIsBetter|NoConsole, 0, GroupNone),
	ReasoningTokenCount:    tokens("reasoning_token_count", "Reasoning Token Count", "Reasoning Tokens", ProducesTokensOnly|LargerIsBetter|SupportsReasoning|NoConsole, 0, GroupNone),
	DecodeDuration:         latency("decode_duration", "Decode Duration", "Decode Duration", StreamingTokensOnly, 350),
	FullDecodeDuration:     inGroup(latency("full_decode_duration", "Full Decode Duration", "Full Decode Duration", StreamingTokensOnly|NoConsole, 0), GroupNone),
	FullITL:                latency("full_response_inter_token_latency", "Full-Response Inter Token Latency", "Full-Response ITL", StreamingTokensOnly|FailedAdjusted, 410),
	FullOutputTPSPerUser:   inGroup(perUser("full_response_output_token_throughput_per_user", "Full-Response Output Token Throughput Per User", "Full-Response TPS/User", StreamingTokensOnly|NoConsole, 0), GroupNone),
	UsagePrompt:            tokens("usage_prompt_tokens", "Usage Prompt Tokens", "Usage Prompt", TokenizesInputOnly|LargerIsBetter|NoConsole, 0, GroupUsage),
	UsageCompletion:        tokens("usage_completion_tokens", "Usage Completion Tokens", "Usage Completion", ProducesTokensOnly|LargerIsBetter|NoConsole, 0, GroupUsage),
	UsageTotal:             tokens("usage_total_tokens", "Usage Total Tokens", "Usage Total", ProducesTokensOnly|LargerIsBetter|NoConsole, 0, GroupUsage),
	UsageReasoning:         tokens("usage_reasoning_tokens", "Usage Reasoning Tokens", "Usage Reasoning", ProducesTokensOnly|LargerIsBetter|NoConsole, 0, GroupUsage),
	UsageCacheRead:         tokens("usage_prompt_cache_read_tokens", "Usage Prompt Cache Read Tokens", "Usage Prompt Cache Read", LargerIsBetter|NoConsole, 0, GroupUsage),
	UsageCacheWrite:        tokens("usage_prompt_cache_write_tokens", "Usage Prompt Cache Write Tokens", "Usage Prompt Cache Write", NoConsole, 0, GroupUsage),
	UsagePromptDiff:        percent("usage_prompt_tokens_diff_pct", "Usage Prompt Diff", "Prompt Diff", TokenizesInputOnly|UsageDiffOnly),
	UsageCompletionDiff:    percent("usage_completion_tokens_diff_pct", "Usage Completion Diff", "Completion Diff", ProducesTokensOnly|UsageDiffOnly),
	UsageReasoningDiff:     percent("usage_reasoning_tokens_diff_pct", "Usage Reasoning Diff", "Reasoning Diff", ProducesTokensOnly|SupportsReasoning|UsageDiffOnly),
	OSLMismatchDiff:        percent("osl_mismatch_diff_pct", "OSL Mismatch Diff", "OSL Diff", ProducesTokensOnly),
	HTTPBlocked:            trace("http_req_blocked", "HTTP Blocked", "Blocked"),
	HTTPDNSLookup:          trace("http_req_dns_lookup", "HTTP DNS Lookup", "DNS"),
	HTTPConnecting:         trace("http_req_connecting", "HTTP Connecting", "Connecting"),
	HTTPTLSHandshaking:     trace("http_req_tls_handshaking", "HTTP TLS Handshaking", "TLS"),
	HTTPSending:            trace("http_req_sending", "HTTP Sending", "Sending"),
	HTTPWaiting:            trace("http_req_waiting", "HTTP Waiting (TTFB)", "TTFB"),
	HTTPReceiving:          trace("http_req_receiving", "HTTP Receiving", "Receiving"),
	HTTPDuration:           trace("http_req_duration", "HTTP Duration", "HTTP Dur"),
	HTTPTotal:              trace("http_req_total", "HTTP Total", "HTTP Total"),
	HTTPConnectionOverhead: trace("http_req_connection_overhead", "HTTP Connection Overhead", "Conn Overhead"),
	HTTPConnectionReused: {Tag: "http_req_connection_reused", Header: "HTTP Connection Reused", ShortHeader: "Conn Reused",
		BaseUnit: unitRatio, Unit: unitRatio, Scale: 1, Kind: results.RecordMetric, Flags: HTTPTrace | NoConsole, Group: GroupHTTPTrace, Integer: true},
	HTTPDataSent:     traceSize("http_req_data_sent", "HTTP Data Sent", "Sent"),
	HTTPDataReceived: traceSize("http_req_data_received", "HTTP Data Received", "Received"),
	HTTPChunksReceived: {Tag: "http_req_chunks_received", Header: "HTTP Chunks Received", ShortHeader: "Chunks Recv",
		BaseUnit: unitCount, Unit: unitCount, Scale: 1, Kind: results.RecordMetric, Flags: HTTPTrace | NoConsole, Group: GroupHTTPTrace, Integer: true},
	EffectiveLatency:     inGroup(latency("effective_latency", "Effective Latency (CO-aware)", "Effective Latency", FailedAdjusted|NoIndividualRecords|NoConsole, 0), GroupEffective),
	CreditToStartLatency: inGroup(latency("credit_to_start_latency", "Credit-to-Start Latency", "Credit-to-Start", NoIndividualRecords|NoConsole, 0), GroupNone),
	IssueDelay:           inGroup(latency("issue_delay", "Issue Delay", "Issue Delay", Loadstar|NoConsole, 0), GroupLoadstar),
	ScheduledLatency:     inGroup(latency("scheduled_request_latency", "Scheduled Request Latency", "Sched Latency", Loadstar|NoConsole, 0), GroupLoadstar),
	ScheduledTTFT:        inGroup(latency("scheduled_time_to_first_token", "Scheduled Time to First Token", "Sched TTFT", StreamingTokensOnly|Loadstar|NoConsole, 0), GroupLoadstar),
	ErrorISL:             tokens("error_isl", "Error Input Sequence Length", "Error ISL", TokenizesInputOnly|LargerIsBetter|ErrorOnly|NoConsole, 0, GroupNone),
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

// counted marks a derived metric whose value is a whole number.
func counted(d Def) Def { d.Integer = true; return d }

// total is a derived sum of whole token counts: an integer, as AIPerf's sum
// of an int column.
func total(tag, header, short string, flags Flag) Def {
	d := derived(tag, header, short, unitTokens, flags|NoIndividualRecords|NoConsole, 0)
	d.Integer = true
	return d
}

// Aggregate and derived metric definitions, by tag.
var (
	defRequestCount         = aggregate("request_count", "Request Count", "Requests", unitRequests, NoIndividualRecords|LargerIsBetter, 1100)
	defStreamedRequestCount = aggregate("streamed_request_count", "Streamed Request Count", "Streamed Requests", unitRequests, NoIndividualRecords|StreamingTokensOnly, 1101)
	defErrorRequestCount    = aggregate("error_request_count", "Error Request Count", "Errors", unitRequests, NoIndividualRecords|ErrorOnly|NoConsole, 0)
	defCancelledCount       = inGroup(aggregate("cancelled_request_count", "Cancelled Request Count", "Cancelled Count", unitRequests, NoIndividualRecords|NoConsole, 0), GroupNone)
	defGoodRequestCount     = aggregate("good_request_count", "Good Request Count", "Good Requests", unitRequests, NoIndividualRecords|Goodput|LargerIsBetter|NoConsole, 0)
	defSessionCount         = aggregate("session_count", "Session Count", "Sessions", unitSessions, NoIndividualRecords|LargerIsBetter, 1105)
	defUsageDiscrepancies   = inGroup(aggregate("usage_discrepancy_count", "Usage Discrepancy Count", "Discrepancies", unitRequests, NoIndividualRecords|UsageDiffOnly|NoConsole, 0), GroupNone)
	defOSLMismatchCount     = inGroup(aggregate("osl_mismatch_count", "OSL Mismatch Count", "OSL Mismatches", unitRequests, NoIndividualRecords|ProducesTokensOnly|NoConsole, 0), GroupNone)
	defBenchmarkDuration    = Def{Tag: "benchmark_duration", Header: "Benchmark Duration", ShortHeader: "Duration", BaseUnit: unitNs, Unit: unitSec,
		Scale: 1e-9, Kind: results.DerivedMetric, Flags: NoIndividualRecords | NoConsole}
	defRequestThroughput  = derived("request_throughput", "Request Throughput", "Req/sec", unitReqPerSec, NoIndividualRecords|LargerIsBetter, 900)
	defSessionThroughput  = derived("session_throughput", "Session Throughput", "Sessions/hr", unitSessPerHr, NoIndividualRecords|LargerIsBetter, 905)
	defOutputThroughput   = derived("output_token_throughput", "Output Token Throughput", "Output TPS", unitTokPerSec, NoIndividualRecords|ProducesTokensOnly|LargerIsBetter, 800)
	defInputThroughput    = derived("input_token_throughput", "Input Token Throughput", "Input TPS", unitTokPerSec, NoIndividualRecords|TokenizesInputOnly|LargerIsBetter|NoConsole, 0)
	defTotalThroughput    = derived("total_token_throughput", "Total Token Throughput", "Total TPS", unitTokPerSec, NoIndividualRecords|ProducesTokensOnly|LargerIsBetter|NoConsole, 0)
	defGoodput            = derived("goodput", "Goodput", "Goodput", unitReqPerSec, NoIndividualRecords|Goodput|LargerIsBetter, 1000)
	defGoodFraction       = derived("good_request_fraction", "GoodRequestFraction", "GoodReqFrac", unitRatio, NoIndividualRecords|Goodput|LargerIsBetter|NoConsole, 0)
	defErrorRate          = derived("request_error_rate", "Request Error Rate", "Err %", unitPercent, NoIndividualRecords|NoConsole, 0)
	defCompletedCount     = counted(derived("completed_request_count", "Completed Requests (Success + Error)", "Completed", unitRequests, NoIndividualRecords|NoConsole, 0))
	defTotalISL           = total("total_isl", "Total Input Sequence Length", "Total ISL", TokenizesInputOnly|LargerIsBetter)
	defTotalOSL           = total("total_osl", "Total Output Sequence Length", "Total OSL", ProducesTokensOnly|LargerIsBetter)
	defTotalOutputTokens  = total("total_output_tokens", "Total Output Tokens", "Total Output Tokens", ProducesTokensOnly|LargerIsBetter)
	defTotalReasoning     = total("total_reasoning_tokens", "Total Reasoning Tokens", "Total Reasoning Tokens", ProducesTokensOnly|SupportsReasoning|LargerIsBetter)
	defTotalErrorISL      = total("total_error_isl", "Total Error Input Sequence Length", "Total Error ISL", TokenizesInputOnly|ErrorOnly)
	defTotalUsagePrompt   = total("total_usage_prompt_tokens", "Total Usage Prompt Tokens", "Total Usage Prompt", 0)
	defTotalUsageComplete = total("total_usage_completion_tokens", "Total Usage Completion Tokens", "Total Usage Completion", 0)
	defTotalUsageTotal    = total("total_usage_total_tokens", "Total Usage Total Tokens", "Total Usage Total", 0)
	defTotalUsageReason   = total("total_usage_reasoning_tokens", "Total Usage Reasoning Tokens", "Total Usage Reasoning", 0)
	defTotalUsageCacheRd  = total("total_usage_prompt_cache_read_tokens", "Total Usage Prompt Cache Read Tokens", "Total Usage Cache Read", 0)
	defTotalUsageCacheWr  = total("total_usage_prompt_cache_write_tokens", "Total Usage Prompt Cache Write Tokens", "Total Usage Cache Write", 0)
	defCacheReadPct       = derived("overall_usage_prompt_cache_read_pct", "Overall Usage Prompt Cache Read", "Cache Read %", unitPercent, NoIndividualRecords|NoConsole, 0)
)

// scalarDefs are the aggregate and derived metrics with one value.
var scalarDefs = []*Def{&defRequestCount, &defStreamedRequestCount, &defErrorRequestCount, &defCancelledCount,
	&defGoodRequestCount, &defSessionCount, &defUsageDiscrepancies, &defOSLMismatchCount, &defBenchmarkDuration,
	&defRequestThroughput, &defSessionThroughput, &defOutputThroughput, &defInputThroughput, &defTotalThroughput,
	&defGoodput, &defGoodFraction, &defErrorRate, &defCompletedCount, &defTotalISL, &defTotalOSL, &defTotalOutputTokens,
	&defTotalReasoning, &defTotalErrorISL, &defCacheReadPct}

// adjusted are AIPerf's failure-adjusted distributions (metrics.md §8), one
// per record metric flagged FailedAdjusted (AIPerf's
// PERCENTILE_INCLUDES_FAILED_REQUESTS): the parent's values plus one +inf
// per failed request, nearest-rank percentiles. They exist only when some
// requests failed.
var adjusted = adjustedDefs()

type adjustedDef struct {
	id  int
	def Def
}

func adjustedDefs() []adjustedDef {
	var out []adjustedDef
	for id := range recordDefs {
		p := &recordDefs[id]
		if !p.Flags.Has(FailedAdjusted) {
			continue
		}
		order := 0
		if p.DisplayOrder > 0 {
			order = p.DisplayOrder + 1
		}
		out = append(out, adjustedDef{id, Def{Tag: "adj_" + p.Tag, Header: p.Header + " (error-adjusted)", ShortHeader: "Adj " + p.ShortHeader,
			BaseUnit: p.BaseUnit, Unit: p.Unit, Scale: p.Scale, Kind: results.DerivedMetric,
			Flags: (p.Flags &^ FailedAdjusted) | NoIndividualRecords, DisplayOrder: order, Group: p.Group}})
	}
	return out
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
	out := make([]Def, 0, NumRecordMetrics+64)
	out = append(out, recordDefs[:]...)
	out = append(out, iclDef)
	for _, d := range scalarDefs {
		out = append(out, *d)
	}
	for _, u := range usageTotals {
		out = append(out, *u.def)
	}
	for _, a := range adjusted {
		out = append(out, a.def)
	}
	out = append(out, sweepDefs()...)
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
// capabilities, the streaming setting and the token source (AIPerf's
// flag-based selection).
type Applicability struct {
	Streaming, ProducesTokens, TokenizesInput bool
	// ServerTokens: token counts are the server's, so there is no client
	// count to compare its usage with (no usage-difference metrics).
	ServerTokens bool
}

// Applies reports whether a metric with flags f is computed.
func (a Applicability) Applies(f Flag) bool {
	if f.Has(StreamingOnly) && !a.Streaming {
		return false
	}
	if f.Has(UsageDiffOnly) && a.ServerTokens {
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
