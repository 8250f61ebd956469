//go:build race

package timing

// raceEnabled: the race detector is on; it slows every goroutine down, so
// tests that count what happens within a millisecond allow for it.
const raceEnabled = true
