package metrics

import (
	"strings"

	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/results"
)

// maxErrorGroups bounds the distinct (code, type, message shape) groups
// kept; further distinct shapes are counted under one "other" group per
// code and type, so a server that puts request ids in its errors cannot
// grow memory without bound.
const maxErrorGroups = 1000

// variedNumber replaces, in a group's message, a number that differed
// between the messages grouped.
const variedNumber = "<n>"

// errorShape is the grouping key of an error: messages that differ only in
// their numbers (byte counts, offsets, durations, ports) have one shape, so
// "body exceeded 67108864 bytes after 67110000" and "... after 67113000"
// make one error-summary row instead of one row per response.
type errorShape struct {
	code  int
	typ   string
	shape string // the message with every number replaced by \x00
	// literal: shape is the message itself (it holds a NUL byte), so that
	// it never meets a shape with a number in that place.
	literal bool
}

// errorGroup is one row of the error summary: the first message of its
// shape, which of its numbers varied, and how many errors it counts.
type errorGroup struct {
	first  record.ErrorDetails
	nums   []string // the first message's numbers, in order
	varied []bool
	count  int
}

// errorGroups counts errors by shape.
type errorGroups struct {
	groups map[errorShape]*errorGroup
}

func newErrorGroups() errorGroups { return errorGroups{groups: map[errorShape]*errorGroup{}} }

// add counts one error.
func (e *errorGroups) add(d *record.ErrorDetails) { e.addCount(d, 1) }

// addCount counts n errors of d: one, or a row of another summary (a
// shard's, whose message may show varied numbers as <n>).
func (e *errorGroups) addCount(d *record.ErrorDetails, n int) {
	shape, nums := splitNumbers(d.Message)
	key := errorShape{code: d.Code, typ: d.Type, shape: shape, literal: nums == nil && shape != "" && strings.IndexByte(shape, 0) >= 0}
	g, ok := e.groups[key]
	if !ok && len(e.groups) >= maxErrorGroups {
		key.shape = "(other messages: more than 1000 distinct errors)"
		g, ok = e.groups[key]
		nums = nil
		d = &record.ErrorDetails{Code: d.Code, Type: d.Type, Message: key.shape}
	}
	if !ok {
		g = &errorGroup{first: record.ErrorDetails{Code: d.Code, Type: d.Type, Message: d.Message},
			nums: nums, varied: make([]bool, len(nums))}
		e.groups[key] = g
	}
	for i, n := range nums {
		if n != g.nums[i] {
			g.varied[i] = true
		}
	}
	g.count += n
}

// rows returns the error summary, largest groups first; a message whose
// numbers varied shows them as <n>.
func (e *errorGroups) rows() []results.ErrorGroup {
	out := make([]results.ErrorGroup, 0, len(e.groups))
	for key, g := range e.groups {
		d := g.first
		d.Message = g.message(key.shape)
		out = append(out, results.ErrorGroup{Details: d, Count: g.count})
	}
	return out
}

// message rebuilds the group's message from its shape: the first message's
// numbers, those that varied as <n>.
func (g *errorGroup) message(shape string) string {
	if len(g.nums) == 0 {
		return g.first.Message
	}
	var b strings.Builder
	i := 0
	for _, part := range strings.SplitAfter(shape, "\x00") {
		if !strings.HasSuffix(part, "\x00") {
			b.WriteString(part)
			continue
		}
		b.WriteString(part[:len(part)-1])
		if g.varied[i] {
			b.WriteString(variedNumber)
		} else {
			b.WriteString(g.nums[i])
		}
		i++
	}
	return b.String()
}

// splitNumbers returns msg with each number (digits, optionally with one
// decimal part: 12, 3.5; or <n>, a number that varied in a summary being
// merged) replaced by \x00, and the numbers in order; a message holding a
// NUL byte is its own shape.
// Digits inside a word (http2, o200k_base) count too: a number shows
// verbatim unless it varied within its group.
func splitNumbers(msg string) (string, []string) {
	first := strings.IndexAny(msg, "0123456789")
	if v := strings.Index(msg, variedNumber); v >= 0 && (first < 0 || v < first) {
		first = v
	}
	if first < 0 || strings.IndexByte(msg, 0) >= 0 { // a NUL byte would read as a number's place
		return msg, nil
	}
	var b strings.Builder
	b.Grow(len(msg))
	b.WriteString(msg[:first])
	var nums []string
	for i := first; i < len(msg); {
		c := msg[i]
		if strings.HasPrefix(msg[i:], variedNumber) {
			nums = append(nums, variedNumber)
			b.WriteByte(0)
			i += len(variedNumber)
			continue
		}
		if !isDigit(c) {
			b.WriteByte(c)
			i++
			continue
		}
		j := i
		for j < len(msg) && isDigit(msg[j]) {
			j++
		}
		if j+1 < len(msg) && msg[j] == '.' && isDigit(msg[j+1]) {
			j++
			for j < len(msg) && isDigit(msg[j]) {
				j++
			}
		}
		nums = append(nums, msg[i:j])
		b.WriteByte(0)
		i = j
	}
	return b.String(), nums
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
