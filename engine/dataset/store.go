package dataset

import "fmt"

// MemoryStore is the in-process backing store ("memory").
//
// AIPerf splits the dataset between a manager process that composes it and
// writes it to a memory-mapped file (the backing store) and worker processes
// that map that file (the client stores), because Python workers need
// separate processes to use several cores. loadstar sends from goroutines of
// one process: the composed dataset is shared read-only memory already, so
// storing it is handing out the same value, and no copy or serialization
// happens. The interfaces stay so that a sharded run (several loadstar
// processes or machines) can give each shard its own deterministic part via
// ClientStore.Shard.
type MemoryStore struct{}

// Store returns the client view of ds.
func (MemoryStore) Store(ds Dataset) (ClientStore, error) {
	if ds == nil {
		return nil, fmt.Errorf("dataset store: no dataset")
	}
	return &memoryClient{ds: ds, lo: 0, hi: ds.Len()}, nil
}

// memoryClient is a contiguous range [lo, hi) of a dataset.
type memoryClient struct {
	ds     Dataset
	lo, hi int
}

func (c *memoryClient) Len() int                         { return c.hi - c.lo }
func (c *memoryClient) Conversation(i int) *Conversation { return c.ds.Conversation(c.lo + i) }
func (c *memoryClient) Info() Info                       { return InfoOf(c.ds) }

// Shard returns range [i*len/n, (i+1)*len/n) of this view.
func (c *memoryClient) Shard(i, n int) (ClientStore, error) {
	if n <= 0 || i < 0 || i >= n {
		return nil, fmt.Errorf("dataset shard %d of %d: want 0 <= shard < shards", i, n)
	}
	l := c.Len()
	lo, hi := c.lo+i*l/n, c.lo+(i+1)*l/n
	if hi == lo {
		return nil, fmt.Errorf("dataset shard %d of %d: %d conversations are too few to shard", i, n, l)
	}
	return &memoryClient{ds: c.ds, lo: lo, hi: hi}, nil
}
