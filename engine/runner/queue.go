package runner

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/loadstar/loadstar/engine/record"
)

// recordQueue hands finished records from the senders to the one goroutine
// that feeds the collector. Push never blocks a sender beyond a short lock:
// the queue grows instead, and its peak depth is reported when the metrics
// side falls behind. Records the consumer is done with come back through
// recycle, so a long run allocates records only for its peak in flight.
//
// The consumer takes records in batches: woken by the first record, it
// lingers (up to lingerFor, or until lingerMax records wait) so that one
// wake-up of the metrics side serves many records. A wake-up per record
// cost more of the client's CPU than the record's metrics.
type recordQueue struct {
	mu     sync.Mutex
	q      []*record.Record
	spare  []*record.Record // the consumer's drained buffer, swapped back
	free   []*record.Record
	wake   chan struct{}
	closed bool
	peak   int
	// skip makes drain hand records back unprocessed (closeWithin);
	// skipped counts them.
	skip    atomic.Bool
	skipped atomic.Int64
}

const (
	// lingerFor is how long the consumer lets records gather once one
	// arrived: the metrics side is off the timing path, and live views
	// lag it by as much.
	lingerFor = time.Millisecond
	// lingerMax ends the lingering early: this many records wait.
	lingerMax = 256
	// feedLen is the most records handed over at once, so that an
	// interrupted run's cut-off (closeWithin) takes effect between
	// handovers.
	feedLen = 32
)

func newRecordQueue() *recordQueue { return &recordQueue{wake: make(chan struct{}, 1)} }

// get returns an empty record, reused when possible.
func (q *recordQueue) get() *record.Record {
	q.mu.Lock()
	if n := len(q.free); n > 0 {
		r := q.free[n-1]
		q.free = q.free[:n-1]
		q.mu.Unlock()
		r.Reset()
		return r
	}
	q.mu.Unlock()
	return record.New()
}

// push hands a finished record to the consumer.
func (q *recordQueue) push(r *record.Record) {
	q.mu.Lock()
	q.q = append(q.q, r)
	n := len(q.q)
	if n > q.peak {
		q.peak = n
	}
	q.mu.Unlock()
	// The consumer waits for the first record, then lingers for more.
	if n == 1 || n == lingerMax {
		q.signal()
	}
}

func (q *recordQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// close ends the stream once the queue is drained.
func (q *recordQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// drain hands every record, in order and in batches, to fn until the queue
// is closed and empty. fn takes ownership of the records, not of the slice
// (see recycle).
func (q *recordQueue) drain(fn func([]*record.Record)) {
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		q.mu.Lock()
		batch := q.q
		q.q, q.spare = q.spare[:0], nil
		closed := q.closed
		q.mu.Unlock()
		for rest := batch; len(rest) > 0; {
			n := min(len(rest), feedLen)
			if q.skip.Load() {
				q.skipped.Add(int64(n))
				for _, r := range rest[:n] {
					q.recycle(r)
				}
			} else {
				fn(rest[:n])
			}
			rest = rest[n:]
		}
		clear(batch)
		q.mu.Lock()
		if q.spare == nil {
			q.spare = batch[:0]
		}
		empty := len(q.q) == 0
		q.mu.Unlock()
		if !empty {
			continue
		}
		if closed {
			return
		}
		<-q.wake
		q.mu.Lock()
		enough := len(q.q) >= lingerMax || q.closed
		q.mu.Unlock()
		if !enough {
			linger.Reset(lingerFor)
			select {
			case <-q.wake:
			case <-linger.C:
			}
			linger.Stop()
		}
	}
}

// closeWithin closes the queue and waits up to d for its consumer (wg) to
// drain it; after d the records it has not reached are recycled without
// being processed. It returns how many were left out.
func (q *recordQueue) closeWithin(d time.Duration, wg *sync.WaitGroup) int {
	q.close()
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-drained:
	case <-t.C:
		q.skip.Store(true)
		<-drained
	}
	return int(q.skipped.Load())
}

// recycle takes back a record its consumer is done with, for reuse.
func (q *recordQueue) recycle(r *record.Record) {
	// Keep buffers for reuse, but not exceptionally large ones.
	if cap(r.Payload) > 1<<20 {
		r.Payload = nil
	}
	if cap(r.Output) > 1<<20 || cap(r.Reasoning) > 1<<20 {
		r.Output, r.Reasoning = nil, nil
	}
	if cap(r.Responses) > 1<<14 {
		r.Responses = nil
	}
	q.mu.Lock()
	if len(q.free) < 1<<16 {
		q.free = append(q.free, r)
	}
	q.mu.Unlock()
}

// peakDepth is the most records that waited at once.
func (q *recordQueue) peakDepth() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.peak
}
