package redis

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// TestFreshReplicaReadyHoldsRevocations: a replica started on a Redis
// that holds many revocations is Ready only once it holds them all: the
// first request with a revoked token is refused, on every fresh replica.
func TestFreshReplicaReadyHoldsRevocations(t *testing.T) {
	r := startRedis(t)
	a := bearertest.New(t)
	s := newStore(t, r)
	waitConnected(t, s)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	for i := range 3 * replayChunk {
		if err := s.Revoke(ctx, bearer.Revocation{SessionID: "other-" + strconv.Itoa(i), Expires: exp}); err != nil {
			t.Fatal(err)
		}
	}
	// Replayed last: the sorted set is read in order of expiry.
	if err := s.Revoke(ctx, bearer.Revocation{SessionID: "s-1", Expires: exp.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	tok := a.Token(claims(bearertest.Payload{"sid": "s-1"}))
	for i := range 3 {
		v := replica(t, a, newStore(t, r))
		if !v.Status().RevocationsSynced {
			t.Errorf("replica %d: Ready returned before its revocations were in sync", i)
		}
		if _, err := v.Validate(ctx, tok); !errors.Is(err, bearer.ErrRevoked) {
			t.Errorf("replica %d, first request with a revoked token: %v, want ErrRevoked", i, err)
		}
	}
}

// TestRequireRevocationSyncRedisDown: failing closed, a replica that
// starts while Redis is down answers 503 until it has read the
// revocations in force, then serves.
func TestRequireRevocationSyncRedisDown(t *testing.T) {
	r := startRedis(t)
	r.stop()
	a := bearertest.New(t)
	v, err := bearer.New(context.Background(), bearer.Config{Authority: a.Issuer(), Audience: []string{"api"},
		RevocationStore: newStore(t, r), RequireRevocationSync: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	waitFor(t, func() bool { return v.Status().Ready }) // the authority's keys are fetched
	tok := a.Token(claims(nil))
	if _, err := v.Validate(context.Background(), tok); !errors.Is(err, bearer.ErrUnavailable) {
		t.Fatalf("a valid token with Redis down at start: %v, want ErrUnavailable", err)
	}
	r.start()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatalf("Ready once Redis answers: %v", err)
	}
	mustValid(t, v, tok)
}

// TestSubscriberFallsBehindStream: a subscriber that falls further behind
// than Options.StreamLength, while the stream is trimmed past what it has
// read, still receives every revocation: it notices the gap and replays
// the sorted set.
func TestSubscriberFallsBehindStream(t *testing.T) {
	r := startRedis(t)
	const length, n = 100, 2000
	short := func(o *Options) { o.StreamLength = length }
	writer := newStore(t, r, short)
	logs := &logCounter{counts: map[slog.Level]int{}}
	reader := newStore(t, r, short, func(o *Options) { o.Logger = slog.New(logs) })
	waitConnected(t, writer)
	waitConnected(t, reader)

	var mu sync.Mutex
	got := make(map[string]bool)
	held, release := make(chan struct{}), make(chan struct{})
	var pause sync.Once
	deliver := func(rv bearer.Revocation) {
		mu.Lock()
		got[rv.SessionID] = true
		mu.Unlock()
		if rv.SessionID == "first" {
			pause.Do(func() {
				close(held)
				<-release // the reader reads nothing meanwhile
			})
		}
	}
	synced := make(chan struct{}, 8)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- reader.Subscribe(ctx, deliver, func() { synced <- struct{}{} }) }()
	defer func() {
		cancel()
		<-done
	}()
	select {
	case <-synced: // the replay is done: what follows comes by the stream
	case <-time.After(10 * time.Second):
		t.Fatal("Subscribe did not replay")
	}

	bg := context.Background()
	exp := time.Now().Add(time.Hour)
	if err := writer.Revoke(bg, bearer.Revocation{SessionID: "first", Expires: exp}); err != nil {
		t.Fatal(err)
	}
	<-held
	for i := range n {
		if err := writer.Revoke(bg, bearer.Revocation{SessionID: "s-" + strconv.Itoa(i), Expires: exp}); err != nil {
			t.Fatal(err)
		}
	}
	if l, _ := r.do("XLEN", "test:{revocations}-stream").AsInt64(); l >= n {
		t.Fatalf("the stream holds %d entries: not trimmed", l)
	}
	close(release)
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n+1
	})
	if w := logs.get(slog.LevelWarn); w != 1 {
		t.Errorf("%d warnings, want 1 for falling behind", w)
	}
}

// TestTrimmedAfter: how a gap is told from XINFO STREAM, with Redis 7's
// entries-added and without it (before 7.0).
func TestTrimmedAfter(t *testing.T) {
	for _, tc := range []struct {
		at   position
		st   streamState
		want bool
	}{
		{position{"5-0", 5}, streamState{added: 5, length: 5, first: "1-0"}, false},     // never trimmed
		{position{"5-0", 5}, streamState{added: 205, length: 200, first: "6-0"}, false}, // trimmed up to what was read
		{position{"5-0", 5}, streamState{added: 306, length: 300, first: "7-0"}, true},  // past it
		{position{"0-0", 0}, streamState{added: 101, length: 100, first: "3-1"}, true},  // a reader that started on an empty stream
		{position{"0-0", 0}, streamState{added: 100, length: 100, first: "3-1"}, false}, // nothing dropped
		{position{"5-0", -1}, streamState{added: -1, length: 100, first: "3-0"}, false}, // Redis 6: the first entry is older
		{position{"5-0", -1}, streamState{added: -1, length: 100, first: "6-0"}, true},  // Redis 6: it is newer: 5-0 was trimmed too
		{position{"0-0", -1}, streamState{added: -1, length: 100, first: "6-0"}, false}, // Redis 6 cannot tell
		{position{"5-0", -1}, streamState{added: -1}, false},                            // Redis 6: empty
		{position{"10-0", -1}, streamState{added: -1, length: 1, first: "9-99"}, false}, // compared as numbers
		{position{"9-10", -1}, streamState{added: -1, length: 1, first: "9-11"}, true},  // the sequence as a number
		{position{"18446744073709551615-0", -1}, streamState{added: -1, length: 1, first: "18446744073709551615-1"}, true},
	} {
		got, err := tc.st.trimmedAfter(tc.at)
		if err != nil || got != tc.want {
			t.Errorf("%+v.trimmedAfter(%+v) = %v, %v; want %v", tc.st, tc.at, got, err, tc.want)
		}
	}
	for _, bad := range []string{"x", "5", "a-1", "1-b", "-1-0", "1-0-0"} {
		if _, err := (streamState{added: -1, length: 1, first: bad}).trimmedAfter(position{"1-0", -1}); err == nil {
			t.Errorf("a first entry id %q: no error", bad)
		}
	}
}
