package main

import (
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/accesstoken/bearer/internal/conformance/apicontract"
)

var (
	replicaFlags = regexp.MustCompile(`, with:\n  (.+)\n`)
	exportToken  = regexp.MustCompile(`(?m)^export TOKEN=(\S+)$`)
)

// TestAuthorityOnly: -authority-only serves the test authority alone at
// -addr; two replicas started with the flags it prints accept the token it
// prints. (Two programs that each embed an authority refuse each other's
// tokens: issuer mismatch.)
func TestAuthorityOnly(t *testing.T) {
	_, output, _ := apicontract.Start(t, run, "-authority-only")
	flags, token := replicaFlags.FindStringSubmatch(output()), exportToken.FindStringSubmatch(output())
	if flags == nil || token == nil {
		t.Fatalf("printed:\n%s", output())
	}
	var args []string
	for _, f := range strings.Fields(flags[1]) {
		args = append(args, strings.Trim(f, "'"))
	}
	for range 2 {
		base, _, _ := apicontract.Start(t, run, args...)
		req, _ := http.NewRequest(http.MethodGet, base+"/values", nil)
		req.Header.Set("Authorization", "Bearer "+token[1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("a replica with %q: %d %s %s", args, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
		}
	}
}

// TestAuthorityOnlyMistakes: a busy port is an error, not a panic, and
// the replicas' flags are refused beside -authority-only.
func TestAuthorityOnlyMistakes(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, args := range [][]string{
		{"-authority-only", "-addr", l.Addr().String()},
		{"-authority-only", "-addr", "0.0.0.0:0"},
		{"-authority-only", "-authority", "https://login.example.com"},
		{"-authority-only", "-redis", "redis://127.0.0.1:6379/0"},
	} {
		if err := run(t.Context(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
