package errext

import "testing"

func TestDidYouMean(t *testing.T) {
	metrics := []string{"time_to_first_token", "time_to_second_token", "inter_token_latency", "request_latency",
		"request_throughput", "output_token_throughput", "request_count", "goodput"}
	for _, tc := range []struct{ name, want string }{
		{"ttft", " (did you mean time_to_first_token?)"},
		{"itl", " (did you mean inter_token_latency?)"},
		{"request_latncy", " (did you mean request_latency?)"},
		{"goodptu", " (did you mean goodput?)"},
		{"latency", " (did you mean request_latency or inter_token_latency?)"},
		{"throughput", " (did you mean request_throughput or output_token_throughput?)"},
		{"banana", ""},
		{"goodput", ""}, // itself: not a suggestion
	} {
		if got := DidYouMean(tc.name, metrics); got != tc.want {
			t.Errorf("DidYouMean(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := DidYouMean("concurency", []string{"concurrency", "rate"}); got != " (did you mean concurrency?)" {
		t.Errorf("kwarg: %q", got)
	}
}
