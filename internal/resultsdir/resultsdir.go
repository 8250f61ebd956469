// Package resultsdir reads what a finished run left on disk: the artifact
// directory of one run (profile_export_aiperf.json, profile_export.jsonl,
// the time-slice files), a sweep's directory (sweep_summary.json and one
// directory per step and trial), or any directory holding several runs.
//
// It is the input side of `loadstar plot`, `loadstar report`,
// `loadstar compare` and the Starlark load_results(): it reads loadstar's
// files and AIPerf's (schema 1.3 and later), ignores fields it does not know,
// and rebuilds a results.Summary so that a loaded run looks like one that has
// just finished.
//
//	runs, sw, err := resultsdir.Scan("artifacts/sweep-conc")
//	for _, r := range runs {
//		recs, _ := r.Records("time_to_first_token", "request_latency")
//		fmt.Println(r.Name, recs.Len(), r.Summary.Metric("request_throughput").Value)
//	}
package resultsdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/export"
)

// The artifact files read, by their default names (export.Target.Path).
var (
	SummaryFile      = filepath.Base((&export.Target{}).Path(export.KindJSON))
	RecordsFile      = filepath.Base((&export.Target{}).Path(export.KindJSONL))
	TimeslicesFile   = filepath.Base((&export.Target{}).Path(export.KindTimeslicesJSN))
	SweepSummaryFile = "sweep_summary.json"
)

// ErrNoResults is returned (wrapped) when a directory holds no run.
var ErrNoResults = errors.New("no benchmark results")

// Run is one finished run's artifact directory.
type Run struct {
	// Dir is the directory read.
	Dir string
	// Name labels the run in plots, reports and comparisons: the sweep
	// step (and trial), else the run label, else the directory name.
	Name string
	// Summary is rebuilt from the summary file: every metric, the error
	// summary, the verdict, thresholds, warnings.
	Summary *results.Summary
	// SchemaVersion and Producer are the summary file's schema_version and
	// aiperf_version ("loadstar …" for loadstar's files).
	SchemaVersion, Producer string
	// InputConfig is the run's configuration as written (secrets redacted),
	// keys in file order.
	InputConfig []Field
	// Step, Trial and Values place the run in a sweep (zero otherwise).
	Step   string
	Trial  int
	Values map[string]string

	recordsPath, timeslicesPath string
}

// Field is one key of a JSON object, in file order; Value is a string,
// float64, bool, nil, []any or []Field.
type Field struct {
	Key   string
	Value any
}

// HasRecords reports whether the run has a per-request records file.
func (r *Run) HasRecords() bool { return fileExists(r.recordsPath) }

// HasTimeslices reports whether the run has a time-slice file.
func (r *Run) HasTimeslices() bool { return fileExists(r.timeslicesPath) }

// Open reads the run in dir. The summary file is required; records and time
// slices are read on demand (Records, Timeslices).
func Open(dir string) (*Run, error) {
	path := filepath.Join(dir, SummaryFile)
	if !fileExists(path) {
		alt, err := findSummary(dir)
		if err != nil {
			return nil, err
		}
		path = alt
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := parseSummary(path, data)
	if err != nil {
		return nil, err
	}
	r.Dir = dir
	r.Summary.Info.ArtifactDir = dir
	r.recordsPath = siblingFile(dir, r.Summary.Files["jsonl"], RecordsFile)
	r.timeslicesPath = siblingFile(dir, r.Summary.Files["timeslices_json"], TimeslicesFile)
	if r.Name == "" {
		r.Name = filepath.Base(filepath.Clean(dir))
	}
	return r, nil
}

// findSummary finds a summary written with an export prefix (foo.json): a
// JSON file of dir with a schema_version, not a time-slice file.
func findSummary(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".json") || strings.HasSuffix(n, "_timeslices.json") ||
			n == SweepSummaryFile || n == "inputs.json" {
			continue
		}
		p := filepath.Join(dir, n)
		if head, err := readHead(p, 256); err == nil && strings.Contains(head, `"schema_version"`) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w: no %s", dir, ErrNoResults, SummaryFile)
}

// siblingFile is the file the summary names (its base name, in dir), else
// def in dir.
func siblingFile(dir, named, def string) string {
	if named != "" {
		if p := filepath.Join(dir, filepath.Base(named)); fileExists(p) {
			return p
		}
	}
	return filepath.Join(dir, def)
}

// Scan reads path: one run, a sweep (sw is then set; runs are its steps'
// runs in step order) or a directory of runs (every directory below path
// holding a summary, sorted by path).
func Scan(path string) (runs []*Run, sw *Sweep, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !st.IsDir() {
		return nil, nil, fmt.Errorf("%s: not a directory (give a run's artifact directory)", path)
	}
	if fileExists(filepath.Join(path, SweepSummaryFile)) {
		sw, err := OpenSweep(path)
		if err != nil {
			return nil, nil, err
		}
		return sw.Runs, sw, nil
	}
	if r, err := Open(path); err == nil {
		return []*Run{r}, nil, nil
	} else if !errors.Is(err, ErrNoResults) {
		return nil, nil, err
	}
	var dirs []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != path && fileExists(filepath.Join(p, SummaryFile)) {
			dirs = append(dirs, p)
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(dirs) == 0 {
		return nil, nil, fmt.Errorf("%s: %w: neither %s, %s nor a directory holding runs", path, ErrNoResults, SummaryFile, SweepSummaryFile)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		r, err := Open(d)
		if err != nil {
			return nil, nil, err
		}
		if rel, err := filepath.Rel(path, d); err == nil {
			r.Name = filepath.ToSlash(rel)
		}
		runs = append(runs, r)
	}
	return runs, nil, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func readHead(p string, n int) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	buf := make([]byte, n)
	k, _ := f.Read(buf)
	return string(buf[:k]), nil
}
