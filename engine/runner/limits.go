package runner

import (
	"fmt"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/internal/transport"
)

// The limits a step's concurrency must fit (docs/reliability.md). A closed
// loop keeps a goroutine, a connection and a record per request in flight;
// a concurrency the machine cannot hold is refused before anything is
// composed or sent, with the limit named, instead of growing until the
// kernel kills the process.
const (
	// reservedFiles are the descriptors a run needs besides its
	// connections: stdio, the network poller, artifact files, logs.
	reservedFiles = 64
	// slotBytes is the memory of one request in flight besides its read
	// buffer: goroutine stacks, the connection's write buffer and parsed
	// headers, the record and its payload (measured about 30 KiB with the
	// mock's answers; doubled for larger prompts and answers).
	slotBytes = 48 << 10
)

// inFlightOf returns the most requests a timing spec keeps in flight: its
// concurrency, max_concurrency or users (0 = not bounded up front, an
// open-loop rate: its connections are checked as they open).
func inFlightOf(spec *plugin.Spec) int64 {
	if spec == nil {
		return 1
	}
	for _, name := range []string{"concurrency", "max_concurrency", "users"} {
		if v, ok := spec.Args[name].(int64); ok && v > 0 {
			return v
		}
	}
	return 0
}

// machine is what the host allows; tests replace it.
type machine struct {
	files, hardFiles uint64 // 0 = unknown
	memory           uint64 // bytes available, 0 = unknown
}

func thisMachine() machine {
	var m machine
	if soft, hard, ok := transport.FileLimit(); ok {
		m.files, m.hardFiles = soft, hard
	}
	m.memory = availableMemory()
	return m
}

// checkConcurrency refuses a concurrency (profiling or warmup) that needs
// more connections than the process may open or more memory than the
// machine has.
func checkConcurrency(cfg *config.Benchmark, tr transport.Transport, m machine) error {
	n := inFlightOf(cfg.Timing)
	if cfg.Warmup != nil && cfg.Warmup.Timing != nil {
		n = max(n, inFlightOf(cfg.Warmup.Timing))
	}
	if n <= 0 {
		return nil
	}
	conns, readBuf := n, int64(16<<10)
	if c, ok := tr.(*transport.Config); ok {
		if c.MaxConnections > 0 && c.Reuse != "never" {
			conns = min(conns, int64(c.MaxConnections))
		}
		readBuf = int64(c.ReadBufferSize)
	}
	if m.files > 0 && uint64(conns)+reservedFiles > m.files {
		hint := fmt.Sprintf("raise it with `ulimit -n %d`", uint64(conns)+reservedFiles)
		if m.hardFiles > 0 && uint64(conns)+reservedFiles > m.hardFiles {
			hint = fmt.Sprintf("the hard limit is %d: raise it (as root, or in /etc/security/limits.conf or the container's settings) and then `ulimit -n`", m.hardFiles)
		}
		return fmt.Errorf("timing: concurrency %d needs up to %d connections, but this process may open at most %d files (ulimit -n); %s, or lower the concurrency (or cap connections with transport.http(max_connections=...))",
			n, conns, m.files, hint)
	}
	need := uint64(n) * uint64(slotBytes+readBuf)
	if m.memory > 0 && need > m.memory {
		return fmt.Errorf("timing: concurrency %d needs about %s of memory (about %s per request in flight), more than the %s available; lower the concurrency",
			n, bytesText(need), bytesText(uint64(slotBytes+readBuf)), bytesText(m.memory))
	}
	return nil
}

func bytesText(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", b>>10)
}
