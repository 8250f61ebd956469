package endpoint

import (
	"math/bits"

	"github.com/loadstar/loadstar/engine/record"
)

// Token usage parsing (wire.md §10). Servers name the same counts in many
// ways; the first present (non-null) synonym wins.

var usageNames = []string{
	// prompt
	"prompt_tokens", "input_tokens", "promptTokenCount", "inputTokens", "input_token_count",
	// completion
	"completion_tokens", "output_tokens", "candidatesTokenCount", "outputTokens", "generated_token_count",
	// total
	"total_tokens", "totalTokenCount", "totalTokens",
	// reasoning
	"completion_tokens_details", "output_tokens_details", "thoughtsTokenCount",
	// cache
	"prompt_tokens_details", "input_tokens_details", "cache_read_input_tokens",
	"cache_creation_input_tokens", "cacheReadInputTokens", "cacheWriteInputTokens",
	"cachedContentTokenCount", "prompt_cache_hit_tokens",
	// envelopes
	"usageMetadata", "meta", "tokens",
}

const (
	uPrompt = iota
	uInput
	uPromptCount
	uInputTokensCamel
	uInputTokenCount
	uCompletion
	uOutput
	uCandidates
	uOutputTokensCamel
	uGenerated
	uTotal
	uTotalCount
	uTotalCamel
	uCompletionDetails
	uOutputDetails
	uThoughts
	uPromptDetails
	uInputDetails
	uCacheRead
	uCacheCreation
	uCacheReadCamel
	uCacheWriteCamel
	uCachedContent
	uCacheHit
	uEnvUsageMetadata
	uEnvMeta
	uEnvTokens
	uCount
)

// parseUsage reads one usage object (the value of a response's `usage` key)
// into a record.Usage, applying the synonyms of wire.md §10:
//
//   - prompt: prompt_tokens, input_tokens, promptTokenCount, inputTokens,
//     input_token_count; when it came from input_tokens/inputTokens, the
//     Anthropic/Bedrock cache counts (cache_read_input_tokens,
//     cache_creation_input_tokens, cacheReadInputTokens,
//     cacheWriteInputTokens) are added to it;
//   - completion: completion_tokens, output_tokens, candidatesTokenCount,
//     outputTokens, generated_token_count;
//   - total: total_tokens, totalTokenCount, totalTokens (never synthesised);
//   - reasoning: completion_tokens_details.reasoning_tokens,
//     output_tokens_details.reasoning_tokens, thoughtsTokenCount;
//   - cache reads: prompt_tokens_details.cached_tokens,
//     input_tokens_details.cached_tokens, cache_read_input_tokens,
//     cacheReadInputTokens, cachedContentTokenCount, prompt_cache_hit_tokens;
//     cache writes: cache_creation_input_tokens, cacheWriteInputTokens.
//
// The envelopes usageMetadata, meta.tokens and tokens are unwrapped when the
// object holds no count itself. ok is false when raw is not an object or
// holds no recognised count (an empty usage is ignored, as AIPerf does).
// FirstContentChunkTokens is left absent (-1).
func parseUsage(raw []byte) (u record.Usage, ok bool) {
	var m usageMembers
	if !fields(raw, usageNames, m.v[:]) {
		return record.NoUsage, false
	}
	for k, val := range m.v {
		if val != nil {
			m.set |= 1 << k
		}
	}
	return usageFrom(&m)
}

// usageMembers holds the members of one usage object by their index in
// usageNames (nil when absent); set has a bit for each one present, so
// that usageFrom's synonym look-ups visit only those.
type usageMembers struct {
	set uint32
	v   [uCount][]byte
}

var _ [32 - uCount]struct{} // usageMembers.set has a bit per name

