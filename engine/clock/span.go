package clock

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"time"
)

// A time.Duration counts nanoseconds in an int64: it cannot hold more than
// about 292 years, and a conversion beyond that silently wraps to a
// negative span (a benchmark that ends before it starts, a timeout already
// expired). Every duration a user gives (a script's durations, --var,
// profile flags, plugin arguments) goes through these functions, which
// refuse such values with an error instead.

// MaxSeconds is the longest span a duration holds, in seconds.
const MaxSeconds = float64(math.MaxInt64) / 1e9

// tooLongError words every refusal the same way.
type tooLongError struct{ what string }

func (e *tooLongError) Error() string {
	return fmt.Sprintf("%s is longer than the longest duration loadstar can hold (%d seconds, about 292 years)", e.what, math.MaxInt64/int64(time.Second))
}

func errTooLong(what string) error { return &tooLongError{what} }

// IsTooLong reports whether err is a refusal of a span too long to hold.
func IsTooLong(err error) bool {
	var e *tooLongError
	return errors.As(err, &e)
}

// Span converts n units (time.Second, time.Millisecond, ...) to a duration,
// rounded to the nanosecond; NaN, infinities and spans beyond MaxSeconds
// either way are errors.
//
//	d, err := clock.Span(1.5, time.Second) // 1.5s
//	_, err = clock.Span(1e10, time.Second) // error: longer than ... 292 years
func Span(n float64, unit time.Duration) (time.Duration, error) {
	if math.IsNaN(n) {
		return 0, fmt.Errorf("NaN is not a duration")
	}
	ns := math.Round(n * float64(unit))
	if ns >= 0x1p63 || ns < -0x1p63 { // float64(math.MaxInt64) rounds up to 2^63
		return 0, errTooLong(fmt.Sprintf("%g %s", n, unitName(unit)))
	}
	return time.Duration(ns), nil
}

// Seconds is Span(s, time.Second).
func Seconds(s float64) (time.Duration, error) { return Span(s, time.Second) }

// Sum returns a+b, or an error when it does not fit.
func Sum(a, b time.Duration) (time.Duration, error) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, errTooLong(fmt.Sprintf("%s + %s", a, b))
	}
	return s, nil
}

// Scale returns d*f rounded to the nanosecond, or an error when it does not
// fit (or f is NaN).
func Scale(d time.Duration, f float64) (time.Duration, error) {
	if math.IsNaN(f) {
		return 0, fmt.Errorf("cannot scale a duration by NaN")
	}
	ns := math.Round(float64(d) * f)
	if ns >= 0x1p63 || ns < -0x1p63 {
		return 0, errTooLong(fmt.Sprintf("%s × %g", d, f))
	}
	return time.Duration(ns), nil
}

// ParseSpan is time.ParseDuration ("250ms", "1h30m") with an error that
// says so when the text is a duration but too long to hold (Go's says only
// "invalid duration").
func ParseSpan(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil && durationText.MatchString(s) {
		return 0, errTooLong(fmt.Sprintf("%q", s))
	}
	return d, err
}

// durationText is the shape time.ParseDuration accepts; a text of this
// shape that fails to parse overflowed.
var durationText = regexp.MustCompile(`^[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`)

func unitName(u time.Duration) string {
	switch u {
	case time.Nanosecond:
		return "ns"
	case time.Microsecond:
		return "µs"
	case time.Millisecond:
		return "ms"
	case time.Second:
		return "s"
	case time.Minute:
		return "min"
	case time.Hour:
		return "h"
	}
	return "× " + u.String()
}
