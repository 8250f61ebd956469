package servermetrics_test

import (
	"fmt"
	"math"

	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/servermetrics"
)

func ExampleParse() {
	snap, err := servermetrics.Parse([]byte(`# HELP vllm:generation_tokens_total Number of generation tokens processed.
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{model_name="m"} 1024.0
`))
	if err != nil {
		panic(err)
	}
	f := snap.Families[0]
	fmt.Println(f.Name, f.Type, f.Series[0].Value)
	// Output: vllm:generation_tokens counter 1024
}

func ExampleHistogramQuantile() {
	// 10 requests under 20 ms, 50 between 20 and 40 ms, 40 between 40 and 80 ms.
	buckets := []results.Bucket{{Le: 0.02, Count: 10}, {Le: 0.04, Count: 60}, {Le: 0.08, Count: 100}, {Le: math.Inf(1), Count: 100}}
	fmt.Printf("p50 ≈ %.0f ms\n", 1000*servermetrics.HistogramQuantile(0.5, buckets))
	// Output: p50 ≈ 36 ms
}
