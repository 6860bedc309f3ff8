package main

import (
	"io"
	"strings"
	"testing"

	"github.com/accesstoken/bearer/internal/loopback"
)

// TestMistakes: no token, two tokens or a server that is not there end
// the client with an error that names what went wrong.
func TestMistakes(t *testing.T) {
	addr, err := loopback.Addr()
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + addr + "/mcp"
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "want exactly one TOKEN argument"},
		{[]string{"a", "b"}, "want exactly one TOKEN argument"},
		{[]string{"-nope", "a"}, "flag provided but not defined"},
		{[]string{"-url", gone, "a"}, "initialize: "},
	} {
		err := run(t.Context(), c.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run(%q): %v, want %q", c.args, err, c.want)
		}
	}
}

// TestHelp: -h prints the usage and is no failure.
func TestHelp(t *testing.T) {
	var usage strings.Builder
	if err := run(t.Context(), []string{"-h"}, io.Discard, &usage); err != nil || !strings.Contains(usage.String(), "-url") {
		t.Errorf("run(-h): %v, printed %q; want nil and the flags", err, usage.String())
	}
}
