// Package logging builds the structured logger of a run (log/slog) and
// offers Lazy, which defers the computation of expensive debug values until
// a handler actually records them — the Go form of AIPerf's
// `self.debug(lambda: ...)` pattern.
package logging

import (
	"io"
	"log/slog"
)

// New returns a logger writing to w in format "text" or "json" at level.
func New(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Lazy is a log value computed only when the record is emitted:
//
//	logger.Debug("schedule", "intervals", logging.Lazy(func() any { return summarize(schedule) }))
//
// When debug is off, slog drops the record before resolving the value, so
// summarize never runs.
type Lazy func() any

// LogValue implements slog.LogValuer.
func (f Lazy) LogValue() slog.Value { return slog.AnyValue(f()) }
