package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"
)

// syncBuffer lets the test read what run prints while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var curlLine = regexp.MustCompile(`curl -i -H "Authorization: Bearer ([^"]+)" (http://\S+/values)`)

// TestPrintedCurlLineReturns200 is the README's promise: without
// -authority the program prints a curl line that works.
func TestPrintedCurlLineReturns200(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", freeAddr(t)}, out, io.Discard) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()

	// Two lines: a JWT, validated locally, and a reference token,
	// introspected at the embedded authority.
	var m [][]string
	for deadline := time.Now().Add(10 * time.Second); len(m) < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no curl lines printed:\n%s", out.String())
		}
		m = curlLine.FindAllStringSubmatch(out.String(), -1)
	}
	token, url := m[0][1], m[0][2]
	get := func(url, token string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		var resp *http.Response
		var err error
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if resp, err = http.DefaultClient.Do(req); err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	resp := get(url, token)
	var values []string
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&values) != nil || len(values) != 2 || len(values[0]) != 1 || len(values[1]) != 1 {
		t.Fatalf("GET /values: %d %v", resp.StatusCode, values)
	}
	if resp := get(m[1][2], m[1][1]); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /values with the reference token: %d", resp.StatusCode)
	}
	if resp := get(url, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /values without token: %d", resp.StatusCode)
	}
	identity := get(url[:len(url)-len("/values")]+"/identity", token)
	var claims map[string]any
	if identity.StatusCode != http.StatusOK || json.NewDecoder(identity.Body).Decode(&claims) != nil || claims["sub"] != "alice" {
		t.Errorf("GET /identity: %d %v", identity.StatusCode, claims)
	}
	if resp := get(url[:len(url)-len("/values")]+"/healthz", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz: %d", resp.StatusCode)
	}
}

func TestCORS(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addr := freeAddr(t)
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", addr, "-cors-origins", "http://app.example"}, out, io.Discard)
	}()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); !bytes.Contains([]byte(out.String()), []byte("listening")); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not listening")
		}
	}
	time.Sleep(50 * time.Millisecond)
	req, _ := http.NewRequest(http.MethodOptions, "http://"+addr+"/values", nil)
	req.Header.Set("Origin", "http://app.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "authorization")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "http://app.example" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	req, _ = http.NewRequest(http.MethodGet, "http://"+addr+"/values", nil)
	req.Header.Set("Origin", "http://evil.example")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin: %d %v", resp.StatusCode, resp.Header)
	}
	req.Header.Set("Origin", "http://app.example")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://app.example" || resp.Header.Get("Access-Control-Expose-Headers") != "WWW-Authenticate" {
		t.Errorf("401 to allowed origin lacks CORS headers: %v", resp.Header)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-mode", "magic"}, {"-nope"}, {"extra"}} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
