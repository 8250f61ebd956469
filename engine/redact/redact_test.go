package redact_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/redact"
)

func ExampleURL() {
	fmt.Println(redact.URL("http://u:pw@h:8000/v1?key=k&v=1&X-Amz-Signature=abc#top"))
	fmt.Println(redact.URL("http://h/v1?model=m"))
	// Output:
	// http://u:<redacted>@h:8000/v1?key=<redacted>&v=1&X-Amz-Signature=<redacted>#top
	// http://h/v1?model=m
}

func ExampleArgs() {
	fmt.Println(strings.Join(redact.Args([]string{"profile", "--api-key", "sk-1", "--url=http://h/?token=t",
		"-H", "Cookie: c=1", "-HX-Team:a", "-H", `{"X-Auth-Token": "t", "X-Team": "a"}`, "-m", "max_tokens"}), " | "))
	// Output:
	// profile | --api-key | <redacted> | --url=http://h/?token=<redacted> | -H | Cookie: <redacted> | -HX-Team:a | -H | {"X-Auth-Token": "<redacted>", "X-Team": "a"} | -m | max_tokens
}

func TestNames(t *testing.T) {
	for name, want := range map[string]bool{
		"api_key": true, "OPENAI_API_KEY": true, "password": true, "hf_token": true, "token": true,
		"cookie": true, "aws_signature": true, "auth": true, "max_tokens": false, "time_to_first_token": false,
		"keepalive": false, "model": false, "output_tokens_mean": false,
	} {
		if got := redact.IsSecretName(name); got != want {
			t.Errorf("IsSecretName(%q) = %v, want %v", name, got, want)
		}
	}
	for name, want := range map[string]bool{
		"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
		"X-Amz-Security-Token": true, "X-Goog-Signature": true, "x-api-key": true, "X-Db-Password": true,
		"X-Client-Secret": true, "Content-Type": false, "X-Team": false, "Accept": false,
	} {
		if got := redact.IsSecretHeader(name); got != want {
			t.Errorf("IsSecretHeader(%q) = %v, want %v", name, got, want)
		}
	}
	for _, c := range [][2]string{
		{"X-Proxy: Bearer abc", "X-Proxy: <redacted>"}, {"Authorization:Basic dXM6cHc=", "Authorization: <redacted>"},
		{"X-Team: a b", "X-Team: a b"}, {"Bearer abc", redact.Redacted},
	} {
		if got := redact.HeaderLine(c[0]); got != c[1] {
			t.Errorf("HeaderLine(%q) = %q, want %q", c[0], got, c[1])
		}
	}
	if got := redact.Args([]string{"-H", "{not json Bearer x"}); got[1] != redact.Redacted {
		t.Errorf("an unparsable JSON header object is kept: %q", got[1])
	}
}
