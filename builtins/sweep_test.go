package builtins

import (
	"reflect"
	"testing"

	"go.starlark.net/starlark"

	"github.com/loadstar/loadstar/engine/catalog"
)

// Plugins swept whole are named by what differs between them, so step
// folders read concurrency_8, not timing_timing.concurrency_concurrency_8.
func TestSpecLabels(t *testing.T) {
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		`[timing.concurrency(concurrency = 1), timing.concurrency(concurrency = 8)]`:                                                 {"concurrency_1", "concurrency_8"},
		`[timing.request_rate(rate = 5, arrival = arrival.poisson()), timing.request_rate(rate = 2.5, arrival = arrival.poisson())]`: {"rate_5", "rate_2.5"},
		`[timing.concurrency(concurrency = 4), timing.request_rate(rate = 5)]`:                                                       {"concurrency-concurrency_4", "request_rate-rate_5"},
		`[dataset.synthetic(isl = 128, osl = 64), dataset.synthetic(isl = 512, osl = 64)]`:                                           {"isl_128", "isl_512"},
		`[timing.concurrency(concurrency = 4), 5]`:                                                                                   nil,
	}
	for expr, want := range cases {
		list := eval(t, reg, expr).(*starlark.List)
		var values []starlark.Value
		for i := 0; i < list.Len(); i++ {
			values = append(values, list.Index(i))
		}
		if got := specLabels(values); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: labels %q, want %q", expr, got, want)
		}
	}
}
