package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/loadstar/loadstar/builtins"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/internal/metrics"
	"github.com/loadstar/loadstar/stdlib"
)

// DocCmd prints the reference of the script API: builtins, plugin
// constructors (with their arguments, defaults and descriptions) and the
// standard library — from the same metadata the builtins are built from —
// as text for a terminal, or as Markdown (docs/scenarios.md).
type DocCmd struct {
	Name     string   `arg:"" optional:"" help:"A name (run, dist.normal, endpoint.chat), a namespace (endpoint, timing), a stdlib module (slo), or metrics for the metric names."`
	Markdown bool     `help:"Print Markdown; without a name the whole reference (docs/scenarios.md is this output)."`
	Plugins  []string `name:"plugins" placeholder:"DIR" help:"Also document the plugins of these package folders."`
}

// docWidth is the width text is wrapped to.
const docWidth = 100

// metricsTopic is the name of the metric list in `loadstar doc`.
const metricsTopic = "metrics"

// Run implements the command.
func (c *DocCmd) Run(app *App) error {
	reg, err := PluginRegistry(app, c.Plugins)
	if err != nil {
		return err
	}
	entries := builtins.Reference(reg, stdlib.FS)
	switch {
	case c.Name == "" && c.Markdown:
		builtins.WriteMarkdown(app.Stdout, entries, true)
		return nil
	case c.Name == "":
		builtins.WriteIndex(app.Stdout, entries, docWidth)
		return nil
	case c.Name == metricsTopic:
		writeMetricNames(app.Stdout)
		return nil
	}
	found := builtins.FindDoc(entries, c.Name)
	if len(found) == 0 {
		names := []string{metricsTopic}
		for _, e := range entries {
			names = append(names, e.Name)
		}
		return errext.WithHint(errext.Errorf(errext.Usage, "doc: nothing named %q%s", c.Name, errext.DidYouMean(c.Name, names)),
			"`loadstar doc` lists every name")
	}
	if c.Markdown {
		builtins.WriteMarkdown(app.Stdout, found, false)
	} else {
		builtins.WriteText(app.Stdout, found, docWidth)
	}
	return nil
}

// writeMetricNames lists the metrics a script can name (r.metrics.<tag>,
// thresholds, SLOs, compare): per-request distributions first, then the
// single values of a run, with unit, title and when each exists.
func writeMetricNames(w io.Writer) {
	fmt.Fprintln(w, "Metric names, as r.metrics.<name>, thresholds, slos and compare take them.")
	fmt.Fprintln(w, "Definitions: docs/metrics.md. The server's own figures are server.<figure> (docs/server-metrics.md).")
	groups := []struct {
		title string
		kind  results.Kind
	}{
		{"Per request: a distribution (avg, min, max, std, p1 … p99, count; threshold \"p99 < 500ms\")", results.RecordMetric},
		{"Per run: one value (threshold \"value >= 10\")", results.DerivedMetric},
		{"Per run, counted over the records: one value", results.AggregateMetric},
	}
	defs := metrics.Defs()
	width := 0
	for _, d := range defs {
		width = max(width, len(d.Tag))
	}
	for _, g := range groups {
		fmt.Fprintf(w, "\n%s\n", g.title)
		for _, d := range defs {
			kind := d.Kind
			if strings.HasPrefix(d.Tag, "adj_") { // AIPerf's failure-adjusted twins are distributions too
				kind = results.RecordMetric
			}
			if kind != g.kind {
				continue
			}
			line := fmt.Sprintf("  %-*s  %-16s %s", width, d.Tag, d.Unit, d.Header)
			if when := metricApplies(d.Flags); when != "" {
				line += " (" + when + ")"
			}
			fmt.Fprintln(w, strings.TrimRight(line, " "))
		}
	}
}

// metricApplies says when a metric exists, from its flags.
func metricApplies(f metrics.Flag) string {
	var when []string
	for _, c := range []struct {
		flag metrics.Flag
		text string
	}{
		{metrics.StreamingOnly, "streamed requests"},
		{metrics.ProducesTokensOnly, "token endpoints"},
		{metrics.TokenizesInputOnly, "tokenized input"},
		{metrics.ErrorOnly, "failed requests"},
		{metrics.SupportsReasoning, "reasoning models"},
		{metrics.Goodput, "with slos"},
		{metrics.HTTPTrace, "HTTP trace"},
		{metrics.UsageDiffOnly, "server usage vs client counts"},
		{metrics.Loadstar, "loadstar's own"},
	} {
		if f.Has(c.flag) {
			when = append(when, c.text)
		}
	}
	return strings.Join(when, ", ")
}
