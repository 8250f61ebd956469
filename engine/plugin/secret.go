package plugin

import (
	"encoding/json"
	"log/slog"
	"strconv"
)

// Secret is a string that never prints: fmt (%s, %v, %q, %#v), JSON, text
// marshalling (YAML, slog's text handler) and slog values all show
// Redacted. Reveal returns the value, for the one place that sends it.
//
// It is the one secret type of loadstar: a script's env("OPENAI_API_KEY")
// arrives in a plugin's arguments as a Secret, whatever argument it is
// given to (Args.String returns the revealed text to the plugin), so the
// plugin's printed form, inspect, input_config and logs show Redacted —
// also where the argument's name does not look secret (IsSecretName is the
// second line of defence, for plain strings given to secret-named
// arguments).
//
//	key := plugin.Secret(os.Getenv("OPENAI_API_KEY"))
//	fmt.Println(key)           // <redacted>
//	req.Header.Set("Authorization", "Bearer "+key.Reveal())
type Secret string

// String returns Redacted.
func (Secret) String() string { return Redacted }

// GoString returns Redacted quoted.
func (Secret) GoString() string { return strconv.Quote(Redacted) }

// MarshalJSON writes Redacted as a JSON string.
func (Secret) MarshalJSON() ([]byte, error) { return json.Marshal(Redacted) }

// MarshalText writes Redacted (YAML, text log handlers).
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }
