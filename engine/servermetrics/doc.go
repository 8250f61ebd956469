// Package servermetrics scrapes the Prometheus endpoints of inference
// servers (and NVIDIA DCGM exporters for GPU telemetry) while a benchmark
// step runs, and joins what the server says to what the client measured.
//
// A Collector scrapes every endpoint on its own goroutine, every 333 ms by
// default (AIPerf's interval), with its own HTTP client, a timeout, a body
// size cap and a cap on series, so scraping never sits on the request path.
// BeginWindow and EndWindow scrape at the edges of the profiling phase, so
// the increases it reports are those of the phase to the token:
//
//	c := servermetrics.Start(ctx, servermetrics.Config{
//		Server: []string{"http://127.0.0.1:8000/metrics"},
//		GPU:    []string{"http://127.0.0.1:9400/metrics"},
//	})
//	c.BeginWindow()
//	// ... the profiling phase ...
//	c.EndWindow()
//	sm := c.Stop() // *results.ServerMetrics
//	sm.Reconciliation = servermetrics.Reconcile(clientSummary, sm, 0)
//
// Counters become increases and rates over the window, gauges statistics of
// their samples, histograms the server's own distribution of the window
// (bucket increases, percentiles interpolated as Prometheus'
// histogram_quantile does). Views name the figures that matter (KV-cache
// usage, requests waiting, preemptions, the server's TTFT, ...) and where
// vLLM, SGLang, TensorRT-LLM, TGI, llama.cpp, Dynamo and DCGM report each;
// every other metric is kept raw. An endpoint that is down, slow or answers
// something else becomes a warning in the results and never disturbs the
// load: one that never answered with metrics is dropped after one try, one
// that fails later is retried with backoff.
//
// docs/server-metrics.md lists every named figure and its source metrics.
package servermetrics
