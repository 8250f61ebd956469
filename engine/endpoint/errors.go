package endpoint

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/loadstar/loadstar/engine/record"
	"github.com/loadstar/loadstar/engine/sse"
)

// errAPI is the error type of a 2xx non-streaming body that carries an API
// error object (`{"error": ...}`); streamed ones use record.ErrSSE.
const errAPI = "APIError"

// unknownSSEError is the message of an `event: error` with no explanation.
const unknownSSEError = "Unknown error in SSE response"

// maxErrorMessage caps the body text kept in an error message.
const maxErrorMessage = 4096

// ErrorFromStatus builds the record error of a non-2xx response (wire.md
// §9): code = status, type = reason phrase (the standard text for status
// when reason is ""), message = the API error's message when the body is an
// error JSON such as `{"error":{"code":400,"message":"...","type":"..."}}`,
// else the body text (trimmed, capped at 4 KiB).
func ErrorFromStatus(status int, reason string, body []byte) record.ErrorDetails {
	if reason == "" {
		reason = http.StatusText(status)
	}
	if reason == "" {
		reason = "HTTP " + strconv.Itoa(status)
	}
	msg := ""
	if api, ok := ParseAPIError(body); ok && api.Message != "" {
		msg = api.Message
	} else {
		msg = bodyText(body)
	}
	return record.ErrorDetails{Code: status, Type: reason, Message: msg}
}

// APIError is an error object found in a response body.
type APIError struct {
	// Code is error.code when it is an integer (0 otherwise).
	Code int
	// Type is error.type (or error_type, TGI) when present.
	Type    string
	Message string
}

// ParseAPIError reads the API error of body: a JSON object whose `error`
// member is truthy, e.g. OpenAI/llama.cpp `{"error":{"code":400,
// "message":"...","type":"invalid_request_error"}}`, TGI `{"error":"...",
// "error_type":"validation"}` or Anthropic `{"type":"error","error":{...}}`.
// The message is error.message, else the error string, else the error
// value's JSON text. ok is false when body holds no error.
func ParseAPIError(body []byte) (APIError, bool) {
	var v [3][]byte
	if !fields(body, apiErrorNames, v[:]) || !truthy(v[0]) {
		return APIError{}, false
	}
	e := APIError{}
	errv := v[0]
	switch {
	case isObject(errv):
		var f [3][]byte
		fields(errv, errorObjectNames, f[:])
		if n, ok := intValue(f[0]); ok {
			e.Code = int(n)
		}
		if s, ok := appendString(nil, f[1]); ok {
			e.Message = string(s)
		} else {
			e.Message = string(trimJSON(errv))
		}
		if s, ok := appendString(nil, f[2]); ok {
			e.Type = string(s)
		}
	case isString(errv):
		s, _ := appendString(nil, errv)
		e.Message = string(s)
	default:
		e.Message = string(trimJSON(errv))
	}
	if e.Type == "" {
		if s, ok := appendString(nil, v[1]); ok {
			e.Type = string(s)
		}
	}
	if e.Code == 0 {
		if n, ok := intValue(v[2]); ok {
			e.Code = int(n)
		}
	}
	return e, true
}

var (
	apiErrorNames    = []string{"error", "error_type", "code"}
	errorObjectNames = []string{"code", "message", "type"}
)

// errorCode maps an API error code to the record code: codes 400..599 are
// kept, anything else becomes 502 (wire.md §8).
func errorCode(code int) int {
	if code >= 400 && code <= 599 {
		return code
	}
	return record.CodeSSEErrorBase
}

// checkPayloadError sets the record error when obj carries a truthy `error`
// member (its raw value given as errv) and reports whether it did.
func checkPayloadError(errv []byte, obj []byte, typ string, rec *record.Record) bool {
	if !truthy(errv) {
		return false
	}
	e, _ := ParseAPIError(obj)
	rec.SetError(errorCode(e.Code), typ, e.Message)
	return true
}

var (
	doneData = []byte("[DONE]")
	nullData = []byte("null")
	errorEvt = []byte("error")
)

// streamData applies the SSE rules shared by every parser (wire.md §8): an
// `event: error` message (in any letter case) fails the record with code 502 and the message's
// first comment (else the error carried in its data); messages without data,
// `[DONE]` and `null` carry nothing. It returns the data to parse.
func streamData(m *sse.Message, rec *record.Record) ([]byte, bool) {
	if bytes.EqualFold(m.Event, errorEvt) {
		msg := ""
		switch {
		case len(m.Comment) > 0:
			msg = string(m.Comment)
		case m.HasData:
			if e, ok := ParseAPIError(m.Data); ok && e.Message != "" {
				msg = e.Message
			} else if msgv := field(m.Data, "message"); isString(msgv) {
				s, _ := appendString(nil, msgv)
				msg = string(s)
			} else {
				msg = bodyText(m.Data)
			}
		}
		if msg == "" {
			msg = unknownSSEError
		}
		rec.SetError(record.CodeSSEErrorBase, record.ErrSSE, msg)
		return nil, false
	}
	if !m.HasData {
		return nil, false
	}
	d := m.Data
	if bytes.Equal(d, doneData) || bytes.Equal(d, nullData) {
		return nil, false
	}
	return d, true
}

// bodyText renders a body for an error message: valid UTF-8, trimmed,
// capped.
func bodyText(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > maxErrorMessage {
		cut := maxErrorMessage
		for cut > 0 && !utf8.RuneStart(b[cut]) {
			cut--
		}
		b = b[:cut]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
