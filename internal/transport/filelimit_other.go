//go:build !unix

package transport

// FileLimit reports that the open-file limit is not known on this system.
func FileLimit() (n uint64, ok bool) { return 0, false }
