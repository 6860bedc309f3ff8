package bearer_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/bearertest"
)

// TestRevoke: an app revokes by sid, by sub, by jti or a token itself,
// and each holds for JWTs (cached or not) and introspected tokens.
func TestRevoke(t *testing.T) {
	a := bearertest.New(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		claims  bearertest.Payload // of the tokens revoked
		revoke  func(v *bearer.Validator, token string) error
		survive bearertest.Payload // a token that stays valid
	}{
		{"session", bearertest.Payload{"sid": "s-1"},
			func(v *bearer.Validator, _ string) error { return v.Revoke(ctx, bearer.Revocation{SessionID: "s-1"}) },
			bearertest.Payload{"sid": "s-2"}},
		{"subject", bearertest.Payload{"sub": "carol"},
			func(v *bearer.Validator, _ string) error { return v.Revoke(ctx, bearer.Revocation{Subject: "carol"}) },
			bearertest.Payload{"sub": "dave"}},
		{"jti", bearertest.Payload{"jti": "id-1"},
			func(v *bearer.Validator, _ string) error { return v.Revoke(ctx, bearer.Revocation{TokenID: "id-1"}) },
			bearertest.Payload{"jti": "id-2"}},
		{"token", nil, // each token revoked by itself, below
			func(v *bearer.Validator, token string) error { return v.RevokeToken(ctx, token) },
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newValidator(t, a, logoutConfig(bearer.Config{}))
			tokens := []string{a.Token(claims(tc.claims)), a.ReferenceToken(claims(tc.claims))}
			for _, tok := range tokens {
				mustValid(t, v, tok) // cached
			}
			for _, tok := range tokens {
				if err := tc.revoke(v, tok); err != nil {
					t.Fatal(err)
				}
			}
			for _, tok := range tokens {
				mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrRevoked)
			}
			if tc.name != "token" {
				mustFail(t, v, a.Token(claims(tc.claims)), bearer.ErrInvalidToken, bearer.ErrRevoked) // never seen
			}
			mustValid(t, v, a.Token(claims(tc.survive)))
			mustValid(t, v, a.ReferenceToken(claims(tc.survive)))
		})
	}
}

// TestRevokeSubjectIssuedBefore: a Subject revocation reaches the tokens
// issued at or before its time, and, WithoutSession, only those without
// sid.
func TestRevokeSubjectIssuedBefore(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	at := time.Now().Add(-time.Minute)
	if err := v.Revoke(context.Background(), bearer.Revocation{Subject: "alice", IssuedBefore: at}); err != nil {
		t.Fatal(err)
	}
	mustFail(t, v, a.Token(claims(bearertest.Payload{"iat": at})), bearer.ErrInvalidToken, bearer.ErrRevoked)
	mustValid(t, v, a.Token(claims(bearertest.Payload{"iat": at.Add(time.Second)})))

	if err := v.Revoke(context.Background(), bearer.Revocation{Subject: "bob", WithoutSession: true}); err != nil {
		t.Fatal(err)
	}
	mustFail(t, v, a.Token(claims(bearertest.Payload{"sub": "bob", "iat": at})), bearer.ErrInvalidToken, bearer.ErrRevoked)
	mustValid(t, v, a.Token(claims(bearertest.Payload{"sub": "bob", "iat": at, "sid": "s-1"})))
}

