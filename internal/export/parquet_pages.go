package export

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/klauspost/compress/s2"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// The record file's columns are flat: required or optional scalars and one
// repeated double (inter_chunk_latency). pqColumn encodes such a column
// straight from Go values into Parquet data pages (v1: RLE levels, PLAIN
// values, Snappy), which costs a fraction of building a parquet.Value per
// value and handing it to parquet-go's generic column buffers. parquet-go
// still defines the schema and the footer's fixed parts (see Parquet.Begin)
// and reads the files back in the tests.

// pqKind is a column's physical type.
type pqKind uint8

const (
	pqInt64 pqKind = iota
	pqInt32
	pqBool
	pqDouble
	pqBytes
)

// pqStatsMaxBytes bounds a byte-array column's min/max statistics: a
// longer value (an error message) drops them for its page and chunk
// rather than copying it into the footer.
const pqStatsMaxBytes = 256

// pqStats are min/max statistics of one page or column chunk. Integers
// and booleans keep i, doubles f, byte arrays b; has is false while no
// non-null value was seen (or, for byte arrays, once one was too long).
type pqStats struct {
	has, dropped  bool
	minI, maxI    int64
	minF, maxF    float64
	minB, maxB    []byte
	nulls         int64
	values, slots int64
}

// pqColumn buffers the values of one column's current page and the
// compressed pages of its current column chunk (row group).
type pqColumn struct {
	name               string
	typ                format.Type
	kind               pqKind
	optional, repeated bool

	// The current page: PLAIN-encoded non-null values (booleans one byte
	// each, packed when the page is cut) and one level per slot.
	plain    []byte
	def, rep []byte
	page     pqStats

	// The current chunk: encoded pages and their statistics merged.
	pages      []byte
	chunk      pqStats
	uncompSize int64
	numPages   int32
}

func newPQColumn(name string, typ format.Type, optional, repeated bool) *pqColumn {
	c := &pqColumn{name: name, typ: typ, optional: optional || repeated, repeated: repeated}
	switch typ {
	case format.Int64:
		c.kind = pqInt64
	case format.Int32:
		c.kind = pqInt32
	case format.Boolean:
		c.kind = pqBool
	case format.Double:
		c.kind = pqDouble
	default:
		c.kind = pqBytes
	}
	return c
}

// null appends a null (optional and repeated columns only).
func (c *pqColumn) null() {
	c.def = append(c.def, 0)
	if c.repeated {
		c.rep = append(c.rep, 0)
	}
	c.page.nulls++
	c.page.slots++
}

// present records a non-null slot's level.
func (c *pqColumn) present() {
	if c.optional {
		c.def = append(c.def, 1)
	}
	c.page.values++
	c.page.slots++
}

func (c *pqColumn) int64(v int64) {
	if c.kind == pqInt32 {
		c.plain = binary.LittleEndian.AppendUint32(c.plain, uint32(int32(v)))
		v = int64(int32(v))
	} else {
		c.plain = binary.LittleEndian.AppendUint64(c.plain, uint64(v))
	}
	c.present()
	c.page.addInt(v)
}

// optInt64 appends v, or a null when v is 0 (unset).
func (c *pqColumn) optInt64(v int64) {
	if v == 0 {
		c.null()
		return
	}
	c.int64(v)
}

func (c *pqColumn) bool(v bool) {
	b := int64(0)
	if v {
		b = 1
	}
	c.plain = append(c.plain, byte(b))
	c.present()
	c.page.addInt(b)
}

func (c *pqColumn) double(v float64) {
	c.plain = binary.LittleEndian.AppendUint64(c.plain, math.Float64bits(v))
	c.present()
	c.page.addDouble(v)
}

func (s *pqStats) addInt(v int64) {
	switch {
	case !s.has:
		s.minI, s.maxI, s.has = v, v, true
	case v < s.minI:
		s.minI = v
	case v > s.maxI:
		s.maxI = v
	}
}

func (s *pqStats) addDouble(v float64) {
	switch {
	case v != v: // NaN orders nowhere: statistics leave it out
	case !s.has:
		s.minF, s.maxF, s.has = v, v, true
	case v < s.minF:
		s.minF = v
	case v > s.maxF:
		s.maxF = v
	}
}

