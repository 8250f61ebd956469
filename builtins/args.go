package builtins

import (
	"strings"

	"go.starlark.net/starlark"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/results"
	"github.com/loadstar/loadstar/engine/servermetrics"
	"github.com/loadstar/loadstar/internal/metrics"
)

// unknownArg is the error of a keyword argument fn does not take: the
// closest accepted names ("did you mean"), or all of them when none is
// close. It is an invalid configuration (exit code 4), whichever builtin
// or plugin constructor it was given to.
func unknownArg(fn, name string, accepted []string) error {
	hint := errext.DidYouMean(name, accepted)
	if hint == "" {
		hint = " (accepted: " + strings.Join(accepted, ", ") + ")"
		if len(accepted) == 0 {
			hint = " (it takes no arguments)"
		}
	}
	return errext.Errorf(errext.InvalidConfig, "%s: unknown argument %q%s", fn, name, hint)
}

// unpack is starlark.UnpackArgs for the builtins that configure a
// benchmark: an unknown keyword gets "did you mean", and every wrong
// argument (unknown, missing, of the wrong type) is an invalid
// configuration (exit code 4), as for run() and plugin constructors.
func unpack(fn string, args starlark.Tuple, kwargs []starlark.Tuple, pairs ...any) error {
	var names []string
	for i := 0; i < len(pairs); i += 2 {
		names = append(names, strings.TrimRight(pairs[i].(string), "?*"))
	}
	for _, kv := range kwargs {
		k := string(kv[0].(starlark.String))
		found := false
		for _, n := range names {
			found = found || n == k
		}
		if !found {
			return unknownArg(fn, k, names)
		}
	}
	if err := starlark.UnpackArgs(fn, args, kwargs, pairs...); err != nil {
		return errext.WithExitCode(err, errext.InvalidConfig)
	}
	return nil
}

// unknownMetric is the error of a metric name that does not exist: the
// closest names, and where to find them all.
func unknownMetric(what, name string) error {
	tags := metricTags()
	hint := errext.DidYouMean(name, tags)
	if hint == "" {
		hint = " (`loadstar doc metrics` lists every metric)"
	}
	return errext.Errorf(errext.InvalidConfig, "%s unknown metric %q%s", what, name, hint)
}

// metricTags are the names a threshold, an SLO or r.metrics accept:
// loadstar's metrics and the server figures (server.<name>).
func metricTags() []string {
	var tags []string
	for _, d := range metrics.Defs() {
		tags = append(tags, d.Tag)
	}
	for _, v := range servermetrics.Views {
		tags = append(tags, results.ServerPrefix+v.Name)
	}
	return tags
}
