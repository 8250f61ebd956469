package runner

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and kernel) the process has used.
func processCPU() time.Duration {
	self, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0
	}
	var creation, exit, kernel, user syscall.Filetime
	if err := syscall.GetProcessTimes(self, &creation, &exit, &kernel, &user); err != nil {
		return 0
	}
	// A Filetime holding a duration counts 100 ns intervals (its
	// Nanoseconds method is for instants: it subtracts the epoch).
	ticks := func(ft syscall.Filetime) int64 { return int64(ft.HighDateTime)<<32 | int64(ft.LowDateTime) }
	return time.Duration((ticks(kernel) + ticks(user)) * 100)
}