// usageFrom is parseUsage for the members of a usage object already found
// (by index in usageNames).
func usageFrom(m *usageMembers) (u record.Usage, ok bool) {
	u = record.NoUsage
	// first takes the synonyms of one count as a mask of their bits:
	// usageNames lists each count's synonyms in the order they win, so the
	// lowest present one comes first. Only present members are looked at.
	first := func(synonyms uint32) (int64, int) {
		for g := m.set & synonyms; g != 0; g &= g - 1 {
			i := bits.TrailingZeros32(g)
			if n, ok := intValue(m.v[i]); ok {
				return n, i
			}
		}
		return -1, -1
	}
	var from int
	u.PromptTokens, from = first(1<<uPrompt | 1<<uInput | 1<<uPromptCount | 1<<uInputTokensCamel | 1<<uInputTokenCount)
	u.CompletionTokens, _ = first(1<<uCompletion | 1<<uOutput | 1<<uCandidates | 1<<uOutputTokensCamel | 1<<uGenerated)
	u.TotalTokens, _ = first(1<<uTotal | 1<<uTotalCount | 1<<uTotalCamel)
	nested := func(obj []byte, name string) int64 {
		if obj == nil {
			return -1 // most usages have no details: skip the call
		}
		return nestedInt(obj, name)
	}
	u.ReasoningTokens = nested(m.v[uCompletionDetails], "reasoning_tokens")
	if u.ReasoningTokens < 0 {
		u.ReasoningTokens = nested(m.v[uOutputDetails], "reasoning_tokens")
	}
	if u.ReasoningTokens < 0 {
		u.ReasoningTokens, _ = first(1 << uThoughts)
	}
	u.CachedTokens = nested(m.v[uPromptDetails], "cached_tokens")
	if u.CachedTokens < 0 {
		u.CachedTokens = nested(m.v[uInputDetails], "cached_tokens")
	}
	if u.CachedTokens < 0 {
		u.CachedTokens, _ = first(1<<uCacheRead | 1<<uCacheReadCamel | 1<<uCachedContent | 1<<uCacheHit)
	}
	u.CacheWriteTokens, _ = first(1<<uCacheCreation | 1<<uCacheWriteCamel)
	if from == uInput || from == uInputTokensCamel {
		for _, i := range []int{uCacheRead, uCacheCreation, uCacheReadCamel, uCacheWriteCamel} {
			if n, ok := intValue(m.v[i]); ok {
				u.PromptTokens += n
			}
		}
	}
	if u.PromptTokens >= 0 || u.CompletionTokens >= 0 || u.TotalTokens >= 0 || u.ReasoningTokens >= 0 {
		return u, true
	}
	// No count at this level: look inside the envelopes.
	if isObject(m.v[uEnvUsageMetadata]) {
		if u, ok := parseUsage(m.v[uEnvUsageMetadata]); ok {
			return u, true
		}
	}
	if t := field(m.v[uEnvMeta], "tokens"); isObject(t) {
		if u, ok := parseUsage(t); ok {
			return u, true
		}
	}
	if isObject(m.v[uEnvTokens]) {
		if u, ok := parseUsage(m.v[uEnvTokens]); ok {
			return u, true
		}
	}
	return record.NoUsage, false
}

// ResponseUsage finds the usage of a whole response object: its `usage`
// member, else a `usageMetadata` (Gemini), `meta.tokens` (Cohere) or
// `tokens` envelope, parsed with parseUsage.
func ResponseUsage(obj []byte) (record.Usage, bool) {
	var v [4][]byte
	if !fields(obj, responseUsageNames, v[:]) {
		return record.NoUsage, false
	}
	if isObject(v[0]) {
		if u, ok := parseUsage(v[0]); ok {
			return u, true
		}
	}
	if isObject(v[1]) {
		if u, ok := parseUsage(v[1]); ok {
			return u, true
		}
	}
	if t := field(v[2], "tokens"); isObject(t) {
		if u, ok := parseUsage(t); ok {
			return u, true
		}
	}
	if isObject(v[3]) {
		return parseUsage(v[3])
	}
	return record.NoUsage, false
}

var responseUsageNames = []string{"usage", "usageMetadata", "meta", "tokens"}

func nestedInt(obj []byte, name string) int64 {
	if !isObject(obj) {
		return -1
	}
	if n, ok := intValue(field(obj, name)); ok {
		return n
	}
	return -1
}

// setUsage records u as the latest usage. A usage-only response (no content
// in the same message) is appended as such; usage riding on a content
// response only updates the record, and the first such one fixes
// FirstContentChunkTokens (per-chunk usage, wire.md §10).
func setUsage(rec *record.Record, perfNs int64, u record.Usage, withContent bool) {
	u.FirstContentChunkTokens = rec.Usage.FirstContentChunkTokens
	if withContent {
		if u.FirstContentChunkTokens < 0 && u.CompletionTokens >= 0 {
			u.FirstContentChunkTokens = u.CompletionTokens
		}
		rec.Usage = u
		return
	}
	rec.AddUsage(perfNs, u)
}

// mergeUsage fills the absent counts of u from prev (Anthropic streams report
// input tokens at message_start and output tokens at message_delta).
func mergeUsage(u, prev record.Usage) record.Usage {
	fill := func(dst *int64, src int64) {
		if *dst < 0 {
			*dst = src
		}
	}
	fill(&u.PromptTokens, prev.PromptTokens)
	fill(&u.CompletionTokens, prev.CompletionTokens)
	fill(&u.TotalTokens, prev.TotalTokens)
	fill(&u.ReasoningTokens, prev.ReasoningTokens)
	fill(&u.CachedTokens, prev.CachedTokens)
	fill(&u.CacheWriteTokens, prev.CacheWriteTokens)
	return u
}
