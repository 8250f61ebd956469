package clock

import "runtime"

// spinYield gives the processor away briefly while busy-waiting, so a spinning
// sender does not starve the goroutines that read responses.
func spinYield() { runtime.Gosched() }
