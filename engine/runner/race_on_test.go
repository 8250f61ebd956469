//go:build race

package runner

// raceEnabled: the race detector is on; its sync.Pool drops a quarter of
// what is put back, so allocation counts mean nothing.
const raceEnabled = true
