package main

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoad checks the load generator counts what the server answers.
func TestLoad(t *testing.T) {
	var warmRequests atomic.Int64
	refuseBad := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer good" {
			warmRequests.Add(1)
		}
		if strings.HasSuffix(r.Header.Get("Authorization"), "bad") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		ok.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(newMux(refuseBad, func() any { return map[string]uint64{"hits": 3, "misses": 1} }))
	defer srv.Close()
	cfg := loadConfig{
		addr:     strings.TrimPrefix(srv.URL, "http://"),
		conns:    4,
		warmup:   20 * time.Millisecond,
		duration: 200 * time.Millisecond,
		warm:     [][]byte{request("good")},
	}
	for _, tok := range []string{"a", "b", "c"} {
		cfg.reqs = append(cfg.reqs, request(tok))
	}

	res := load(cfg)
	if res.Requests == 0 || res.Refused != 0 || res.Errors != 0 || res.Hits == nil || *res.Hits != 0 {
		t.Errorf("cycling: %+v", res)
	}

	cfg.once = true
	res = load(cfg)
	if res.Requests != 3 || res.Refused != 0 || res.Errors != 0 || res.Seconds >= 0.2 {
		t.Errorf("once: %+v", res)
	}

	// Without a warm-up the window opens before the first request, and
	// the warm-up token is never sent.
	cfg.warmup = 0
	warmRequests.Store(0)
	if res := load(cfg); res.Requests != 3 || res.Refused != 0 || res.Errors != 0 || warmRequests.Load() != 0 {
		t.Errorf("once without warm-up: %+v, %d warm-up requests", res, warmRequests.Load())
	}

	cfg.reqs = append(cfg.reqs, request("bad"))
	if res := load(cfg); res.Refused != 1 || res.Requests != 3 {
		t.Errorf("refused: %+v", res)
	}
}

// TestLoadWarmsWithEveryToken checks that a warm-up over many tokens sends
// each before the window opens, even when that takes longer than warmup.
func TestLoadWarmsWithEveryToken(t *testing.T) {
	var (
		mu      sync.Mutex
		seen    = make(map[string]bool)
		early   atomic.Bool // a measured request came before every warm-up token had
		warming []string
	)
	for i := range 50 {
		warming = append(warming, "w"+strconv.Itoa(i))
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		mu.Lock()
		if strings.HasPrefix(tok, "w") {
			seen[tok] = true
		} else if len(seen) < len(warming) {
			early.Store(true)
		}
		mu.Unlock()
		if strings.HasPrefix(tok, "w") {
			time.Sleep(time.Millisecond) // 50 tokens on 4 connections outlast the warm-up
		}
		ok.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(newMux(h, nil))
	defer srv.Close()
	cfg := loadConfig{
		addr:     strings.TrimPrefix(srv.URL, "http://"),
		conns:    4,
		warmup:   time.Millisecond,
		duration: 50 * time.Millisecond,
		reqs:     [][]byte{request("a")},
	}
	for _, tok := range warming {
		cfg.warm = append(cfg.warm, request(tok))
	}
	res := load(cfg)
	if res.Requests == 0 || res.Refused != 0 || res.Errors != 0 {
		t.Errorf("%+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != len(warming) || early.Load() {
		t.Errorf("%d of %d warm-up tokens sent; a measured request before the last of them: %v", len(seen), len(warming), early.Load())
	}
}
