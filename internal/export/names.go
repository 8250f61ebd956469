package export

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/plugin"
)

// ArtifactDir returns where a step's artifacts go: cfg.Output.ArtifactDir
// as-is when set, else <root>/<model>-<service_kind>-<endpoint_type>-<stimulus>
// as AIPerf names it ("/" in the model becomes "_", several models give
// "<first>_multi"). stimulus "" is derived from cfg.Timing (stimulusName).
func ArtifactDir(cfg *config.Benchmark, serviceKind, endpointType, stimulus string) string {
	if cfg.Output.ArtifactDir != "" {
		return cfg.Output.ArtifactDir
	}
	root := or(cfg.Output.Root, "artifacts")
	if stimulus == "" {
		stimulus = stimulusName(cfg.Timing)
	}
	var parts []string
	for _, p := range []string{modelName(cfg.Endpoint), serviceKind, endpointType, stimulus} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	name := strings.Join(parts, "-")
	if cfg.Name != "" {
		name += "-" + safeName(cfg.Name)
	}
	return filepath.Join(root, name)
}

func modelName(ep *plugin.Spec) string {
	if ep == nil {
		return "model"
	}
	var models []string
	switch v := ep.Args["model"].(type) {
	case string:
		models = []string{v}
	case []string:
		models = v
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				models = append(models, s)
			}
		}
	}
	if len(models) == 0 || models[0] == "" {
		return "model"
	}
	name := safeName(models[0])
	if len(models) > 1 {
		name += "_multi"
	}
	return name
}

func safeName(s string) string {
	return strings.NewReplacer("/", "_", "\\", "_", string(filepath.Separator), "_").Replace(s)
}

// stimulusName names a timing configuration as AIPerf's artifact directories
// do: concurrency<N>, request_rate<R>, concurrency<N>-request_rate<R>,
// user_centric-users<N>-qps<Q> or fixed_schedule. No timing means
// concurrency 1.
func stimulusName(t *plugin.Spec) string {
	if t == nil {
		return "concurrency1"
	}
	switch t.Name {
	case "fixed_schedule":
		return "fixed_schedule"
	case "user_centric_rate":
		users := firstArg(t.Args, "users", "num_users")
		qps := firstArg(t.Args, "qps", "rate", "user_centric_rate")
		return "user_centric-users" + users + "-qps" + qps
	}
	conc := firstArg(t.Args, "concurrency", "max_concurrency")
	rate := firstArg(t.Args, "rate", "request_rate")
	switch {
	case rate != "" && conc != "":
		return "concurrency" + conc + "-request_rate" + rate
	case rate != "":
		return "request_rate" + rate
	case conc != "":
		return "concurrency" + conc
	}
	if t.Name == "concurrency" {
		return "concurrency1"
	}
	return safeName(t.Name)
}

// firstArg formats the first present argument: ints plainly, rates as
// Python floats (request_rate10.0).
func firstArg(a plugin.Args, names ...string) string {
	for _, n := range names {
		switch v := a[n].(type) {
		case int64:
			if n == "rate" || n == "request_rate" || n == "qps" || n == "user_centric_rate" {
				return string(appendPyFloat(nil, float64(v)))
			}
			return strconv.FormatInt(v, 10)
		case int:
			return firstArg(plugin.Args{n: int64(v)}, n)
		case float64:
			if n == "concurrency" || n == "max_concurrency" || n == "users" || n == "num_users" {
				if v == math.Trunc(v) {
					return strconv.FormatInt(int64(v), 10)
				}
			}
			return string(appendPyFloat(nil, v))
		}
	}
	return ""
}

// ClaimDir makes the artifact directory of a new run and returns it. A run
// never loses an earlier one's files silently: when dir exists and is not
// empty, the run goes beside it, to the first free dir-2, dir-3, …
// (created here, so that two runs starting together cannot take the same
// one), unless overwrite is set, in which case dir is used as it is and
// its files are replaced.
func ClaimDir(dir string, overwrite bool) (string, error) {
	if overwrite {
		return dir, os.MkdirAll(dir, 0o755)
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return dir, os.MkdirAll(dir, 0o755)
	case err != nil:
		return "", err
	case len(entries) == 0:
		return dir, nil
	}
	base := strings.TrimRight(dir, `/\`)
	for n := 2; n < 100000; n++ {
		cand := fmt.Sprintf("%s-%d", base, n)
		err := os.Mkdir(cand, 0o755)
		if err == nil {
			return cand, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%s: no free numbered directory beside it", dir)
}
