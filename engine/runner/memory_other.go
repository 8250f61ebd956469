//go:build !linux

package runner

// availableMemory is unknown here: only the file limit is checked.
func availableMemory() uint64 { return 0 }
