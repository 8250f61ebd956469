package timing

import (
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// timerfds sleeps on Linux timerfds read through the netpoller. A sleep
// borrows one from a small free list, so concurrent sleepers each have
// their own.
type timerfds struct {
	mu   sync.Mutex
	free []*timerfd
}

// timerfd keeps the descriptor number beside its File: File.Fd would switch
// the descriptor to blocking mode and out of the netpoller.
type timerfd struct {
	f  *os.File
	fd int
}

// maxIdleTimerfds bounds the timerfds kept open between sleeps.
const maxIdleTimerfds = 64

func newFineSleeper() fineSleeper {
	t := &timerfds{}
	f, err := t.open()
	if err != nil {
		return nil // no timerfd (e.g. a sandbox forbids it): spin instead
	}
	t.put(f)
	return t
}

func (t *timerfds) open() (*timerfd, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	// A non-blocking descriptor becomes a pollable os.File: reads park the
	// goroutine in the netpoller rather than block a thread.
	return &timerfd{f: os.NewFile(uintptr(fd), "timerfd"), fd: fd}, nil
}

func (t *timerfds) get() *timerfd {
	t.mu.Lock()
	if n := len(t.free); n > 0 {
		f := t.free[n-1]
		t.free = t.free[:n-1]
		t.mu.Unlock()
		return f
	}
	t.mu.Unlock()
	f, _ := t.open()
	return f
}

func (t *timerfds) put(tf *timerfd) {
	t.mu.Lock()
	if len(t.free) < maxIdleTimerfds {
		t.free = append(t.free, tf)
		tf = nil
	}
	t.mu.Unlock()
	if tf != nil {
		tf.f.Close()
	}
}

// sleep waits about d: until the timerfd fires (woken by the netpoller, to
// the microsecond when the process idles) or the read deadline passes (a
// runtime timer, prompt when the process is busy), whichever comes first.
// Waking early is harmless: SleepUntil checks the time and waits again.
func (t *timerfds) sleep(d time.Duration) {
	tf := t.get()
	if tf == nil {
		time.Sleep(d)
		return
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(tf.fd, 0, &spec, nil); err != nil {
		t.put(tf)
		time.Sleep(d)
		return
	}
	_ = tf.f.SetReadDeadline(time.Now().Add(d))
	var buf [8]byte
	_, _ = tf.f.Read(buf[:]) // the expiration count, or a deadline error
	t.put(tf)
}
