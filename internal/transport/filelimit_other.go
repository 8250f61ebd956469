//go:build !unix

package transport

// FileLimit reports that the open-file limits are not known on this system.
func FileLimit() (soft, hard uint64, ok bool) { return 0, 0, false }
