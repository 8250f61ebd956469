package builtins

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/catalog"
	"github.com/loadstar/loadstar/engine/config"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/interp"
)

const sentinel = "sk-sentinel-0123456789"

// runEnvScript runs src with environment environ and returns what it
// printed, what it logged and its error.
func runEnvScript(t *testing.T, src string, environ map[string]string) (string, string, error) {
	t.Helper()
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	var out, logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := &Env{Registry: reg, Runtime: &config.Runtime{}, Logger: log, Stdout: io.Discard, Stderr: io.Discard,
		Getenv: func(k string) (string, bool) { v, ok := environ[k]; return v, ok }}
	pre, err := Predeclared(env)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "env.star")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	host := interp.New(interp.Options{Predeclared: pre, Stdout: &out, Logger: log, Locals: map[string]any{EnvKey: env}})
	_, err = host.ExecFile(context.Background(), file)
	return out.String(), logs.String(), err
}

func TestEnvReadsVariablesAndRedactsSecrets(t *testing.T) {
	out, logs, err := runEnvScript(t, `
key = env("OPENAI_API_KEY")
print(key, str(key), "%s" % key, type(key), bool(key))
bearer = "Bearer " + key
print(bearer)
ep = endpoint.chat(url = "http://127.0.0.1:1", model = "m", api_key = key, headers = {"X-Custom": "Bearer " + key})
print(ep)
print(ep.args["headers"])
print(env("MODEL"), env("RATE", default = 10) + 1, env("UNSET", default = "d"), env("UNSET_KEY", default = None))
print(type(env("PLAIN", secret = True)), type(env("MY_TOKEN", secret = False)))
`, map[string]string{"OPENAI_API_KEY": sentinel, "MODEL": "llama", "RATE": "0123", "PLAIN": "x", "MY_TOKEN": "t"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out+logs, sentinel) || strings.Contains(out, "0123456789") {
		t.Fatalf("the secret was printed:\n%s\n%s", out, logs)
	}
	want := []string{
		"<redacted> <redacted> <redacted> secret True",
		"<redacted>",
		`endpoint.chat(api_key="<redacted>", headers={"X-Custom": "<redacted>"}, model="m", url="http://127.0.0.1:1")`,
		"llama 124 d None",
		"secret string",
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestSecretReachesThePluginRevealed: the plugin reads the value (Args
// reveals it) while every printed form of the arguments is redacted.
func TestSecretReachesThePluginRevealed(t *testing.T) {
	args := plugin.Args{"api_key": plugin.Secret(sentinel), "note": plugin.Secret(sentinel)}
	if got := args.String("note"); got != sentinel {
		t.Errorf("Args.String = %q", got)
	}
	spec := &plugin.Spec{Category: plugin.Endpoint, Name: "chat", Args: args}
	raw, _ := json.Marshal(map[string]any{"note": args["note"]})
	var decoded map[string]string
	_ = json.Unmarshal(raw, &decoded)
	js := decoded["note"]
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "note", args["note"])
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "note", args["note"])
	for what, s := range map[string]string{"spec": spec.String(), "json": js, "logs": logs.String()} {
		if strings.Contains(s, sentinel) || !strings.Contains(s, plugin.Redacted) {
			t.Errorf("%s: %s", what, s)
		}
	}
}

func TestEnvErrorsNameTheVariable(t *testing.T) {
	_, _, err := runEnvScript(t, `key = env("OPENAI_API_KEY")`, nil)
	if err == nil || !strings.Contains(err.Error(), "environment variable OPENAI_API_KEY is not set") || errext.ExitCodeOf(err) != errext.Usage ||
		!strings.Contains(errext.HintOf(err), `env("OPENAI_API_KEY", default = ...)`) {
		t.Errorf("unset: code %d, %v (hint %q)", errext.ExitCodeOf(err), err, errext.HintOf(err))
	}
	_, _, err = runEnvScript(t, `rate = env("RATE", default = 10)`, map[string]string{"RATE": "fast"})
	if err == nil || !strings.Contains(err.Error(), "environment variable RATE=fast: not an int") || errext.ExitCodeOf(err) != errext.Usage {
		t.Errorf("bad value: code %d, %v", errext.ExitCodeOf(err), err)
	}
}
