package results

import (
	"math"
	"strconv"
	"strings"
)

// Num formats v as every loadstar report prints a measured number: two
// decimals with thousands separators (Python's f"{v:,.2f}", AIPerf's
// console), "N/A" when absent. The console tables and the verdict's
// sentences share it, so a figure reads the same wherever it appears.
//
//	Num(1234.5678) == "1,234.57"
func Num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "N/A"
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', 2, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if v < 0 && s != "0.00" {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String() + "." + frac
}

// Count formats a whole number with thousands separators: Count(12345) ==
// "12,345".
func Count(n int64) string { return strings.TrimSuffix(Num(float64(n)), ".00") }

// Setting formats a number the user set (a target rate, a limit) without
// trailing zeros: Setting(10) == "10", Setting(2.5) == "2.5".
func Setting(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(Num(v), "0"), ".")
}
