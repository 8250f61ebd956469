package ordered

import "testing"

func TestSetKeepsPositionAndMarshalsCompact(t *testing.T) {
	m := FromPairs("messages", []any{"hi"}, "model", "a", "stream", true)
	m.Merge(FromPairs("model", "b", "temperature", 0.5, "html", "<&>"))
	got, err := m.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"messages":["hi"],"model":"b","stream":true,"temperature":0.5,"html":"<&>"}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestUnmarshalRoundTripKeepsOrderAndInts(t *testing.T) {
	in := `{"z":1,"a":{"y":[1,2.5,"é"],"b":null},"m":true}`
	var m Map
	if err := m.UnmarshalJSON([]byte(in)); err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Get("z"); v != int64(1) {
		t.Fatalf("z = %#v, want int64 1", v)
	}
	out, _ := m.MarshalJSON()
	if string(out) != in {
		t.Fatalf("round trip: got %s", out)
	}
	m.Delete("a")
	out, _ = m.MarshalJSON()
	if string(out) != `{"z":1,"m":true}` {
		t.Fatalf("after delete: %s", out)
	}
}

func TestUnmarshalRejectsNonObject(t *testing.T) {
	var m Map
	if err := m.UnmarshalJSON([]byte(`[1]`)); err == nil {
		t.Fatal("want error for array")
	}
}
