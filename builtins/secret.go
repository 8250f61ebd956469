package builtins

import (
	"fmt"
	"os"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/plugin"
	"github.com/loadstar/loadstar/interp"
)

// SecretValue is a secret in a script (env("OPENAI_API_KEY")): it prints
// as <redacted> (print, str, "%s" formatting, repr, the plugin values it
// is given to), joins strings with + into another secret ("Bearer " + key),
// and reaches plugins as a plugin.Secret, which every output of loadstar
// redacts. A script cannot read its text back.
type SecretValue struct {
	value plugin.Secret
	name  string // the environment variable it came from ("" when made by +)
}

var (
	_ starlark.HasBinary = (*SecretValue)(nil)
)

// NewSecretValue wraps a secret read from name.
func NewSecretValue(value, name string) *SecretValue {
	return &SecretValue{value: plugin.Secret(value), name: name}
}

func (s *SecretValue) String() string        { return plugin.Redacted }
func (s *SecretValue) Type() string          { return "secret" }
func (s *SecretValue) Freeze()               {}
func (s *SecretValue) Truth() starlark.Bool  { return s.value != "" }
func (s *SecretValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: secret") }

// Binary implements secret + string and string + secret.
func (s *SecretValue) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	if op != syntax.PLUS {
		return nil, nil
	}
	var other string
	switch x := y.(type) {
	case starlark.String:
		other = string(x)
	case *SecretValue:
		other = x.value.Reveal()
	default:
		return nil, nil
	}
	if side == starlark.Left {
		return &SecretValue{value: plugin.Secret(s.value.Reveal() + other)}, nil
	}
	return &SecretValue{value: plugin.Secret(other + s.value.Reveal())}, nil
}

// envBuiltin implements env(name, default = <required>, secret = <auto>):
// reads an environment variable. Without a default an unset (or empty)
// variable is an error naming it; with one, the text is converted to the
// default's type (as vars.get). secret=True returns a secret value; by
// default names that look secret (…_KEY, …TOKEN, …SECRET, …PASSWORD) are
// secret.
//
//	key = env("OPENAI_API_KEY")                          # a secret
//	url = env("LLM_URL", default = "http://localhost:8000")
//	rate = env("RATE", default = 10)                     # an int
func envBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	var def, secret starlark.Value
	if err := unpack(fn.Name(), args, kwargs, "name", &name, "default?", &def, "secret?", &secret); err != nil {
		return nil, err
	}
	isSecret := plugin.IsSecretName(name)
	if secret != nil && secret != starlark.None {
		b, ok := secret.(starlark.Bool)
		if !ok {
			return nil, errext.Errorf(errext.InvalidConfig, "env: secret: want True or False, got %s", secret.Type())
		}
		isSecret = bool(b)
	}
	getenv := os.LookupEnv
	if e, err := envOf(thread); err == nil && e.Getenv != nil {
		getenv = e.Getenv
	}
	text, ok := getenv(name)
	if !ok || text == "" {
		if def == nil {
			return nil, errext.WithHint(errext.Errorf(errext.Usage, "env: environment variable %s is not set", name),
				fmt.Sprintf("set it (export %s=...) or give the script a default: env(%q, default = ...)", name, name))
		}
		if d, ok := def.(starlark.String); ok && isSecret {
			return NewSecretValue(string(d), name), nil
		}
		return def, nil
	}
	if isSecret {
		if def != nil && def != starlark.None {
			if _, isStr := def.(starlark.String); !isStr {
				return nil, errext.Errorf(errext.InvalidConfig, "env(%q): a secret is text; its default must be a string, got %s", name, def.Type())
			}
		}
		return NewSecretValue(text, name), nil
	}
	if def == nil {
		return starlark.String(text), nil
	}
	v, err := interp.ConvertVar(text, def)
	if err != nil {
		return nil, errext.Errorf(errext.Usage, "environment variable %s=%s: %v (env(%q, default = %s) wants the type of its default)", name, text, err, name, def.String())
	}
	return v, nil
}
