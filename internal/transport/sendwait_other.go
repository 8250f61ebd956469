//go:build !unix

package transport

import "net"

// sendWait writes a request; only on Unix does it also wait for the answer
// (see sendwait_unix.go).
type sendWait struct {
	nc  net.Conn
	now func() int64
}

func (s *sendWait) init(nc net.Conn, now func() int64) { s.nc, s.now = nc, now }

func (s *sendWait) write(b []byte, _ bool) (int, int64, error) {
	n, err := s.nc.Write(b)
	return n, s.now(), err
}
