// Package metrics turns a step's records into its results: AIPerf's record
// metrics with their exact definitions, units and applicability flags
// (metrics.md §4), aggregates and derived metrics (§5), AIPerf's statistics
// (§6), goodput against SLOs (§7), time slices (§10), and loadstar's
// LoadGen-grade additions (§13): issue delay, schedule-corrected latency and
// TTFT (scheduled_request_latency, scheduled_time_to_first_token, measured
// from when the plan wanted the request sent, like wrk2's corrected
// latency), achieved versus scheduled rate and a validity verdict.
//
// # Using it
//
// The runner builds a Pipeline per step, adds each finished record and
// finishes it once. The pipeline computes; it writes nothing: record sinks
// that the caller constructs (internal/outputs' artifact streams) receive
// each record with its metrics, and the caller renders the Summary.
//
//	p, err := metrics.NewPipeline(cfg, rt, metrics.Setup{
//		Endpoint: meta, EndpointType: "chat", Streaming: true, Tokenizer: tok, Logger: log,
//		Sinks: []metrics.RecordSink{jsonl},
//	})
//	for rec := range records {
//		p.Add(rec)                   // one goroutine; the pipeline owns rec
//	}
//	sum, err := p.Finish(ctx, info)  // the Summary
//
// Finish still summarizes everything measured when info.WasCancelled is
// set (Ctrl-C), and when every request failed. Check runs NewPipeline's
// validation alone, when a step is planned.
//
// # Rules worth knowing
//
//   - A metric that cannot be computed for a record is absent, never 0:
//     Values holds NaN. Error records yield only error_isl (and the issue
//     delay); records invalid by AIPerf's rule become error records.
//   - Token counts come from the server's usage when the plan asks
//     (server_token_count) and from the client tokenizer otherwise; ISL is
//     the composer's count when it knew it, else the tokens of the texts in
//     the wire payload (payloadText). Summary.TokenSource says which.
//   - Statistics: linear-interpolation percentiles over all values (numpy's
//     default), population std. Values are kept exactly up to
//     config.Runtime.ExactStatsLimit per metric (DefaultExactStatsLimit =
//     5 M); beyond it percentiles come from HDR histograms (3 significant
//     digits) and Stats.Approx/Precision say so. Records are dropped once
//     processed: per request the pipeline keeps a few integers (int64
//     latencies, int32 token counts) from which every metric is re-derived.
//   - Warmup records reach the sinks (exported with benchmark_phase
//     "warmup") but are excluded from every metric.
package metrics
