//go:build unix

package transport

import "syscall"

// FileLimit returns the process's limit on open file descriptors
// (RLIMIT_NOFILE, soft; Go raises it to the hard limit at start-up); ok is
// false when it is unknown. Every connection takes one.
func FileLimit() (n uint64, ok bool) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, false
	}
	return l.Cur, true
}
