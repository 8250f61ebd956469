// Package sse splits a Server-Sent Events byte stream into messages, exactly
// as AIPerf's reader does (docs/wire.md §8), and stamps
// each message with the time of the network read that completed it.
//
// The Reader is on the hot path of every streamed token: Feed does not
// allocate once its buffers have grown, and the Message handed to the callback
// points into those buffers (valid only during the callback).
package sse

import (
	"bytes"
	"unicode/utf8"
)

// Message is one SSE message. Slices are only valid during the callback.
type Message struct {
	// Event is the trimmed value of the last `event` field (the name in any
	// letter case), nil if none.
	Event []byte
	// Data is the values of all non-empty `data` fields joined with "\n".
	Data []byte
	// Comment is the first comment (a line starting with ':'), nil if none.
	Comment []byte
	// HasData reports whether any non-empty data field was present.
	HasData bool
	// PerfNs is the monotonic time of the read that completed this message.
	PerfNs int64
}

// Reader accumulates network reads and emits complete messages.
// The zero value is ready to use.
type Reader struct {
	buf     []byte // unconsumed bytes carried between reads
	scanned int    // prefix of buf already searched for a delimiter
	msg     Message
	data    []byte // scratch for Message.Data
	event   []byte // scratch for Message.Event
	comment []byte // scratch for Message.Comment
	other   []byte // scratch for the value of an unknown field (repair target)
	utf     []byte // scratch for invalid-UTF-8 replacement
	// searched counts bytes searched for delimiters (the linearity tests
	// hold it to a small multiple of the bytes fed).
	searched int64
}

// Reset discards buffered bytes so the Reader can serve another response.
func (r *Reader) Reset() { r.buf = r.buf[:0]; r.scanned = 0 }

// Buffered returns how many bytes of an incomplete message are held.
func (r *Reader) Buffered() int { return len(r.buf) }

// Feed adds one network read stamped at perfNs and calls fn for every message
// it completes, in order.
func (r *Reader) Feed(chunk []byte, perfNs int64, fn func(*Message)) {
	data := chunk
	from := 0
	if len(r.buf) > 0 {
		r.buf = append(r.buf, chunk...)
		data = r.buf
		from = r.scanned
	}
	// Both searches start where the previous read's scan stopped, and once
	// the remaining bytes hold no "\n\n" no later part of them can: each
	// byte is searched a bounded number of times, so reassembly stays linear
	// however the stream is chunked (a 512 KB event in 1-byte reads).
	noLFLF := false
	for {
		i, n := r.indexDelimiter(data, from, &noLFLF)
		if i < 0 {
			break
		}
		r.emit(data[:i], perfNs, fn)
		data = data[i+n:]
		from = 0
	}
	// Keep the remainder; it may alias r.buf, and copy handles the overlap.
	if len(r.buf) > 0 {
		r.buf = r.buf[:copy(r.buf, data)]
	} else {
		r.buf = append(r.buf[:0], data...)
	}
	// A delimiter may straddle the next read: rescan the last 3 bytes.
	r.scanned = max(0, len(r.buf)-3)
}

// Close flushes leftover bytes at end of stream as a final message stamped
// perfNs (AIPerf treats trailing bytes without a delimiter as a message).
func (r *Reader) Close(perfNs int64, fn func(*Message)) {
	if len(r.buf) > 0 {
		r.emit(r.buf, perfNs, fn)
	}
	r.Reset()
}

// indexDelimiter finds "\n\n" at or after from; only when the buffer holds
// none does it look for "\r\n\r\n". It returns the index and delimiter
// length. The bytes before from were searched for both without a match;
// *noLFLF is set once b (and so any suffix of it) is known to hold no
// "\n\n".
func (r *Reader) indexDelimiter(b []byte, from int, noLFLF *bool) (int, int) {
	if !*noLFLF {
		if i := bytes.Index(b[from:], lflf); i >= 0 {
			r.searched += int64(i + 2)
			return from + i, 2
		}
		r.searched += int64(len(b) - from)
		*noLFLF = true
	}
	if i := bytes.Index(b[from:], crlfcrlf); i >= 0 {
		r.searched += int64(i + 4)
		return from + i, 4
	}
	r.searched += int64(len(b) - from)
	return -1, 0
}

var (
	lflf     = []byte("\n\n")
	crlfcrlf = []byte("\r\n\r\n")
)

type field uint8

const (
	fieldNone field = iota
	fieldData
	fieldEvent
	fieldComment
	fieldOther
)

func (r *Reader) emit(raw []byte, perfNs int64, fn func(*Message)) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return
	}
	if !utf8.Valid(raw) {
		r.utf = appendValidUTF8(r.utf[:0], raw)
		raw = r.utf
	}
	if r.emitDataLine(raw, perfNs, fn) {
		return
	}
	r.data, r.event, r.comment, r.other = r.data[:0], r.event[:0], r.comment[:0], r.other[:0]
	hasData, hasEvent, hasComment := false, false, false
	last := fieldNone
	lastStart := 0 // start of the last data value inside r.data
	for len(raw) > 0 {
		var line []byte
		line, raw = nextLine(raw)
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		// Continuation repair: a raw newline inside a JSON string split the
		// value; glue the line back with a literal backslash-n.
		if last != fieldNone && !bytes.HasPrefix(line, dataPrefix) {
			if prev := r.lastValue(last, lastStart); len(prev) > 0 && prev[0] == '{' && prev[len(prev)-1] != '}' {
				r.appendToLast(last, line)
				continue
			}
		}
		name, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			name, value = bytes.TrimSpace(line[:i]), bytes.TrimSpace(line[i+1:])
		}
		switch {
		case len(name) == 0:
			last = fieldComment
			if !hasComment {
				hasComment = true
				r.comment = append(r.comment[:0], value...)
			}
		case string(name) == "data":
			if len(value) == 0 {
				last = fieldOther
				r.other = r.other[:0]
				continue
			}
			if hasData {
				r.data = append(r.data, '\n')
			}
			hasData = true
			lastStart = len(r.data)
			r.data = append(r.data, value...)
			last = fieldData
		case bytes.EqualFold(name, eventName): // AIPerf matches "event" case-insensitively, "data" exactly
			hasEvent = true
			r.event = append(r.event[:0], value...)
			last = fieldEvent
		default:
			r.other = append(r.other[:0], value...)
			last = fieldOther
		}
	}
	m := &r.msg
	m.Data, m.Event, m.Comment, m.HasData, m.PerfNs = nil, nil, nil, hasData, perfNs
	if hasData {
		m.Data = r.data
	}
	if hasEvent {
		m.Event = r.event
	}
	if hasComment {
		m.Comment = r.comment
	}
	fn(m)
}

// emitDataLine handles the message almost every server sends, one line
// "data: value" (trimmed, valid UTF-8), without the line loop or a copy:
// Data points into raw. It reports false, having done nothing, for any
// other message.
func (r *Reader) emitDataLine(raw []byte, perfNs int64, fn func(*Message)) bool {
	if !bytes.HasPrefix(raw, dataPrefix) || bytes.IndexByte(raw, '\n') >= 0 || bytes.IndexByte(raw, '\r') >= 0 {
		return false
	}
	value := bytes.TrimSpace(raw[len(dataPrefix):])
	if len(value) == 0 {
		return false
	}
	m := &r.msg
	m.Data, m.Event, m.Comment, m.HasData, m.PerfNs = value, nil, nil, true, perfNs
	fn(m)
	return true
}

func (r *Reader) lastValue(f field, dataStart int) []byte {
	switch f {
	case fieldData:
		return r.data[dataStart:]
	case fieldEvent:
		return r.event
	case fieldComment:
		return r.comment
	}
	return r.other
}

func (r *Reader) appendToLast(f field, line []byte) {
	switch f {
	case fieldData:
		r.data = append(append(r.data, '\\', 'n'), line...)
	case fieldEvent:
		r.event = append(append(r.event, '\\', 'n'), line...)
	case fieldComment:
		r.comment = append(append(r.comment, '\\', 'n'), line...)
	default:
		r.other = append(append(r.other, '\\', 'n'), line...)
	}
}

// nextLine splits off one line ending in \n, \r\n or \r.
func nextLine(b []byte) (line, rest []byte) {
	for i, c := range b {
		switch c {
		case '\n':
			return b[:i], b[i+1:]
		case '\r':
			if i+1 < len(b) && b[i+1] == '\n' {
				return b[:i], b[i+2:]
			}
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

var (
	dataPrefix = []byte("data:")
	eventName  = []byte("event")
)

// appendValidUTF8 appends b with each invalid byte sequence replaced by U+FFFD,
// as Python's decode(errors="replace") does.
func appendValidUTF8(dst, b []byte) []byte {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[:size]...)
		}
		b = b[size:]
	}
	return dst
}
