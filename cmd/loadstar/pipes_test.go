package main

import (
	"os"
	"strings"
	"testing"
)

// Once the reader of a pipe has gone, writes succeed and are discarded,
// and the loss is noted once.
func TestPipeOutputDiscardsAfterEPIPE(t *testing.T) {
	catchSIGPIPE()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var notes []string
	p := &pipeOutput{f: w, name: "standard output", note: func(m string) { notes = append(notes, m) }}
	if n, err := p.Write([]byte("first\n")); n != 6 || err != nil {
		t.Fatalf("write to an open pipe: %d, %v", n, err)
	}
	buf := make([]byte, 16)
	if n, _ := r.Read(buf); string(buf[:n]) != "first\n" {
		t.Fatalf("read %q", buf[:n])
	}
	r.Close() // `| head -1` has read its line
	for range 3 {
		if n, err := p.Write([]byte("later\n")); n != 6 || err != nil {
			t.Fatalf("write to a closed pipe: %d, %v; want it discarded without an error", n, err)
		}
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "standard output was closed") {
		t.Errorf("notes %q, want one", notes)
	}
}
