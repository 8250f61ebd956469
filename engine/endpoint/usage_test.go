package endpoint

import (
	"fmt"
	"testing"

	"github.com/loadstar/loadstar/engine/record"
)

func TestParseUsage(t *testing.T) {
	cases := []struct {
		name, raw string
		want      record.Usage
		ok        bool
	}{
		{"openai", `{"prompt_tokens":27,"completion_tokens":8,"total_tokens":35,"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":2,"audio_tokens":0}}`,
			usage(27, 8, 35, 2, 3, -1, -1), true},
		{"responses api", `{"input_tokens":10,"input_tokens_details":{"cached_tokens":4},"output_tokens":20,"output_tokens_details":{"reasoning_tokens":5},"total_tokens":30}`,
			usage(10, 20, 30, 5, 4, -1, -1), true},
		{"anthropic cache added to input", `{"input_tokens":25,"cache_creation_input_tokens":7,"cache_read_input_tokens":5,"output_tokens":1}`,
			usage(37, 1, -1, -1, 5, 7, -1), true},
		{"bedrock camel", `{"inputTokens":100,"outputTokens":50,"totalTokens":150,"cacheReadInputTokens":20,"cacheWriteInputTokens":10}`,
			usage(130, 50, 150, -1, 20, 10, -1), true},
		{"cache not added to prompt_tokens", `{"prompt_tokens":10,"cache_read_input_tokens":5}`,
			usage(10, -1, -1, -1, 5, -1, -1), true},
		{"gemini envelope", `{"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":12,"totalTokenCount":24,"thoughtsTokenCount":4,"cachedContentTokenCount":2}}`,
			usage(8, 12, 24, 4, 2, -1, -1), true},
		{"meta.tokens envelope", `{"meta":{"tokens":{"input_tokens":9,"output_tokens":1}}}`,
			usage(9, 1, -1, -1, -1, -1, -1), true},
		{"tokens envelope", `{"tokens":{"input_token_count":4,"generated_token_count":6}}`,
			usage(4, 6, -1, -1, -1, -1, -1), true},
		{"ibm names", `{"input_token_count":4,"generated_token_count":6}`, usage(4, 6, -1, -1, -1, -1, -1), true},
		{"deepseek cache hit", `{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_cache_hit_tokens":8,"prompt_cache_miss_tokens":4}`,
			usage(12, 3, 15, -1, 8, -1, -1), true},
		{"null falls through; zero kept", `{"prompt_tokens":null,"input_tokens":0,"completion_tokens":0}`, usage(0, 0, -1, -1, -1, -1, -1), true},
		{"integral floats", `{"prompt_tokens":12.0,"completion_tokens":3e1}`, usage(12, 30, -1, -1, -1, -1, -1), true},
		{"total only", `{"total_tokens":5}`, usage(-1, -1, 5, -1, -1, -1, -1), true},
		{"empty", `{}`, record.NoUsage, false},
		{"unknown keys only", `{"timings":{"prompt_n":3}}`, record.NoUsage, false},
		{"not an object", `[1,2]`, record.NoUsage, false},
		{"null", `null`, record.NoUsage, false},
	}
	for _, c := range cases {
		got, ok := parseUsage([]byte(c.raw))
		if ok != c.ok || got != c.want {
			t.Errorf("%s: parseUsage = %+v, %v; want %+v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestResponseUsage(t *testing.T) {
	cases := []struct {
		raw  string
		want record.Usage
	}{
		{`{"usage":{"prompt_tokens":1,"completion_tokens":2}}`, usage(1, 2, -1, -1, -1, -1, -1)},
		{`{"usage":{},"usageMetadata":{"promptTokenCount":3}}`, usage(3, -1, -1, -1, -1, -1, -1)},
		{`{"results":[],"meta":{"billed_units":{"search_units":1},"tokens":{"input_tokens":12}}}`, usage(12, -1, -1, -1, -1, -1, -1)},
		{`{"tokens":[1,2,3]}`, record.NoUsage},
	}
	for _, c := range cases {
		if got, _ := ResponseUsage([]byte(c.raw)); got != c.want {
			t.Errorf("ResponseUsage(%s) = %+v; want %+v", c.raw, got, c.want)
		}
	}
}

func Example_parseUsage() {
	u, ok := parseUsage([]byte(`{"input_tokens":25,"cache_read_input_tokens":5,"output_tokens":15}`))
	fmt.Println(ok, u.PromptTokens, u.CompletionTokens, u.CachedTokens, u.TotalTokens)
	// Output: true 30 15 5 -1
}