// TestRevokeRefusesBadRevocations: a Revocation names exactly one thing.
func TestRevokeRefusesBadRevocations(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	ctx := context.Background()
	for _, r := range []bearer.Revocation{
		{},
		{SessionID: "s", Subject: "alice"},
		{SessionID: "s", IssuedBefore: time.Now()},
		{TokenID: "j", WithoutSession: true},
		{TokenHash: "not hex"},
		{TokenHash: "abcd"},
	} {
		if err := v.Revoke(ctx, r); err == nil {
			t.Errorf("Revoke(%+v) succeeded", r)
		}
	}
	if err := v.RevokeToken(ctx, ""); err == nil {
		t.Error("RevokeToken of an empty token succeeded")
	}
	// One that has expired already is accepted, and holds nothing.
	if err := v.Revoke(ctx, bearer.Revocation{SessionID: "s-1", Expires: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	mustValid(t, v, a.Token(claims(bearertest.Payload{"sid": "s-1"})))
}

// TestForgetCoversCachedJWT: Forget covers the validated-token
// cache too.
func TestForgetCoversCachedJWT(t *testing.T) {
	a := bearertest.New(t)
	v := newValidator(t, a, bearer.Config{})
	tok := a.Token(claims(nil))
	mustValid(t, v, tok)
	if n := v.Status().CacheEntries; n != 1 {
		t.Fatalf("%d cached, want 1", n)
	}
	v.Forget(tok)
	if n := v.Status().CacheEntries; n != 0 {
		t.Errorf("%d cached after Forget, want 0", n)
	}
	misses := v.Status().CacheMisses
	mustValid(t, v, tok)
	if v.Status().CacheMisses != misses+1 {
		t.Error("the token was not validated in full again")
	}
}

// sharedStore is a RevocationStore shared by the Validators of a test, as
// replicas share Redis: it records revocations and delivers them to every
// subscriber before Revoke returns.
type sharedStore struct {
	mu          sync.Mutex
	revocations []bearer.Revocation
	subscribers map[int]func(bearer.Revocation)
	next        int
	seen        map[string]bool
	subscribed  chan struct{} // a value per Subscribe call
	// failFirst makes the first Subscribe fail at once.
	failFirst bool
}

func newSharedStore() *sharedStore {
	return &sharedStore{subscribers: map[int]func(bearer.Revocation){}, seen: map[string]bool{}, subscribed: make(chan struct{}, 16)}
}

func (s *sharedStore) Revoke(_ context.Context, r bearer.Revocation) error {
	s.mu.Lock()
	s.revocations = append(s.revocations, r)
	subs := make([]func(bearer.Revocation), 0, len(s.subscribers))
	for _, d := range s.subscribers {
		subs = append(subs, d)
	}
	s.mu.Unlock()
	for _, d := range subs {
		d(r)
	}
	return nil
}

func (s *sharedStore) Subscribe(ctx context.Context, deliver func(bearer.Revocation), synced func()) error {
	s.mu.Lock()
	if s.failFirst {
		s.failFirst = false
		s.mu.Unlock()
		s.subscribed <- struct{}{}
		return errors.New("connection refused")
	}
	id := s.next
	s.next++
	s.subscribers[id] = deliver
	old := append([]bearer.Revocation(nil), s.revocations...)
	s.mu.Unlock()
	for _, r := range old {
		deliver(r)
	}
	synced()
	s.subscribed <- struct{}{}
	<-ctx.Done()
	s.mu.Lock()
	delete(s.subscribers, id)
	s.mu.Unlock()
	return nil
}

func (s *sharedStore) FirstSeen(_ context.Context, id string, _ time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[id] {
		return false, nil
	}
	s.seen[id] = true
	return true, nil
}

func waitSubscribed(t *testing.T, s *sharedStore, n int) {
	t.Helper()
	for range n {
		select {
		case <-s.subscribed:
		case <-time.After(10 * time.Second):
			t.Fatal("the Validator did not subscribe to its store")
		}
	}
}

// TestRevocationStoreReplicas: two Validators sharing a store are two
// replicas: a logout posted to one revokes at the other, a logout token
// replayed to the other is refused, and a replica started later learns
// what was revoked before.
func TestRevocationStoreReplicas(t *testing.T) {
	a := bearertest.New(t)
	store := newSharedStore()
	cfg := logoutConfig(bearer.Config{RevocationStore: store})
	one, two := newValidator(t, a, cfg), newValidator(t, a, cfg)
	waitSubscribed(t, store, 2)

	tok := a.Token(claims(bearertest.Payload{"sid": "s-1"}))
	mustValid(t, two, tok)
	lt := a.LogoutToken(bearertest.Payload{"sid": "s-1"})
	mustLogout(t, a, logoutURL(t, one), lt)
	mustFail(t, two, tok, bearer.ErrInvalidToken, bearer.ErrRevoked)
	if status, _ := postLogout(t, a, logoutURL(t, two), lt); status != 400 {
		t.Errorf("a logout token replayed to another replica: %d, want 400", status)
	}

	three := newValidator(t, a, cfg)
	waitSubscribed(t, store, 1)
	mustFail(t, three, tok, bearer.ErrInvalidToken, bearer.ErrRevoked)
}

// TestRevocationStoreResubscribes: a subscription that fails is made
// again, and what was revoked meanwhile arrives then.
func TestRevocationStoreResubscribes(t *testing.T) {
	a := bearertest.New(t)
	store := newSharedStore()
	store.failFirst = true
	v := newValidator(t, a, bearer.Config{RevocationStore: store, Logger: slog.New(slog.DiscardHandler)})
	if err := store.Revoke(context.Background(), bearer.Revocation{SessionID: "s-1"}); err != nil {
		t.Fatal(err)
	}
	waitSubscribed(t, store, 2) // the failure, then the subscription
	mustFail(t, v, a.Token(claims(bearertest.Payload{"sid": "s-1"})), bearer.ErrInvalidToken, bearer.ErrRevoked)
}

// blockedStore never answers until its context ends. Each Revoke sends
// on revoking first, if there is room, so a test knows it is waiting.
type blockedStore struct{ revoking chan struct{} }

func (s blockedStore) Revoke(ctx context.Context, _ bearer.Revocation) error {
	select {
	case s.revoking <- struct{}{}:
	default: // nobody is waiting to hear it
	}
	<-ctx.Done()
	return ctx.Err()
}

func (blockedStore) Subscribe(ctx context.Context, _ func(bearer.Revocation), _ func()) error {
	<-ctx.Done()
	return ctx.Err()
}

func (blockedStore) FirstSeen(context.Context, string, time.Time) (bool, error) { return true, nil }

// TestRevocationStoreNeverBlocksRequests: while the store hangs, requests
// are validated against the Validator's own copy, and a logout answers
// 503 within Timeout with its revocations already holding here.
func TestRevocationStoreNeverBlocksRequests(t *testing.T) {
	a := bearertest.New(t)
	store := blockedStore{revoking: make(chan struct{}, 1)}
	v := newValidator(t, a, logoutConfig(bearer.Config{RevocationStore: store, RevocationSyncTimeout: -1, Timeout: 300 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}))
	tok := a.Token(claims(bearertest.Payload{"sid": "s-1"}))
	mustValid(t, v, tok)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- v.Revoke(ctx, bearer.Revocation{Subject: "bob"}) }()
	<-store.revoking
	mustValid(t, v, tok) // while Revoke waits on the store
	mustFail(t, v, a.Token(claims(bearertest.Payload{"sub": "bob"})), bearer.ErrInvalidToken, bearer.ErrRevoked)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Revoke: %v, want the store's error", err)
	}

	status, body := postLogout(t, a, logoutURL(t, v), a.LogoutToken(bearertest.Payload{"sid": "s-1"}))
	if status != 503 {
		t.Errorf("logout with the store hanging: %d %s, want 503", status, body)
	}
	mustFail(t, v, tok, bearer.ErrInvalidToken, bearer.ErrRevoked)
}
