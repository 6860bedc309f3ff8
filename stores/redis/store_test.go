package redis

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
)

// TestNewChecksOptions: New refuses what cannot work and takes the URLs
// Redis users write, without connecting.
func TestNewChecksOptions(t *testing.T) {
	for _, url := range []string{"", "http://127.0.0.1:6379", "redis://[::1"} {
		if s, err := New(Options{URL: url}); err == nil {
			s.Close()
			t.Errorf("New(%q) succeeded", url)
		}
	}
	if s, err := New(Options{URL: "redis://127.0.0.1:1", Prefix: "a b"}); err == nil {
		s.Close()
		t.Error("New accepted a prefix with a space")
	}
	for _, url := range []string{"redis://user:pw@127.0.0.1:1/2", "rediss://:pw@127.0.0.1:1/0", "unix:///nonexistent/redis.sock"} {
		s, err := New(Options{URL: url, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Errorf("New(%q): %v", url, err)
			continue
		}
		s.Close()
		s.Close() // idempotent
	}
}

// TestIssue26_NewKeepsPasswordOutOfErrors: a URL that does not parse, for a
// password with an unencoded /, ? or #, or a bad escape, is refused
// without any piece of the password in the error, which ends up in logs.
func TestIssue26_NewKeepsPasswordOutOfErrors(t *testing.T) {
	for _, tc := range []struct{ url, secret string }{
		{"redis://default:hunter2#Zq9@redis.example:6379", "hunter2"}, // read as a port
		{"redis://:ab/cdXY@127.0.0.1:6379", "cdXY"},                   // quoted in the whole URL
		{"redis://u:6380/pQ7wX@redis.example", "pQ7wX"},               // read as a database number
		{"redis://u:6380/pQ7wX/zz@redis.example", "pQ7wX"},            // read as a path
		{"rediss://u:pw%zzW9k@redis.example:6380", "W9k"},             // a bad escape
		{"redis://admin:s3cr3t@[::1:6379/0", "s3cr3t"},                // not the password's fault
		{"user:hunter2@redis.example:6379", "hunter2"},                // no scheme
	} {
		s, err := New(Options{URL: tc.url})
		if err == nil {
			s.Close()
			t.Errorf("New(%q) succeeded", tc.url)
			continue
		}
		if strings.Contains(err.Error(), tc.secret) {
			t.Errorf("New(%q): %v: names the password", tc.url, err)
		}
	}
}

// TestUseAfterClose: a Validator closed after its Store (the wrong
// order) finds Redis unavailable, and nothing panics.
func TestUseAfterClose(t *testing.T) {
	r := startRedis(t)
	s := newStore(t, r)
	waitConnected(t, s)
	s.Close()
	ctx := context.Background()
	if _, ok := s.Get(ctx, "k"); ok {
		t.Error("Get after Close found something")
	}
	s.Put(ctx, "k", nil, time.Minute) // the local tier only
	s.Delete(ctx, "k")
	if _, err := s.FirstSeen(ctx, "id", time.Now().Add(time.Minute)); err == nil {
		t.Error("FirstSeen after Close succeeded")
	}
	if err := s.Revoke(ctx, bearer.Revocation{SessionID: "s"}); !errors.Is(err, ErrQueued) {
		t.Errorf("Revoke after Close: %v, want ErrQueued", err)
	}
	if err := s.Subscribe(ctx, func(bearer.Revocation) {}, func() {}); err != nil {
		t.Errorf("Subscribe after Close: %v", err)
	}
}

// TestPassword: the password in the URL is sent; a wrong one leaves the
// Store unconnected, and serving nothing from Redis.
func TestPassword(t *testing.T) {
	r := startRedis(t, "--requirepass", "s3cret")
	good := newStore(t, r, func(o *Options) { o.URL = strings.Replace(r.URL(), "redis://", "redis://:s3cret@", 1) })
	waitConnected(t, good)
	logs := &logCounter{counts: map[slog.Level]int{}}
	bad := newStore(t, r, func(o *Options) {
		o.URL, o.Logger = strings.Replace(r.URL(), "redis://", "redis://:wrong@", 1), slog.New(logs)
	})
	ctx := context.Background()
	if first, err := good.FirstSeen(ctx, "id", time.Now().Add(time.Minute)); err != nil || !first {
		t.Fatalf("FirstSeen with the password: %v, %v", first, err)
	}
	if _, err := bad.FirstSeen(ctx, "id", time.Now().Add(time.Minute)); err == nil {
		t.Error("FirstSeen with a wrong password succeeded")
	}
	waitFor(t, func() bool { return logs.get(slog.LevelWarn) == 1 }) // the wrong password is told
}

// logCounter counts the records logged at each level.
type logCounter struct {
	mu     sync.Mutex
	counts map[slog.Level]int
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[r.Level]++
	return nil
}
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCounter) WithGroup(string) slog.Handler      { return l }

func (l *logCounter) get(level slog.Level) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[level]
}

// TestOneLogLinePerStateChange: down at start, up, down again: one line
// each, however many commands fail meanwhile.
func TestOneLogLinePerStateChange(t *testing.T) {
	r := startRedis(t)
	r.stop()
	logs := &logCounter{counts: map[slog.Level]int{}}
	s := newStore(t, r, func(o *Options) { o.Logger = slog.New(logs) })
	ctx := context.Background()
	waitFor(t, func() bool { return logs.get(slog.LevelWarn) == 1 })
	for i := range 20 {
		_ = s.Revoke(ctx, bearer.Revocation{SessionID: "s", Expires: time.Now().Add(time.Hour)})
		_, _ = s.FirstSeen(ctx, "id", time.Now().Add(time.Minute))
		_, _ = s.Get(ctx, "k")
		if i == 10 {
			time.Sleep(300 * time.Millisecond) // a few reconnection attempts
		}
	}
	r.start()
	waitConnected(t, s)
	if n := logs.get(slog.LevelInfo); n != 1 {
		t.Errorf("%d lines for Redis coming back, want 1", n)
	}
	r.stop()
	for range 20 {
		_, _ = s.FirstSeen(ctx, "id", time.Now().Add(time.Minute))
	}
	waitFor(t, func() bool { return logs.get(slog.LevelWarn) >= 2 })
	if n := logs.get(slog.LevelWarn); n != 2 {
		t.Errorf("%d lines for Redis lost twice, want 2", n)
	}
	if n := logs.get(slog.LevelError); n != 0 {
		t.Errorf("%d errors logged", n)
	}
}

// TestSubscribeEndsWithContext: Subscribe returns when its context ends,
// whether Redis is up or not, and reports no error.
func TestSubscribeEndsWithContext(t *testing.T) {
	r := startRedis(t)
	s := newStore(t, r)
	waitConnected(t, s)
	for _, down := range []bool{false, true} {
		if down {
			r.stop()
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Subscribe(ctx, func(bearer.Revocation) {}, func() {}) }()
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Subscribe: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Subscribe did not return when its context ended")
		}
	}
}

// waitFor waits until cond, for 10 s at most.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	waitLong(t, 10*time.Second, "the condition", cond)
}
