package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	"go.starlark.net/syntax"
	"gopkg.in/yaml.v3"

	"github.com/loadstar/loadstar/builtins"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/internal/outputs"
	"github.com/loadstar/loadstar/interp"
	"github.com/loadstar/loadstar/stdlib"
)

// docBlock is one fenced code block of a Markdown file.
type docBlock struct {
	file string
	line int    // of the opening fence, 1-based
	lang string // the fence's info string: python, sh, yaml, ... or ""
	// mark is the HTML comment on the line above the fence, without its
	// delimiters: "file: PATH", "tutorial: NAME", "output" or "".
	mark string
	body string
}

func (b docBlock) where() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

var fenceRE = regexp.MustCompile("^( *)```(.*)$")
var markRE = regexp.MustCompile(`^<!-- (.*) -->$`)

// readBlocks returns the fenced code blocks of a Markdown file.
func readBlocks(t *testing.T, path, name string) []docBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var out []docBlock
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		indent := m[1] // a block in a list item is indented
		b := docBlock{file: name, line: i + 1, lang: strings.TrimSpace(m[2])}
		if i > 0 {
			if mm := markRE.FindStringSubmatch(lines[i-1]); mm != nil {
				b.mark = mm[1]
			}
		}
		var body []string
		for i++; i < len(lines) && lines[i] != indent+"```"; i++ {
			body = append(body, strings.TrimPrefix(lines[i], indent))
		}
		if i == len(lines) {
			t.Fatalf("%s: code block not closed", b.where())
		}
		b.body = strings.Join(body, "\n") + "\n"
		out = append(out, b)
	}
	return out
}

// docFiles are README.md and docs/*.md, keyed by their repository path.
func docFiles(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{"README.md": "../../README.md"}
	for _, f := range files {
		out["docs/"+filepath.Base(f)] = f
	}
	return out
}

// TestDocCodeBlocks reads every code block of README.md and docs/*.md and
// checks it by what it is, so documentation cannot drift from the code:
//
//   - <!-- file: PATH --> blocks equal the repository file PATH;
//   - docs/tutorial.md's blocks are run by TestTutorial;
//   - python (Starlark) blocks parse as scenarios, and every keyword given
//     to a builtin or plugin constructor is one it takes;
//   - sh and console blocks: every loadstar command line parses (command,
//     flags, their values) and the repository paths they name exist;
//   - yaml, json and go blocks parse;
//   - docs/scenarios.md is generated and checked whole by
//     TestScenarioReferenceIsCurrent; a block with no language elsewhere is
//     shown text (a diagram, a formula, a sample of output).
func TestDocCodeBlocks(t *testing.T) {
	checker := newKwargChecker(t)
	for name, path := range docFiles(t) {
		if name == "docs/scenarios.md" {
			continue
		}
		for _, b := range readBlocks(t, path, name) {
			if err := checkBlock(b, checker); err != nil {
				t.Errorf("%s: %v", b.where(), err)
			}
		}
	}
}

func checkBlock(b docBlock, checker *kwargChecker) error {
	mark, arg, _ := strings.Cut(b.mark, ": ")
	switch mark {
	case "file":
		want, err := os.ReadFile(filepath.Join("..", "..", arg))
		if err != nil {
			return err
		}
		if b.body != string(want) {
			return fmt.Errorf("the copy of %s differs from the file: update the docs", arg)
		}
		return nil
	case "tutorial", "output":
		if b.file != "docs/tutorial.md" {
			return fmt.Errorf("<!-- %s --> blocks are run by TestTutorial, which reads only docs/tutorial.md", mark)
		}
		return nil
	}
	b.body = elide(b.lang, b.body)
	switch b.lang {
	case "python", "starlark":
		return checker.check(b.body)
	case "sh", "console":
		return checkCommands(b)
	case "yaml":
		var v any
		return yaml.Unmarshal([]byte(b.body), &v)
	case "json":
		if !json.Valid([]byte(b.body)) {
			return fmt.Errorf("invalid JSON")
		}
		return nil
	case "go":
		return parseGo(b.body)
	case "":
		return nil // shown text
	}
	return fmt.Errorf("code block of unknown language %q: give it one the test checks (python, sh, console, yaml, json, go) or none", b.lang)
}

// elide turns the "..." and "…" a block writes for what it leaves out into
// something of its language, so the rest of the block can be checked:
// run(..., requests = 10) is run(_, requests = 10).
func elide(lang, body string) string {
	switch lang {
	case "python", "starlark":
		return strings.NewReplacer("...", "_", "…", "_").Replace(body)
	case "go":
		return strings.ReplaceAll(body, "{ ... }", "{ _ = 0 }")
	case "json":
		body = regexp.MustCompile(`,\s*…`).ReplaceAllString(body, "")
		return strings.NewReplacer(`"…"`, `""`, ":…", ":0", "[…]", "[]").Replace(body)
	}
	return body
}

func parseGo(src string) error {
	fset := token.NewFileSet()
	if strings.HasPrefix(strings.TrimSpace(src), "package ") {
		_, err := parser.ParseFile(fset, "block.go", src, 0)
		return err
	}
	if _, err := parser.ParseFile(fset, "block.go", "package p\n"+src, 0); err == nil {
		return nil
	}
	if _, err := parser.ParseFile(fset, "block.go", "package p\nvar _ = map[string]any{\n"+src+"\n}", 0); err == nil {
		return nil // entries of a map literal
	}
	_, err := parser.ParseFile(fset, "block.go", "package p\nfunc _() {\n"+src+"\n}", 0)
	return err
}

// kwargChecker knows the keyword arguments of every builtin and plugin
// constructor (the reference `loadstar doc` prints), with the example
// plugin packages the docs use.
type kwargChecker struct {
	args map[string]map[string]bool // "endpoint.chat" -> {"url": true, ...}
}

