package runner

import (
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
)

// idGen makes the run's request and session ids: random-looking version 4
// UUIDs, unique within the run, without a crypto/rand read per request.
// Two 64-bit seeds drawn once are mixed with a counter through splitmix64,
// a bijection, so distinct counters give distinct ids.
type idGen struct {
	seed [2]uint64
	n    atomic.Uint64
}

func newIDGen() *idGen {
	g := &idGen{}
	var b [16]byte
	if _, err := crand.Read(b[:]); err == nil {
		g.seed[0] = binary.LittleEndian.Uint64(b[:8])
		g.seed[1] = binary.LittleEndian.Uint64(b[8:])
	}
	return g
}

// next returns a new id in the canonical 8-4-4-4-12 form.
func (g *idGen) next() string {
	n := g.n.Add(1)
	var u [16]byte
	binary.BigEndian.PutUint64(u[:8], splitmix(g.seed[0]+n))
	binary.BigEndian.PutUint64(u[8:], splitmix(g.seed[1]^n))
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}
