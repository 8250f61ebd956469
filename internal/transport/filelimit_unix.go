//go:build unix

package transport

import "syscall"

// FileLimit returns the process's limits on open file descriptors
// (RLIMIT_NOFILE: soft, which Go raises to the hard one at start-up, and
// hard, the most `ulimit -n` can set without privileges); ok is false when
// they are unknown. Every connection takes one.
func FileLimit() (soft, hard uint64, ok bool) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, 0, false
	}
	return l.Cur, l.Max, true
}
