package main

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/internal/loopback"
	"github.com/accesstoken/bearer/internal/testlog"
)

// TestDemo runs the program with its embedded authority and checks what
// the client printed, then calls the public health check.
func TestDemo(t *testing.T) {
	addr, err := loopback.Addr()
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	out := &testlog.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", addr}, out, io.Discard) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "client: done"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("client did not finish:\n%s", out.String())
		}
	}

	lines := strings.Split(out.String(), "\n")
	var client []string
	for _, l := range lines {
		if strings.HasPrefix(l, "client: /") {
			client = append(client, l)
		}
	}
	want := []string{
		"/values.Values/Get without token: Unauthenticated: no access token",
		"/values.Values/Get with token ", // …: Unauthenticated: malformed token
		`/values.Values/Get with token `, // …: {"values":[…]}
		`/values.Values/Identity with token `,
		"/values.Values/Reset with token ", // …: PermissionDenied
		"/values.Values/Reset with token ", // …: {}
	}
	ends := []string{"no access token", ": Unauthenticated: malformed token", `]}`, `"sub":"alice"`, ": PermissionDenied: insufficient scope: values:admin", ": {}"}
	if len(client) != len(want) {
		t.Fatalf("client printed %d calls, want %d:\n%s", len(client), len(want), out.String())
	}
	for i, l := range client {
		if !strings.HasPrefix(l, "client: "+want[i]) || !strings.Contains(l, ends[i]) {
			t.Errorf("call %d: %q, want %q…%q", i, l, want[i], ends[i])
		}
	}
	if !strings.Contains(client[2], `{"values":["`) {
		t.Errorf("Get: %q", client[2])
	}

	// The bearer command line names the authority and a token it accepts.
	m := regexp.MustCompile(`  go build -o bearer \./cmd/bearer .*\n  \./bearer validate -authority (\S+) -scopes 'api' (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no bearer command line:\n%s", out.String())
	}
	v, err := bearer.New(t.Context(), bearer.Config{Authority: m[1], RequiredScopes: bearer.AnyOf("api"), Mode: bearer.ModeJWT})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := v.Validate(t.Context(), m[2]); err != nil {
		t.Errorf("the printed token: %v", err)
	}

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("public health check: %v %v", resp, err)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"extra"}, {"-authority", "ftp://x"}, {"-addr", "256.0.0.1:1", "-authority", "https://login.example"}} {
		if err := run(t.Context(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
