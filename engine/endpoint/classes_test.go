package endpoint

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/plugin"
)

// TestManifestMatchesBuiltins keeps engine/plugin/plugins.yaml and the Go
// table in step: every built-in endpoint is listed with its class,
// description and metadata, and nothing else is listed.
func TestManifestMatchesBuiltins(t *testing.T) {
	cats, err := plugin.BuiltinCategories()
	if err != nil {
		t.Fatal(err)
	}
	m, err := plugin.ParseManifest("plugins.yaml", plugin.BuiltinManifest(), cats)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]plugin.ManifestEntry{}
	for _, e := range m.Entries {
		if e.Category == plugin.Endpoint {
			listed[e.Name] = e
		}
	}
	for _, b := range Builtins() {
		e, ok := listed[b.Name]
		if !ok {
			t.Errorf("endpoint %s is not in plugins.yaml", b.Name)
			continue
		}
		delete(listed, b.Name)
		if want := "go:engine/endpoint." + b.Class; e.Class != want {
			t.Errorf("%s: class %q, want %q", b.Name, e.Class, want)
		}
		if e.Description != b.Description {
			t.Errorf("%s: description %q, want %q", b.Name, e.Description, b.Description)
		}
		raw, err := json.Marshal(e.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		var md plugin.EndpointMetadata
		if err := json.Unmarshal(raw, &md); err != nil {
			t.Fatal(err)
		}
		if md != b.Metadata {
			t.Errorf("%s: manifest metadata %+v\nwant %+v", b.Name, md, b.Metadata)
		}
	}
	for name, e := range listed {
		if strings.HasPrefix(e.Class, "go:engine/endpoint.") {
			t.Errorf("plugins.yaml lists %s (%s) which has no implementation", name, e.Class)
		}
	}
}

func TestClasses(t *testing.T) {
	classes := Classes()
	if len(classes) != 15 {
		t.Errorf("%d classes, want 15", len(classes))
	}
	for _, b := range Builtins() {
		c := classes[b.Class]
		if c == nil {
			t.Fatalf("no class %s", b.Class)
		}
		seen := map[string]bool{}
		for _, p := range c.Params {
			if seen[p.Name] {
				t.Errorf("%s: parameter %s declared twice", b.Name, p.Name)
			}
			seen[p.Name] = true
			if p.Doc == "" {
				t.Errorf("%s: parameter %s has no doc", b.Name, p.Name)
			}
		}
		args := plugin.Args{"model": []string{"m"}}
		if b.Name == "template" {
			args["body"] = `{"prompt": {{text}}}`
		}
		v, err := c.Build("endpoint."+b.Name, args)
		if err != nil {
			t.Fatalf("%s: %v", b.Name, err)
		}
		ep, ok := v.(Endpoint)
		if !ok {
			t.Fatalf("%s: %T is not an Endpoint", b.Name, v)
		}
		s := ep.(Configured).Settings()
		if s.Name != b.Name || s.Metadata != b.Metadata {
			t.Errorf("%s: settings name/metadata %q %+v", b.Name, s.Name, s.Metadata)
		}
		if ep.NewParser() == nil {
			t.Errorf("%s: nil parser", b.Name)
		}
	}
}

func TestModelRequired(t *testing.T) {
	for _, b := range Builtins() {
		args := plugin.Args{}
		if b.Name == "template" {
			args["body"] = `{"prompt": {{text}}}`
		}
		_, err := b.ClassOf().Build("endpoint."+b.Name, args)
		optional := b.Name == "hf_tei_rankings" || b.Name == "huggingface_generate" || b.Name == "template" || b.Name == "raw"
		if optional && err != nil {
			t.Errorf("%s without model: %v", b.Name, err)
		}
		if !optional && (err == nil || !strings.Contains(err.Error(), "model: required")) {
			t.Errorf("%s without model: err = %v, want a model-required error", b.Name, err)
		}
	}
}

func TestBadArguments(t *testing.T) {
	cases := []struct {
		args plugin.Args
		want string
	}{
		{plugin.Args{"timeout": -time.Second}, "timeout: must be > 0"},
		{plugin.Args{"extra": "temperature"}, "extra: item \"temperature\" must be in key:value form"},
		{plugin.Args{"extra": "{bad json"}, "extra: \"{bad json\" is not a valid JSON object"},
		{plugin.Args{"extra": 3.5}, "extra: expected a dict"},
		{plugin.Args{"headers": []string{"NoColon"}}, "headers: header \"NoColon\" must be in \"Name: Value\" form"},
		{plugin.Args{"headers": []string{"Bad Name: v"}}, "headers: invalid header name \"Bad Name\""},
		{plugin.Args{"url": []string{"http://"}}, "url: bad URL \"http://\": no host"},
		{plugin.Args{"url": []string{""}}, "url: empty URL"},
		{plugin.Args{"model": []string{" "}}, "model: model 1 is empty"},
		{plugin.Args{"session_header": "a b"}, "session_header: invalid header name"},
	}
	for _, c := range cases {
		args := plugin.Args{"model": []string{"m"}}
		for k, v := range c.args {
			args[k] = v
		}
		_, err := Classes()["Chat"].Build("endpoint.chat", args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.args, err, c.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "endpoint.chat: ") {
			t.Errorf("%v: error %q does not name the endpoint", c.args, err)
		}
	}
}

func TestStreamingIgnoredWhenUnsupported(t *testing.T) {
	ep := newEndpoint(t, "embeddings", plugin.Args{"model": []string{"m"}, "streaming": true})
	if s := ep.(Configured).Settings(); s.Streaming {
		t.Error("embeddings cannot stream, but Settings.Streaming is true")
	}
	tgi := newEndpoint(t, "huggingface_generate", plugin.Args{"streaming": true, "url": []string{"tgi:8080"}})
	if got := tgi.(Configured).Settings().URLs[0]; got != "http://tgi:8080/generate_stream" {
		t.Errorf("TGI streaming URL = %s", got)
	}
	tgi = newEndpoint(t, "huggingface_generate", plugin.Args{"url": []string{"tgi:8080"}})
	if got := tgi.(Configured).Settings().URLs[0]; got != "http://tgi:8080/generate" {
		t.Errorf("TGI URL = %s", got)
	}
}
