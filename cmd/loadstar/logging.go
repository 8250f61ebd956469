package main

import (
	"io"
	"log/slog"

	"github.com/loadstar/loadstar/internal/logging"
)

func newLogger(w io.Writer, g Globals) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(g.LogLevel)) // kong's enum already validated it
	return logging.New(w, g.LogFormat, level)
}
