package transport

import (
	"crypto/tls"
	"net"
	"syscall"
)

// alive reports whether an idle connection is still open: a non-blocking
// peek sees the server's FIN (or unexpected bytes, e.g. a TLS close alert)
// that arrived while the connection sat in the pool.
func alive(nc net.Conn) bool {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var buf [1]byte
	ok = true
	err = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == syscall.EAGAIN || err == syscall.EINTR:
			ok = true // nothing to read: open and idle
		case err != nil || n == 0 || n > 0:
			ok = false // error, EOF, or bytes nobody asked for
		}
		return true // never wait
	})
	return ok && err == nil
}
