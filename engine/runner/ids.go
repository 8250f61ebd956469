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
//
// Ids are formatted idsPerChunk at a time into one string and handed out
// as substrings of it: one allocation per chunk instead of one per id, and
// each id is still an ordinary immutable string that whoever keeps it
// (records, exports, error texts) may keep for as long as it likes.
type idGen struct {
	seed  [2]uint64
	n     atomic.Uint64
	chunk atomic.Pointer[idChunk]
}

// idsPerChunk is how many ids are formatted at once.
const idsPerChunk = 64

// idLen is the length of an id in the canonical 8-4-4-4-12 form.
const idLen = 36

// idChunk holds the ids of counters first..first+idsPerChunk-1.
type idChunk struct {
	first uint64
	s     string
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
//
// An id depends only on its counter, so a goroutine that finds the shared
// chunk is not the one its counter falls in formats that chunk itself:
// goroutines racing at a chunk's edge may format one twice, never hand
// out a wrong or repeated id.
func (g *idGen) next() string {
	n := g.n.Add(1)
	first := n - (n-1)%idsPerChunk
	c := g.chunk.Load()
	if c == nil || c.first != first {
		b := make([]byte, idsPerChunk*idLen)
		for i := range uint64(idsPerChunk) {
			g.format((*[idLen]byte)(b[i*idLen:]), first+i)
		}
		c = &idChunk{first: first, s: string(b)}
		g.chunk.Store(c)
	}
	i := (n - first) * idLen
	return c.s[i : i+idLen]
}

// format writes the id of counter n into s.
func (g *idGen) format(s *[idLen]byte, n uint64) {
	var u [16]byte
	binary.BigEndian.PutUint64(u[:8], splitmix(g.seed[0]+n))
	binary.BigEndian.PutUint64(u[8:], splitmix(g.seed[1]^n))
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
}
