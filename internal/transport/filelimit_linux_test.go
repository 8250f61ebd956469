package transport

import (
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/record"
)

// A client out of file descriptors says so, with the limit and the hint,
// instead of blaming the server. The test lowers this process's soft limit
// to the descriptors already open, so the next socket cannot be created.
func TestOutOfFileDescriptors(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, _ *rawRequest) bool {
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		return true
	})
	cl := newClient(t, func(c *Config) { c.RequestTimeout = 5 * time.Second }, 0)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Skip(err)
	}
	low := old
	// The kernel refuses a descriptor numbered at or above the soft
	// limit: with 0 no socket can be created.
	low.Cur = 0
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Skip(err)
	}
	rec := do(cl, &Request{URL: srv.url("/"), Body: []byte("{}")}, &recorder{})
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	wantError(t, rec, 0, record.ErrFileLimit, "ran out of file descriptors")
	for _, want := range []string{"ulimit -n", "limit " + itoa(low.Cur)} {
		if !strings.Contains(rec.Error.Message, want) {
			t.Errorf("message %q lacks %q", rec.Error.Message, want)
		}
	}
	// Once descriptors are available again, requests go through.
	wantNoError(t, do(cl, &Request{URL: srv.url("/"), Body: []byte("{}")}, &recorder{}))
}

func itoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
