package metrics

import (
	"fmt"
	"math"
	"strconv"

	"github.com/loadstar/loadstar/engine/results"
)

// Thresholds are AIPerf's result-warning thresholds, with its environment
// variable names and defaults (src/aiperf/metrics/types/usage_diff_metrics.py
// and osl_mismatch_metrics.py):
// a request's token counts disagree when a usage difference exceeds
// UsagePctDiff %; its output length mismatches when |OSL − requested|
// exceeds min(requested · OSLMismatchPct %, OSLMismatchMaxTokens).
type Thresholds struct {
	UsagePctDiff         float64 // AIPERF_METRICS_USAGE_PCT_DIFF_THRESHOLD, default 10
	OSLMismatchPct       float64 // AIPERF_METRICS_OSL_MISMATCH_PCT_THRESHOLD, default 5
	OSLMismatchMaxTokens float64 // AIPERF_METRICS_OSL_MISMATCH_MAX_TOKEN_THRESHOLD, default 50
}

// DefaultThresholds returns AIPerf's defaults.
func DefaultThresholds() Thresholds {
	return Thresholds{UsagePctDiff: 10, OSLMismatchPct: 5, OSLMismatchMaxTokens: 50}
}

// ThresholdsFromEnv returns the defaults overridden by AIPerf's
// environment variables, read with getenv (os.Getenv); a value that is not
// a non-negative number is an error naming the variable.
func ThresholdsFromEnv(getenv func(string) string) (Thresholds, error) {
	t := DefaultThresholds()
	for _, v := range []struct {
		name string
		dst  *float64
	}{
		{"AIPERF_METRICS_USAGE_PCT_DIFF_THRESHOLD", &t.UsagePctDiff},
		{"AIPERF_METRICS_OSL_MISMATCH_PCT_THRESHOLD", &t.OSLMismatchPct},
		{"AIPERF_METRICS_OSL_MISMATCH_MAX_TOKEN_THRESHOLD", &t.OSLMismatchMaxTokens},
	} {
		s := getenv(v.name)
		if s == "" {
			continue
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 || math.IsInf(f, 0) {
			return t, fmt.Errorf("%s=%q: want a number >= 0", v.name, s)
		}
		*v.dst = f
	}
	return t, nil
}

// usageDiscrepancy reports whether any of a record's usage differences
// exceeds the threshold (AIPerf's usage_discrepancy_count).
func (t Thresholds) usageDiscrepancy(v *[NumRecordMetrics]float64) bool {
	for _, id := range []int{UsagePromptDiff, UsageCompletionDiff, UsageReasoningDiff} {
		if x := v[id]; x > t.UsagePctDiff { // NaN compares false
			return true
		}
	}
	return false
}

// oslMismatch reports whether a record's output length differs from the
// requested one by more than the threshold (AIPerf's osl_mismatch_count).
func (t Thresholds) oslMismatch(b *base) bool {
	if b.requested <= 0 {
		return false
	}
	actual := osl(b)
	if math.IsNaN(actual) {
		return false
	}
	req := float64(b.requested)
	return math.Abs(actual-req) > min(req*t.OSLMismatchPct/100, t.OSLMismatchMaxTokens)
}

// warnings are AIPerf's two result warnings (its console panels "Token
// Count Discrepancy Warning" and "Output Sequence Length Mismatch
// Warning"), in words, when their counts are positive.
func (t Thresholds) warnings(valid, discrepancies, mismatches int64, oslDiff *results.Stats) []string {
	if valid == 0 {
		return nil
	}
	var w []string
	pct := func(n int64) float64 { return 100 * float64(n) / float64(valid) }
	if discrepancies > 0 {
		w = append(w, fmt.Sprintf("Token count discrepancy: %s of %s requests (%.1f%%) show a difference exceeding %g%% "+
			"between the server's usage tokens and the client's token counts. Check that the client tokenizer matches the model's "+
			"(usage_*_diff_pct per request in profile_export.jsonl), or count with the server's usage (server_token_count = True); "+
			"threshold: AIPERF_METRICS_USAGE_PCT_DIFF_THRESHOLD=%g.", results.Count(discrepancies), results.Count(valid), pct(discrepancies), t.UsagePctDiff, t.UsagePctDiff))
	}
	if mismatches > 0 {
		avg := "N/A"
		if oslDiff != nil {
			avg = fmt.Sprintf("%.1f%%", oslDiff.Avg)
		}
		w = append(w, fmt.Sprintf("Output sequence length mismatch: %s of %s requests (%.1f%%) have an output length differing from "+
			"the requested one by more than min(requested × %g%%, %g) tokens; average mismatch %s. The server stopped at an EOS "+
			"token before the requested length: ask it to ignore EOS (extra ignore_eos: true, or min_tokens) for vLLM, TensorRT-LLM "+
			"and SGLang (osl_mismatch_diff_pct per request in profile_export.jsonl; thresholds: AIPERF_METRICS_OSL_MISMATCH_PCT_THRESHOLD=%g, "+
			"AIPERF_METRICS_OSL_MISMATCH_MAX_TOKEN_THRESHOLD=%g).", results.Count(mismatches), results.Count(valid), pct(mismatches), t.OSLMismatchPct, t.OSLMismatchMaxTokens,
			avg, t.OSLMismatchPct, t.OSLMismatchMaxTokens))
	}
	return w
}
