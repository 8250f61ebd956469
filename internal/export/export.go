// Package export writes the artifacts of a benchmark step in AIPerf's
// formats (metrics.md §11): profile_export_aiperf.json (schema 1.5, with
// loadstar's additions in a "loadstar" block), profile_export_aiperf.csv,
// profile_export.jsonl (one line per request),
// profile_export_raw.jsonl, a Parquet file of every record, inputs.json and
// the time-slice CSV/JSON.
//
// Summary files are written atomically (a temporary file renamed into
// place). Record streams receive every record (internal/outputs hands the
// Spoolable ones their records after the run, or whenever the run is
// slow), so an interrupted run keeps everything it measured.
//
// Exporters are plugins of category data_exporter. internal/outputs drives
// them: record exporters receive each record with its metrics as it
// finishes (RecordExporter), every exporter writes its file at the end
// (Exporter).
package export

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/results"
)

// Exporter writes one artifact of a finished step.
type Exporter interface {
	// Kind names the artifact ("json", "csv", ...): its key in Summary.Files.
	Kind() string
	// Export writes the artifact for sum and returns the path written, or
	// "" when there was nothing to write (e.g. no time slices).
	Export(ctx context.Context, t *Target, sum *results.Summary) (string, error)
}

// RecordExporter is an Exporter that also receives every record while the
// run goes. Begin is called once before the first record, WriteRecord from
// one goroutine, and Export closes the stream.
type RecordExporter interface {
	Exporter
	Begin(t *Target, schema *results.RecordSchema) error
	WriteRecord(row *results.RecordRow) error
}

// Flusher is implemented by record exporters whose file is readable at any
// time (JSONL): Flush pushes buffered lines to the file. It is called
// every second while the run goes and before an immediate exit.
type Flusher interface {
	Flush() error
}

// Spoolable is implemented by record exporters whose WriteRecord reads
// only the row's metrics and inter-chunk latencies and its record's scalar
// fields (ids, timestamps, status, sizes, usage, error): never the
// payload or the parsed responses. Their records can be kept compactly
// while the run goes and written after it, off the sending path
// (internal/outputs spools them).
type Spoolable interface {
	RecordExporter
	Spoolable()
}

// Aborter is implemented by record exporters that can drop a partial file
// when a run fails before Export.
type Aborter interface {
	Abort()
}

// Target says where artifacts go.
type Target struct {
	Dir string
	// Prefix renames the profile_export files (AIPerf's
	// --profile-export-prefix): foo.json, foo.csv, foo.jsonl, foo_raw.jsonl,
	// foo_timeslices.csv, foo.parquet.
	Prefix string
	// Config is the plan (input_config of the artifacts).
	Config *config.Benchmark
}

// Artifact kinds.
const (
	KindJSON          = "json"
	KindCSV           = "csv"
	KindJSONL         = "jsonl"
	KindRaw           = "raw"
	KindParquet       = "parquet"
	KindInputs        = "inputs"
	KindTimeslicesCSV = "timeslices_csv"
	KindTimeslicesJSN = "timeslices_json"
)

// Path returns the file of an artifact kind in t.
func (t *Target) Path(kind string) string {
	// Only a file name: config.Validate refuses a prefix with a path,
	// and no prefix may lead a file out of the artifact directory.
	prefix := filepath.Base(t.Prefix)
	if t.Prefix == "" || prefix == "." || prefix == ".." || prefix == string(filepath.Separator) {
		prefix = ""
	}
	p := strings.TrimSuffix(prefix, filepath.Ext(prefix))
	if prefix != "" && !knownExt(filepath.Ext(prefix)) {
		p = prefix
	}
	name := ""
	switch kind {
	case KindJSON:
		name = or(p, "profile_export_aiperf") + ".json"
	case KindCSV:
		name = or(p, "profile_export_aiperf") + ".csv"
	case KindJSONL:
		name = or(p, "profile_export") + ".jsonl"
	case KindRaw:
		name = or(p, "profile_export") + "_raw.jsonl"
	case KindParquet:
		name = or(p, "profile_export") + ".parquet"
	case KindTimeslicesCSV:
		name = or(p, "profile_export_aiperf") + "_timeslices.csv"
	case KindTimeslicesJSN:
		name = or(p, "profile_export_aiperf") + "_timeslices.json"
	case KindInputs:
		name = "inputs.json"
	default:
		name = kind
	}
	return filepath.Join(t.Dir, name)
}

func knownExt(e string) bool {
	switch e {
	case ".json", ".csv", ".jsonl", ".parquet":
		return true
	}
	return false
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory, renamed into place, so readers never see a partial file.
func WriteFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	tmp := f.Name()
	if _, err = f.Write(data); err == nil {
		err = f.Close()
	} else {
		_ = f.Close()
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("export: writing %s: %w", path, err)
	}
	return nil
}

// pyFloat is a float written as Python's repr writes it (orjson agrees):
// integral values keep ".0", exponents from 1e16 and below 1e-4, and
// non-finite values become null.
type pyFloat float64

// MarshalJSON implements json.Marshaler.
func (f pyFloat) MarshalJSON() ([]byte, error) { return appendPyFloat(nil, float64(f)), nil }

func appendPyFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	abs := math.Abs(f)
	if abs >= 1e16 || abs < 1e-4 {
		return strconv.AppendFloat(dst, f, 'e', -1, 64)
	}
	if abs < 1<<53 && f == math.Trunc(f) {
		// An integral value below 2^53 prints as its exact digits in the
		// shortest form too; AppendInt is several times cheaper.
		return append(strconv.AppendInt(dst, int64(f), 10), ".0"...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	if bytes.IndexByte(dst[start:], '.') < 0 {
		dst = append(dst, ".0"...)
	}
	return dst
}

// number returns v as the JSON number type AIPerf would write: an int for
// integral metrics, a float otherwise.
func number(v float64, integer bool) any {
	if integer && isExactInt(v) {
		return int64(v)
	}
	return pyFloat(v)
}

// isExactInt reports whether v is an integer that int64 and float64 both
// hold exactly.
func isExactInt(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0) && v == math.Trunc(v) && math.Abs(v) < 1<<53
}

// csvNumber formats a value as AIPerf's CSV does (its _format_number):
// integers plainly, other numbers with two decimals (f"{v:.2f}", so an
// infinite value prints "inf"), missing values empty.
func csvNumber(v float64, integer bool) string {
	switch {
	case math.IsNaN(v):
		return ""
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	if integer && v == math.Trunc(v) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}