// doubles appends one row of the repeated column: its values, or a null
// when there are none.
func (c *pqColumn) doubles(vs []float64) {
	if len(vs) == 0 {
		c.null()
		return
	}
	for i, v := range vs {
		c.plain = binary.LittleEndian.AppendUint64(c.plain, math.Float64bits(v))
		c.page.addDouble(v)
		c.def = append(c.def, 1)
		c.rep = append(c.rep, byte(min(i, 1)))
	}
	c.page.values += int64(len(vs))
	c.page.slots += int64(len(vs))
}

func (c *pqColumn) str(v string) {
	c.plain = binary.LittleEndian.AppendUint32(c.plain, uint32(len(v)))
	c.plain = append(c.plain, v...)
	c.present()
	s := &c.page
	if s.dropped {
		return
	}
	if len(v) > pqStatsMaxBytes {
		s.dropped, s.has = true, false
		return
	}
	switch {
	case !s.has:
		s.minB, s.maxB, s.has = append(s.minB[:0], v...), append(s.maxB[:0], v...), true
	case string(s.minB) > v:
		s.minB = append(s.minB[:0], v...)
	case string(s.maxB) < v:
		s.maxB = append(s.maxB[:0], v...)
	}
}

// optStr appends v, or a null when v is empty.
func (c *pqColumn) optStr(v string) {
	if v == "" {
		c.null()
		return
	}
	c.str(v)
}

// cutPage encodes the buffered values as one data page appended to the
// chunk, merging the page's statistics into the chunk's.
func (c *pqColumn) cutPage(scratch *pqScratch) error {
	if c.page.slots == 0 {
		return nil
	}
	body := scratch.body[:0]
	var err error
	if c.repeated {
		if body, err = c.appendLevels(body, c.rep, scratch); err != nil {
			return err
		}
	}
	if c.optional {
		if body, err = c.appendLevels(body, c.def, scratch); err != nil {
			return err
		}
	}
	if c.kind == pqBool {
		body = appendPackedBools(body, c.plain)
	} else {
		body = append(body, c.plain...)
	}
	scratch.body = body
	scratch.comp = s2.EncodeSnappy(scratch.comp[:cap(scratch.comp)], body)

	header := format.PageHeader{
		Type:                 format.DataPage,
		UncompressedPageSize: int32(len(body)),
		CompressedPageSize:   int32(len(scratch.comp)),
		DataPageHeader: thrift.New(format.DataPageHeader{
			NumValues:               int32(c.page.slots),
			Encoding:                format.Plain,
			DefinitionLevelEncoding: format.RLE,
			RepetitionLevelEncoding: format.RLE,
			Statistics:              c.statistics(&c.page),
		}),
	}
	h, err := thrift.Marshal(&scratch.protocol, &header)
	if err != nil {
		return fmt.Errorf("page header of %s: %w", c.name, err)
	}
	c.pages = append(c.pages, h...)
	c.pages = append(c.pages, scratch.comp...)
	c.uncompSize += int64(len(h) + len(body))
	c.numPages++
	c.chunk.merge(&c.page)
	c.plain, c.def, c.rep = c.plain[:0], c.def[:0], c.rep[:0]
	minB, maxB := c.page.minB, c.page.maxB
	c.page = pqStats{minB: minB[:0], maxB: maxB[:0]}
	return nil
}

// appendLevels appends levels RLE-encoded with bit width 1, prefixed by
// their length (data page v1).
func (c *pqColumn) appendLevels(dst, levels []byte, scratch *pqScratch) ([]byte, error) {
	enc := rle.Encoding{BitWidth: 1}
	var err error
	scratch.levels, err = enc.EncodeLevels(scratch.levels, levels)
	if err != nil {
		return dst, fmt.Errorf("levels of %s: %w", c.name, err)
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(scratch.levels)))
	return append(dst, scratch.levels...), nil
}

