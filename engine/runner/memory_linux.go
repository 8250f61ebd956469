package runner

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// availableMemory returns the bytes this process can still use: the
// kernel's MemAvailable, or less when a cgroup (container) limit is lower;
// 0 when unknown.
func availableMemory() uint64 {
	var avail uint64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
				kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				avail = kb << 10
				break
			}
		}
		_ = f.Close()
	}
	limit := readUint("/sys/fs/cgroup/memory.max")
	used := readUint("/sys/fs/cgroup/memory.current")
	if limit > 0 && limit > used && (avail == 0 || limit-used < avail) {
		avail = limit - used
	}
	return avail
}

// readUint reads a file holding one number ("max" and errors give 0).
func readUint(path string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return n
}
