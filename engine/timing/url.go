package timing

import "sync/atomic"

// URLSelector picks the server URL of each new session when a benchmark has
// several; every turn of the session then goes to the same URL (wire.md §2).
// URL selectors are plugins of category `url_selection_strategy`.
type URLSelector interface {
	// Select returns the index (0 <= i < n) of the URL for a new session.
	// It is called under a lock, once per session.
	Select(n int) int
}

// RoundRobin cycles through the URLs in order, one session each.
type RoundRobin struct{ next atomic.Uint64 }

// Select implements URLSelector.
func (r *RoundRobin) Select(n int) int {
	if n <= 1 {
		return 0
	}
	return int((r.next.Add(1) - 1) % uint64(n))
}

func (r *RoundRobin) String() string { return "url_selection.round_robin()" }
