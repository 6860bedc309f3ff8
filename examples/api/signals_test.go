package main

import (
	"io"
	"testing"
)

// The Shared Signals flags go together: an audience or a poll endpoint
// without a transmitter, or a transmitter without an audience, is refused
// before anything starts.
func TestSignalsFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-ssf-audience", "https://api.example.com"},
		{"-ssf-poll", "https://tr.example.com/poll"},
		{"-ssf-transmitter", "https://tr.example.com"},
		{"-ssf-transmitter", "not a URL", "-ssf-audience", "a"},
		{"-authority-only", "-ssf-transmitter", "https://tr.example.com", "-ssf-audience", "a"},
	} {
		if err := run(t.Context(), append(args, "-addr", "127.0.0.1:0"), io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
