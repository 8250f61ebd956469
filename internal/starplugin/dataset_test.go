package starplugin_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadstar/loadstar/engine/dataset"
	"github.com/loadstar/loadstar/engine/plugin"
)

const qaLoader = `
def qa(default_length = 32):
    def convert(record):
        if record.get("skip"):
            return None
        turns = [{"text": record["q"], "session_id": record["conv"], "output_length": record.get("n", default_length)}]
        if record.get("follow_up"):
            turns.append({"text": record["follow_up"], "session_id": record["conv"], "output_length": default_length})
        return turns
    def detect(sample):
        return "q" in sample["keys"] and "conv" in sample["keys"]
    return struct(convert = convert, detect = detect, default_sampler = "shuffle")
`

func loaderRegistry(t *testing.T, src string) *plugin.Registry {
	t.Helper()
	dir := writePackage(t, "custom_dataset_loader:\n  qa:\n    class: qa.star:qa\n", map[string]string{"qa.star": src})
	return newRegistry(t, nil, dir)
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "data.jsonl")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStarlarkDatasetLoader(t *testing.T) {
	r := loaderRegistry(t, qaLoader)
	if rep := r.Validate(); !rep.OK() {
		t.Fatal(rep)
	}
	v, err := r.Build(&plugin.Spec{Category: plugin.CustomDatasetLoader, Name: "qa", Args: plugin.Args{"default_length": int64(8)}})
	if err != nil {
		t.Fatal(err)
	}
	l := v.(dataset.Loader)
	if l.DefaultSampler() != "shuffle" {
		t.Errorf("default sampler %q", l.DefaultSampler())
	}
	path := writeFile(t, `{"q": "What is 2+2?", "conv": "a", "n": 5}

{"q": "Name a colour.", "conv": "b", "follow_up": "Another?"}
{"skip": true}
{"q": "And 3+3?", "conv": "a"}
`)
	ds, err := l.Load(context.Background(), &dataset.LoadRequest{Path: path, Env: &dataset.Env{}})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 2 {
		t.Fatalf("%d conversations, want 2", ds.Len())
	}
	a, b := ds.Conversation(0), ds.Conversation(1)
	if len(a.Turns) != 2 || a.Turns[0].FirstText() != "What is 2+2?" || a.Turns[0].MaxTokens != 5 || a.Turns[1].FirstText() != "And 3+3?" || a.Turns[1].MaxTokens != 8 {
		t.Errorf("conversation a = %+v", a)
	}
	if len(b.Turns) != 2 || b.Turns[1].FirstText() != "Another?" {
		t.Errorf("conversation b = %+v", b)
	}
	// A JSON array works too.
	arr := writeFile(t, `[{"q": "x", "conv": "c"}, {"q": "y", "conv": "d"}]`)
	if ds, err := l.Load(context.Background(), &dataset.LoadRequest{Path: arr, Env: &dataset.Env{}}); err != nil || ds.Len() != 2 {
		t.Errorf("array: %v, %v", ds, err)
	}
	// detect picks the format from the first record's keys.
	sample, err := dataset.SampleOf(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Detect(sample) {
		t.Error("detect did not recognise its format")
	}
	other, _ := dataset.SampleOf(writeFile(t, `{"text": "hi"}`), false)
	if l.Detect(other) {
		t.Error("detect claimed a foreign format")
	}
}

func TestStarlarkDatasetLoaderErrorsNameFileLine(t *testing.T) {
	r := loaderRegistry(t, qaLoader)
	v, err := r.Build(&plugin.Spec{Category: plugin.CustomDatasetLoader, Name: "qa"})
	if err != nil {
		t.Fatal(err)
	}
	l := v.(dataset.Loader)
	for _, tc := range []struct{ data, want string }{
		{"{\"q\": \"a\", \"conv\": \"x\"}\n{\"conv\": \"y\"}\n", `data.jsonl:2: loader.qa: convert: Traceback`},
		{"{\"q\": \"a\", \"conv\": \"x\"}\nnot json\n", `data.jsonl:2: not a JSON record`},
		{"{\"skip\": true}\n", `convert returned no records`},
	} {
		_, err := l.Load(context.Background(), &dataset.LoadRequest{Path: writeFile(t, tc.data), Env: &dataset.Env{}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("data %q: err = %v, want %q", tc.data, err, tc.want)
		}
	}
	// A record dataset.FromRecords refuses is located in the source file.
	bad := strings.Replace(qaLoader, `"output_length": record.get("n", default_length)`, `"length": 3`, 1)
	v, err = loaderRegistry(t, bad).Build(&plugin.Spec{Category: plugin.CustomDatasetLoader, Name: "qa"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.(dataset.Loader).Load(context.Background(), &dataset.LoadRequest{Path: writeFile(t, "\n{\"q\": \"a\", \"conv\": \"x\"}\n"), Env: &dataset.Env{}})
	if err == nil || !strings.Contains(err.Error(), "data.jsonl:2: converted record") || !strings.Contains(err.Error(), "length") {
		t.Errorf("err = %v", err)
	}
}