func newKwargChecker(t *testing.T) *kwargChecker {
	t.Helper()
	reg, err := outputs.NewRegistry(plugin.WithPackages(
		plugin.PackageDir{Dir: filepath.Join("..", "..", "testdata", "plugins", "starlark-chat"), Source: "test"},
		plugin.PackageDir{Dir: filepath.Join("..", "..", "scenarios", "plugins", "instruct_api"), Source: "test"}))
	if err != nil {
		t.Fatal(err)
	}
	c := &kwargChecker{args: map[string]map[string]bool{}}
	for _, e := range builtins.Reference(reg, stdlib.FS) {
		if len(e.AllArgs()) == 0 || strings.Contains(e.Signature, "**kwargs)  #") {
			continue
		}
		names := map[string]bool{}
		for _, a := range e.AllArgs() {
			names[a.Name] = true
		}
		c.args[e.Name] = names
	}
	return c
}

// check parses src as a scenario and checks the keywords of its calls.
func (c *kwargChecker) check(src string) error {
	f, err := interp.FileOptions.Parse("block.star", src, 0)
	if err != nil {
		return err
	}
	var errs []string
	syntax.Walk(f, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok {
			return true
		}
		name := callName(call.Fn)
		known, ok := c.args[name]
		if !ok {
			return true
		}
		for _, a := range call.Args {
			if bin, ok := a.(*syntax.BinaryExpr); ok && bin.Op == syntax.EQ {
				if id, ok := bin.X.(*syntax.Ident); ok && !known[id.Name] {
					line, _ := call.Span()
					errs = append(errs, fmt.Sprintf("line %d: %s has no argument %q", line.Line, name, id.Name))
				}
			}
		}
		return true
	})
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// callName is "run" for run(...), "endpoint.chat" for endpoint.chat(...).
func callName(fn syntax.Expr) string {
	switch x := fn.(type) {
	case *syntax.Ident:
		return x.Name
	case *syntax.DotExpr:
		if id, ok := x.X.(*syntax.Ident); ok {
			return id.Name + "." + x.Name.Name
		}
	}
	return ""
}

// checkCommands parses every loadstar command line of a shell block.
func checkCommands(b docBlock) error {
	for _, cmd := range shellCommands(b) {
		args, err := shellWords(cmd)
		if err != nil {
			return fmt.Errorf("%q: %v", cmd, err)
		}
		switch {
		case len(args) >= 3 && args[0] == "go" && args[1] == "run" && args[2] == "./cmd/loadstar":
			args = args[3:]
		case len(args) > 0 && args[0] == "loadstar":
			args = args[1:]
		default:
			continue // another program: cp, go test, ...
		}
		// A file the example makes (first.star, artifacts/v1) need not
		// exist; the repository's own are checked below.
		if err := parseCommandLine(args); err != nil && !strings.Contains(err.Error(), "no such file or directory") {
			return fmt.Errorf("%q: %v", cmd, err)
		}
		for _, a := range args {
			for _, root := range []string{"scenarios/", "testdata/", "docs/"} {
				if strings.HasPrefix(a, root) && !strings.ContainsAny(a, "*?") {
					if _, err := os.Stat(filepath.Join("..", "..", a)); err != nil {
						return fmt.Errorf("%q names %s, which is not in the repository", cmd, a)
					}
				}
			}
		}
	}
	return nil
}

// shellCommands splits a shell block into commands: comments dropped,
// continuation lines joined, && ; and | separate; in a console block only
// the lines after a "$ " prompt are commands (the others are output).
func shellCommands(b docBlock) []string {
	var out []string
	pending := ""
	for _, line := range strings.Split(b.body, "\n") {
		if b.lang == "console" && pending == "" {
			rest, ok := strings.CutPrefix(line, "$ ")
			if !ok {
				continue
			}
			line = rest
		}
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(strings.TrimRight(line, " "), "\\"); ok {
			pending += cont + " "
			continue
		}
		line = strings.Join(strings.Fields(pending+line), " ")
		pending = ""
		line = strings.TrimSuffix(line, "&")
		for _, part := range regexp.MustCompile(`&&|;|\|`).Split(line, -1) {
			if p := strings.TrimSpace(part); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// shellWords splits a command line into words, with '...' and "..." quoting.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case r == '>' || r == '<':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
			return words, nil // a redirection ends the arguments
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed quote")
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

// parseCommandLine parses args as loadstar's command line without running
// it: an unknown command or flag, or a bad flag value, is an error.
func parseCommandLine(args []string) error {
	var cli CLI
	var out bytes.Buffer
	parser, err := kong.New(&cli, kong.Name("loadstar"), kong.Writers(&out, &out),
		kong.Exit(func(int) { panic("exit") }))
	if err != nil {
		return err
	}
	_, err = parser.Parse(args)
	return err
}

func TestShellCommands(t *testing.T) {
	b := docBlock{lang: "console", body: "$ loadstar run a.star --var x=1 \\\n    --log-level error | grep p99   # note\nsome output\n$ mkdir -p d && cp -r x d/\n"}
	got := shellCommands(b)
	want := []string{"loadstar run a.star --var x=1 --log-level error", "grep p99", "mkdir -p d", "cp -r x d/"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
	if err := parseCommandLine([]string{"run", "x.star", "--no-such-flag"}); err == nil {
		t.Error("an unknown flag parsed")
	}
	if err := (&kwargChecker{args: map[string]map[string]bool{"timing.concurrency": {"concurrency": true}}}).check("timing.concurrency(n = 8)\n"); err == nil ||
		!strings.Contains(err.Error(), `timing.concurrency has no argument "n"`) {
		t.Errorf("unknown keyword: %v", err)
	}
}
