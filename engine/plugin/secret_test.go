package plugin

import "testing"

func TestIsSecretName(t *testing.T) {
	for _, n := range []string{"api_key", "x-api-key", "Authorization", "client_secret", "password", "token", "hf_token", "access_token", "bearer"} {
		if !IsSecretName(n) {
			t.Errorf("%q must be secret", n)
		}
	}
	for _, n := range []string{"max_tokens", "use_legacy_max_tokens", "output_tokens", "time_to_first_token", "time_to_second_token", "first_token", "prefix_length", "model", "url", "keepalive_idle", "streaming"} {
		if IsSecretName(n) {
			t.Errorf("%q must not be secret", n)
		}
	}
}
