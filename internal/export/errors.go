package export

import (
	"strings"

	"github.com/loadstar/loadstar/engine/record"
)

// exceptionTypes are the error types AIPerf builds from a Python
// exception (ErrorDetails.from_exception): its message is then the
// exception's repr, e.g. "InvalidInferenceResultError('Invalid inference
// result')", and cause_chain lists the exception's type. HTTP status errors
// (type = the reason phrase, message = the body) and cancellations (built
// field by field) keep their message as it is and have no chain.
var exceptionTypes = map[string]bool{
	record.ErrNoContent: true, record.ErrConnect: true, record.ErrTimeout: true, record.ErrSendTimeout: true,
	record.ErrDisconnect: true, record.ErrSSE: true, record.ErrParse: true, record.ErrPayload: true,
	record.ErrGraceExpired: true,
}

// aiperfForm is an error's message and cause chain as AIPerf writes them.
type aiperfForm struct {
	message string
	chain   string // the one type of cause_chain, "" for none
}

func aiperfError(d *record.ErrorDetails) aiperfForm {
	if !exceptionTypes[d.Type] {
		return aiperfForm{message: d.Message}
	}
	return aiperfForm{message: d.Type + "(" + pyRepr(d.Message) + ")", chain: d.Type}
}

// pyRepr quotes s as Python's repr of a str: single quotes unless s holds
// a single quote and no double quote; backslashes, the quote, \n, \r, \t
// and other control characters escaped.
func pyRepr(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteByte(q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
