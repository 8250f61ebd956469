package builtins

import (
	"fmt"
	"io"
	"regexp"
	"strings"
)

// WriteText renders entries for a terminal, as `loadstar doc NAME` prints
// them: the signature, the description wrapped to width without Markdown,
// then every argument with its type, default and meaning.
//
//	run(**kwargs) -> result
//	  Runs one benchmark step and returns its result: ...
//
//	  endpoint (endpoint, required)
//	      The API to benchmark: endpoint.chat(url=..., model=..., ...
func WriteText(w io.Writer, entries []DocEntry, width int) {
	for i, e := range entries {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, e.Signature)
		if e.Doc != "" {
			for _, para := range strings.Split(plainText(e.Doc), "\n") {
				writeWrapped(w, para, "  ", width)
			}
		}
		args := e.AllArgs()
		if len(args) == 0 {
			continue
		}
		fmt.Fprintln(w)
		for _, a := range args {
			def := a.Default
			if def != "required" {
				def = "default " + def
			}
			fmt.Fprintf(w, "  %s (%s, %s)\n", a.Name, a.Type, def)
			if a.Doc != "" {
				writeWrapped(w, plainText(a.Doc), "      ", width)
			}
		}
	}
}

// WriteIndex lists every entry by section with the start of its
// description: what `loadstar doc` prints without a name.
func WriteIndex(w io.Writer, entries []DocEntry, width int) {
	fmt.Fprintln(w, "The script API: loadstar doc NAME shows one entry (run, timing, endpoint.chat, @stdlib//slo.star),")
	fmt.Fprintln(w, "loadstar doc metrics the metric names, loadstar doc --markdown the whole reference (docs/scenarios.md).")
	nameWidth := 0
	for _, e := range entries {
		nameWidth = max(nameWidth, len(e.Name))
	}
	nameWidth = min(nameWidth, 24)
	section := ""
	for _, e := range entries {
		if e.Section != section {
			section = e.Section
			fmt.Fprintf(w, "\n%s\n", section)
		}
		line := fmt.Sprintf("  %-*s  %s", nameWidth, e.Name, firstSentence(plainText(e.Doc)))
		if len([]rune(line)) > width {
			line = string([]rune(line)[:width-1]) + "…"
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

var (
	mdLink   = regexp.MustCompile(`\[([^\]]+)\]\([^)]*\)`)
	mdStrong = regexp.MustCompile(`\*\*([^*]+)\*\*`)
)

// plainText removes the Markdown of a description: code spans, links,
// bold and escaped pipes read as plain text.
func plainText(s string) string {
	s = mdLink.ReplaceAllString(s, "$1")
	s = mdStrong.ReplaceAllString(s, "$1")
	s = strings.ReplaceAll(s, "\\|", "|")
	return strings.ReplaceAll(s, "`", "")
}

// firstSentence is the text up to its first full stop followed by a space.
func firstSentence(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

// writeWrapped writes text wrapped at width, each line after indent; an
// empty text writes an empty line (a paragraph break).
func writeWrapped(w io.Writer, text, indent string, width int) {
	words := strings.Fields(text)
	if len(words) == 0 {
		fmt.Fprintln(w)
		return
	}
	line := indent + words[0]
	for _, word := range words[1:] {
		if len([]rune(line))+1+len([]rune(word)) > width {
			fmt.Fprintln(w, line)
			line = indent + word
			continue
		}
		line += " " + word
	}
	fmt.Fprintln(w, line)
}
