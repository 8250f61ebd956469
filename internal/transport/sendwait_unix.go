//go:build unix

package transport

import (
	"net"
	"os"
	"syscall"
)

// sendWait writes a request and then parks until the answer's first bytes
// can be read, without the read(2) that would find none.
//
// A net.Conn read right after the write nearly always comes too early on a
// fast server: it returns EAGAIN, parks, and reads again when the poller
// wakes it — two system calls for one answer, each about a microsecond on a
// virtual machine. Parking first is only safe when the poller was armed
// before the write: Go forgets a readiness signal that arrived before a
// read began (internal/poll's prepareRead), so the answer to a request
// written outside the wait could come and go unseen, leaving the wait to
// its deadline. syscall.RawConn.Read arms the poller and then calls back,
// so the write happens inside that call, and the wait that follows sees any
// answer however soon it comes. The read itself stays the connection's
// ordinary Read, whose first call then finds the bytes there.
type sendWait struct {
	raw         syscall.RawConn // nil when the connection has no file descriptor (TLS)
	nc          net.Conn
	fn          func(fd uintptr) bool // step, bound once: no allocation per request
	now         func() int64
	buf         []byte
	n           int
	err         error
	ns          int64 // clock reading right after the whole request was written
	tried, wait bool
}

func (s *sendWait) init(nc net.Conn, now func() int64) {
	s.nc, s.now = nc, now
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			s.raw = rc
			s.fn = s.step
		}
	}
}

// write sends b and, when wait is set and the write succeeded, returns once
// the connection is readable, its deadline passed, or it was closed (the
// read that follows reports those). It returns the bytes written, the write
// clock reading taken when the write ended, and the write's error.
func (s *sendWait) write(b []byte, wait bool) (int, int64, error) {
	if s.raw == nil {
		n, err := s.nc.Write(b)
		return n, s.now(), err
	}
	s.buf, s.n, s.err, s.tried, s.wait = b, 0, nil, false, wait
	_ = s.raw.Read(s.fn) // a wait that ends in an error leaves it to the read
	s.buf = nil
	if !s.tried {
		// The connection refused to start a read (closed, or its deadline
		// already passed): the ordinary write reports why.
		n, err := s.nc.Write(b)
		return n, s.now(), err
	}
	return s.n, s.ns, s.err
}

// step is the RawConn.Read callback: the first call writes and asks to
// wait; the call after the wake-up ends the wait.
func (s *sendWait) step(fd uintptr) bool {
	if s.tried {
		return true
	}
	s.tried = true
	for s.n < len(s.buf) && s.err == nil {
		n, err := syscall.Write(int(fd), s.buf[s.n:])
		s.n += max(n, 0)
		switch err {
		case nil, syscall.EINTR:
		case syscall.EAGAIN:
			// The socket's buffer is full: the connection's own Write
			// waits for room (its lock is not the one held here).
			m, werr := s.nc.Write(s.buf[s.n:])
			s.n += m
			s.err = werr
		default:
			s.err = &net.OpError{Op: "write", Net: s.nc.LocalAddr().Network(), Source: s.nc.LocalAddr(), Addr: s.nc.RemoteAddr(), Err: os.NewSyscallError("write", err)}
		}
	}
	s.ns = s.now()
	return s.err != nil || !s.wait
}
