package plugin_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/loadstar/loadstar/engine/dist"
	"github.com/loadstar/loadstar/engine/errext"
	"github.com/loadstar/loadstar/engine/plugin"
)

// gammaLike declares parameters with and without defaults; New reports
// what it read.
func gammaLike(read func(a plugin.Args) any) *plugin.Class {
	return &plugin.Class{
		Params: []plugin.Param{
			{Name: "k", Type: plugin.TFloat, Default: 1.0},
			{Name: "n", Type: plugin.TInt, Default: int64(5)},
			{Name: "every", Type: plugin.TDuration, Default: time.Second},
			{Name: "isl", Type: plugin.TDist, Default: dist.Fixed{V: 550}},
			{Name: "url", Type: plugin.TStrings, Default: []string{"http://localhost"}},
			{Name: "label", Type: plugin.TString},
			{Name: "osl", Type: plugin.TDist},
		},
		New: func(a plugin.Args) (any, error) { return read(a), nil },
	}
}

func TestBuildFillsInDefaults(t *testing.T) {
	type got struct {
		K          float64
		N          int64
		Every      time.Duration
		ISL, OSL   dist.Dist
		URL        []string
		Label      string
		HasLabel   bool
		HasK       bool
		Everything int
	}
	c := gammaLike(func(a plugin.Args) any {
		return got{a.Float("k"), a.Int("n"), a.Duration("every"), a.Dist("isl"), a.Dist("osl"), a.Strings("url"),
			a.String("label"), a.Has("label"), a.Has("k"), len(a)}
	})
	v, err := c.Build("test.x", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := got{1, 5, time.Second, dist.Fixed{V: 550}, nil, []string{"http://localhost"}, "", false, true, 7}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("no arguments: %+v, want %+v", v, want)
	}
	v, err = c.Build("test.x", plugin.Args{"k": int64(2), "label": "a", "osl": 10.0})
	if err != nil {
		t.Fatal(err)
	}
	want = got{2, 5, time.Second, dist.Fixed{V: 550}, dist.Fixed{V: 10}, []string{"http://localhost"}, "a", true, true, 7}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("some arguments: %+v, want %+v", v, want)
	}
	// Building with the defaults given explicitly is building with none.
	explicit, _ := c.Build("test.x", c.Defaults())
	implicit, _ := c.Build("test.x", nil)
	if !reflect.DeepEqual(explicit, implicit) {
		t.Errorf("explicit defaults %+v, none %+v", explicit, implicit)
	}
}

// A getter that reads an undeclared parameter, or reads one with the wrong
// type, is a plugin bug: Build reports it as an error naming the plugin.
func TestBuildReportsGetterBugs(t *testing.T) {
	for _, tc := range []struct {
		read func(a plugin.Args) any
		want string
	}{
		{func(a plugin.Args) any { return a.Int("m") }, `test.x: parameter "m" is read but not declared (a bug in the plugin)`},
		{func(a plugin.Args) any { return a.Int("k") }, `test.x: parameter "k" is read as an int but holds float64 (a bug in the plugin)`},
		{func(a plugin.Args) any { return a.Bool("label") }, ""}, // no value: false
	} {
		_, err := gammaLike(tc.read).Build("test.x", nil)
		if tc.want == "" {
			if err != nil {
				t.Errorf("reading a parameter without value: %v", err)
			}
			continue
		}
		if err == nil || err.Error() != tc.want {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
	// Other panics are not swallowed.
	c := &plugin.Class{New: func(plugin.Args) (any, error) { panic("boom") }}
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v, want the constructor's own panic", r)
		}
	}()
	_, _ = c.Build("test.y", nil)
	t.Error("the panic was swallowed")
}

func TestBuildErrors(t *testing.T) {
	// A default of the wrong type is an error, not a silent zero.
	bad := &plugin.Class{Params: []plugin.Param{{Name: "isl", Type: plugin.TDist, Default: 550}},
		New: func(a plugin.Args) (any, error) { return a.Dist("isl"), nil }}
	if _, err := bad.Build("dataset.x", nil); err == nil || !strings.Contains(err.Error(), "dataset.x: the plugin's default of isl is wrong: argument isl: want dist, got int") {
		t.Errorf("wrong default: %v", err)
	}
	// Arguments are checked, with the config exit code.
	c := gammaLike(func(a plugin.Args) any { return nil })
	_, err := c.Build("test.x", plugin.Args{"k": "x"})
	if err == nil || !strings.Contains(err.Error(), "test.x: argument k: want float") || errext.ExitCodeOf(err) != errext.InvalidConfig {
		t.Errorf("bad argument: %v (code %d)", err, errext.ExitCodeOf(err))
	}
	// New's errors name the plugin once.
	fails := &plugin.Class{New: func(plugin.Args) (any, error) { return nil, errors.New("test.x: already named") }}
	if _, err := fails.Build("test.x", nil); err == nil || err.Error() != "test.x: already named" {
		t.Errorf("named error: %v", err)
	}
	fails = &plugin.Class{New: func(plugin.Args) (any, error) { return nil, errors.New("bad") }}
	if _, err := fails.Build("test.x", nil); err == nil || err.Error() != "test.x: bad" || errext.ExitCodeOf(err) != errext.InvalidConfig {
		t.Errorf("unnamed error: %v", err)
	}
}

func TestWithoutDefaults(t *testing.T) {
	c := gammaLike(nil)
	full := plugin.Args{"k": 1.0, "n": int64(6), "every": time.Second, "isl": dist.Fixed{V: 550},
		"url": []string{"http://localhost"}, "label": nil, "osl": dist.Fixed{V: 3}}
	got := c.WithoutDefaults(full)
	want := plugin.Args{"n": int64(6), "osl": dist.Fixed{V: 3}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WithoutDefaults = %v, want %v", got, want)
	}
}
