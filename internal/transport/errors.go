package transport

import (
	"errors"
	"syscall"
)

// isPeerClosed reports errors meaning the server closed or reset the
// connection.
func isPeerClosed(err error) bool {
	return err != nil && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED))
}
