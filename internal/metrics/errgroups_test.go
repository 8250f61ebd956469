package metrics

import (
	"fmt"
	"testing"

	"github.com/loadstar/loadstar/engine/record"
)

func TestErrorGroupsMergeMessagesDifferingInNumbers(t *testing.T) {
	g := newErrorGroups()
	add := func(code int, typ, msg string) {
		g.add(&record.ErrorDetails{Code: code, Type: typ, Message: msg})
	}
	for _, n := range []int{67110000, 67113000, 67200000} {
		add(0, record.ErrTooLarge, fmt.Sprintf("response body exceeded max_response_bytes (67108864) after %d bytes read over http2", n))
	}
	add(503, "Service Unavailable", "overloaded: retry in 1.5s")
	add(503, "Service Unavailable", "overloaded: retry in 2.25s")
	add(500, "Internal Server Error", "boom")
	add(500, "Internal Server Error", "boom")
	// Same shape, other code: its own row.
	add(502, "Service Unavailable", "overloaded: retry in 1.5s")

	want := map[string]int{
		"ResponseTooLarge 0 response body exceeded max_response_bytes (67108864) after <n> bytes read over http2": 3,
		"Service Unavailable 503 overloaded: retry in <n>s":                                                       2,
		"Internal Server Error 500 boom":                                                                          2,
		"Service Unavailable 502 overloaded: retry in 1.5s":                                                       1,
	}
	rows := g.rows()
	if len(rows) != len(want) {
		t.Fatalf("rows %+v", rows)
	}
	for _, r := range rows {
		k := fmt.Sprintf("%s %d %s", r.Details.Type, r.Details.Code, r.Details.Message)
		if want[k] != r.Count {
			t.Errorf("row %q count %d, want %d", k, r.Count, want[k])
		}
	}
}

func TestErrorGroupsBounded(t *testing.T) {
	g := newErrorGroups()
	for i := 0; i < maxErrorGroups+500; i++ {
		// Letters make each shape distinct: a per-request id.
		id := string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26))
		g.add(&record.ErrorDetails{Code: 500, Type: "E", Message: "request " + id + " failed"})
	}
	rows := g.rows()
	if len(rows) != maxErrorGroups+1 {
		t.Fatalf("%d rows, want %d", len(rows), maxErrorGroups+1)
	}
	total := 0
	other := 0
	for _, r := range rows {
		total += r.Count
		if r.Details.Message == "(other messages: more than 1000 distinct errors)" {
			other = r.Count
		}
	}
	if total != maxErrorGroups+500 || other != 500 {
		t.Errorf("total %d other %d", total, other)
	}
}

func TestSplitNumbers(t *testing.T) {
	for _, tc := range []struct {
		in, shape string
		n         int
	}{
		{"no numbers", "no numbers", 0},
		{"1.5s and 3 and v1.", "\x00s and \x00 and v\x00.", 3},
		{"127.0.0.1:8080", "\x00.\x00:\x00", 3},
		{"nul\x00byte 7", "nul\x00byte 7", 0},
	} {
		shape, nums := splitNumbers(tc.in)
		if shape != tc.shape || len(nums) != tc.n {
			t.Errorf("splitNumbers(%q) = %q %q", tc.in, shape, nums)
		}
	}
	// A message holding a NUL byte rebuilds unchanged.
	g := newErrorGroups()
	g.add(&record.ErrorDetails{Message: "nul\x00byte 7"})
	g.add(&record.ErrorDetails{Message: "nul9byte 7"}) // same shape but for the NUL
	for _, r := range g.rows() {
		if r.Count != 1 || (r.Details.Message != "nul\x00byte 7" && r.Details.Message != "nul9byte 7") {
			t.Errorf("row %+v", r)
		}
	}
}

// Summaries merged (loadstar merge of shards): a row whose numbers varied
// in one shard joins the same shape's row of another.
func TestErrorGroupsMergeRows(t *testing.T) {
	a, b := newErrorGroups(), newErrorGroups()
	for _, n := range []int{10, 20} {
		a.add(&record.ErrorDetails{Code: 0, Type: "E", Message: fmt.Sprintf("read %d of 64 bytes", n)})
	}
	b.add(&record.ErrorDetails{Code: 0, Type: "E", Message: "read 30 of 64 bytes"})
	merged := newErrorGroups()
	for _, g := range []errorGroups{b, a} {
		for _, r := range g.rows() {
			merged.addCount(&r.Details, r.Count)
		}
	}
	rows := merged.rows()
	if len(rows) != 1 || rows[0].Count != 3 || rows[0].Details.Message != "read <n> of 64 bytes" {
		t.Errorf("merged %+v", rows)
	}
}
