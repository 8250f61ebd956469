//go:build linux

package transport

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// buffered reports how many bytes the kernel holds for c to read, without
// reading them.
func buffered(t *testing.T, c net.Conn) int {
	t.Helper()
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var buf [64]byte
	_ = rc.Read(func(fd uintptr) bool {
		n, _, _ = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true
	})
	return max(n, 0) // -1: nothing (EAGAIN)
}

func newSendWait(t *testing.T, c net.Conn) *sendWait {
	t.Helper()
	var s sendWait
	s.init(c, func() int64 { return time.Now().UnixNano() })
	if s.raw == nil {
		t.Fatal("a TCP connection should give sendWait its file descriptor")
	}
	return &s
}

// The write returns once the answer can be read, however late or soon it
// comes: an answer sent at once (before the wait could begin) is not lost,
// which is what arming the poller before the write is for.
func TestSendWaitReturnsWhenTheAnswerIsThere(t *testing.T) {
	client, server := dialPair(t)
	sw := newSendWait(t, client)
	_ = client.SetDeadline(time.Now().Add(10 * time.Second))
	go func() {
		buf := make([]byte, 64)
		for i := 0; ; i++ {
			n, err := io.ReadFull(server, buf[:4])
			if err != nil || n != 4 {
				return
			}
			if i == 0 {
				time.Sleep(50 * time.Millisecond) // one late answer
			}
			if _, err := server.Write([]byte("pong")); err != nil {
				return
			}
		}
	}()
	got := make([]byte, 4)
	for i := 0; i < 2000; i++ {
		start := time.Now()
		n, ns, err := sw.write([]byte("ping"), true)
		if err != nil || n != 4 {
			t.Fatalf("request %d: wrote %d bytes, err %v", i, n, err)
		}
		if ns < start.UnixNano() {
			t.Fatalf("request %d: write stamped %d, before it began (%d)", i, ns, start.UnixNano())
		}
		if waited := time.Since(start); i == 0 && waited < 40*time.Millisecond {
			t.Fatalf("the first write returned after %s, before the late answer came", waited)
		}
		if b := buffered(t, client); b == 0 {
			t.Fatalf("request %d: the write returned with no answer to read", i)
		}
		if _, err := io.ReadFull(client, got); err != nil || string(got) != "pong" {
			t.Fatalf("request %d: read %q, %v", i, got, err)
		}
	}
}

// Without wait, the write returns as soon as the bytes are written.
func TestSendWaitWithoutWaiting(t *testing.T) {
	client, server := dialPair(t)
	sw := newSendWait(t, client)
	n, _, err := sw.write([]byte("ping"), false)
	if err != nil || n != 4 {
		t.Fatalf("wrote %d, %v", n, err)
	}
	if b := buffered(t, client); b != 0 {
		t.Fatalf("%d bytes to read before the server answered", b)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(server, got); err != nil || string(got) != "ping" {
		t.Fatalf("server read %q, %v", got, err)
	}
}

// A request larger than the socket's buffer is written whole: the part
// that does not fit waits for room on the connection's own Write.
func TestSendWaitWritesMoreThanTheSocketHolds(t *testing.T) {
	client, server := dialPair(t)
	_ = client.(*net.TCPConn).SetWriteBuffer(4 << 10)
	sw := newSendWait(t, client)
	_ = client.SetDeadline(time.Now().Add(10 * time.Second))
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	received := make(chan []byte, 1)
	go func() {
		time.Sleep(20 * time.Millisecond) // let the client fill the buffer
		buf := make([]byte, len(big))
		_, _ = io.ReadFull(server, buf)
		_, _ = server.Write([]byte("done"))
		received <- buf
	}()
	n, _, err := sw.write(big, true)
	if err != nil || n != len(big) {
		t.Fatalf("wrote %d of %d bytes, %v", n, len(big), err)
	}
	if got := <-received; !bytes.Equal(got, big) {
		t.Fatal("the server received other bytes than were written")
	}
	if b := buffered(t, client); b != 4 {
		t.Fatalf("after the write, %d bytes to read; want the 4 of the answer", b)
	}
}

// A write to a connection the server reset fails as net.Conn's would: a
// *net.OpError the transport recognises as the peer's close.
func TestSendWaitReportsThePeersClose(t *testing.T) {
	client, server := dialPair(t)
	sw := newSendWait(t, client)
	_ = server.(*net.TCPConn).SetLinger(0) // close with RST
	server.Close()
	time.Sleep(20 * time.Millisecond)
	_ = client.SetDeadline(time.Now().Add(5 * time.Second))
	var err error
	for i := 0; i < 3 && err == nil; i++ { // the first write may still be accepted
		_, _, err = sw.write([]byte("ping"), true)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "write" || !isPeerClosed(err) {
		t.Fatalf("err = %#v, want a write *net.OpError for a reset connection", err)
	}
}

// A connection whose deadline has passed is not written to: the error is
// the ordinary write's timeout.
func TestSendWaitAfterTheDeadline(t *testing.T) {
	client, server := dialPair(t)
	sw := newSendWait(t, client)
	_ = client.SetDeadline(aLongTimeAgo)
	n, _, err := sw.write([]byte("ping"), true)
	if n != 0 || !isTimeout(err) {
		t.Fatalf("wrote %d, err %v; want nothing written and a timeout", n, err)
	}
	_ = server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if m, _ := server.Read(make([]byte, 4)); m != 0 {
		t.Fatalf("the server received %d bytes", m)
	}
}

// A wait ends at the connection's deadline when no answer comes; the read
// that follows reports the timeout.
func TestSendWaitEndsAtTheDeadline(t *testing.T) {
	client, _ := dialPair(t)
	sw := newSendWait(t, client)
	_ = client.SetDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	n, _, err := sw.write([]byte("ping"), true)
	if err != nil || n != 4 {
		t.Fatalf("wrote %d, %v", n, err)
	}
	if d := time.Since(start); d < 40*time.Millisecond || d > 5*time.Second {
		t.Fatalf("the wait took %s; want it to end at the 50 ms deadline", d)
	}
	if _, err := client.Read(make([]byte, 4)); !isTimeout(err) {
		t.Fatalf("read after the wait: %v, want a timeout", err)
	}
}
