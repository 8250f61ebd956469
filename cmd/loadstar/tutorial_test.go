package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/mock"
)

// tutorialServer is the URL docs/tutorial.md gives for "a real server";
// the test serves the embedded mock there instead.
const tutorialServer = "http://localhost:8000"

// TestTutorial runs docs/tutorial.md as a reader would, in an empty
// directory: every <!-- tutorial: NAME --> block is written to NAME, every
// command of an sh block runs (exit code 0, or N for a line ending in
// "# exits N"; "| grep X" checks the output has X), and every
// <!-- output --> block's lines appear in the output of the commands
// before it — numbers aside, since timings differ from run to run.
func TestTutorial(t *testing.T) {
	if testing.Short() {
		t.Skip("runs benchmarks against the mock (about 30 s)")
	}
	bin, err := exec.LookPath("loadstar")
	if err != nil {
		t.Skipf("no loadstar on PATH (TestMain puts it there): %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := mock.Start(ctx, mock.Config{TTFT: 20 * time.Millisecond, ITL: 2 * time.Millisecond, Models: []string{"mock-llama"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	work := t.TempDir()
	env := append(os.Environ(), "LOADSTAR_LOG_FORMAT=text", "NO_COLOR=1")
	var secrets []string
	var lastOutput string
	written, ran := 0, 0
	for _, b := range readBlocks(t, "../../docs/tutorial.md", "docs/tutorial.md") {
		mark, arg, _ := strings.Cut(b.mark, ": ")
		switch {
		case mark == "tutorial":
			path := filepath.Join(work, filepath.FromSlash(arg))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(b.body), 0o644); err != nil {
				t.Fatal(err)
			}
			written++
		case mark == "output":
			if missing := missingLines(b.body, lastOutput); len(missing) > 0 {
				t.Errorf("%s: the output of the commands before lacks:\n%s\noutput:\n%s", b.where(), strings.Join(missing, "\n"), lastOutput)
			}
		case b.lang == "sh":
			lastOutput = ""
			for _, c := range tutorialCommands(t, b) {
				if c.export != "" {
					env = append(env, c.export)
					if k, v, _ := strings.Cut(c.export, "="); strings.HasSuffix(k, "_API_KEY") {
						secrets = append(secrets, v)
					}
					continue
				}
				for i, a := range c.args {
					c.args[i] = strings.ReplaceAll(a, tutorialServer, srv.URL())
				}
				cmd := exec.Command(bin, c.args...)
				cmd.Dir, cmd.Env = work, env
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				code := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				ran++
				if code != c.exit {
					t.Fatalf("%s: loadstar %s exited %d, want %d\nstdout:\n%s\nstderr:\n%s", b.where(), strings.Join(c.args, " "), code, c.exit, stdout.String(), stderr.String())
				}
				if c.grep != "" && !strings.Contains(stdout.String(), c.grep) {
					t.Errorf("%s: loadstar %s | grep %s finds nothing:\n%s", b.where(), strings.Join(c.args, " "), c.grep, stdout.String())
				}
				lastOutput += stdout.String()
			}
		}
	}
	if written < 6 || ran < 8 {
		t.Fatalf("wrote %d files and ran %d commands: the tutorial's markers are gone?", written, ran)
	}
	// The API key given in the environment reached no artifact.
	for _, s := range secrets {
		_ = filepath.WalkDir(work, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if data, _ := os.ReadFile(path); bytes.Contains(data, []byte(s)) {
				t.Errorf("%s holds the API key", path)
			}
			return nil
		})
	}
}

// tutorialCommand is one line of an sh block of the tutorial.
type tutorialCommand struct {
	args   []string // after "loadstar"
	export string   // NAME=VALUE of an export line
	exit   int      // "# exits N"
	grep   string   // "| grep X"
}

var exitsRE = regexp.MustCompile(`#\s*exits (\d+)\s*$`)

func tutorialCommands(t *testing.T, b docBlock) []tutorialCommand {
	t.Helper()
	var out []tutorialCommand
	for _, line := range strings.Split(strings.TrimSpace(b.body), "\n") {
		var c tutorialCommand
		if m := exitsRE.FindStringSubmatch(line); m != nil {
			c.exit, _ = strconv.Atoi(m[1])
		}
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if cmd, grep, ok := strings.Cut(line, "|"); ok {
			words := strings.Fields(grep)
			if len(words) != 2 || words[0] != "grep" {
				t.Fatalf("%s: only `| grep WORD` is supported, got %q", b.where(), line)
			}
			line, c.grep = strings.TrimSpace(cmd), words[1]
		}
		words := strings.Fields(line)
		switch {
		case len(words) == 0:
			continue
		case words[0] == "export" && len(words) == 2:
			c.export = words[1]
		case words[0] == "loadstar" && !strings.ContainsAny(line, `'"`):
			c.args = words[1:]
		default:
			t.Fatalf("%s: the tutorial's sh blocks hold loadstar commands and exports, got %q", b.where(), line)
		}
		out = append(out, c)
	}
	return out
}

var (
	numberRE = regexp.MustCompile(`\b[0-9][0-9.,]*(ns|µs|us|ms|s|m|h)?`)
	spaceRE  = regexp.MustCompile(`\s+`)
	ruleRE   = regexp.MustCompile(`([━─])+`)
)

// normalizeOutput drops what changes between runs: numbers (with their
// duration units) become N, runs of spaces and of table rules one.
func normalizeOutput(s string) string {
	s = numberRE.ReplaceAllString(s, "N")
	s = ruleRE.ReplaceAllString(s, "$1")
	return strings.TrimSpace(spaceRE.ReplaceAllString(s, " "))
}

// missingLines returns the lines of sample not found in output, numbers aside.
func missingLines(sample, output string) []string {
	have := map[string]bool{}
	for _, l := range strings.Split(output, "\n") {
		have[normalizeOutput(l)] = true
	}
	var missing []string
	for _, l := range strings.Split(sample, "\n") {
		if n := normalizeOutput(l); n != "" && !have[n] {
			missing = append(missing, l)
		}
	}
	return missing
}

func TestMissingLines(t *testing.T) {
	out := "p99 TTFT   1.006s\n│ ✓ │ request_error_rate  │ value < 1%  │ value = 0.00 %    │\n"
	if m := missingLines("p99 TTFT 67.57ms\n│ ✓ │ request_error_rate │ value < 1% │ value = 12.50 % │\n", out); len(m) != 0 {
		t.Errorf("missing %q", m)
	}
	if m := missingLines("p50 TTFT 1ms\n", out); len(m) != 1 {
		t.Errorf("a line not in the output was found")
	}
}
