package errext

import (
	"sort"
	"strings"
)

// DidYouMean returns " (did you mean x?)" naming the known names closest to
// name — misspelt (edit distance), abbreviated to initials ("ttft" for
// time_to_first_token) or partial ("latency") — or "" when none is close.
// Errors about unknown names append it rather than listing every name:
//
//	fmt.Errorf("unknown metric %q%s", name, errext.DidYouMean(name, tags))
func DidYouMean(name string, known []string) string {
	s := Closest(name, known, 3)
	switch len(s) {
	case 0:
		return ""
	case 1:
		return " (did you mean " + s[0] + "?)"
	}
	return " (did you mean " + strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1] + "?)"
}

// Closest returns up to n known names close to name, best first.
func Closest(name string, known []string, n int) []string {
	type scored struct {
		name  string
		score int // lower is closer
	}
	lname := strings.ToLower(name)
	var out []scored
	for _, k := range known {
		lk := strings.ToLower(k)
		if lk == lname {
			continue
		}
		score := -1
		switch d := editDistance(lname, lk); {
		case d <= max(1, len(lname)/3):
			score = d
		case len(lname) >= 2 && isInitials(lname, lk):
			score = 1
		case len(lname) >= 4 && strings.Contains(lk, lname):
			score = 2 + len(lk) - len(lname)
		}
		if score >= 0 {
			out = append(out, scored{k, score})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score < out[j].score
		}
		return out[i].name < out[j].name
	})
	var names []string
	for i := 0; i < len(out) && i < n; i++ {
		names = append(names, out[i].name)
	}
	return names
}

// isInitials reports whether abbr is the initials of the words of a
// snake_case name, with or without its short words: "ttft" and "tttft" for
// time_to_first_token, "itl" for inter_token_latency.
func isInitials(abbr, name string) bool {
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '.' || r == '-' })
	if len(words) < 2 {
		return false
	}
	var all, long strings.Builder
	for _, w := range words {
		all.WriteByte(w[0])
		if len(w) > 2 {
			long.WriteByte(w[0])
		}
	}
	return abbr == all.String() || abbr == long.String()
}

// editDistance is the optimal-string-alignment distance between a and b
// (bytes): insertions, deletions, substitutions and swaps of neighbours
// ("modle" is one edit from "model").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