// appendPackedBools appends PLAIN booleans: one bit each, LSB first.
func appendPackedBools(dst, vals []byte) []byte {
	for i := 0; i < len(vals); i += 8 {
		var b byte
		for j, v := range vals[i:min(i+8, len(vals))] {
			b |= v << j
		}
		dst = append(dst, b)
	}
	return dst
}

// merge adds page statistics o to s.
func (s *pqStats) merge(o *pqStats) {
	s.nulls += o.nulls
	s.values += o.values
	s.slots += o.slots
	if s.dropped || o.dropped {
		s.dropped, s.has = true, false
		return
	}
	if !o.has {
		return
	}
	if !s.has {
		s.minI, s.maxI, s.minF, s.maxF, s.has = o.minI, o.maxI, o.minF, o.maxF, true
		s.minB, s.maxB = append(s.minB[:0], o.minB...), append(s.maxB[:0], o.maxB...)
		return
	}
	s.minI, s.maxI = min(s.minI, o.minI), max(s.maxI, o.maxI)
	s.minF, s.maxF = min(s.minF, o.minF), max(s.maxF, o.maxF)
	if bytes.Compare(o.minB, s.minB) < 0 {
		s.minB = append(s.minB[:0], o.minB...)
	}
	if bytes.Compare(o.maxB, s.maxB) > 0 {
		s.maxB = append(s.maxB[:0], o.maxB...)
	}
}

// statistics renders s in the column's PLAIN encoding. Following the
// format's rule for floating point, a zero minimum is written as -0 and a
// zero maximum as +0.
func (c *pqColumn) statistics(s *pqStats) format.Statistics {
	st := format.Statistics{NullCount: s.nulls}
	if !s.has {
		return st
	}
	switch c.kind {
	case pqInt64:
		st.MinValue = binary.LittleEndian.AppendUint64(nil, uint64(s.minI))
		st.MaxValue = binary.LittleEndian.AppendUint64(nil, uint64(s.maxI))
	case pqInt32:
		st.MinValue = binary.LittleEndian.AppendUint32(nil, uint32(int32(s.minI)))
		st.MaxValue = binary.LittleEndian.AppendUint32(nil, uint32(int32(s.maxI)))
	case pqBool:
		st.MinValue, st.MaxValue = []byte{byte(s.minI)}, []byte{byte(s.maxI)}
	case pqDouble:
		lo, hi := s.minF, s.maxF
		if lo == 0 {
			lo = math.Copysign(0, -1)
		}
		if hi == 0 {
			hi = 0
		}
		st.MinValue = binary.LittleEndian.AppendUint64(nil, math.Float64bits(lo))
		st.MaxValue = binary.LittleEndian.AppendUint64(nil, math.Float64bits(hi))
	case pqBytes:
		st.MinValue, st.MaxValue = bytes.Clone(s.minB), bytes.Clone(s.maxB)
	}
	return st
}

// pqScratch holds buffers reused by every page.
type pqScratch struct {
	body, comp, levels []byte
	protocol           thrift.CompactProtocol
}

// chunkMeta describes the column chunk whose pages start at offset in
// the file, and resets the chunk for the next row group.
func (c *pqColumn) chunkMeta(offset int64) format.ColumnChunk {
	enc := []format.Encoding{format.Plain}
	if c.optional {
		enc = append(enc, format.RLE)
	}
	cc := format.ColumnChunk{
		MetaData: format.ColumnMetaData{
			Type:                  c.typ,
			Encoding:              enc,
			PathInSchema:          []string{c.name},
			Codec:                 format.Snappy,
			NumValues:             c.chunk.slots,
			TotalUncompressedSize: c.uncompSize,
			TotalCompressedSize:   int64(len(c.pages)),
			DataPageOffset:        offset,
			Statistics:            c.statistics(&c.chunk),
			EncodingStats: []format.PageEncodingStats{
				{PageType: format.DataPage, Encoding: format.Plain, Count: c.numPages},
			},
		},
	}
	minB, maxB := c.chunk.minB, c.chunk.maxB
	c.chunk = pqStats{minB: minB[:0], maxB: maxB[:0]}
	c.pages, c.uncompSize, c.numPages = c.pages[:0], 0, 0
	return cc
}
