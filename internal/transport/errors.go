package transport

import (
	"errors"
	"fmt"
	"syscall"
)

// isPeerClosed reports errors meaning the server closed or reset the
// connection.
func isPeerClosed(err error) bool {
	return err != nil && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED))
}

// isOutOfFiles reports a failure to open a socket because this process
// (EMFILE) or the system (ENFILE) has no file descriptor left: the client's
// limit, not the server's.
func isOutOfFiles(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// outOfFilesMessage says which limit ran out and how to raise it.
func outOfFilesMessage(addr string) string {
	limit := "unknown"
	if n, _, ok := FileLimit(); ok {
		limit = fmt.Sprint(n)
	}
	return fmt.Sprintf("cannot connect to %s: loadstar ran out of file descriptors (too many open files; limit %s): raise the limit with `ulimit -n` or lower the load's concurrency", addr, limit)
}
